/* The wire codec against the Asterisk reference capture: every DUNDi datagram
 * of test/data/asterisk-pair.pcap is decoded, rendered in the listing style
 * and compared with test/data/asterisk-pair.decoded.txt; ENCRYPT packets are
 * decrypted with the PBXes' key pair and their inner message compared too. */
#include "dundid/wire.h"

#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "dundid/crypto.h"

#include "testutil.h"

#define BIG 65536

static const char *const PBX_A_DEST = "priv:CUIQNHSSinCkq6NQyMC9fw==@127.0.0.2/";

/* ---- the listing ---- */

static char *listing_buf;
static char **listing; /* listing[N] = line "#N ..." */
static unsigned listing_count;

static int load_listing(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    rewind(f);
    listing_buf = malloc((size_t)size + 1);
    if (!listing_buf || fread(listing_buf, 1, (size_t)size, f) != (size_t)size) {
        fclose(f);
        return -1;
    }
    fclose(f);
    listing_buf[size] = '\0';
    listing = calloc((size_t)size / 8 + 2, sizeof(*listing));
    for (char *line = listing_buf, *next; *line; line = next) {
        char *nl = strchr(line, '\n');
        next = nl ? nl + 1 : line + strlen(line);
        if (nl)
            *nl = '\0';
        if (line[0] != '#')
            continue;
        unsigned long n = strtoul(line + 1, NULL, 10);
        CHECK(n == listing_count + 1, "listing line numbered #%lu after #%u", n, listing_count);
        listing[++listing_count] = line;
    }
    return 0;
}

/* ---- Ethernet / IPv4 / IPv6 / UDP ---- */

struct udp_dgram {
    char src[INET6_ADDRSTRLEN + 8], dst[INET6_ADDRSTRLEN + 8];
    unsigned sport, dport;
    const uint8_t *data;
    size_t len;
};

static unsigned be16(const uint8_t *p) { return (unsigned)p[0] << 8 | p[1]; }

static void fmt_addr(char *out, size_t outlen, int af, const uint8_t *addr, unsigned port)
{
    char ip[INET6_ADDRSTRLEN];
    inet_ntop(af, addr, ip, sizeof(ip));
    snprintf(out, outlen, af == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, port);
}

/* 1 = UDP datagram found, 0 = some other frame, -1 = malformed. */
static int parse_frame(const uint8_t *p, size_t len, struct udp_dgram *d)
{
    const uint8_t *src, *dst;
    int af;
    unsigned proto;

    if (len < 14)
        return -1;
    unsigned etype = be16(p + 12);
    p += 14, len -= 14;
    while (etype == 0x8100 || etype == 0x88a8) { /* VLAN tags */
        if (len < 4)
            return -1;
        etype = be16(p + 2);
        p += 4, len -= 4;
    }
    if (etype == 0x0800) {
        if (len < 20 || p[0] >> 4 != 4)
            return -1;
        size_t ihl = (size_t)(p[0] & 0x0f) * 4, tot = be16(p + 2);
        if (ihl < 20 || tot < ihl || tot > len) /* Ethernet may pad: trust tot_len */
            return -1;
        if (be16(p + 6) & 0x3fff) /* MF or fragment offset: not a whole datagram */
            return 0;
        af = AF_INET, proto = p[9], src = p + 12, dst = p + 16;
        p += ihl, len = tot - ihl;
    } else if (etype == 0x86dd) {
        if (len < 40 || p[0] >> 4 != 6)
            return -1;
        size_t plen = be16(p + 4);
        if (plen > len - 40)
            return -1;
        af = AF_INET6, proto = p[6], src = p + 8, dst = p + 24;
        p += 40, len = plen;
        while (proto == 0 || proto == 43 || proto == 60) { /* hop-by-hop, routing, dest options */
            if (len < 8 || (size_t)(p[1] + 1) * 8 > len)
                return -1;
            size_t elen = (size_t)(p[1] + 1) * 8;
            proto = p[0];
            p += elen, len -= elen;
        }
    } else {
        return 0;
    }
    if (proto != 17)
        return 0;
    if (len < 8)
        return -1;
    size_t ulen = be16(p + 4);
    if (ulen < 8 || ulen > len)
        return -1;
    d->sport = be16(p);
    d->dport = be16(p + 2);
    fmt_addr(d->src, sizeof(d->src), af, src, d->sport);
    fmt_addr(d->dst, sizeof(d->dst), af, dst, d->dport);
    d->data = p + 8;
    d->len = ulen - 8;
    return 1;
}

