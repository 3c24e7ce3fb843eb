/* DUNDi transaction state machine (protocol sections 1.3-1.8). */
#include "dundid/trans.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "dundid/clock.h"
#include "dundid/crypto.h"
#include "dundid/hash.h"
#include "dundid/ratelimit.h"

struct trans_pkt {
    struct trans_pkt *next;
    struct trans *t;
    struct timer timer;
    unsigned retries;
    uint8_t oseqno;
    size_t len;
    uint8_t data[];
};

/* Hash of (address, remote id) for recognising repeats of a first packet. */
static size_t remote_slot(const struct dundi_addr *a, uint16_t rid)
{
    return fnv1a32(dundi_addr_hash(a, FNV32_BASIS), &rid, sizeof(rid)) & (TRANS_ID_SPACE - 1);
}

static void remote_unlink(struct trans *t)
{
    if (!t->remote_id)
        return;
    struct trans **pp = &t->eng->by_remote[remote_slot(&t->addr, t->remote_id)];
    for (; *pp; pp = &(*pp)->next_remote)
        if (*pp == t) {
            *pp = t->next_remote;
            break;
        }
    t->next_remote = NULL;
}

static void set_remote_id(struct trans *t, uint16_t rid)
{
    if (rid == t->remote_id)
        return;
    remote_unlink(t);
    t->remote_id = rid;
    if (rid) {
        struct trans **head = &t->eng->by_remote[remote_slot(&t->addr, rid)];
        t->next_remote = *head;
        *head = t;
    }
}

struct trans_engine *trans_engine_new(struct timerq *tq, const struct trans_handler *inbound, size_t max)
{
    struct trans_engine *e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    e->tq = tq;
    e->inbound = inbound;
    e->max = max && max < TRANS_ID_SPACE - 2 ? max : TRANS_ID_SPACE - 2;
    /* Random start as the reference does, so restarts do not reuse ids at once. */
    uint16_t r;
    if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
        r = 1;
    e->next_id = (uint16_t)(r % (TRANS_ID_SPACE - 2) + 1);
    return e;
}

static void free_zombies(struct trans_engine *e)
{
    while (e->zombies) {
        struct trans *t = e->zombies;
        e->zombies = t->next_all;
        free(t->key_ies);
        free(t);
    }
}

void trans_engine_free(struct trans_engine *e)
{
    if (!e)
        return;
    e->depth++;
    while (e->all)
        trans_destroy(e->all, TRANS_END_ABORT);
    e->depth--;
    free_zombies(e);
    srccount_clear(&e->src);
    free(e);
}

static uint16_t alloc_id(struct trans_engine *e)
{
    for (unsigned n = 0; n < TRANS_ID_SPACE; n++) {
        uint16_t id = e->next_id;
        e->next_id = (uint16_t)(id >= TRANS_ID_SPACE - 2 ? 1 : id + 1);
        if (!e->by_id[id])
            return id;
    }
    return 0;
}

static void autokill_fire(void *arg)
{
    struct trans *t = arg;
    t->eng->stats.autokilled++;
    trans_destroy(t, TRANS_END_AUTOKILL);
}

static void idle_fire(void *arg)
{
    struct trans *t = arg;
    t->eng->stats.idle_ended++;
    trans_destroy(t, TRANS_END_TIMEOUT);
}

static struct trans *trans_new(struct trans_engine *e, const struct dundi_addr *addr, const struct trans_handler *h,
                               void *owner)
{
    if (e->count >= e->max) {
        e->stats.refused_full++;
        return NULL;
    }
    struct src_node *src = srccount_get(&e->src, addr, e->max_per_source);
    if (!src) {
        e->stats.refused_source++;
        return NULL;
    }
    struct trans *t = calloc(1, sizeof(*t));
    uint16_t id = t ? alloc_id(e) : 0;
    if (!id) {
        srccount_put(&e->src, src);
        free(t);
        return NULL;
    }
    t->id = id;
    t->src = src;
    t->eng = e;
    t->addr = *addr;
    t->rexmit_ms = TRANS_REXMIT_MS;
    t->handler = h;
    t->owner = owner;
    timer_init(&t->autokill, autokill_fire, t);
    timer_init(&t->idle, idle_fire, t);
    timerq_arm(e->tq, &t->idle, clock_now_ms() + TRANS_IDLE_MS);
    e->by_id[t->id] = t;
    t->next_all = e->all;
    if (e->all)
        e->all->prev_all = t;
    e->all = t;
    e->count++;
    e->stats.created++;
    return t;
}

