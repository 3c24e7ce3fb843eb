/* Token buckets for replies to unauthenticated senders (INVALID, NOAUTH,
 * ENCREJ): one per source address in a bounded table, plus one for all of
 * them, so neither one flooder nor many spoofed sources turn dundid into
 * an amplifier. Time comes from the caller: tests drive it. */
#ifndef DUNDID_RATELIMIT_H
#define DUNDID_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "dundid/addr.h"

#define RATELIMIT_SLOTS 1024 /* sources tracked at once; colliding sources share a slot */

struct rl_bucket {
    uint64_t stamp_ms; /* last refill */
    uint32_t milli;    /* tokens x 1000 */
};

struct rl_slot {
    uint8_t key[DUNDI_ADDR_HOST_KEY_LEN]; /* ports ignored: they are free to vary */
    struct rl_bucket b;
};

struct ratelimit {
    uint32_t rate, burst;           /* per source: tokens per second, bucket size */
    uint32_t global_rate, global_burst;
    struct rl_bucket global;
    struct rl_slot slot[RATELIMIT_SLOTS];
    uint64_t allowed, suppressed;
};

/* rate 0 disables that bucket (always allows). */
void ratelimit_init(struct ratelimit *r, uint32_t rate, uint32_t burst, uint32_t global_rate, uint32_t global_burst);
/* May one more reply go to this address now? Counts the verdict. */
bool ratelimit_allow(struct ratelimit *r, const struct dundi_addr *to, uint64_t now_ms);

#endif