/* ---- re-encoding: rebuild the IE area with the typed builder calls ---- */

static struct dundi_ies one; /* scratch: one IE decoded on its own */

static bool reencode_matches(const uint8_t *ies, size_t len)
{
    static struct dundi_ieb b;
    struct dundi_ie_iter it;
    struct dundi_ie_raw ie;

    dundi_ieb_init(&b, 0);
    dundi_ie_iter_init(&it, ies, len);
    while (dundi_ie_next(&it, &ie) > 0) {
        const uint8_t *v = ie.val;
        if (ie.type == DUNDI_IE_ENCDATA) {
            if (ie.len < 16)
                return false;
            dundi_ie_put_encdata(&b, v, v + 16, ie.len - 16);
            continue;
        }
        if (dundi_ies_decode(v - 2, ie.len + 2, &one) != 0)
            return false;
        switch (ie.type) {
        case DUNDI_IE_EID:
        case DUNDI_IE_EID_DIRECT: dundi_ie_put_eid(&b, ie.type, &one.eids[0]); break;
        case DUNDI_IE_REQEID: dundi_ie_put_eid(&b, ie.type, &one.reqeid); break;
        case DUNDI_IE_CALLED_CONTEXT: dundi_ie_put_str(&b, ie.type, one.called_context); break;
        case DUNDI_IE_CALLED_NUMBER: dundi_ie_put_str(&b, ie.type, one.called_number); break;
        case DUNDI_IE_ANSWER: dundi_ie_put_answer(&b, &one.answers[0]); break;
        case DUNDI_IE_TTL: dundi_ie_put_u16(&b, ie.type, (uint16_t)one.ttl); break;
        case DUNDI_IE_VERSION: dundi_ie_put_u16(&b, ie.type, (uint16_t)one.version); break;
        case DUNDI_IE_EXPIRATION: dundi_ie_put_u16(&b, ie.type, (uint16_t)one.expiration); break;
        case DUNDI_IE_KEYCRC32: dundi_ie_put_u32(&b, ie.type, one.keycrc32); break;
        case DUNDI_IE_HINT: dundi_ie_put_hint(&b, one.hint_flags, one.hint_data); break;
        case DUNDI_IE_CAUSE: dundi_ie_put_cause(&b, (uint8_t)one.cause, one.cause_text); break;
        case DUNDI_IE_CACHEBYPASS: dundi_ie_put_empty(&b, ie.type); break;
        default: dundi_ie_put_raw(&b, ie.type, v, ie.len); break;
        }
    }
    return dundi_ieb_error(&b) == 0 && b.len == len && memcmp(b.buf, ies, len) == 0;
}

/* ---- one DUNDi datagram ---- */

static struct dundi_ies ies;
static char last_number[DUNDI_TRANS_MASK + 1][DUNDI_MAX_IE_VALUE + 1]; /* client strans -> number */
static unsigned n_unencrypted, n_encrypted, n_full_key, n_keycrc, n_answers, n_dontask;

/* The part of an ENCRYPT listing line after "ENCRYPT": the key material and sender EID. */
static void check_encrypt(unsigned n, const char *rest, const uint8_t *pkt, size_t len)
{
    const char *eq = strstr(rest, "] EID=");
    unsigned crc;
    eid_t want;
    char eidtxt[EID_STR_LEN];

    if (eq && snprintf(eidtxt, sizeof(eidtxt), "%.17s", eq + 6) > 0 && eid_parse(&want, eidtxt) == 0) {
        CHECK(ies.eidcount >= 1 && eid_equal(&ies.eids[0], &want) && !ies.eid_direct[0],
              "#%u: first EID IE should be %s", n, eidtxt);
    } else {
        CHECK(ies.eidcount == 0, "#%u: EID IE but the listing shows none", n);
    }
    if (sscanf(rest, " [keycrc %x]", &crc) == 1) {
        n_keycrc++;
        CHECK(ies.has_keycrc32 && ies.keycrc32 == crc && !ies.sharedkey && !ies.signature,
              "#%u: KEYCRC32 %08x expected", n, crc);
    } else if (sscanf(rest, " [full key, signature ok, crc %x]", &crc) == 1) {
        n_full_key++;
        CHECK(ies.sharedkey && ies.signature && !ies.has_keycrc32, "#%u: SHAREDKEY/SIGNATURE missing", n);
        if (ies.sharedkey) {
            uint32_t got = (uint32_t)crc32(0L, ies.sharedkey, DUNDI_KEY_BYTES);
            CHECK(got == crc, "#%u: crc32(SHAREDKEY) = %08x, listing says %08x", n, got, crc);
        }
    } else {
        CHECK(strncmp(rest, " [transaction key]", 18) == 0, "#%u: unexpected crypto details '%.40s'", n, rest);
        CHECK(!ies.sharedkey && !ies.signature && !ies.has_keycrc32, "#%u: key material in a transaction-key packet",
              n);
    }
    /* ENCDATA: last, runs to the end, IV + whole AES blocks, length byte truncated. */
    CHECK(ies.encdata && ies.encdata + ies.encdata_len == pkt + len && ies.encdata_len >= 32 &&
              ies.encdata_len % 16 == 0 && ies.encdata[-1] == (uint8_t)ies.encdata_len,
          "#%u: bad ENCDATA", n);
}