struct trans *trans_open(struct trans_engine *e, const struct dundi_addr *to, const struct trans_handler *h,
                         void *owner)
{
    struct trans *t = trans_new(e, to, h, owner);
    if (t)
        t->opened = true;
    return t;
}

int trans_set_crypto(struct trans *t, const uint8_t aes[16], const uint8_t *key_ies, size_t key_ies_len)
{
    uint8_t *copy = NULL;
    if (key_ies_len) {
        if (!(copy = malloc(key_ies_len)))
            return -1;
        memcpy(copy, key_ies, key_ies_len);
    }
    free(t->key_ies);
    t->key_ies = copy;
    t->key_ies_len = key_ies_len;
    memcpy(t->aes, aes, sizeof(t->aes));
    t->encrypted = true;
    return 0;
}

bool trans_cmd_encrypted(uint8_t cmd)
{
    switch (cmd) {
    case DUNDI_CMD_REGREQ:
    case DUNDI_CMD_REGRESPONSE:
    case DUNDI_CMD_DPDISCOVER:
    case DUNDI_CMD_DPRESPONSE:
    case DUNDI_CMD_EIDQUERY:
    case DUNDI_CMD_EIDRESPONSE:
    case DUNDI_CMD_PRECACHERQ:
    case DUNDI_CMD_PRECACHERP: return true;
    }
    return false;
}

static void pkt_free(struct trans_engine *e, struct trans_pkt *p)
{
    timerq_cancel(e->tq, &p->timer);
    free(p);
}

/* Drop the outstanding packets and the id lookups of a transaction. */
static void forget_wire_state(struct trans *t)
{
    while (t->out) {
        struct trans_pkt *p = t->out;
        t->out = p->next;
        pkt_free(t->eng, p);
    }
    remote_unlink(t);
    t->eng->by_id[t->id] = NULL;
}

void trans_destroy(struct trans *t, enum trans_end why)
{
    struct trans_engine *e = t->eng;
    if (t->dead)
        return;
    t->dead = true;
    timerq_cancel(e->tq, &t->autokill);
    timerq_cancel(e->tq, &t->idle);
    forget_wire_state(t);
    if (t->prev_all)
        t->prev_all->next_all = t->next_all;
    else
        e->all = t->next_all;
    if (t->next_all)
        t->next_all->prev_all = t->prev_all;
    e->count--;
    srccount_put(&e->src, t->src);
    t->src = NULL;
    if (t->handler && t->handler->on_end)
        t->handler->on_end(t, why);
    /* Input processing may still hold a pointer: free it when input returns. */
    t->next_all = e->zombies;
    e->zombies = t;
    if (!e->depth)
        free_zombies(e);
}

static void xmit(struct trans_engine *e, const struct dundi_addr *to, const uint8_t *pkt, size_t len)
{
    e->stats.tx++;
    e->stats.tx_bytes += len;
    e->send(e->send_ctx, to, pkt, len);
}

static void rexmit_fire(void *arg)
{
    struct trans_pkt *p = arg;
    struct trans *t = p->t;
    struct trans_engine *e = t->eng;

    if (p->retries >= TRANS_RETRIES) {
        e->stats.timeouts++;
        e->depth++;
        trans_destroy(t, TRANS_END_TIMEOUT);
        e->depth--;
        free_zombies(e);
        return;
    }
    p->retries++;
    e->stats.tx_retransmit++;
    /* Byte-identical copy: the reference never sets the retransmission bit. */
    xmit(e, &t->addr, p->data, p->len);
    timerq_arm(e->tq, &p->timer, clock_now_ms() + t->rexmit_ms);
}

static bool arms_autokill(uint8_t cmd)
{
    return cmd == DUNDI_CMD_DPDISCOVER || cmd == DUNDI_CMD_EIDQUERY || cmd == DUNDI_CMD_PRECACHERQ;
}

