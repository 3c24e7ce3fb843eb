/* The daemon: sockets, the transaction engine, the configuration snapshot
 * and state that outlives snapshots (registrations of dynamic peers). */
#ifndef DUNDID_SERVER_H
#define DUNDID_SERVER_H

#include <event2/event.h>

#include "dundid/config.h"
#include "dundid/net.h"
#include "dundid/secret.h"
#include "dundid/trans.h"

#define REG_EXPIRATION_S 60 /* the reference always grants 60 s (+10 s grace) */

struct server;

/* A dynamic peer's address, learned from its REGREQ. */
struct registration {
    struct registration *next;
    struct server *s;
    eid_t eid;
    struct dundi_addr addr;
    struct timer expiry;
};

struct server_stats {
    uint64_t requests, answered, refused;
    uint64_t ies_malformed; /* IE area failed to parse: command ignored, still ACKed */
    uint64_t encrej_sent;
    uint64_t registrations;
};

struct server {
    struct event_base *base;
    struct loop loop;
    struct config *conf;
    struct trans_engine *eng;
    int fd[2];
    int family[2];
    struct event *ev[2];
    struct secret secret;
    struct registration *regs;
    struct server_stats stats;
    struct dundi_ies *ies; /* decode scratch: one loop, one message at a time */
};

int server_init(struct server *s, struct event_base *base, struct config *conf, char *err, size_t errlen);
void server_free(struct server *s);
/* Swap in a new snapshot (the old one is freed). Sockets stay as they are. */
void server_reload(struct server *s, struct config *conf);
void server_log_stats(const struct server *s);

/* Inbound command handling (respond.c). */
extern const struct trans_handler respond_handler;
/* Record a REGREQ from eid at addr; true if the address changed. */
bool server_register(struct server *s, const eid_t *eid, const struct dundi_addr *addr);
const struct registration *server_find_registration(const struct server *s, const eid_t *eid);

#endif
