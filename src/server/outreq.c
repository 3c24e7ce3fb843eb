/* Requests to peers (include/dundid/outreq.h). */
#include "dundid/outreq.h"

#include <stdlib.h>
#include <string.h>

#include "dundid/clock.h"
#include "dundid/log.h"
#include "dundid/server_impl.h"

struct outreq {
    struct server *s;
    struct trans *t;
    eid_t peer;
    uint8_t cmd;
    const struct outreq_ops *ops; /* NULL once cancelled: the end is silent */
    void *ctx;
    bool rejected; /* ENCREJ that no restart could mend */
    uint64_t sent_ms;
    struct timer deadline;
};

/* What a request is, in log lines. */
static const char *what(uint8_t cmd)
{
    switch (cmd) {
    case DUNDI_CMD_DPDISCOVER: return "lookup";
    case DUNDI_CMD_EIDQUERY: return "EID query";
    case DUNDI_CMD_PRECACHERQ: return "precache";
    case DUNDI_CMD_REGREQ: return "registration";
    default: return "request";
    }
}

/* DPDISCOVER -> DPRESPONSE, EIDQUERY -> EIDRESPONSE, ... */
static uint8_t reply_of(uint8_t cmd) { return (uint8_t)((cmd + 1) | DUNDI_FLAG_RESPONSE); }

int outreq_key_ies(struct server *s, const struct peer_conf *p, bool force_full, uint8_t *out, size_t *len,
                   bool *full)
{
    struct peer_state *ps = server_peer_state(s, &p->eid, p);
    int64_t now = clock_wall_s();
    char eid[EID_STR_LEN];

    if (!ps || !p->inkey_pub || !p->outkey_priv)
        return -1;
    if (!ps->tx_valid || now >= ps->tx_expires) {
        if (crypto_session_new(&ps->tx, p->inkey_pub, p->outkey_priv) != CRYPTO_OK)
            return -1;
        ps->tx_valid = true;
        ps->tx_sentfull = false;
        ps->tx_expires = now + s->conf->session_key_lifetime_s;
        log_info("new session key for peer %s (crc %08x)", eid_to_str(&p->eid, eid), ps->tx.crc);
    }
    /* The full key until it has gone out once, then only its CRC (6.3). */
    struct dundi_ieb *b = &s->scratch->keys;
    dundi_ieb_init(b, PEER_KEY_IES_MAX);
    dundi_ie_put_eid(b, DUNDI_IE_EID, config_us_eid(s->conf, p));
    *full = force_full || !ps->tx_sentfull;
    if (*full) {
        dundi_ie_put_raw(b, DUNDI_IE_SHAREDKEY, ps->tx.sharedkey, DUNDI_KEY_BYTES);
        dundi_ie_put_raw(b, DUNDI_IE_SIGNATURE, ps->tx.signature, DUNDI_KEY_BYTES);
        ps->tx_sentfull = true;
    } else {
        dundi_ie_put_u32(b, DUNDI_IE_KEYCRC32, ps->tx.crc);
    }
    memcpy(out, b->buf, b->len);
    *len = b->len;
    return 0;
}

static int encrypt_to(struct server *s, struct trans *t, const struct peer_conf *p)
{
    uint8_t ies[PEER_KEY_IES_MAX];
    size_t len;
    bool full;
    if (outreq_key_ies(s, p, false, ies, &len, &full) < 0)
        return -1;
    struct peer_state *ps = server_peer_state(s, &p->eid, p);
    if (trans_set_crypto(t, ps->tx.aes, ies, len) < 0)
        return -1;
    t->bound = true;
    t->peer_eid = p->eid;
    return 0;
}

/* Whether the key IEs this transaction opened with carried the full key. */
static bool sent_full_key(const struct trans *t)
{
    for (size_t i = 0; i + 2 <= t->key_ies_len; i += 2u + t->key_ies[i + 1])
        if (t->key_ies[i] == DUNDI_IE_SHAREDKEY)
            return true;
    return false;
}

/* ENCREJ (6.7): the peer lost our key (a restart). On the final ENCREJ,
 * once: ACK it and start over with the full key and the same envelope.
 * Returns true while the transaction lives on. */
