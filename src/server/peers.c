/* Keeping peers: session keys for what we send them, qualify pings (7.3)
 * and registration with the peers we register with (7.4). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dundid/clock.h"
#include "dundid/log.h"
#include "dundid/server.h"

#define QUALIFY_FIRST_MS 5000
#define QUALIFY_EVERY_MS 60000
#define QUALIFY_UNREACHABLE_EVERY_MS 10000
#define REGISTER_FIRST_MS 2000
#define REGISTER_EVERY_MS 60000

int peer_key_ies(struct server *s, const struct peer_conf *p, bool force_full, uint8_t *out, size_t *len,
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
    struct dundi_ieb *b = malloc(sizeof(*b));
    if (!b)
        return -1;
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
    free(b);
    return 0;
}

int peer_encrypt(struct server *s, struct trans *t, const struct peer_conf *p, bool *full)
{
    uint8_t ies[PEER_KEY_IES_MAX];
    size_t len;
    if (peer_key_ies(s, p, false, ies, &len, full) < 0)
        return -1;
    struct peer_state *ps = server_peer_state(s, &p->eid, p);
    if (trans_set_crypto(t, ps->tx.aes, ies, len) < 0)
        return -1;
    t->bound = true;
    t->peer_eid = p->eid;
    return 0;
}

/* ---- reachability ---- */

static const char *qualify_state(const struct peer_conf *p, int rtt, char *buf, size_t len)
{
    if (!p->qualify_ms)
        snprintf(buf, len, "Unmonitored");
    else if (rtt == 0)
        snprintf(buf, len, "UNKNOWN");
    else if (rtt < 0)
        snprintf(buf, len, "UNREACHABLE");
    else
        snprintf(buf, len, "%s (%d ms)", rtt > p->qualify_ms ? "LAGGED" : "OK", rtt);
    return buf;
}

bool peer_usable(struct server *s, const struct peer_conf *p)
{
    if (!p->qualify_ms)
        return true;
    const struct peer_state *ps = server_find_peer_state(s, &p->eid);
    /* No result yet counts as usable; unreachable or lagged does not (4.1). */
    return !ps || ps->rtt_ms == 0 || (ps->rtt_ms > 0 && ps->rtt_ms < p->qualify_ms);
}

bool peer_unreachable(struct server *s, const struct peer_conf *p)
{
    const struct peer_state *ps = p->qualify_ms ? server_find_peer_state(s, &p->eid) : NULL;
    return ps && ps->rtt_ms < 0;
}

unsigned peer_rexmit_ms(struct server *s, const struct peer_conf *p)
{
    const struct peer_state *ps = p->qualify_ms ? server_find_peer_state(s, &p->eid) : NULL;
    if (!ps || ps->rtt_ms <= 1)
        return TRANS_REXMIT_MS;
    unsigned ms = 2u * (unsigned)ps->rtt_ms;
    return ms < 150 ? 150 : ms > TRANS_REXMIT_MS ? TRANS_REXMIT_MS : ms;
}

static void set_rtt(struct server *s, struct peer_state *ps, const struct peer_conf *p, int rtt)
{
    char was[32], now[32], eid[EID_STR_LEN];
    qualify_state(p, ps->rtt_ms, was, sizeof(was));
    bool changed = (ps->rtt_ms < 0) != (rtt < 0) || (ps->rtt_ms > p->qualify_ms) != (rtt > p->qualify_ms) ||
                   (ps->rtt_ms == 0) != (rtt == 0);
    if (rtt < 0 && ps->rtt_ms >= 0)
        resolve_soon(s, ps); /* unreachable: perhaps it moved to another address */
    ps->rtt_ms = rtt;
    /* Transitions are worth a line; every ping is not. */
    if (changed)
        log_notice("peer %s is now %s (was %s)", eid_to_str(&p->eid, eid), qualify_state(p, rtt, now, sizeof(now)),
                   was);
}

