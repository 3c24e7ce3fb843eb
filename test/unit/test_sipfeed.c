/* Unit tests of the REGISTER/2xx matcher (src/reg/sipfeed.c) with
 * real-looking SIP text: what commits, with which user agent, registrar,
 * source and expiry; refusals; unregistering; the registrar's contact list
 * as the truth; retransmissions; pending expiry and its bound; IPv6 hops.
 *
 * Usage: test_sipfeed [DATADIR [--seeds DIR]]. With --seeds, message
 * sequences in the fuzzer's input format are written to DIR
 * (test/fuzz/corpus/sipfeed; see test/fuzz/sipfeed.c). */
#include "dundid/sipfeed.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dundid/regtable.h"
#include "testutil.h"

#define T0 1700000000

static const char *seed_dir;

#define CHECK_INT_RET(got, want) check_int_ret((long long)(got), (long long)(want), #got, __FILE__, __LINE__)
static int check_int_ret(long long g, long long w, const char *expr, const char *file, int line)
{
    return tu_check(g == w, file, line, "%s = %lld, want %lld", expr, g, w);
}

/* ---- the network: a phone, two registrars ---- */

static const struct sip_hop PHONE_TO_R1 = {.src = "10.10.10.63", .dst = "10.0.0.5", .sport = 5060, .dport = 5060};
static const struct sip_hop R1_TO_PHONE = {.src = "10.0.0.5", .dst = "10.10.10.63", .sport = 5060, .dport = 5060};
static const struct sip_hop PHONE_TO_R2 = {.src = "10.10.10.63", .dst = "10.0.0.6", .sport = 5060, .dport = 5060};
static const struct sip_hop R2_TO_PHONE = {.src = "10.0.0.6", .dst = "10.10.10.63", .sport = 5060, .dport = 5060};
/* a phone behind NAT: port 40123 */
static const struct sip_hop NAT_TO_R1 = {.src = "198.51.100.7", .dst = "10.0.0.5", .sport = 40123, .dport = 5060};
static const struct sip_hop R1_TO_NAT = {.src = "10.0.0.5", .dst = "198.51.100.7", .sport = 5060, .dport = 40123};
static const struct sip_hop V6_PHONE_TO_R = {.src = "2001:db8::63", .dst = "2001:db8::5", .sport = 5062,
                                             .dport = 5060};
static const struct sip_hop V6_R_TO_PHONE = {.src = "2001:db8::5", .dst = "2001:db8::63", .sport = 5060,
                                             .dport = 5062};

/* ---- messages: written with "\n", sent with CRLF ---- */

static char msgbuf[8192];
static size_t msglen;