static void check_semantics(unsigned n, const struct dundi_hdr *h, const struct udp_dgram *d)
{
    uint8_t cmd = dundi_hdr_cmd(h);
    size_t ielen = d->len - DUNDI_HDR_LEN;

    CHECK(!(h->strans & 0x8000) && !(h->dtrans & 0x8000) && h->cmdflags == 0, "#%u: reserved header bits set", n);
    CHECK(ies.bad_length == 0 && ies.unknown == 0 && ies.overflow == 0, "#%u: bad_length=%u unknown=%u overflow=%u",
          n, ies.bad_length, ies.unknown, ies.overflow);
    switch (cmd) {
    case DUNDI_CMD_ACK:
    case DUNDI_CMD_NULL: CHECK(ielen == 0, "#%u: %s with IEs", n, dundi_cmd_name(cmd)); break;
    case DUNDI_CMD_DPDISCOVER:
        CHECK(ies.version == 1 && ies.ttl == 2 && ies.eidcount == 1 && ies.eid_direct[0] &&
                  ies.has_called_context && !strcmp(ies.called_context, "priv") && ies.has_called_number &&
                  ies.expiration == -1 && ies.anscount == 0 && !ies.cachebypass,
              "#%u: DPDISCOVER content", n);
        if (d->sport == 4599)
            strcpy(last_number[h->strans & DUNDI_TRANS_MASK], ies.called_number);
        break;
    case DUNDI_CMD_DPRESPONSE: {
        const char *num = d->dport == 4599 ? last_number[h->dtrans & DUNDI_TRANS_MASK] : "";
        eid_t pbx_a;
        eid_parse(&pbx_a, "02:00:00:00:00:0a");
        /* EXPIRATION is 5, less when A answers from its cache */
        CHECK(dundi_hdr_final(h) && ies.expiration >= 1 && ies.expiration <= 5 && ies.has_hint && ies.ttl == -1 &&
                  ies.cause == -1,
              "#%u: DPRESPONSE content", n);
        if (ies.anscount) {
            CHECK(ies.hint_flags == DUNDI_HINT_UNAFFECTED && ies.hint_data[0] == '\0', "#%u: hint with answer", n);
            for (unsigned i = 0; i < ies.anscount; i++) {
                const struct dundi_answer *a = &ies.answers[i];
                char want[300];
                snprintf(want, sizeof(want), "%s%s", PBX_A_DEST, num);
                CHECK(a->proto == DUNDI_PROTO_IAX && a->flags == DUNDI_FLAG_EXISTS && a->weight == 0 &&
                          eid_equal(&a->eid, &pbx_a) && !strcmp(a->dest, want),
                      "#%u: answer %u is '%s', want '%s'", n, i, a->dest, want);
            }
            n_answers += ies.anscount;
        } else {
            n_dontask++;
            /* TTL_EXPIRED may be set too when A forwarded the query to B with TTL 1 */
            CHECK((ies.hint_flags & ~DUNDI_HINT_TTL_EXPIRED) == (DUNDI_HINT_UNAFFECTED | DUNDI_HINT_DONT_ASK) &&
                      ies.hint_data[0] &&
                      !strncmp(num, ies.hint_data, strlen(ies.hint_data)),
                  "#%u: DONT_ASK hint '%s' for %s", n, ies.hint_data, num);
        }
        break;
    }
    }
}

