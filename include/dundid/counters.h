/* The daemon's counters, defined once. Each counter struct is made from a
 * list next to it (TRANS_STATS in trans.h, SERVER_LOOKUP_STATS and
 * SERVER_STATS in server.h, CACHE_STATS in cache.h), and the values worked
 * out from the state (COUNTERS_DERIVED below) have a list of their own.
 * This module turns the lists into rows, and renders the same rows as the
 * "stats:" log line, the Prometheus families and "dundictl show stats", so
 * the three always show the same set. An entry is
 *   X(member, kind, key, metric, label, help)
 * member  the struct member (or the derived value's id)
 * kind    counter or gauge
 * key     its name in the stats line and in show stats
 * metric  the Prometheus family without "dundid_" and, for a counter, "_total"
 * label   NULL, or the one label that tells it apart within a shared family
 * help    what it counts: the family's HELP unless the family is shared */
#ifndef DUNDID_COUNTERS_H
#define DUNDID_COUNTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dundid/cache.h"
#include "dundid/server.h"
#include "dundid/trans.h"

struct ctl_out;
struct evbuffer;

#define COUNTERS_DERIVED(X)                                                                                           \
    X(live_trans, gauge, "live_trans", "transactions_live", NULL, "DUNDi transactions open now.")                     \
    X(cache_keys, gauge, "cache_keys", "cache_entries", NULL, "Keys in the answer and hint cache.")                   \
    X(cache_max, gauge, "cache_max", "cache_max_entries", NULL, "Cache size limit (cache_size).")                     \
    X(cache_bytes, gauge, "cache_bytes", "cache_bytes", NULL, "Approximate memory used by the cache.")                \
    X(peer_states, gauge, "peer_states", "peer_states", NULL, "Per-peer states held (keys, qualify, history).")       \
    X(peers_registered, gauge, "peers_registered", "peer_registrations", NULL,                                        \
      "Dynamic peers with a live registration (REGREQ).")                                                             \
    X(reg_bindings, gauge, "reg_bindings", "registration_bindings", NULL,                                             \
      "Live phone bindings in the registration table.")                                                               \
    X(reg_extensions, gauge, "reg_extensions", "registration_extensions", NULL,                                       \
      "Extensions with at least one binding.")                                                                        \
    X(hep_queued_bytes, gauge, "hep_queued_bytes", "hep_queued_bytes", NULL,                                          \
      "Bytes waiting in the HEP socket's receive queue (the HEP feed's backlog).")                                   \
    X(hep_drops, counter, "hep_drops", "hep_kernel_drops", NULL,                                                      \
      "HEP datagrams the kernel dropped because the receive queue was full.")                                         \
    X(capture_drops, counter, "capture_drops", "capture_kernel_drops", NULL,                                          \
      "Packets the capture lost for want of buffer space (pcap_stats ps_drop).")                                      \
    X(capture_ifdrops, counter, "capture_ifdrops", "capture_interface_drops", NULL,                                   \
      "Packets the interface dropped (pcap_stats ps_ifdrop).")                                                        \
    X(realtime_backlog, gauge, "realtime_backlog", "realtime_backlog", NULL,                                          \
      "RealTime queries queued or running and table walks under way (the RealTime feed's backlog).")                 \
    X(log_suppressed, counter, "log_suppressed", "log_suppressed", NULL, "Log lines suppressed as repeats.")

enum counter_derived {
#define COUNTERS_DERIVED_ID(member, ...) COUNTER_##member,
    COUNTERS_DERIVED(COUNTERS_DERIVED_ID)
#undef COUNTERS_DERIVED_ID
    COUNTER_DERIVED_COUNT
};

#define COUNTERS_ONE(...) +1
enum { COUNTERS_COUNT = 0 TRANS_STATS(COUNTERS_ONE) SERVER_LOOKUP_STATS(COUNTERS_ONE) SERVER_STATS(COUNTERS_ONE)
           CACHE_STATS(COUNTERS_ONE) COUNTERS_DERIVED(COUNTERS_ONE) };
#undef COUNTERS_ONE

/* Everything the rows are made from, copied at one moment. */
struct counters_src {
    struct trans_stats trans;
    struct server_stats server;
    struct cache_stats cache;
    uint64_t derived[COUNTER_DERIVED_COUNT];
};

struct counter_row {
    const char *key, *metric, *label, *help;
    bool gauge;
    uint64_t value;
};

/* Copy the running server's counters and work out the derived ones. */
void counters_snapshot(const struct server *s, struct counters_src *src);
/* rows[COUNTERS_COUNT] in list order: trans, lookups, server, cache, derived. */
void counters_rows(const struct counters_src *src, struct counter_row *rows);

/* "key=value key=value ..." into buf (always terminated, cut at len; buf
 * may be NULL when len is 0); returns the length the whole line needs. */
size_t counters_line(const struct counter_row *rows, char *buf, size_t len);
/* The Prometheus families (HELP, TYPE, samples), a shared family once. */
void counters_prometheus(const struct counter_row *rows, struct evbuffer *out);
/* "show stats": "key value" lines, or one JSON object. */
void counters_ctl(const struct counter_row *rows, struct ctl_out *o);
/* The HELP of a shared (labelled) family, NULL when there is none. */
const char *counters_family_help(const char *metric);

/* server_log_stats (server.h) is here too: the stats line, then seq=N. */

#endif
