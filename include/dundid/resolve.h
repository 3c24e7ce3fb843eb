/* Peer host names (resolve.c): resolved through evdns without blocking
 * after every load, again every dns_refresh seconds, sooner after a failure. */
#ifndef DUNDID_RESOLVE_H
#define DUNDID_RESOLVE_H

#include <stddef.h>

#include "dundid/peerstate.h"

struct server;

int resolve_init(struct server *s, char *err, size_t errlen);
void resolve_schedule(struct server *s);
void resolve_soon(struct server *s, struct peer_state *ps);
void resolve_detach(struct peer_state *ps);
void resolve_free(struct server *s);

#endif
