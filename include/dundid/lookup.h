/* Lookups towards peers (protocol 4.1-4.8): choose peers by order, consult
 * the cache, send DPDISCOVERs with path lists, merge and cache the answers,
 * and report once when every transaction has ended or the wait is over. */
#ifndef DUNDID_LOOKUP_H
#define DUNDID_LOOKUP_H

#include <stdbool.h>
#include <stdint.h>

#include "dundid/cache.h"
#include "dundid/timerq.h"
#include "dundid/wire.h"

struct server;
struct lookup;

struct lookup_request {
    char number[DUNDI_MAX_NUMBER + 1];
    char context[DUNDI_MAX_NUMBER + 1];
    int ttl;     /* for the requests we send (already decremented when forwarding) */
    bool bypass; /* CACHEBYPASS */
    /* The path of the request we forward (empty for our own lookups); its
     * last entry is the root. */
    unsigned navoid;
    eid_t avoid[DUNDI_MAX_EIDS];
    bool direct[DUNDI_MAX_EIDS];
    /* The hint so far (from our own mappings): DONT_ASK|UNAFFECTED to start. */
    uint16_t hint_flags;
    char hint_data[DUNDI_MAX_NUMBER + 1];
};

struct lookup_result {
    struct cache_result res; /* merged answers with their expirations */
    uint16_t hint_flags;
    char hint_data[DUNDI_MAX_NUMBER + 1];
    int expiration; /* lowest seen, INT_MAX if none */
    bool duplicate; /* the same request from the same root is already running */
    unsigned asked; /* peers queried */
};

typedef void (*lookup_done_fn)(void *ctx, const struct lookup_result *r);

/* Start a lookup. done is called exactly once, always from the loop and
 * never before this returns (also when there is nothing to ask, the TTL is
 * 0 or the request is a duplicate). Returns the lookup (for lookup_abandon
 * until done runs), or NULL when out of memory: then done is never called. */
struct lookup *lookup_start(struct server *s, const struct lookup_request *rq, lookup_done_fn done, void *ctx);
/* The requester went away: finish without calling done. */
void lookup_abandon(struct lookup *lk);
/* End every running lookup now, reporting what was found (shutdown). */
void lookup_abandon_all(struct server *s);

/* A running lookup as the CLI shows it (`show requests`). */
struct lookup_view {
    const char *number, *context;
    bool has_root;
    eid_t root;
    unsigned max, answers, asked, waiting; /* waiting: transactions still open */
};
void lookup_foreach(const struct server *s, void (*fn)(void *ctx, const struct lookup_view *v), void *ctx);

#endif
