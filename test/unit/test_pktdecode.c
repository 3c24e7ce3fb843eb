/* Unit tests of the frame decoder (src/reg/pktdecode.c) with frames built
 * by hand: Ethernet, VLAN, QinQ, Linux SLL and SLL2, DLT_NULL/LOOP, raw IP;
 * IPv4 options, IPv6 extension headers, TCP options; Ethernet padding;
 * fragments; every prefix of every frame (decoded from an exact-size heap
 * copy, so AddressSanitizer sees any read past the end).
 *
 * Usage: test_pktdecode [DATADIR [--seeds DIR]]. With --seeds, the frames
 * are written to DIR (test/fuzz/corpus/pktdecode), each prefixed by a
 * 2-byte link type (see test/fuzz/pktdecode.c). */
#include "dundid/pktdecode.h"

#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "testutil.h"

static const char *seed_dir;
static unsigned nseeds;

/* ---- a frame builder ---- */

struct frame {
    uint8_t b[2048];
    size_t n;
};

static void put(struct frame *f, const void *p, size_t n)
{
    if (n)
        memcpy(f->b + f->n, p, n);
    f->n += n;
}
static void put8(struct frame *f, unsigned v) { f->b[f->n++] = (uint8_t)v; }
static void put16(struct frame *f, unsigned v)
{
    put8(f, v >> 8);
    put8(f, v & 0xff);
}
static void put32(struct frame *f, uint32_t v)
{
    put16(f, v >> 16);
    put16(f, v & 0xffff);
}
static void set16(struct frame *f, size_t at, unsigned v)
{
    f->b[at] = (uint8_t)(v >> 8);
    f->b[at + 1] = (uint8_t)v;
}
static void zeros(struct frame *f, size_t n)
{
    memset(f->b + f->n, 0, n);
    f->n += n;
}

static const char SIP[] = "REGISTER sip:pbx.example.com SIP/2.0\r\nVia: SIP/2.0/UDP 10.10.10.63:5060\r\n\r\n";

/* The transport header and payload, appended to f. proto 17 or 6;
 * tcp_opt: bytes of TCP options (a multiple of 4). */
static void l4(struct frame *f, int proto, uint16_t sport, uint16_t dport, const void *pl, size_t n, size_t tcp_opt)
{
    if (proto == 17) {
        put16(f, sport);
        put16(f, dport);
        put16(f, (unsigned)(8 + n));
        put16(f, 0);
    } else {
        put16(f, sport);
        put16(f, dport);
        put32(f, 1000);
        put32(f, 2000);
        put8(f, (unsigned)((20 + tcp_opt) / 4) << 4);
        put8(f, 0x18); /* PSH ACK */
        put16(f, 65535);
        put16(f, 0);
        put16(f, 0);
        for (size_t i = 0; i + 4 <= tcp_opt; i += 4) /* MSS, then NOPs and a timestamp */
            put32(f, i == 0 ? 0x020405b4u : 0x01010101u);
    }
    put(f, pl, n);
}

/* IPv4 header with opt bytes of options (a multiple of 4), then l4. */
static void ip4(struct frame *f, int proto, const char *src, const char *dst, uint16_t sport, uint16_t dport,
                const void *pl, size_t n, size_t opt, unsigned frag, size_t tcp_opt)
{
    size_t at = f->n;
    put8(f, 0x40 | (unsigned)((20 + opt) / 4));
    put8(f, 0);
    put16(f, 0); /* total: below */
    put16(f, 0x1234);
    put16(f, frag);
    put8(f, 64);
    put8(f, (unsigned)proto);
    put16(f, 0);
    uint8_t a[4];
    inet_pton(AF_INET, src, a);
    put(f, a, 4);
    inet_pton(AF_INET, dst, a);
    put(f, a, 4);
    for (size_t i = 0; i < opt; i += 4) /* router alert, then NOPs */
        put32(f, i == 0 ? 0x94040000u : 0x01010101u);
    if (proto == 17 || proto == 6)
        l4(f, proto, sport, dport, pl, n, tcp_opt);
    else
        put(f, pl, n);
    set16(f, at + 2, (unsigned)(f->n - at));
}

/* IPv6 header; ext: next-header values of extension headers to insert
 * (each 8 bytes, or 16 for a routing header), ending with proto. */
