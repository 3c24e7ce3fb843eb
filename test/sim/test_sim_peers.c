/* Simulated scenarios: peer upkeep, qualify (7.3) and registration (7.4),
 * with real daemons and with peers played by the scenario (agents). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../unit/testutil.h"
#include "sim.h"

#define A_ADDR "127.0.16.1:4520"
#define B_ADDR "127.0.16.2:4520"
#define F1_ADDR1 "127.0.16.5:4520"
#define F1_ADDR2 "127.0.16.6:4520"
#define F2_ADDR "127.0.16.7:4520"
#define REG_ADDR "127.0.16.8:4520"

#define A_EID "02:00:00:00:02:00"
#define B_EID "02:00:00:00:02:01"
#define F1_EID "02:00:00:00:02:05"
#define F2_EID "02:00:00:00:02:07"

static const char *keydir;

static char *conf(const char *host, const char *eid, const char *rest)
{
    static char buf[8][4096];
    static unsigned next;
    char *b = buf[next++ % 8];
    snprintf(b, sizeof(buf[0]),
             "[general]\nbindaddr = %s\nport = 4520\nentityid = %s\ncachetime = 5\nttl = 2\nipaddr = %s\n"
             "keydir = @KEYDIR@\nresolv_conf = /dev/null\n[registrations]\nstatefile = none\n%s",
             host, eid, host, rest);
    return b;
}

#define KEYED "inkey = dundi\noutkey = dundi\n"
#define PEER(eid, host) "[" eid "]\nmodel = symmetric\nhost = " host "\ninclude = priv\npermit = priv\n"
#define PORT "port = 4520\n"

/* A: B's registrar; a lookup server only, or one that answers 1004 itself. */
static const char *a_conf(bool local)
{
    return conf("127.0.16.1", A_EID,
                local ? "[mappings]\npriv => regs,0,SIP,${NUMBER}@a\n[context regs]\nexten => 1004\n" PEER(
                            B_EID, "dynamic") KEYED "qualify = yes\n"
                      : "[mappings]\npriv =>\n" PEER(B_EID, "dynamic") KEYED "qualify = yes\n");
}

/* B registers with A (at registrar), answers 1002 or nothing. */
static const char *b_conf(const char *registrar, bool qualify, bool local)
{
    static char rest[2048];
    snprintf(rest, sizeof(rest),
             "[mappings]\n%s[context regs]\nexten => 1002\n[" A_EID "]\nmodel = symmetric\nhost = %s\n" PORT
             "include = priv\npermit = priv\n" KEYED "register = yes\n%s",
             local ? "priv => regs,0,SIP,${NUMBER}@b\n" : "priv =>\n", registrar, qualify ? "qualify = yes\n" : "");
    return conf("127.0.16.2", B_EID, rest);
}

static uint64_t run_until_registered(struct sim *w, struct sim_node *registrar, const char *eid, uint64_t limit)
{
    uint64_t start = sim_now(w);
    while (!sim_peer_addr(registrar, eid)[0] && sim_now(w) - start < limit)
        sim_run(w, 10);
    return sim_now(w) - start;
}

/* B registers with A 2 s after its load; A's lookups reach B only then; both
 * qualify each other 5 s later; a reload of A keeps both. */
