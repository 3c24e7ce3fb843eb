#include "dundid/net.h"

#include "dundid/clock.h"

static void arm_tick(struct loop *l, uint64_t when)
{
    uint64_t now = clock_now_ms();
    uint64_t delay = when > now ? when - now : 0;
    struct timeval tv = {.tv_sec = (time_t)(delay / 1000), .tv_usec = (suseconds_t)(delay % 1000) * 1000};
    l->armed_for = when;
    evtimer_add(l->tick, &tv);
}

/* The queue's earliest deadline moved earlier than the libevent timer. */
static void on_earlier(void *ctx, uint64_t when)
{
    struct loop *l = ctx;
    if (when < l->armed_for)
        arm_tick(l, when);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct loop *l = arg;
    (void)fd;
    (void)what;
    l->armed_for = UINT64_MAX;
    if (l->around)
        l->around(l->around_ctx, true);
    timerq_run(&l->tq, clock_now_ms());
    if (l->around)
        l->around(l->around_ctx, false);
    /* Timers armed while running were reported already; this covers a
     * deadline that was there before (or one whose earlier timer was cancelled). */
    uint64_t next = timerq_next(&l->tq);
    if (next != UINT64_MAX && next < l->armed_for)
        arm_tick(l, next);
}

int loop_init(struct loop *l, struct event_base *base)
{
    l->base = base;
    timerq_init(&l->tq);
    l->armed_for = UINT64_MAX;
    l->tick = evtimer_new(base, on_tick, l);
    if (!l->tick)
        return -1;
    timerq_set_listener(&l->tq, on_earlier, l);
    return 0;
}

void loop_free(struct loop *l)
{
    if (l->tick)
        event_free(l->tick);
    l->tick = NULL;
    timerq_free(&l->tq);
}
