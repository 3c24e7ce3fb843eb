/* The server object itself, private to src/server/ (and to the simulator
 * in test/sim, which drives the real layer white-box). Everything else goes
 * through include/dundid/server.h. */
#ifndef DUNDID_SERVER_IMPL_H
#define DUNDID_SERVER_IMPL_H

#include "dundid/bgsave.h"
#include "dundid/server.h"

/* What upper layers hang on a peer state, set up and taken down with it
 * (peerstate.c calls these; server.c fills them in). */
struct peer_hooks {
    void (*init)(struct server *s, struct peer_state *ps);
    void (*forget)(struct server *s, struct peer_state *ps);
    void (*suspect)(struct server *s, struct peer_state *ps); /* probe it soon */
    void (*heard)(struct server *s, struct peer_state *ps);   /* it is alive: ping now if unreachable */
    void (*registrations_changed)(struct server *s);          /* save them soon */
};

/* The timers of the state files (persist.c). */
struct persist_state {
    bool started;
    bool save_in_child; /* the daemon; the simulator saves inline */
    struct timer peers_timer, cache_timer;
    uint64_t cache_saved_changes;
    struct bgsave cache_save;
};

/* Work space of the one loop thread, used within a single call and never
 * across a callback that may re-enter: what used to be function-local
 * static buffers, named so that sharing them is visible. */
struct server_scratch {
    struct dundi_ies ies;            /* a received message, decoded */
    uint8_t inner[DUNDI_MAX_INNER];  /* its envelope, opened */
    struct dundi_ieb req;            /* a request or response being built */
    struct dundi_ieb keys;           /* our key IEs for a peer (outreq_key_ies) */
    struct local_result lr;          /* our own answers for a push */
};

struct server {
    struct event_base *base;
    struct loop loop;
    struct config *conf;
    struct trans_engine *eng;
    struct server_io io;
    int fd[2];
    int family[2];
    struct event *ev[2];
    struct secret secret;
    struct peer_table peers;     /* runtime state of peers (peerstate.c) */
    struct peer_hooks peer_hooks;
    struct persist_state persist;
    struct lookup *lookups; /* running forwarded lookups */
    struct eid_query *eidqueries; /* running EID queries (eidquery.c) */
    struct cache *cache;
    struct timer cache_sweep;
    struct server_stats stats;
    struct lookup_latency lookup_latency;
    struct server_scratch *scratch;
    struct regtable *regtable; /* where phones are registered; survives reloads */
    struct evdns_base *dns;    /* for peer host names */
    struct precache_item **precache_hash; /* pushes queued, by number@context (precache.c) */
    struct precache_item *precache_ready, *precache_ready_tail; /* due, in order */
    struct timer precache_timer;
    struct reg_runtime *regrt; /* its feeds and state file (registrations.c) */
    struct ratelimit *rl;      /* replies to unauthenticated senders */
    struct ratelimit *rl_keys; /* RSA checks of offered session keys (CPU) */
    struct event *lag_ev;      /* loop-lag probe */
    uint64_t lag_due_ms;
    uint64_t work_t0_ns; /* thread CPU time at looplag_work_begin */
    unsigned work_depth;
    struct realtime *realtime; /* the Asterisk RealTime feed (reg/realtime.c) */
    struct udp_batch *batch;   /* recvmmsg/sendmmsg buffers of the DUNDi sockets */
    bool batching;             /* replies are queued until the received batch is handled */
    bool prio;                 /* the base has two priorities: lookups first, feeds after */
    /* Operator switches (dundictl); storehistory follows the file on reload. */
    bool storehistory;
    bool debug_all;
    unsigned ndebug;
    eid_t debug_peers[SERVER_DEBUG_PEERS];
    /* Reloads (SIGHUP, dundictl reload): the file, whether -d fixed the log
     * level, and main.c's whole reload (server_reload_file and the rest of
     * the process: systemd, metrics); NULL = none. */
    const char *conf_path;
    bool keep_loglevel;
    int (*reload)(void *ctx, struct config_diag *diag);
    void *reload_ctx;
};

/* Operator debugging (debug.c): log the packets to and from addr when
 * debugging is on for everyone or for the peer at addr. */
/* Feed work (capture, HEP, RealTime) runs only when no lookup is waiting:
 * give ev the lower priority. Call before event_add. */
void server_feed_event(struct server *s, struct event *ev);
/* Run ev (a timer event) on a later loop turn, after the loop looked for
 * input: event_active would run it again within the same turn, so a feed
 * continuing itself that way would hold the loop until it is done. */
void server_yield(struct server *s, struct event *ev);
void server_debug_packet(struct server *s, bool tx, const struct dundi_addr *addr, const uint8_t *pkt, size_t len);
/* The engine's inner hook: a message inside an envelope, in clear. */
void server_debug_inner(void *ctx, bool tx, const struct trans *t, const struct dundi_hdr *h, const uint8_t *ies,
                        size_t len);

#endif