static void register_lookup_qualify_reload(void)
{
    struct sim *w = sim_new(21, keydir);
    struct sim_answer a;
    struct sim_node *na = sim_node(w, "A", A_ADDR, a_conf(false));
    sim_run(w, 500);
    CHECK(sim_lookup(na, "1002", "priv", false, 5000, &a), "lookup before B");
    CHECK_INT(a.local.n + a.fwd.res.n, 0);
    CHECK_INT(a.fwd.asked, 0);

    struct sim_node *nb = sim_node(w, "B", B_ADDR, b_conf("127.0.16.1", true, true));
    uint64_t t_b = sim_now(w);
    uint64_t took = run_until_registered(w, na, B_EID, 5000);
    CHECK(took >= 2000 && took < 2100, "registered %llu ms after B's start", (unsigned long long)took);
    CHECK_STR(sim_peer_addr(na, B_EID), B_ADDR);
    sim_run(w, 20);
    CHECK(sim_peer_registered(nb, A_EID), "B knows its registration was accepted");
    uint64_t t_reg = sim_now(w);

    if (CHECK(sim_lookup(na, "1002", "priv", false, 5000, &a), "lookup after the registration"))
        CHECK_INT(sim_answers_with(&a, "1002@b"), 1);

    /* B pings A 5 s after its load; A pings B 5 s after the registration. */
    sim_run(w, t_b + 4900 - sim_now(w));
    CHECK_INT(sim_peer_rtt(nb, A_EID), 0);
    sim_run(w, 200);
    int rb = sim_peer_rtt(nb, A_EID);
    CHECK(rb >= 1 && rb < 1000, "B qualified A: %d ms", rb);
    CHECK_INT(sim_peer_rtt(na, B_EID), 0);
    sim_run(w, t_reg + 5200 - sim_now(w));
    int ra = sim_peer_rtt(na, B_EID);
    CHECK(ra >= 1 && ra < 1000, "A qualified B: %d ms", ra);

    /* The same configuration again: registration and reachability stay. */
    CHECK_INT(sim_reload(na, a_conf(false)), 0);
    CHECK_STR(sim_peer_addr(na, B_EID), B_ADDR);
    CHECK_INT(sim_peer_rtt(na, B_EID), ra);
    if (CHECK(sim_lookup(na, "1002", "priv", true, 5000, &a), "lookup after the reload"))
        CHECK_INT(sim_answers_with(&a, "1002@b"), 1);
    sim_run(w, 1000);
    CHECK_INT(sim_server(na)->stats.registrations, 1);
    CHECK_INT(sim_server(nb)->stats.requests, 2);
    for (struct sim_node *const *n = (struct sim_node *const[]){na, nb, NULL}; *n; n++) {
        CHECK_INT(sim_server(*n)->stats.crypto_rejected, 0);
        CHECK_INT(sim_server(*n)->stats.encrej_sent, 0);
        CHECK_INT(sim_server(*n)->eng->stats.timeouts, 0);
    }
    sim_free(w);
}

/* ---------------------------------------------------------------- agents */

/* A fake dynamic peer of A: answers pings (after ack_delay_ms, from the
 * answer_from-th ping to that address on; 0 = never), DPDISCOVERs in clear
 * with one answer, and ACKs REGRESPONSEs. */
struct fake {
    const char *eid;
    struct sim_node *a;
    unsigned pings_seen[2];
    const char *addrs[2];
    unsigned answer_from[2];
    uint64_t ack_delay_ms;
    uint16_t next_id;
};

static void put_hdr(uint8_t *pkt, uint16_t strans, uint16_t dtrans, uint8_t iseq, uint8_t oseq, uint8_t cmdresp)
{
    struct dundi_hdr h = {strans, dtrans, iseq, oseq, cmdresp, 0};
    dundi_hdr_encode(&h, pkt);
}

