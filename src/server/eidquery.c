/* EID queries towards peers (7.6): one EIDQUERY per usable outbound peer,
 * all orders at once; the first EIDRESPONSE with an ORGANIZATION ends it. */
#include "dundid/eidquery.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dundid/clock.h"
#include "dundid/fanout.h"
#include "dundid/log.h"
#include "dundid/outreq.h"
#include "dundid/server_impl.h"

struct eid_query {
    struct server *s;
    struct eid_query *next, **pprev;
    eid_t target;
    char context[DUNDI_MAX_NUMBER + 1];
    unsigned navoid;
    eid_t avoid[DUNDI_MAX_EIDS];
    struct fanout ask;
    eid_query_done_fn done;
    void *ctx;
    struct eid_info r;
    eid_t path[DUNDI_MAX_EIDS]; /* scratch of build_request */
};

static void finish(struct eid_query *q, bool report)
{
    fanout_stop(&q->ask); /* the rest need not go on: they get a CANCEL */
    if (q->pprev) {
        *q->pprev = q->next;
        if (q->next)
            q->next->pprev = q->pprev;
    }
    if (report && q->done)
        q->done(q->ctx, &q->r);
    free(q);
}

static void on_finish(void *arg) { finish(arg, true); }

void eid_query_abandon(struct eid_query *q)
{
    if (q)
        finish(q, false);
}

void eid_query_abandon_all(struct server *s)
{
    while (s->eidqueries)
        finish(s->eidqueries, true);
}