static void ping_end(struct trans *t, enum trans_end why)
{
    struct peer_state *ps = t->owner;
    if (!ps)
        return; /* abandoned for a newer ping, or the peer went away */
    struct server *s = t->eng->send_ctx;
    ps->ping = NULL;
    const struct peer_conf *p = config_find_peer(s->conf, &ps->eid);
    if (!p || p->wildcard)
        return;
    if (why == TRANS_END_DONE) {
        uint64_t rtt = clock_now_ms() - ps->ping_sent_ms;
        set_rtt(s, ps, p, rtt < 1 ? 1 : (int)rtt);
    } else if (why == TRANS_END_TIMEOUT) {
        set_rtt(s, ps, p, -1);
    }
}

static void ping_command(struct trans *t, struct dundi_hdr *h, const uint8_t *ies, size_t len)
{
    (void)ies;
    (void)len;
    trans_default_command(t, h);
}

static const struct trans_handler ping_handler = {ping_command, ping_end};

static void qualify_fire(void *arg)
{
    struct peer_state *ps = arg;
    struct server *s = ps->s;
    const struct peer_conf *p = config_find_peer(s->conf, &ps->eid);
    if (!p || p->wildcard || !p->qualify_ms)
        return;
    if (ps->ping) { /* still pending: abandoned, the new one counts */
        ps->ping->owner = NULL;
        trans_destroy(ps->ping, TRANS_END_ABORT);
        ps->ping = NULL;
    }
    const struct dundi_addr *to = server_peer_addr(s, p);
    if (to) {
        /* NULL with F, never encrypted; any node ACKs it. */
        ps->ping = trans_open(s->eng, to, &ping_handler, ps);
        if (ps->ping) {
            ps->ping->rexmit_ms = peer_rexmit_ms(s, p);
            ps->ping_sent_ms = clock_now_ms();
            trans_send(ps->ping, DUNDI_CMD_NULL, true, NULL);
        }
    }
    timerq_arm(&s->loop.tq, &ps->qualify_timer,
               clock_now_ms() + (ps->rtt_ms < 0 ? QUALIFY_UNREACHABLE_EVERY_MS : QUALIFY_EVERY_MS));
}

void peer_qualify_soon(struct server *s, const eid_t *eid)
{
    const struct peer_conf *p = config_find_peer(s->conf, eid);
    struct peer_state *ps = p && p->qualify_ms && !p->wildcard ? server_peer_state(s, eid, p) : NULL;
    if (ps)
        timerq_arm(&s->loop.tq, &ps->qualify_timer, clock_now_ms() + QUALIFY_FIRST_MS);
}

/* ---- registering with a peer (we are the dynamic one) ---- */

static void reg_end(struct trans *t, enum trans_end why)
{
    struct peer_state *ps = t->owner;
    char eid[EID_STR_LEN];
    if (!ps)
        return;
    ps->regtrans = NULL;
    if (why == TRANS_END_TIMEOUT && ps->registered) {
        log_notice("registration with peer %s: no answer", eid_to_str(&ps->eid, eid));
        ps->registered = false;
    }
}

/* Whether the key IEs this transaction opened with carried the full key. */
static bool sent_full_key(const struct trans *t)
{
    for (size_t i = 0; i + 2 <= t->key_ies_len; i += 2u + t->key_ies[i + 1])
        if (t->key_ies[i] == DUNDI_IE_SHAREDKEY)
            return true;
    return false;
}