static void fake_react(void *ctx, struct sim *w, const struct sim_pkt *p)
{
    struct fake *f = ctx;
    char to[80];
    dundi_addr_str(&p->to, to, sizeof(to));
    unsigned k = f->addrs[1] && !strcmp(to, f->addrs[1]);
    struct dundi_hdr h;
    struct dundi_ies ie;
    uint8_t pkt[DUNDI_MAX_PACKET];
    if (!sim_decode(p, &h, &ie) || h.dtrans != 0) {
        if (p->cmd == DUNDI_CMD_REGRESPONSE && p->final && sim_decode(p, &h, &ie)) {
            put_hdr(pkt, h.dtrans, h.strans, 1, 1, DUNDI_CMD_ACK | DUNDI_FLAG_FINAL);
            sim_inject(w, to, f->a, pkt, DUNDI_HDR_LEN);
        }
        return;
    }
    if (p->cmd == DUNDI_CMD_NULL && p->final) {
        unsigned nth = ++f->pings_seen[k];
        if (f->answer_from[k] && nth >= f->answer_from[k]) {
            put_hdr(pkt, f->next_id++, h.strans, 1, 0, DUNDI_CMD_ACK | DUNDI_FLAG_FINAL);
            sim_inject_later(w, to, f->a, pkt, DUNDI_HDR_LEN, f->ack_delay_ms);
        }
    } else if (p->cmd == DUNDI_CMD_DPDISCOVER) {
        struct dundi_ieb b;
        struct dundi_answer ans = {.proto = DUNDI_PROTO_IAX, .flags = DUNDI_FLAG_EXISTS};
        eid_parse(&ans.eid, f->eid);
        snprintf(ans.dest, sizeof(ans.dest), "fake@%.40s/%.80s", to, ie.called_number);
        dundi_ieb_init(&b, DUNDI_MAX_IES);
        dundi_ie_put_answer(&b, &ans);
        dundi_ie_put_hint(&b, 0, "");
        dundi_ie_put_u16(&b, DUNDI_IE_EXPIRATION, 5);
        put_hdr(pkt, f->next_id++, h.strans, 1, 0, DUNDI_CMD_DPRESPONSE | DUNDI_FLAG_FINAL);
        memcpy(pkt + DUNDI_HDR_LEN, b.buf, b.len);
        sim_inject(w, to, f->a, pkt, DUNDI_HDR_LEN + b.len);
    }
}

/* A clear REGREQ of f's EID from addr; true when A answered REGRESPONSE. */
static bool fake_register(struct sim *w, struct fake *f, const char *addr)
{
    struct dundi_ieb b;
    struct dundi_ies r;
    eid_t e;
    eid_parse(&e, f->eid);
    dundi_ieb_init(&b, DUNDI_MAX_IES);
    dundi_ie_put_u16(&b, DUNDI_IE_VERSION, 1);
    dundi_ie_put_eid(&b, DUNDI_IE_EID, &e);
    dundi_ie_put_u16(&b, DUNDI_IE_EXPIRATION, 60);
    return sim_request(w, addr, f->a, DUNDI_CMD_REGREQ, f->next_id++, &b, 1000, &r) == DUNDI_CMD_REGRESPONSE;
}

static size_t pings_to(struct sim *w, const char *addr) { return sim_count(w, A_ADDR, addr, DUNDI_CMD_NULL); }

/* Unanswered pings make F1 UNREACHABLE, a late ACK makes F2 LAGGED: neither
 * is asked. Pings every 10 s while UNREACHABLE; an answered one makes F1 OK. */
