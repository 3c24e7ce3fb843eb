#include "dundid/timerq.h"

void timerq_init(struct timerq *q)
{
    heap_init(&q->heap);
    q->on_earlier = NULL;
    q->on_earlier_ctx = NULL;
}

void timerq_set_listener(struct timerq *q, void (*on_earlier)(void *ctx, uint64_t when), void *ctx)
{
    q->on_earlier = on_earlier;
    q->on_earlier_ctx = ctx;
}

void timerq_free(struct timerq *q) { heap_free(&q->heap); }

void timer_init(struct timer *t, void (*fire)(void *), void *arg)
{
    t->node.key = 0;
    t->node.pos = 0;
    t->fire = fire;
    t->arg = arg;
}

void timerq_cancel(struct timerq *q, struct timer *t)
{
    if (timer_armed(t))
        heap_remove(&q->heap, &t->node);
}

/* Out and back in rather than heap_update: timers due at the same moment
 * then fire in the order they always did. */
int timerq_arm(struct timerq *q, struct timer *t, uint64_t when)
{
    timerq_cancel(q, t);
    if (heap_push(&q->heap, &t->node, when) < 0)
        return -1;
    if (heap_top(&q->heap) == &t->node && q->on_earlier)
        q->on_earlier(q->on_earlier_ctx, when);
    return 0;
}

uint64_t timerq_next(const struct timerq *q)
{
    const struct heap_node *top = heap_top(&q->heap);
    return top ? top->key : UINT64_MAX;
}

unsigned timerq_run(struct timerq *q, uint64_t now)
{
    unsigned fired = 0;
    /* Bounded: a callback re-arming for "now" waits for the next run. */
    unsigned limit = (unsigned)q->heap.n;
    struct heap_node *top;
    while ((top = heap_top(&q->heap)) && top->key <= now && fired < limit) {
        struct timer *t = heap_entry(top, struct timer, node);
        heap_remove(&q->heap, top);
        fired++;
        t->fire(t->arg);
    }
    return fired;
}
