#include "dundid/net.h"

#include "dundid/clock.h"

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct loop *l = arg;
    (void)fd;
    (void)what;
    l->armed_for = UINT64_MAX;
    timerq_run(&l->tq, clock_now_ms());
    loop_sync(l);
}

int loop_init(struct loop *l, struct event_base *base)
{
    l->base = base;
    timerq_init(&l->tq);
    l->armed_for = UINT64_MAX;
    l->tick = evtimer_new(base, on_tick, l);
    return l->tick ? 0 : -1;
}

void loop_free(struct loop *l)
{
    if (l->tick)
        event_free(l->tick);
    l->tick = NULL;
    timerq_free(&l->tq);
}

void loop_sync(struct loop *l)
{
    uint64_t next = timerq_next(&l->tq);
    if (next == l->armed_for)
        return;
    l->armed_for = next;
    if (next == UINT64_MAX) {
        evtimer_del(l->tick);
        return;
    }
    uint64_t now = clock_now_ms();
    uint64_t delay = next > now ? next - now : 0;
    struct timeval tv = {.tv_sec = (time_t)(delay / 1000), .tv_usec = (suseconds_t)(delay % 1000) * 1000};
    evtimer_add(l->tick, &tv);
}
