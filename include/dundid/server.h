/* The daemon's server layer, as the rest of the process sees it: start it
 * on an event base with a configuration snapshot, feed it datagrams, swap
 * snapshots, stop it; and read what the operator's tools show through the
 * accessors below. The struct itself is private to src/server/ (and the
 * simulator): include/dundid/server_impl.h. */
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
    X(peer_suspects, counter, "peer_suspects", "peer_suspects", NULL,                                                 \
      "Peers marked suspect: a request to them ended unanswered (timeout or autokill).")                              \
    X(peer_suspects_cleared, counter, "peer_suspects_cleared", "peer_suspects_cleared", NULL,                         \
      "Suspect peers that answered again (a lost packet, not a dead peer).")                                          \
    X(lag_max_ms, gauge, "lag_max_ms", "loop_lag_max_milliseconds", NULL,                                             \
      "Largest lateness of the 100 ms event-loop probe.")                                                             \
    X(lag_last_ms, gauge, "lag_last_ms", "loop_lag_last_milliseconds", NULL,                                          \
      "Last lateness of the 100 ms event-loop probe.")                                                                \
    X(work_max_us, gauge, "work_max_us", "loop_work_max_microseconds", NULL,                                          \
      "Longest single piece of loop work: CPU time of one socket, feed or timer callback.")

/* Answered lookups by the time from the request to the DPRESPONSE: upper
 * bounds in ms of the histogram's buckets, the last bucket being +Inf. */
#define LOOKUP_LATENCY_BOUNDS_MS 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000
#define LOOKUP_LATENCY_BUCKETS 11
struct lookup_latency {
    uint64_t bucket[LOOKUP_LATENCY_BUCKETS]; /* counts per bucket, not cumulative */
    uint64_t sum_ms;
};

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
/* The stats line (SIGUSR2, stop); ops/counters.c. */
void server_log_stats(const struct server *s);

/* Allocate an uninitialised server for server_init (free with server_destroy,
 * after server_free). */
struct server *server_alloc(void);
void server_destroy(struct server *s);

/* ---- what the operator's tools read and switch ---- */
const struct config *server_conf(const struct server *s);
struct event_base *server_base(const struct server *s);
struct cache *server_cache(const struct server *s);
const struct regtable *server_regtable(const struct server *s);
struct realtime *server_realtime(const struct server *s);
const struct server_stats *server_stats(const struct server *s);
/* metrics: dundid_lookup_duration_seconds */
const struct lookup_latency *server_lookup_latency(const struct server *s);
const struct trans_engine *server_engine(const struct server *s);
/* dundictl flush stats: counters and lookup histories back to 0. */
void server_flush_stats(struct server *s);
/* The current ${SECRET}, refreshed when due. */
const char *server_secret(struct server *s);
/* Packet debugging for everyone, or for up to SERVER_DEBUG_PEERS peers. */
#define SERVER_DEBUG_PEERS 16
void server_debug_all(struct server *s, bool on);
bool server_debugging_all(const struct server *s);
/* Turn debugging of one peer on or off; false when the list is full. */
bool server_debug_peer(struct server *s, const eid_t *eid, bool on);
bool server_debugging_peer(const struct server *s, const eid_t *eid);
/* The peers debugged now (at most SERVER_DEBUG_PEERS). */
unsigned server_debug_peers(const struct server *s, eid_t out[SERVER_DEBUG_PEERS]);
void server_set_storehistory(struct server *s, bool on);
bool server_storehistory(const struct server *s);
/* The reload that SIGHUP and dundictl run: the file, whether -d fixed the
 * log level, and main.c's whole reload (server_reload_file plus the rest of
 * the process). */
void server_set_reload(struct server *s, const char *conf_path, bool keep_loglevel,
                       int (*reload)(void *ctx, struct config_diag *diag), void *ctx);
const char *server_conf_path(const struct server *s);
/* Run it (dundictl reload); -1 when none is set (diag empty) or it failed. */
int server_run_reload(struct server *s, struct config_diag *diag);

/* Re-read s->conf_path into a new snapshot and swap it in; on any error the
 * running one stays. Every diagnostic is logged and also left in diag (the
 * caller frees it). Returns 0 or -1. (reload.c) */
int server_reload_file(struct server *s, struct config_diag *diag);

#endif
