/* Token buckets (see ratelimit.h). Arithmetic in thousandths of a token, so
 * rates below one per millisecond still refill exactly. */
#include "dundid/ratelimit.h"

#include <string.h>

#include "dundid/hash.h"

static void fill(struct rl_bucket *b, uint32_t burst, uint64_t now)
{
    b->stamp_ms = now;
    b->milli = burst * 1000u;
}

/* Refill for the time passed, then take one token if there is one. */
static bool take(struct rl_bucket *b, uint32_t rate, uint32_t burst, uint64_t now)
{
    if (!rate)
        return true;
    uint64_t cap = (uint64_t)burst * 1000u;
    if (now > b->stamp_ms) {
        /* rate tokens per second = rate milli-tokens per millisecond */
        uint64_t add = (now - b->stamp_ms) * rate;
        uint64_t m = b->milli + (add > cap ? cap : add);
        b->milli = (uint32_t)(m > cap ? cap : m);
        b->stamp_ms = now;
    }
    if (b->milli < 1000u)
        return false;
    b->milli -= 1000u;
    return true;
}

void ratelimit_init(struct ratelimit *r, uint32_t rate, uint32_t burst, uint32_t global_rate, uint32_t global_burst)
{
    memset(r, 0, sizeof(*r));
    /* Bounds keep milli-token sums inside 32 bits. */
    r->rate = rate > 1000000u ? 1000000u : rate;
    r->burst = burst < 1 ? 1 : burst > 1000000u ? 1000000u : burst;
    r->global_rate = global_rate > 1000000u ? 1000000u : global_rate;
    r->global_burst = global_burst < 1 ? 1 : global_burst > 1000000u ? 1000000u : global_burst;
    r->global.milli = r->global_burst * 1000u;
}

bool ratelimit_allow(struct ratelimit *r, const struct dundi_addr *to, uint64_t now_ms)
{
    uint8_t key[DUNDI_ADDR_HOST_KEY_LEN];
    dundi_addr_host_key(to, key);
    struct rl_slot *s = &r->slot[fnv1a32(FNV32_BASIS, key, sizeof(key)) % RATELIMIT_SLOTS];
    if (memcmp(s->key, key, sizeof(key))) {
        /* A new source takes the slot over with a full bucket: the global
         * bucket still bounds what many colliding sources get together. */
        memcpy(s->key, key, sizeof(key));
        fill(&s->b, r->burst, now_ms);
    }
    /* Check the source first: a source over its share must not drain the global bucket. */
    bool ok = take(&s->b, r->rate, r->burst, now_ms) && take(&r->global, r->global_rate, r->global_burst, now_ms);
    if (ok)
        r->allowed++;
    else
        r->suppressed++;
    return ok;
}
