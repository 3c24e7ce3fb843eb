/* The answer/hint cache (protocol doc section 5). Pure: no I/O, no clock;
 * every time-dependent call takes `now` in seconds (the unit is only
 * assumed to be the same across calls).
 *
 * Model: a key/value store shaped like the reference's `dundi/cache`
 * family. Answer keys are (peer, number, context, e<crc> | r<root>), hint
 * keys are (peer, prefix, context, e<crc> | r<root>). cache_save writes the
 * e and r keys with one shared, immutable value (expiry + answers), so a
 * second save under either key replaces just that key, as a put would.
 *
 * Bounds: max_entries counts keys, answer and hint keys together (one save
 * writes two keys). When full, an already expired key is dropped if there
 * is one, otherwise the least recently used key (saves and lookup hits
 * refresh a key). Every operation is O(1) average except the expiry heap
 * (O(log n) on removal, O(1) average on insert since expiries mostly grow).
 *
 * Numbers, contexts and hint prefixes are cut at DUNDI_MAX_NUMBER (79)
 * characters, as the reference's buffers do. Contexts compare
 * case-insensitively (ASCII), numbers exactly. */
#ifndef DUNDID_CACHE_H
#define DUNDID_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dundid/eid.h"
#include "dundid/wire.h"

#define CACHE_MAX_RESULTS 64 /* the reference's per-lookup result limit */
#define CACHE_PULL_ADJUST 10 /* seconds: pulled answers -10, pushed +10 */

struct cache;

/* XOR of zlib crc32 over each 6-byte EID of the avoid list except the last
 * (4.1 step 2): 0 for zero or one entry. */
uint32_t cache_path_crc(const eid_t *avoid, unsigned n);

/* max_entries < 2 is raised to 2 so one save always fits. NULL on ENOMEM. */
struct cache *cache_new(size_t max_entries);
void cache_free(struct cache *c);

/* Save a response from `peer` (5.2) under e<unaffected ? 0 : path_crc> and
 * r<root> (root NULL = zero EID). Lifetime: expiration if >= 1, else
 * cachetime; then -10 (pulled) or +10 (pushed); at least 1 s. The answers
 * are those newly added from this response (n may be 0: a negative entry);
 * answers whose dest contains '|' are skipped, as the reference does. Each
 * answer keeps its owner EID. On allocation failure nothing is stored. */
void cache_save(struct cache *c, const eid_t *peer, const char *number, const char *context, uint32_t path_crc,
                bool unaffected, const eid_t *root, const struct dundi_answer *answers, unsigned n,
                int expiration, int cachetime, bool pushed, int64_t now);

/* Save a DONT_ASK hint (call only when the HINT has DONT_ASK). Lifetime:
 * expiration if >= 0 (pass -1 when absent), else cachetime, no adjustment.
 * A lifetime <= 0 stores nothing but removes older keys with the same name
 * (the reference overwrites them with an already expired value). Prefixes
 * that are empty or longer than DUNDI_MAX_NUMBER can never be looked up and
 * are not stored. */
void cache_save_hint(struct cache *c, const eid_t *peer, const char *prefix, const char *context, uint32_t path_crc,
                     bool unaffected, const eid_t *root, int expiration, int cachetime, int64_t now);

/* Put back one key as a state file had it (kind 'e' under crc, 'r' under
 * root; a hint carries no answers), expiring at expires (epoch seconds).
 * False when it is expired, malformed, or out of memory. */
bool cache_restore(struct cache *c, const eid_t *peer, const char *number, const char *context, char kind,
                   uint32_t crc, const eid_t *root, bool hint, const struct dundi_answer *answers, unsigned n,
                   int64_t expires, int64_t now);

struct cache_result {
    unsigned n;
    struct dundi_answer answers[CACHE_MAX_RESULTS];
    int expirations[CACHE_MAX_RESULTS]; /* remaining seconds when appended */
    int expiration;                     /* lowest remaining lifetime seen; INT_MAX if none */
    char hint_data[DUNDI_MAX_NUMBER + 1]; /* longest DONT_ASK prefix found */
    bool hint_hit;                        /* some hint matched */
};

/* Empty result: n = 0, expiration = INT_MAX, no hint. */
void cache_result_init(struct cache_result *res);
/* The merge rule of 4.7, for cached and fresh answers alike: the same
 * protocol and destination is a duplicate whose lower weight wins; a new
 * one is appended with its expiration while there is room. True when
 * appended. */
bool cache_result_add(struct cache_result *res, const struct dundi_answer *a, int expiration);