__attribute__((format(printf, 1, 2))) static void build(const char *fmt, ...)
{
    char tmp[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    msglen = 0;
    for (const char *p = tmp; *p; p++) {
        if (*p == '\n')
            msgbuf[msglen++] = '\r';
        msgbuf[msglen++] = *p;
    }
}

/* A REGISTER from 1002's phone. extra: more header lines. */
static void reg(const char *callid, unsigned cseq, const char *ext, const char *contact, const char *extra)
{
    build("REGISTER sip:pbx.example.com SIP/2.0\n"
          "Via: SIP/2.0/UDP 10.10.10.63:5060;branch=z9hG4bK%s%u;rport\n"
          "Max-Forwards: 70\n"
          "From: \"Reception\" <sip:%s@pbx.example.com>;tag=1327384702\n"
          "To: \"Reception\" <sip:%s@pbx.example.com>\n"
          "Call-ID: %s\n"
          "CSeq: %u REGISTER\n"
          "%s%s%s"
          "User-Agent: Yealink SIP-T46S 66.86.0.15\n"
          "Allow: INVITE, INFO, PRACK, ACK, BYE, CANCEL, OPTIONS, NOTIFY, REGISTER, SUBSCRIBE, REFER\n"
          "%s"
          "Content-Length: 0\n"
          "\n",
          callid, cseq, ext, ext, callid, cseq, contact ? "Contact: " : "", contact ? contact : "",
          contact ? "\n" : "", extra ? extra : "");
}

/* The registrar's answer. contacts: the whole Contact header value, or NULL. */
static void resp(int status, const char *reason, const char *callid, unsigned cseq, const char *ext,
                 const char *contacts, const char *extra)
{
    build("SIP/2.0 %d %s\n"
          "Via: SIP/2.0/UDP 10.10.10.63:5060;branch=z9hG4bK%s%u;received=10.10.10.63;rport=5060\n"
          "From: \"Reception\" <sip:%s@pbx.example.com>;tag=1327384702\n"
          "To: \"Reception\" <sip:%s@pbx.example.com>;tag=as0e7a1b2c\n"
          "Call-ID: %s\n"
          "CSeq: %u REGISTER\n"
          "%s%s%s"
          "Server: Asterisk PBX 18.20.0\n"
          "%s"
          "Content-Length: 0\n"
          "\n",
          status, reason, callid, cseq, ext, ext, callid, cseq, contacts ? "Contact: " : "",
          contacts ? contacts : "", contacts ? "\n" : "", extra ? extra : "");
}

/* ---- the feed under test ---- */

static struct sipfeed *f;
static struct regtable *rt;
static int default_expires = 1800;
static enum reg_feed feed_kind = REG_FEED_PCAP;

/* seeds: each message of a case, in the fuzzer's format */
static FILE *seed_f;

static void seed_begin(const char *name)
{
    if (!seed_dir)
        return;
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", seed_dir, name);
    seed_f = fopen(path, "wb");
    CHECK(seed_f != NULL, "cannot write %s", path);
    fputc(0, seed_f); /* the fuzzer's mode byte: keep_other_registrars off */
}

static void seed_end(void)
{
    if (seed_f)
        fclose(seed_f);
    seed_f = NULL;
}

/* The fuzzer's hops, by index (keep in step with test/fuzz/sipfeed.c). */
static const struct sip_hop *const fuzz_hops[] = {&PHONE_TO_R1, &R1_TO_PHONE, &PHONE_TO_R2, &R2_TO_PHONE,
                                                  &NAT_TO_R1,   &R1_TO_NAT,   &V6_PHONE_TO_R, &V6_R_TO_PHONE};
static int64_t seed_now;

static void send_at(const struct sip_hop *hop, int64_t now)
{
    sipfeed_input(f, rt, feed_kind, (const uint8_t *)msgbuf, msglen, hop, now, default_expires);
    if (seed_f) { /* after the mode byte, "\0MSG", then a control byte: hop index, seconds since the previous message */
        unsigned h = 0;
        for (unsigned i = 0; i < sizeof(fuzz_hops) / sizeof(fuzz_hops[0]); i++)
            if (fuzz_hops[i] == hop)
                h = i;
        int64_t dt = now - seed_now;
        if (dt < 0)
            dt = 0;
        if (dt > 31)
            dt = 31;
        seed_now = now;
        if (ftell(seed_f) > 1)
            fwrite("\0MSG", 1, 4, seed_f);
        fputc((int)(h | (unsigned)dt << 3), seed_f);
        fwrite(msgbuf, 1, msglen, seed_f);
    }
}

static void setup(size_t max_pending, unsigned max_bindings)
{
    sipfeed_free(f);
    regtable_free(rt);
    f = sipfeed_new(max_pending);
    rt = regtable_new(max_bindings);
    if (!f || !rt)
        exit(2);
    default_expires = 1800;
    feed_kind = REG_FEED_PCAP;
    seed_now = T0;
}

static struct sipfeed_stats fstats(void)
{
    struct sipfeed_stats st;
    sipfeed_get_stats(f, &st);
    return st;
}

static struct regtable_stats tstats(void)
{
    struct regtable_stats st;
    regtable_get_stats(rt, &st);
    return st;
}

static struct reg_binding bb[REG_MAX_BINDINGS_LIMIT];

static size_t get(const char *ext, int64_t now) { return regtable_get(rt, ext, now, bb, REG_MAX_BINDINGS_LIMIT); }

/* ---- cases ---- */

static void test_register_200(void)
{
    setup(0, 0);
    seed_begin("register-200");
    reg("1469483219@10.10.10.63", 1, "1002", "<sip:1002@10.10.10.63:5060>;reg-id=1", "Expires: 3600\n");
    send_at(&PHONE_TO_R1, T0);
    CHECK_INT(sipfeed_pending(f), 1);
    CHECK_INT(get("1002", T0), 0); /* a REGISTER alone commits nothing */
    /* the answer has its own User-Agent: the REGISTER's is the phone's */
    resp(200, "OK", "1469483219@10.10.10.63", 1, "1002", "<sip:1002@10.10.10.63:5060>;expires=3600",
         "User-Agent: NotThePhone/1.0\n");
    send_at(&R1_TO_PHONE, T0 + 1);
    seed_end();
    if (CHECK_INT_RET(get("1002", T0 + 1), 1)) {
        CHECK_STR(bb[0].contact, "sip:1002@10.10.10.63:5060");
        CHECK_STR(bb[0].registrar, "10.0.0.5");
        CHECK_STR(bb[0].source, "10.10.10.63:5060");
        CHECK_STR(bb[0].user_agent, "Yealink SIP-T46S 66.86.0.15");
        CHECK_INT(bb[0].expires, T0 + 1 + 3600);
        CHECK_INT(bb[0].updated, T0 + 1);
        CHECK_INT(bb[0].feed, REG_FEED_PCAP);
    }
    struct sipfeed_stats st = fstats();
    CHECK_INT(st.messages, 2);
    CHECK_INT(st.requests, 1);
    CHECK_INT(st.committed, 1);
    CHECK_INT(st.unmatched, 0);
    CHECK_INT(st.bindings_set, 1);
    CHECK_INT(st.bindings_removed, 0);
    CHECK_INT(st.malformed, 0);
    CHECK_INT(sipfeed_pending(f), 0); /* answered: forgotten */

    /* a phone behind NAT: the source is the address the packets came from,
     * and the feed kind is passed through */
    feed_kind = REG_FEED_HEP;
    reg("nat-1", 5, "1003", "<sip:1003@192.168.1.20:5060;ob>", "Expires: 300\n");
    send_at(&NAT_TO_R1, T0 + 2);
    resp(200, "OK", "nat-1", 5, "1003", "<sip:1003@192.168.1.20:5060;ob>;expires=300", NULL);
    send_at(&R1_TO_NAT, T0 + 2);
    if (CHECK_INT_RET(get("1003", T0 + 2), 1)) {
        CHECK_STR(bb[0].contact, "sip:1003@192.168.1.20:5060;ob");
        CHECK_STR(bb[0].source, "198.51.100.7:40123");
        CHECK_STR(bb[0].registrar, "10.0.0.5");
        CHECK_INT(bb[0].feed, REG_FEED_HEP);
    }
}

static void test_401_then_auth(void)
{
    setup(0, 0);
    seed_begin("401-auth-200");
    reg("auth@10.10.10.63", 1, "1002", "<sip:1002@10.10.10.63:5060>", "Expires: 3600\n");
    send_at(&PHONE_TO_R1, T0);
    /* a 401 may even carry a Contact: it never commits */
    resp(401, "Unauthorized", "auth@10.10.10.63", 1, "1002", "<sip:1002@10.10.10.63:5060>",
         "WWW-Authenticate: Digest algorithm=MD5, realm=\"asterisk\", nonce=\"1a2b3c4d\"\n");
    send_at(&R1_TO_PHONE, T0);
    CHECK_INT(get("1002", T0), 0);
    CHECK_INT(fstats().refused, 1);
    CHECK_INT(sipfeed_pending(f), 0);
    reg("auth@10.10.10.63", 2, "1002", "<sip:1002@10.10.10.63:5060>",
        "Authorization: Digest username=\"1002\", realm=\"asterisk\", nonce=\"1a2b3c4d\", "
        "uri=\"sip:pbx.example.com\", response=\"6629fae49393a05397450978507c4ef1\"\nExpires: 3600\n");
    send_at(&PHONE_TO_R1, T0 + 1);
    CHECK_INT(get("1002", T0 + 1), 0);
    CHECK_INT(sipfeed_pending(f), 1);
    resp(200, "OK", "auth@10.10.10.63", 2, "1002", "<sip:1002@10.10.10.63:5060>;expires=3600", NULL);
    send_at(&R1_TO_PHONE, T0 + 1);
    seed_end();
    if (CHECK_INT_RET(get("1002", T0 + 1), 1))
        CHECK_STR(bb[0].user_agent, "Yealink SIP-T46S 66.86.0.15");
    struct sipfeed_stats st = fstats();
    CHECK_INT(st.requests, 2);
    CHECK_INT(st.refused, 1);
    CHECK_INT(st.committed, 1);
    CHECK_INT(st.unmatched, 0);
    CHECK_INT(st.bindings_set, 1);
    CHECK_INT(tstats().added, 1);
}

static void test_refused(void)
{
    setup(0, 0);
    seed_begin("403-407");
    /* 1002 is registered; a 403 or 407 that lists nothing must not remove it */
    reg("ok@x", 1, "1002", "<sip:1002@10.10.10.63:5060>", NULL);
    send_at(&PHONE_TO_R1, T0);
    resp(200, "OK", "ok@x", 1, "1002", "<sip:1002@10.10.10.63:5060>;expires=600", NULL);
    send_at(&R1_TO_PHONE, T0);
    CHECK_INT(get("1002", T0), 1);
    struct regtable_stats t0 = tstats();

    reg("no@x", 1, "1002", "<sip:1002@10.10.10.64:5060>", NULL);
    send_at(&PHONE_TO_R1, T0 + 1);
    resp(403, "Forbidden", "no@x", 1, "1002", "<sip:1002@10.10.10.64:5060>;expires=600", NULL);
    send_at(&R1_TO_PHONE, T0 + 1);
    reg("no@x", 2, "1002", "<sip:1002@10.10.10.64:5060>", NULL);
    send_at(&PHONE_TO_R1, T0 + 2);
    resp(407, "Proxy Authentication Required", "no@x", 2, "1002", NULL,
         "Proxy-Authenticate: Digest realm=\"x\", nonce=\"y\"\n");
    send_at(&R1_TO_PHONE, T0 + 2);
    /* and refusals with no REGISTER seen, or a 5xx/6xx */
    resp(403, "Forbidden", "never@x", 1, "1002", NULL, NULL);
    send_at(&R1_TO_PHONE, T0 + 3);
    resp(503, "Service Unavailable", "never@x", 2, "1002", NULL, NULL);
    send_at(&R1_TO_PHONE, T0 + 3);
    resp(603, "Decline", "never@x", 3, "1002", "<sip:1002@10.10.10.64:5060>", NULL);
    send_at(&R1_TO_PHONE, T0 + 3);
    seed_end();
    if (CHECK_INT_RET(get("1002", T0 + 3), 1))
        CHECK_STR(bb[0].contact, "sip:1002@10.10.10.63:5060");
    struct regtable_stats t1 = tstats();
    CHECK_INT(t1.added, t0.added);
    CHECK_INT(t1.refreshed, t0.refreshed);
    CHECK_INT(t1.removed, 0);
    struct sipfeed_stats st = fstats();
    CHECK_INT(st.refused, 5);
    CHECK_INT(st.committed, 1);
    CHECK_INT(st.unmatched, 0);
    CHECK_INT(sipfeed_pending(f), 0);

    /* a provisional answer keeps the REGISTER waiting */
    reg("slow@x", 1, "1004", "<sip:1004@10.10.10.70>", NULL);
    send_at(&PHONE_TO_R1, T0 + 4);
    resp(100, "Trying", "slow@x", 1, "1004", NULL, NULL);
    send_at(&R1_TO_PHONE, T0 + 4);
    CHECK_INT(fstats().provisional, 1);
    CHECK_INT(sipfeed_pending(f), 1);
    CHECK_INT(get("1004", T0 + 4), 0);
    resp(200, "OK", "slow@x", 1, "1004", "<sip:1004@10.10.10.70>", NULL);
    send_at(&R1_TO_PHONE, T0 + 5);
    if (CHECK_INT_RET(get("1004", T0 + 5), 1))
        CHECK_STR(bb[0].user_agent, "Yealink SIP-T46S 66.86.0.15");
    CHECK_INT(fstats().committed, 2);
}

static void test_unmatched(void)
{
    setup(0, 0);
    seed_begin("200-unmatched");
    resp(200, "OK", "late@x", 7, "1005", "<sip:1005@10.10.10.80:5060>;expires=120", NULL);
    send_at(&R1_TO_PHONE, T0);
    seed_end();
    if (CHECK_INT_RET(get("1005", T0), 1)) {
        CHECK_STR(bb[0].user_agent, "");
        CHECK_STR(bb[0].registrar, "10.0.0.5");
        CHECK_STR(bb[0].source, "10.10.10.63:5060");
        CHECK_INT(bb[0].expires, T0 + 120);
    }
    CHECK_INT(fstats().unmatched, 1);
    CHECK_INT(fstats().committed, 0);
    CHECK_INT(fstats().bindings_set, 1);

    /* matching takes Call-ID, CSeq and the address pair */
    reg("m@x", 3, "1006", "<sip:1006@10.10.10.63>", NULL);
    send_at(&PHONE_TO_R1, T0);
    resp(200, "OK", "m@x", 4, "1006", "<sip:1006@10.10.10.63>", NULL); /* another CSeq */
    send_at(&R1_TO_PHONE, T0);
    resp(200, "OK", "m@y", 3, "1006", "<sip:1006@10.10.10.63>", NULL); /* another Call-ID */
    send_at(&R1_TO_PHONE, T0);
    resp(200, "OK", "m@x", 3, "1006", "<sip:1006@10.10.10.63>", NULL); /* from another registrar */
    send_at(&R2_TO_PHONE, T0);
    CHECK_INT(fstats().unmatched, 4);
    CHECK_INT(sipfeed_pending(f), 1);
    if (CHECK_INT_RET(get("1006", T0), 1)) { /* moved to 10.0.0.6 */
        CHECK_STR(bb[0].registrar, "10.0.0.6");
        CHECK_STR(bb[0].user_agent, "");
    }
    resp(200, "OK", "m@x", 3, "1006", "<sip:1006@10.10.10.63>", NULL);
    send_at(&R1_TO_PHONE, T0 + 1);
    CHECK_INT(fstats().committed, 1);
    CHECK_INT(sipfeed_pending(f), 0);
    if (CHECK_INT_RET(get("1006", T0 + 1), 1)) { /* back at 10.0.0.5, now with the UA */
        CHECK_STR(bb[0].registrar, "10.0.0.5");
        CHECK_STR(bb[0].user_agent, "Yealink SIP-T46S 66.86.0.15");
    }
}

static void test_expiry_sources(void)
{
    setup(0, 0);
    seed_begin("expires-param-header-default");
    default_expires = 1234;
    /* param beats header; header beats default; default when neither */
    resp(200, "OK", "e1", 1, "2001", "<sip:2001@10.0.1.1>;expires=600", "Expires: 120\n");
    send_at(&R1_TO_PHONE, T0);
    resp(200, "OK", "e2", 1, "2002", "<sip:2002@10.0.1.2>", "Expires: 120\n");
    send_at(&R1_TO_PHONE, T0);
    resp(200, "OK", "e3", 1, "2003", "<sip:2003@10.0.1.3>", NULL);
    send_at(&R1_TO_PHONE, T0);
    /* a list: each contact its own */
    resp(200, "OK", "e4", 1, "2004",
         "<sip:2004@10.0.1.4>;expires=60, <sip:2004@10.0.1.5>;q=0.5, sip:2004@10.0.1.6;expires=90",
         "Expires: 300\n");
    send_at(&R1_TO_PHONE, T0);
    seed_end();
    if (CHECK_INT_RET(get("2001", T0), 1))
        CHECK_INT(bb[0].expires, T0 + 600);
    if (CHECK_INT_RET(get("2002", T0), 1))
        CHECK_INT(bb[0].expires, T0 + 120);
    if (CHECK_INT_RET(get("2003", T0), 1))
        CHECK_INT(bb[0].expires, T0 + 1234);
    CHECK_INT(get("2004", T0), 3);
    int64_t want[3] = {T0 + 90, T0 + 300, T0 + 60}; /* newest (last listed) first */
    const char *contacts[3] = {"sip:2004@10.0.1.6", "sip:2004@10.0.1.5", "sip:2004@10.0.1.4"};
    for (int i = 0; i < 3; i++) {
        CHECK_INT(bb[i].expires, want[i]);
        CHECK_STR(bb[i].contact, contacts[i]);
    }
    CHECK_INT(fstats().bindings_set, 6);
    CHECK_INT(regtable_next_expiry(rt), T0 + 60);
    /* default_expires 0: a contact without any expiry is not kept */
    default_expires = 0;
    resp(200, "OK", "e5", 1, "2005", "<sip:2005@10.0.1.7>", NULL);
    send_at(&R1_TO_PHONE, T0);
    CHECK_INT(get("2005", T0), 0);
}

static void test_unregister(void)
{
    setup(0, 0);
    seed_begin("unregister");
    reg("u@x", 1, "1002", "<sip:1002@10.10.10.63:5060>", "Expires: 3600\n");
    send_at(&PHONE_TO_R1, T0);
    resp(200, "OK", "u@x", 1, "1002", "<sip:1002@10.10.10.63:5060>;expires=3600, <sip:1002@10.10.10.64:5060>",
         "Expires: 3600\n");
    send_at(&R1_TO_PHONE, T0);
    CHECK_INT(get("1002", T0), 2);
    /* expires=0 on one contact */
    reg("u@x", 2, "1002", "<sip:1002@10.10.10.63:5060>;expires=0", NULL);
    send_at(&PHONE_TO_R1, T0 + 10);
    resp(200, "OK", "u@x", 2, "1002", "<sip:1002@10.10.10.63:5060>;expires=0, <sip:1002@10.10.10.64:5060>",
         "Expires: 3600\n");
    send_at(&R1_TO_PHONE, T0 + 10);
    if (CHECK_INT_RET(get("1002", T0 + 10), 1))
        CHECK_STR(bb[0].contact, "sip:1002@10.10.10.64:5060");
    CHECK_INT(fstats().bindings_removed, 1);
    /* Expires: 0 header, the contact listed */
    resp(200, "OK", "u@x", 3, "1002", "<sip:1002@10.10.10.64:5060>", "Expires: 0\n");
    send_at(&R1_TO_PHONE, T0 + 11);
    seed_end();
    CHECK_INT(get("1002", T0 + 11), 0);
    CHECK_INT(fstats().bindings_removed, 2);
    CHECK_INT(tstats().extensions, 0);
    CHECK_INT(tstats().removed, 2);
}

static void test_star(void)
{
    setup(0, 0);
    seed_begin("star");
    /* two contacts at 10.0.0.5, one at 10.0.0.6, one of another extension */
    resp(200, "OK", "s1", 1, "1002", "<sip:1002@10.10.10.63:5060>, <sip:1002@10.10.10.64:5060>", NULL);
    send_at(&R1_TO_PHONE, T0);
    resp(200, "OK", "s2", 1, "1002", "<sip:1002@10.10.10.65:5060>", NULL);
    send_at(&R2_TO_PHONE, T0);
    resp(200, "OK", "s3", 1, "1003", "<sip:1003@10.10.10.63:5060>", NULL);
    send_at(&R1_TO_PHONE, T0);
    CHECK_INT(get("1002", T0), 3);
    uint64_t removed0 = fstats().bindings_removed;
    reg("star@x", 9, "1002", "*", "Expires: 0\n");
    send_at(&PHONE_TO_R1, T0 + 5);
    resp(200, "OK", "star@x", 9, "1002", NULL, NULL); /* lists no contact */
    send_at(&R1_TO_PHONE, T0 + 5);
    seed_end();
    if (CHECK_INT_RET(get("1002", T0 + 5), 1)) {
        CHECK_STR(bb[0].contact, "sip:1002@10.10.10.65:5060");
        CHECK_STR(bb[0].registrar, "10.0.0.6");
    }
    CHECK_INT(get("1003", T0 + 5), 1);
    CHECK_INT(fstats().bindings_removed, removed0 + 2);
    CHECK_INT(fstats().committed, 1);
}

static void test_fewer_contacts(void)
{
    setup(0, 0);
    seed_begin("fewer-contacts");
    resp(200, "OK", "f1", 1, "1002",
         "<sip:1002@10.10.10.63:5060>, <sip:1002@10.10.10.64:5060>, <sip:1002@10.10.10.66:5060>", NULL);
    send_at(&R1_TO_PHONE, T0);
    resp(200, "OK", "f2", 1, "1002", "<sip:1002@10.10.10.65:5060>", NULL);
    send_at(&R2_TO_PHONE, T0);
    /* the same registrar through another feed: its 2xx lists all that
     * 10.0.0.5 holds, whichever feed brought the others */
    feed_kind = REG_FEED_HEP;
    resp(200, "OK", "f3", 1, "1002", "<sip:1002@10.10.10.67:5060>", NULL);
    send_at(&R1_TO_PHONE, T0);
    feed_kind = REG_FEED_PCAP;
    if (CHECK_INT_RET(get("1002", T0), 2)) {
        CHECK_STR(bb[0].contact, "sip:1002@10.10.10.67:5060");
        CHECK_STR(bb[1].contact, "sip:1002@10.10.10.65:5060");
    }
    /* 10.0.0.5 now holds only .64: .67 is gone, .65 (10.0.0.6) stays */
    resp(200, "OK", "f1", 2, "1002", "<sip:1002@10.10.10.64:5060>;expires=900", NULL);
    send_at(&R1_TO_PHONE, T0 + 60);
    seed_end();
    if (CHECK_INT_RET(get("1002", T0 + 60), 2)) {
        CHECK_STR(bb[0].contact, "sip:1002@10.10.10.64:5060");
        CHECK_INT(bb[0].expires, T0 + 60 + 900);
        CHECK_STR(bb[1].contact, "sip:1002@10.10.10.65:5060");
        CHECK_STR(bb[1].registrar, "10.0.0.6");
    }
    CHECK_INT(fstats().bindings_removed, 4);
    CHECK_INT(tstats().removed, 4);
}

static void test_retransmission(void)
{
    setup(0, 0);
    seed_begin("retransmit");
    reg("rt@x", 1, "1002", "<sip:1002@10.10.10.63:5060>", NULL);
    send_at(&PHONE_TO_R1, T0);
    send_at(&PHONE_TO_R1, T0 + 1);
    send_at(&PHONE_TO_R1, T0 + 3);
    CHECK_INT(sipfeed_pending(f), 1);
    CHECK_INT(fstats().requests, 3);
    /* the wait runs from the first copy */
    sipfeed_expire(f, T0 + SIPFEED_PENDING_S + 1);
    CHECK_INT(sipfeed_pending(f), 0);
    seed_end();
    /* the same REGISTER to another registrar is another transaction */
    reg("rt@x", 2, "1002", "<sip:1002@10.10.10.63:5060>", NULL);
    send_at(&PHONE_TO_R1, T0 + 40);
    send_at(&PHONE_TO_R2, T0 + 40);
    CHECK_INT(sipfeed_pending(f), 2);
    resp(200, "OK", "rt@x", 2, "1002", "<sip:1002@10.10.10.63:5060>", NULL);
    send_at(&R2_TO_PHONE, T0 + 41);
    CHECK_INT(sipfeed_pending(f), 1);
    send_at(&R1_TO_PHONE, T0 + 41);
    CHECK_INT(sipfeed_pending(f), 0);
    CHECK_INT(fstats().committed, 2);
    /* the moved binding: one registration, at the last registrar to answer */
    if (CHECK_INT_RET(get("1002", T0 + 41), 1))
        CHECK_STR(bb[0].registrar, "10.0.0.5");
    /* and a retransmitted 200: a refresh, nothing new */
    uint64_t added = tstats().added;
    send_at(&R1_TO_PHONE, T0 + 42);
    CHECK_INT(fstats().unmatched, 1);
    CHECK_INT(tstats().added, added);
    CHECK_INT(get("1002", T0 + 42), 1);
}

static void test_pending_expiry(void)
{
    setup(0, 0);
    reg("p1", 1, "1002", "<sip:1002@10.10.10.63:5060>", NULL);
    send_at(&PHONE_TO_R1, T0);
    reg("p2", 1, "1003", "<sip:1003@10.10.10.63:5060>", NULL);
    send_at(&PHONE_TO_R1, T0 + 10);
    sipfeed_expire(f, T0 + SIPFEED_PENDING_S);
    CHECK_INT(sipfeed_pending(f), 2); /* exactly SIPFEED_PENDING_S: still waiting */
    sipfeed_expire(f, T0 + SIPFEED_PENDING_S + 1);
    CHECK_INT(sipfeed_pending(f), 1);
    resp(200, "OK", "p1", 1, "1002", "<sip:1002@10.10.10.63:5060>", NULL); /* too late */
    send_at(&R1_TO_PHONE, T0 + SIPFEED_PENDING_S + 2);
    CHECK_INT(fstats().unmatched, 1);
    if (CHECK_INT_RET(get("1002", T0 + 40), 1))
        CHECK_STR(bb[0].user_agent, "");
    resp(200, "OK", "p2", 1, "1003", "<sip:1003@10.10.10.63:5060>", NULL);
    send_at(&R1_TO_PHONE, T0 + SIPFEED_PENDING_S + 2);
    CHECK_INT(fstats().committed, 1);
    if (CHECK_INT_RET(get("1003", T0 + 40), 1))
        CHECK_STR(bb[0].user_agent, "Yealink SIP-T46S 66.86.0.15");
    sipfeed_expire(f, T0 + 1000000);
    CHECK_INT(sipfeed_pending(f), 0);
}

static void test_max_pending(void)
{
    setup(3, 0);
    char cid[32];
    for (int i = 0; i < 5; i++) {
        snprintf(cid, sizeof(cid), "mp%d", i);
        reg(cid, 1, "1002", "<sip:1002@10.10.10.63:5060>", NULL);
        send_at(&PHONE_TO_R1, T0 + i);
    }
    CHECK_INT(sipfeed_pending(f), 3);
    CHECK_INT(fstats().pending_dropped, 2);
    /* the two oldest were dropped */
    resp(200, "OK", "mp0", 1, "1002", "<sip:1002@10.10.10.63:5060>", NULL);
    send_at(&R1_TO_PHONE, T0 + 5);
    resp(200, "OK", "mp1", 1, "1002", "<sip:1002@10.10.10.63:5060>", NULL);
    send_at(&R1_TO_PHONE, T0 + 5);
    CHECK_INT(fstats().unmatched, 2);
    CHECK_INT(fstats().committed, 0);
    for (int i = 2; i < 5; i++) {
        snprintf(cid, sizeof(cid), "mp%d", i);
        resp(200, "OK", cid, 1, "1002", "<sip:1002@10.10.10.63:5060>", NULL);
        send_at(&R1_TO_PHONE, T0 + 5);
    }
    CHECK_INT(fstats().committed, 3);
    CHECK_INT(sipfeed_pending(f), 0);
    /* 0 is the default bound */
    setup(0, 0);
    for (int i = 0; i < 100; i++) {
        snprintf(cid, sizeof(cid), "d%d", i);
        reg(cid, 1, "1002", "<sip:1002@10.10.10.63:5060>", NULL);
        send_at(&PHONE_TO_R1, T0);
    }
    CHECK_INT(sipfeed_pending(f), 100);
    CHECK_INT(fstats().pending_dropped, 0);
}

static void test_other_messages(void)
{
    setup(0, 0);
    seed_begin("not-register");
    build("INVITE sip:1003@pbx.example.com SIP/2.0\n"
          "Via: SIP/2.0/UDP 10.10.10.63:5060;branch=z9hG4bKinv\n"
          "From: <sip:1002@pbx.example.com>;tag=1\n"
          "To: <sip:1003@pbx.example.com>\n"
          "Call-ID: inv@x\n"
          "CSeq: 1 INVITE\n"
          "Contact: <sip:1002@10.10.10.63:5060>\n"
          "Content-Length: 0\n\n");
    send_at(&PHONE_TO_R1, T0);
    build("SIP/2.0 200 OK\n"
          "Via: SIP/2.0/UDP 10.10.10.63:5060;branch=z9hG4bKinv\n"
          "From: <sip:1002@pbx.example.com>;tag=1\n"
          "To: <sip:1003@pbx.example.com>;tag=2\n"
          "Call-ID: inv@x\n"
          "CSeq: 1 INVITE\n"
          "Contact: <sip:1003@10.10.10.70:5060>\n"
          "Content-Length: 0\n\n");
    send_at(&R1_TO_PHONE, T0);
    build("OPTIONS sip:pbx.example.com SIP/2.0\n"
          "Via: SIP/2.0/UDP 10.10.10.63:5060;branch=z9hG4bKopt\n"
          "From: <sip:1002@pbx.example.com>;tag=1\n"
          "To: <sip:pbx.example.com>\n"
          "Call-ID: opt@x\n"
          "CSeq: 1 OPTIONS\n\n");
    send_at(&PHONE_TO_R1, T0);
    seed_end();
    CHECK_INT(fstats().not_register, 3);
    CHECK_INT(fstats().messages, 3);
    CHECK_INT(fstats().malformed, 0);
    CHECK_INT(tstats().bindings, 0);
    CHECK_INT(sipfeed_pending(f), 0);

    /* garbage, a truncated REGISTER, and a 200 for an AOR without a user */
    build("\x16\x03\x01 not SIP at all\n\n");
    send_at(&PHONE_TO_R1, T0);
    reg("t@x", 1, "1002", "<sip:1002@10.10.10.63:5060>", NULL);
    msglen -= 10;
    send_at(&PHONE_TO_R1, T0);
    build("SIP/2.0 200 OK\n"
          "Via: SIP/2.0/UDP 10.10.10.63:5060;branch=z9hG4bKnouser\n"
          "From: <sip:pbx.example.com>;tag=1\n"
          "To: <sip:pbx.example.com>;tag=2\n"
          "Call-ID: nouser@x\n"
          "CSeq: 1 REGISTER\n"
          "Contact: <sip:10.10.10.63:5060>\n\n");
    send_at(&R1_TO_PHONE, T0);
    CHECK_INT(fstats().malformed, 3);
    CHECK_INT(fstats().committed + fstats().unmatched, 0);
    CHECK_INT(tstats().bindings, 0);
    CHECK_INT(sipfeed_pending(f), 0);
}

static void test_ipv6(void)
{
    setup(0, 0);
    seed_begin("ipv6");
    reg("v6@x", 1, "1002", "<sip:1002@[2001:db8::63]:5062>", "Expires: 600\n");
    send_at(&V6_PHONE_TO_R, T0);
    resp(200, "OK", "v6@x", 1, "1002", "<sip:1002@[2001:db8::63]:5062>;expires=600", NULL);
    send_at(&V6_R_TO_PHONE, T0);
    seed_end();
    if (CHECK_INT_RET(get("1002", T0), 1)) {
        CHECK_STR(bb[0].contact, "sip:1002@[2001:db8::63]:5062");
        CHECK_STR(bb[0].registrar, "2001:db8::5");
        CHECK_STR(bb[0].source, "[2001:db8::63]:5062");
        CHECK_STR(bb[0].user_agent, "Yealink SIP-T46S 66.86.0.15");
    }
    CHECK_INT(fstats().committed, 1);
    /* the longest IPv6 text still fits the source field */
    struct sip_hop h = {.src = "2001:db8::5", .dst = "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255",
                        .sport = 5060, .dport = 65535};
    resp(200, "OK", "v6long", 1, "1009", "<sip:1009@example.com>", NULL);
    sipfeed_input(f, rt, REG_FEED_PCAP, (const uint8_t *)msgbuf, msglen, &h, T0, 600);
    if (CHECK_INT_RET(get("1009", T0), 1))
        CHECK_STR(bb[0].source, "[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535");
}

/* A 200 that lists more contacts than the table keeps for an extension. */
static void test_small_cap(void)
{
    setup(0, 2);
    seed_begin("cap");
    resp(200, "OK", "c1", 1, "1002",
         "<sip:1002@10.10.10.61>, <sip:1002@10.10.10.62>, <sip:1002@10.10.10.63>, <sip:1002@10.10.10.64>", NULL);
    send_at(&R1_TO_PHONE, T0);
    resp(200, "OK", "c1", 2, "1002", "<sip:1002@10.10.10.65>", NULL);
    send_at(&R1_TO_PHONE, T0 + 1);
    seed_end();
    if (CHECK_INT_RET(get("1002", T0 + 1), 1))
        CHECK_STR(bb[0].contact, "sip:1002@10.10.10.65");
    CHECK_INT(tstats().bindings, 1);
}

/* chan_sip's unregistration (issue 17): REGISTER with Expires: 0, answered
 * by a 200 OK that lists no Contact. It removes what RealTime brought, and
 * RealTime's unchanged row of that registration does not bring it back. */
static void test_chan_sip_unregister(void)
{
    setup(0, 0);
    seed_begin("chan-sip-unregister");
    struct reg_update row = {.ext = "1002", .contact = "sip:1002@10.10.10.63:5060", .registrar = "10.0.0.5",
                             .expires = T0 + 3600, .feed = REG_FEED_REALTIME};
    CHECK_INT(regtable_apply(rt, &row, T0), 0);
    /* a binding of the same phone at the other registrar is not this 2xx's */
    struct reg_update other = row;
    other.registrar = "10.0.0.6";
    other.contact = "sip:1002@10.10.10.99:5060";
    CHECK_INT(regtable_apply(rt, &other, T0), 0);
    reg("unreg-1@10.10.10.63", 5, "1002", "<sip:1002@10.10.10.63:5060>", "Expires: 0\n");
    send_at(&PHONE_TO_R1, T0 + 100);
    resp(200, "OK", "unreg-1@10.10.10.63", 5, "1002", NULL, NULL);
    send_at(&R1_TO_PHONE, T0 + 100);
    seed_end();
    if (CHECK_INT_RET(get("1002", T0 + 100), 1))
        CHECK_STR(bb[0].registrar, "10.0.0.6");
    CHECK_INT(fstats().bindings_removed, 1);
    CHECK_INT(tstats().departures, 1);
    /* the next poll returns the row chan_sip left: refused */
    CHECK_INT(regtable_apply(rt, &row, T0 + 101), REG_APPLY_REFUSED);
    CHECK_INT(get("1002", T0 + 101), 1);
    /* the phone registers again (new regseconds): back */
    row.expires = T0 + 3700;
    CHECK_INT(regtable_apply(rt, &row, T0 + 102), 0);
    CHECK_INT(get("1002", T0 + 102), 2);

    /* the table had nothing at that registrar: the departure's contact is
     * not known, the first row offered is taken as the stale one */
    reg("unreg-2@10.10.10.63", 7, "1003", "<sip:1003@10.10.10.63:5060>", "Expires: 0\n");
    send_at(&PHONE_TO_R1, T0 + 200);
    resp(200, "OK", "unreg-2@10.10.10.63", 7, "1003", NULL, NULL);
    send_at(&R1_TO_PHONE, T0 + 200);
    CHECK_INT(tstats().departures, 1);
    row.ext = "1003";
    row.contact = "sip:1003@10.10.10.63:5060";
    row.expires = T0 + 3000;
    CHECK_INT(regtable_apply(rt, &row, T0 + 201), REG_APPLY_REFUSED);
    CHECK_INT(get("1003", T0 + 201), 0);
    /* a registration on the wire forgets it at once */
    reg("reg-3@10.10.10.63", 8, "1003", "<sip:1003@10.10.10.63:5060>", "Expires: 60\n");
    send_at(&PHONE_TO_R1, T0 + 300);
    resp(200, "OK", "reg-3@10.10.10.63", 8, "1003", "<sip:1003@10.10.10.63:5060>;expires=60", NULL);
    send_at(&R1_TO_PHONE, T0 + 300);
    CHECK_INT(tstats().departures, 0);
    if (CHECK_INT_RET(get("1003", T0 + 300), 1))
        CHECK(reg_binding_vouched(&bb[0], REG_FEED_PCAP), "the wire vouches");
    CHECK_INT(regtable_apply(rt, &row, T0 + 301), 0); /* RealTime's row vouches too */
    if (CHECK_INT_RET(get("1003", T0 + 301), 1))
        CHECK_INT(bb[0].feeds, (1u << REG_FEED_PCAP) | (1u << REG_FEED_REALTIME));
}

/* res_pjsip with its RealTime database down answers a REGISTER with a
 * 200 OK that lists no contact ("Unable to bind contact"; recorded with
 * Asterisk 20): not an unregistration, nothing changes. */
static void test_not_bound(void)
{
    setup(0, 0);
    seed_begin("pjsip-not-bound");
    reg("nb-1@10.10.10.63", 1, "1002", "<sip:1002@10.10.10.63:5060>", "Expires: 3600\n");
    send_at(&PHONE_TO_R1, T0);
    resp(200, "OK", "nb-1@10.10.10.63", 1, "1002", "<sip:1002@10.10.10.63:5060>;expires=3599", NULL);
    send_at(&R1_TO_PHONE, T0);
    CHECK_INT(get("1002", T0), 1);
    /* the refresh during the outage */
    reg("nb-1@10.10.10.63", 2, "1002", "<sip:1002@10.10.10.63:5060>", "Expires: 3600\n");
    send_at(&PHONE_TO_R1, T0 + 1800);
    resp(200, "OK", "nb-1@10.10.10.63", 2, "1002", NULL, "Expires: 3600\n");
    send_at(&R1_TO_PHONE, T0 + 1800);
    seed_end();
    if (CHECK_INT_RET(get("1002", T0 + 1800), 1))
        CHECK_INT(bb[0].expires, T0 + 3599);
    CHECK_INT(fstats().not_bound, 1);
    CHECK_INT(fstats().committed, 1);
    CHECK_INT(tstats().departures, 0);
    /* a new phone then: not added (the registrar holds nothing for it) */
    reg("nb-2@10.10.10.63", 1, "1004", "<sip:1004@10.10.10.63:5060>", "Expires: 3600\n");
    send_at(&PHONE_TO_R1, T0 + 1801);
    resp(200, "OK", "nb-2@10.10.10.63", 1, "1004", NULL, "Expires: 3600\n");
    send_at(&R1_TO_PHONE, T0 + 1801);
    CHECK_INT(get("1004", T0 + 1801), 0);
    CHECK_INT(fstats().not_bound, 2);
    /* an unregistration answered the same way still removes */
    reg("nb-1@10.10.10.63", 3, "1002", "<sip:1002@10.10.10.63:5060>", "Expires: 0\n");
    send_at(&PHONE_TO_R1, T0 + 1802);
    resp(200, "OK", "nb-1@10.10.10.63", 3, "1002", NULL, "Expires: 0\n");
    send_at(&R1_TO_PHONE, T0 + 1802);
    CHECK_INT(get("1002", T0 + 1802), 0);
}

int main(int argc, char **argv)
{
    if (argc >= 4 && !strcmp(argv[2], "--seeds"))
        seed_dir = argv[3];
    test_register_200();
    test_401_then_auth();
    test_refused();
    test_unmatched();
    test_expiry_sources();
    test_unregister();
    test_star();
    test_fewer_contacts();
    test_chan_sip_unregister();
    test_not_bound();
    test_retransmission();
    test_pending_expiry();
    test_max_pending();
    test_other_messages();
    test_ipv6();
    test_small_cap();
    sipfeed_free(f);
    regtable_free(rt);
    return test_summary("test_sipfeed");
}