/* Wrap the plaintext packet in an ENCRYPT envelope (6.5) into out. */
static int seal(struct trans *t, const uint8_t *plain, size_t len, uint8_t *out, size_t cap, size_t *outlen)
{
    uint8_t iv[DUNDI_IV_LEN], ct[DUNDI_MAX_PACKET + 16];
    size_t ctlen;
    struct dundi_ieb b;

    if (crypto_seal(t->aes, plain, len, iv, ct, sizeof(ct), &ctlen) != CRYPTO_OK)
        return DUNDI_E_NO_SPACE;
    dundi_ieb_init(&b, 0);
    /* The first packet of a transaction we opened introduces the key. */
    if (t->opened && plain[4] == 0 && plain[5] == 0 && t->key_ies_len) {
        if (t->key_ies_len > sizeof(b.buf))
            return DUNDI_E_NO_SPACE;
        memcpy(b.buf, t->key_ies, t->key_ies_len);
        b.len = t->key_ies_len;
    }
    dundi_ie_put_encdata(&b, iv, ct, ctlen);
    if (b.err || DUNDI_HDR_LEN + b.len > cap)
        return DUNDI_E_NO_SPACE;
    memcpy(out, plain, 6);
    out[6] = DUNDI_CMD_ENCRYPT; /* F travels inside */
    out[7] = 0;
    memcpy(out + DUNDI_HDR_LEN, b.buf, b.len);
    *outlen = DUNDI_HDR_LEN + b.len;
    return DUNDI_OK;
}

static int send_pkt(struct trans *t, uint8_t cmd, bool final, const struct dundi_ieb *ies, bool keep)
{
    struct trans_engine *e = t->eng;
    size_t ieslen = ies ? ies->len : 0;
    size_t len = DUNDI_HDR_LEN + ieslen;
    uint8_t plain[DUNDI_MAX_PACKET];

    if (t->dead)
        return DUNDI_E_NO_SPACE;
    if (ies && ies->err)
        return ies->err;
    if (len > DUNDI_MAX_PACKET)
        return DUNDI_E_NO_SPACE;
    bool is_ack = cmd == DUNDI_CMD_ACK;
    if (is_ack && ieslen)
        return DUNDI_E_NO_SPACE; /* ACKs carry no IEs */
    struct dundi_hdr h = {
        .strans = t->id,
        .dtrans = t->remote_id,
        .iseqno = t->iseqno,
        .oseqno = t->oseqno,
        .cmdresp = (uint8_t)(cmd | (final ? DUNDI_FLAG_FINAL : 0)),
        .cmdflags = 0,
    };
    dundi_hdr_encode(&h, plain);
    if (ieslen)
        memcpy(plain + DUNDI_HDR_LEN, ies->buf, ieslen);

    const uint8_t *wire = plain;
    size_t wirelen = len;
    uint8_t env[DUNDI_MAX_PACKET];
    if (t->encrypted && trans_cmd_encrypted(cmd)) {
        if (e->inner)
            e->inner(e->inner_ctx, true, t, &h, ies ? ies->buf : NULL, ieslen);
        int rc = seal(t, plain, len, env, sizeof(env), &wirelen);
        if (rc != DUNDI_OK)
            return rc;
        wire = env;
    }
    if (!is_ack && keep) {
        /* The stored copy is the on-wire form: retransmissions are byte-identical. */
        struct trans_pkt *p = malloc(sizeof(*p) + wirelen);
        if (!p)
            return DUNDI_E_NO_SPACE;
        p->t = t;
        p->retries = 0;
        p->oseqno = t->oseqno;
        p->len = wirelen;
        memcpy(p->data, wire, wirelen);
        timer_init(&p->timer, rexmit_fire, p);
        p->next = t->out;
        t->out = p;
        timerq_arm(e->tq, &p->timer, clock_now_ms() + t->rexmit_ms);
        t->oseqno++;
        if (t->autokill_ms && arms_autokill(cmd))
            timerq_arm(e->tq, &t->autokill, clock_now_ms() + t->autokill_ms);
    }
    t->acked_iseqno = t->iseqno;
    if (final)
        t->final_sent = true;
    xmit(e, &t->addr, wire, wirelen);
    return DUNDI_OK;
}

