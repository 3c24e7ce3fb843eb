/* Forwarded lookups: peer selection, path lists, merging, caching. */
#include "dundid/lookup.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dundid/clock.h"
#include "dundid/log.h"
#include "dundid/server.h"

#define MAX_TRANS_PER_LOOKUP 64

/* One DPDISCOVER of a lookup; the transaction's owner. */
struct link {
    struct lookup *lk; /* NULL once the lookup is over */
    eid_t peer;
    bool full_key; /* this transaction carried SHAREDKEY+SIGNATURE */
    uint64_t sent_ms;
};

struct lookup {
    struct server *s;
    struct lookup *next, **pprev;
    struct lookup_request rq;
    bool has_root;
    eid_t root;
    uint32_t crc;
    struct lookup_result r;
    struct trans *tx[MAX_TRANS_PER_LOOKUP];
    unsigned ntx;
    struct timer deadline;
    lookup_done_fn done;
    void *ctx;
    struct lookup *joiners; /* same question, waiting for our answer */
    struct lookup *next_joiner;
    struct lookup *joined; /* the running lookup we wait for */
    bool starting;         /* requests still being sent: do not finish yet */
};

static const struct trans_handler link_handler;

static bool in_avoid(const struct lookup *lk, const eid_t *e, bool *direct)
{
    for (unsigned i = 0; i < lk->rq.navoid; i++)
        if (eid_equal(&lk->rq.avoid[i], e)) {
            if (direct)
                *direct = lk->rq.direct[i];
            return true;
        }
    return false;
}

/* Merge one answer (4.7): same protocol and destination is a duplicate whose
 * lower weight wins. Returns true when it was appended. */
static bool merge_answer(struct cache_result *res, const struct dundi_answer *a, int expiration)
{
    for (unsigned i = 0; i < res->n; i++)
        if (res->answers[i].proto == a->proto && !strcmp(res->answers[i].dest, a->dest)) {
            if (a->weight < res->answers[i].weight)
                res->answers[i].weight = a->weight;
            return false;
        }
    if (res->n >= CACHE_MAX_RESULTS)
        return false;
    res->answers[res->n] = *a;
    res->expirations[res->n++] = expiration;
    return true;
}

static void lower_expiration(struct lookup_result *r, int e)
{
    if (e < r->expiration)
        r->expiration = e;
}

/* ---- finishing ---- */

static void unlink_lookup(struct lookup *lk)
{
    if (lk->pprev) {
        *lk->pprev = lk->next;
        if (lk->next)
            lk->next->pprev = lk->pprev;
        lk->pprev = NULL;
    }
}

static void detach_transactions(struct lookup *lk, bool cancel)
{
    for (unsigned i = 0; i < lk->ntx; i++) {
        struct trans *t = lk->tx[i];
        if (!t)
            continue;
        struct link *l = t->owner;
        l->lk = NULL;
        /* Still open: tell the peer we stopped waiting. Its end frees the link. */
        if (cancel && !t->dead)
            trans_send(t, DUNDI_CMD_CANCEL, true, NULL);
    }
    lk->ntx = 0;
}

static void finish(struct lookup *lk, bool report)
{
    struct server *s = lk->s;
    timerq_cancel(&s->loop.tq, &lk->deadline);
    unlink_lookup(lk);
    detach_transactions(lk, true);
    if (!(lk->r.hint_flags & DUNDI_HINT_DONT_ASK))
        lk->r.hint_data[0] = '\0';
    if (report && lk->done)
        lk->done(lk->ctx, &lk->r);
    /* Joined lookups receive the same answer. */
    while (lk->joiners) {
        struct lookup *j = lk->joiners;
        lk->joiners = j->next_joiner;
        for (unsigned i = 0; i < lk->r.res.n; i++)
            if (merge_answer(&j->r.res, &lk->r.res.answers[i], lk->r.res.expirations[i]))
                j->r.hint_flags &= (uint16_t)~DUNDI_HINT_DONT_ASK;
        j->r.hint_flags |= lk->r.hint_flags & DUNDI_HINT_TTL_EXPIRED;
        if (!(lk->r.hint_flags & DUNDI_HINT_DONT_ASK))
            j->r.hint_flags &= (uint16_t)~DUNDI_HINT_DONT_ASK;
        lower_expiration(&j->r, lk->r.expiration);
        j->joined = NULL;
        if (j->done)
            j->done(j->ctx, &j->r);
        free(j);
    }
    free(lk);
}

