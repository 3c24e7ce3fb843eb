/* Unit tests of the HEP decoder (v1, v2, v3), the HEPv3 encoder, the auth
 * key check and the payload inflater.
 *
 * Usage: test_hep [DATADIR [--seeds DIR]]. With --seeds, the valid datagrams
 * built here are also written to DIR (the fuzzer's seed corpus,
 * test/fuzz/corpus/hep). */
#include "dundid/hep.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <zlib.h>

#include "testutil.h"

static const char *seed_dir; /* --seeds DIR */

static void seed(const char *name, const void *p, size_t n)
{
    if (!seed_dir)
        return;
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", seed_dir, name);
    FILE *f = fopen(path, "wb");
    if (!CHECK(f != NULL, "cannot write %s", path))
        return;
    CHECK(fwrite(p, 1, n, f) == n, "short write to %s", path);
    fclose(f);
}

/* Decode from a heap copy of exactly n bytes, so that AddressSanitizer sees
 * any read past the datagram. */
static int decode_exact(const uint8_t *p, size_t n, struct hep_msg *m)
{
    uint8_t *c = malloc(n ? n : 1);
    if (!c)
        abort();
    if (n)
        memcpy(c, p, n);
    int rc = hep_decode(c, n, m);
    if (rc == HEP_OK) { /* the pointers must land inside the copy */
        CHECK(m->payload >= c && m->payload + m->payload_len <= c + n, "payload outside the datagram");
        if (m->auth_key)
            CHECK((const uint8_t *)m->auth_key >= c && (const uint8_t *)m->auth_key + m->auth_key_len <= c + n,
                  "auth key outside the datagram");
        /* rebase onto the caller's buffer before freeing the copy */
        m->payload = p + (m->payload - c);
        if (m->auth_key)
            m->auth_key = (const char *)p + ((const uint8_t *)m->auth_key - c);
        if (m->correlation_id)
            m->correlation_id = (const char *)p + ((const uint8_t *)m->correlation_id - c);
    }
    free(c);
    return rc;
}

#define CHECK_RC(expr, want)                                                                            \
    do {                                                                                                \
        int rc_ = (expr);                                                                               \
        CHECK(rc_ == (want), "%s = %d (%s), want %d (%s)", #expr, rc_, hep_strerror(rc_), (int)(want),  \
              hep_strerror(want));                                                                      \
    } while (0)

static bool mem_is(const void *p, size_t n, const char *s)
{
    return p && n == strlen(s) && memcmp(p, s, n) == 0;
}

/* ---- a small HEPv3 builder, to write datagrams chunk by chunk ---- */

static uint8_t bbuf[70000];
static size_t bn;

static void b_bytes(const void *p, size_t n)
{
    memcpy(bbuf + bn, p, n);
    bn += n;
}
static void b8(unsigned v)
{
    bbuf[bn++] = (uint8_t)v;
}
static void b16(unsigned v)
{
    b8(v >> 8);
    b8(v);
}
static void b_start(void)
{
    bn = 0;
    b_bytes("HEP3", 4);
    b16(0); /* total, set by b_end */
}
static size_t b_end(void)
{
    bbuf[4] = (uint8_t)(bn >> 8);
    bbuf[5] = (uint8_t)bn;
    return bn;
}
static void b_chunk(unsigned vendor, unsigned type, const void *v, size_t n)
{
    b16(vendor);
    b16(type);
    b16((unsigned)(6 + n));
    if (n)
        b_bytes(v, n);
}
static void c8(unsigned type, unsigned v)
{
    uint8_t x = (uint8_t)v;
    b_chunk(0, type, &x, 1);
}
static void c16(unsigned type, unsigned v)
{
    uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    b_chunk(0, type, x, 2);
}
static void c32(unsigned type, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    b_chunk(0, type, x, 4);
}
static void cstr(unsigned type, const char *s)
{
    b_chunk(0, type, s, strlen(s));
}

static const char REGISTER[] = "REGISTER sip:example.com SIP/2.0\r\n"
                               "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\r\n"
                               "From: <sip:1001@example.com>;tag=1928301774\r\n"
                               "To: <sip:1001@example.com>\r\n"
                               "Call-ID: a84b4c76e66710@pc33.example.com\r\n"
                               "CSeq: 1 REGISTER\r\n"
                               "Contact: <sip:1001@192.0.2.10:5060>\r\n"
                               "Expires: 3600\r\n"
                               "Content-Length: 0\r\n\r\n";

/* IPv4 v3 datagram with everything: family, addresses, ports, payload. */
static size_t build_v3_ipv4(void)
{
    b_start();
    c8(HEP_CT_IP_FAMILY, 2);
    c8(HEP_CT_IP_PROTO, 17);
    b_chunk(0, HEP_CT_IPV4_SRC, "\xc0\x00\x02\x0a", 4);
    b_chunk(0, HEP_CT_IPV4_DST, "\xc0\x00\x02\x01", 4);
    c16(HEP_CT_SRC_PORT, 5060);
    c16(HEP_CT_DST_PORT, 5080);
    cstr(HEP_CT_PAYLOAD, "OPTIONS sip:a SIP/2.0\r\n\r\n");
    return b_end();
}

/* ---- (1) HEPv3 round trips through hep3_encode ---- */