static void ip6(struct frame *f, int proto, const char *src, const char *dst, uint16_t sport, uint16_t dport,
                const void *pl, size_t n, const uint8_t *ext, size_t next_count, size_t tcp_opt)
{
    size_t at = f->n;
    put32(f, 0x60000000u);
    put16(f, 0); /* payload length: below */
    put8(f, next_count ? ext[0] : (unsigned)proto);
    put8(f, 64);
    uint8_t a[16];
    inet_pton(AF_INET6, src, a);
    put(f, a, 16);
    inet_pton(AF_INET6, dst, a);
    put(f, a, 16);
    for (size_t i = 0; i < next_count; i++) {
        unsigned nh = i + 1 < next_count ? ext[i + 1] : (unsigned)proto;
        if (ext[i] == 43) { /* routing: 16 bytes */
            put8(f, nh);
            put8(f, 1);
            zeros(f, 14);
        } else if (ext[i] == 44) { /* fragment: 8 bytes */
            put8(f, nh);
            put8(f, 0);
            put16(f, 0x0001); /* offset 0, more fragments */
            put32(f, 0xabcd);
        } else { /* hop-by-hop or destination options: PadN */
            put8(f, nh);
            put8(f, 0);
            put8(f, 1);
            put8(f, 4);
            zeros(f, 4);
        }
    }
    if (proto == 17 || proto == 6)
        l4(f, proto, sport, dport, pl, n, tcp_opt);
    else
        put(f, pl, n);
    set16(f, at + 4, (unsigned)(f->n - at - 40));
}

static void eth(struct frame *f, const unsigned *tags, size_t ntags, unsigned type)
{
    static const uint8_t macs[12] = {0x00, 0x15, 0x65, 0x01, 0x02, 0x03, 0x80, 0x5e, 0xc0, 0xa1, 0xb2, 0xc3};
    put(f, macs, 12);
    for (size_t i = 0; i < ntags; i++) {
        put16(f, tags[i]);
        put16(f, 100 + (unsigned)i); /* VLAN id */
    }
    put16(f, type);
}

static void sll(struct frame *f, unsigned type)
{
    put16(f, 0);     /* packet type: to us */
    put16(f, 1);     /* ARPHRD_ETHER */
    put16(f, 6);     /* address length */
    zeros(f, 8);     /* address */
    put16(f, type);  /* protocol */
}

static void sll2(struct frame *f, unsigned type)
{
    put16(f, type);  /* protocol */
    put16(f, 0);     /* reserved */
    put32(f, 2);     /* interface index */
    put16(f, 1);     /* ARPHRD_ETHER */
    put8(f, 0);      /* packet type */
    put8(f, 6);      /* address length */
    zeros(f, 8);
}

/* ---- decoding ---- */

/* Decode from an exact-size heap copy; on success the payload must lie in
 * the copy, and it is rebased onto the caller's frame. */
static int decode_exact(int dlt, const uint8_t *p, size_t n, struct pkt_info *out)
{
    uint8_t *c = malloc(n ? n : 1);
    if (!c)
        abort();
    if (n)
        memcpy(c, p, n);
    int rc = pkt_decode(dlt, c, n, out);
    if (rc == PKT_OK) {
        CHECK(out->payload > c && out->payload_len > 0 && out->payload + out->payload_len <= c + n,
              "payload outside the frame");
        out->payload = p + (out->payload - c);
    }
    free(c);
    return rc;
}

static void seed(const char *name, int dlt, const struct frame *f)
{
    if (!seed_dir)
        return;
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", seed_dir, name);
    FILE *o = fopen(path, "wb");
    if (!CHECK(o != NULL, "cannot write %s", path))
        return;
    uint8_t lt[2] = {(uint8_t)(dlt >> 8), (uint8_t)dlt};
    fwrite(lt, 1, 2, o);
    fwrite(f->b, 1, f->n, o);
    fclose(o);
    nseeds++;
}

/* Frame f must decode to the given hop and payload (at payload_at), and
 * every prefix shorter than ip_end (the end of the IP datagram: the bytes
 * after it are link padding) must fail; longer ones decode the same. */
