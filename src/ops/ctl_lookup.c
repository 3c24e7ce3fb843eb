/* lookup, query and precache: commands that ask the DUNDi network. A lookup
 * runs on the event loop; the client waits for the answer, the loop does not. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dundid/ctl_cmds.h"
#include "dundid/clock.h"
#include "dundid/eidquery.h"
#include "dundid/lookup.h"
#include "dundid/mapping.h"
#include "dundid/precache.h"
#include "dundid/server.h"

struct ctl_lookup {
    struct ctl_call *c;
    struct lookup *lk;
    char number[DUNDI_MAX_NUMBER + 1], context[DUNDI_MAX_NUMBER + 1];
    uint64_t start_ms;
    struct local_result lr;
    struct lookup_result fr;
    bool has_fr;
    struct row {
        const struct dundi_answer *a;
        int expires;
    } rows[DUNDI_MAX_ANSWERS + CACHE_MAX_RESULTS]; /* print_result's sorting space */
};

static int by_weight(const void *x, const void *y)
{
    const struct row *a = x, *b = y;
    if (a->a->weight != b->a->weight)
        return a->a->weight < b->a->weight ? -1 : 1;
    return a < b ? -1 : a > b; /* stable: local answers first */
}

static void print_result(struct ctl_lookup *q)
{
    struct ctl_out *o = &q->c->out;
    const struct config *conf = server_conf(q->c->s);
    struct row *rows = q->rows;
    unsigned n = 0;
    uint16_t hint = q->has_fr ? q->fr.hint_flags : q->lr.hint_flags;
    const char *hint_data = q->has_fr ? q->fr.hint_data : q->lr.hint_data;
    char fl[160], eid[EID_STR_LEN];

    /* Local answers live as long as the cache time, or the first registration behind them. */
    int local_exp = q->lr.expiration < conf->cachetime ? q->lr.expiration : conf->cachetime;
    for (unsigned i = 0; i < q->lr.n; i++)
        rows[n++] = (struct row){&q->lr.answers[i], local_exp};
    for (unsigned i = 0; q->has_fr && i < q->fr.res.n; i++)
        rows[n++] = (struct row){&q->fr.res.answers[i], q->fr.res.expirations[i]};
    qsort(rows, n, sizeof(rows[0]), by_weight);
    if (!(hint & DUNDI_HINT_DONT_ASK))
        hint_data = "";
    long long ms = (long long)(clock_now_ms() - q->start_ms);

    if (o->json) {
        cj_obj(o, NULL);
        cj_str(o, "number", q->number);
        cj_str(o, "context", q->context);
        cj_arr(o, "answers");
        for (unsigned i = 0; i < n; i++) {
            const struct dundi_answer *a = rows[i].a;
            cj_obj(o, NULL);
            cj_int(o, "weight", a->weight);
            cj_str(o, "tech", dundi_proto_name(a->proto));
            cj_str(o, "dest", a->dest);
            cj_str(o, "flags", dundi_flags_str(a->flags, fl, sizeof(fl)));
            cj_str(o, "eid", eid_to_str(&a->eid, eid));
            cj_int(o, "expires", rows[i].expires);
            cj_end(o);
        }
        cj_end(o);
        cj_obj(o, "hint");
        cj_str(o, "flags", dundi_hint_str(hint, fl, sizeof(fl)));
        cj_str(o, "data", hint_data);
        cj_end(o);
        cj_int(o, "asked", q->has_fr ? q->fr.asked : 0);
        cj_int(o, "ms", ms);
        cj_end(o);
        return;
    }
    if (!n)
        ctl_printf(o, "DUNDi lookup returned no results.\n");
    for (unsigned i = 0; i < n; i++) {
        const struct dundi_answer *a = rows[i].a;
        ctl_printf(o, "%3u. %5u %s/%s (%s)\n", i + 1, a->weight, dundi_proto_name(a->proto), a->dest,
                   dundi_flags_str(a->flags, fl, sizeof(fl)));
        ctl_printf(o, "     from %s, expires in %d s\n", eid_to_str(&a->eid, eid), rows[i].expires);
    }
    if (hint || hint_data[0])
        ctl_printf(o, "hint: %s%s%s\n", dundi_hint_str(hint, fl, sizeof(fl)), hint_data[0] ? " " : "", hint_data);
    ctl_printf(o, "DUNDi lookup completed in %lld ms\n", ms);
}

