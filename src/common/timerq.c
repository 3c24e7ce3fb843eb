#include "dundid/timerq.h"

#include <stdlib.h>

void timerq_init(struct timerq *q)
{
    q->heap = NULL;
    q->n = q->cap = 0;
    q->on_earlier = NULL;
    q->on_earlier_ctx = NULL;
}

void timerq_set_listener(struct timerq *q, void (*on_earlier)(void *ctx, uint64_t when), void *ctx)
{
    q->on_earlier = on_earlier;
    q->on_earlier_ctx = ctx;
}

void timerq_free(struct timerq *q)
{
    for (size_t i = 0; i < q->n; i++)
        q->heap[i]->slot = 0;
    free(q->heap);
    timerq_init(q);
}

void timer_init(struct timer *t, void (*fire)(void *), void *arg)
{
    t->when = 0;
    t->slot = 0;
    t->fire = fire;
    t->arg = arg;
}

static void place(struct timerq *q, size_t i, struct timer *t)
{
    q->heap[i] = t;
    t->slot = i + 1;
}

static void sift_up(struct timerq *q, size_t i)
{
    struct timer *t = q->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (q->heap[parent]->when <= t->when)
            break;
        place(q, i, q->heap[parent]);
        i = parent;
    }
    place(q, i, t);
}

static void sift_down(struct timerq *q, size_t i)
{
    struct timer *t = q->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= q->n)
            break;
        if (c + 1 < q->n && q->heap[c + 1]->when < q->heap[c]->when)
            c++;
        if (t->when <= q->heap[c]->when)
            break;
        place(q, i, q->heap[c]);
        i = c;
    }
    place(q, i, t);
}

void timerq_cancel(struct timerq *q, struct timer *t)
{
    if (!t->slot)
        return;
    size_t i = t->slot - 1;
    t->slot = 0;
    q->n--;
    if (i == q->n)
        return;
    place(q, i, q->heap[q->n]);
    if (i > 0 && q->heap[i]->when < q->heap[(i - 1) / 2]->when)
        sift_up(q, i);
    else
        sift_down(q, i);
}

int timerq_arm(struct timerq *q, struct timer *t, uint64_t when)
{
    timerq_cancel(q, t);
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 64;
        struct timer **h = realloc(q->heap, cap * sizeof(*h));
        if (!h)
            return -1;
        q->heap = h;
        q->cap = cap;
    }
    t->when = when;
    place(q, q->n++, t);
    sift_up(q, q->n - 1);
    if (t->slot == 1 && q->on_earlier)
        q->on_earlier(q->on_earlier_ctx, when);
    return 0;
}

uint64_t timerq_next(const struct timerq *q) { return q->n ? q->heap[0]->when : UINT64_MAX; }

unsigned timerq_run(struct timerq *q, uint64_t now)
{
    unsigned fired = 0;
    /* Bounded: a callback re-arming for "now" waits for the next run. */
    unsigned limit = (unsigned)q->n;
    while (q->n && q->heap[0]->when <= now && fired < limit) {
        struct timer *t = q->heap[0];
        timerq_cancel(q, t);
        fired++;
        t->fire(t->arg);
    }
    return fired;
}
