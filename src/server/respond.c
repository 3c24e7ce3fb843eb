/* Answering requests that peers send us (protocol 2.3, 4.3, 7.4, 7.6). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dundid/clock.h"
#include "dundid/eidquery.h"
#include "dundid/log.h"
#include "dundid/lookup.h"
#include "dundid/mapping.h"
#include "dundid/precache.h"
#include "dundid/realtime.h"
#include "dundid/ratelimit.h"
#include "dundid/qualify.h"
#include "dundid/server_impl.h"

#include <openssl/crypto.h>

#define NOAUTH_UNENCRYPTED "Unencrypted responses not permitted"
#define NOAUTH_DENIED "Permission to context denied"
#define NOAUTH_CONTEXT "Unsupported DUNDI Context"
#define GENERAL_MISSING "Invalid or missing number/entity"

static struct server *server_of(struct trans *t) { return t->eng->send_ctx; }

static const char *peer_name(const struct trans *t, char *buf, size_t len)
{
    return dundi_addr_str(&t->addr, buf, len);
}

/* Refusals are sent once and keep no state: the requester repeats its
 * request if one is lost, and junk cannot fill the transaction table. */
static void reply_cause(struct trans *t, uint8_t resp, uint8_t cause, const char *text)
{
    struct dundi_ieb b;
    dundi_ieb_init(&b, 0);
    dundi_ie_put_cause(&b, cause, text);
    server_of(t)->stats.refused++;
    if (resp == DUNDI_CMD_DPRESPONSE)
        server_of(t)->stats.lookups[LOOKUP_REFUSED]++;
    trans_reply_once(t, resp, &b);
}

/* May we answer this unauthenticated sender (NOAUTH, ENCREJ)? If not, the
 * transaction ends silently and the suppression is counted. */
static bool unauth_reply_ok(struct server *s, struct trans *t)
{
    if (ratelimit_allow(s->rl, &t->addr, clock_now_ms()))
        return true;
    s->stats.noauth_suppressed++;
    trans_destroy(t, TRANS_END_ABORT);
    return false;
}

/* Static peers are believed only from their host address (ports may differ). */
static bool from_peer_host(const struct config *c, const struct peer_conf *p, const struct dundi_addr *a)
{
    return !config_peer_addr_check(c, p) || dundi_addr_same_host(&p->addr, a);
}

/* The configured peer a request names, or NULL if unknown or from the wrong address. */
static const struct peer_conf *claimed_peer(struct server *s, const struct trans *t, const struct dundi_ies *ie)
{
    const struct peer_conf *p = ie->eidcount ? server_find_peer(s, &ie->eids[0]) : NULL;
    if (p && !from_peer_host(s->conf, p, &t->addr)) {
        s->stats.addr_mismatch++;
        return NULL;
    }
    return p;
}

/* DPDISCOVER -> DPRESPONSE, EIDQUERY -> EIDRESPONSE, PRECACHERQ -> PRECACHERP, REGREQ -> REGRESPONSE */
static uint8_t response_of(uint8_t cmd) { return (uint8_t)((cmd + 1) | DUNDI_FLAG_RESPONSE); }

/* Numbers and contexts live in 80-byte buffers in the reference: cut at 79. */
static void clamp79(char *s)
{
    if (strlen(s) > DUNDI_MAX_NUMBER)
        s[DUNDI_MAX_NUMBER] = '\0';
}

/* TTL for our own forwarded lookup: one less than received, never below 0. */
static int next_ttl(const struct dundi_ies *ie) { return ie->ttl > 0 ? ie->ttl - 1 : 0; }

/* A DPDISCOVER waiting for its forwarded lookup; the inbound transaction's owner. */
struct pending {
    struct trans *t;
    struct lookup *lk;
    struct eid_query *eq;
    struct realtime_wait *rtw; /* waiting for an on-demand RealTime query */
    eid_t us;
    struct lookup_request rq; /* the request as received (ie is scratch) */
    char number[DUNDI_MAX_NUMBER + 1], context[DUNDI_MAX_NUMBER + 1];
    struct local_result lr;
    uint64_t started_ms; /* the request came: for the latency histogram */
};

