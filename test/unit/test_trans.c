/* Transaction engine under a test-driven clock: sequence numbers, ACKs,
 * duplicates, retransmission, INVALID, autokill, idle end, id allocation. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "dundid/clock.h"
#include "dundid/ratelimit.h"
#include "dundid/trans.h"
#include "testutil.h"

static uint64_t fake_now = 1000000;
static uint64_t fake_clock(void) { return fake_now; }

/* Everything the engine sent, in order. */
struct sent {
    uint8_t pkt[DUNDI_MAX_PACKET];
    size_t len;
};
static struct sent sent[64];
static size_t nsent;

static int capture(void *ctx, const struct dundi_addr *to, const uint8_t *pkt, size_t len)
{
    (void)ctx;
    (void)to;
    if (nsent < 64) {
        memcpy(sent[nsent].pkt, pkt, len);
        sent[nsent].len = len;
    }
    nsent++;
    return 0;
}

static struct dundi_hdr sent_hdr(size_t i)
{
    struct dundi_hdr h = {0};
    dundi_hdr_decode(sent[i].pkt, sent[i].len, &h);
    return h;
}

/* The test's handler: counts commands, optionally answers with DPRESPONSE(F). */
static int commands, ends, last_end = -1;
static bool answer_requests = true;
static bool refuse_once; /* answer with trans_reply_once instead */

static void on_command(struct trans *t, struct dundi_hdr *h, const uint8_t *ies, size_t len)
{
    (void)ies;
    (void)len;
    commands++;
    if (refuse_once && dundi_hdr_cmd(h) == DUNDI_CMD_DPDISCOVER) {
        trans_reply_once(t, DUNDI_CMD_DPRESPONSE, NULL);
    } else if (answer_requests && dundi_hdr_cmd(h) == DUNDI_CMD_DPDISCOVER) {
        struct dundi_ieb b;
        dundi_ieb_init(&b, 0);
        dundi_ie_put_u16(&b, DUNDI_IE_EXPIRATION, 60);
        trans_send(t, DUNDI_CMD_DPRESPONSE, true, &b);
    } else if (dundi_hdr_cmd(h) != DUNDI_CMD_DPDISCOVER) {
        trans_default_command(t, h);
    }
}

static void on_end(struct trans *t, enum trans_end why)
{
    (void)t;
    ends++;
    last_end = (int)why;
}

static const struct trans_handler handler = {on_command, on_end};

static struct dundi_addr peer(uint16_t port)
{
    struct dundi_addr a = {.len = sizeof(struct sockaddr_in)};
    struct sockaddr_in *s = (struct sockaddr_in *)&a.ss;
    s->sin_family = AF_INET;
    s->sin_port = htons(port);
    s->sin_addr.s_addr = htonl(0x7f000001);
    return a;
}

static void pkt(uint8_t *buf, uint16_t strans, uint16_t dtrans, uint8_t iseq, uint8_t oseq, uint8_t cmdresp)
{
    struct dundi_hdr h = {strans, dtrans, iseq, oseq, cmdresp, 0};
    dundi_hdr_encode(&h, buf);
}

static void reset(void)
{
    nsent = 0;
    commands = ends = 0;
    last_end = -1;
    answer_requests = true;
    refuse_once = false;
}

static void advance(struct timerq *q, uint64_t ms)
{
    fake_now += ms;
    timerq_run(q, fake_now);
}

static struct trans_engine *engine(struct timerq *q, size_t max)
{
    struct trans_engine *e = trans_engine_new(q, &handler, max);
    e->send = capture;
    return e;
}