static void check_same(const struct hep_msg *a, const struct hep_msg *b, const char *what)
{
    size_t alen = a->family == AF_INET ? 4 : 16;
    CHECK(b->version == 3, "%s: version %d", what, b->version);
    CHECK(b->family == a->family, "%s: family %d, want %d", what, b->family, a->family);
    CHECK(b->ip_proto == a->ip_proto, "%s: ip_proto %u", what, b->ip_proto);
    CHECK(memcmp(b->src, a->src, alen) == 0, "%s: src differs", what);
    CHECK(memcmp(b->dst, a->dst, alen) == 0, "%s: dst differs", what);
    CHECK(b->sport == a->sport && b->dport == a->dport, "%s: ports %u %u", what, b->sport, b->dport);
    CHECK(b->ts_sec == a->ts_sec && b->ts_usec == a->ts_usec, "%s: time %u.%06u", what, b->ts_sec, b->ts_usec);
    CHECK(b->proto_type == a->proto_type, "%s: proto_type %u", what, b->proto_type);
    CHECK(b->capture_id == a->capture_id, "%s: capture_id %u", what, b->capture_id);
    CHECK(b->payload_len == a->payload_len && memcmp(b->payload, a->payload, a->payload_len) == 0,
          "%s: payload differs", what);
    CHECK(b->payload_compressed == a->payload_compressed, "%s: compressed flag", what);
    if (a->auth_key)
        CHECK(b->auth_key && b->auth_key_len == a->auth_key_len &&
                  memcmp(b->auth_key, a->auth_key, a->auth_key_len) == 0,
              "%s: auth key differs", what);
    else
        CHECK(b->auth_key == NULL, "%s: unexpected auth key", what);
    if (a->correlation_id)
        CHECK(b->correlation_id && b->correlation_id_len == a->correlation_id_len &&
                  memcmp(b->correlation_id, a->correlation_id, a->correlation_id_len) == 0,
              "%s: correlation id differs", what);
    else
        CHECK(b->correlation_id == NULL, "%s: unexpected correlation id", what);
}

static void roundtrip(const struct hep_msg *m, const char *what, const char *seedname)
{
    static uint8_t out[70000];
    struct hep_msg d;
    int n = hep3_encode(m, out, sizeof(out));
    if (!CHECK(n > 0, "%s: hep3_encode = %d", what, n))
        return;
    CHECK(memcmp(out, "HEP3", 4) == 0 && (size_t)(out[4] << 8 | out[5]) == (size_t)n, "%s: header", what);
    int rc = decode_exact(out, (size_t)n, &d);
    if (CHECK(rc == HEP_OK, "%s: decode = %s", what, hep_strerror(rc)))
        check_same(m, &d, what);
    /* every capacity short of the length is refused */
    int refused = 0;
    for (int cap = 0; cap < n; cap++)
        refused += hep3_encode(m, out, (size_t)cap) == -1;
    CHECK(refused == n, "%s: %d of %d short capacities refused", what, refused, n);
    CHECK_INT(hep3_encode(m, out, (size_t)n), n);
    /* every truncation is an error */
    int bad = 0;
    for (int i = 0; i < n; i++)
        bad += decode_exact(out, (size_t)i, &d) != HEP_OK;
    CHECK(bad == n, "%s: %d of %d truncations rejected", what, bad, n);
    if (seedname)
        seed(seedname, out, (size_t)n);
}