int trans_open_envelope(struct trans *t, struct dundi_hdr *h, const struct dundi_ies *outer, uint8_t *inner,
                        struct dundi_hdr *ih, const uint8_t **ies, size_t *ieslen)
{
    size_t n;
    if (!t->encrypted || !outer->encdata)
        return CRYPTO_E_BLOCK;
    int rc = crypto_open(t->aes, outer->encdata, outer->encdata_len, inner, DUNDI_MAX_INNER, &n);
    if (rc != CRYPTO_OK)
        return rc;
    /* The inner packet: the envelope's first six header bytes, then what was compressed. */
    *ih = *h;
    ih->cmdresp = inner[0];
    ih->cmdflags = inner[1];
    h->cmdresp |= ih->cmdresp & DUNDI_FLAG_FINAL; /* so the generic rules ACK and end it */
    *ies = inner + 2;
    *ieslen = n - 2;
    if (t->eng->inner)
        t->eng->inner(t->eng->inner_ctx, false, t, ih, *ies, *ieslen);
    return CRYPTO_OK;
}

int trans_restart_with(struct trans *t, const uint8_t *key_ies, size_t key_ies_len)
{
    struct trans_engine *e = t->eng;
    struct dundi_ies *old = malloc(sizeof(*old));
    int rc = -1;

    if (!old || !t->last_acked || t->last_acked_len < DUNDI_HDR_LEN)
        goto out;
    if (dundi_ies_decode(t->last_acked + DUNDI_HDR_LEN, t->last_acked_len - DUNDI_HDR_LEN, old) < 0 ||
        !old->encdata || old->encdata_len < DUNDI_IV_LEN)
        goto out;
    uint16_t id = alloc_id(e);
    if (!id)
        goto out;
    /* New ids and counters: to the peer this is a new transaction. */
    forget_wire_state(t);
    t->id = id;
    e->by_id[id] = t;
    t->remote_id = 0;
    t->iseqno = t->oseqno = t->prev_iseqno = t->acked_iseqno = 0;
    t->final_sent = false;

    /* Same ENCDATA (same key, and the inner bytes exclude header bytes 0..5). */
    struct dundi_ieb b;
    dundi_ieb_init(&b, 0);
    if (key_ies_len > sizeof(b.buf))
        goto out;
    memcpy(b.buf, key_ies, key_ies_len);
    b.len = key_ies_len;
    dundi_ie_put_encdata(&b, old->encdata, old->encdata + DUNDI_IV_LEN, old->encdata_len - DUNDI_IV_LEN);
    bool enc = t->encrypted;
    t->encrypted = false; /* the envelope is already built */
    rc = trans_send(t, DUNDI_CMD_ENCRYPT, false, &b) == DUNDI_OK ? 0 : -1;
    t->encrypted = enc;
out:
    free(old);
    return rc;
}

int trans_send(struct trans *t, uint8_t cmd, bool final, const struct dundi_ieb *ies)
{
    return send_pkt(t, cmd, final, ies, true);
}

int trans_reply_once(struct trans *t, uint8_t cmd, const struct dundi_ieb *ies)
{
    struct trans_engine *e = t->eng;
    int rc = send_pkt(t, cmd, true, ies, false);
    if (!t->dead) {
        e->tomb[e->tomb_next] = (struct trans_tomb){.addr = t->addr, .id = t->id, .remote_id = t->remote_id};
        e->tomb_next = (e->tomb_next + 1) % TRANS_TOMBSTONES;
    }
    trans_destroy(t, TRANS_END_DONE);
    return rc;
}

static void send_ack(struct trans *t, bool final) { trans_send(t, DUNDI_CMD_ACK, final, NULL); }