static void count_latency(struct lookup_latency *h, uint64_t started_ms)
{
    static const uint64_t bounds[] = {LOOKUP_LATENCY_BOUNDS_MS};
    _Static_assert(sizeof(bounds) / sizeof(bounds[0]) + 1 == LOOKUP_LATENCY_BUCKETS, "one bucket per bound, +Inf");
    uint64_t now = clock_now_ms(), ms = now > started_ms ? now - started_ms : 0;
    size_t i = 0;
    while (i < LOOKUP_LATENCY_BUCKETS - 1 && ms > bounds[i])
        i++;
    h->bucket[i]++;
    h->sum_ms += ms;
}

/* DPRESPONSE (4.3.3 step 6): local answers, then forwarded ones, HINT, EXPIRATION. */
static void send_dpresponse(struct server *s, struct trans *t, uint64_t started_ms, const char *number,
                            const char *ctx,
                            const struct local_result *lr, const struct lookup_result *fr)
{
    struct dundi_ieb *b = &s->scratch->req;
    const struct config *c = s->conf;
    uint16_t hint = fr ? fr->hint_flags : lr->hint_flags;
    const char *hint_data = fr ? fr->hint_data : lr->hint_data;
    int expiration = c->cachetime;
    char who[64];

    dundi_ieb_init(b, 0);
    if (fr && fr->duplicate && !lr->n)
        dundi_ie_put_cause(b, DUNDI_CAUSE_DUPLICATE, "Duplicate request pending");
    for (unsigned i = 0; i < lr->n; i++)
        dundi_ie_put_answer(b, &lr->answers[i]);
    if (fr) {
        for (unsigned i = 0; i < fr->res.n; i++) {
            dundi_ie_put_answer(b, &fr->res.answers[i]);
            if (fr->res.expirations[i] < expiration)
                expiration = fr->res.expirations[i];
        }
        if (fr->expiration < expiration)
            expiration = fr->expiration;
    }
    if (lr->expiration < expiration) /* a binding expires before cachetime */
        expiration = lr->expiration;
    /* Not registered now may be registered in a minute: cache that briefly. */
    if (lr->consulted_regs && !lr->n && !(fr && fr->res.n) && c->reg.negative_cachetime < expiration)
        expiration = c->reg.negative_cachetime;
    /* Without our database we may be behind: a miss is worth a second (0
     * would mean the asker's own cachetime), or a PBX asking both lookup
     * servers keeps our stale "no" when the other one dies. */
    if (lr->consulted_regs && !lr->n && !(fr && fr->res.n) && realtime_behind(s->realtime) && expiration > 1)
        expiration = 1;
    if (!(hint & DUNDI_HINT_DONT_ASK))
        hint_data = "";
    dundi_ie_put_hint(b, hint, hint_data);
    dundi_ie_put_u16(b, DUNDI_IE_EXPIRATION, (uint16_t)(expiration < 0 ? 0 : expiration));
    if (trans_send(t, DUNDI_CMD_DPRESPONSE, true, b) != DUNDI_OK)
        log_warning("%s: response for %s@%s did not fit a packet", peer_name(t, who, sizeof(who)), number, ctx);
    log_debug("%s: %s@%s -> %u local + %u forwarded answer(s), hint %04x '%s'", peer_name(t, who, sizeof(who)),
              number, ctx, lr->n, fr ? fr->res.n : 0, hint, hint_data);
    s->stats.answered++;
    unsigned nanswers = lr->n + (fr ? fr->res.n : 0);
    s->stats.answers_sent += nanswers;
    s->stats.lookups[nanswers ? LOOKUP_FOUND : LOOKUP_NOT_FOUND]++;
    count_latency(&s->lookup_latency, started_ms);
}

static void forward_done(void *ctx, const struct lookup_result *r)
{
    struct pending *pd = ctx;
    struct trans *t = pd->t;
    t->owner = NULL;
    send_dpresponse(t->eng->send_ctx, t, pd->started_ms, pd->number, pd->context, &pd->lr, r);
    free(pd);
}

/* The request's path becomes the avoid list of our lookup (4.3.2). */
static void take_path(struct lookup_request *rq, const struct dundi_ies *ie)
{
    unsigned skip = ie->eidcount > 1 && eid_equal(&ie->eids[0], &ie->eids[ie->eidcount - 1]) ? 1 : 0;
    rq->navoid = 0;
    for (unsigned i = skip; i < ie->eidcount; i++) {
        rq->avoid[rq->navoid] = ie->eids[i];
        rq->direct[rq->navoid++] = ie->eid_direct[i];
    }
}

