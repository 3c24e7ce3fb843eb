/* EID queries towards peers (7.6): one EIDQUERY per usable outbound peer,
 * all orders at once; the first EIDRESPONSE with an ORGANIZATION ends it. */
#include "dundid/eidquery.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dundid/clock.h"
#include "dundid/log.h"
#include "dundid/server.h"

#define EQ_MAX_TRANS 64

struct eq_link {
    struct eid_query *q; /* NULL once the query is over */
    eid_t peer;
};

struct eid_query {
    struct server *s;
    struct eid_query *next, **pprev;
    eid_t target;
    char context[DUNDI_MAX_NUMBER + 1];
    unsigned navoid;
    eid_t avoid[DUNDI_MAX_EIDS];
    struct trans *tx[EQ_MAX_TRANS];
    unsigned ntx;
    bool starting;
    struct timer deadline;
    eid_query_done_fn done;
    void *ctx;
    struct eid_info r;
};

static void finish(struct eid_query *q, bool report)
{
    struct server *s = q->s;
    timerq_cancel(&s->loop.tq, &q->deadline);
    if (q->pprev) {
        *q->pprev = q->next;
        if (q->next)
            q->next->pprev = q->pprev;
    }
    for (unsigned i = 0; i < q->ntx; i++) {
        struct trans *t = q->tx[i];
        if (!t)
            continue;
        ((struct eq_link *)t->owner)->q = NULL;
        if (!t->dead) /* the rest need not go on: tell them (their end frees the link) */
            trans_send(t, DUNDI_CMD_CANCEL, true, NULL);
    }
    if (report && q->done)
        q->done(q->ctx, &q->r);
    free(q);
}

static void maybe_done(struct eid_query *q)
{
    if (q->starting)
        return;
    for (unsigned i = 0; i < q->ntx; i++)
        if (q->tx[i])
            return;
    finish(q, true);
}

static void on_deadline(void *arg) { finish(arg, true); }

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

static void take_answer(struct eid_query *q, struct trans *t, const eid_t *peer, const struct dundi_ies *ie)
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
        const struct sockaddr_storage *ss = &t->addr.ss;
        const void *a = ss->ss_family == AF_INET6 ? (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr
                                                   : (const void *)&((const struct sockaddr_in *)ss)->sin_addr;
        if (!inet_ntop(ss->ss_family, a, q->r.ipaddr, sizeof(q->r.ipaddr)))
            q->r.ipaddr[0] = '\0';
    }
}

static void forget(struct eid_query *q, struct trans *t)
{
    for (unsigned i = 0; i < q->ntx; i++)
        if (q->tx[i] == t)
            q->tx[i] = NULL;
}

static void eq_command(struct trans *t, struct dundi_hdr *h, const uint8_t *ies, size_t len)
{
    struct eq_link *l = t->owner;
    struct server *s = t->eng->send_ctx;
    struct dundi_ies *ie = s->ies;
    if (!l)
        return;
    static uint8_t inner[DUNDI_MAX_INNER];
    struct dundi_hdr ih;
    bool was_encrypted = false;
    char eid[EID_STR_LEN];

    if (dundi_ies_decode(ies, len, ie) < 0) {
        s->stats.ies_malformed++;
        return;
    }
    if (dundi_hdr_cmd(h) == DUNDI_CMD_ENCRYPT) {
        if (trans_open_envelope(t, h, ie, inner, &ih, &ies, &len) != CRYPTO_OK || dundi_ies_decode(ies, len, ie) < 0) {
            s->stats.crypto_rejected++;
            return;
        }
        h = &ih;
        was_encrypted = true;
    }
    uint8_t cmd = dundi_hdr_cmd(h);
    if (cmd == DUNDI_CMD_ENCREJ) {
        if (peer_encrej(s, t, &l->peer, h) < 0)
            log_notice("EID query to peer %s: key rejected; giving up", eid_to_str(&l->peer, eid));
        return;
    }
    if (cmd != DUNDI_CMD_EIDRESPONSE) {
        trans_default_command(t, h);
        return;
    }
    struct eid_query *q = l->q;
    /* A keyed peer's answer counts only inside its envelope (6.1). */
    if (q && ie->cause < 1 && (!t->encrypted || was_encrypted))
        take_answer(q, t, &l->peer, ie);
    if (!dundi_hdr_final(h))
        trans_send(t, DUNDI_CMD_CANCEL, true, NULL);
    if (q && q->r.found && !q->starting) { /* the first answer is the answer */
        forget(q, t);
        l->q = NULL;
        finish(q, true);
    }
}