int peer_encrej(struct server *s, struct trans *t, const eid_t *peer, struct dundi_hdr *h)
{
    const struct peer_conf *p = config_find_peer(s->conf, peer);
    struct peer_state *ps = p && p->inkey_pub ? server_peer_state(s, peer, p) : NULL;
    uint8_t ies[PEER_KEY_IES_MAX], aes[sizeof(t->aes)];
    size_t len;
    bool full;

    /* An expired key would be replaced, and the old envelope not open with the new one. */
    if (!ps || !t->encrypted || sent_full_key(t) || !t->last_acked || !ps->tx_valid ||
        clock_wall_s() >= ps->tx_expires) {
        if (!dundi_hdr_final(h))
            trans_send(t, DUNDI_CMD_CANCEL, true, NULL);
        return -1;
    }
    if (!dundi_hdr_final(h))
        return 0; /* the reference only restarts on a final ENCREJ */
    trans_send(t, DUNDI_CMD_ACK, true, NULL);
    if (peer_key_ies(s, p, true, ies, &len, &full) < 0)
        return -1;
    memcpy(aes, t->aes, sizeof(aes));
    /* Remember that this transaction now carries the full key (for a second ENCREJ). */
    if (trans_set_crypto(t, aes, ies, len) < 0 || trans_restart_with(t, ies, len) < 0)
        return -1;
    h->cmdresp &= (uint8_t)~DUNDI_FLAG_FINAL; /* the restarted transaction lives on */
    return 1;
}

struct trans *peer_open(struct server *s, const struct peer_conf *p, const struct trans_handler *h, void *owner)
{
    const struct dundi_addr *to = server_peer_addr(s, p);
    struct trans *t = to ? trans_open(s->eng, to, h, owner) : NULL;
    bool full;
    if (!t)
        return NULL;
    if (p->inkey_pub && peer_encrypt(s, t, p, &full) < 0) {
        char eid[EID_STR_LEN];
        log_warning("peer %s: cannot set up encryption", eid_to_str(&p->eid, eid));
        t->owner = NULL;
        trans_destroy(t, TRANS_END_ABORT);
        return NULL;
    }
    t->autokill_ms = (unsigned)config_peer_autokill(s->conf, p);
    t->rexmit_ms = peer_rexmit_ms(s, p);
    return t;
}

/* ENCREJ of our REGREQ (6.7): the registrar lost our key (a restart). Once:
 * ACK it, start over at once with the full key and the same envelope. A
 * second ENCREJ ends the attempt until the next scheduled REGREQ. */
static void reg_encrej(struct server *s, struct trans *t, struct peer_state *ps, struct dundi_hdr *h)
{
    char eid[EID_STR_LEN];
    eid_to_str(&ps->eid, eid);
    int rc = peer_encrej(s, t, &ps->eid, h);
    if (rc < 0)
        log_notice("registration with peer %s: key rejected; giving up until the next REGREQ", eid);
    else if (rc > 0)
        log_info("registration with peer %s: key rejected, resending it in full", eid);
}

static void reg_command(struct trans *t, struct dundi_hdr *h, const uint8_t *ies, size_t len)
{
    struct peer_state *ps = t->owner;
    struct server *s = t->eng->send_ctx;
    static uint8_t inner[DUNDI_MAX_INNER];
    struct dundi_hdr ih;
    char eid[EID_STR_LEN];
    bool was_encrypted = false;

    if (!ps || dundi_ies_decode(ies, len, s->ies) < 0)
        return;
    if (dundi_hdr_cmd(h) == DUNDI_CMD_ENCRYPT) {
        if (trans_open_envelope(t, h, s->ies, inner, &ih, &ies, &len) != CRYPTO_OK ||
            dundi_ies_decode(ies, len, s->ies) < 0) {
            s->stats.crypto_rejected++;
            return;
        }
        h = &ih;
        was_encrypted = true;
    }
    uint8_t cmd = dundi_hdr_cmd(h);
    if (cmd == DUNDI_CMD_ENCREJ) {
        reg_encrej(s, t, ps, h);
        return;
    }
    if (cmd != DUNDI_CMD_REGRESPONSE) {
        trans_default_command(t, h);
        return;
    }
    if (t->encrypted && !was_encrypted) { /* a keyed peer's clear answer proves nothing (6.1) */
        if (!dundi_hdr_final(h)) {
            struct dundi_ieb b;
            dundi_ieb_init(&b, 0);
            dundi_ie_put_cause(&b, DUNDI_CAUSE_NOAUTH, "Improper signature in answer");
            trans_send(t, DUNDI_CMD_CANCEL, true, &b);
        }
        return;
    }
    bool ok = s->ies->cause < 1;
    if (ok != ps->registered)
        log_notice("registration with peer %s %s", eid_to_str(&ps->eid, eid),
                   ok ? "accepted" : s->ies->cause_text[0] ? s->ies->cause_text : "refused");
    ps->registered = ok;
    if (!dundi_hdr_final(h))
        trans_send(t, DUNDI_CMD_CANCEL, true, NULL);
}