/* Local answers, then forwarding unless one of them is canonical. */
static void answer_local(void *arg)
{
    struct pending *pd = arg;
    struct trans *t = pd->t;
    struct server *s = server_of(t);
    const struct config *c = s->conf;

    pd->rtw = NULL;
    secret_refresh(&s->secret, clock_wall_s());
    struct answer_vars v = {pd->number, &pd->us, s->secret.current, c->ipaddr, s->regtable, clock_wall_s(), NULL};
    mapping_answer(c, pd->context, &v, &pd->lr);
    if (pd->lr.dropped)
        log_warning("%s@%s: %u answer(s) dropped (destination longer than %d bytes or more than %d answers)",
                    pd->number, pd->context, pd->lr.dropped, DUNDI_MAX_DEST, DUNDI_MAX_ANSWERS);

    bool canonical = false;
    for (unsigned i = 0; i < pd->lr.n; i++)
        canonical |= pd->lr.answers[i].weight == 0;
    if (canonical) { /* a weight-0 local answer settles it: no forwarding */
        t->owner = NULL;
        send_dpresponse(s, t, pd->started_ms, pd->number, pd->context, &pd->lr, NULL);
        free(pd);
        return;
    }
    pd->rq.hint_flags = pd->lr.hint_flags;
    memcpy(pd->rq.hint_data, pd->lr.hint_data, sizeof(pd->rq.hint_data));
    pd->lk = lookup_start(s, &pd->rq, forward_done, pd);
    if (!pd->lk) { /* out of memory: our own answers only */
        t->owner = NULL;
        send_dpresponse(s, t, pd->started_ms, pd->number, pd->context, &pd->lr, NULL);
        free(pd);
    }
}

static int answer_query(struct server *s, struct trans *t, const eid_t *us, const char *ctx,
                        const struct dundi_ies *ie)
{
    if (!config_has_dcontext(s->conf, ctx))
        return -1;
    struct pending *pd = calloc(1, sizeof(*pd));
    if (!pd)
        return -1;
    snprintf(pd->rq.number, sizeof(pd->rq.number), "%s", ie->called_number);
    snprintf(pd->rq.context, sizeof(pd->rq.context), "%s", ctx);
    pd->rq.ttl = next_ttl(ie);
    pd->rq.bypass = ie->cachebypass;
    take_path(&pd->rq, ie);
    memcpy(pd->number, pd->rq.number, sizeof(pd->number));
    memcpy(pd->context, pd->rq.context, sizeof(pd->context));
    pd->us = *us;
    pd->t = t;
    pd->started_ms = clock_now_ms();
    t->owner = pd;
    /* RealTime on demand: a number of the registration context that the
     * table lacks is asked from the database first, for at most
     * ondemand_timeout; answer_local() runs when it replies or gives up. */
    pd->rtw = realtime_ondemand(s->realtime, s->conf, pd->context, pd->number, answer_local, pd);
    if (!pd->rtw)
        answer_local(pd);
    return 0;
}

static void on_end(struct trans *t, enum trans_end why)
{
    struct pending *pd = t->owner;
    (void)why;
    if (pd) { /* the requester cancelled or vanished: stop asking for it */
        realtime_ondemand_cancel(pd->rtw);
        lookup_abandon(pd->lk);
        eid_query_abandon(pd->eq);
        free(pd);
        t->owner = NULL;
    }
}

static void put_contact(struct dundi_ieb *b, const char *dept, const char *org, const char *loc, const char *st,
                        const char *country, const char *email, const char *phone)
{
    dundi_ie_put_str(b, DUNDI_IE_DEPARTMENT, dept);
    dundi_ie_put_str(b, DUNDI_IE_ORGANIZATION, org);
    dundi_ie_put_str(b, DUNDI_IE_LOCALITY, loc);
    dundi_ie_put_str(b, DUNDI_IE_STATE_PROV, st);
    dundi_ie_put_str(b, DUNDI_IE_COUNTRY, country);
    dundi_ie_put_str(b, DUNDI_IE_EMAIL, email);
    dundi_ie_put_str(b, DUNDI_IE_PHONE, phone);
}