/* INVALID for a datagram of no transaction: header fields mirrored (1.7). */
static void send_invalid(struct trans_engine *e, const struct dundi_addr *to, const struct dundi_hdr *rx)
{
    struct dundi_hdr h = {
        .strans = rx->dtrans,
        .dtrans = rx->strans,
        .iseqno = rx->oseqno,
        .oseqno = rx->iseqno,
        .cmdresp = DUNDI_CMD_INVALID,
    };
    uint8_t buf[DUNDI_HDR_LEN];
    if (e->rl && !ratelimit_allow(e->rl, to, clock_now_ms())) {
        e->stats.tx_invalid_suppressed++;
        return;
    }
    dundi_hdr_encode(&h, buf);
    e->stats.tx_invalid++;
    xmit(e, to, buf, sizeof(buf));
}

/* Is this the ACK of a refusal we sent once? It is absorbed (and forgotten). */
static bool late_ack(struct trans_engine *e, const struct dundi_addr *from, const struct dundi_hdr *h)
{
    if (dundi_hdr_cmd(h) != DUNDI_CMD_ACK)
        return false;
    uint16_t id = h->dtrans & DUNDI_TRANS_MASK, rid = h->strans & DUNDI_TRANS_MASK;
    for (unsigned i = 0; i < TRANS_TOMBSTONES; i++) {
        struct trans_tomb *tb = &e->tomb[i];
        if (tb->id && tb->id == id && tb->remote_id == rid && dundi_addr_equal(&tb->addr, from)) {
            tb->id = 0;
            e->stats.rx_late_ack++;
            return true;
        }
    }
    return false;
}

static bool may_open(uint8_t cmd)
{
    switch (cmd) {
    case DUNDI_CMD_DPDISCOVER:
    case DUNDI_CMD_EIDQUERY:
    case DUNDI_CMD_PRECACHERQ:
    case DUNDI_CMD_NULL:
    case DUNDI_CMD_REGREQ:
    case DUNDI_CMD_ENCRYPT: return true;
    }
    return false;
}

static struct trans *find(struct trans_engine *e, const struct dundi_addr *from, const struct dundi_hdr *h)
{
    uint16_t did = h->dtrans & DUNDI_TRANS_MASK;
    struct trans *t = did ? e->by_id[did] : NULL;
    if (t && dundi_addr_equal(&t->addr, from))
        return t;
    /* A repeat of a first packet: the raw dtrans is 0 and strans is known. */
    uint16_t sid = h->strans & DUNDI_TRANS_MASK;
    if (h->dtrans == 0 && sid) {
        for (t = e->by_remote[remote_slot(from, sid)]; t; t = t->next_remote)
            if (t->remote_id == sid && dundi_addr_equal(&t->addr, from))
                return t;
    }
    return NULL;
}

/* Our outstanding packet n is acknowledged by iseqno n+1 (mod 255, as the
 * reference computes). The packet is handed back: ENCREJ handling needs it. */
static struct trans_pkt *ack_outstanding(struct trans *t, uint8_t iseqno)
{
    for (struct trans_pkt **pp = &t->out; *pp; pp = &(*pp)->next) {
        struct trans_pkt *p = *pp;
        if ((uint8_t)((p->oseqno + 1) % 255) == iseqno) {
            *pp = p->next;
            timerq_cancel(t->eng->tq, &p->timer);
            timerq_cancel(t->eng->tq, &t->autokill);
            return p;
        }
    }
    return NULL;
}