static void test_request_response(void)
{
    struct timerq q;
    timerq_init(&q);
    struct trans_engine *e = engine(&q, 0);
    struct dundi_addr a = peer(4599);
    uint8_t req[DUNDI_HDR_LEN];
    reset();

    pkt(req, 0x1234, 0, 0, 0, DUNDI_CMD_DPDISCOVER);
    trans_engine_input(e, &a, req, sizeof(req));
    CHECK_INT(commands, 1);
    CHECK_INT(e->count, 1);
    if (CHECK(nsent == 1, "one packet (the response acknowledges implicitly), got %zu", nsent)) {
        struct dundi_hdr h = sent_hdr(0);
        CHECK_INT(h.dtrans, 0x1234);
        CHECK(h.strans >= 1 && h.strans <= 32766, "strans %u in 1..32766", h.strans);
        CHECK_INT(h.iseqno, 1);
        CHECK_INT(h.oseqno, 0);
        CHECK_INT(h.cmdresp, 0xc2);
        CHECK_INT(h.cmdflags, 0);
    }
    uint16_t ours = sent_hdr(0).strans;

    /* The same first packet again (dtrans 0): found by remote id, re-ACKed, not re-processed. */
    trans_engine_input(e, &a, req, sizeof(req));
    CHECK_INT(commands, 1);
    CHECK_INT(e->stats.rx_duplicate, 1);
    if (CHECK(nsent == 2, "duplicate re-ACKed, sent %zu", nsent)) {
        struct dundi_hdr h = sent_hdr(1);
        CHECK_INT(h.cmdresp, 0x40); /* ACK without F */
        CHECK_INT(h.strans, ours);
        CHECK_INT(h.dtrans, 0x1234);
        CHECK_INT(h.iseqno, 1);
        CHECK_INT(h.oseqno, 1); /* ACKs carry oseqno without consuming it */
    }

    /* The final response is retransmitted byte for byte every second. */
    advance(&q, 999);
    CHECK_INT(nsent, 2);
    advance(&q, 1);
    if (CHECK(nsent == 3, "retransmitted after 1000 ms, sent %zu", nsent)) {
        CHECK(sent[2].len == sent[0].len && !memcmp(sent[2].pkt, sent[0].pkt, sent[0].len),
              "retransmission is byte-identical (no retransmission bit)");
    }
    CHECK_INT(e->stats.tx_retransmit, 1);

    /* The requester's final ACK (iseq 1 acknowledges our packet 0) ends it. */
    uint8_t ack[DUNDI_HDR_LEN];
    pkt(ack, 0x1234, ours, 1, 1, 0xc0);
    trans_engine_input(e, &a, ack, sizeof(ack));
    CHECK_INT(e->count, 0);
    CHECK_INT(ends, 1);
    CHECK_INT(last_end, TRANS_END_DONE);
    size_t before = nsent;
    advance(&q, 10000);
    CHECK_INT(nsent, before); /* nothing more */

    /* A late retransmission now belongs to no transaction and opens a new one. */
    trans_engine_input(e, &a, req, sizeof(req));
    CHECK_INT(commands, 2);
    trans_engine_free(e);
    timerq_free(&q);
}

static void test_retransmit_exhaustion(void)
{
    struct timerq q;
    timerq_init(&q);
    struct trans_engine *e = engine(&q, 0);
    struct dundi_addr a = peer(4600);
    uint8_t req[DUNDI_HDR_LEN];
    reset();

    pkt(req, 77, 0, 0, 0, DUNDI_CMD_DPDISCOVER);
    trans_engine_input(e, &a, req, sizeof(req));
    for (int i = 0; i < 4; i++)
        advance(&q, 1000);
    CHECK_INT(nsent, 5); /* at most 5 transmissions */
    CHECK_INT(e->count, 1);
    advance(&q, 1000);
    CHECK_INT(nsent, 5);
    CHECK_INT(e->count, 0);
    CHECK_INT(last_end, TRANS_END_TIMEOUT);
    CHECK_INT(e->stats.timeouts, 1);
    trans_engine_free(e);
    timerq_free(&q);
}

static void test_invalid(void)
{
    struct timerq q;
    timerq_init(&q);
    struct trans_engine *e = engine(&q, 0);
    struct dundi_addr a = peer(4601);
    uint8_t p[DUNDI_HDR_LEN];
    reset();

    /* A response for a transaction we do not have: mirrored INVALID (1.7). */
    pkt(p, 0x8123, 0x0456, 3, 7, 0xc2);
    trans_engine_input(e, &a, p, sizeof(p));
    if (CHECK(nsent == 1, "INVALID sent")) {
        struct dundi_hdr h = sent_hdr(0);
        CHECK_INT(h.strans, 0x0456);
        CHECK_INT(h.dtrans, 0x8123); /* unchanged, bit 15 included */
        CHECK_INT(h.iseqno, 7);
        CHECK_INT(h.oseqno, 3);
        CHECK_INT(h.cmdresp, 0x47);
        CHECK_INT(sent[0].len, DUNDI_HDR_LEN);
    }
    /* Never INVALID for INVALID; but an INVALID with F is not exempt. */
    pkt(p, 5, 9, 0, 0, 0x47);
    trans_engine_input(e, &a, p, sizeof(p));
    CHECK_INT(nsent, 1);
    pkt(p, 5, 9, 0, 0, 0xc7);
    trans_engine_input(e, &a, p, sizeof(p));
    CHECK_INT(nsent, 2);
    /* A request with strans 0 may not open a transaction. */
    pkt(p, 0, 0, 0, 0, DUNDI_CMD_DPDISCOVER);
    trans_engine_input(e, &a, p, sizeof(p));
    CHECK_INT(nsent, 3);
    CHECK_INT(sent_hdr(2).cmdresp, 0x47);
    CHECK_INT(e->count, 0);
    /* Short datagrams are counted and dropped silently. */
    trans_engine_input(e, &a, p, 7);
    trans_engine_input(e, &a, p, 0);
    CHECK_INT(nsent, 3);
    CHECK_INT(e->stats.rx_malformed, 2);
    trans_engine_free(e);
    timerq_free(&q);
}