static void cancel_lookup(struct ctl_call *c)
{
    struct ctl_lookup *q = c->pending;
    lookup_abandon(q->lk);
    free(q);
    c->pending = NULL;
}

static void on_lookup_done(void *ctx, const struct lookup_result *r)
{
    struct ctl_lookup *q = ctx;
    q->fr = *r;
    q->has_fr = true;
    q->lk = NULL;
    struct ctl_call *c = q->c;
    print_result(q);
    free(q);
    c->pending = NULL;
    ctl_call_done(c);
}

enum ctl_status cmd_lookup(struct ctl_call *c, int argc, char **argv)
{
    struct server *s = c->s;
    const struct config *conf = server_conf(s);
    bool bypass = false;
    if (argc == 2) {
        if (strcasecmp(argv[1], "bypass")) {
            ctl_fail(c, "usage: lookup NUMBER[@CONTEXT] [bypass]");
            return CTL_DONE;
        }
        bypass = true;
    }
    struct ctl_lookup *q = calloc(1, sizeof(*q));
    if (!q) {
        ctl_fail(c, "out of memory");
        return CTL_DONE;
    }
    if (ctl_split_at(c, argv[0], q->number, q->context, sizeof(q->number)) < 0) {
        free(q);
        return CTL_DONE;
    }
    q->c = c;
    q->start_ms = clock_now_ms();

    /* Our own answers first, as for a DPDISCOVER from a peer. */
    struct answer_vars v = {q->number, &conf->eid, server_secret(s), conf->ipaddr, server_regtable(s), clock_wall_s(), NULL};
    mapping_answer(conf, q->context, &v, &q->lr);
    bool canonical = false;
    for (unsigned i = 0; i < q->lr.n; i++)
        canonical |= q->lr.answers[i].weight == 0;
    if (canonical) { /* a weight-0 answer settles it: nobody is asked */
        print_result(q);
        free(q);
        return CTL_DONE;
    }
    struct lookup_request *rq = calloc(1, sizeof(*rq));
    if (rq) {
        snprintf(rq->number, sizeof(rq->number), "%s", q->number);
        snprintf(rq->context, sizeof(rq->context), "%s", q->context);
        rq->ttl = conf->ttl;
        rq->bypass = bypass;
        rq->hint_flags = q->lr.hint_flags;
        memcpy(rq->hint_data, q->lr.hint_data, sizeof(rq->hint_data));
        q->lk = lookup_start(s, rq, on_lookup_done, q);
        free(rq);
    }
    if (!q->lk) {
        ctl_fail(c, "out of memory");
        free(q);
        return CTL_DONE;
    }
    c->pending = q;
    c->cancel = cancel_lookup;
    return CTL_PENDING;
}

struct ctl_query {
    struct ctl_call *c;
    struct eid_query *q;
    eid_t target;
    char context[DUNDI_MAX_NUMBER + 1];
    struct eid_info info;
};

static void print_entity(struct ctl_out *o, const eid_t *e, const char *context, const struct eid_info *r)
{
    const struct {
        const char *label, *key, *val;
    } f[] = {
        {"Department:      ", "department", r->department},
        {"Organization:    ", "organization", r->organization},
        {"City/Locality:   ", "locality", r->locality},
        {"State/Province:  ", "stateprov", r->stateprov},
        {"Country:         ", "country", r->country},
        {"E-mail:          ", "email", r->email},
        {"Phone:           ", "phone", r->phone},
        {"IP Address:      ", "ipaddr", r->ipaddr},
    };
    char es[EID_STR_LEN];
    if (o->json) {
        cj_obj(o, NULL);
        cj_str(o, "eid", eid_to_str(e, es));
        cj_str(o, "context", context);
        cj_bool(o, "found", r->found);
        if (r->found) {
            cj_str(o, "from", eid_to_str(&r->from, es));
            for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
                cj_str(o, f[i].key, f[i].val);
        }
        cj_int(o, "asked", r->asked);
        cj_end(o);
        return;
    }
    if (!r->found) {
        ctl_printf(o, "DUNDi Query EID returned no results.\n");
        return;
    }
    ctl_printf(o, "DUNDi Query EID succeeded:\n");
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
        ctl_printf(o, "%s%s\n", f[i].label, f[i].val);
}