/* 5.3 for one candidate peer. Probes e<path_crc>, e00000000, r<root> (root
 * NULL = zero EID); every unexpired key found merges its answers into res
 * (same proto + identical dest = duplicate, the lower weight is kept; new
 * ones are appended while res has room, with expiration = remaining
 * seconds) and lowers res->expiration. If res still holds no answer, hints
 * are checked for each prefix of number from length 1 up: the first prefix
 * with any unexpired hint key is a hit, lowers res->expiration like an
 * entry, sets hint_hit, and replaces hint_data if it is longer. Expired keys
 * met on the way are removed. Returns true on any hit, even an entry
 * without answers (negative caching): the peer is then not queried.
 * The caller clears DONT_ASK in its own hint if res->n grew. */
bool cache_lookup(struct cache *c, const eid_t *peer, const char *number, const char *context, uint32_t path_crc,
                  const eid_t *root, int64_t now, struct cache_result *res);

/* Remove everything (stats are kept). */
void cache_flush(struct cache *c);
/* Keys held, answer and hint keys together (expired ones included until
 * they are removed). */
size_t cache_count(const struct cache *c);
size_t cache_count_hints(const struct cache *c);
size_t cache_max(const struct cache *c);

/* Remove up to budget keys whose expiry <= now, earliest first. Returns how
 * many were removed. O(budget log n), never a scan. */
size_t cache_expire(struct cache *c, int64_t now, size_t budget);
/* Seconds until the earliest expiry (<= 0: something is already expired),
 * or INT64_MAX when empty: lets the daemon arm its sweep timer. */
int64_t cache_next_expiry(const struct cache *c, int64_t now);

/* The cache's counters, defined once: this list makes the struct, and
 * counters.c renders it as the stats line, the metrics and "show stats".
 * X(member, kind, key, metric, label, help): see include/dundid/counters.h. */
#define CACHE_STATS(X)                                                                                                \
    X(hits, counter, "cache_hits", "cache_hits", NULL, "Answer cache lookups that found an entry.")                   \
    X(misses, counter, "cache_misses", "cache_misses", NULL, "Answer cache lookups that found nothing.")              \
    X(saves, counter, "cache_saves", "cache_saves", NULL, "Answers and hints stored in the cache.")                   \
    X(evictions, counter, "cache_evictions", "cache_evictions", NULL,                                                 \
      "Live cache entries dropped because the cache was full.")                                                       \
    X(expired, counter, "cache_expired", "cache_expired", NULL, "Expired cache entries removed.")

struct cache_stats {
#define CACHE_STATS_MEMBER(member, ...) uint64_t member;
    CACHE_STATS(CACHE_STATS_MEMBER)
#undef CACHE_STATS_MEMBER
};
const struct cache_stats *cache_stats(const struct cache *c);

/* Approximate heap bytes in use (including an estimate of malloc's
 * per-block overhead). */
size_t cache_bytes(const struct cache *c);

/* One key as seen by the CLI (10: `show cache`, `show hints`). Pointers are
 * valid only during the callback. */
struct cache_view {
    eid_t peer;           /* the peer the key was cached under */
    const char *number;   /* number, or the prefix for a hint */
    const char *context;  /* as given to the save that wrote the key */
    char kind;            /* 'e' or 'r' */
    uint32_t crc;         /* kind 'e' */
    eid_t root;           /* kind 'r' */
    int64_t expires_in;   /* seconds, > 0 */
    bool hint;
    unsigned n_answers;   /* 0 for hints and negative entries */
    const void *priv_;
};
/* Answer i (< v->n_answers) of a viewed entry, owner EID included. */
void cache_view_answer(const struct cache_view *v, unsigned i, struct dundi_answer *out);
/* The reference's key text, e.g. "00AABBCCDDEE/5551212/e164/e00000000" or
 * "hint/00AABBCCDDEE/555/e164/r000000000000". Returns buf. */
char *cache_view_key(const struct cache_view *v, char *buf, size_t len);

/* Visit every unexpired answer key (cache_foreach) or hint key
 * (cache_foreach_hint), most recently used first. Both kinds e and r are
 * visited: the CLI shows only 'e'. fn must not modify the cache. */
void cache_foreach(const struct cache *c, int64_t now, void (*fn)(void *ctx, const struct cache_view *v), void *ctx);
void cache_foreach_hint(const struct cache *c, int64_t now, void (*fn)(void *ctx, const struct cache_view *v),
                        void *ctx);

#endif
