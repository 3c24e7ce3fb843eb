/* Keeping in touch with peers (qualify.c): NULL pings that measure
 * reachability (7.3), and our REGREQs to the peers we register with (7.4). */
#ifndef DUNDID_QUALIFY_H
#define DUNDID_QUALIFY_H

#include "dundid/peerstate.h"

struct server;

/* Arm qualify and register timers for the current snapshot (after every
 * load); peers that keep their settings keep their rhythm. */
void qualify_schedule(struct server *s);
/* A peer's address changed: ping it soon. */
void qualify_soon(struct server *s, const eid_t *eid);
/* Passive failure detection (peerstate.c's hooks): probe a suspect peer
 * after 1 s, 2 s, 4 s, ...; ping an unreachable peer that was heard from. */
void qualify_suspect(struct server *s, struct peer_state *ps);
void qualify_heard(struct server *s, struct peer_state *ps);
/* The timers a peer state carries, set up with it and taken down with it. */
void qualify_state_init(struct peer_state *ps);
void qualify_state_detach(struct server *s, struct peer_state *ps);

#endif
