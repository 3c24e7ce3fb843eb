/* The /metrics endpoint (include/dundid/metrics.h). Every family has its
 * HELP and TYPE lines; counters end in _total. The daemon's counters come
 * from their one list (counters.h); the per-peer, registration-feed and
 * RealTime families are written here. */
#include "dundid/metrics.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "dundid/clock.h"
#include "dundid/counters.h"
#include "dundid/log.h"
#include "dundid/realtime.h"
#include "dundid/registrations.h"
#include "dundid/server.h"

#define METRICS_TIMEOUT_S 5
#define METRICS_MAX_HEADERS 8192

static void family(struct evbuffer *b, const char *name, const char *type, const char *help)
{
    evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample(struct evbuffer *b, const char *name, const char *labels, uint64_t v)
{
    evbuffer_add_printf(b, "%s%s%s%s %llu\n", name, labels ? "{" : "", labels ? labels : "", labels ? "}" : "",
                        (unsigned long long)v);
}

static void one(struct evbuffer *b, const char *name, const char *type, const char *help, uint64_t v)
{
    family(b, name, type, help);
    sample(b, name, NULL, v);
}

/* A family with one label: values[i] labelled key="names[i]". */
static void labelled(struct evbuffer *b, const char *name, const char *type, const char *help, const char *key,
                     const char *const *names, const uint64_t *values, size_t n)
{
    char lab[96];
    family(b, name, type, help);
    for (size_t i = 0; i < n; i++) {
        snprintf(lab, sizeof(lab), "%s=\"%s\"", key, names[i]);
        sample(b, name, lab, values[i]);
    }
}


static void render_peers(const struct server *s, struct evbuffer *b)
{
    char eid[EID_STR_LEN], lab[96];

    family(b, "dundid_peer_state", "gauge", "Qualify state of each configured peer (1 for the current state).");
    for (size_t i = 0; i < server_peer_count(s); i++) {
        const struct peer_conf *p = server_peer_at(s, i);
        if (p->wildcard)
            continue;
        int st = (int)peer_reach(s, p, NULL);
        for (int k = 0; k < PEER_REACH_COUNT; k++) {
            snprintf(lab, sizeof(lab), "eid=\"%s\",state=\"%s\"", eid_to_str(&p->eid, eid), peer_reach_names[k]);
            sample(b, "dundid_peer_state", lab, k == st);
        }
    }
    family(b, "dundid_peer_rtt_seconds", "gauge", "Last qualify round-trip time of each reachable peer.");
    for (size_t i = 0; i < server_peer_count(s); i++) {
        const struct peer_conf *p = server_peer_at(s, i);
        int rtt;
        enum peer_reach r = p->wildcard ? PEER_UNMONITORED : peer_reach(s, p, &rtt);
        if (r != PEER_OK && r != PEER_LAGGED)
            continue;
        evbuffer_add_printf(b, "dundid_peer_rtt_seconds{eid=\"%s\"} %.3f\n", eid_to_str(&p->eid, eid), rtt / 1000.0);
    }
}

static void render_registrations(const struct server *s, struct evbuffer *b)
{
    struct regtable_stats rs = {0};
    if (server_regtable(s))
        regtable_get_stats(server_regtable(s), &rs);
    const char *names[REG_FEED_COUNT];
    for (int f = 0; f < REG_FEED_COUNT; f++)
        names[f] = reg_feed_name((enum reg_feed)f);
    labelled(b, "dundid_registrations", "gauge",
             "Live phone bindings in the registration table, by the feeds that vouch for them.", "feed",
             names, rs.by_feed, REG_FEED_COUNT);
    static const char *const changes[] = {"added", "refreshed", "removed", "expired", "moved", "dropped_cap",
                                          "rejected", "refused"};
    const uint64_t nchanges[] = {rs.added, rs.refreshed, rs.removed, rs.expired, rs.moved, rs.dropped_cap,
                                 rs.rejected, rs.refused};
    labelled(b, "dundid_registration_changes_total", "counter", "Updates of the registration table, by kind.",
             "change", changes, nchanges, sizeof(changes) / sizeof(changes[0]));
    one(b, "dundid_registration_table_bytes", "gauge", "Memory allocated by the registration table.",
        rs.memory_bytes);

    const struct feed_stats *fs = registrations_feed_stats(s);
    one(b, "dundid_feed_frames_total", "counter", "Captured frames and HEP datagrams received.", fs->frames);
    static const char *const why[] = {"undecodable", "hep_denied", "hep_bad_auth", "not_sip"};
    const uint64_t nwhy[] = {fs->undecodable, fs->hep_denied, fs->hep_bad_auth, fs->not_sip};
    labelled(b, "dundid_feed_dropped_total", "counter", "Frames and HEP datagrams not used, by reason.", "reason",
             why, nwhy, sizeof(why) / sizeof(why[0]));
    struct sipfeed_stats ss = {0};
    registrations_sip_stats(s, &ss);
    static const char *const sip[] = {"not_register", "malformed", "request", "committed", "unmatched",
                                      "refused", "provisional", "not_bound"};
    const uint64_t nsip[] = {ss.not_register, ss.malformed, ss.requests,    ss.committed,
                             ss.unmatched,    ss.refused,   ss.provisional, ss.not_bound};
    labelled(b, "dundid_sip_messages_total", "counter", "SIP messages seen by the feeds, by what they were.",
             "kind", sip, nsip, sizeof(sip) / sizeof(sip[0]));
    static const char *const saves[] = {"ok", "failed"};
    const uint64_t nsaves[] = {fs->state_saves, fs->state_save_errors};
    labelled(b, "dundid_state_file_writes_total", "counter", "Writes of the registration state file, by result.",
             "result", saves, nsaves, 2);
}

/* The RealTime feed (realtime.h), when [realtime] is configured. */
static void render_realtime(const struct server *s, struct evbuffer *b)
{
    struct realtime_status st;
    if (!server_realtime(s) || !server_conf(s)->realtime.enabled)
        return;
    realtime_get_status(server_realtime(s), &st);
    one(b, "dundid_realtime_connected", "gauge", "1 while the RealTime database connection is up.", st.connected);
    one(b, "dundid_realtime_connects_total", "counter", "Connections to the RealTime database made.", st.connects);
    one(b, "dundid_realtime_losses_total", "counter", "Connections to the RealTime database lost.", st.losses);
    static const char *const kinds[] = {"incremental", "full", "extension"};
    const uint64_t nkinds[] = {st.polls - st.full_loads, st.full_loads, st.rechecks};
    labelled(b, "dundid_realtime_queries_total", "counter", "RealTime queries finished, by kind.", "kind", kinds,
             nkinds, 3);
    static const char *const rows[] = {"applied", "not_live", "bad", "no_registrar", "departed"};
    const uint64_t nrows[] = {st.rows_applied, st.rows_not_live, st.rows_bad, st.rows_no_registrar,
                              st.rows_departed};
    labelled(b, "dundid_realtime_rows_total", "counter", "RealTime rows read, by what became of them.", "result",
             rows, nrows, 5);
    one(b, "dundid_realtime_stale_removed_total", "counter", "Bindings removed because the database lost them.",
        st.stale_removed);
    static const char *const od[] = {"answered", "timeout", "skipped"};
    const uint64_t nod[] = {st.ondemand_answered, st.ondemand_timeouts, st.ondemand_skipped};
    labelled(b, "dundid_realtime_ondemand_total", "counter", "On-demand RealTime lookups, by outcome.", "result", od,
             nod, 3);
    one(b, "dundid_realtime_last_query_milliseconds", "gauge", "Duration of the last RealTime query.",
        st.last_query_ms);
    one(b, "dundid_realtime_last_poll_time_seconds", "gauge", "When the last RealTime poll finished (epoch).",
        (uint64_t)st.last_poll);
}

/* The lookup latency histogram: cumulative buckets, sum, count. */
static void render_latency(const struct lookup_latency *h, struct evbuffer *b)
{
    static const unsigned bounds[] = {LOOKUP_LATENCY_BOUNDS_MS};
    const char *name = "dundid_lookup_duration_seconds";
    uint64_t n = 0;
    family(b, name, "histogram", "Lookups answered, by time from the request to the answer (forwarding included).");
    for (size_t i = 0; i < LOOKUP_LATENCY_BUCKETS; i++) {
        n += h->bucket[i];
        if (i < LOOKUP_LATENCY_BUCKETS - 1)
            evbuffer_add_printf(b, "%s_bucket{le=\"%u.%03u\"} %llu\n", name, bounds[i] / 1000, bounds[i] % 1000,
                                (unsigned long long)n);
        else
            evbuffer_add_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)n);
    }
    evbuffer_add_printf(b, "%s_sum %llu.%03u\n%s_count %llu\n", name, (unsigned long long)(h->sum_ms / 1000),
                        (unsigned)(h->sum_ms % 1000), name, (unsigned long long)n);
}

