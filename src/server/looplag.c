/* Loop-lag probe: a libevent timer every LOOPLAG_PERIOD_MS whose lateness
 * is the time the loop spent on something else. A stall shows as a large
 * lag_max_ms in the stats line. */
#include <time.h>

#include "dundid/clock.h"
#include "dundid/log.h"
#include "dundid/looplag.h"
#include "dundid/server_impl.h"

#define LAG_WARN_MS 1000 /* a second without the loop is worth a log line */

static void arm(struct server *s)
{
    struct timeval tv = {.tv_sec = 0, .tv_usec = LOOPLAG_PERIOD_MS * 1000};
    s->lag_due_ms = clock_now_ms() + LOOPLAG_PERIOD_MS;
    evtimer_add(s->lag_ev, &tv);
}

static void on_probe(evutil_socket_t fd, short what, void *arg)
{
    struct server *s = arg;
    (void)fd;
    (void)what;
    uint64_t now = clock_now_ms();
    uint64_t lag = now > s->lag_due_ms ? now - s->lag_due_ms : 0;
    s->stats.lag_last_ms = lag;
    if (lag > s->stats.lag_max_ms)
        s->stats.lag_max_ms = lag;
    if (lag >= LAG_WARN_MS)
        log_warning("event loop stalled for %llu ms", (unsigned long long)lag);
    arm(s);
}

static uint64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void looplag_work_begin(struct server *s)
{
    if (!s->work_depth++)
        s->work_t0_ns = cpu_ns();
}

void looplag_work_end(struct server *s)
{
    if (!s->work_depth || --s->work_depth)
        return;
    uint64_t us = (cpu_ns() - s->work_t0_ns) / 1000u;
    if (us > s->stats.work_max_us)
        s->stats.work_max_us = us;
}

int looplag_start(struct server *s)
{
    s->lag_ev = evtimer_new(s->base, on_probe, s);
    if (!s->lag_ev)
        return -1;
    if (s->prio)
        event_priority_set(s->lag_ev, 0);
    arm(s);
    return 0;
}

void looplag_stop(struct server *s)
{
    if (s->lag_ev)
        event_free(s->lag_ev);
    s->lag_ev = NULL;
}