/* The forwarded EID query is over: relay what it found (7.6). */
static void entity_done(void *ctx, const struct eid_info *r)
{
    struct pending *pd = ctx;
    struct trans *t = pd->t;
    struct dundi_ieb b;

    t->owner = NULL;
    free(pd);
    dundi_ieb_init(&b, 0);
    if (r->found) {
        put_contact(&b, r->department, r->organization, r->locality, r->stateprov, r->country, r->email, r->phone);
        if (r->ipaddr[0])
            dundi_ie_put_str(&b, DUNDI_IE_IPADDR, r->ipaddr);
    }
    dundi_ie_put_hint(&b, r->hint_flags, "");
    trans_send(t, DUNDI_CMD_EIDRESPONSE, true, &b);
    server_of(t)->stats.answered++;
}

static void answer_entity(struct server *s, struct trans *t, const eid_t *us, const struct dundi_ies *ie)
{
    const struct config *c = s->conf;
    struct dundi_ieb b;

    if (!eid_equal(&ie->reqeid, us)) { /* someone else: ask our peers (TTL - 1, the path as avoid list) */
        struct pending *pd = calloc(1, sizeof(*pd));
        struct lookup_request *rq = malloc(sizeof(*rq));
        if (pd && rq) {
            take_path(rq, ie);
            pd->eq = eid_query_start(s, &ie->reqeid, ie->called_context, next_ttl(ie), rq->avoid, rq->navoid,
                                     entity_done, pd);
            free(rq);
            if (pd->eq) {
                pd->t = t;
                t->owner = pd;
                return;
            }
        }
        free(pd);
        free(rq);
    }
    dundi_ieb_init(&b, 0);
    if (eid_equal(&ie->reqeid, us)) {
        put_contact(&b, c->department, c->organization, c->locality, c->stateprov, c->country, c->email, c->phone);
        dundi_ie_put_hint(&b, 0, "");
    } else { /* out of memory: not found */
        dundi_ie_put_hint(&b, 0, "");
    }
    trans_send(t, DUNDI_CMD_EIDRESPONSE, true, &b);
    s->stats.answered++;
}

/* DPDISCOVER, EIDQUERY, PRECACHERQ: authenticate, authorise, answer (4.3.1). */
static void handle_query(struct server *s, struct trans *t, uint8_t cmd, struct dundi_ies *ie, bool encrypted)
{
    const struct config *c = s->conf;
    uint8_t resp = response_of(cmd);
    char who[64], eidstr[EID_STR_LEN];

    s->stats.requests++;
    const struct peer_conf *p = ie->eidcount ? claimed_peer(s, t, ie) : server_find_peer(s, NULL);
    peer_name(t, who, sizeof(who));
    if (ie->eidcount)
        eid_to_str(&ie->eids[0], eidstr);
    else
        strcpy(eidstr, "(none)");
    if (!p) {
        if (!unauth_reply_ok(s, t))
            return;
        log_info("%s: %s from unknown EID %s (or not from its host) refused", who, dundi_cmd_name(cmd), eidstr);
        reply_cause(t, resp, DUNDI_CAUSE_NOAUTH, NULL);
        return;
    }
    const eid_t *us = config_us_eid(c, p);
    if (p->inkey[0] && !encrypted) {
        if (!unauth_reply_ok(s, t))
            return;
        log_info("%s: unencrypted %s from keyed peer %s refused", who, dundi_cmd_name(cmd), eidstr);
        reply_cause(t, resp, DUNDI_CAUSE_NOAUTH, NOAUTH_UNENCRYPTED);
        return;
    }
    if (ie->eidcount)
        peer_heard(s, &ie->eids[0]); /* authenticated: it is alive */
    if (!ie->has_called_context || !ie->called_context[0])
        strcpy(ie->called_context, "e164");
    clamp79(ie->called_context);
    clamp79(ie->called_number);
    const char *ctx = ie->called_context;

    if (cmd == DUNDI_CMD_EIDQUERY) {
        if (!ie->has_reqeid) /* the reference would crash here */
            reply_cause(t, resp, DUNDI_CAUSE_GENERAL, GENERAL_MISSING);
        else
            answer_entity(s, t, us, ie);
        return;
    }
    if (!ie->called_number[0]) {
        reply_cause(t, resp, DUNDI_CAUSE_GENERAL, GENERAL_MISSING);
        return;
    }
    if (cmd == DUNDI_CMD_DPDISCOVER && (p->model & MODEL_INBOUND) && rules_allow(&p->permit, ctx)) {
        if (answer_query(s, t, us, ctx, ie) < 0)
            reply_cause(t, resp, DUNDI_CAUSE_NOAUTH, NOAUTH_CONTEXT);
        return;
    }
    if (cmd == DUNDI_CMD_PRECACHERQ && (p->pcmodel & MODEL_INBOUND) && rules_allow(&p->include, ctx)) {
        /* Kept under the pusher's EID (the reference keeps clear pushes under
         * the zero EID, where no lookup finds them). */
        precache_accept(s, &ie->eids[0], ie);
        if (!config_has_dcontext(c, ctx)) {
            reply_cause(t, resp, DUNDI_CAUSE_NOAUTH, NOAUTH_CONTEXT);
            return;
        }
        /* Propagate to our own precache peers, then confirm at once: the
         * PRECACHERP carries nothing the pusher waits for. */
        struct lookup_request *rq = malloc(sizeof(*rq));
        if (rq) {
            take_path(rq, ie);
            precache_push_context(s, ie->called_number, ctx, next_ttl(ie), rq->avoid, rq->navoid, false);
            free(rq);
        }
        trans_send(t, DUNDI_CMD_PRECACHERP, true, NULL);
        return;
    }
    if (!unauth_reply_ok(s, t))
        return;
    log_info("%s: %s for %s@%s from %s denied by model/permit", who, dundi_cmd_name(cmd), ie->called_number, ctx,
             eidstr);
    reply_cause(t, resp, DUNDI_CAUSE_NOAUTH, NOAUTH_DENIED);
}