static bool on_encrej(struct outreq *r, struct dundi_hdr *h)
{
    struct server *s = r->s;
    struct trans *t = r->t;
    const struct peer_conf *p = server_find_peer(s, &r->peer);
    struct peer_state *ps = p && p->inkey_pub ? server_peer_state(s, &r->peer, p) : NULL;
    uint8_t ies[PEER_KEY_IES_MAX], aes[sizeof(t->aes)];
    char who[64], eid[EID_STR_LEN];
    size_t len;
    bool full;

    /* An expired key would be replaced, and the old envelope not open with the new one. */
    bool can_restart = ps && t->encrypted && !sent_full_key(t) && t->last_acked && ps->tx_valid &&
                       clock_wall_s() < ps->tx_expires;
    if (can_restart && !dundi_hdr_final(h))
        return true; /* the reference only restarts on a final ENCREJ */
    if (can_restart) {
        trans_send(t, DUNDI_CMD_ACK, true, NULL);
        memcpy(aes, t->aes, sizeof(aes));
        /* The transaction now carries the full key: a second ENCREJ ends it. */
        if (outreq_key_ies(s, p, true, ies, &len, &full) == 0 && trans_set_crypto(t, aes, ies, len) == 0 &&
            trans_restart_with(t, ies, len) == 0) {
            h->cmdresp &= (uint8_t)~DUNDI_FLAG_FINAL; /* the restarted transaction lives on */
            log_info("%s with peer %s: key rejected, resending it in full (%s)", what(r->cmd),
                     eid_to_str(&r->peer, eid), dundi_addr_str(&t->addr, who, sizeof(who)));
            return true;
        }
    }
    log_notice("%s with peer %s: our key was refused (ENCREJ) again or cannot be resent (%s)", what(r->cmd),
               eid_to_str(&r->peer, eid), dundi_addr_str(&t->addr, who, sizeof(who)));
    r->rejected = true;
    if (!dundi_hdr_final(h))
        trans_send(t, DUNDI_CMD_CANCEL, true, NULL);
    return false;
}

static void on_command(struct trans *t, struct dundi_hdr *h, const uint8_t *ies, size_t len)
{
    struct outreq *r = t->owner;
    struct server *s = r->s;
    struct dundi_ies *ie = &s->scratch->ies;
    struct dundi_hdr ih;
    bool in_envelope = false;

    if (dundi_ies_decode(ies, len, ie) < 0) {
        s->stats.ies_malformed++;
        return;
    }
    if (dundi_hdr_cmd(h) == DUNDI_CMD_ENCRYPT) {
        if (trans_open_envelope(t, h, ie, s->scratch->inner, &ih, &ies, &len) != CRYPTO_OK ||
            dundi_ies_decode(ies, len, ie) < 0) {
            s->stats.crypto_rejected++;
            return;
        }
        h = &ih;
        in_envelope = true;
    }
    uint8_t cmd = dundi_hdr_cmd(h);
    if (cmd == DUNDI_CMD_ENCREJ) {
        on_encrej(r, h);
        return;
    }
    if (cmd != reply_of(r->cmd)) {
        trans_default_command(t, h);
        return;
    }
    if (t->encrypted && !in_envelope) { /* a keyed peer's clear answer proves nothing (6.1) */
        s->stats.crypto_rejected++;
        if (!dundi_hdr_final(h)) {
            struct dundi_ieb *b = &s->scratch->req;
            dundi_ieb_init(b, 0);
            dundi_ie_put_cause(b, DUNDI_CAUSE_NOAUTH, "Improper signature in answer");
            trans_send(t, DUNDI_CMD_CANCEL, true, b);
        }
        return;
    }
    if (r->cmd != DUNDI_CMD_NULL)
        peer_heard(s, &r->peer);
    if (r->ops && r->ops->on_reply)
        r->ops->on_reply(r->ctx, r, ie);
    /* The caller may have cancelled, which already told the peer. */
    if (!dundi_hdr_final(h) && !t->dead && r->ops)
        trans_send(t, DUNDI_CMD_CANCEL, true, NULL);
}

