/* The "show ..." commands: Asterisk-like tables, or JSON. */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dundid/ctl_cmds.h"
#include "dundid/clock.h"
#include "dundid/lookup.h"
#include "dundid/precache.h"
#include "dundid/realtime.h"
#include "dundid/server.h"

static const char *order_name(int order)
{
    static const char *names[] = {"Primary", "Secondary", "Tertiary", "Quartiary"};
    return order >= 0 && order < 4 ? names[order] : "Unknown";
}

static void addr_host(const struct dundi_addr *a, char *host, size_t len, unsigned *port)
{
    char buf[80];
    *port = 0;
    snprintf(host, len, "(Unspecified)");
    if (!a)
        return;
    dundi_addr_str(a, buf, sizeof(buf));
    char *colon = strrchr(buf, ':');
    if (!colon)
        return;
    *colon = '\0';
    sscanf(colon + 1, "%u", port);
    /* [v6]:port -> v6 */
    char *h = buf;
    if (*h == '[' && colon > h && colon[-1] == ']') {
        h++;
        colon[-1] = '\0';
    }
    snprintf(host, len, "%s", h);
}

/* Qualify status as the reference prints it; online/offline/unmonitored in *kind (0/1/2). */
static void peer_status(const struct server *s, const struct peer_conf *p, char *buf, size_t len, int *kind,
                        int *rtt)
{
    const struct peer_state *ps = server_find_peer_state(s, &p->eid);
    *rtt = ps ? ps->rtt_ms : 0;
    if (!p->qualify_ms) {
        snprintf(buf, len, "Unmonitored");
        *kind = 2;
    } else if (*rtt < 0) {
        snprintf(buf, len, "UNREACHABLE");
        *kind = 1;
    } else if (*rtt > p->qualify_ms) {
        snprintf(buf, len, "LAGGED (%d ms)", *rtt);
        *kind = 1;
    } else if (*rtt) {
        snprintf(buf, len, "OK (%d ms)", *rtt);
        *kind = 0;
    } else {
        snprintf(buf, len, "UNKNOWN");
        *kind = 1;
    }
}

/* Average of the recorded lookup times, 0 when none. */
static int peer_avg_ms(const struct server *s, const eid_t *eid, int *count)
{
    const struct peer_state *ps = server_find_peer_state(s, eid);
    long sum = 0;
    *count = 0;
    for (int i = 0; ps && i < PEER_HISTORY; i++)
        if (ps->history[i].what[0]) {
            sum += ps->history[i].ms;
            (*count)++;
        }
    return *count ? (int)(sum / *count) : 0;
}

enum ctl_status show_peers(struct ctl_call *c, int argc, char **argv)
{
    const struct config *conf = c->s->conf;
    struct ctl_out *o = &c->out;
    int counts[3] = {0, 0, 0}, total = 0;
    (void)argc;
    (void)argv;
    if (o->json) {
        cj_obj(o, NULL);
        cj_arr(o, "peers");
    } else {
        ctl_printf(o, "%-20.20s %-41.41s     %-6.6s %-10.10s %-8.8s %-15.15s\n", "EID", "Host", "Port", "Model",
                   "AvgTime", "Status");
    }
    for (size_t i = 0; i < conf->npeers; i++) {
        const struct peer_conf *p = &conf->peers[i];
        if (p->wildcard)
            continue;
        char eid[EID_STR_LEN], host[80], status[32], avg[20];
        unsigned port;
        int kind, rtt, n;
        addr_host(server_peer_addr(c->s, p), host, sizeof(host), &port);
        peer_status(c->s, p, status, sizeof(status), &kind, &rtt);
        int avgms = peer_avg_ms(c->s, &p->eid, &n);
        counts[kind]++;
        total++;
        eid_to_str(&p->eid, eid);
        if (o->json) {
            cj_obj(o, NULL);
            cj_str(o, "eid", eid);
            if (port)
                cj_str(o, "host", host);
            else
                cj_null(o, "host");
            cj_int(o, "port", port);
            cj_bool(o, "dynamic", p->dynamic);
            cj_str(o, "model", model_name(p->model));
            if (n)
                cj_int(o, "avg_ms", avgms);
            else
                cj_null(o, "avg_ms");
            cj_str(o, "status", status);
            if (rtt > 0)
                cj_int(o, "rtt_ms", rtt);
            else
                cj_null(o, "rtt_ms");
            cj_end(o);
        } else {
            if (n)
                snprintf(avg, sizeof(avg), "%d ms", avgms);
            else
                snprintf(avg, sizeof(avg), "Unavail");
            ctl_printf(o, "%-20.20s %-41.41s %s %-6u %-10.10s %-8.8s %-15.15s\n", eid, host, p->dynamic ? "(D)" : "(S)",
                       port, model_name(p->model), avg, status);
        }
    }
    if (o->json) {
        cj_end(o);
        cj_int(o, "total", total);
        cj_int(o, "online", counts[0]);
        cj_int(o, "offline", counts[1]);
        cj_int(o, "unmonitored", counts[2]);
        cj_end(o);
    } else {
        ctl_printf(o, "%d dundi peers [%d online, %d offline, %d unmonitored]\n", total, counts[0], counts[1],
                   counts[2]);
    }
    return CTL_DONE;
}