/* ---- decryption: the keys the two PBXes used, learnt as the capture goes ---- */

static EVP_PKEY *pub, *priv;
struct learnt_key {
    char addr[64]; /* sender of the transaction's first packet */
    uint16_t trans;
    uint32_t crc;
    uint8_t aes[DUNDI_AES_KEY_LEN];
};
static struct learnt_key keys[64];
static unsigned nkeys, n_decrypted;

static const struct learnt_key *key_by_crc(uint32_t crc)
{
    for (unsigned i = 0; i < nkeys; i++)
        if (keys[i].crc == crc)
            return &keys[i];
    return NULL;
}

static const struct learnt_key *key_by_trans(const char *addr, uint16_t trans)
{
    for (unsigned i = nkeys; i-- > 0;)
        if (keys[i].trans == trans && !strcmp(keys[i].addr, addr))
            return &keys[i];
    return NULL;
}

static void remember(const char *addr, uint16_t trans, uint32_t crc, const uint8_t aes[DUNDI_AES_KEY_LEN])
{
    if (nkeys < 64) {
        snprintf(keys[nkeys].addr, sizeof(keys[nkeys].addr), "%s", addr);
        keys[nkeys].trans = trans;
        keys[nkeys].crc = crc;
        memcpy(keys[nkeys++].aes, aes, DUNDI_AES_KEY_LEN);
    }
}

/* Write " [key details] EID=.. => inner CMD[ final] {IES}" the way the listing
 * shows an ENCRYPT packet; false if it cannot be decrypted. */
static bool decrypt_line(unsigned n, const struct dundi_hdr *h, const struct udp_dgram *d, char *out, size_t outlen)
{
    static char iesfmt[BIG];
    uint8_t aes[DUNDI_AES_KEY_LEN], inner[DUNDI_MAX_INNER];
    char details[96], eidpart[40] = "", eidtxt[EID_STR_LEN];
    size_t innerlen;
    uint16_t strans = h->strans & DUNDI_TRANS_MASK;

    if (ies.sharedkey && ies.signature) {
        int rc = crypto_session_accept(aes, ies.sharedkey, ies.signature, pub, priv);
        if (!CHECK(rc == CRYPTO_OK, "#%u: full key rejected: %s", n, crypto_strerror(rc)))
            return false;
        uint32_t crc = crypto_keycrc(ies.sharedkey);
        remember(d->src, strans, crc, aes);
        snprintf(details, sizeof(details), "[full key, signature ok, crc %08x]", crc);
    } else if (ies.has_keycrc32) {
        const struct learnt_key *k = key_by_crc(ies.keycrc32);
        if (!CHECK(k != NULL, "#%u: KEYCRC32 %08x of a key never sent", n, ies.keycrc32))
            return false;
        memcpy(aes, k->aes, sizeof(aes));
        remember(d->src, strans, ies.keycrc32, aes);
        snprintf(details, sizeof(details), "[keycrc %08x]", ies.keycrc32);
    } else {
        /* One transaction, one key: the opener's, found by our side's id. */
        const struct learnt_key *k = key_by_trans(d->dst, h->dtrans & DUNDI_TRANS_MASK);
        if (!k)
            k = key_by_trans(d->src, strans);
        if (!CHECK(k != NULL, "#%u: no key for this transaction", n))
            return false;
        memcpy(aes, k->aes, sizeof(aes));
        snprintf(details, sizeof(details), "[transaction key]");
    }
    if (ies.eidcount)
        snprintf(eidpart, sizeof(eidpart), " EID=%s", eid_to_str(&ies.eids[0], eidtxt));
    int rc = crypto_open(aes, ies.encdata, ies.encdata_len, inner, sizeof(inner), &innerlen);
    if (!CHECK(rc == CRYPTO_OK, "#%u: crypto_open: %s", n, crypto_strerror(rc)))
        return false;
    rc = dundi_ies_format(inner + 2, innerlen - 2, iesfmt, sizeof(iesfmt));
    CHECK(rc >= 0, "#%u: inner IEs: %s", n, dundi_strerror(rc));
    const char *name = dundi_cmd_name(inner[0] & 0x7f);
    n_decrypted++;
    snprintf(out, outlen, " %s%s => inner %s%s %s", details, eidpart, name ? name : "?", (inner[0] & 0x80) ? " final" : "",
             iesfmt);
    return true;
}

