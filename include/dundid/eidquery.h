/* EID queries towards peers (protocol 7.6): who is behind an EID (contact
 * information), asked of every usable outbound peer at once, forwarded
 * hop by hop like lookups. */
#ifndef DUNDID_EIDQUERY_H
#define DUNDID_EIDQUERY_H

#include <stdbool.h>
#include <stdint.h>

#include "dundid/eid.h"
#include "dundid/wire.h"

struct server;
struct eid_query;

#define EID_INFO_MAX DUNDI_MAX_NUMBER /* 80-byte fields in the reference */

struct eid_info {
    bool found; /* some peer answered with an ORGANIZATION IE */
    eid_t from; /* the peer whose EIDRESPONSE supplied it */
    char department[EID_INFO_MAX + 1], organization[EID_INFO_MAX + 1], locality[EID_INFO_MAX + 1],
        stateprov[EID_INFO_MAX + 1], country[EID_INFO_MAX + 1], email[EID_INFO_MAX + 1], phone[EID_INFO_MAX + 1],
        ipaddr[EID_INFO_MAX + 1];
    uint16_t hint_flags; /* TTL_EXPIRED when the TTL ran out on the way */
    unsigned asked;      /* peers queried */
};

typedef void (*eid_query_done_fn)(void *ctx, const struct eid_info *r);

/* Ask our peers about target in context (NULL = "e164") with TTL ttl (0 =
 * the configured ttl). avoid (navoid entries, the last one the root) names
 * nodes already on the path: they and our peers listed there are not asked.
 * done is called exactly once, always from the loop and never before this
 * returns. Returns the query (for eid_query_abandon until done runs), or
 * NULL when out of memory: then done is never called. */
struct eid_query *eid_query_start(struct server *s, const eid_t *target, const char *context, int ttl,
                                  const eid_t *avoid, unsigned navoid, eid_query_done_fn done, void *ctx);
/* The requester went away: finish without calling done. */
void eid_query_abandon(struct eid_query *q);
/* End every running query, reporting what was found (shutdown). */
void eid_query_abandon_all(struct server *s);

#endif