static void rules_out(struct ctl_out *o, const char *key, const struct rulelist *l, const char *yes,
                      const char *no)
{
    if (o->json) {
        cj_arr(o, key);
        for (size_t i = 0; i < l->n; i++) {
            cj_obj(o, NULL);
            cj_str(o, "rule", l->v[i].allow ? yes : no);
            cj_str(o, "context", l->v[i].name);
            cj_end(o);
        }
        cj_end(o);
        return;
    }
    for (size_t i = 0; i < l->n; i++)
        ctl_printf(o, "-- %s %s\n", l->v[i].allow ? yes : no, l->v[i].name);
}

enum ctl_status show_peer(struct ctl_call *c, int argc, char **argv)
{
    struct ctl_out *o = &c->out;
    eid_t e;
    (void)argc;
    if (eid_parse(&e, argv[0]) < 0) {
        ctl_fail(c, "'%s' is not an EID like 00:11:22:33:44:55", argv[0]);
        return CTL_DONE;
    }
    const struct peer_conf *p = config_find_peer(c->s->conf, &e);
    if (!p || p->wildcard) {
        ctl_fail(c, "No such peer '%s'", argv[0]);
        return CTL_DONE;
    }
    const struct peer_state *ps = server_find_peer_state(c->s, &p->eid);
    char eid[EID_STR_LEN], host[80], status[32];
    unsigned port;
    int kind, rtt, n;
    addr_host(server_peer_addr(c->s, p), host, sizeof(host), &port);
    peer_status(c->s, p, status, sizeof(status), &kind, &rtt);
    int avg = peer_avg_ms(c->s, &p->eid, &n);
    eid_to_str(&p->eid, eid);
    if (o->json) {
        cj_obj(o, NULL);
        cj_str(o, "eid", eid);
        cj_str(o, "model", model_name(p->model));
        cj_str(o, "precache_model", model_name(p->pcmodel));
        cj_str(o, "order", order_name(p->order));
        if (port)
            cj_str(o, "host", host);
        else
            cj_null(o, "host");
        cj_int(o, "port", port);
        cj_bool(o, "dynamic", p->dynamic);
        cj_bool(o, "register", p->reg);
        cj_str(o, "inkey", p->inkey);
        cj_str(o, "outkey", p->outkey);
        cj_str(o, "status", status);
        cj_int(o, "qualify_ms", p->qualify_ms);
        bool debug = c->s->debug_all;
        for (unsigned i = 0; i < c->s->ndebug; i++)
            debug |= eid_equal(&c->s->debug_peers[i], &p->eid);
        cj_bool(o, "debug", debug);
        rules_out(o, "include", &p->include, "include", "noinclude");
        rules_out(o, "permit", &p->permit, "permit", "deny");
        cj_arr(o, "history");
        for (int i = 0; ps && i < PEER_HISTORY; i++)
            if (ps->history[i].what[0]) {
                cj_obj(o, NULL);
                cj_str(o, "lookup", ps->history[i].what);
                cj_int(o, "ms", ps->history[i].ms);
                cj_end(o);
            }
        cj_end(o);
        if (n)
            cj_int(o, "avg_ms", avg);
        else
            cj_null(o, "avg_ms");
        cj_end(o);
        return CTL_DONE;
    }
    ctl_printf(o, "Peer:    %s\n", eid);
    ctl_printf(o, "Model:   %s\n", model_name(p->model));
    ctl_printf(o, "Order:   %s\n", order_name(p->order));
    ctl_printf(o, "Host:    %s\n", port ? host : "<Unspecified>");
    ctl_printf(o, "Port:    %u\n", port);
    ctl_printf(o, "Dynamic: %s\n", p->dynamic ? "yes" : "no");
    ctl_printf(o, "Reg:     %s\n", p->reg ? "Yes" : "No");
    ctl_printf(o, "In Key:  %s\n", p->inkey[0] ? p->inkey : "<None>");
    ctl_printf(o, "Out Key: %s\n", p->outkey[0] ? p->outkey : "<None>");
    ctl_printf(o, "Status:  %s\n", status);
    if (p->include.n)
        ctl_printf(o, "Include logic%s:\n", p->model & MODEL_OUTBOUND ? "" : " (IGNORED)");
    rules_out(o, NULL, &p->include, "include", "do not include");
    if (p->permit.n)
        ctl_printf(o, "Query logic%s:\n", p->model & MODEL_INBOUND ? "" : " (IGNORED)");
    rules_out(o, NULL, &p->permit, "permit", "deny");
    if (n) {
        ctl_printf(o, "Last few query times:\n");
        for (int i = 0, k = 0; i < PEER_HISTORY; i++)
            if (ps->history[i].what[0])
                ctl_printf(o, "-- %d. %s (%d ms)\n", ++k, ps->history[i].what, ps->history[i].ms);
        ctl_printf(o, "Average query time: %d ms\n", avg);
    }
    return CTL_DONE;
}

