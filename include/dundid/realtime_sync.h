/* Applying RealTime rows to the registration table. Pure (no I/O, the time
 * is passed in): the feed calls it for every fetched row.
 *
 * A pass is one query's result:
 *   RT_PASS_FULL  every live row; afterwards, RealTime bindings the result
 *                 did not contain are removed (deleted rows, unregistered
 *                 phones, changed registrars);
 *   RT_PASS_INCR  rows whose expiry is at or above the high-water mark of
 *                 expiries seen so far (new registrations and refreshes);
 *                 nothing is removed;
 *   RT_PASS_KEY   every row of one extension; afterwards that extension's
 *                 RealTime bindings the result did not contain are removed. */
#ifndef DUNDID_REALTIME_SYNC_H
#define DUNDID_REALTIME_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "dundid/realtime_conf.h"
#include "dundid/realtime_row.h"
#include "dundid/regtable.h"

enum rt_pass { RT_PASS_FULL, RT_PASS_INCR, RT_PASS_KEY };

/* RT_SYNC_DEPARTED: the row is of a registration the wire saw leave (regtable.h). */
enum rt_sync_result { RT_SYNC_APPLIED, RT_SYNC_NOT_LIVE, RT_SYNC_NO_REGISTRAR, RT_SYNC_REJECTED, RT_SYNC_DEPARTED };

#define RT_SYNC_MAX_SEEN 4000000 /* rows remembered per full pass; beyond, no removals that pass */

struct rt_sync {
    enum rt_pass pass;
    char key[REG_EXT_MAX + 1];
    uint64_t *seen; /* open addressing, 0 = empty */
    size_t seen_n, seen_cap;
    uint64_t *old; /* the set before it last grew, moved into seen a few entries per insert */
    size_t old_cap, old_pos;
    size_t full_n; /* rows the last FULL pass saw: the next one's set starts that big */
    size_t cursor; /* of the walk that ends a FULL pass (rt_sync_end_step) */
    bool seen_overflow;
    int64_t hwm; /* highest expiry seen in FULL/INCR passes */
};

void rt_sync_init(struct rt_sync *y);
void rt_sync_free(struct rt_sync *y);
/* Forget the high-water mark (a new database). */
void rt_sync_reset(struct rt_sync *y);
void rt_sync_begin(struct rt_sync *y, enum rt_pass pass, const char *key);
int rt_sync_row(struct rt_sync *y, struct regtable *t, const struct realtime_conf *rc, enum rt_schema schema,
                const struct rt_row *r, int64_t now);
/* End of the pass: removes what a FULL or KEY pass did not see. Returns
 * how many bindings were removed. */
size_t rt_sync_end(struct rt_sync *y, struct regtable *t, int64_t now);
/* The same in bounded steps, one a loop turn: each walks at most max_buckets
 * buckets of the table and removes at most a batch; adds to *removed.
 * Returns true while more steps are needed. */
bool rt_sync_end_step(struct rt_sync *y, struct regtable *t, int64_t now, size_t max_buckets, size_t *removed);
/* Remove every RealTime binding (the feed was turned off). */
size_t rt_sync_remove_all(struct regtable *t, int64_t now);
/* The expiry threshold of the next incremental query: rows with an expiry
 * above it. */
int64_t rt_sync_incr_after(const struct rt_sync *y, int64_t now);
/* Extensions with a RealTime binding that expires before 'before' (live
 * now): re-asked one by one, since a refresh with a shorter expiry than the
 * high-water mark escapes the incremental query. At most max, no repeats. */
size_t rt_sync_expiring(const struct regtable *t, int64_t now, int64_t before, char (*out)[REG_EXT_MAX + 1],
                        size_t max);
/* The same in bounded steps over *cursor (0 to begin), *n extensions found so
 * far: returns true while more steps are needed. */
bool rt_sync_expiring_step(const struct regtable *t, int64_t now, int64_t before, size_t *cursor, size_t max_buckets,
                           char (*out)[REG_EXT_MAX + 1], size_t *n, size_t max);

#endif