static void expect_ok(const char *name, int dlt, const struct frame *f, int proto, const char *src, const char *dst,
                      uint16_t sport, uint16_t dport, size_t payload_at, size_t payload_len, size_t ip_end)
{
    struct pkt_info pi;
    int rc = decode_exact(dlt, f->b, f->n, &pi);
    seed(name, dlt, f);
    if (!CHECK(rc == PKT_OK, "%s: %d (%s)", name, rc, pkt_strerror(rc)))
        return;
    CHECK(pi.proto == proto, "%s: proto %u", name, pi.proto);
    CHECK(!strcmp(pi.hop.src, src), "%s: src %s, want %s", name, pi.hop.src, src);
    CHECK(!strcmp(pi.hop.dst, dst), "%s: dst %s, want %s", name, pi.hop.dst, dst);
    CHECK(pi.hop.sport == sport && pi.hop.dport == dport, "%s: ports %u %u", name, pi.hop.sport, pi.hop.dport);
    CHECK(pi.payload == f->b + payload_at, "%s: payload at %td, want %zu", name, pi.payload - f->b, payload_at);
    CHECK(pi.payload_len == payload_len, "%s: payload %zu bytes, want %zu", name, pi.payload_len, payload_len);
    unsigned bad = 0;
    for (size_t n = 0; n < f->n; n++) {
        rc = decode_exact(dlt, f->b, n, &pi);
        if (n < ip_end ? rc == PKT_OK : (rc != PKT_OK || pi.payload_len != payload_len))
            bad++;
    }
    CHECK(bad == 0, "%s: %u of %zu prefixes wrong", name, bad, f->n);
}

static void expect_err(const char *name, int dlt, const struct frame *f, int want)
{
    struct pkt_info pi;
    int rc = decode_exact(dlt, f->b, f->n, &pi);
    CHECK(rc == want, "%s: %d (%s), want %d (%s)", name, rc, pkt_strerror(rc), want, pkt_strerror(want));
    seed(name, dlt, f);
    /* and no prefix reads past the end either */
    for (size_t n = 0; n < f->n; n++)
        if (decode_exact(dlt, f->b, n, &pi) == PKT_OK)
            CHECK(0, "%s: prefix of %zu decodes", name, n);
}

/* ---- cases ---- */

static const size_t SIPLEN = sizeof(SIP) - 1;