static void unreachable_lagged_recovery(void)
{
    struct sim *w = sim_new(22, keydir);
    struct sim_answer a;
    struct sim_node *na = sim_node(w, "A", A_ADDR,
                                   conf("127.0.16.1", A_EID,
                                        "[mappings]\npriv =>\n" PEER(F1_EID, "dynamic") "qualify = yes\n" PEER(
                                            F2_EID, "dynamic") "qualify = 100\n"));
    struct fake f1 = {F1_EID, na, {0, 0}, {F1_ADDR1, F1_ADDR2}, {0, 0}, 0, 20000};
    struct fake f2 = {F2_EID, na, {0, 0}, {F2_ADDR, NULL}, {1, 0}, 400, 30000};
    sim_agent(w, F1_ADDR1, fake_react, &f1);
    sim_agent(w, F1_ADDR2, fake_react, &f1);
    sim_agent(w, F2_ADDR, fake_react, &f2);
    sim_run(w, 100);
    sim_log_clear(w);
    CHECK(fake_register(w, &f1, F1_ADDR1), "F1 registered");
    uint64_t t_reg = sim_now(w);
    CHECK(fake_register(w, &f2, F2_ADDR), "F2 registered");
    CHECK_STR(sim_peer_addr(na, F1_EID), F1_ADDR1);

    /* Ping 5 s after the registration, 5 transmissions 1 s apart, then UNREACHABLE. */
    while (sim_peer_rtt(na, F1_EID) >= 0 && sim_now(w) - t_reg < 20000)
        sim_run(w, 10);
    uint64_t t_unreach = sim_now(w) - t_reg;
    CHECK(t_unreach > 9000 && t_unreach < 12500, "UNREACHABLE after %llu ms", (unsigned long long)t_unreach);
    CHECK_INT(pings_to(w, F1_ADDR1), 5);
    const struct sim_pkt *first = sim_find(w, A_ADDR, F1_ADDR1, DUNDI_CMD_NULL, 0);
    if (CHECK(first, "a ping")) {
        struct dundi_hdr h;
        struct dundi_ies ie;
        CHECK(first->len == DUNDI_HDR_LEN && sim_decode(first, &h, &ie), "a ping is a bare header");
        CHECK(h.iseqno == 0 && h.oseqno == 0, "sequence numbers 0");
        uint64_t at = first->sent_ms - t_reg;
        CHECK(at >= 4500 && at <= 6000, "first ping %llu ms after the registration", (unsigned long long)at);
        for (size_t i = 1; i < 5; i++) {
            const struct sim_pkt *p = sim_find(w, A_ADDR, F1_ADDR1, DUNDI_CMD_NULL, i);
            const struct sim_pkt *q = sim_find(w, A_ADDR, F1_ADDR1, DUNDI_CMD_NULL, i - 1);
            CHECK(p->len == first->len && !memcmp(p->data, first->data, p->len), "retransmission byte-identical");
            uint64_t gap = p->sent_ms - q->sent_ms;
            CHECK(gap >= 800 && gap <= 1300, "gap %llu ms", (unsigned long long)gap);
        }
    }
    int r2 = sim_peer_rtt(na, F2_EID);
    CHECK(r2 >= 400 && r2 < 1000, "F2 LAGGED at %d ms", r2);
    CHECK_INT(pings_to(w, F2_ADDR), 1);

    /* Neither an UNREACHABLE nor a LAGGED peer is asked. */
    CHECK(sim_lookup(na, "1003", "priv", false, 5000, &a), "lookup answered");
    CHECK_INT(a.fwd.res.n, 0);
    CHECK_INT(sim_count(w, A_ADDR, NULL, DUNDI_CMD_DPDISCOVER), 0);

    /* F1 registers from a new address: pinged there 5 s later; that ping is
     * unanswered (UNREACHABLE still), the next follows 10 s after it and is answered. */
    f1.answer_from[1] = 6;
    CHECK(fake_register(w, &f1, F1_ADDR2), "F1 registered again");
    uint64_t t_reg2 = sim_now(w);
    CHECK_STR(sim_peer_addr(na, F1_EID), F1_ADDR2);
    while (sim_peer_rtt(na, F1_EID) < 0 && sim_now(w) - t_reg2 < 30000)
        sim_run(w, 10);
    int r1 = sim_peer_rtt(na, F1_EID);
    CHECK(r1 >= 1 && r1 < 1000, "F1 OK again: %d ms", r1);
    CHECK_INT(pings_to(w, F1_ADDR2), 6);
    const struct sim_pkt *p0 = sim_find(w, A_ADDR, F1_ADDR2, DUNDI_CMD_NULL, 0);
    const struct sim_pkt *p5 = sim_find(w, A_ADDR, F1_ADDR2, DUNDI_CMD_NULL, 5);
    if (CHECK(p0 && p5, "six pings")) {
        uint64_t at = p0->sent_ms - t_reg2, gap = p5->sent_ms - p0->sent_ms;
        CHECK(at >= 4500 && at <= 6000, "ping %llu ms after the new registration", (unsigned long long)at);
        CHECK(gap >= 9500 && gap <= 11000, "next ping %llu ms later (UNREACHABLE: 10 s)", (unsigned long long)gap);
        CHECK(memcmp(p0->data, p5->data, 2) != 0, "a ping is a new transaction");
    }
    CHECK_INT(pings_to(w, F1_ADDR1), 5);

    /* Reachable again: F1 is asked at its new address; F2 still LAGGED is not. */
    sim_log_clear(w);
    if (CHECK(sim_lookup(na, "1003", "priv", false, 5000, &a), "lookup answered"))
        CHECK_INT(sim_answers_with(&a, "fake@" F1_ADDR2 "/1003"), 1);
    CHECK_INT(sim_count(w, A_ADDR, F1_ADDR2, DUNDI_CMD_DPDISCOVER), 1);
    CHECK_INT(sim_count(w, A_ADDR, F1_ADDR1, DUNDI_CMD_DPDISCOVER), 0);
    CHECK_INT(sim_count(w, A_ADDR, F2_ADDR, DUNDI_CMD_DPDISCOVER), 0);
    CHECK_INT(sim_server(na)->stats.registrations, 3);
    sim_free(w);
}