static void test_roundtrip(void)
{
    struct hep_msg m;
    memset(&m, 0, sizeof(m));
    m.family = AF_INET;
    m.ip_proto = 17;
    inet_pton(AF_INET, "192.0.2.10", m.src);
    inet_pton(AF_INET, "198.51.100.7", m.dst);
    m.sport = 5060;
    m.dport = 5062;
    m.ts_sec = 1700000000u;
    m.ts_usec = 999999u;
    m.proto_type = HEP_PROTO_SIP;
    m.capture_id = 0xdeadbeefu;
    m.payload = (const uint8_t *)REGISTER;
    m.payload_len = strlen(REGISTER);
    roundtrip(&m, "ipv4", "v3-ipv4");

    m.auth_key = "s3cr3t!";
    m.auth_key_len = 7;
    m.correlation_id = "a84b4c76e66710@pc33.example.com";
    m.correlation_id_len = strlen(m.correlation_id);
    roundtrip(&m, "ipv4+auth", "v3-ipv4-auth");

    memset(m.src, 0, sizeof(m.src));
    memset(m.dst, 0, sizeof(m.dst));
    m.family = AF_INET6;
    m.ip_proto = 6;
    inet_pton(AF_INET6, "2001:db8::10", m.src);
    inet_pton(AF_INET6, "2001:db8:ffff::1", m.dst);
    roundtrip(&m, "ipv6+auth", "v3-ipv6-auth");

    m.auth_key = NULL;
    m.auth_key_len = 0;
    m.correlation_id = NULL;
    m.correlation_id_len = 0;
    m.sport = 65535;
    m.dport = 1;
    m.capture_id = 0;
    roundtrip(&m, "ipv6", "v3-ipv6");

    /* an empty auth key is still a key */
    m.auth_key = "";
    roundtrip(&m, "ipv6+empty key", NULL);
    m.auth_key = NULL;

    /* one-byte payload, and the largest payload that fits in 65535 */
    static uint8_t big[65535];
    memset(big, 'x', sizeof(big));
    m.payload = big;
    m.payload_len = 1;
    roundtrip(&m, "1-byte payload", NULL);
    uint8_t probe[128];
    m.payload_len = 0;
    int base = hep3_encode(&m, probe, sizeof(probe)); /* everything but the payload bytes */
    if (CHECK(base > 0, "encode without payload = %d", base)) {
        static uint8_t out[70000];
        struct hep_msg d;
        m.payload_len = 65535 - (size_t)base;
        CHECK_INT(hep3_encode(&m, out, sizeof(out)), 65535);
        CHECK_RC(decode_exact(out, 65535, &d), HEP_OK);
        CHECK_INT(d.payload_len, 65535 - base);
        m.payload_len++;
        CHECK_INT(hep3_encode(&m, out, sizeof(out)), -1);
    }

    /* compressed payload: flagged, not inflated by the decoder */
    static uint8_t z[2048];
    uLongf zlen = sizeof(z);
    if (CHECK(compress(z, &zlen, (const Bytef *)REGISTER, strlen(REGISTER)) == Z_OK, "compress")) {
        memset(&m, 0, sizeof(m));
        m.family = AF_INET;
        m.ip_proto = 17;
        inet_pton(AF_INET, "10.1.2.3", m.src);
        inet_pton(AF_INET, "10.1.2.4", m.dst);
        m.sport = m.dport = 5060;
        m.proto_type = 1;
        m.payload = z;
        m.payload_len = zlen;
        m.payload_compressed = true;
        roundtrip(&m, "compressed", "v3-ipv4-zlib");

        uint8_t plain[2048];
        long n = hep_inflate(z, zlen, plain, sizeof(plain));
        CHECK(n == (long)strlen(REGISTER) && memcmp(plain, REGISTER, (size_t)n) == 0, "inflate = %ld", n);
        CHECK_INT(hep_inflate(z, zlen, plain, 10), -1);        /* does not fit */
        CHECK_INT(hep_inflate(z, zlen - 1, plain, sizeof(plain)), -1); /* truncated */
        CHECK_INT(hep_inflate((const uint8_t *)"REGISTER", 8, plain, sizeof(plain)), -1);
        CHECK_INT(hep_inflate(z, 0, plain, sizeof(plain)), -1);
    }

    /* gzip framing is accepted too */
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (CHECK(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK, "deflateInit2")) {
        zs.next_in = (Bytef *)(uintptr_t)REGISTER;
        zs.avail_in = (uInt)strlen(REGISTER);
        zs.next_out = z;
        zs.avail_out = sizeof(z);
        CHECK(deflate(&zs, Z_FINISH) == Z_STREAM_END, "gzip deflate");
        size_t glen = zs.total_out;
        deflateEnd(&zs);
        uint8_t plain[2048];
        long n = hep_inflate(z, glen, plain, sizeof(plain));
        CHECK(n == (long)strlen(REGISTER) && memcmp(plain, REGISTER, (size_t)n) == 0, "gunzip = %ld", n);
    }

    /* the encoder refuses what it cannot express */
    uint8_t out[256];
    memset(&m, 0, sizeof(m));
    m.family = 99;
    CHECK_INT(hep3_encode(&m, out, sizeof(out)), -1);
    m.family = AF_INET;
    m.payload_len = 3; /* no payload pointer */
    CHECK_INT(hep3_encode(&m, out, sizeof(out)), -1);
    CHECK_INT(hep3_encode(NULL, out, sizeof(out)), -1);
}

/* ---- (2) hand-written vectors, as the senders lay them out ---- */

/* Asterisk res_hep (res_hep.c, hep_queue_cb): the packed struct hep_generic
 * (family, protocol, ports, times, protocol type, capture id), then the IPv4
 * addresses, the auth key, the UUID (chunk 0x0011) and the payload. A vendor
 * chunk (Asterisk's vendor id 4) is inserted to be skipped. */
static const char ASTERISK_V3[] = "HEP3"
                                  "\x00\xab"                     /* total length 171 */
                                  "\x00\x00\x00\x01\x00\x07\x02" /* family: 2 (IPv4) */
                                  "\x00\x00\x00\x02\x00\x07\x11" /* protocol: 17 (UDP) */
                                  "\x00\x00\x00\x07\x00\x08\x13\xc4"         /* src port 5060 */
                                  "\x00\x00\x00\x08\x00\x08\x16\x2e"         /* dst port 5678 */
                                  "\x00\x00\x00\x09\x00\x0a\x65\x53\xf1\x00" /* 1700000000 s */
                                  "\x00\x00\x00\x0a\x00\x0a\x00\x01\xe2\x40" /* 123456 us */
                                  "\x00\x00\x00\x0b\x00\x07\x01"             /* type 1: SIP */
                                  "\x00\x00\x00\x0c\x00\x0a\x00\x00\x04\xd2" /* capture id 1234 */
                                  "\x00\x00\x00\x03\x00\x0a\x0a\x00\x00\x01" /* src 10.0.0.1 */
                                  "\x00\x00\x00\x04\x00\x0a\x0a\x00\x00\x02" /* dst 10.0.0.2 */
                                  "\x00\x04\x00\x01\x00\x0a"
                                  "abcd" /* vendor 4, type 1: skipped */
                                  "\x00\x00\x00\x0e\x00\x0c"
                                  "secret" /* auth key */
                                  "\x00\x00\x00\x11\x00\x0e"
                                  "abc@host" /* UUID / correlation id */
                                  "\x00\x00\x00\x0f\x00\x2a"
                                  "OPTIONS sip:100@10.0.0.2 SIP/2.0\r\n\r\n"; /* payload, 36 bytes */

