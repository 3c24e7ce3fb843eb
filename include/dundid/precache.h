/* Precache (protocol 7.5): pushing our answers to peers with precache =
 * outbound/symmetric in PRECACHERQs, and keeping the answers that peers with
 * precache = inbound/symmetric push to us. */
#ifndef DUNDID_PRECACHE_H
#define DUNDID_PRECACHE_H

#include <stdbool.h>

#include "dundid/eid.h"
#include "dundid/wire.h"

struct server;
struct config;

/* Push number@context now to every precache-outbound peer of order primary
 * whose permit list allows the context, with TTL ttl, skipping the peers
 * (and us_eids) in avoid. A peer gets the push when we have at least one
 * answer for it, or always with withdraw (an empty push replaces what the
 * peer cached from us). With answers, the push is queued again for when they
 * expire. Returns how many peers were sent a PRECACHERQ. */
unsigned precache_push_context(struct server *s, const char *number, const char *context, int ttl,
                               const eid_t *avoid, unsigned navoid, bool withdraw);

/* The registration of number changed: on the next turn of the loop, push its
 * current answer (or its withdrawal) in every DUNDi context that has local
 * answers, to the peers precache_push_context picks. */
void precache_push(struct server *s, const char *number);
/* With precache_registrations = yes, every change of the registration table
 * calls precache_push (set after every load). */
void precache_watch_registrations(struct server *s);

/* After a load or reload (old: the previous snapshot, or NULL): queue every
 * literal extension of every mapped local context for a push at once, and
 * withdraw at once those the reload removed. */
void precache_schedule(struct server *s, const struct config *old);

/* A PRECACHERQ from pusher that passed the checks of 4.3.1: cache its
 * answers (the push lifetime, 5.2) and its DONT_ASK hint. */
void precache_accept(struct server *s, const eid_t *pusher, const struct dundi_ies *ie);

void precache_init(struct server *s);
/* Forget the queue (shutdown). Pushes in flight end with their transactions. */
void precache_free(struct server *s);

#endif
