/* State that survives a restart of dundid (persist.c): dynamic peers'
 * registrations (peer_statefile), saved a second after a change and at
 * stop, and the answer and hint cache (cache_statefile), saved every 60 s
 * while it changes and at stop. Both are read at start: after a kill -9, a
 * registered dynamic peer is asked at once and a cached answer is served
 * for the rest of its EXPIRATION. A damaged file is reported and ignored. */
#ifndef DUNDID_PERSIST_H
#define DUNDID_PERSIST_H

struct server;

void persist_start(struct server *s);
/* A dynamic peer registered, moved or expired (peerstate's hook). */
void persist_peers_changed(struct server *s);
/* Write both files now (stop). */
void persist_save_all(struct server *s);
void persist_stop(struct server *s);

#endif