enum ctl_status show_trans(struct ctl_call *c, int argc, char **argv)
{
    struct ctl_out *o = &c->out;
    (void)argc;
    (void)argv;
    if (o->json) {
        cj_obj(o, NULL);
        cj_arr(o, "transactions");
    } else {
        ctl_printf(o, "%-46.46s %-5.5s %-5.5s %-3.3s %-3.3s %-3.3s\n", "Remote", "Src", "Dst", "Tx", "Rx", "Ack");
    }
    unsigned n = 0;
    for (const struct trans *t = c->s->eng->all; t; t = t->next_all) {
        char host[80];
        unsigned port;
        if (t->dead)
            continue;
        addr_host(&t->addr, host, sizeof(host), &port);
        n++;
        if (o->json) {
            cj_obj(o, NULL);
            cj_str(o, "host", host);
            cj_int(o, "port", port);
            cj_int(o, "src", t->id);
            cj_int(o, "dst", t->remote_id);
            cj_int(o, "tx", t->oseqno);
            cj_int(o, "rx", t->iseqno);
            cj_int(o, "ack", t->acked_iseqno);
            cj_bool(o, "encrypted", t->encrypted);
            cj_end(o);
        } else {
            ctl_printf(o, "%-40.40s:%5u %-5u %-5u %-3u %-3u %-3u\n", host, port, t->id, t->remote_id, t->oseqno,
                       t->iseqno, t->acked_iseqno);
        }
    }
    if (o->json) {
        cj_end(o);
        cj_int(o, "count", n);
        cj_end(o);
    } else {
        ctl_printf(o, "%u transactions\n", n);
    }
    return CTL_DONE;
}

struct cache_walk {
    struct ctl_out *o;
    unsigned n;
};

static void cache_entry(void *ctx, const struct cache_view *v)
{
    struct cache_walk *w = ctx;
    struct ctl_out *o = w->o;
    char eid[EID_STR_LEN], fl[160], key[256];
    struct dundi_answer a;
    if (v->kind != 'e' || !v->n_answers) /* as the reference: e keys, entries with answers */
        return;
    w->n++;
    if (o->json) {
        cj_obj(o, NULL);
        cj_str(o, "number", v->number);
        cj_str(o, "context", v->context);
        cj_int(o, "expires_in", v->expires_in);
        cj_str(o, "peer", eid_to_str(&v->peer, eid));
        cj_str(o, "key", cache_view_key(v, key, sizeof(key)));
        cj_arr(o, "answers");
        for (unsigned i = 0; i < v->n_answers; i++) {
            cache_view_answer(v, i, &a);
            cj_obj(o, NULL);
            cj_str(o, "eid", eid_to_str(&a.eid, eid));
            cj_int(o, "weight", a.weight);
            cj_str(o, "tech", dundi_proto_name(a.proto));
            cj_str(o, "dest", a.dest);
            cj_str(o, "flags", dundi_flags_str(a.flags, fl, sizeof(fl)));
            cj_end(o);
        }
        cj_end(o);
        cj_end(o);
        return;
    }
    cache_view_answer(v, 0, &a);
    ctl_printf(o, "%-20.20s %-12.12s %-10" PRId64 " %-18s %-7u %s/%s (%s)\n", v->number, v->context, v->expires_in,
               eid_to_str(&a.eid, eid), a.weight, dundi_proto_name(a.proto), a.dest,
               dundi_flags_str(a.flags, fl, sizeof(fl)));
}

