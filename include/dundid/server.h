/* The daemon: sockets, the transaction engine, the configuration snapshot
 * and state that outlives snapshots (registrations of dynamic peers). */
#ifndef DUNDID_SERVER_H
#define DUNDID_SERVER_H

#include <event2/event.h>

struct evdns_base;
struct evdns_getaddrinfo_request;

#include "dundid/config.h"
#include "dundid/cache.h"
#include "dundid/crypto.h"
#include "dundid/mapping.h"
#include "dundid/net.h"
#include "dundid/peerstate.h"
#include "dundid/regtable.h"
#include "dundid/secret.h"
#include "dundid/trans.h"

struct server;

/* What upper layers hang on a peer state, set up and taken down with it
 * (peerstate.c calls these; server.c fills them in). */
struct peer_hooks {
    void (*init)(struct server *s, struct peer_state *ps);
    void (*forget)(struct server *s, struct peer_state *ps);
};

/* What a DPDISCOVER got: answers, none, or a refusal (CAUSE). */
enum lookup_outcome { LOOKUP_FOUND, LOOKUP_NOT_FOUND, LOOKUP_REFUSED, LOOKUP_OUTCOME_COUNT };

/* The daemon's counters, defined once: these lists make the struct, and
 * counters.c renders them as the stats line, the metrics and "show stats".
 * X(member, kind, key, metric, label, help): see include/dundid/counters.h.
 * SERVER_LOOKUP_STATS is in enum lookup_outcome's order (also an array). */
#define SERVER_LOOKUP_STATS(X)                                                                                        \
    X(lookups_found, counter, "lookups_found", "lookups", "result=\"found\"", "DPDISCOVERs answered with answers.")   \
    X(lookups_not_found, counter, "lookups_not_found", "lookups", "result=\"not_found\"",                             \
      "DPDISCOVERs answered without answers.")                                                                        \
    X(lookups_refused, counter, "lookups_refused", "lookups", "result=\"refused\"",                                   \
      "DPDISCOVERs refused with a cause.")
#define SERVER_STATS(X)                                                                                               \
    X(requests, counter, "requests", "requests", NULL, "Requests received (lookups, entity queries, precache).")      \
    X(answered, counter, "answered", "requests_answered", NULL, "Requests answered.")                                 \
    X(refused, counter, "refused", "requests_refused", NULL, "Requests refused with a cause.")                        \
    X(answers_sent, counter, "answers_sent", "answers_sent", NULL, "ANSWER elements sent in lookup responses.")       \
    X(reloads_ok, counter, "reloads_ok", "reloads", "result=\"ok\"", "Configuration reloads done.")                   \
    X(reloads_failed, counter, "reloads_failed", "reloads", "result=\"failed\"",                                      \
      "Configuration reloads refused (the running one stayed).")                                                      \
    X(ies_malformed, counter, "ies_malformed", "packets_dropped", "reason=\"bad_ies\"",                               \
      "Commands whose information elements did not parse (ignored, still ACKed).")                                    \
    X(encrej_sent, counter, "encrej", "encrej_sent", NULL, "ENCREJ sent.")                                            \
    X(crypto_rejected, counter, "crypto_rejected", "packets_dropped", "reason=\"crypto\"",                            \
      "Encrypted packets refused: bad signature, unknown key or undecryptable data.")                                 \
    X(registrations, counter, "registrations", "regreqs", "result=\"accepted\"", "REGREQs accepted.")                 \
    X(regs_refused, counter, "regs_refused", "regreqs", "result=\"refused_full\"",                                    \
      "REGREQs of new EIDs refused for lack of room.")                                                                \
    X(precache_sent, counter, "precache_sent", "precache_sent", NULL, "PRECACHERQs pushed to peers.")                 \
    X(precache_received, counter, "precache_received", "precache_received", NULL, "PRECACHERQ pushes accepted.")      \
    X(noauth_suppressed, counter, "noauth_suppressed", "replies_suppressed", "reply=\"noauth\"",                      \
      "NOAUTH or ENCREJ replies not sent (rate limit).")                                                              \
    X(addr_mismatch, counter, "addr_mismatch", "addr_mismatch", NULL,                                                 \
      "Requests naming a static peer's EID from another address.")                                                    \
    X(key_checks, counter, "key_checks", "key_checks", NULL, "RSA checks of session keys offered by peers.")          \
    X(key_checks_suppressed, counter, "key_checks_suppressed", "key_checks_suppressed", NULL,                         \
      "Offered session keys refused unchecked (key-check rate limit).")                                               \
    X(lag_max_ms, gauge, "lag_max_ms", "loop_lag_max_milliseconds", NULL,                                             \
      "Largest lateness of the 100 ms event-loop probe.")                                                             \
    X(lag_last_ms, gauge, "lag_last_ms", "loop_lag_last_milliseconds", NULL,                                          \
      "Last lateness of the 100 ms event-loop probe.")