static void cancel_query(struct ctl_call *c)
{
    struct ctl_query *q = c->pending;
    eid_query_abandon(q->q);
    free(q);
    c->pending = NULL;
}

static void on_query_done(void *ctx, const struct eid_info *r)
{
    struct ctl_query *q = ctx;
    q->info = *r;
    q->q = NULL;
    struct ctl_call *c = q->c;
    print_entity(&c->out, &q->target, q->context, &q->info);
    free(q);
    c->pending = NULL;
    ctl_call_done(c);
}

enum ctl_status cmd_query(struct ctl_call *c, int argc, char **argv)
{
    const struct config *conf = server_conf(c->s);
    char eidtext[CTL_WORD_MAX + 1];
    (void)argc;
    struct ctl_query *q = calloc(1, sizeof(*q));
    if (!q) {
        ctl_fail(c, "out of memory");
        return CTL_DONE;
    }
    if (ctl_split_at(c, argv[0], eidtext, q->context, sizeof(q->context)) < 0 || eid_parse(&q->target, eidtext) < 0) {
        if (c->ok)
            ctl_fail(c, "'%s' is not a valid EID!", eidtext);
        free(q);
        return CTL_DONE;
    }
    q->c = c;
    /* Our own entity is answered from the file, as an EIDQUERY for us would be. */
    if (eid_equal(&q->target, &conf->eid)) {
        struct eid_info *r = &q->info;
        r->found = true;
        r->from = conf->eid;
        snprintf(r->department, sizeof(r->department), "%s", conf->department);
        snprintf(r->organization, sizeof(r->organization), "%s", conf->organization);
        snprintf(r->locality, sizeof(r->locality), "%s", conf->locality);
        snprintf(r->stateprov, sizeof(r->stateprov), "%s", conf->stateprov);
        snprintf(r->country, sizeof(r->country), "%s", conf->country);
        snprintf(r->email, sizeof(r->email), "%s", conf->email);
        snprintf(r->phone, sizeof(r->phone), "%s", conf->phone);
        snprintf(r->ipaddr, sizeof(r->ipaddr), "%s", conf->ipaddr);
        print_entity(&c->out, &q->target, q->context, r);
        free(q);
        return CTL_DONE;
    }
    q->q = eid_query_start(c->s, &q->target, q->context, 0, NULL, 0, on_query_done, q);
    if (!q->q) {
        ctl_fail(c, "out of memory");
        free(q);
        return CTL_DONE;
    }
    c->pending = q;
    c->cancel = cancel_query;
    return CTL_PENDING;
}

enum ctl_status cmd_precache(struct ctl_call *c, int argc, char **argv)
{
    char number[DUNDI_MAX_NUMBER + 1], context[DUNDI_MAX_NUMBER + 1];
    (void)argc;
    if (ctl_split_at(c, argv[0], number, context, sizeof(number)) < 0)
        return CTL_DONE;
    if (!config_has_dcontext(server_conf(c->s), context)) {
        ctl_fail(c, "no mapping for DUNDi context '%s'", context);
        return CTL_DONE;
    }
    unsigned n = precache_push_context(c->s, number, context, server_conf(c->s)->ttl, NULL, 0, false);
    if (c->out.json) {
        cj_obj(&c->out, NULL);
        cj_str(&c->out, "number", number);
        cj_str(&c->out, "context", context);
        cj_int(&c->out, "peers", n);
        cj_end(&c->out);
    } else {
        ctl_printf(&c->out, "DUNDi precache of %s@%s pushed to %u peer(s)\n", number, context, n);
    }
    return CTL_DONE;
}