void metrics_render(const struct metrics *m, struct evbuffer *b)
{
    const struct server *s = m->srv;
    char eid[EID_STR_LEN], lab[96];

    family(b, "dundid_info", "gauge", "Version and entity id of this dundid (always 1).");
    snprintf(lab, sizeof(lab), "version=\"%s\",eid=\"%s\"", DUNDID_VERSION, eid_to_str(&server_conf(s)->eid, eid));
    sample(b, "dundid_info", lab, 1);
    one(b, "dundid_start_time_seconds", "gauge", "Start time of the process, seconds since the epoch.",
        (uint64_t)m->start_time);

    struct counters_src src;
    struct counter_row rows[COUNTERS_COUNT];
    counters_snapshot(s, &src);
    counters_rows(&src, rows);
    counters_prometheus(rows, b);

    render_latency(server_lookup_latency(s), b);
    render_peers(s, b);
    render_registrations(s, b);
    render_realtime(s, b);

    one(b, "dundid_metrics_scrapes_total", "counter", "Requests for /metrics, this one included.", m->scrapes);
}

static void on_metrics(struct evhttp_request *req, void *arg)
{
    struct metrics *m = arg;
    struct evbuffer *b = evbuffer_new();
    if (!b) {
        evhttp_send_error(req, HTTP_INTERNAL, NULL);
        return;
    }
    m->scrapes++;
    metrics_render(m, b);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "text/plain; version=0.0.4; charset=utf-8");
    evhttp_send_reply(req, HTTP_OK, "OK", b);
    evbuffer_free(b);
}