static void test_asterisk_vector(void)
{
    const uint8_t *v = (const uint8_t *)ASTERISK_V3;
    size_t n = sizeof(ASTERISK_V3) - 1;
    struct hep_msg m;
    CHECK_INT(n, 171);
    seed("asterisk-v3", v, n);
    if (!CHECK(decode_exact(v, n, &m) == HEP_OK, "asterisk vector rejected"))
        return;
    CHECK_INT(m.version, 3);
    CHECK_INT(m.family, AF_INET);
    CHECK_INT(m.ip_proto, 17);
    CHECK(memcmp(m.src, "\x0a\x00\x00\x01", 4) == 0, "src");
    CHECK(memcmp(m.dst, "\x0a\x00\x00\x02", 4) == 0, "dst");
    CHECK_INT(m.sport, 5060);
    CHECK_INT(m.dport, 5678);
    CHECK_INT(m.ts_sec, 1700000000);
    CHECK_INT(m.ts_usec, 123456);
    CHECK_INT(m.proto_type, 1);
    CHECK_INT(m.capture_id, 1234);
    CHECK(mem_is(m.auth_key, m.auth_key_len, "secret"), "auth key");
    CHECK(mem_is(m.correlation_id, m.correlation_id_len, "abc@host"), "correlation id");
    CHECK(mem_is(m.payload, m.payload_len, "OPTIONS sip:100@10.0.0.2 SIP/2.0\r\n\r\n"), "payload");
    CHECK(!m.payload_compressed, "not compressed");
    CHECK(hep_auth_ok(&m, "secret"), "auth ok");

    /* every truncation fails cleanly */
    int bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += decode_exact(v, i, &m) != HEP_OK;
    CHECK(bad == (int)n, "%d of %zu truncations rejected", bad, n);

    /* every single-byte change: no crash, and a result that is either an
     * error or a message whose payload lies inside the datagram */
    uint8_t w[171];
    int ok = 0;
    for (size_t i = 0; i < n; i++) {
        static const uint8_t vals[] = {0x00, 0x01, 0x05, 0x06, 0x07, 0x0a, 0x7f, 0x80, 0xff};
        for (size_t k = 0; k < sizeof(vals); k++) {
            memcpy(w, v, n);
            w[i] = vals[k];
            ok += decode_exact(w, n, &m) == HEP_OK;
        }
    }
    CHECK(ok > 0, "some mutations still decode (%d)", ok);
}

/* Kamailio siptrace style (trace_send_hep3_duplicate): family, protocol,
 * addresses, ports, times, protocol type, capture id, auth key, correlation
 * id, payload; here over IPv6 with a keep-alive chunk, an unknown generic
 * chunk and chunks of two other vendors in between. */
static void test_kamailio_vector(void)
{
    uint8_t s6[16], d6[16];
    inet_pton(AF_INET6, "2001:db8::5", s6);
    inet_pton(AF_INET6, "2001:db8::6", d6);
    b_start();
    c8(HEP_CT_IP_FAMILY, 10);
    c8(HEP_CT_IP_PROTO, 6);
    b_chunk(0, HEP_CT_IPV6_SRC, s6, 16);
    b_chunk(0x0003, 0x0020, "kamailio-vendor", 15); /* vendor 3: skipped */
    b_chunk(0, HEP_CT_IPV6_DST, d6, 16);
    c16(HEP_CT_SRC_PORT, 5061);
    c16(HEP_CT_DST_PORT, 35000);
    c32(HEP_CT_TS_SEC, 1234567890u);
    c32(HEP_CT_TS_USEC, 1u);
    c8(HEP_CT_PROTO_TYPE, 1);
    c32(HEP_CT_CAPTURE_ID, 2001);
    c16(HEP_CT_KEEPALIVE, 30);
    b_chunk(0, 0x0020, "\x00\x00\x00\x01", 4); /* generic type not known here */
    b_chunk(0xffff, 0xffff, NULL, 0);           /* empty vendor chunk */
    cstr(HEP_CT_AUTH_KEY, "myHep");
    cstr(HEP_CT_CORRELATION, "a84b4c76e66710@pc33.example.com");
    cstr(HEP_CT_PAYLOAD, REGISTER);
    size_t n = b_end();
    seed("kamailio-v3-ipv6", bbuf, n);

    struct hep_msg m;
    if (!CHECK(decode_exact(bbuf, n, &m) == HEP_OK, "kamailio vector rejected"))
        return;
    CHECK_INT(m.family, AF_INET6);
    CHECK_INT(m.ip_proto, 6);
    CHECK(memcmp(m.src, s6, 16) == 0 && memcmp(m.dst, d6, 16) == 0, "addresses");
    CHECK_INT(m.sport, 5061);
    CHECK_INT(m.dport, 35000);
    CHECK_INT(m.ts_sec, 1234567890);
    CHECK_INT(m.ts_usec, 1);
    CHECK_INT(m.capture_id, 2001);
    CHECK(mem_is(m.auth_key, m.auth_key_len, "myHep"), "auth key");
    CHECK(mem_is(m.correlation_id, m.correlation_id_len, "a84b4c76e66710@pc33.example.com"), "correlation");
    CHECK(mem_is(m.payload, m.payload_len, REGISTER), "payload");
    int bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += decode_exact(bbuf, i, &m) != HEP_OK;
    CHECK(bad == (int)n, "%d of %zu truncations rejected", bad, n);

    /* no family chunk: the family follows the addresses */
    b_start();
    b_chunk(0, HEP_CT_IPV6_SRC, s6, 16);
    b_chunk(0, HEP_CT_IPV6_DST, d6, 16);
    cstr(HEP_CT_PAYLOAD, "x");
    n = b_end();
    CHECK_RC(decode_exact(bbuf, n, &m), HEP_OK);
    CHECK_INT(m.family, AF_INET6);
    CHECK_INT(m.proto_type, 0); /* absent */
    seed("v3-minimal-ipv6", bbuf, n);

    /* FreeBSD's AF_INET6 (28), as its Asterisk would send it */
    b_start();
    c8(HEP_CT_IP_FAMILY, 28);
    b_chunk(0, HEP_CT_IPV6_SRC, s6, 16);
    b_chunk(0, HEP_CT_IPV6_DST, d6, 16);
    cstr(HEP_CT_PAYLOAD, "x");
    n = b_end();
    CHECK_RC(decode_exact(bbuf, n, &m), HEP_OK);
    CHECK_INT(m.family, AF_INET6);

    /* both plain and compressed payloads: the plain one is used */
    b_start();
    b_chunk(0, HEP_CT_IPV4_SRC, "\x01\x02\x03\x04", 4);
    b_chunk(0, HEP_CT_IPV4_DST, "\x05\x06\x07\x08", 4);
    cstr(HEP_CT_PAYLOAD_Z, "zzz");
    cstr(HEP_CT_PAYLOAD, "plain");
    n = b_end();
    CHECK_RC(decode_exact(bbuf, n, &m), HEP_OK);
    CHECK(mem_is(m.payload, m.payload_len, "plain") && !m.payload_compressed, "plain payload preferred");
    /* an empty plain payload falls back to the compressed one */
    b_start();
    b_chunk(0, HEP_CT_IPV4_SRC, "\x01\x02\x03\x04", 4);
    b_chunk(0, HEP_CT_IPV4_DST, "\x05\x06\x07\x08", 4);
    cstr(HEP_CT_PAYLOAD, "");
    cstr(HEP_CT_PAYLOAD_Z, "zzz");
    n = b_end();
    CHECK_RC(decode_exact(bbuf, n, &m), HEP_OK);
    CHECK(mem_is(m.payload, m.payload_len, "zzz") && m.payload_compressed, "compressed fallback");
}