static void input(struct trans_engine *e, const struct dundi_addr *from, const uint8_t *pkt, size_t len)
{
    struct dundi_hdr h;

    e->stats.rx++;
    e->stats.rx_bytes += len;
    if (dundi_hdr_decode(pkt, len, &h) != DUNDI_OK) {
        e->stats.rx_malformed++;
        return;
    }
    uint8_t cmd = dundi_hdr_cmd(&h);
    struct trans *t = find(e, from, &h);
    if (!t) {
        if (may_open(cmd) && (h.strans & DUNDI_TRANS_MASK)) {
            /* A first packet that is not packet 0 could never be processed in
             * order: the reference would keep a transaction for it until it
             * times out; we keep nothing (and, as it does, send nothing). */
            if (h.oseqno != 0) {
                e->stats.rx_out_of_window++;
                return;
            }
            t = trans_new(e, from, e->inbound, NULL);
            if (!t)
                return; /* table full: counted; the peer retransmits */
        } else if (late_ack(e, from, &h)) {
            return;
        } else {
            e->stats.rx_unknown++;
            if (h.cmdresp != DUNDI_CMD_INVALID)
                send_invalid(e, from, &h);
            return;
        }
    }
    if (h.strans)
        set_remote_id(t, h.strans & DUNDI_TRANS_MASK);
    timerq_arm(e->tq, &t->idle, clock_now_ms() + TRANS_IDLE_MS);

    if (h.oseqno == t->iseqno) {
        struct trans_pkt *acked = ack_outstanding(t, h.iseqno);
        if (acked && t->final_sent) {
            free(acked);
            trans_destroy(t, TRANS_END_DONE);
            return;
        }
        if (h.cmdresp != DUNDI_CMD_ACK) {
            t->prev_iseqno = t->iseqno;
            t->iseqno++;
            /* An ACK with F is counted but, like any unknown final command, not processed. */
            if (cmd != DUNDI_CMD_ACK && t->handler && t->handler->on_command) {
                t->last_acked = acked ? acked->data : NULL;
                t->last_acked_len = acked ? acked->len : 0;
                /* The handler may copy an envelope's inner F bit onto h. */
                t->handler->on_command(t, &h, pkt + DUNDI_HDR_LEN, len - DUNDI_HDR_LEN);
                t->last_acked = NULL;
                t->last_acked_len = 0;
            }
        }
        free(acked);
        if (t->dead)
            return;
        if (t->acked_iseqno != t->iseqno)
            send_ack(t, dundi_hdr_final(&h));
        if (dundi_hdr_final(&h))
            trans_destroy(t, TRANS_END_DONE);
    } else if (h.oseqno == t->prev_iseqno && cmd != DUNDI_CMD_ACK) {
        e->stats.rx_duplicate++;
        send_ack(t, false);
    } else {
        e->stats.rx_out_of_window++;
    }
}

void trans_engine_input(struct trans_engine *e, const struct dundi_addr *from, const uint8_t *pkt, size_t len)
{
    e->depth++;
    input(e, from, pkt, len);
    e->depth--;
    if (!e->depth)
        free_zombies(e);
}

/* On a transaction a peer opened and we never answered, a final reply ends
 * it at once: nothing unauthenticated may make us keep and resend state. */
static void final_reply(struct trans *t, uint8_t cmd, const struct dundi_ieb *ies)
{
    if (!t->opened && t->oseqno == 0 && t->iseqno == 1) {
        if (t->eng->rl && !ratelimit_allow(t->eng->rl, &t->addr, clock_now_ms())) {
            t->eng->stats.tx_invalid_suppressed++;
            trans_destroy(t, TRANS_END_ABORT);
        } else {
            trans_reply_once(t, cmd, ies);
        }
    } else {
        trans_send(t, cmd, true, ies);
    }
}

void trans_default_command(struct trans *t, const struct dundi_hdr *h)
{
    uint8_t cmd = dundi_hdr_cmd(h);
    bool final = dundi_hdr_final(h);

    switch (cmd) {
    case DUNDI_CMD_DPRESPONSE:
    case DUNDI_CMD_EIDRESPONSE:
    case DUNDI_CMD_PRECACHERP:
    case DUNDI_CMD_REGRESPONSE:
    case DUNDI_CMD_NULL:
    case DUNDI_CMD_INVALID:
        if (!final)
            final_reply(t, DUNDI_CMD_CANCEL, NULL);
        break;
    case DUNDI_CMD_CANCEL:
    case DUNDI_CMD_UNKNOWN:
        /* The peer gave up or did not understand us: end quietly once ACKed. */
        if (!final) {
            send_ack(t, false);
            trans_destroy(t, TRANS_END_DONE);
        }
        break;
    default:
        if (!final) {
            struct dundi_ieb ies;
            dundi_ieb_init(&ies, 0);
            dundi_ie_put_raw(&ies, DUNDI_IE_UNKNOWN, &cmd, 1);
            /* Always final: two reference-like peers would bounce a non-final UNKNOWN. */
            final_reply(t, DUNDI_CMD_UNKNOWN, &ies);
        }
        break;
    }
}