static void on_other(struct evhttp_request *req, void *arg)
{
    (void)arg;
    evhttp_send_error(req, HTTP_NOTFOUND, "Only /metrics is served here");
}

int metrics_start(struct metrics *m, struct server *srv, const char *host, uint16_t port, char *err, size_t errlen)
{
    m->srv = srv;
    if (!m->start_time)
        m->start_time = clock_wall_s();
    m->http = evhttp_new(server_base(srv));
    if (!m->http) {
        snprintf(err, errlen, "metrics: out of memory");
        return -1;
    }
    evhttp_set_allowed_methods(m->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
    evhttp_set_timeout(m->http, METRICS_TIMEOUT_S);
    evhttp_set_max_headers_size(m->http, METRICS_MAX_HEADERS);
    evhttp_set_max_body_size(m->http, 0);
    if (evhttp_set_cb(m->http, "/metrics", on_metrics, m) < 0) {
        snprintf(err, errlen, "metrics: cannot register /metrics");
        metrics_stop(m);
        return -1;
    }
    evhttp_set_gencb(m->http, on_other, m);
    struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(m->http, host, port);
    if (!bs) {
        snprintf(err, errlen, "metrics: cannot listen on %s port %u", host, port);
        metrics_stop(m);
        return -1;
    }
    /* Inherited by accepted sockets: evhttp writes headers and body apart,
     * and Nagle plus delayed ACKs would stall each keep-alive scrape 40 ms. */
    int one = 1;
    setsockopt(evhttp_bound_socket_get_fd(bs), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    snprintf(m->host, sizeof(m->host), "%s", host);
    m->port = port;
    log_notice("metrics on http://%s%s%s:%u/metrics", strchr(host, ':') ? "[" : "", host,
               strchr(host, ':') ? "]" : "", port);
    return 0;
}

void metrics_stop(struct metrics *m)
{
    if (m->http)
        evhttp_free(m->http);
    m->http = NULL;
    m->host[0] = '\0';
    m->port = 0;
}

void metrics_reconfigure(struct metrics *m, struct server *srv, const char *host, uint16_t port)
{
    if (m->http && !strcmp(m->host, host) && m->port == port)
        return;
    metrics_stop(m);
    if (!host[0])
        return;
    char err[128];
    if (metrics_start(m, srv, host, port, err, sizeof(err)) < 0)
        log_error("%s", err);
}