static void test_ethernet(void)
{
    struct frame f = {.n = 0};
    eth(&f, NULL, 0, 0x0800);
    ip4(&f, 17, "10.10.10.63", "10.0.0.5", 5060, 5060, SIP, SIPLEN, 0, 0, 0);
    expect_ok("eth-ipv4-udp", DLT_EN10MB, &f, 17, "10.10.10.63", "10.0.0.5", 5060, 5060, 14 + 28, SIPLEN, f.n);

    /* DF is not a fragment */
    f.n = 0;
    eth(&f, NULL, 0, 0x0800);
    ip4(&f, 17, "10.10.10.63", "10.0.0.5", 5060, 5060, SIP, SIPLEN, 0, 0x4000, 0);
    expect_ok("eth-ipv4-df", DLT_EN10MB, &f, 17, "10.10.10.63", "10.0.0.5", 5060, 5060, 42, SIPLEN, f.n);

    const unsigned vlan[] = {0x8100}, qinq[] = {0x88a8, 0x8100}, qinq2[] = {0x8100, 0x8100};
    f.n = 0;
    eth(&f, vlan, 1, 0x0800);
    ip4(&f, 17, "10.10.10.63", "10.0.0.5", 5060, 5080, SIP, SIPLEN, 0, 0, 0);
    expect_ok("eth-vlan", DLT_EN10MB, &f, 17, "10.10.10.63", "10.0.0.5", 5060, 5080, 18 + 28, SIPLEN, f.n);
    f.n = 0;
    eth(&f, qinq, 2, 0x0800);
    ip4(&f, 17, "10.10.10.63", "10.0.0.5", 5060, 5060, SIP, SIPLEN, 0, 0, 0);
    expect_ok("eth-qinq", DLT_EN10MB, &f, 17, "10.10.10.63", "10.0.0.5", 5060, 5060, 22 + 28, SIPLEN, f.n);
    f.n = 0;
    eth(&f, qinq2, 2, 0x86dd);
    ip6(&f, 17, "2001:db8::63", "2001:db8::5", 5062, 5060, SIP, SIPLEN, NULL, 0, 0);
    expect_ok("eth-qinq-8100-ipv6", DLT_EN10MB, &f, 17, "2001:db8::63", "2001:db8::5", 5062, 5060, 22 + 48, SIPLEN,
              f.n);

    /* IPv4 options: 4 and the most (40) */
    f.n = 0;
    eth(&f, NULL, 0, 0x0800);
    ip4(&f, 17, "192.0.2.1", "192.0.2.2", 1024, 5060, SIP, SIPLEN, 4, 0, 0);
    expect_ok("eth-ipv4-opt4", DLT_EN10MB, &f, 17, "192.0.2.1", "192.0.2.2", 1024, 5060, 14 + 24 + 8, SIPLEN, f.n);
    f.n = 0;
    eth(&f, NULL, 0, 0x0800);
    ip4(&f, 6, "192.0.2.1", "192.0.2.2", 1024, 5060, SIP, SIPLEN, 40, 0, 40);
    expect_ok("eth-ipv4-opt40-tcp-opt40", DLT_EN10MB, &f, 6, "192.0.2.1", "192.0.2.2", 1024, 5060, 14 + 60 + 60,
              SIPLEN, f.n);

    /* TCP, with and without options */
    f.n = 0;
    eth(&f, NULL, 0, 0x0800);
    ip4(&f, 6, "10.10.10.71", "10.0.0.5", 49152, 5060, SIP, SIPLEN, 0, 0, 0);
    expect_ok("eth-ipv4-tcp", DLT_EN10MB, &f, 6, "10.10.10.71", "10.0.0.5", 49152, 5060, 14 + 40, SIPLEN, f.n);
    f.n = 0;
    eth(&f, NULL, 0, 0x0800);
    ip4(&f, 6, "10.10.10.71", "10.0.0.5", 49152, 5060, SIP, SIPLEN, 0, 0, 12);
    expect_ok("eth-ipv4-tcp-opt12", DLT_EN10MB, &f, 6, "10.10.10.71", "10.0.0.5", 49152, 5060, 14 + 52, SIPLEN, f.n);

    /* Ethernet padding: a 4-byte UDP payload in a 60-byte frame */
    f.n = 0;
    eth(&f, NULL, 0, 0x0800);
    ip4(&f, 17, "10.0.0.1", "10.0.0.2", 5060, 5060, "ping", 4, 0, 0, 0);
    size_t ip_end = f.n;
    zeros(&f, 60 - f.n);
    f.b[f.n - 1] = 0xee; /* padding need not be zero */
    expect_ok("eth-padded-udp", DLT_EN10MB, &f, 17, "10.0.0.1", "10.0.0.2", 5060, 5060, 42, 4, ip_end);
    /* the same with a VLAN tag and TCP: 1 byte of payload */
    f.n = 0;
    eth(&f, vlan, 1, 0x0800);
    ip4(&f, 6, "10.0.0.1", "10.0.0.2", 5060, 5060, "\n", 1, 0, 0, 0);
    ip_end = f.n;
    zeros(&f, 64 - f.n);
    expect_ok("eth-padded-tcp", DLT_EN10MB, &f, 6, "10.0.0.1", "10.0.0.2", 5060, 5060, 18 + 40, 1, ip_end);
    /* a UDP length shorter than the IP datagram: the UDP length wins */
    f.n = 0;
    eth(&f, NULL, 0, 0x0800);
    ip4(&f, 17, "10.0.0.1", "10.0.0.2", 5060, 5060, SIP, SIPLEN, 0, 0, 0);
    set16(&f, 14 + 20 + 4, 8 + 10);
    {
        struct pkt_info pi;
        CHECK_INT(decode_exact(DLT_EN10MB, f.b, f.n, &pi), PKT_OK);
        CHECK_INT(pi.payload_len, 10);
    }
}