/* The test key pair, copied with mode 0600 as the loader (like Asterisk) insists. */
static int load_keys(const char *dir)
{
    static char tmp[] = "/tmp/dundid-capture-XXXXXX";
    char src[4096], dst[4096];
    int err;
    if (!mkdtemp(tmp))
        return -1;
    for (int i = 0; i < 2; i++) {
        const char *ext = i ? "pub" : "key";
        snprintf(src, sizeof(src), "%s/dundi.%s", dir, ext);
        snprintf(dst, sizeof(dst), "%s/dundi.%s", tmp, ext);
        FILE *in = fopen(src, "r"), *o = fopen(dst, "w");
        int c;
        while (in && o && (c = getc(in)) != EOF)
            putc(c, o);
        if (in)
            fclose(in);
        if (o)
            fclose(o);
        chmod(dst, 0600);
    }
    pub = crypto_load_public(tmp, "dundi", &err);
    priv = crypto_load_private(tmp, "dundi", &err);
    snprintf(dst, sizeof(dst), "%s/dundi.key", tmp);
    unlink(dst);
    snprintf(dst, sizeof(dst), "%s/dundi.pub", tmp);
    unlink(dst);
    rmdir(tmp);
    return pub && priv ? 0 : -1;
}

static void check_packet(unsigned n, const struct udp_dgram *d)
{
    static char iesfmt[BIG], line[BIG + 512];
    struct dundi_hdr h;
    uint8_t hdr[DUNDI_HDR_LEN];
    const char *want = n <= listing_count ? listing[n] : "(no such listing line)";

    int rc = dundi_hdr_decode(d->data, d->len, &h);
    if (!CHECK(rc == 0, "#%u: dundi_hdr_decode: %s", n, dundi_strerror(rc)))
        return;
    dundi_hdr_encode(&h, hdr);
    CHECK(memcmp(hdr, d->data, DUNDI_HDR_LEN) == 0, "#%u: header does not re-encode", n);

    const uint8_t *ie = d->data + DUNDI_HDR_LEN;
    size_t ielen = d->len - DUNDI_HDR_LEN;
    rc = dundi_ies_decode(ie, ielen, &ies);
    CHECK(rc == 0, "#%u: dundi_ies_decode: %s", n, dundi_strerror(rc));
    rc = dundi_ies_format(ie, ielen, iesfmt, sizeof(iesfmt));
    CHECK(rc >= 0, "#%u: dundi_ies_format: %s", n, dundi_strerror(rc));

    uint8_t cmd = dundi_hdr_cmd(&h);
    const char *name = dundi_cmd_name(cmd);
    int plen = snprintf(line, sizeof(line), "#%u %s->%s strans=%u dtrans=%u iseq=%u oseq=%u %s%s", n, d->src, d->dst,
                        h.strans, h.dtrans, h.iseqno, h.oseqno, name ? name : "?", dundi_hdr_final(&h) ? " final" : "");
    if (cmd != DUNDI_CMD_ENCRYPT) {
        n_unencrypted++;
        snprintf(line + plen, sizeof(line) - (size_t)plen, " %s", iesfmt);
        CHECK(strcmp(line, want) == 0, "#%u differs\n  got:  %s\n  want: %s", n, line, want);
        CHECK(reencode_matches(ie, ielen), "#%u: builder does not reproduce the IE bytes", n);
        check_semantics(n, &h, d);
    } else {
        n_encrypted++;
        bool prefix = strncmp(line, want, (size_t)plen) == 0 && want[plen] == ' ';
        CHECK(prefix, "#%u prefix differs\n  got:  %s\n  want: %.*s", n, line, plen + 1, want);
        if (prefix)
            check_encrypt(n, want + plen, d->data, d->len);
        CHECK(ies.bad_length == 0 && ies.unknown == 0 && ies.overflow == 0, "#%u: envelope IEs", n);
        CHECK(reencode_matches(ie, ielen), "#%u: builder does not reproduce the envelope bytes", n);
        if (decrypt_line(n, &h, d, line + plen, sizeof(line) - (size_t)plen))
            CHECK(strcmp(line, want) == 0, "#%u decrypted line differs\n  got:  %s\n  want: %s", n, line, want);
    }
}