enum ctl_status show_cache(struct ctl_call *c, int argc, char **argv)
{
    struct ctl_out *o = &c->out;
    struct cache_walk w = {o, 0};
    (void)argc;
    (void)argv;
    if (o->json) {
        cj_obj(o, NULL);
        cj_arr(o, "entries");
    } else {
        ctl_printf(o, "%-20.20s %-12.12s %-10.10s %-18s %-7s %s\n", "Number", "Context", "Expiration", "From",
                   "Weight", "Destination (Flags)");
    }
    cache_foreach(c->s->cache, clock_wall_s(), cache_entry, &w);
    if (o->json) {
        cj_end(o);
        cj_int(o, "count", w.n);
        cj_int(o, "keys", (long long)cache_count(c->s->cache));
        cj_int(o, "max", (long long)cache_max(c->s->cache));
        cj_end(o);
    } else {
        ctl_printf(o, "Number of entries: %u\n", w.n);
    }
    return CTL_DONE;
}

static void hint_entry(void *ctx, const struct cache_view *v)
{
    struct cache_walk *w = ctx;
    struct ctl_out *o = w->o;
    char eid[EID_STR_LEN];
    if (v->kind != 'e')
        return;
    w->n++;
    if (o->json) {
        cj_obj(o, NULL);
        cj_str(o, "prefix", v->number);
        cj_str(o, "context", v->context);
        cj_int(o, "expires_in", v->expires_in);
        cj_str(o, "peer", eid_to_str(&v->peer, eid));
        cj_end(o);
        return;
    }
    ctl_printf(o, "%-20.20s %-12.12s %-10" PRId64 " %s\n", v->number, v->context, v->expires_in,
               eid_to_str(&v->peer, eid));
}

enum ctl_status show_hints(struct ctl_call *c, int argc, char **argv)
{
    struct ctl_out *o = &c->out;
    struct cache_walk w = {o, 0};
    (void)argc;
    (void)argv;
    if (o->json) {
        cj_obj(o, NULL);
        cj_arr(o, "hints");
    } else {
        ctl_printf(o, "%-20.20s %-12.12s %-10.10s %s\n", "Prefix", "Context", "Expiration", "From");
    }
    cache_foreach_hint(c->s->cache, clock_wall_s(), hint_entry, &w);
    if (o->json) {
        cj_end(o);
        cj_int(o, "count", w.n);
        cj_end(o);
    } else {
        ctl_printf(o, "Number of entries: %u\n", w.n);
    }
    return CTL_DONE;
}

static char *options_str(unsigned opts, char *buf, size_t len)
{
    uint16_t wire = (uint16_t)(opts & 0xffffu);
    if (wire)
        dundi_flags_str(wire, buf, len);
    else
        snprintf(buf, len, "%s", opts & MAP_OPT_NOPARTIAL ? "" : "NONE");
    if (opts & MAP_OPT_NOPARTIAL) {
        size_t n = strlen(buf);
        snprintf(buf + n, len - n, "%sNOPARTIAL", n ? "|" : "");
    }
    return buf;
}

enum ctl_status show_mappings(struct ctl_call *c, int argc, char **argv)
{
    const struct config *conf = c->s->conf;
    struct ctl_out *o = &c->out;
    (void)argc;
    (void)argv;
    if (o->json) {
        cj_obj(o, NULL);
        cj_arr(o, "mappings");
    } else {
        ctl_printf(o, "%-12.12s %-7.7s %-12.12s %-10.10s %-5.5s %-25.25s\n", "DUNDi Cntxt", "Weight", "Local Cntxt",
                   "Options", "Tech", "Destination");
    }
    for (size_t i = 0; i < conf->nmaps; i++) {
        const struct mapping *m = &conf->maps[i];
        char w[CONF_STR_MAX], opts[200];
        if (m->weight_expr[0])
            snprintf(w, sizeof(w), "%s", m->weight_expr);
        else
            snprintf(w, sizeof(w), "%d", m->weight);
        options_str(m->options, opts, sizeof(opts));
        if (o->json) {
            cj_obj(o, NULL);
            cj_str(o, "context", m->dcontext);
            if (m->weight_expr[0])
                cj_str(o, "weight", m->weight_expr);
            else
                cj_int(o, "weight", m->weight);
            if (m->lcontext[0])
                cj_str(o, "local_context", m->lcontext);
            else
                cj_null(o, "local_context");
            cj_str(o, "options", opts);
            cj_str(o, "tech", dundi_proto_name((uint8_t)m->proto));
            cj_str(o, "dest", m->dest);
            cj_end(o);
        } else {
            ctl_printf(o, "%-12.12s %-7s %-12.12s %-10.10s %-5.5s %-25.25s\n", m->dcontext, w,
                       m->lcontext[0] ? m->lcontext : "<none>", opts, dundi_proto_name((uint8_t)m->proto), m->dest);
        }
    }
    if (o->json) {
        cj_end(o);
        cj_end(o);
    }
    return CTL_DONE;
}