static void maybe_done(struct lookup *lk)
{
    if (lk->starting)
        return;
    for (unsigned i = 0; i < lk->ntx; i++)
        if (lk->tx[i])
            return;
    finish(lk, true);
}

static void on_deadline(void *arg) { finish(arg, true); }

void lookup_abandon(struct lookup *lk)
{
    if (!lk)
        return;
    if (lk->joined) {
        for (struct lookup **pp = &lk->joined->joiners; *pp; pp = &(*pp)->next_joiner)
            if (*pp == lk) {
                *pp = lk->next_joiner;
                break;
            }
        free(lk);
        return;
    }
    finish(lk, false);
}

void lookup_abandon_all(struct server *s)
{
    /* Each requester still gets what was found so far. */
    while (s->lookups)
        finish(s->lookups, true);
}

/* ---- responses from peers ---- */

static void take_response(struct lookup *lk, const eid_t *peer, const struct dundi_ies *ie)
{
    struct server *s = lk->s;
    int cachetime = s->conf->cachetime;
    unsigned first = lk->r.res.n;

    for (unsigned i = 0; i < ie->anscount; i++)
        if (merge_answer(&lk->r.res, &ie->answers[i], ie->expiration > 0 ? ie->expiration : cachetime))
            lk->r.hint_flags &= (uint16_t)~DUNDI_HINT_DONT_ASK;
    bool unaffected = ie->has_hint && (ie->hint_flags & DUNDI_HINT_UNAFFECTED);
    const eid_t *root = lk->has_root ? &lk->root : NULL;
    int64_t now = clock_wall_s();
    /* Even no answers is cached: that peer is not asked again until it expires. */
    cache_save(s->cache, peer, lk->rq.number, lk->rq.context, lk->crc, unaffected, root, &lk->r.res.answers[first],
               lk->r.res.n - first, ie->expiration, cachetime, false, now);
    if (ie->has_hint) {
        if (ie->hint_flags & DUNDI_HINT_DONT_ASK)
            cache_save_hint(s->cache, peer, ie->hint_data, lk->rq.context, lk->crc, unaffected, root, ie->expiration,
                            cachetime, now);
        lk->r.hint_flags |= ie->hint_flags & DUNDI_HINT_TTL_EXPIRED;
        if (ie->hint_flags & DUNDI_HINT_DONT_ASK) {
            if (strlen(ie->hint_data) > strlen(lk->r.hint_data) && strlen(ie->hint_data) <= DUNDI_MAX_NUMBER)
                strcpy(lk->r.hint_data, ie->hint_data);
        } else {
            lk->r.hint_flags &= (uint16_t)~DUNDI_HINT_DONT_ASK;
        }
    }
    if (ie->expiration > 0)
        lower_expiration(&lk->r, ie->expiration);
}

static void forget(struct lookup *lk, struct trans *t)
{
    for (unsigned i = 0; i < lk->ntx; i++)
        if (lk->tx[i] == t)
            lk->tx[i] = NULL;
}

/* ENCREJ on a transaction we opened (6.7): once, start over with the full key. */
static void handle_encrej(struct server *s, struct trans *t, struct link *l, struct dundi_hdr *h)
{
    const struct peer_conf *p = config_find_peer(s->conf, &l->peer);
    struct peer_state *ps = p && p->inkey_pub ? server_peer_state(s, &l->peer, p) : NULL;
    char who[64];

    /* An expired key would be replaced, and the old envelope not open with the new one. */
    if (l->full_key || !t->last_acked || !ps || !ps->tx_valid || clock_wall_s() >= ps->tx_expires) {
        log_notice("%s: peer rejected our encryption (ENCREJ); giving up", dundi_addr_str(&t->addr, who, sizeof(who)));
        if (!dundi_hdr_final(h))
            trans_send(t, DUNDI_CMD_CANCEL, true, NULL);
        return;
    }
    if (!dundi_hdr_final(h))
        return; /* the reference only restarts on a final ENCREJ */
    uint8_t ies[PEER_KEY_IES_MAX];
    size_t len;
    bool full;
    trans_send(t, DUNDI_CMD_ACK, true, NULL);
    if (peer_key_ies(s, p, true, ies, &len, &full) < 0)
        return;
    l->full_key = true;
    if (trans_restart_with(t, ies, len) == 0)
        h->cmdresp &= (uint8_t)~DUNDI_FLAG_FINAL; /* the restarted transaction lives on */
}