/* HEPv2 as Kamailio siptrace / OpenSIPS / captagent send it: struct hep_hdr
 * (version, header length = 8 + addresses, family, protocol, ports), the
 * addresses, struct hep_timehdr in host (little-endian) order with its
 * padding (12 bytes), then the SIP message. */
static const char V2_IPV4[] = "\x02\x10\x02\x11"     /* v2, hl 16, AF_INET, UDP */
                              "\x13\xc4\x13\xc5"     /* 5060 -> 5061 */
                              "\xc0\xa8\x01\x0a"     /* 192.168.1.10 */
                              "\xc0\xa8\x01\x14"     /* 192.168.1.20 */
                              "\x00\xf1\x53\x65"     /* 1700000000 s (LE) */
                              "\x40\xe2\x01\x00"     /* 123456 us (LE) */
                              "\x65\x00\x00\x00"     /* capture id 101 (LE), padding */
                              "SIP/2.0 200 OK\r\n\r\n";
static const char V2_IPV6[] = "\x02\x28\x0a\x06"     /* v2, hl 40, AF_INET6, TCP */
                              "\x13\xc4\x88\xb8"     /* 5060 -> 35000 */
                              "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01"
                              "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02"
                              "\xd2\x02\x96\x49"     /* 1234567890 s (LE) */
                              "\x07\x00\x00\x00"     /* 7 us */
                              "\x01\x02\x00\x00"     /* capture id 0x0201 */
                              "REGISTER sip:x SIP/2.0\r\n\r\n";
static const char V1_IPV4[] = "\x01\x10\x02\x11"     /* v1, hl 16, AF_INET, UDP */
                              "\x13\xc4\x13\xc4"     /* 5060 -> 5060 */
                              "\x0a\x00\x00\x01"
                              "\x0a\x00\x00\x02"
                              "INVITE sip:y SIP/2.0\r\n\r\n";