static const struct trans_handler reg_handler = {reg_command, reg_end};

static void register_fire(void *arg)
{
    struct peer_state *ps = arg;
    struct server *s = ps->s;
    const struct peer_conf *p = config_find_peer(s->conf, &ps->eid);
    if (!p || p->wildcard || !p->reg)
        return;
    timerq_arm(&s->loop.tq, &ps->register_timer, clock_now_ms() + REGISTER_EVERY_MS);
    if (ps->regtrans) { /* each REGREQ is a new transaction */
        ps->regtrans->owner = NULL;
        trans_destroy(ps->regtrans, TRANS_END_ABORT);
        ps->regtrans = NULL;
    }
    const struct dundi_addr *to = server_peer_addr(s, p);
    struct trans *t = to ? trans_open(s->eng, to, &reg_handler, ps) : NULL;
    if (!t)
        return;
    bool full;
    if (p->inkey_pub && peer_encrypt(s, t, p, &full) < 0) {
        t->owner = NULL;
        trans_destroy(t, TRANS_END_ABORT);
        return;
    }
    t->rexmit_ms = peer_rexmit_ms(s, p);
    ps->regtrans = t;
    struct dundi_ieb b;
    dundi_ieb_init(&b, 0);
    dundi_ie_put_u16(&b, DUNDI_IE_VERSION, 1);
    dundi_ie_put_eid(&b, DUNDI_IE_EID, config_us_eid(s->conf, p));
    dundi_ie_put_u16(&b, DUNDI_IE_EXPIRATION, REG_EXPIRATION_S);
    trans_send(t, DUNDI_CMD_REGREQ, false, &b);
}

/* ---- scheduling, at start and after every reload ---- */

void peer_state_timers_init(struct peer_state *ps)
{
    timer_init(&ps->qualify_timer, qualify_fire, ps);
    timer_init(&ps->register_timer, register_fire, ps);
}

void peer_state_detach(struct server *s, struct peer_state *ps)
{
    timerq_cancel(&s->loop.tq, &ps->qualify_timer);
    timerq_cancel(&s->loop.tq, &ps->register_timer);
    if (ps->ping) {
        ps->ping->owner = NULL;
        ps->ping = NULL;
    }
    if (ps->regtrans) {
        ps->regtrans->owner = NULL;
        ps->regtrans = NULL;
    }
}

void peers_schedule(struct server *s)
{
    const struct config *c = s->conf;
    for (size_t i = 0; i < c->npeers; i++) {
        const struct peer_conf *p = &c->peers[i];
        if (p->wildcard || (!p->qualify_ms && !p->reg))
            continue;
        struct peer_state *ps = server_peer_state(s, &p->eid, p);
        if (!ps)
            continue;
        /* Peers that keep their settings keep their rhythm across reloads. */
        if (p->qualify_ms && !timer_armed(&ps->qualify_timer))
            timerq_arm(&s->loop.tq, &ps->qualify_timer, clock_now_ms() + QUALIFY_FIRST_MS);
        if (p->reg && !timer_armed(&ps->register_timer))
            timerq_arm(&s->loop.tq, &ps->register_timer, clock_now_ms() + REGISTER_FIRST_MS);
    }
    for (struct peer_state *ps = s->pstates; ps; ps = ps->next) {
        const struct peer_conf *p = config_find_peer(c, &ps->eid);
        if (!p || p->wildcard || !p->qualify_ms) {
            timerq_cancel(&s->loop.tq, &ps->qualify_timer);
            ps->rtt_ms = 0;
        }
        if (!p || p->wildcard || !p->reg)
            timerq_cancel(&s->loop.tq, &ps->register_timer);
    }
}