static void link_command(struct trans *t, struct dundi_hdr *h, const uint8_t *ies, size_t len)
{
    struct link *l = t->owner;
    struct server *s = t->eng->send_ctx;
    struct dundi_ies *ie = s->ies;
    static uint8_t inner[DUNDI_MAX_INNER];
    struct dundi_hdr ih;
    bool was_encrypted = false;

    if (dundi_ies_decode(ies, len, ie) < 0) {
        s->stats.ies_malformed++;
        return;
    }
    uint8_t cmd = dundi_hdr_cmd(h);
    if (cmd == DUNDI_CMD_ENCRYPT) {
        int rc = trans_open_envelope(t, h, ie, inner, &ih, &ies, &len);
        if (rc != CRYPTO_OK || dundi_ies_decode(ies, len, ie) < 0) {
            s->stats.crypto_rejected++;
            return;
        }
        h = &ih;
        cmd = dundi_hdr_cmd(h);
        was_encrypted = true;
    }
    if (cmd == DUNDI_CMD_ENCREJ) {
        handle_encrej(s, t, l, h);
        return;
    }
    if (cmd == DUNDI_CMD_DPRESPONSE || cmd == DUNDI_CMD_PRECACHERP) {
        /* Responses of a keyed peer count only when they came encrypted (6.1). */
        if (l->lk && ie->cause < 1 && cmd == DUNDI_CMD_DPRESPONSE && (!t->encrypted || was_encrypted)) {
            take_response(l->lk, &l->peer, ie);
            server_note_lookup_time(s, &l->peer, l->lk->rq.number, l->lk->rq.context,
                                    (int)(clock_now_ms() - l->sent_ms));
        }
        if (!dundi_hdr_final(h))
            trans_send(t, DUNDI_CMD_CANCEL, true, NULL);
        return;
    }
    trans_default_command(t, h);
}

static void link_end(struct trans *t, enum trans_end why)
{
    struct link *l = t->owner;
    if (l->lk) {
        struct lookup *lk = l->lk;
        forget(lk, t);
        if (why == TRANS_END_TIMEOUT || why == TRANS_END_AUTOKILL) {
            char who[64];
            log_info("%s: no answer for %s@%s (%s)", dundi_addr_str(&t->addr, who, sizeof(who)), lk->rq.number,
                     lk->rq.context, why == TRANS_END_AUTOKILL ? "autokill" : "timed out");
        }
        free(l);
        maybe_done(lk);
        return;
    }
    free(l);
}

static const struct trans_handler link_handler = {link_command, link_end};

/* ---- starting ---- */

/* Peer q goes into the path list of requests at this order level (4.2). */
static bool path_member(struct server *s, const struct peer_conf *q, const char *ctx, int level)
{
    return !q->wildcard && !eid_is_zero(&q->eid) && q->order <= level && rules_allow(&q->include, ctx) &&
           !peer_unreachable(s, q);
}

static void build_request(const struct lookup *lk, const struct peer_conf *p, const eid_t *us, int level,
                          struct dundi_ieb *b)
{
    const struct config *c = lk->s->conf;
    static eid_t list[DUNDI_MAX_EIDS];
    unsigned n = 0;
    eid_t tail;

    /* The avoid list without its root, then everyone else we ask, then the root. */
    if (lk->rq.navoid) {
        n = lk->rq.navoid - 1;
        memcpy(list, lk->rq.avoid, n * sizeof(eid_t));
        tail = lk->rq.avoid[n];
    } else {
        tail = *us;
    }
    bool added = false;
    for (size_t i = 0; i < c->npeers && n < DUNDI_MAX_EIDS - 1; i++) {
        const struct peer_conf *q = &c->peers[i];
        if (q == p || !path_member(lk->s, q, lk->rq.context, level) || eid_equal(&q->eid, &tail))
            continue;
        bool dup = false;
        for (unsigned k = 0; k < n && !dup; k++)
            dup = eid_equal(&list[k], &q->eid);
        if (!dup) {
            list[n++] = q->eid;
            added = true;
        }
    }
    if (lk->rq.navoid || added)
        list[n++] = tail;