struct server_stats {
#define SERVER_STATS_MEMBER(member, ...) uint64_t member;
    union { /* lookups[enum lookup_outcome] names the same three */
        struct {
            SERVER_LOOKUP_STATS(SERVER_STATS_MEMBER)
        };
        uint64_t lookups[LOOKUP_OUTCOME_COUNT];
    };
    SERVER_STATS(SERVER_STATS_MEMBER)
#undef SERVER_STATS_MEMBER
};

/* How datagrams leave: the daemon's UDP sockets, or the simulator's network. */
struct server_io {
    int (*send)(void *ctx, const struct dundi_addr *to, const uint8_t *pkt, size_t len);
    void *ctx;
    int families[2]; /* address families it can send to (AF_UNSPEC: none) */
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
    struct lookup *lookups; /* running forwarded lookups */
    struct eid_query *eidqueries; /* running EID queries (eidquery.c) */
    struct cache *cache;
    struct timer cache_sweep;
    struct server_stats stats;
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
    struct realtime *realtime; /* the Asterisk RealTime feed (reg/realtime.c) */
    /* Operator switches (dundictl); storehistory follows the file on reload. */
    bool storehistory;
    bool debug_all;
    unsigned ndebug;
    eid_t debug_peers[16];
    /* Reloads (SIGHUP, dundictl reload): the file, whether -d fixed the log
     * level, and main.c's whole reload (server_reload_file and the rest of
     * the process: systemd, metrics); NULL = none. */
    const char *conf_path;
    bool keep_loglevel;
    int (*reload)(void *ctx, struct config_diag *diag);
    void *reload_ctx;
};

/* Set up the server with conf (owned from now on). io NULL: bind the UDP
 * sockets of conf and send through them; otherwise send through io (and
 * feed received datagrams to server_input). */
int server_init(struct server *s, struct event_base *base, struct config *conf, const struct server_io *io, char *err,
                size_t errlen);
/* One received datagram (len may exceed DUNDI_MAX_PACKET: dropped, counted). */
void server_input(struct server *s, const struct dundi_addr *from, const uint8_t *pkt, size_t len);
void server_free(struct server *s);
/* Swap in a new snapshot (the old one is freed). Sockets stay as they are. */
void server_reload(struct server *s, struct config *conf);
void server_log_stats(const struct server *s);

/* Re-read s->conf_path into a new snapshot and swap it in; on any error the
 * running one stays. Every diagnostic is logged and also left in diag (the
 * caller frees it). Returns 0 or -1. (reload.c) */
int server_reload_file(struct server *s, struct config_diag *diag);

/* Operator debugging (debug.c): log the packets to and from addr when
 * debugging is on for everyone or for the peer at addr. */
void server_debug_packet(struct server *s, bool tx, const struct dundi_addr *addr, const uint8_t *pkt, size_t len);
/* Event-loop lag probe (looplag.c): a periodic timer that records how late
 * it runs, so a stalled loop shows in the stats. */
#define LOOPLAG_PERIOD_MS 100
int looplag_start(struct server *s);
void looplag_stop(struct server *s);


/* Peer upkeep (peers.c). */
void peer_qualify_soon(struct server *s, const eid_t *eid);
void peer_state_timers_init(struct peer_state *ps);
void peer_state_detach(struct server *s, struct peer_state *ps);
/* Arm qualify and register timers for the current snapshot. */
void peers_schedule(struct server *s);

/* Peer host names (resolve.c): resolved without blocking after every load,
 * again every dns_refresh seconds, sooner after a failure. */
int resolve_init(struct server *s, char *err, size_t errlen);
void resolve_schedule(struct server *s);
void resolve_soon(struct server *s, struct peer_state *ps);
void resolve_detach(struct peer_state *ps);
void resolve_free(struct server *s);

/* Inbound command handling (respond.c). */
extern const struct trans_handler respond_handler;

#endif
