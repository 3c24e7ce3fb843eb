/* Forwarded lookups: peer selection, path lists, merging, caching. */
#include "dundid/lookup.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dundid/clock.h"
#include "dundid/fanout.h"
#include "dundid/log.h"
#include "dundid/outreq.h"
#include "dundid/server_impl.h"

/* A lookup asks at most this many peers at once. */
#define MAX_TRANS_PER_LOOKUP FANOUT_MAX

struct lookup {
    struct server *s;
    struct lookup *next, **pprev;
    struct lookup_request rq;
    bool has_root;
    eid_t root;
    uint32_t crc;
    bool settled; /* nothing more to ask: it only waits for its finish */
    struct lookup_result r;
    struct fanout ask;
    lookup_done_fn done;
    void *ctx;
    struct lookup *joiners; /* same question, waiting for our answer */
    struct lookup *next_joiner;
    struct lookup *joined; /* the running lookup we wait for */
    eid_t path[DUNDI_MAX_EIDS]; /* scratch of build_request */
};

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

static void finish(struct lookup *lk, bool report)
{
    fanout_stop(&lk->ask); /* peers still asked get a CANCEL */
    unlink_lookup(lk);
    if (!(lk->r.hint_flags & DUNDI_HINT_DONT_ASK))
        lk->r.hint_data[0] = '\0';
    if (report && lk->done)
        lk->done(lk->ctx, &lk->r);
    /* Joined lookups receive the same answer. */
    while (lk->joiners) {
        struct lookup *j = lk->joiners;
        lk->joiners = j->next_joiner;
        for (unsigned i = 0; i < lk->r.res.n; i++)
            if (cache_result_add(&j->r.res, &lk->r.res.answers[i], lk->r.res.expirations[i]))
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

static void on_finish(void *arg) { finish(arg, true); }

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
        if (cache_result_add(&lk->r.res, &ie->answers[i], ie->expiration > 0 ? ie->expiration : cachetime))
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

static void on_reply(void *ctx, struct outreq *r, const struct dundi_ies *ie)
{
    struct lookup *lk = ctx;
    if (ie->cause >= 1)
        return; /* a refusal carries no answers */
    take_response(lk, outreq_peer(r), ie);
    server_note_lookup_time(lk->s, outreq_peer(r), lk->rq.number, lk->rq.context,
                            (int)(clock_now_ms() - outreq_sent_ms(r)));
}

static void on_end(void *ctx, struct outreq *r, enum outreq_end why)
{
    struct lookup *lk = ctx;
    if (why == OUTREQ_TIMEOUT || why == OUTREQ_AUTOKILL) {
        char who[64];
        log_info("%s: no answer for %s@%s (%s)", dundi_addr_str(outreq_addr(r), who, sizeof(who)), lk->rq.number,
                 lk->rq.context, why == OUTREQ_AUTOKILL ? "autokill" : "timed out");
    }
    fanout_ended(&lk->ask, r);
}

static const struct outreq_ops ask_ops = {on_reply, on_end};

/* ---- starting ---- */

/* Peer q goes into the path list of requests at this order level (4.2). */
static bool path_member(struct server *s, const struct peer_conf *q, const char *ctx, int level)
{
    return !q->wildcard && !eid_is_zero(&q->eid) && q->order <= level && rules_allow(&q->include, ctx) &&
           !peer_unreachable(s, q);
}

static void build_request(struct lookup *lk, const struct peer_conf *p, const eid_t *us, int level,
                          struct dundi_ieb *b)
{
    eid_t *list = lk->path;
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
    for (size_t i = 0; i < server_peer_count(lk->s) && n < DUNDI_MAX_EIDS - 1; i++) {
        const struct peer_conf *q = server_peer_at(lk->s, i);
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
        const struct peer_conf *q = server_find_peer(lk->s, &list[i]);
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
    for (size_t i = server_peer_count(s); i-- > 0;) {
        const struct peer_conf *p = server_peer_at(s, i);
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
    struct dundi_ieb *b = &s->scratch->req;

    for (unsigned i = 0; i < n; i++) {
        const struct peer_conf *p = chosen[i];
        build_request(lk, p, config_us_eid(s->conf, p), level, b);
        struct outreq *r = outreq_send(s, p, DUNDI_CMD_DPDISCOVER, b, &ask_ops, lk);
        if (!r)
            continue;
        /* A suspect peer is asked, but a dead one must not hold up every
         * lookup until the probes decide: wait for it only briefly. */
        if (peer_suspect(s, p))
            outreq_set_deadline(r, clock_now_ms() + peer_suspect_wait_ms(s, p));
        if (!fanout_add(&lk->ask, r)) {
            outreq_cancel(r);
            continue;
        }
        lk->r.asked++;
    }
}

/* Another lookup asking the same thing: the same root makes ours a
 * duplicate; the same path means we can share its answer (4.1 step 3). */
static struct lookup *find_running(struct server *s, const struct lookup *lk)
{
    for (struct lookup *o = s->lookups; o; o = o->next)
        if (!o->settled && !strcasecmp(o->rq.context, lk->rq.context) && !strcasecmp(o->rq.number, lk->rq.number) &&
            ((o->has_root == lk->has_root && (!lk->has_root || eid_equal(&o->root, &lk->root))) ||
             o->crc == lk->crc))
            return o;
    return NULL;
}

static void link_lookup(struct server *s, struct lookup *lk)
{
    lk->next = s->lookups;
    if (s->lookups)
        s->lookups->pprev = &lk->next;
    s->lookups = lk;
    lk->pprev = &s->lookups;
}

/* Nothing (more) to ask: report on the next turn of the loop. */
static struct lookup *settle(struct lookup *lk)
{
    lk->settled = true;
    fanout_arm(&lk->ask, clock_now_ms());
    return lk;
}

struct lookup *lookup_start(struct server *s, const struct lookup_request *rq, lookup_done_fn done, void *ctx)
{
    struct lookup *lk = calloc(1, sizeof(*lk));
    if (!lk)
        return NULL;
    lk->s = s;
    lk->rq = *rq;
    lk->done = done;
    lk->ctx = ctx;
    lk->r.hint_flags = rq->hint_flags;
    memcpy(lk->r.hint_data, rq->hint_data, sizeof(lk->r.hint_data));
    lk->r.expiration = INT_MAX;
    cache_result_init(&lk->r.res);
    fanout_init(&lk->ask, &s->loop.tq, on_finish, lk);
    if (rq->navoid) {
        lk->has_root = true;
        lk->root = rq->avoid[rq->navoid - 1];
    }
    lk->crc = cache_path_crc(rq->avoid, rq->navoid);

    struct lookup *o = find_running(s, lk);
    if (o && lk->has_root && o->has_root && eid_equal(&o->root, &lk->root)) {
        lk->r.duplicate = true;
        link_lookup(s, lk);
        return settle(lk);
    }
    if (o) { /* join: answered when the running one finishes */
        lk->joined = o;
        lk->next_joiner = o->joiners;
        o->joiners = lk;
        return lk;
    }
    link_lookup(s, lk);

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
        return settle(lk);
    }
    send_requests(lk, chosen, nchosen, level);
    fanout_arm(&lk->ask, clock_now_ms() + 2000u + 200u * (unsigned)rq->ttl);
    return lk;
}

void lookup_foreach(const struct server *s, void (*fn)(void *ctx, const struct lookup_view *v), void *ctx)
{
    for (const struct lookup *lk = s->lookups; lk; lk = lk->next) {
        if (lk->settled)
            continue;
        struct lookup_view v = {lk->rq.number, lk->rq.context, lk->has_root, lk->root, CACHE_MAX_RESULTS,
                                lk->r.res.n, lk->r.asked, fanout_open(&lk->ask)};
        fn(ctx, &v);
    }
}