/* ---------------------------------------------------------------- ENCREJ on REGREQ */

/* A fake registrar: ACKs the first encrypted transaction (B's lookup),
 * answers ENCREJ(F) to every other one. */
struct registrar {
    struct sim_node *b;
    int first;
    uint16_t next_id;
};

static void registrar_react(void *ctx, struct sim *w, const struct sim_pkt *p)
{
    struct registrar *r = ctx;
    struct dundi_hdr h;
    struct dundi_ies ie;
    uint8_t pkt[DUNDI_HDR_LEN];
    if (p->cmd != DUNDI_CMD_ENCRYPT || !sim_decode(p, &h, &ie) || h.dtrans || h.iseqno || h.oseqno)
        return;
    if (r->first < 0)
        r->first = h.strans;
    put_hdr(pkt, r->next_id++, h.strans, 1, 0,
            r->first == h.strans ? DUNDI_CMD_ACK : DUNDI_CMD_ENCREJ | DUNDI_FLAG_FINAL);
    sim_inject(w, REG_ADDR, r->b, pkt, sizeof(pkt));
}

/* The opening envelopes (dtrans 0) from B to the registrar, in order. */
struct opening {
    uint64_t at;
    uint16_t strans;
    uint8_t iseq, oseq;
    bool sharedkey, keycrc;
    uint32_t crc;
    uint8_t key[DUNDI_KEY_BYTES], sig[DUNDI_KEY_BYTES];
    uint8_t enc[DUNDI_MAX_PACKET];
    size_t enclen;
};

static size_t openings(struct sim *w, struct opening *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; n < max; i++) {
        const struct sim_pkt *p = sim_find(w, B_ADDR, REG_ADDR, DUNDI_CMD_ENCRYPT, i);
        struct dundi_hdr h;
        struct dundi_ies ie;
        if (!p)
            break;
        if (!sim_decode(p, &h, &ie) || h.dtrans)
            continue;
        bool seen = false;
        for (size_t k = 0; k < n; k++)
            seen |= out[k].strans == h.strans && out[k].enclen == ie.encdata_len &&
                    !memcmp(out[k].enc, ie.encdata, ie.encdata_len); /* a retransmission */
        if (seen)
            continue;
        struct opening *o = &out[n++];
        memset(o, 0, sizeof(*o));
        o->at = p->sent_ms;
        o->strans = h.strans;
        o->iseq = h.iseqno;
        o->oseq = h.oseqno;
        o->sharedkey = ie.sharedkey && ie.signature;
        if (o->sharedkey) {
            memcpy(o->key, ie.sharedkey, DUNDI_KEY_BYTES);
            memcpy(o->sig, ie.signature, DUNDI_KEY_BYTES);
        }
        o->keycrc = ie.has_keycrc32;
        o->crc = ie.keycrc32;
        o->enclen = ie.encdata_len < sizeof(o->enc) ? ie.encdata_len : sizeof(o->enc);
        memcpy(o->enc, ie.encdata, o->enclen);
    }
    return n;
}

/* B's REGREQ carries KEYCRC32 (the full key went with its lookup before);
 * the registrar answers ENCREJ: B resends at once with the full key and the
 * same ENCDATA (6.7); a second ENCREJ ends the attempt. */
