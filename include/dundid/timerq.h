/* A min-heap of timers read against clock_now_ms(). The event loop arms one
 * libevent timer for the earliest deadline, told by the queue itself when a
 * timer becomes the earliest, so no caller has to remember to re-sync it;
 * tests and the simulator call timerq_run() directly. */
#ifndef DUNDID_TIMERQ_H
#define DUNDID_TIMERQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dundid/heap.h"

struct timer {
    union {
        struct heap_node node;
        uint64_t when; /* the node's key: the deadline, read-only for callers */
    };
    void (*fire)(void *arg);
    void *arg;
};

struct timerq {
    struct heap heap;
    /* Called when an armed timer becomes the earliest (NULL: nobody
     * listens). A cancelled earliest timer is not reported: the listener
     * wakes early, runs nothing and asks timerq_next() again. */
    void (*on_earlier)(void *ctx, uint64_t when);
    void *on_earlier_ctx;
};

void timerq_init(struct timerq *q);
void timerq_set_listener(struct timerq *q, void (*on_earlier)(void *ctx, uint64_t when), void *ctx);
void timerq_free(struct timerq *q);
void timer_init(struct timer *t, void (*fire)(void *), void *arg);
/* (Re)arm t to fire at absolute time when (ms). Returns 0 or -1 on memory failure. */
int timerq_arm(struct timerq *q, struct timer *t, uint64_t when);
void timerq_cancel(struct timerq *q, struct timer *t);
static inline bool timer_armed(const struct timer *t) { return heap_node_queued(&t->node); }
/* Earliest deadline, or UINT64_MAX when empty. */
uint64_t timerq_next(const struct timerq *q);
/* Fire every timer due at or before now. Returns how many fired. */
unsigned timerq_run(struct timerq *q, uint64_t now);

#endif
