/* A group of requests to peers asked at once and finished once: when the
 * last one has ended, at the deadline, or when the caller says the answer
 * is in. The finish always runs from the loop (a zero-delay timer), never
 * from inside the call that started or ended the work, so callers need no
 * "still starting" flags. Lookups and EID queries use it. */
#ifndef DUNDID_FANOUT_H
#define DUNDID_FANOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "dundid/timerq.h"

struct outreq;

#define FANOUT_MAX 64 /* requests per group */

struct fanout {
    struct timerq *tq;
    struct outreq *req[FANOUT_MAX]; /* NULL once ended */
    unsigned n;                     /* slots used */
    bool armed;                     /* fanout_arm() ran: an empty group may finish */
    struct timer timer;             /* the deadline, then the finish */
    void (*on_finish)(void *ctx);
    void *ctx;
};

void fanout_init(struct fanout *f, struct timerq *tq, void (*on_finish)(void *ctx), void *ctx);
/* Add a running request; false when the group is full (it was not added). */
bool fanout_add(struct fanout *f, struct outreq *r);
/* Every request is out: finish at deadline_ms, or as soon as none is open. */
void fanout_arm(struct fanout *f, uint64_t deadline_ms);
/* r ended (from its on_end): forget it, and finish soon if it was the last. */
void fanout_ended(struct fanout *f, struct outreq *r);
/* Finish on the next turn of the loop whatever is still open. */
void fanout_finish_soon(struct fanout *f);
/* Requests still open. */
unsigned fanout_open(const struct fanout *f);
/* Before the owner goes: CANCEL what is open (silently) and stop the timer. */
void fanout_stop(struct fanout *f);

#endif