static void test_ipv6(void)
{
    struct frame f = {.n = 0};
    eth(&f, NULL, 0, 0x86dd);
    ip6(&f, 17, "2001:db8::63", "2001:db8::5", 5062, 5060, SIP, SIPLEN, NULL, 0, 0);
    expect_ok("eth-ipv6-udp", DLT_EN10MB, &f, 17, "2001:db8::63", "2001:db8::5", 5062, 5060, 14 + 48, SIPLEN, f.n);

    const uint8_t hbh[] = {0}, hbh_dst[] = {0, 60}, all[] = {0, 43, 60}, frag[] = {44}, hbh_frag[] = {0, 44};
    f.n = 0;
    eth(&f, NULL, 0, 0x86dd);
    ip6(&f, 17, "fe80::1", "ff02::1:3", 5060, 5060, SIP, SIPLEN, hbh, 1, 0);
    expect_ok("eth-ipv6-hbh", DLT_EN10MB, &f, 17, "fe80::1", "ff02::1:3", 5060, 5060, 14 + 40 + 8 + 8, SIPLEN, f.n);
    f.n = 0;
    eth(&f, NULL, 0, 0x86dd);
    ip6(&f, 6, "2001:db8::63", "2001:db8::5", 40000, 5060, SIP, SIPLEN, hbh_dst, 2, 20);
    expect_ok("eth-ipv6-hbh-dst-tcp", DLT_EN10MB, &f, 6, "2001:db8::63", "2001:db8::5", 40000, 5060,
              14 + 40 + 16 + 40, SIPLEN, f.n);
    f.n = 0;
    eth(&f, NULL, 0, 0x86dd);
    ip6(&f, 17, "2001:db8::63", "2001:db8::5", 5062, 5060, SIP, SIPLEN, all, 3, 0);
    expect_ok("eth-ipv6-hbh-rt-dst", DLT_EN10MB, &f, 17, "2001:db8::63", "2001:db8::5", 5062, 5060,
              14 + 40 + 32 + 8, SIPLEN, f.n);
    /* IPv4-mapped text */
    f.n = 0;
    eth(&f, NULL, 0, 0x86dd);
    ip6(&f, 17, "::ffff:10.0.0.1", "2001:db8:0:0:1:0:0:1", 5060, 5060, SIP, SIPLEN, NULL, 0, 0);
    expect_ok("eth-ipv6-mapped", DLT_EN10MB, &f, 17, "::ffff:10.0.0.1", "2001:db8::1:0:0:1", 5060, 5060, 62, SIPLEN,
              f.n);

    /* fragments are refused */
    f.n = 0;
    eth(&f, NULL, 0, 0x86dd);
    ip6(&f, 17, "2001:db8::63", "2001:db8::5", 5062, 5060, SIP, SIPLEN, frag, 1, 0);
    expect_err("eth-ipv6-frag", DLT_EN10MB, &f, PKT_E_FRAGMENT);
    f.n = 0;
    eth(&f, NULL, 0, 0x86dd);
    ip6(&f, 17, "2001:db8::63", "2001:db8::5", 5062, 5060, SIP, SIPLEN, hbh_frag, 2, 0);
    expect_err("eth-ipv6-hbh-frag", DLT_EN10MB, &f, PKT_E_FRAGMENT);
    /* ICMPv6 */
    f.n = 0;
    eth(&f, NULL, 0, 0x86dd);
    ip6(&f, 58, "2001:db8::63", "2001:db8::5", 0, 0, "\x80\0\0\0\0\0\0\0", 8, NULL, 0, 0);
    expect_err("eth-ipv6-icmp", DLT_EN10MB, &f, PKT_E_PROTO);
    /* more extension headers than are followed: not UDP/TCP, no crash */
    uint8_t many[10];
    memset(many, 60, sizeof(many));
    f.n = 0;
    eth(&f, NULL, 0, 0x86dd);
    ip6(&f, 17, "2001:db8::63", "2001:db8::5", 5062, 5060, SIP, SIPLEN, many, sizeof(many), 0);
    expect_err("eth-ipv6-10-dstopts", DLT_EN10MB, &f, PKT_E_PROTO);
    /* payload length past the frame; extension header past the payload */
    f.n = 0;
    eth(&f, NULL, 0, 0x86dd);
    ip6(&f, 17, "2001:db8::63", "2001:db8::5", 5062, 5060, SIP, SIPLEN, NULL, 0, 0);
    set16(&f, 14 + 4, (unsigned)(f.n - 14 - 40 + 1));
    expect_err("eth-ipv6-plen-long", DLT_EN10MB, &f, PKT_E_SHORT);
    f.n = 0;
    eth(&f, NULL, 0, 0x86dd);
    ip6(&f, 17, "2001:db8::63", "2001:db8::5", 5062, 5060, SIP, SIPLEN, hbh, 1, 0);
    f.b[14 + 40 + 1] = 200; /* hop-by-hop of 1608 bytes */
    expect_err("eth-ipv6-hbh-long", DLT_EN10MB, &f, PKT_E_SHORT);
    /* an extension header announced, but no room for even its first bytes */
    for (unsigned plen = 0; plen < 8; plen++) {
        f.n = 0;
        ip6(&f, 59, "2001:db8::63", "2001:db8::5", 0, 0, "\0\0\0\0\0\0\0", plen, NULL, 0, 0);
        f.b[6] = plen & 1 ? 60 : 0; /* next header: destination options, hop-by-hop */
        char name[48];
        snprintf(name, sizeof(name), "raw-ipv6-ext-in-%u", plen);
        expect_err(name, DLT_RAW, &f, PKT_E_SHORT);
    }
    /* a jumbogram's zero payload length */
    f.n = 0;
    eth(&f, NULL, 0, 0x86dd);
    ip6(&f, 17, "2001:db8::63", "2001:db8::5", 5062, 5060, SIP, SIPLEN, NULL, 0, 0);
    set16(&f, 14 + 4, 0);
    expect_err("eth-ipv6-plen-0", DLT_EN10MB, &f, PKT_E_SHORT);
}