static void precache_entry(void *ctx, const char *number, const char *context, int64_t due_in_ms)
{
    struct cache_walk *w = ctx;
    struct ctl_out *o = w->o;
    int64_t sec = (due_in_ms + 999) / 1000;
    w->n++;
    if (o->json) {
        cj_obj(o, NULL);
        cj_str(o, "number", number);
        cj_str(o, "context", context);
        cj_int(o, "due_in_ms", due_in_ms);
        cj_end(o);
        return;
    }
    ctl_printf(o, "%-12.12s %-12.12s %02d:%02d:%02d\n", number, context, (int)(sec / 3600), (int)(sec / 60 % 60),
               (int)(sec % 60));
}

enum ctl_status show_precache(struct ctl_call *c, int argc, char **argv)
{
    struct ctl_out *o = &c->out;
    struct cache_walk w = {o, 0};
    (void)argc;
    (void)argv;
    if (o->json) {
        cj_obj(o, NULL);
        cj_arr(o, "precache");
    } else {
        ctl_printf(o, "%-12.12s %-12.12s %-10.10s\n", "Number", "Context", "Expiration");
    }
    precache_foreach(c->s, precache_entry, &w);
    if (o->json) {
        cj_end(o);
        cj_int(o, "count", w.n);
        cj_end(o);
    }
    return CTL_DONE;
}

static void request_entry(void *ctx, const struct lookup_view *v)
{
    struct cache_walk *w = ctx;
    struct ctl_out *o = w->o;
    char eid[EID_STR_LEN];
    w->n++;
    if (o->json) {
        cj_obj(o, NULL);
        cj_str(o, "number", v->number);
        cj_str(o, "context", v->context);
        if (v->has_root)
            cj_str(o, "root", eid_to_str(&v->root, eid));
        else
            cj_null(o, "root");
        cj_int(o, "max", v->max);
        cj_int(o, "answers", v->answers);
        cj_int(o, "asked", v->asked);
        cj_int(o, "waiting", v->waiting);
        cj_end(o);
        return;
    }
    ctl_printf(o, "%-15s %-15s %-18s %-3u %-3u\n", v->number, v->context,
               v->has_root ? eid_to_str(&v->root, eid) : "<unspecified>", v->max, v->answers);
}

enum ctl_status show_requests(struct ctl_call *c, int argc, char **argv)
{
    struct ctl_out *o = &c->out;
    struct cache_walk w = {o, 0};
    (void)argc;
    (void)argv;
    if (o->json) {
        cj_obj(o, NULL);
        cj_arr(o, "requests");
    } else {
        ctl_printf(o, "%-15s %-15s %-18s %-3.3s %-3.3s\n", "Number", "Context", "Root", "Max", "Rsp");
    }
    lookup_foreach(c->s, request_entry, &w);
    if (o->json) {
        cj_end(o);
        cj_int(o, "count", w.n);
        cj_end(o);
    }
    return CTL_DONE;
}

enum ctl_status show_entityid(struct ctl_call *c, int argc, char **argv)
{
    char eid[EID_STR_LEN];
    (void)argc;
    (void)argv;
    eid_to_str(&c->s->conf->eid, eid);
    if (c->out.json) {
        cj_obj(&c->out, NULL);
        cj_str(&c->out, "eid", eid);
        cj_end(&c->out);
    } else {
        ctl_printf(&c->out, "Global EID for this system is '%s'\n", eid);
    }
    return CTL_DONE;
}