/* REGREQ from a dynamic peer (7.4). */
static void handle_regreq(struct server *s, struct trans *t, const struct dundi_ies *ie, bool encrypted)
{
    char who[64], eidstr[EID_STR_LEN];
    const struct peer_conf *p = ie->eidcount ? server_find_peer(s, &ie->eids[0]) : NULL;

    if (!p || !p->dynamic) {
        if (unauth_reply_ok(s, t))
            reply_cause(t, DUNDI_CMD_REGRESPONSE, DUNDI_CAUSE_NOAUTH, NULL);
        return;
    }
    if (p->inkey[0] && !encrypted) {
        /* As the reference: no reply but the generic ACK; then nothing is kept. */
        trans_send(t, DUNDI_CMD_ACK, false, NULL);
        trans_destroy(t, TRANS_END_DONE);
        return;
    }
    if (server_registrations_full(s, &ie->eids[0])) {
        s->stats.regs_refused++;
        if (unauth_reply_ok(s, t))
            reply_cause(t, DUNDI_CMD_REGRESPONSE, DUNDI_CAUSE_NOAUTH, NULL);
        return;
    }
    /* A stranger accepted through [*] becomes a peer of its own (7.7), so
     * that it is asked too; only once it passed the checks above. */
    if (p->wildcard && !(p = server_clone_wildcard(s, &ie->eids[0]))) {
        s->stats.regs_refused++;
        if (!unauth_reply_ok(s, t))
            return;
        log_notice("%s: REGREQ from %s through [*] refused: no room for more peers", dundi_addr_str(&t->addr, who,
                   sizeof(who)), eid_to_str(&ie->eids[0], eidstr));
        reply_cause(t, DUNDI_CMD_REGRESPONSE, DUNDI_CAUSE_NOAUTH, NULL);
        return;
    }
    peer_heard(s, &ie->eids[0]);
    if (server_register(s, &ie->eids[0], &t->addr)) {
        log_notice("registered DUNDi peer %s at %s", eid_to_str(&ie->eids[0], eidstr),
                   dundi_addr_str(&t->addr, who, sizeof(who)));
        qualify_soon(s, &ie->eids[0]); /* a new address: check it soon */
    }
    struct dundi_ieb b;
    dundi_ieb_init(&b, 0);
    dundi_ie_put_u16(&b, DUNDI_IE_EXPIRATION, REG_EXPIRATION_S);
    trans_send(t, DUNDI_CMD_REGRESPONSE, true, &b);
}