static void test_window_and_unknown(void)
{
    struct timerq q;
    timerq_init(&q);
    struct trans_engine *e = engine(&q, 0);
    struct dundi_addr a = peer(4602);
    uint8_t p[DUNDI_HDR_LEN];
    reset();
    answer_requests = false; /* the request stays open: only the ACK goes out */

    pkt(p, 300, 0, 0, 0, DUNDI_CMD_DPDISCOVER);
    trans_engine_input(e, &a, p, sizeof(p));
    CHECK_INT(nsent, 1);
    CHECK_INT(sent_hdr(0).cmdresp, 0x40); /* standalone ACK: nothing was sent while processing */
    uint16_t ours = sent_hdr(0).strans;

    /* Out of window (oseq 5 while we expect 1): dropped silently. */
    pkt(p, 300, ours, 0, 5, DUNDI_CMD_CANCEL);
    trans_engine_input(e, &a, p, sizeof(p));
    CHECK_INT(nsent, 1);
    CHECK_INT(e->stats.rx_out_of_window, 1);

    /* An unknown command in order, without F: UNKNOWN(F) with the command byte. */
    pkt(p, 300, ours, 0, 1, 0x3e);
    trans_engine_input(e, &a, p, sizeof(p));
    if (CHECK(nsent == 2, "UNKNOWN sent")) {
        CHECK_INT(sent_hdr(1).cmdresp, 0xc8);
        CHECK_INT(sent[1].len, DUNDI_HDR_LEN + 3);
        CHECK_INT(sent[1].pkt[8], DUNDI_IE_UNKNOWN);
        CHECK_INT(sent[1].pkt[10], 0x3e);
    }
    /* CANCEL with F: ACK(F) and the transaction ends. */
    pkt(p, 300, ours, 0, 2, 0x8c);
    trans_engine_input(e, &a, p, sizeof(p));
    CHECK_INT(e->count, 0);
    if (CHECK(nsent == 3, "ACK for CANCEL")) {
        CHECK_INT(sent_hdr(2).cmdresp, 0xc0);
        CHECK_INT(sent_hdr(2).iseqno, 3);
    }
    trans_engine_free(e);
    timerq_free(&q);
}

static void test_idle_end(void)
{
    struct timerq q;
    timerq_init(&q);
    struct trans_engine *e = engine(&q, 0);
    struct dundi_addr a = peer(4603);
    uint8_t p[DUNDI_HDR_LEN];
    reset();
    answer_requests = false;

    pkt(p, 301, 0, 0, 0, DUNDI_CMD_DPDISCOVER);
    trans_engine_input(e, &a, p, sizeof(p));
    CHECK_INT(e->count, 1);
    advance(&q, TRANS_IDLE_MS - 1);
    CHECK_INT(e->count, 1);
    advance(&q, 1);
    CHECK_INT(e->count, 0);
    CHECK_INT(e->stats.idle_ended, 1);
    trans_engine_free(e);
    timerq_free(&q);
}