    dundi_ieb_init(b, 0);
    dundi_ie_put_u16(b, DUNDI_IE_VERSION, 1);
    if (!eid_is_zero(us))
        dundi_ie_put_eid(b, DUNDI_IE_EID_DIRECT, us);
    for (unsigned i = 0; i < n; i++) {
        const struct peer_conf *q = config_find_peer(c, &list[i]);
        bool direct = eid_equal(&list[i], us) ||
                      (q && !q->wildcard && rules_allow(&q->include, lk->rq.context));
        dundi_ie_put_eid(b, direct ? DUNDI_IE_EID_DIRECT : DUNDI_IE_EID, &list[i]);
    }
    dundi_ie_put_str(b, DUNDI_IE_CALLED_NUMBER, lk->rq.number);
    dundi_ie_put_str(b, DUNDI_IE_CALLED_CONTEXT, lk->rq.context);
    dundi_ie_put_u16(b, DUNDI_IE_TTL, (uint16_t)lk->rq.ttl);
    if (lk->rq.bypass)
        dundi_ie_put_empty(b, DUNDI_IE_CACHEBYPASS);
}

/* Step 4 of 4.1 at one order level; returns how many peers were skipped for
 * a higher order (their smallest order in *next_level). */
static unsigned select_peers(struct lookup *lk, int level, int *next_level, const struct peer_conf **chosen,
                             unsigned *nchosen, bool *cache_hit)
{
    struct server *s = lk->s;
    const struct config *c = s->conf;
    unsigned skipped = 0;
    int64_t now = clock_wall_s();

    /* The reference walks its peers in reverse file order. */
    for (size_t i = c->npeers; i-- > 0;) {
        const struct peer_conf *p = &c->peers[i];
        if (p->wildcard || !rules_allow(&p->include, lk->rq.context))
            continue;
        if (p->order > level) {
            if (p->order < *next_level)
                *next_level = p->order;
            skipped++;
            continue;
        }
        if (!lk->rq.bypass) {
            unsigned before = lk->r.res.n;
            if (cache_lookup(s->cache, &p->eid, lk->rq.number, lk->rq.context, lk->crc,
                             lk->has_root ? &lk->root : NULL, now, &lk->r.res)) {
                *cache_hit = true;
                if (lk->r.res.n > before)
                    lk->r.hint_flags &= (uint16_t)~DUNDI_HINT_DONT_ASK;
                continue;
            }
        }
        const eid_t *us = config_us_eid(c, p);
        bool direct = true;
        if (in_avoid(lk, &p->eid, &direct) || in_avoid(lk, us, &direct)) {
            if (!direct)
                lk->r.hint_flags &= (uint16_t)~DUNDI_HINT_UNAFFECTED;
            continue;
        }
        if (!(p->model & MODEL_OUTBOUND))
            continue;
        if (lk->has_root && eid_is_zero(us))
            continue;
        if (!server_peer_addr(s, p) || !peer_usable(s, p))
            continue;
        if (*nchosen < MAX_TRANS_PER_LOOKUP)
            chosen[(*nchosen)++] = p;
    }
    return skipped;
}

static void send_requests(struct lookup *lk, const struct peer_conf **chosen, unsigned n, int level)
{
    struct server *s = lk->s;
    static struct dundi_ieb b;

    for (unsigned i = 0; i < n; i++) {
        const struct peer_conf *p = chosen[i];
        const eid_t *us = config_us_eid(s->conf, p);
        struct link *l = calloc(1, sizeof(*l));
        struct trans *t = l ? trans_open(s->eng, server_peer_addr(s, p), &link_handler, l) : NULL;
        if (!t) {
            free(l);
            continue;
        }
        l->lk = lk;
        l->peer = p->eid;
        l->sent_ms = clock_now_ms();
        if (p->inkey_pub && peer_encrypt(s, t, p, &l->full_key) < 0) {
            log_warning("peer %s: cannot set up encryption; not asked", eid_to_str(&p->eid, (char[EID_STR_LEN]){0}));
            l->lk = NULL;
            trans_destroy(t, TRANS_END_ABORT);
            continue;
        }
        t->autokill_ms = (unsigned)config_peer_autokill(s->conf, p);
        t->rexmit_ms = peer_rexmit_ms(s, p);
        lk->tx[lk->ntx++] = t;
        lk->r.asked++;
        build_request(lk, p, us, level, &b);
        if (trans_send(t, DUNDI_CMD_DPDISCOVER, false, &b) != DUNDI_OK)
            trans_destroy(t, TRANS_END_ABORT);
    }
}