static void register_encrej(void)
{
    struct sim *w = sim_new(23, keydir);
    struct sim_answer a;
    static struct opening o[8];
    struct registrar reg = {NULL, -1, 40000};
    sim_agent(w, REG_ADDR, registrar_react, &reg);
    struct sim_node *nb = sim_node(w, "B", B_ADDR, b_conf("127.0.16.8", false, false));
    reg.b = nb;
    /* A lookup B cannot answer itself: it asks the registrar (full key), never answered. */
    sim_lookup(nb, "1003", "priv", false, 6000, &a);
    CHECK_INT(a.fwd.res.n, 0);
    sim_run(w, 3000);
    size_t n = openings(w, o, 8);
    CHECK_INT(n, 3);
    if (n >= 3) {
        CHECK(o[0].at < 1900 && o[0].sharedkey, "the lookup first, with the full key");
        CHECK(o[1].at >= 1500 && o[1].at <= 3000, "first REGREQ %llu ms after start", (unsigned long long)o[1].at);
        CHECK(o[1].keycrc && !o[1].sharedkey, "the REGREQ names the key by CRC");
        CHECK_INT(o[1].crc, crc32(0, o[0].key, DUNDI_KEY_BYTES));
        CHECK(o[1].iseq == 0 && o[1].oseq == 0, "sequence numbers 0");
        CHECK(o[2].sharedkey && !memcmp(o[2].key, o[0].key, DUNDI_KEY_BYTES) &&
                  !memcmp(o[2].sig, o[0].sig, DUNDI_KEY_BYTES),
              "the same session key, sent in full");
        CHECK(o[2].enclen == o[1].enclen && !memcmp(o[2].enc, o[1].enc, o[1].enclen), "6.7: the same ENCDATA");
        CHECK(o[2].at - o[1].at < 500, "resent at once");
        CHECK(o[2].iseq == 0 && o[2].oseq == 0, "a new transaction");
        /* The ENCREJ(F) is ACKed on the old transaction. */
        size_t acks = 0;
        for (size_t i = 0;; i++) {
            const struct sim_pkt *p = sim_find(w, B_ADDR, REG_ADDR, DUNDI_CMD_ACK, i);
            struct dundi_hdr h;
            struct dundi_ies ie;
            if (!p)
                break;
            acks += p->final && sim_decode(p, &h, &ie) && h.strans == o[1].strans;
        }
        CHECK_INT(acks, 1);
    }
    CHECK(!sim_peer_registered(nb, A_EID), "not registered");
    CHECK_INT(sim_server(nb)->stats.encrej_sent, 0);
    sim_free(w);
}

/* A restarts between B's lookup (full key) and B's first REGREQ (KEYCRC32):
 * A refuses the unknown key, B resends it in full, A registers B. */
static void register_after_registrar_restart(void)
{
    struct sim *w = sim_new(24, keydir);
    struct sim_answer a;
    struct sim_node *na = sim_node(w, "A", A_ADDR, a_conf(true));
    struct sim_node *nb = sim_node(w, "B", B_ADDR, b_conf("127.0.16.1", false, false));
    if (CHECK(sim_lookup(nb, "1004", "priv", false, 5000, &a), "B's lookup"))
        CHECK_INT(sim_answers_with(&a, "1004@a"), 1);
    CHECK_INT(sim_server(na)->stats.requests, 1);
    sim_restart(na); /* forgets B's key */
    uint64_t took = run_until_registered(w, na, B_EID, 5000);
    CHECK(took < 3500, "registered at %llu ms", (unsigned long long)sim_now(w));
    sim_run(w, 100);
    CHECK(sim_peer_registered(nb, A_EID), "B registered");
    CHECK_INT(sim_server(na)->stats.encrej_sent, 1);
    CHECK_INT(sim_server(na)->stats.crypto_rejected, 1);
    CHECK_INT(sim_server(na)->stats.registrations, 1);
    CHECK_INT(sim_server(nb)->stats.crypto_rejected, 0);
    sim_free(w);
}

int main(int argc, char **argv)
{
    static char kd[4096];
    snprintf(kd, sizeof(kd), "%s/conf/keys", argc > 1 ? argv[1] : "test/data");
    keydir = kd;
    tu_private_keys(argc > 1 ? argv[1] : "test/data");
    register_lookup_qualify_reload();
    unreachable_lagged_recovery();
    register_encrej();
    register_after_registrar_restart();
    return test_summary("test_sim_peers");
}