/* ENCREJ, rate-limited unless the caller has taken the token already. */
static void send_encrej_checked(struct server *s, struct trans *t, const struct dundi_hdr *h, bool checked)
{
    t->encrypted = false; /* ENCREJ itself always travels in clear */
    if (!dundi_hdr_final(h)) {
        if (!checked && !unauth_reply_ok(s, t))
            return;
        s->stats.encrej_sent++;
        trans_reply_once(t, DUNDI_CMD_ENCREJ, NULL);
    }
}

static void send_encrej(struct server *s, struct trans *t, const struct dundi_hdr *h)
{
    send_encrej_checked(s, t, h, false);
}

/* First ENCRYPT of a transaction a peer opened: check its key (6.4). On
 * success the transaction is bound to the peer and uses the sender's key. */
static const char *accept_key(struct server *s, struct trans *t, const struct dundi_ies *ie, char *why,
                              size_t whylen)
{
    const struct peer_conf *p = ie->eidcount ? claimed_peer(s, t, ie) : NULL;
    uint8_t aes[DUNDI_AES_KEY_LEN];

    if (!p)
        return "unknown or missing EID, or not from the peer's host";
    if (!p->inkey_pub || !p->outkey_priv)
        return "no keys configured for this peer";
    bool full = ie->sharedkey && ie->signature;
    if (!full && !(ie->has_keycrc32 && ie->keycrc32))
        return "no key material";
    /* Nothing is created for the EID before its key checks out: a [*] peer
     * with keys must not let junk EIDs each leave a state behind. */
    struct peer_state *ps = (struct peer_state *)server_find_peer_state(s, &ie->eids[0]);
    if (ps) /* an existing state only: it is started afresh if the keys changed */
        ps = server_peer_state(s, &ie->eids[0], p);
    if (ie->has_keycrc32 && ie->keycrc32 && ps && ps->rx_valid && ps->rx_crc == ie->keycrc32) {
        memcpy(aes, ps->rx_aes, sizeof(aes));
    } else if (!full) {
        snprintf(why, whylen, "KEYCRC32 %08x of a key we do not hold", ie->keycrc32);
        return why;
    } else if (ps && ps->rx_valid && !memcmp(ps->rx_sharedkey, ie->sharedkey, DUNDI_KEY_BYTES) &&
               !memcmp(ps->rx_signature, ie->signature, DUNDI_KEY_BYTES)) {
        memcpy(aes, ps->rx_aes, sizeof(aes));
    } else {
        if (!ratelimit_allow(s->rl_keys, &t->addr, clock_now_ms())) {
            s->stats.key_checks_suppressed++;
            return "too many new keys offered (rate limit)";
        }
        s->stats.key_checks++;
        int rc = crypto_session_accept(aes, ie->sharedkey, ie->signature, p->inkey_pub, p->outkey_priv);
        if (rc != CRYPTO_OK)
            return crypto_strerror(rc);
        if (!(ps = server_peer_state(s, &ie->eids[0], p)))
            return "out of memory";
        /* Only a verified key replaces what we hold. */
        memcpy(ps->rx_sharedkey, ie->sharedkey, DUNDI_KEY_BYTES);
        memcpy(ps->rx_signature, ie->signature, DUNDI_KEY_BYTES);
        memcpy(ps->rx_aes, aes, sizeof(aes));
        ps->rx_crc = crypto_keycrc(ie->sharedkey);
        ps->rx_valid = true;
    }
    if (trans_set_crypto(t, aes, NULL, 0) < 0)
        return "out of memory";
    t->bound = true;
    t->peer_eid = ie->eids[0];
    OPENSSL_cleanse(aes, sizeof(aes));
    return NULL;
}

static void dispatch(struct server *s, struct trans *t, struct dundi_hdr *h, const uint8_t *ies, size_t len,
                     bool encrypted);

/* A NULL carries no EID: a peer is known by the address it is reached at
 * (a qualify ping from a peer we hold unreachable is news). */
static void heard_from(struct server *s, const struct dundi_addr *from)
{
    for (size_t i = 0; i < server_peer_count(s); i++) {
        const struct peer_conf *p = server_peer_at(s, i);
        const struct dundi_addr *a = p->wildcard ? NULL : server_peer_addr(s, p);
        if (a && dundi_addr_equal(a, from))
            peer_heard(s, &p->eid);
    }
}