/* Spot checks of packet #34, the first clear DPRESPONSE with an answer. */
static void check_packet34(const struct udp_dgram *d)
{
    struct dundi_hdr h;
    char eid[EID_STR_LEN];

    CHECK_INT(dundi_hdr_decode(d->data, d->len, &h), 0);
    CHECK_INT(h.strans, 7429);
    CHECK_INT(h.dtrans, 1);
    CHECK_INT(h.cmdresp, DUNDI_CMD_DPRESPONSE | DUNDI_FLAG_FINAL);
    CHECK_INT(dundi_ies_decode(d->data + 8, d->len - 8, &ies), 0);
    CHECK_INT(ies.anscount, 1);
    CHECK_INT(ies.eidcount, 0);
    CHECK_STR(eid_to_str(&ies.answers[0].eid, eid), "02:00:00:00:00:0a");
    CHECK_INT(ies.answers[0].proto, DUNDI_PROTO_IAX);
    CHECK_INT(ies.answers[0].flags, DUNDI_FLAG_EXISTS);
    CHECK_INT(ies.answers[0].weight, 0);
    CHECK_STR(ies.answers[0].dest, "priv:CUIQNHSSinCkq6NQyMC9fw==@127.0.0.2/20000");
    CHECK(ies.has_hint, "#34 has HINT");
    CHECK_INT(ies.hint_flags, DUNDI_HINT_UNAFFECTED);
    CHECK_STR(ies.hint_data, "");
    CHECK_INT(ies.expiration, 5);
    CHECK_INT(ies.ttl, -1);
    CHECK_INT(ies.cause, -1);
    CHECK(!ies.has_called_number && !ies.has_called_context && !ies.cachebypass && !ies.encdata,
          "#34 carries nothing else");
}

int main(int argc, char **argv)
{
    char path[4096], errbuf[PCAP_ERRBUF_SIZE];
    const char *dir = argc > 1 ? argv[1] : "test/data";

    snprintf(path, sizeof(path), "%s/asterisk-pair.decoded.txt", dir);
    if (!CHECK(load_listing(path) == 0, "cannot read %s", path))
        return test_summary("capture");
    if (!CHECK(load_keys(dir) == 0, "cannot load the test key pair from %s", dir))
        return test_summary("capture");
    snprintf(path, sizeof(path), "%s/asterisk-pair.pcap", dir);
    pcap_t *pc = pcap_open_offline(path, errbuf);
    if (!CHECK(pc != NULL, "pcap_open_offline %s: %s", path, errbuf))
        return test_summary("capture");
    CHECK_INT(pcap_datalink(pc), DLT_EN10MB);

    struct pcap_pkthdr *ph;
    const u_char *frame;
    unsigned frames = 0, malformed = 0, truncated = 0, n = 0;
    int rc;
    while ((rc = pcap_next_ex(pc, &ph, &frame)) == 1) {
        struct udp_dgram d;
        frames++;
        if (ph->caplen < ph->len) {
            truncated++;
            continue;
        }
        int r = parse_frame(frame, ph->caplen, &d);
        if (r < 0)
            malformed++;
        if (r <= 0 || (d.sport != DUNDI_PORT && d.dport != DUNDI_PORT))
            continue;
        check_packet(++n, &d);
        if (n == 34)
            check_packet34(&d);
    }
    CHECK(rc == PCAP_ERROR_BREAK, "pcap_next_ex ended with %d: %s", rc, pcap_geterr(pc));
    pcap_close(pc);

    CHECK(truncated == 0 && malformed == 0, "%u truncated and %u malformed frames", truncated, malformed);
    CHECK(n == listing_count, "%u DUNDi packets in the capture, %u listing lines", n, listing_count);
    CHECK(n_encrypted == 16 && n_full_key == 2 && n_keycrc == 6, "encrypted %u (full key %u, keycrc %u)", n_encrypted,
          n_full_key, n_keycrc);
    CHECK(n_decrypted == n_encrypted, "decrypted %u of %u ENCRYPT packets", n_decrypted, n_encrypted);
    crypto_free_key(pub);
    crypto_free_key(priv);
    CHECK(n_answers > 0 && n_dontask > 0, "answers %u, DONT_ASK responses %u", n_answers, n_dontask);
    printf("%u frames, %u DUNDi packets (%u clear, %u encrypted), %u listing lines\n", frames, n, n_unencrypted,
           n_encrypted, listing_count);
    free(listing);
    free(listing_buf);
    return test_summary("capture");
}