static void eq_end(struct trans *t, enum trans_end why)
{
    struct eq_link *l = t->owner;
    struct eid_query *q = l ? l->q : NULL;
    (void)why;
    free(l);
    if (q) {
        forget(q, t);
        maybe_done(q);
    }
}

static const struct trans_handler eq_handler = {eq_command, eq_end};

static bool in_avoid(const struct eid_query *q, const eid_t *e)
{
    for (unsigned i = 0; i < q->navoid; i++)
        if (eid_equal(&q->avoid[i], e))
            return true;
    return false;
}

/* Path list of 4.2, every entry as plain EID: the avoid list without its
 * root, the other peers asked, then the root (or us when we start it). */
static void build_request(const struct eid_query *q, const struct peer_conf **chosen, unsigned nchosen, unsigned me,
                          const eid_t *us, int ttl, struct dundi_ieb *b)
{
    static eid_t list[DUNDI_MAX_EIDS];
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
    for (size_t i = c->npeers; i-- > 0 && n < EQ_MAX_TRANS;) {
        const struct peer_conf *p = &c->peers[i];
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
    if (!q) {
        struct eid_info r = {0};
        done(ctx, &r);
        return NULL;
    }
    q->s = s;
    q->target = *target;
    snprintf(q->context, sizeof(q->context), "%s", context && context[0] ? context : "e164");
    q->navoid = navoid < DUNDI_MAX_EIDS ? navoid : DUNDI_MAX_EIDS;
    if (q->navoid) /* avoid may be NULL when there is nothing to avoid */
        memcpy(q->avoid, avoid, q->navoid * sizeof(eid_t));
    q->done = done;
    q->ctx = ctx;
    timer_init(&q->deadline, on_deadline, q);
    if (ttl == 0 && !navoid)
        ttl = s->conf->ttl;
    if (ttl <= 0) {
        q->r.hint_flags |= DUNDI_HINT_TTL_EXPIRED;
        finish(q, true);
        return NULL;
    }
    q->next = s->eidqueries;
    if (s->eidqueries)
        s->eidqueries->pprev = &q->next;
    s->eidqueries = q;
    q->pprev = &s->eidqueries;

    const struct peer_conf *chosen[EQ_MAX_TRANS];
    unsigned nchosen = select_peers(s, q, chosen);
    static struct dundi_ieb b;
    q->starting = true;
    for (unsigned i = 0; i < nchosen; i++) {
        struct eq_link *l = calloc(1, sizeof(*l));
        struct trans *t = l ? peer_open(s, chosen[i], &eq_handler, l) : NULL;
        if (!t) {
            free(l);
            continue;
        }
        l->q = q;
        l->peer = chosen[i]->eid;
        q->tx[q->ntx++] = t;
        q->r.asked++;
        build_request(q, chosen, nchosen, i, config_us_eid(s->conf, chosen[i]), ttl, &b);
        if (trans_send(t, DUNDI_CMD_EIDQUERY, false, &b) != DUNDI_OK)
            trans_destroy(t, TRANS_END_ABORT);
    }
    q->starting = false;
    bool open = false;
    for (unsigned i = 0; i < q->ntx; i++)
        open |= q->tx[i] != NULL;
    if (!open || q->r.found) {
        finish(q, true);
        return NULL;
    }
    timerq_arm(&s->loop.tq, &q->deadline, clock_now_ms() + 2000u + 200u * (unsigned)ttl);
    return q;
}