static void test_outbound_and_autokill(void)
{
    struct timerq q;
    timerq_init(&q);
    struct trans_engine *e = engine(&q, 0);
    struct dundi_addr a = peer(4604);
    reset();

    struct trans *t = trans_open(e, &a, &handler, NULL);
    CHECK(t != NULL, "trans_open");
    t->autokill_ms = 2000;
    trans_send(t, DUNDI_CMD_DPDISCOVER, false, NULL);
    CHECK_INT(sent_hdr(0).cmdresp, 0x01);
    CHECK_INT(sent_hdr(0).dtrans, 0);
    advance(&q, 1999);
    CHECK_INT(e->count, 1);
    advance(&q, 1);
    CHECK_INT(e->count, 0);
    CHECK_INT(last_end, TRANS_END_AUTOKILL);
    CHECK_INT(nsent, 2); /* the one retransmission at 1000 ms; no CANCEL on autokill */

    /* An ACK before the autokill time disarms it; the response then ends the exchange. */
    reset();
    t = trans_open(e, &a, &handler, NULL);
    t->autokill_ms = 2000;
    trans_send(t, DUNDI_CMD_DPDISCOVER, false, NULL);
    uint8_t p[DUNDI_HDR_LEN];
    pkt(p, 900, t->id, 1, 0, 0x40); /* plain ACK of our packet 0 */
    trans_engine_input(e, &a, p, sizeof(p));
    CHECK_INT(t->remote_id, 900);
    advance(&q, 5000);
    CHECK_INT(e->count, 1); /* neither autokilled nor retransmitting */
    CHECK_INT(nsent, 1);
    pkt(p, 900, t->id, 1, 0, 0xc2); /* DPRESPONSE(F) */
    trans_engine_input(e, &a, p, sizeof(p));
    CHECK_INT(commands, 1);
    CHECK_INT(e->count, 0);
    if (CHECK(nsent == 2, "final ACK sent")) {
        struct dundi_hdr h = sent_hdr(1);
        CHECK_INT(h.cmdresp, 0xc0);
        CHECK_INT(h.iseqno, 1);
        CHECK_INT(h.oseqno, 1);
        CHECK_INT(h.dtrans, 900);
    }
    trans_engine_free(e);
    timerq_free(&q);
}

static void test_ids_and_limit(void)
{
    struct timerq q;
    timerq_init(&q);
    struct trans_engine *e = engine(&q, 1000);
    struct dundi_addr a = peer(4605);
    static bool seen[TRANS_ID_SPACE];
    struct trans *ts[1000];
    reset();

    bool ok = true;
    for (int i = 0; i < 1000; i++) {
        ts[i] = trans_open(e, &a, &handler, NULL);
        if (!ts[i] || ts[i]->id == 0 || ts[i]->id > 32766 || seen[ts[i]->id])
            ok = false;
        else
            seen[ts[i]->id] = true;
    }
    CHECK(ok, "1000 live transactions have distinct ids in 1..32766");
    CHECK(trans_open(e, &a, &handler, NULL) == NULL, "the limit refuses the 1001st");
    CHECK_INT(e->stats.refused_full, 1);
    /* Inbound requests are refused the same way, without a reply. */
    uint8_t p[DUNDI_HDR_LEN];
    pkt(p, 5, 0, 0, 0, DUNDI_CMD_DPDISCOVER);
    trans_engine_input(e, &a, p, sizeof(p));
    CHECK_INT(nsent, 0);
    CHECK_INT(e->count, 1000);
    trans_destroy(ts[10], TRANS_END_ABORT);
    CHECK(trans_open(e, &a, &handler, NULL) != NULL, "room again after one ended");
    trans_engine_free(e);
    timerq_free(&q);
}

static void test_ack_with_final(void)
{
    struct timerq q;
    timerq_init(&q);
    struct trans_engine *e = engine(&q, 0);
    struct dundi_addr a = peer(4606);
    uint8_t p[DUNDI_HDR_LEN];
    reset();
    answer_requests = false;

    pkt(p, 302, 0, 0, 0, DUNDI_CMD_DPDISCOVER);
    trans_engine_input(e, &a, p, sizeof(p));
    uint16_t ours = sent_hdr(0).strans;
    /* An ACK with F that acknowledges nothing of ours: counted like an unknown
     * final command (iseqno advances), answered with ACK(F), transaction ends. */
    pkt(p, 302, ours, 0, 1, 0xc0);
    trans_engine_input(e, &a, p, sizeof(p));
    CHECK_INT(commands, 1);
    CHECK_INT(e->count, 0);
    if (CHECK(nsent == 2, "ACK(F) in reply")) {
        CHECK_INT(sent_hdr(1).cmdresp, 0xc0);
        CHECK_INT(sent_hdr(1).iseqno, 2);
    }
    trans_engine_free(e);
    timerq_free(&q);
}

