/* The counters' one list made into rows, and the three views of the rows
 * (include/dundid/counters.h). */
#include "dundid/counters.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "dundid/ctl_out.h"
#include "dundid/log.h"
#include "dundid/realtime.h"
#include "dundid/registrations.h"
#include "dundid/regtable.h"

/* lookups[] and the three named members are the same memory. */
#define LOOKUP_AT(m, i)                                                                                               \
    _Static_assert(offsetof(struct server_stats, m) ==                                                                \
                       offsetof(struct server_stats, lookups) + (i) * sizeof(uint64_t),                               \
                   #m " is lookups[" #i "]")
LOOKUP_AT(lookups_found, LOOKUP_FOUND);
LOOKUP_AT(lookups_not_found, LOOKUP_NOT_FOUND);
LOOKUP_AT(lookups_refused, LOOKUP_REFUSED);
#define ONE(...) +1
_Static_assert(LOOKUP_OUTCOME_COUNT == 0 SERVER_LOOKUP_STATS(ONE), "one entry per lookup outcome");
#undef ONE

#define KIND_IS_GAUGE_counter false
#define KIND_IS_GAUGE_gauge true

/* Families several rows share, told apart by their label. */
static const struct {
    const char *metric, *help;
} shared[] = {
    {"packets_dropped", "Packets not processed, by reason."},
    {"lookups", "DPDISCOVER requests answered, by result."},
    {"reloads", "Configuration reloads (SIGHUP, dundictl reload), by result."},
    {"replies_suppressed", "Replies to unauthenticated senders not sent (rate limit), by reply."},
    {"regreqs", "REGREQs from dynamic peers, by result."},
};

const char *counters_family_help(const char *metric)
{
    for (size_t i = 0; i < sizeof(shared) / sizeof(shared[0]); i++)
        if (!strcmp(shared[i].metric, metric))
            return shared[i].help;
    return NULL;
}

void counters_snapshot(const struct server *s, struct counters_src *src)
{
    const struct cache *cache = server_cache(s);
    const struct regtable *regs = server_regtable(s);
    memset(src, 0, sizeof(*src));
    src->trans = server_engine(s)->stats;
    src->server = *server_stats(s);
    src->cache = *cache_stats(cache);
    uint64_t *d = src->derived;
    d[COUNTER_live_trans] = server_engine(s)->count;
    d[COUNTER_cache_keys] = cache_count(cache);
    d[COUNTER_cache_max] = cache_max(cache);
    d[COUNTER_cache_bytes] = cache_bytes(cache);
    d[COUNTER_peer_states] = server_peer_state_count(s);
    d[COUNTER_peers_registered] = server_registration_count(s);
    if (regs) {
        struct regtable_stats rs;
        regtable_get_stats(regs, &rs);
        d[COUNTER_reg_bindings] = rs.bindings;
        d[COUNTER_reg_extensions] = rs.extensions;
    }
    struct feed_backlog fb;
    registrations_backlog(s, &fb);
    d[COUNTER_hep_queued_bytes] = fb.hep_queued_bytes;
    d[COUNTER_hep_drops] = fb.hep_drops;
    d[COUNTER_capture_drops] = fb.capture_drops;
    d[COUNTER_capture_ifdrops] = fb.capture_ifdrops;
    if (server_realtime(s)) {
        struct realtime_status rs;
        realtime_get_status(server_realtime(s), &rs);
        d[COUNTER_realtime_backlog] = rs.backlog;
    }
    d[COUNTER_log_suppressed] = log_suppressed_total();
}

void counters_rows(const struct counters_src *src, struct counter_row *rows)
{
    struct counter_row *r = rows;
#define ROW(value_, member, kind, key, metric, label, help)                                                           \
    *r++ = (struct counter_row){key, metric, label, help, KIND_IS_GAUGE_##kind, value_};
#define TRANS_ROW(member, ...) ROW(src->trans.member, member, __VA_ARGS__)
#define SERVER_ROW(member, ...) ROW(src->server.member, member, __VA_ARGS__)
#define CACHE_ROW(member, ...) ROW(src->cache.member, member, __VA_ARGS__)
#define DERIVED_ROW(member, ...) ROW(src->derived[COUNTER_##member], member, __VA_ARGS__)
    TRANS_STATS(TRANS_ROW)
    SERVER_LOOKUP_STATS(SERVER_ROW)
    SERVER_STATS(SERVER_ROW)
    CACHE_STATS(CACHE_ROW)
    COUNTERS_DERIVED(DERIVED_ROW)
#undef ROW
#undef TRANS_ROW
#undef SERVER_ROW
#undef CACHE_ROW
#undef DERIVED_ROW
}

size_t counters_line(const struct counter_row *rows, char *buf, size_t len)
{
    size_t need = 0;
    if (len)
        buf[0] = '\0';
    for (size_t i = 0; i < COUNTERS_COUNT; i++) {
        size_t at = need < len ? need : len;
        int n = snprintf(len ? buf + at : NULL, len - at, "%s%s=%" PRIu64, i ? " " : "", rows[i].key,
                         rows[i].value);
        if (n > 0)
            need += (size_t)n;
    }
    return need;
}

void counters_prometheus(const struct counter_row *rows, struct evbuffer *out)
{
    for (size_t i = 0; i < COUNTERS_COUNT; i++) {
        size_t first = 0;
        while (strcmp(rows[first].metric, rows[i].metric))
            first++;
        if (first < i)
            continue; /* already written with its family */
        const char *suffix = rows[i].gauge ? "" : "_total";
        const char *help = rows[i].label ? counters_family_help(rows[i].metric) : NULL;
        evbuffer_add_printf(out, "# HELP dundid_%s%s %s\n# TYPE dundid_%s%s %s\n", rows[i].metric, suffix,
                            help ? help : rows[i].help, rows[i].metric, suffix, rows[i].gauge ? "gauge" : "counter");
        for (size_t k = i; k < COUNTERS_COUNT; k++) {
            if (strcmp(rows[k].metric, rows[i].metric))
                continue;
            const char *lab = rows[k].label;
            evbuffer_add_printf(out, "dundid_%s%s%s%s%s %" PRIu64 "\n", rows[k].metric, suffix, lab ? "{" : "",
                                lab ? lab : "", lab ? "}" : "", rows[k].value);
        }
    }
}

void counters_ctl(const struct counter_row *rows, struct ctl_out *o)
{
    if (o->json)
        cj_obj(o, NULL);
    for (size_t i = 0; i < COUNTERS_COUNT; i++) {
        if (o->json)
            cj_int(o, rows[i].key, (long long)rows[i].value);
        else
            ctl_printf(o, "%-22s %" PRIu64 "\n", rows[i].key, rows[i].value);
    }
    if (o->json)
        cj_end(o);
}

void server_log_stats(const struct server *s)
{
    static uint64_t seq; /* so that no two stats lines are identical (repeats are folded) */
    struct counters_src src;
    struct counter_row rows[COUNTERS_COUNT];
    char line[LOG_LINE_MAX];

    realtime_log_stats(server_realtime(s));
    counters_snapshot(s, &src);
    counters_rows(&src, rows);
    counters_line(rows, line, sizeof(line));
    log_notice("stats: %s seq=%" PRIu64, line, ++seq);
}