/* ENCRYPT (6.6): check the key on the first packet, decrypt, process the inner message. */
static void handle_encrypt(struct server *s, struct trans *t, struct dundi_hdr *h, const struct dundi_ies *ie,
                           bool nested)
{
    char who[64], whybuf[96];

    peer_name(t, who, sizeof(who));
    if (nested) {
        log_info("%s: ENCRYPT inside ENCRYPT refused", who);
        s->stats.crypto_rejected++;
        send_encrej(s, t, h);
        return;
    }
    if (!t->encrypted && !t->opened && t->iseqno == 1 && t->oseqno == 0) {
        const char *why = accept_key(s, t, ie, whybuf, sizeof(whybuf));
        if (why) {
            char eid[EID_STR_LEN];
            s->stats.crypto_rejected++;
            /* Over the rate limit: neither a reply nor a log line per junk packet. */
            if (!dundi_hdr_final(h) && !unauth_reply_ok(s, t))
                return;
            log_notice("%s: encrypted request from %s rejected: %s", who,
                       ie->eidcount ? eid_to_str(&ie->eids[0], eid) : "(no EID)", why);
            send_encrej_checked(s, t, h, true);
            return;
        }
    }
    if (!t->encrypted) {
        s->stats.crypto_rejected++;
        log_notice("%s: ENCRYPT on a transaction that started in clear refused", who);
        send_encrej(s, t, h);
        return;
    }
    struct dundi_hdr ih;
    const uint8_t *iies;
    size_t iieslen;
    int rc = trans_open_envelope(t, h, ie, s->scratch->inner, &ih, &iies, &iieslen);
    if (rc != CRYPTO_OK) {
        s->stats.crypto_rejected++;
        log_notice("%s: cannot decrypt: %s", who, crypto_strerror(rc));
        send_encrej(s, t, h);
        return;
    }
    dispatch(s, t, &ih, iies, iieslen, true);
}

static void dispatch(struct server *s, struct trans *t, struct dundi_hdr *h, const uint8_t *ies, size_t len,
                     bool encrypted)
{
    uint8_t cmd = dundi_hdr_cmd(h);
    struct dundi_ies *ie = &s->scratch->ies;
    char who[64];

    int rc = dundi_ies_decode(ies, len, ie);
    if (rc < 0) {
        s->stats.ies_malformed++;
        log_info("%s: %s ignored: %s", peer_name(t, who, sizeof(who)), dundi_cmd_name(cmd) ? dundi_cmd_name(cmd) : "?",
                 dundi_strerror(rc));
        /* A first packet that says nothing usable must leave nothing behind
         * (it is still ACKed, as the reference does). */
        if (!t->opened && t->oseqno == 0 && t->iseqno == 1 && !t->owner) {
            if (unauth_reply_ok(s, t))
                trans_send(t, DUNDI_CMD_ACK, dundi_hdr_final(h), NULL);
            trans_destroy(t, TRANS_END_DONE);
        }
        return;
    }
    /* Inside an envelope the requester must be the peer whose key opened it. */
    if (encrypted && t->bound && trans_cmd_encrypted(cmd) && !(cmd & DUNDI_FLAG_RESPONSE) &&
        (!ie->eidcount || !eid_equal(&ie->eids[0], &t->peer_eid))) {
        log_notice("%s: encrypted %s names another EID than its key's; refused", peer_name(t, who, sizeof(who)),
                   dundi_cmd_name(cmd));
        s->stats.crypto_rejected++;
        reply_cause(t, response_of(cmd), DUNDI_CAUSE_NOAUTH, NULL);
        return;
    }
    switch (cmd) {
    case DUNDI_CMD_DPDISCOVER:
    case DUNDI_CMD_EIDQUERY:
    case DUNDI_CMD_PRECACHERQ: handle_query(s, t, cmd, ie, encrypted); break;
    case DUNDI_CMD_REGREQ: handle_regreq(s, t, ie, encrypted); break;
    case DUNDI_CMD_ENCRYPT: handle_encrypt(s, t, h, ie, encrypted); break;
    case DUNDI_CMD_NULL: heard_from(s, &t->addr); /* fall through */
    default: trans_default_command(t, h); break;
    }
}

static void on_command(struct trans *t, struct dundi_hdr *h, const uint8_t *ies, size_t len)
{
    dispatch(server_of(t), t, h, ies, len, false);
}

const struct trans_handler respond_handler = {.on_command = on_command, .on_end = on_end};