static void test_v12(void)
{
    struct hep_msg m;
    const uint8_t *v = (const uint8_t *)V2_IPV4;
    size_t n = sizeof(V2_IPV4) - 1;
    seed("v2-ipv4", v, n);
    if (CHECK(decode_exact(v, n, &m) == HEP_OK, "v2 ipv4 rejected")) {
        CHECK_INT(m.version, 2);
        CHECK_INT(m.family, AF_INET);
        CHECK_INT(m.ip_proto, 17);
        CHECK_INT(m.sport, 5060);
        CHECK_INT(m.dport, 5061);
        CHECK(memcmp(m.src, "\xc0\xa8\x01\x0a", 4) == 0 && memcmp(m.dst, "\xc0\xa8\x01\x14", 4) == 0, "addrs");
        CHECK_INT(m.ts_sec, 1700000000);
        CHECK_INT(m.ts_usec, 123456);
        CHECK_INT(m.capture_id, 101);
        CHECK_INT(m.proto_type, 1);
        CHECK(mem_is(m.payload, m.payload_len, "SIP/2.0 200 OK\r\n\r\n"), "v2 payload");
        CHECK(m.auth_key == NULL && !hep_auth_ok(&m, "x"), "v2 has no auth key");
    }
    /* prefixes: an error until at least one payload byte is there */
    int bad = 0;
    for (size_t i = 0; i <= 28; i++)
        bad += decode_exact(v, i, &m) != HEP_OK;
    CHECK_INT(bad, 29);
    for (size_t i = 29; i < n; i++)
        CHECK(decode_exact(v, i, &m) == HEP_OK && m.payload_len == i - 28, "v2 prefix %zu", i);

    v = (const uint8_t *)V2_IPV6;
    n = sizeof(V2_IPV6) - 1;
    seed("v2-ipv6", v, n);
    if (CHECK(decode_exact(v, n, &m) == HEP_OK, "v2 ipv6 rejected")) {
        CHECK_INT(m.version, 2);
        CHECK_INT(m.family, AF_INET6);
        CHECK_INT(m.ip_proto, 6);
        CHECK_INT(m.sport, 5060);
        CHECK_INT(m.dport, 35000);
        CHECK(m.src[0] == 0x20 && m.src[15] == 1 && m.dst[15] == 2, "v6 addrs");
        CHECK_INT(m.ts_sec, 1234567890);
        CHECK_INT(m.ts_usec, 7);
        CHECK_INT(m.capture_id, 0x0201);
        CHECK(mem_is(m.payload, m.payload_len, "REGISTER sip:x SIP/2.0\r\n\r\n"), "v2 v6 payload");
    }
    bad = 0;
    for (size_t i = 0; i <= 52; i++)
        bad += decode_exact(v, i, &m) != HEP_OK;
    CHECK_INT(bad, 53);

    v = (const uint8_t *)V1_IPV4;
    n = sizeof(V1_IPV4) - 1;
    seed("v1-ipv4", v, n);
    if (CHECK(decode_exact(v, n, &m) == HEP_OK, "v1 rejected")) {
        CHECK_INT(m.version, 1);
        CHECK_INT(m.family, AF_INET);
        CHECK_INT(m.sport, 5060);
        CHECK_INT(m.ts_sec, 0);
        CHECK_INT(m.capture_id, 0);
        CHECK_INT(m.proto_type, 1);
        CHECK(mem_is(m.payload, m.payload_len, "INVITE sip:y SIP/2.0\r\n\r\n"), "v1 payload");
    }
    bad = 0;
    for (size_t i = 0; i <= 16; i++)
        bad += decode_exact(v, i, &m) != HEP_OK;
    CHECK_INT(bad, 17);

    /* hostile v1/v2 headers */
    uint8_t w[128];
    memset(w, 0, sizeof(w));
    memcpy(w, V2_IPV4, sizeof(V2_IPV4) - 1);
    n = sizeof(V2_IPV4) - 1;
    w[1] = 200; /* header length past the end */
    CHECK_RC(decode_exact(w, n, &m), HEP_E_LENGTH);
    w[1] = 255;
    CHECK_RC(decode_exact(w, 20, &m), HEP_E_LENGTH);
    w[1] = 0;
    CHECK_RC(decode_exact(w, n, &m), HEP_E_LENGTH);
    w[1] = 15;
    CHECK_RC(decode_exact(w, n, &m), HEP_E_LENGTH);
    w[1] = 28; /* header and time header: not how senders count */
    CHECK_RC(decode_exact(w, n, &m), HEP_E_LENGTH);
    w[1] = 40; /* IPv6 length with an IPv4 family */
    CHECK_RC(decode_exact(w, n, &m), HEP_E_LENGTH);
    w[1] = 16;
    w[2] = 99;
    CHECK_RC(decode_exact(w, n, &m), HEP_E_FAMILY);
    w[2] = 0;
    CHECK_RC(decode_exact(w, n, &m), HEP_E_FAMILY);
    w[2] = 10; /* IPv6 family, IPv4 length */
    CHECK_RC(decode_exact(w, n, &m), HEP_E_LENGTH);
    w[1] = 40; /* consistent, but the datagram is 46 bytes: no room for the time header */
    CHECK_RC(decode_exact(w, 46, &m), HEP_E_SHORT);
    CHECK_RC(decode_exact(w, 52, &m), HEP_E_MISSING);
    CHECK_RC(decode_exact(w, 53, &m), HEP_OK);
    CHECK_RC(decode_exact((const uint8_t *)"\x01\x10\x02\x11\x13\xc4\x13", 7, &m), HEP_E_SHORT);
    CHECK_RC(decode_exact((const uint8_t *)"\x02", 1, &m), HEP_E_SHORT);
}

/* ---- (3) hostile HEPv3 ---- */