/* Abuse resistance: refusals sent once (and their ACKs absorbed), the per-
 * source cap, first packets that are not packet 0, rate-limited INVALIDs. */
static void test_abuse(void)
{
    struct timerq q;
    timerq_init(&q);
    struct trans_engine *e = engine(&q, 0);
    struct dundi_addr a = peer(4600), b = peer(4601);
    uint8_t p[DUNDI_HDR_LEN];
    reset();

    refuse_once = true;
    pkt(p, 0x0100, 0, 0, 0, DUNDI_CMD_DPDISCOVER);
    trans_engine_input(e, &a, p, sizeof(p));
    CHECK_INT(nsent, 1);
    CHECK_INT(sent_hdr(0).cmdresp, 0xc2);
    CHECK_INT(e->count, 0); /* nothing kept */
    uint16_t ours = sent_hdr(0).strans;
    advance(&q, 10000);
    CHECK_INT(nsent, 1); /* never retransmitted */
    /* Its ACK is absorbed, not answered with INVALID; a second copy is not. */
    pkt(p, 0x0100, ours, 1, 1, DUNDI_CMD_ACK | DUNDI_FLAG_FINAL);
    trans_engine_input(e, &a, p, sizeof(p));
    CHECK_INT(nsent, 1);
    CHECK_INT(e->stats.rx_late_ack, 1);
    trans_engine_input(e, &a, p, sizeof(p));
    CHECK_INT(nsent, 2);
    CHECK_INT(sent_hdr(1).cmdresp, DUNDI_CMD_INVALID);
    refuse_once = false;

    /* A first packet with oseqno 1 opens nothing and gets nothing. */
    pkt(p, 0x0200, 0, 0, 1, DUNDI_CMD_DPDISCOVER);
    trans_engine_input(e, &a, p, sizeof(p));
    CHECK_INT(e->count, 0);
    CHECK_INT(nsent, 2);
    CHECK_INT(commands, 1);

    /* Per-source cap: 3 per address (ports do not matter), others unaffected. */
    e->max_per_source = 3;
    answer_requests = false;
    for (uint16_t i = 0; i < 5; i++) {
        struct dundi_addr x = peer((uint16_t)(5000 + i));
        pkt(p, (uint16_t)(0x0300 + i), 0, 0, 0, DUNDI_CMD_DPDISCOVER);
        trans_engine_input(e, &x, p, sizeof(p));
    }
    CHECK_INT(e->count, 3);
    CHECK_INT(e->stats.refused_source, 2);
    struct dundi_addr other = peer(4700);
    ((struct sockaddr_in *)&other.ss)->sin_addr.s_addr = htonl(0x7f000002);
    pkt(p, 0x0400, 0, 0, 0, DUNDI_CMD_DPDISCOVER);
    trans_engine_input(e, &other, p, sizeof(p));
    CHECK_INT(e->count, 4);
    /* When they end, their share is given back. */
    advance(&q, TRANS_IDLE_MS + 1);
    CHECK_INT(e->count, 0);
    CHECK_INT(e->src.nodes, 0);
    pkt(p, 0x0500, 0, 0, 0, DUNDI_CMD_DPDISCOVER);
    trans_engine_input(e, &b, p, sizeof(p));
    CHECK_INT(e->count, 1);

    /* INVALIDs go through the rate limiter: burst 2, then nothing. */
    static struct ratelimit rl;
    ratelimit_init(&rl, 1, 2, 0, 1);
    e->rl = &rl;
    size_t before = nsent;
    for (int i = 0; i < 10; i++) {
        pkt(p, (uint16_t)(0x0600 + i), 0x1234, 0, 0, DUNDI_CMD_DPRESPONSE);
        trans_engine_input(e, &a, p, sizeof(p));
    }
    CHECK_INT(nsent - before, 2);
    CHECK_INT(e->stats.tx_invalid_suppressed, 8);
    trans_engine_free(e);
    timerq_free(&q);
}

int main(void)
{
    clock_set_source(fake_clock);
    test_request_response();
    test_retransmit_exhaustion();
    test_invalid();
    test_window_and_unknown();
    test_idle_end();
    test_outbound_and_autokill();
    test_ids_and_limit();
    test_ack_with_final();
    test_abuse();
    return test_summary("trans");
}