static void test_other_links(void)
{
    struct frame f = {.n = 0};
    sll(&f, 0x0800);
    ip4(&f, 17, "10.10.10.63", "10.0.0.5", 5060, 5060, SIP, SIPLEN, 0, 0, 0);
    expect_ok("sll-ipv4", DLT_LINUX_SLL, &f, 17, "10.10.10.63", "10.0.0.5", 5060, 5060, 16 + 28, SIPLEN, f.n);
    f.n = 0;
    sll(&f, 0x86dd);
    ip6(&f, 6, "2001:db8::63", "2001:db8::5", 5062, 5060, SIP, SIPLEN, NULL, 0, 0);
    expect_ok("sll-ipv6-tcp", DLT_LINUX_SLL, &f, 6, "2001:db8::63", "2001:db8::5", 5062, 5060, 16 + 60, SIPLEN, f.n);
    f.n = 0;
    sll2(&f, 0x0800);
    ip4(&f, 17, "10.10.10.63", "10.0.0.5", 5060, 5060, SIP, SIPLEN, 0, 0, 0);
    expect_ok("sll2-ipv4", DLT_LINUX_SLL2, &f, 17, "10.10.10.63", "10.0.0.5", 5060, 5060, 20 + 28, SIPLEN, f.n);
    f.n = 0;
    sll2(&f, 0x86dd);
    ip6(&f, 17, "2001:db8::63", "2001:db8::5", 5062, 5060, SIP, SIPLEN, NULL, 0, 0);
    expect_ok("sll2-ipv6", DLT_LINUX_SLL2, &f, 17, "2001:db8::63", "2001:db8::5", 5062, 5060, 20 + 48, SIPLEN, f.n);

    /* DLT_NULL: the family in host order; DLT_LOOP: network order. The
     * decoder goes by the IP version either way. */
    uint32_t fam = AF_INET;
    f.n = 0;
    put(&f, &fam, 4);
    ip4(&f, 17, "127.0.0.1", "127.0.0.1", 5060, 5060, SIP, SIPLEN, 0, 0, 0);
    expect_ok("null-ipv4", DLT_NULL, &f, 17, "127.0.0.1", "127.0.0.1", 5060, 5060, 4 + 28, SIPLEN, f.n);
    f.n = 0;
    put32(&f, 30); /* AF_INET6 on BSD */
    ip6(&f, 17, "::1", "::1", 5060, 5060, SIP, SIPLEN, NULL, 0, 0);
    expect_ok("loop-ipv6", DLT_LOOP, &f, 17, "::1", "::1", 5060, 5060, 4 + 48, SIPLEN, f.n);
    f.n = 0;
    put32(&f, 2);
    ip4(&f, 6, "127.0.0.1", "127.0.0.2", 5060, 5061, SIP, SIPLEN, 0, 0, 0);
    expect_ok("loop-ipv4-tcp", DLT_LOOP, &f, 6, "127.0.0.1", "127.0.0.2", 5060, 5061, 4 + 40, SIPLEN, f.n);

    /* raw IP under every raw link type */
    const int raws[] = {DLT_RAW, 12, 14, 101, DLT_IPV4, DLT_IPV6};
    for (size_t i = 0; i < sizeof(raws) / sizeof(raws[0]); i++) {
        char name[32];
        f.n = 0;
        ip4(&f, 17, "10.10.10.63", "10.0.0.5", 5060, 5060, SIP, SIPLEN, 0, 0, 0);
        snprintf(name, sizeof(name), "raw%d-ipv4", raws[i]);
        expect_ok(name, raws[i], &f, 17, "10.10.10.63", "10.0.0.5", 5060, 5060, 28, SIPLEN, f.n);
        f.n = 0;
        ip6(&f, 17, "2001:db8::63", "2001:db8::5", 5062, 5060, SIP, SIPLEN, NULL, 0, 0);
        snprintf(name, sizeof(name), "raw%d-ipv6", raws[i]);
        expect_ok(name, raws[i], &f, 17, "2001:db8::63", "2001:db8::5", 5062, 5060, 48, SIPLEN, f.n);
    }

    /* link types we do not decode */
    f.n = 0;
    ip4(&f, 17, "10.10.10.63", "10.0.0.5", 5060, 5060, SIP, SIPLEN, 0, 0, 0);
    const int unknown[] = {105 /* 802.11 */, 127 /* radiotap */, 2, -1, 65535};
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        struct pkt_info pi;
        CHECK_INT(decode_exact(unknown[i], f.b, f.n, &pi), PKT_E_LINKTYPE);
    }
}