static void put_be16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void test_hostile(void)
{
    struct hep_msg m;
    static uint8_t w[70000];
    size_t n = build_v3_ipv4();
    memcpy(w, bbuf, n);
    CHECK_RC(decode_exact(w, n, &m), HEP_OK);

    /* not HEP, or too short to tell */
    CHECK_RC(hep_decode(NULL, 0, &m), HEP_E_SHORT);
    CHECK_RC(decode_exact(w, 0, &m), HEP_E_SHORT);
    CHECK_RC(decode_exact((const uint8_t *)"H", 1, &m), HEP_E_SHORT);
    CHECK_RC(decode_exact((const uint8_t *)"HEP", 3, &m), HEP_E_SHORT);
    CHECK_RC(decode_exact((const uint8_t *)"HEP3", 4, &m), HEP_E_SHORT);
    CHECK_RC(decode_exact((const uint8_t *)"HEP3\x00", 5, &m), HEP_E_SHORT);
    CHECK_RC(decode_exact((const uint8_t *)"X", 1, &m), HEP_E_MAGIC);
    CHECK_RC(decode_exact((const uint8_t *)"HEP2\x00\x06", 6, &m), HEP_E_MAGIC);
    CHECK_RC(decode_exact((const uint8_t *)"hep3\x00\x06", 6, &m), HEP_E_MAGIC);
    CHECK_RC(decode_exact((const uint8_t *)"SIP/2.0 200 OK\r\n\r\n", 18, &m), HEP_E_MAGIC);
    CHECK_RC(decode_exact((const uint8_t *)"\x03\x10\x02\x11\x00\x00\x00\x00", 8, &m), HEP_E_MAGIC);
    CHECK_RC(decode_exact((const uint8_t *)"HEP3\x00\x06", 6, &m), HEP_E_MISSING); /* no chunks */

    /* total length larger or smaller than the datagram */
    put_be16(w + 4, (unsigned)n + 1);
    CHECK_RC(decode_exact(w, n, &m), HEP_E_LENGTH);
    put_be16(w + 4, (unsigned)n - 1);
    CHECK_RC(decode_exact(w, n, &m), HEP_E_LENGTH);
    put_be16(w + 4, 0);
    CHECK_RC(decode_exact(w, n, &m), HEP_E_LENGTH);
    put_be16(w + 4, 0xffff);
    CHECK_RC(decode_exact(w, n, &m), HEP_E_LENGTH);
    put_be16(w + 4, (unsigned)n);

    /* trailing bytes past the last chunk (counted in the total): 1..5 */
    for (size_t extra = 1; extra < 6; extra++) {
        memcpy(w, bbuf, n);
        memset(w + n, 0, extra);
        put_be16(w + 4, (unsigned)(n + extra));
        CHECK_RC(decode_exact(w, n + extra, &m), HEP_E_LENGTH);
    }

    /* chunk length 0, 1..5, one past the end, 0xffff: first, middle and last chunk */
    size_t offs[3] = {6, 6 + 7 + 7, 0};
    size_t last = 6;
    while (last + (size_t)(bbuf[last + 4] << 8 | bbuf[last + 5]) < n)
        last += (size_t)(bbuf[last + 4] << 8 | bbuf[last + 5]);
    offs[2] = last;
    for (int k = 0; k < 3; k++) {
        size_t o = offs[k];
        for (unsigned cl = 0; cl < 6; cl++) {
            memcpy(w, bbuf, n);
            put_be16(w + o + 4, cl);
            CHECK(decode_exact(w, n, &m) == HEP_E_LENGTH, "chunk at %zu, length %u accepted", o, cl);
        }
        memcpy(w, bbuf, n);
        put_be16(w + o + 4, (unsigned)(n - o + 1));
        CHECK(decode_exact(w, n, &m) == HEP_E_LENGTH, "chunk at %zu past the end", o);
        put_be16(w + o + 4, 0xffff);
        CHECK(decode_exact(w, n, &m) == HEP_E_LENGTH, "chunk at %zu, length 0xffff", o);
        /* exactly to the end is fine only for the last chunk */
        put_be16(w + o + 4, (unsigned)(n - o));
        int rc = decode_exact(w, n, &m);
        CHECK(o == last ? rc == HEP_OK : rc != HEP_OK, "chunk at %zu to the end: %s", o, hep_strerror(rc));
    }
    /* a vendor chunk of length 0 is as fatal as a generic one (no infinite loop) */
    b_start();
    b_chunk(0x1234, 1, NULL, 0);
    put_be16(bbuf + bn - 2, 0);
    n = b_end();
    CHECK_RC(decode_exact(bbuf, n, &m), HEP_E_LENGTH);

    /* generic chunks of the wrong size */
    static const struct {
        unsigned type;
        size_t len;
    } wrong[] = {
        {HEP_CT_IP_FAMILY, 0},  {HEP_CT_IP_FAMILY, 2},  {HEP_CT_IP_PROTO, 4},   {HEP_CT_IPV4_SRC, 5},
        {HEP_CT_IPV4_SRC, 3},   {HEP_CT_IPV4_DST, 16},  {HEP_CT_IPV6_SRC, 4},   {HEP_CT_IPV6_DST, 15},
        {HEP_CT_SRC_PORT, 3},   {HEP_CT_DST_PORT, 1},   {HEP_CT_TS_SEC, 8},     {HEP_CT_TS_USEC, 2},
        {HEP_CT_PROTO_TYPE, 0}, {HEP_CT_CAPTURE_ID, 2}, {HEP_CT_CAPTURE_ID, 5},
    };
    static const uint8_t zeros[32];
    for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
        n = build_v3_ipv4();
        bn = n;
        b_chunk(0, wrong[i].type, zeros, wrong[i].len);
        n = b_end();
        int rc = decode_exact(bbuf, n, &m);
        CHECK(rc == HEP_E_CHUNK, "type %u of %zu bytes: %s", wrong[i].type, wrong[i].len, hep_strerror(rc));
    }
    /* the same sizes from another vendor are skipped */
    n = build_v3_ipv4();
    bn = n;
    b_chunk(7, HEP_CT_IPV4_SRC, zeros, 5);
    b_chunk(7, HEP_CT_SRC_PORT, zeros, 3);
    n = b_end();
    CHECK_RC(decode_exact(bbuf, n, &m), HEP_OK);
    CHECK(memcmp(m.src, "\xc0\x00\x02\x0a", 4) == 0, "vendor chunk did not overwrite the address");

    /* missing pieces */
    b_start();
    c8(HEP_CT_IP_FAMILY, 2);
    b_chunk(0, HEP_CT_IPV4_SRC, "\x01\x02\x03\x04", 4);
    b_chunk(0, HEP_CT_IPV4_DST, "\x05\x06\x07\x08", 4);
    n = b_end();
    CHECK_RC(decode_exact(bbuf, n, &m), HEP_E_MISSING); /* no payload */
    b_start();
    b_chunk(0, HEP_CT_IPV4_SRC, "\x01\x02\x03\x04", 4);
    b_chunk(0, HEP_CT_IPV4_DST, "\x05\x06\x07\x08", 4);
    cstr(HEP_CT_PAYLOAD, "");
    n = b_end();
    CHECK_RC(decode_exact(bbuf, n, &m), HEP_E_MISSING); /* empty payload */
    b_start();
    c8(HEP_CT_IP_FAMILY, 2);
    b_chunk(0, HEP_CT_IPV4_SRC, "\x01\x02\x03\x04", 4);
    cstr(HEP_CT_PAYLOAD, "x");
    n = b_end();
    CHECK_RC(decode_exact(bbuf, n, &m), HEP_E_MISSING); /* no destination */
    b_start();
    cstr(HEP_CT_PAYLOAD, "x");
    n = b_end();
    CHECK_RC(decode_exact(bbuf, n, &m), HEP_E_MISSING); /* no addresses, no family */
    b_start();
    c8(HEP_CT_IP_FAMILY, 2); /* IPv4, but IPv6 addresses */
    b_chunk(0, HEP_CT_IPV6_SRC, zeros, 16);
    b_chunk(0, HEP_CT_IPV6_DST, zeros, 16);
    cstr(HEP_CT_PAYLOAD, "x");
    n = b_end();
    CHECK_RC(decode_exact(bbuf, n, &m), HEP_E_MISSING);
    b_start();
    c8(HEP_CT_IP_FAMILY, 99);
    b_chunk(0, HEP_CT_IPV4_SRC, "\x01\x02\x03\x04", 4);
    b_chunk(0, HEP_CT_IPV4_DST, "\x05\x06\x07\x08", 4);
    cstr(HEP_CT_PAYLOAD, "x");
    n = b_end();
    CHECK_RC(decode_exact(bbuf, n, &m), HEP_E_FAMILY);

    /* 65535 bytes of chunks: many 6-byte vendor chunks, then the message */
    b_start();
    b_chunk(0, HEP_CT_IPV4_SRC, "\x01\x02\x03\x04", 4);
    b_chunk(0, HEP_CT_IPV4_DST, "\x05\x06\x07\x08", 4);
    while (bn + 6 + 6 + 100 <= 65535)
        b_chunk(0x5555, 0x0001, NULL, 0);
    size_t plen = 65535 - bn - 6;
    b16(0);
    b16(HEP_CT_PAYLOAD);
    b16((unsigned)(6 + plen));
    memset(bbuf + bn, 'p', plen);
    bn += plen;
    n = b_end();
    CHECK_INT(n, 65535);
    CHECK_RC(decode_exact(bbuf, n, &m), HEP_OK);
    CHECK_INT(m.payload_len, plen);
    /* ... and without the message: all chunks walked, nothing found */
    memset(bbuf + 6, 0, 65535 - 6);
    for (size_t o = 6; o + 12 <= 65535; o += 6)
        put_be16(bbuf + o + 4, 6), bbuf[o] = 0x55;
    size_t lastc = 6 + ((65535 - 6) / 6 - 1) * 6;
    put_be16(bbuf + lastc + 4, (unsigned)(65535 - lastc));
    bbuf[lastc] = 0x55;
    CHECK_RC(decode_exact(bbuf, 65535, &m), HEP_E_MISSING);
    /* 65535 bytes of zero-length chunks: the first one stops the walk */
    memset(bbuf + 6, 0, 65535 - 6);
    CHECK_RC(decode_exact(bbuf, 65535, &m), HEP_E_LENGTH);
    /* a datagram longer than a HEPv3 length can say */
    static uint8_t huge[65536 + 16];
    memcpy(huge, "HEP3\xff\xff", 6);
    CHECK_RC(decode_exact(huge, sizeof(huge), &m), HEP_E_LENGTH);
}