enum ctl_status show_realtime(struct ctl_call *c, int argc, char **argv)
{
    struct ctl_out *o = &c->out;
    struct realtime_status st = {.state = RT_OFF};
    (void)argc;
    (void)argv;
    if (c->s->realtime)
        realtime_get_status(c->s->realtime, &st);
    if (st.state == RT_OFF) {
        if (o->json) {
            cj_obj(o, NULL);
            cj_bool(o, "configured", false);
            cj_end(o);
        } else {
            ctl_printf(o, "realtime: not configured\n");
        }
        return CTL_DONE;
    }
    int64_t now = clock_wall_s();
    const struct {
        const char *name;
        uint64_t val;
    } rows[] = {
        {"connects", st.connects},           {"losses", st.losses},
        {"polls", st.polls},                 {"full_loads", st.full_loads},
        {"rechecks", st.rechecks},           {"rows", st.rows},
        {"rows_applied", st.rows_applied},   {"rows_unregistered", st.rows_unregistered},
        {"rows_bad", st.rows_bad},           {"rows_no_registrar", st.rows_no_registrar},
        {"stale_removed", st.stale_removed}, {"jobs_dropped", st.jobs_dropped},
        {"ondemand_asked", st.ondemand_asked}, {"ondemand_answered", st.ondemand_answered},
        {"ondemand_timeouts", st.ondemand_timeouts}, {"ondemand_skipped", st.ondemand_skipped},
        {"last_query_ms", st.last_query_ms}, {"max_query_ms", st.max_query_ms},
    };
    if (o->json) {
        cj_obj(o, NULL);
        cj_bool(o, "configured", true);
        cj_str(o, "state", realtime_state_name(st.state));
        cj_bool(o, "connected", st.connected);
        cj_str(o, "last_error", st.last_error);
        if (st.connected_since)
            cj_int(o, "connected_for_s", now - st.connected_since);
        else
            cj_null(o, "connected_for_s");
        if (st.last_poll)
            cj_int(o, "last_poll_s_ago", now - st.last_poll);
        else
            cj_null(o, "last_poll_s_ago");
        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
            cj_int(o, rows[i].name, (long long)rows[i].val);
        cj_end(o);
        return CTL_DONE;
    }
    ctl_printf(o, "realtime: %s", realtime_state_name(st.state));
    if (st.connected_since)
        ctl_printf(o, " for %" PRId64 " s", now - st.connected_since);
    ctl_printf(o, "\n");
    if (st.last_error[0])
        ctl_printf(o, "last error: %s\n", st.last_error);
    if (st.last_poll)
        ctl_printf(o, "last poll: %" PRId64 " s ago\n", now - st.last_poll);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        ctl_printf(o, "%-18s %" PRIu64 "\n", rows[i].name, rows[i].val);
    return CTL_DONE;
}

enum ctl_status show_stats(struct ctl_call *c, int argc, char **argv)
{
    const struct server *s = c->s;
    const struct trans_stats *t = &s->eng->stats;
    const struct server_stats *v = &s->stats;
    const struct cache_stats *cs = cache_stats(s->cache);
    (void)argc;
    (void)argv;
    const struct {
        const char *name;
        uint64_t val;
    } rows[] = {
        {"rx", t->rx},
        {"tx", t->tx},
        {"rx_bytes", t->rx_bytes},
        {"tx_bytes", t->tx_bytes},
        {"malformed", t->rx_malformed},
        {"unknown_trans", t->rx_unknown},
        {"invalid_sent", t->tx_invalid},
        {"duplicates", t->rx_duplicate},
        {"out_of_window", t->rx_out_of_window},
        {"retransmits", t->tx_retransmit},
        {"timeouts", t->timeouts},
        {"autokilled", t->autokilled},
        {"idle_ended", t->idle_ended},
        {"refused_full", t->refused_full},
        {"requests", v->requests},
        {"answered", v->answered},
        {"refused", v->refused},
        {"ies_malformed", v->ies_malformed},
        {"encrej", v->encrej_sent},
        {"crypto_rejected", v->crypto_rejected},
        {"registrations", v->registrations},
        {"live_trans", s->eng->count},
        {"cache_keys", cache_count(s->cache)},
        {"cache_hits", cs->hits},
        {"cache_misses", cs->misses},
        {"cache_saves", cs->saves},
        {"cache_evictions", cs->evictions},
        {"cache_expired", cs->expired},
    };
    if (c->out.json)
        cj_obj(&c->out, NULL);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        if (c->out.json)
            cj_int(&c->out, rows[i].name, (long long)rows[i].val);
        else
            ctl_printf(&c->out, "%-16s %" PRIu64 "\n", rows[i].name, rows[i].val);
    }
    if (c->out.json)
        cj_end(&c->out);
    return CTL_DONE;
}