static void test_refused(void)
{
    struct frame f = {.n = 0};
    /* IPv4 fragments: more-fragments, an offset, both */
    const unsigned frags[] = {0x2000, 0x0001, 0x2010, 0x1fff, 0x6000};
    for (size_t i = 0; i < sizeof(frags) / sizeof(frags[0]); i++) {
        char name[32];
        f.n = 0;
        eth(&f, NULL, 0, 0x0800);
        ip4(&f, 17, "10.10.10.63", "10.0.0.5", 5060, 5060, SIP, SIPLEN, 0, frags[i], 0);
        snprintf(name, sizeof(name), "eth-ipv4-frag-%04x", frags[i]);
        expect_err(name, DLT_EN10MB, &f, PKT_E_FRAGMENT);
    }
    /* not IP */
    f.n = 0;
    eth(&f, NULL, 0, 0x0806);
    zeros(&f, 28);
    expect_err("eth-arp", DLT_EN10MB, &f, PKT_E_NOT_IP);
    const unsigned three[] = {0x88a8, 0x8100, 0x8100};
    f.n = 0;
    eth(&f, three, 3, 0x0800);
    ip4(&f, 17, "10.10.10.63", "10.0.0.5", 5060, 5060, SIP, SIPLEN, 0, 0, 0);
    expect_err("eth-three-tags", DLT_EN10MB, &f, PKT_E_NOT_IP);
    f.n = 0;
    sll(&f, 0x88cc);
    zeros(&f, 30);
    expect_err("sll-lldp", DLT_LINUX_SLL, &f, PKT_E_NOT_IP);
    f.n = 0;
    sll2(&f, 0x0806);
    zeros(&f, 28);
    expect_err("sll2-arp", DLT_LINUX_SLL2, &f, PKT_E_NOT_IP);
    f.n = 0;
    put32(&f, 2);
    put8(&f, 0x50);
    zeros(&f, 40);
    expect_err("null-version5", DLT_NULL, &f, PKT_E_NOT_IP);
    /* an IPv4 ethertype with another version inside */
    f.n = 0;
    eth(&f, NULL, 0, 0x0800);
    ip6(&f, 17, "2001:db8::63", "2001:db8::5", 5062, 5060, SIP, SIPLEN, NULL, 0, 0);
    expect_err("eth-ipv4-type-v6-inside", DLT_EN10MB, &f, PKT_E_SHORT);
    /* ICMP */
    f.n = 0;
    eth(&f, NULL, 0, 0x0800);
    ip4(&f, 1, "10.10.10.63", "10.0.0.5", 0, 0, "\x08\0\0\0\0\0\0\0", 8, 0, 0, 0);
    expect_err("eth-ipv4-icmp", DLT_EN10MB, &f, PKT_E_PROTO);
    /* empty payloads: a TCP ACK, a UDP header alone */
    f.n = 0;
    eth(&f, NULL, 0, 0x0800);
    ip4(&f, 6, "10.10.10.71", "10.0.0.5", 49152, 5060, NULL, 0, 0, 0, 12);
    expect_err("eth-ipv4-tcp-ack", DLT_EN10MB, &f, PKT_E_EMPTY);
    f.n = 0;
    eth(&f, NULL, 0, 0x0800);
    ip4(&f, 17, "10.10.10.71", "10.0.0.5", 5060, 5060, NULL, 0, 0, 0, 0);
    zeros(&f, 60 - f.n);
    expect_err("eth-ipv4-udp-empty-padded", DLT_EN10MB, &f, PKT_E_EMPTY);

    /* lengths that lie */
    struct {
        const char *name;
        size_t at; /* offset in the frame, after the 14-byte Ethernet header */
        unsigned v;
        bool byte;
    } lies[] = {
        {"ihl-4", 0, 0x44, true},             {"ihl-15", 0, 0x4f, true},
        {"total-short", 2, 19, false},        {"total-long", 2, 28 + (unsigned)SIPLEN + 1, false},
        {"udp-len-7", 24, 7, false},          {"udp-len-long", 24, 8 + (unsigned)SIPLEN + 1, false},
        {"total-below-udp", 2, 27, false},
    };
    for (size_t i = 0; i < sizeof(lies) / sizeof(lies[0]); i++) {
        f.n = 0;
        eth(&f, NULL, 0, 0x0800);
        ip4(&f, 17, "10.10.10.63", "10.0.0.5", 5060, 5060, SIP, SIPLEN, 0, 0, 0);
        if (lies[i].byte)
            f.b[14 + lies[i].at] = (uint8_t)lies[i].v;
        else
            set16(&f, 14 + lies[i].at, lies[i].v);
        char name[48];
        snprintf(name, sizeof(name), "eth-ipv4-%s", lies[i].name);
        expect_err(name, DLT_EN10MB, &f, PKT_E_SHORT);
    }
    const unsigned doffs[] = {0x00, 0x40, 0xf0};
    for (size_t i = 0; i < 3; i++) {
        f.n = 0;
        eth(&f, NULL, 0, 0x0800);
        ip4(&f, 6, "10.10.10.71", "10.0.0.5", 49152, 5060, "x", 1, 0, 0, 0);
        f.b[14 + 20 + 12] = (uint8_t)doffs[i];
        char name[48];
        snprintf(name, sizeof(name), "eth-ipv4-tcp-doff-%02x", doffs[i]);
        expect_err(name, DLT_EN10MB, &f, PKT_E_SHORT);
    }
    /* nothing at all, and lone link headers */
    struct pkt_info pi;
    const int dlts[] = {DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_NULL, DLT_LOOP, DLT_RAW, 101};
    for (size_t i = 0; i < sizeof(dlts) / sizeof(dlts[0]); i++)
        CHECK_INT(decode_exact(dlts[i], NULL, 0, &pi), PKT_E_SHORT);
    CHECK_STR(pkt_strerror(PKT_OK), "ok");
    CHECK_STR(pkt_strerror(PKT_E_FRAGMENT), "IP fragment");
    CHECK_STR(pkt_strerror(-99), "unknown error");
    for (int e = PKT_E_EMPTY; e <= PKT_OK; e++)
        CHECK(strcmp(pkt_strerror(e), "unknown error") != 0, "pkt_strerror(%d)", e);
}

int main(int argc, char **argv)
{
    if (argc >= 4 && !strcmp(argv[2], "--seeds"))
        seed_dir = argv[3];
    test_ethernet();
    test_ipv6();
    test_other_links();
    test_refused();
    if (seed_dir)
        printf("wrote %u seeds to %s\n", nseeds, seed_dir);
    return test_summary("test_pktdecode");
}
