/* Groups of requests to peers (include/dundid/fanout.h). */
#include "dundid/fanout.h"

#include "dundid/clock.h"
#include "dundid/outreq.h"

static void on_timer(void *arg)
{
    struct fanout *f = arg;
    f->on_finish(f->ctx);
}

void fanout_init(struct fanout *f, struct timerq *tq, void (*on_finish)(void *ctx), void *ctx)
{
    f->tq = tq;
    f->n = 0;
    f->armed = false;
    f->on_finish = on_finish;
    f->ctx = ctx;
    timer_init(&f->timer, on_timer, f);
}

bool fanout_add(struct fanout *f, struct outreq *r)
{
    if (f->n >= FANOUT_MAX)
        return false;
    f->req[f->n++] = r;
    return true;
}

unsigned fanout_open(const struct fanout *f)
{
    unsigned open = 0;
    for (unsigned i = 0; i < f->n; i++)
        open += f->req[i] != NULL;
    return open;
}

void fanout_finish_soon(struct fanout *f) { timerq_arm(f->tq, &f->timer, clock_now_ms()); }

void fanout_arm(struct fanout *f, uint64_t deadline_ms)
{
    f->armed = true;
    if (fanout_open(f))
        timerq_arm(f->tq, &f->timer, deadline_ms);
    else
        fanout_finish_soon(f);
}

void fanout_ended(struct fanout *f, struct outreq *r)
{
    for (unsigned i = 0; i < f->n; i++)
        if (f->req[i] == r)
            f->req[i] = NULL;
    if (f->armed && !fanout_open(f))
        fanout_finish_soon(f);
}

void fanout_stop(struct fanout *f)
{
    timerq_cancel(f->tq, &f->timer);
    for (unsigned i = 0; i < f->n; i++) {
        outreq_cancel(f->req[i]);
        f->req[i] = NULL;
    }
    f->n = 0;
}
