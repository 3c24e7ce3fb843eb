/* "show peers", "show peer" and "show trans": Asterisk-like tables, or JSON. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dundid/ctl_cmds.h"
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
    enum peer_reach r = peer_reach(s, p, rtt);
    peer_reach_text(r, *rtt, buf, len);
    *kind = r == PEER_UNMONITORED ? 2 : r == PEER_OK ? 0 : 1;
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

/* Asterisk's filters of "show peers": "registered" keeps the peers whose
 * address is known; "include TEXT", "exclude TEXT" and "begin TEXT" keep
 * the rows that contain, lack or start with TEXT (begin ignores case). */
struct peer_filter {
    bool registered;
    char how; /* 0, 'i', 'x' or 'b' */
    const char *text;
};

static int parse_filter(struct ctl_call *c, int argc, char **argv, struct peer_filter *f)
{
    static const char usage[] = "usage: show peers [registered|include TEXT|exclude TEXT|begin TEXT]";
    *f = (struct peer_filter){0};
    if (argc == 1 && !strcasecmp(argv[0], "registered")) {
        f->registered = true;
    } else if (argc == 2 && !strcasecmp(argv[0], "include")) {
        f->how = 'i';
    } else if (argc == 2 && !strcasecmp(argv[0], "exclude")) {
        f->how = 'x';
    } else if (argc == 2 && !strcasecmp(argv[0], "begin")) {
        f->how = 'b';
    } else if (argc) {
        ctl_fail(c, usage);
        return -1;
    }
    f->text = argc == 2 ? argv[1] : NULL;
    return 0;
}

static bool filter_keeps(const struct peer_filter *f, const char *row)
{
    switch (f->how) {
    case 'i': return strstr(row, f->text) != NULL;
    case 'x': return strstr(row, f->text) == NULL;
    case 'b': return !strncasecmp(row, f->text, strlen(f->text));
    default: return true;
    }
}

enum ctl_status show_peers(struct ctl_call *c, int argc, char **argv)
{
    struct ctl_out *o = &c->out;
    int counts[3] = {0, 0, 0}, total = 0;
    struct peer_filter f;
    if (parse_filter(c, argc, argv, &f) < 0)
        return CTL_DONE;
    if (o->json) {
        cj_obj(o, NULL);
        cj_arr(o, "peers");
    } else {
        ctl_printf(o, "%-20.20s %-41.41s     %-6.6s %-10.10s %-8.8s %-15.15s\n", "EID", "Host", "Port", "Model",
                   "AvgTime", "Status");
    }
    /* The configured peers, then the [*] clones (peers that registered
     * under [*]): both are in server_peer_at(). */
    for (size_t i = 0; i < server_peer_count(c->s); i++) {
        const struct peer_conf *p = server_peer_at(c->s, i);
        if (p->wildcard)
            continue;
        const struct dundi_addr *addr = server_peer_addr(c->s, p);
        if (f.registered && !addr)
            continue;
        char eid[EID_STR_LEN], host[80], status[32], avg[20], row[256];
        unsigned port;
        int kind, rtt, n;
        addr_host(addr, host, sizeof(host), &port);
        peer_status(c->s, p, status, sizeof(status), &kind, &rtt);
        int avgms = peer_avg_ms(c->s, &p->eid, &n);
        eid_to_str(&p->eid, eid);
        if (n)
            snprintf(avg, sizeof(avg), "%d ms", avgms);
        else
            snprintf(avg, sizeof(avg), "Unavail");
        snprintf(row, sizeof(row), "%-20.20s %-41.41s %s %-6u %-10.10s %-8.8s %-15.15s\n", eid, host,
                 p->dynamic ? "(D)" : "(S)", port, model_name(p->model), avg, status);
        if (!filter_keeps(&f, row))
            continue;
        counts[kind]++;
        total++;
        if (o->json) {
            cj_obj(o, NULL);
            cj_str(o, "eid", eid);
            if (port)
                cj_str(o, "host", host);
            else
                cj_null(o, "host");
            cj_int(o, "port", port);
            cj_bool(o, "dynamic", p->dynamic);
            cj_bool(o, "cloned", p->cloned);
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
            ctl_printf(o, "%s", row);
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
    const struct peer_conf *p = server_find_peer(c->s, &e);
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
        cj_bool(o, "cloned", p->cloned);
        cj_bool(o, "register", p->reg);
        cj_str(o, "inkey", p->inkey);
        cj_str(o, "outkey", p->outkey);
        cj_str(o, "status", status);
        cj_int(o, "qualify_ms", p->qualify_ms);
        bool debug = server_debugging_all(c->s) || server_debugging_peer(c->s, &p->eid);
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
    if (p->cloned)
        ctl_printf(o, "Cloned:  yes, from [*] when it registered\n");
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
    for (const struct trans *t = server_engine(c->s)->all; t; t = t->next_all) {
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