static void on_end(struct trans *t, enum trans_end why)
{
    struct outreq *r = t->owner;
    enum outreq_end e = why == TRANS_END_TIMEOUT    ? OUTREQ_TIMEOUT
                        : why == TRANS_END_AUTOKILL ? OUTREQ_AUTOKILL
                        : why == TRANS_END_ABORT    ? OUTREQ_ABORTED
                                                    : OUTREQ_DONE;
    if (r->rejected)
        e = OUTREQ_REJECTED;
    timerq_cancel(&r->s->loop.tq, &r->deadline);
    t->owner = NULL;
    /* Passive failure detection: an unanswered request makes its peer
     * suspect (qualify's pings decide for themselves). */
    if ((e == OUTREQ_TIMEOUT || e == OUTREQ_AUTOKILL) && r->cmd != DUNDI_CMD_NULL)
        peer_went_silent(r->s, &r->peer, r->sent_ms);
    if (r->ops && r->ops->on_end)
        r->ops->on_end(r->ctx, r, e);
    free(r);
}

static const struct trans_handler outreq_handler = {on_command, on_end};

/* Our deadline: the caller stops waiting now; the peer gets a CANCEL and
 * the transaction ends by itself (it may still need its ACK). */
static void on_deadline(void *arg)
{
    struct outreq *r = arg;
    const struct outreq_ops *ops = r->ops;
    r->ops = NULL;
    if (!r->t->dead)
        trans_send(r->t, DUNDI_CMD_CANCEL, true, NULL);
    if (ops && ops->on_end)
        ops->on_end(r->ctx, r, OUTREQ_DEADLINE);
}

struct outreq *outreq_send(struct server *s, const struct peer_conf *p, uint8_t cmd, const struct dundi_ieb *ies,
                           const struct outreq_ops *ops, void *ctx)
{
    const struct dundi_addr *to = server_peer_addr(s, p);
    struct outreq *r = to ? calloc(1, sizeof(*r)) : NULL;
    struct trans *t = r ? trans_open(s->eng, to, &outreq_handler, r) : NULL;
    if (!t) {
        free(r);
        return NULL;
    }
    r->s = s;
    r->t = t;
    r->peer = p->eid;
    r->cmd = cmd;
    r->ops = ops;
    r->ctx = ctx;
    timer_init(&r->deadline, on_deadline, r);
    bool ping = cmd == DUNDI_CMD_NULL;
    if (p->inkey_pub && !ping && encrypt_to(s, t, p) < 0) {
        char eid[EID_STR_LEN];
        log_warning("peer %s: cannot set up encryption; not asked", eid_to_str(&p->eid, eid));
        r->ops = NULL;
        trans_destroy(t, TRANS_END_ABORT);
        return NULL;
    }
    if (cmd == DUNDI_CMD_DPDISCOVER || cmd == DUNDI_CMD_EIDQUERY || cmd == DUNDI_CMD_PRECACHERQ)
        t->autokill_ms = (unsigned)config_peer_autokill(s->conf, p);
    t->rexmit_ms = peer_rexmit_ms(s, p);
    r->sent_ms = clock_now_ms();
    if (trans_send(t, cmd, ping, ies) != DUNDI_OK) {
        r->ops = NULL;
        trans_destroy(t, TRANS_END_ABORT);
        return NULL;
    }
    return r;
}

void outreq_cancel(struct outreq *r)
{
    if (!r)
        return;
    r->ops = NULL;
    timerq_cancel(&r->s->loop.tq, &r->deadline);
    if (!r->t->dead)
        trans_send(r->t, DUNDI_CMD_CANCEL, true, NULL);
}

void outreq_drop(struct outreq *r)
{
    if (!r)
        return;
    r->ops = NULL;
    trans_destroy(r->t, TRANS_END_ABORT);
}

void outreq_set_deadline(struct outreq *r, uint64_t ms) { timerq_arm(&r->s->loop.tq, &r->deadline, ms); }

const eid_t *outreq_peer(const struct outreq *r) { return &r->peer; }

uint64_t outreq_sent_ms(const struct outreq *r) { return r->sent_ms; }

const struct dundi_addr *outreq_addr(const struct outreq *r) { return &r->t->addr; }