/* Cut at 79 characters, as the reference's 80-byte fields. */
static void copy_field(char *dst, const char *src)
{
    size_t n = strnlen(src, EID_INFO_MAX);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void take_answer(struct eid_query *q, const struct dundi_addr *from, const eid_t *peer, const struct dundi_ies *ie)
{
    if (ie->has_hint)
        q->r.hint_flags |= ie->hint_flags & DUNDI_HINT_TTL_EXPIRED;
    if (!ie->has_organization || q->r.found)
        return;
    q->r.found = true;
    q->r.from = *peer;
    copy_field(q->r.department, ie->department);
    copy_field(q->r.organization, ie->organization);
    copy_field(q->r.locality, ie->locality);
    copy_field(q->r.stateprov, ie->stateprov);
    copy_field(q->r.country, ie->country);
    copy_field(q->r.email, ie->email);
    copy_field(q->r.phone, ie->phone);
    copy_field(q->r.ipaddr, ie->ipaddr);
    /* The node itself answered: where it answered from is its address (7.6). */
    if (eid_equal(peer, &q->target)) {
        dundi_addr_ip_str(from, q->r.ipaddr, sizeof(q->r.ipaddr));
    }
}

static void on_reply(void *ctx, struct outreq *r, const struct dundi_ies *ie)
{
    struct eid_query *q = ctx;
    if (ie->cause >= 1 || q->r.found)
        return;
    take_answer(q, outreq_addr(r), outreq_peer(r), ie);
    if (q->r.found) /* the first answer is the answer */
        fanout_finish_soon(&q->ask);
}

static void on_end(void *ctx, struct outreq *r, enum outreq_end why)
{
    struct eid_query *q = ctx;
    (void)why;
    fanout_ended(&q->ask, r);
}

static const struct outreq_ops ask_ops = {on_reply, on_end};

static bool in_avoid(const struct eid_query *q, const eid_t *e)
{
    for (unsigned i = 0; i < q->navoid; i++)
        if (eid_equal(&q->avoid[i], e))
            return true;
    return false;
}

/* Path list of 4.2, every entry as plain EID: the avoid list without its
 * root, the other peers asked, then the root (or us when we start it). */
static void build_request(struct eid_query *q, const struct peer_conf **chosen, unsigned nchosen, unsigned me,
                          const eid_t *us, int ttl, struct dundi_ieb *b)
{
    eid_t *list = q->path;
    unsigned n = 0;
    eid_t tail = q->navoid ? q->avoid[q->navoid - 1] : *us;
    bool added = false;

    if (q->navoid) {
        n = q->navoid - 1;
        memcpy(list, q->avoid, n * sizeof(eid_t));
    }
    for (unsigned i = 0; i < nchosen && n < DUNDI_MAX_EIDS - 1; i++) {
        bool dup = i == me || eid_equal(&chosen[i]->eid, &tail);
        for (unsigned k = 0; k < n && !dup; k++)
            dup = eid_equal(&list[k], &chosen[i]->eid);
        if (!dup) {
            list[n++] = chosen[i]->eid;
            added = true;
        }
    }
    if (q->navoid || added)
        list[n++] = tail;
    dundi_ieb_init(b, 0);
    dundi_ie_put_u16(b, DUNDI_IE_VERSION, 1);
    if (!eid_is_zero(us))
        dundi_ie_put_eid(b, DUNDI_IE_EID, us);
    for (unsigned i = 0; i < n; i++)
        dundi_ie_put_eid(b, DUNDI_IE_EID, &list[i]);
    dundi_ie_put_eid(b, DUNDI_IE_REQEID, &q->target);
    dundi_ie_put_str(b, DUNDI_IE_CALLED_CONTEXT, q->context);
    dundi_ie_put_u16(b, DUNDI_IE_TTL, (uint16_t)ttl);
}

static unsigned select_peers(struct server *s, const struct eid_query *q, const struct peer_conf **chosen)
{
    const struct config *c = s->conf;
    unsigned n = 0;
    /* All orders at once (4.8); the rules of 4.1 step 4 otherwise. */
    for (size_t i = server_peer_count(s); i-- > 0 && n < FANOUT_MAX;) {
        const struct peer_conf *p = server_peer_at(s, i);
        const eid_t *us = config_us_eid(c, p);
        if (p->wildcard || !(p->model & MODEL_OUTBOUND) || !rules_allow(&p->include, q->context) ||
            in_avoid(q, &p->eid) || in_avoid(q, us) || (q->navoid && eid_is_zero(us)) || !server_peer_addr(s, p) ||
            !peer_usable(s, p))
            continue;
        chosen[n++] = p;
    }
    return n;
}

struct eid_query *eid_query_start(struct server *s, const eid_t *target, const char *context, int ttl,
                                  const eid_t *avoid, unsigned navoid, eid_query_done_fn done, void *ctx)
{
    struct eid_query *q = calloc(1, sizeof(*q));
    if (!q)
        return NULL;
    q->s = s;
    q->target = *target;
    snprintf(q->context, sizeof(q->context), "%s", context && context[0] ? context : "e164");
    q->navoid = navoid < DUNDI_MAX_EIDS ? navoid : DUNDI_MAX_EIDS;
    if (q->navoid)
        memcpy(q->avoid, avoid, q->navoid * sizeof(eid_t));
    q->done = done;
    q->ctx = ctx;
    fanout_init(&q->ask, &s->loop.tq, on_finish, q);
    q->next = s->eidqueries;
    if (s->eidqueries)
        s->eidqueries->pprev = &q->next;
    s->eidqueries = q;
    q->pprev = &s->eidqueries;
    if (ttl == 0 && !navoid)
        ttl = s->conf->ttl;
    if (ttl <= 0) {
        q->r.hint_flags |= DUNDI_HINT_TTL_EXPIRED;
        fanout_arm(&q->ask, clock_now_ms());
        return q;
    }
    const struct peer_conf *chosen[FANOUT_MAX];
    unsigned nchosen = select_peers(s, q, chosen);
    struct dundi_ieb *b = &s->scratch->req;
    for (unsigned i = 0; i < nchosen; i++) {
        build_request(q, chosen, nchosen, i, config_us_eid(s->conf, chosen[i]), ttl, b);
        struct outreq *r = outreq_send(s, chosen[i], DUNDI_CMD_EIDQUERY, b, &ask_ops, q);
        if (!r)
            continue;
        if (!fanout_add(&q->ask, r)) {
            outreq_cancel(r);
            continue;
        }
        q->r.asked++;
    }
    fanout_arm(&q->ask, clock_now_ms() + 2000u + 200u * (unsigned)ttl);
    return q;
}