/* Another lookup asking the same thing: the same root makes ours a
 * duplicate; the same path means we can share its answer (4.1 step 3). */
static struct lookup *find_running(struct server *s, const struct lookup *lk)
{
    for (struct lookup *o = s->lookups; o; o = o->next)
        if (!strcasecmp(o->rq.context, lk->rq.context) && !strcasecmp(o->rq.number, lk->rq.number) &&
            ((o->has_root == lk->has_root && (!lk->has_root || eid_equal(&o->root, &lk->root))) ||
             o->crc == lk->crc))
            return o;
    return NULL;
}

struct lookup *lookup_start(struct server *s, const struct lookup_request *rq, lookup_done_fn done, void *ctx)
{
    struct lookup *lk = calloc(1, sizeof(*lk));
    if (!lk) {
        struct lookup_result r = {.hint_flags = rq->hint_flags, .expiration = INT_MAX};
        cache_result_init(&r.res);
        done(ctx, &r);
        return NULL;
    }
    lk->s = s;
    lk->rq = *rq;
    lk->done = done;
    lk->ctx = ctx;
    lk->r.hint_flags = rq->hint_flags;
    memcpy(lk->r.hint_data, rq->hint_data, sizeof(lk->r.hint_data));
    lk->r.expiration = INT_MAX;
    cache_result_init(&lk->r.res);
    timer_init(&lk->deadline, on_deadline, lk);
    if (rq->navoid) {
        lk->has_root = true;
        lk->root = rq->avoid[rq->navoid - 1];
    }
    lk->crc = cache_path_crc(rq->avoid, rq->navoid);

    struct lookup *o = find_running(s, lk);
    if (o) {
        if (lk->has_root && o->has_root && eid_equal(&o->root, &lk->root)) {
            lk->r.duplicate = true;
            done(ctx, &lk->r);
            free(lk);
            return NULL;
        }
        /* Join: answered when the running one finishes. */
        lk->joined = o;
        lk->next_joiner = o->joiners;
        o->joiners = lk;
        return lk;
    }

    const struct peer_conf *chosen[MAX_TRANS_PER_LOOKUP];
    unsigned nchosen = 0;
    int level = 0;
    bool cache_hit = false;
    for (;;) {
        int next_level = INT_MAX;
        unsigned skipped = select_peers(lk, level, &next_level, chosen, &nchosen, &cache_hit);
        if (nchosen || cache_hit || !skipped)
            break;
        level = next_level; /* nothing usable at this order: escalate (4.8) */
    }
    if (lk->r.res.expiration < lk->r.expiration)
        lower_expiration(&lk->r, lk->r.res.expiration);
    if (strlen(lk->r.res.hint_data) > strlen(lk->r.hint_data)) /* a cached DONT_ASK prefix (5.3 step 2) */
        memcpy(lk->r.hint_data, lk->r.res.hint_data, sizeof(lk->r.hint_data));
    if (rq->ttl <= 0) {
        /* TTL exhausted: say so, and use nothing found on the way (4.1 step 5). */
        lk->r.hint_flags |= DUNDI_HINT_TTL_EXPIRED;
        cache_result_init(&lk->r.res);
        done(ctx, &lk->r);
        free(lk);
        return NULL;
    }
    lk->next = s->lookups;
    if (s->lookups)
        s->lookups->pprev = &lk->next;
    s->lookups = lk;
    lk->pprev = &s->lookups;
    lk->starting = true;
    send_requests(lk, chosen, nchosen, level);
    lk->starting = false;
    bool open = false;
    for (unsigned i = 0; i < lk->ntx; i++)
        open |= lk->tx[i] != NULL;
    if (!open) {
        finish(lk, true);
        return NULL;
    }
    timerq_arm(&s->loop.tq, &lk->deadline, clock_now_ms() + 2000u + 200u * (unsigned)rq->ttl);
    return lk;
}

void lookup_foreach(const struct server *s, void (*fn)(void *ctx, const struct lookup_view *v), void *ctx)
{
    for (const struct lookup *lk = s->lookups; lk; lk = lk->next) {
        struct lookup_view v = {lk->rq.number, lk->rq.context, lk->has_root, lk->root, CACHE_MAX_RESULTS,
                                lk->r.res.n, lk->r.asked, 0};
        for (unsigned i = 0; i < lk->ntx; i++)
            v.waiting += lk->tx[i] != NULL;
        fn(ctx, &v);
    }
}