/* ---- (4) auth key ---- */

static void test_auth(void)
{
    struct hep_msg m;
    memset(&m, 0, sizeof(m));
    CHECK(!hep_auth_ok(&m, "secret"), "absent key refused");
    CHECK(!hep_auth_ok(&m, NULL), "absent key, no password refused");
    CHECK(!hep_auth_ok(NULL, "secret"), "no message refused");
    m.auth_key = "secret";
    m.auth_key_len = 6;
    CHECK(hep_auth_ok(&m, "secret"), "equal key");
    CHECK(!hep_auth_ok(&m, "Secret"), "first byte differs");
    CHECK(!hep_auth_ok(&m, "secreT"), "last byte differs");
    CHECK(!hep_auth_ok(&m, "secre"), "password a prefix of the key");
    CHECK(!hep_auth_ok(&m, "secrets"), "key a prefix of the password");
    CHECK(!hep_auth_ok(&m, ""), "empty password");
    CHECK(!hep_auth_ok(&m, NULL), "NULL password");
    m.auth_key = "secret\0x"; /* a NUL in the key does not end it */
    m.auth_key_len = 8;
    CHECK(!hep_auth_ok(&m, "secret"), "key with NUL");
    m.auth_key_len = 0;
    CHECK(hep_auth_ok(&m, ""), "empty key, empty password");
    CHECK(!hep_auth_ok(&m, "s"), "empty key");

    /* from a decoded datagram */
    struct hep_msg d;
    if (CHECK(decode_exact((const uint8_t *)ASTERISK_V3, sizeof(ASTERISK_V3) - 1, &d) == HEP_OK, "decode")) {
        CHECK(hep_auth_ok(&d, "secret"), "datagram key");
        CHECK(!hep_auth_ok(&d, "secret2"), "datagram wrong key");
    }
    CHECK_STR(hep_strerror(HEP_OK), "ok");
    CHECK_STR(hep_strerror(HEP_E_FAMILY), "unknown address family");
    CHECK_STR(hep_strerror(-99), "unknown error");
}

int main(int argc, char **argv)
{
    if (argc > 3 && strcmp(argv[2], "--seeds") == 0)
        seed_dir = argv[3];
    test_roundtrip();
    test_asterisk_vector();
    test_kamailio_vector();
    test_v12();
    test_hostile();
    test_auth();
    return test_summary("hep");
}
