/* Unit tests of the DUNDi wire codec (header, IE decoder, builder, listing
 * formatter) and of the EID text forms. */
#include "dundid/wire.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static struct dundi_ies ies; /* big: keep it off the stack */
static struct dundi_ieb b;

static eid_t mkeid(const char *s)
{
    eid_t e;
    if (eid_parse(&e, s) != 0)
        memset(&e, 0xee, sizeof(e));
    return e;
}

static const char *rep(char c, size_t n) /* n copies of c (n < 1024) */
{
    static char buf[4][1024];
    static int slot;
    char *s = buf[slot++ & 3];
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* Decode the builder's content; 1 if the builder and decoder both succeeded. */
static int decode_b(void)
{
    int err = dundi_ieb_error(&b), rc = dundi_ies_decode(b.buf, b.len, &ies);
    return CHECK(err == 0 && rc == 0, "builder %s, decode %s", dundi_strerror(err), dundi_strerror(rc));
}

static int format(const uint8_t *p, size_t len, char *out, size_t outlen)
{
    return dundi_ies_format(p, len, out, outlen);
}

/* ---- (a) the worked example of section 12 ---- */

static const uint8_t ex_discover[39] = {
    0x12, 0x34, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,                   /* header */
    0x0a, 0x02, 0x00, 0x01,                                           /* VERSION 1 */
    0x04, 0x06, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55,                   /* EID_DIRECT */
    0x03, 0x07, 0x35, 0x35, 0x35, 0x31, 0x32, 0x31, 0x32,             /* CALLED_NUMBER */
    0x02, 0x04, 0x65, 0x31, 0x36, 0x34,                               /* CALLED_CONTEXT */
    0x06, 0x02, 0x00, 0x20,                                           /* TTL 32 */
};

static const uint8_t ex_response[58] = {
    0x05, 0x67, 0x12, 0x34, 0x01, 0x00, 0xc2, 0x00,                   /* header */
    0x05, 0x28, 0x00, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0x01, 0x01, 0x85, 0x00, 0x00, /* ANSWER */
    'd', 'u', 'n', 'd', 'i', ':', 's', '3', 'c', 'r', '3', 't', '@', '1', '0', '.', '0', '.', '0', '.', '2', '/',
    '5', '5', '5', '1', '2', '1', '2',
    0x14, 0x02, 0x00, 0x04,                                           /* HINT UNAFFECTED */
    0x0b, 0x02, 0x0e, 0x10,                                           /* EXPIRATION 3600 */
};

static void test_worked_example(void)
{
    uint8_t pkt[DUNDI_MAX_PACKET], hdr[DUNDI_HDR_LEN];
    struct dundi_hdr h = {.strans = 0x1234, .cmdresp = DUNDI_CMD_DPDISCOVER};
    eid_t a = mkeid("00:11:22:33:44:55"), bb = mkeid("00:aa:bb:cc:dd:ee");
    char txt[1024];

    /* DPDISCOVER, built */
    dundi_ieb_init(&b, 0);
    dundi_ie_put_u16(&b, DUNDI_IE_VERSION, 1);
    dundi_ie_put_eid(&b, DUNDI_IE_EID_DIRECT, &a);
    dundi_ie_put_str(&b, DUNDI_IE_CALLED_NUMBER, "5551212");
    dundi_ie_put_str(&b, DUNDI_IE_CALLED_CONTEXT, "e164");
    dundi_ie_put_u16(&b, DUNDI_IE_TTL, 32);
    CHECK_INT(dundi_ieb_error(&b), 0);
    dundi_hdr_encode(&h, pkt);
    memcpy(pkt + DUNDI_HDR_LEN, b.buf, b.len);
    CHECK_INT(DUNDI_HDR_LEN + b.len, sizeof(ex_discover));
    CHECK(memcmp(pkt, ex_discover, sizeof(ex_discover)) == 0, "DPDISCOVER bytes differ from section 12");

    /* DPDISCOVER, decoded */
    CHECK_INT(dundi_ies_decode(ex_discover + 8, sizeof(ex_discover) - 8, &ies), 0);
    CHECK_INT(ies.version, 1);
    CHECK_INT(ies.ttl, 32);
    CHECK(ies.eidcount == 1 && ies.eid_direct[0] && eid_equal(&ies.eids[0], &a), "DPDISCOVER path");
    CHECK_STR(ies.called_number, "5551212");
    CHECK_STR(ies.called_context, "e164");
    CHECK_INT(format(ex_discover + 8, sizeof(ex_discover) - 8, txt, sizeof(txt)), (int)strlen(txt));
    CHECK_STR(txt, "{VERSION=1, EID_DIRECT=00:11:22:33:44:55, CALLED_NUMBER=5551212, CALLED_CONTEXT=e164, TTL=32}");

    /* the two ACKs */
    static const uint8_t ack_b[8] = {0x05, 0x67, 0x12, 0x34, 0x01, 0x00, 0x40, 0x00};
    static const uint8_t ack_a[8] = {0x12, 0x34, 0x05, 0x67, 0x01, 0x01, 0xc0, 0x00};
    dundi_hdr_encode(&(struct dundi_hdr){0x0567, 0x1234, 1, 0, DUNDI_CMD_ACK, 0}, hdr);
    CHECK(memcmp(hdr, ack_b, 8) == 0, "B's ACK bytes");
    dundi_hdr_encode(&(struct dundi_hdr){0x1234, 0x0567, 1, 1, DUNDI_CMD_ACK | DUNDI_FLAG_FINAL, 0}, hdr);
    CHECK(memcmp(hdr, ack_a, 8) == 0, "A's final ACK bytes");

    /* DPRESPONSE, decoded field by field */
    CHECK_INT(dundi_hdr_decode(ex_response, sizeof(ex_response), &h), 0);
    CHECK_INT(h.strans, 0x0567);
    CHECK_INT(h.dtrans, 0x1234);
    CHECK_INT(h.iseqno, 1);
    CHECK_INT(h.oseqno, 0);
    CHECK_INT(dundi_hdr_cmd(&h), DUNDI_CMD_DPRESPONSE);
    CHECK(dundi_hdr_final(&h), "DPRESPONSE is final");
    CHECK_INT(h.cmdflags, 0);
    CHECK_INT(dundi_ies_decode(ex_response + 8, sizeof(ex_response) - 8, &ies), 0);
    CHECK_INT(ies.anscount, 1);
    CHECK(eid_equal(&ies.answers[0].eid, &bb), "answer owner is B");
    CHECK_INT(ies.answers[0].proto, DUNDI_PROTO_IAX);
    CHECK_INT(ies.answers[0].flags,
              DUNDI_FLAG_EXISTS | DUNDI_FLAG_CANMATCH | DUNDI_FLAG_NOUNSOLICITED | DUNDI_FLAG_NOCOMUNSOLICIT);
    CHECK_INT(ies.answers[0].weight, 0);
    CHECK_STR(ies.answers[0].dest, "dundi:s3cr3t@10.0.0.2/5551212");
    CHECK(ies.has_hint, "HINT present");
    CHECK_INT(ies.hint_flags, DUNDI_HINT_UNAFFECTED);
    CHECK_STR(ies.hint_data, "");
    CHECK_INT(ies.expiration, 3600);
    CHECK(ies.eidcount == 0 && ies.ttl == -1 && ies.version == -1 && ies.cause == -1 && ies.unknown_cmd == -1 &&
              !ies.has_called_number && !ies.has_called_context && !ies.has_reqeid && !ies.cachebypass &&
              !ies.encdata && !ies.sharedkey && !ies.signature && !ies.has_keycrc32 && !ies.has_organization &&
              ies.bad_length == 0 && ies.unknown == 0 && ies.overflow == 0,
          "DPRESPONSE carries nothing else");
    format(ex_response + 8, sizeof(ex_response) - 8, txt, sizeof(txt));
    CHECK_STR(txt, "{ANSWER={'eid': '00:aa:bb:cc:dd:ee', 'proto': 1, 'flags': '0185', 'weight': 0, "
                   "'data': 'dundi:s3cr3t@10.0.0.2/5551212'}, HINT={'flags': '0004', 'data': ''}, EXPIRATION=3600}");

    /* DPRESPONSE, rebuilt */
    dundi_ieb_init(&b, 0);
    dundi_ie_put_answer(&b, &ies.answers[0]);
    dundi_ie_put_hint(&b, DUNDI_HINT_UNAFFECTED, "");
    dundi_ie_put_u16(&b, DUNDI_IE_EXPIRATION, 3600);
    CHECK(dundi_ieb_error(&b) == 0 && b.len == 50 && memcmp(b.buf, ex_response + 8, 50) == 0,
          "DPRESPONSE IEs rebuilt byte for byte");
}

/* ---- (b) round trip of every IE type ---- */

static void test_roundtrip(void)
{
    eid_t e1 = mkeid("02:00:00:00:00:0a"), e2 = mkeid("02:00:00:00:00:0b"), e3 = mkeid("ff:fe:fd:fc:fb:fa");
    uint8_t iv[16], ct[512], key[DUNDI_KEY_BYTES], sig[DUNDI_KEY_BYTES];
    for (unsigned i = 0; i < sizeof(ct); i++)
        ct[i] = (uint8_t)(i * 7 + 1);
    for (unsigned i = 0; i < 16; i++)
        iv[i] = (uint8_t)(0xa0 + i);
    for (unsigned i = 0; i < DUNDI_KEY_BYTES; i++)
        key[i] = (uint8_t)i, sig[i] = (uint8_t)~i;

    /* EID / EID_DIRECT keep their order and kind; REQEID is separate */
    dundi_ieb_init(&b, 0);
    dundi_ie_put_eid(&b, DUNDI_IE_EID, &e1);
    dundi_ie_put_eid(&b, DUNDI_IE_EID_DIRECT, &e2);
    dundi_ie_put_eid(&b, DUNDI_IE_EID, &e3);
    dundi_ie_put_eid(&b, DUNDI_IE_REQEID, &e3);
    if (decode_b()) {
        CHECK_INT(b.len, 4 * 8);
        CHECK(ies.eidcount == 3 && eid_equal(&ies.eids[0], &e1) && eid_equal(&ies.eids[1], &e2) &&
                  eid_equal(&ies.eids[2], &e3),
              "EID list");
        CHECK(!ies.eid_direct[0] && ies.eid_direct[1] && !ies.eid_direct[2], "EID_DIRECT flags");
        CHECK(ies.has_reqeid && eid_equal(&ies.reqeid, &e3), "REQEID");
    }

    /* strings, up to the 255-byte maximum */
    dundi_ieb_init(&b, 0);
    dundi_ie_put_str(&b, DUNDI_IE_CALLED_CONTEXT, "e164");
    dundi_ie_put_str(&b, DUNDI_IE_CALLED_NUMBER, rep('7', 255));
    if (decode_b()) {
        CHECK(ies.has_called_context && ies.has_called_number, "has_called_*");
        CHECK_STR(ies.called_context, "e164");
        CHECK_STR(ies.called_number, rep('7', 255));
        CHECK_INT(b.buf[7], 255);
    }
    dundi_ieb_init(&b, 0);
    dundi_ie_put_str(&b, DUNDI_IE_CALLED_NUMBER, "");
    if (decode_b())
        CHECK(ies.has_called_number && ies.called_number[0] == '\0' && b.len == 2, "empty CALLED_NUMBER");

    /* ANSWER: ordinary, empty destination (length 11), 244-byte destination (length 255) */
    struct dundi_answer in[3] = {
        {e1, DUNDI_PROTO_SIP, 0x01ff, 59999, "sip/1001@example.org"},
        {e2, DUNDI_PROTO_NONE, DUNDI_FLAG_MATCHMORE | DUNDI_FLAG_CANMATCH, 0, ""},
        {e3, 0xff, 0xffff, 0xffff, ""},
    };
    memset(in[2].dest, 'd', DUNDI_MAX_DEST);
    in[2].dest[DUNDI_MAX_DEST] = '\0';
    dundi_ieb_init(&b, 0);
    for (int i = 0; i < 3; i++)
        dundi_ie_put_answer(&b, &in[i]);
    if (decode_b() && CHECK(ies.anscount == 3, "anscount %u, want 3", ies.anscount)) {
        for (int i = 0; i < 3; i++) {
            const struct dundi_answer *o = &ies.answers[i];
            CHECK(eid_equal(&o->eid, &in[i].eid) && o->proto == in[i].proto && o->flags == in[i].flags &&
                      o->weight == in[i].weight && !strcmp(o->dest, in[i].dest),
                  "ANSWER %d round trip", i);
        }
        CHECK(b.buf[1] == 11 + 20 && b.buf[2 + 31 + 1] == 11 && b.buf[2 + 31 + 13 + 1] == 255, "ANSWER lengths");
    }

    /* u16 values, u8 UNKNOWN, u32 KEYCRC32; the last of a single-valued IE wins */
    static const uint16_t u16s[] = {0, 1, 32, 0x1234, 65535};
    for (unsigned i = 0; i < sizeof(u16s) / sizeof(u16s[0]); i++) {
        uint8_t cmd = (uint8_t)(u16s[i] ^ 0x5a);
        dundi_ieb_init(&b, 0);
        dundi_ie_put_u16(&b, DUNDI_IE_TTL, 999);
        dundi_ie_put_u16(&b, DUNDI_IE_TTL, u16s[i]);
        dundi_ie_put_u16(&b, DUNDI_IE_VERSION, u16s[i]);
        dundi_ie_put_u16(&b, DUNDI_IE_EXPIRATION, u16s[i]);
        dundi_ie_put_raw(&b, DUNDI_IE_UNKNOWN, &cmd, 1);
        dundi_ie_put_u32(&b, DUNDI_IE_KEYCRC32, 0xdeadbeefu ^ u16s[i]);
        if (decode_b())
            CHECK(ies.ttl == u16s[i] && ies.version == u16s[i] && ies.expiration == u16s[i] &&
                      ies.unknown_cmd == cmd && ies.has_keycrc32 && ies.keycrc32 == (0xdeadbeefu ^ u16s[i]),
                  "integers round trip with %u", u16s[i]);
    }

    /* CAUSE with text, without (NULL and ""), and with the longest text */
    const char *texts[] = {"Permission denied", NULL, "", rep('c', DUNDI_MAX_CAUSE_TEXT)};
    for (unsigned i = 0; i < 4; i++) {
        dundi_ieb_init(&b, 0);
        dundi_ie_put_cause(&b, (uint8_t)(DUNDI_CAUSE_NOAUTH + i), texts[i]);
        if (decode_b())
            CHECK(ies.cause == (int)(DUNDI_CAUSE_NOAUTH + i) && !strcmp(ies.cause_text, texts[i] ? texts[i] : "") &&
                      b.len == 3 + (texts[i] ? strlen(texts[i]) : 0),
                  "CAUSE %u round trip", i);
    }

    /* HINT with and without data, and the longest data */
    const char *hints[] = {"", "1009", rep('h', DUNDI_MAX_HINT_DATA)};
    for (unsigned i = 0; i < 3; i++) {
        dundi_ieb_init(&b, 0);
        dundi_ie_put_hint(&b, (uint16_t)(DUNDI_HINT_DONT_ASK | i << 8), hints[i]);
        if (decode_b())
            CHECK(ies.has_hint && ies.hint_flags == (DUNDI_HINT_DONT_ASK | i << 8) && !strcmp(ies.hint_data, hints[i]),
                  "HINT %u round trip", i);
    }

    /* the crypto envelope: EID, SHAREDKEY, SIGNATURE, KEYCRC32, ENCDATA (last) */
    dundi_ieb_init(&b, 0);
    dundi_ie_put_eid(&b, DUNDI_IE_EID, &e2);
    dundi_ie_put_raw(&b, DUNDI_IE_SHAREDKEY, key, sizeof(key));
    dundi_ie_put_raw(&b, DUNDI_IE_SIGNATURE, sig, sizeof(sig));
    dundi_ie_put_u32(&b, DUNDI_IE_KEYCRC32, 0x783bd49c);
    size_t encoff = b.len;
    dundi_ie_put_encdata(&b, iv, ct, 48);
    if (decode_b()) {
        CHECK(ies.sharedkey == b.buf + 10 && !memcmp(ies.sharedkey, key, sizeof(key)), "SHAREDKEY");
        CHECK(ies.signature == b.buf + 140 && !memcmp(ies.signature, sig, sizeof(sig)), "SIGNATURE");
        CHECK(ies.has_keycrc32 && ies.keycrc32 == 0x783bd49c, "KEYCRC32");
        CHECK(ies.encdata == b.buf + encoff + 2 && ies.encdata_len == 64 && !memcmp(ies.encdata, iv, 16) &&
                  !memcmp(ies.encdata + 16, ct, 48),
              "ENCDATA");
        CHECK(b.buf[encoff] == DUNDI_IE_ENCDATA && b.buf[encoff + 1] == 64 && b.len == encoff + 66, "ENCDATA bytes");
    }
    /* ENCDATA longer than 255: the length byte is truncated, the decoder takes the rest */
    dundi_ieb_init(&b, 0);
    dundi_ie_put_eid(&b, DUNDI_IE_EID, &e2);
    dundi_ie_put_encdata(&b, iv, ct, sizeof(ct));
    if (decode_b()) {
        CHECK_INT(b.buf[9], (16 + sizeof(ct)) & 0xff);
        CHECK(ies.encdata_len == 16 + sizeof(ct) && !memcmp(ies.encdata + 16, ct, sizeof(ct)), "long ENCDATA");
    }
    /* ...and swallows what looks like further IEs */
    static const uint8_t encmid[] = {DUNDI_IE_ENCDATA, 2, 1, 2, DUNDI_IE_TTL, 2, 0, 9, 0xff};
    CHECK_INT(dundi_ies_decode(encmid, sizeof(encmid), &ies), 0);
    CHECK(ies.encdata == encmid + 2 && ies.encdata_len == 7 && ies.ttl == -1, "ENCDATA consumes the rest");

    /* the eight contact strings (EIDRESPONSE) */
    static const struct {
        uint8_t type;
        const char *val;
        size_t off;
    } contact[] = {
        {DUNDI_IE_DEPARTMENT, "Voice", offsetof(struct dundi_ies, department)},
        {DUNDI_IE_ORGANIZATION, "Example Ltd", offsetof(struct dundi_ies, organization)},
        {DUNDI_IE_LOCALITY, "Springfield", offsetof(struct dundi_ies, locality)},
        {DUNDI_IE_STATE_PROV, "Oregon", offsetof(struct dundi_ies, stateprov)},
        {DUNDI_IE_COUNTRY, "US", offsetof(struct dundi_ies, country)},
        {DUNDI_IE_EMAIL, "noc@example.org", offsetof(struct dundi_ies, email)},
        {DUNDI_IE_PHONE, "+1 555 0100", offsetof(struct dundi_ies, phone)},
        {DUNDI_IE_IPADDR, "192.0.2.7", offsetof(struct dundi_ies, ipaddr)},
    };
    dundi_ieb_init(&b, 0);
    for (unsigned i = 0; i < 8; i++)
        dundi_ie_put_str(&b, contact[i].type, contact[i].val);
    if (decode_b()) {
        CHECK(ies.has_organization, "has_organization");
        for (unsigned i = 0; i < 8; i++)
            CHECK_STR((const char *)&ies + contact[i].off, contact[i].val);
    }
    dundi_ieb_init(&b, 0);
    dundi_ie_put_str(&b, DUNDI_IE_EMAIL, "x@y");
    if (decode_b())
        CHECK(!ies.has_organization && ies.organization[0] == '\0' && !strcmp(ies.email, "x@y"), "no ORGANIZATION");

    /* CACHEBYPASS: empty, and any length is accepted */
    dundi_ieb_init(&b, 0);
    dundi_ie_put_empty(&b, DUNDI_IE_CACHEBYPASS);
    if (decode_b())
        CHECK(ies.cachebypass && b.len == 2 && b.buf[0] == DUNDI_IE_CACHEBYPASS && b.buf[1] == 0, "CACHEBYPASS");
    dundi_ieb_init(&b, 0);
    dundi_ie_put_raw(&b, DUNDI_IE_CACHEBYPASS, "xyz", 3);
    if (decode_b())
        CHECK(ies.cachebypass && ies.bad_length == 0, "CACHEBYPASS with a value");

    /* the formatter names every IE type */
    char txt[4096];
    dundi_ieb_init(&b, 0);
    dundi_ie_put_eid(&b, DUNDI_IE_REQEID, &e3);
    dundi_ie_put_raw(&b, DUNDI_IE_UNKNOWN, "\x0f", 1);
    dundi_ie_put_cause(&b, DUNDI_CAUSE_NOAUTH, "no");
    dundi_ie_put_u32(&b, DUNDI_IE_KEYCRC32, 0xbc238397);
    dundi_ie_put_hint(&b, DUNDI_HINT_DONT_ASK, "9");
    for (unsigned i = 0; i < 8; i++)
        dundi_ie_put_str(&b, contact[i].type, contact[i].val);
    dundi_ie_put_empty(&b, DUNDI_IE_CACHEBYPASS);
    dundi_ie_put_raw(&b, DUNDI_IE_PEERSTATUS, "\x01\x02", 2);
    dundi_ie_put_raw(&b, 7, "\xab", 1);
    dundi_ie_put_encdata(&b, iv, ct, 0);
    CHECK_INT(format(b.buf, b.len, txt, sizeof(txt)), (int)strlen(txt));
    CHECK_STR(txt, "{REQEID=ff:fe:fd:fc:fb:fa, UNKNOWN=15, CAUSE={'cause': 3, 'text': 'no'}, KEYCRC32=bc238397, "
                   "HINT={'flags': '0002', 'data': '9'}, DEPARTMENT=Voice, ORGANIZATION=Example Ltd, "
                   "LOCALITY=Springfield, STATE_PROV=Oregon, COUNTRY=US, EMAIL=noc@example.org, PHONE=+1 555 0100, "
                   "IPADDR=192.0.2.7, CACHEBYPASS=, PEERSTATUS=0102, IE7=ab, "
                   "ENCDATA=a0a1a2a3a4a5a6a7a8a9aaabacadaeaf}");
    /* PEERSTATUS and unassigned types are skipped as unknown by the decoder */
    if (decode_b())
        CHECK_INT(ies.unknown, 2);

    /* names */
    CHECK_STR(dundi_cmd_name(DUNDI_CMD_DPRESPONSE | DUNDI_FLAG_FINAL), "DPRESPONSE");
    CHECK_STR(dundi_cmd_name(DUNDI_CMD_ENCREJ), "ENCREJ");
    CHECK(dundi_cmd_name(0x02) == NULL && dundi_cmd_name(0x7f) == NULL, "unassigned command names");
    CHECK_STR(dundi_ie_name(DUNDI_IE_CACHEBYPASS), "CACHEBYPASS");
    CHECK(dundi_ie_name(0) == NULL && dundi_ie_name(13) == NULL && dundi_ie_name(31) == NULL &&
              dundi_ie_name(255) == NULL,
          "unassigned IE names");
    CHECK_STR(dundi_proto_name(DUNDI_PROTO_IAX), "IAX2");
    CHECK_STR(dundi_proto_name(9), "Unknown");
    CHECK(dundi_proto_from_name("iax2") == DUNDI_PROTO_IAX && dundi_proto_from_name("IAX") == DUNDI_PROTO_IAX &&
              dundi_proto_from_name("sip") == DUNDI_PROTO_SIP && dundi_proto_from_name("PJSIP") == DUNDI_PROTO_PJSIP &&
              dundi_proto_from_name("h323") == DUNDI_PROTO_H323 && dundi_proto_from_name("xmpp") == -1,
          "protocol names");
    for (int e = DUNDI_OK; e >= DUNDI_E_VALUE_LONG; e--)
        CHECK(strcmp(dundi_strerror(e), "unknown error") != 0, "strerror(%d)", e);
}

/* ---- (c) hostile input and encoding limits ---- */

static uint8_t *dup_exact(const void *p, size_t len) /* exact-size heap copy: ASan sees overreads */
{
    uint8_t *q = malloc(len ? len : 1);
    if (len)
        memcpy(q, p, len);
    return q;
}

static int decode_exact(const void *p, size_t len)
{
    uint8_t *q = dup_exact(p, len);
    int rc = dundi_ies_decode(q, len, &ies);
    free(q);
    return rc;
}

static void test_hostile(void)
{
    static uint8_t big[DUNDI_MAX_PACKET + 1];
    struct dundi_hdr h;
    char txt[256];

    /* datagram sizes */
    CHECK_INT(dundi_hdr_decode(big, 0, &h), DUNDI_E_EMPTY);
    for (size_t n = 1; n < DUNDI_HDR_LEN; n++)
        CHECK(dundi_hdr_decode(big, n, &h) == DUNDI_E_SHORT, "%zu-byte datagram", n);
    CHECK_INT(dundi_hdr_decode(big, 8, &h), 0);
    /* 8191 bytes: a 3-byte IE then 4090 empty IEs of unassigned type 0 */
    big[8] = 7, big[9] = 1;
    CHECK_INT(dundi_hdr_decode(big, DUNDI_MAX_PACKET, &h), 0);
    CHECK_INT(dundi_ies_decode(big + 8, DUNDI_MAX_PACKET - 8, &ies), 0);
    CHECK_INT(ies.unknown, 4091);
    CHECK_INT(dundi_hdr_decode(big, DUNDI_MAX_PACKET + 1, &h), DUNDI_E_TOO_LONG);
    CHECK_INT(dundi_ies_decode(big + 8, DUNDI_MAX_PACKET + 1 - 8, &ies), DUNDI_E_TOO_LONG);
    CHECK_INT(dundi_ies_decode(big, 0, &ies), 0);

    /* an IE length running past the end, alone and after a good IE */
    static const uint8_t trunc1[] = {DUNDI_IE_TTL, 3, 0, 1};
    static const uint8_t trunc2[] = {DUNDI_IE_TTL, 2, 0, 1, DUNDI_IE_CALLED_NUMBER, 200, '1', '2'};
    static const uint8_t trunc3[] = {DUNDI_IE_ANSWER, 255};
    CHECK_INT(decode_exact(trunc1, sizeof(trunc1)), DUNDI_E_IE_TRUNC);
    CHECK_INT(decode_exact(trunc2, sizeof(trunc2)), DUNDI_E_IE_TRUNC);
    CHECK_INT(decode_exact(trunc3, sizeof(trunc3)), DUNDI_E_IE_TRUNC);
    CHECK_INT(format(trunc2, sizeof(trunc2), txt, sizeof(txt)), DUNDI_E_IE_TRUNC);

    /* one stray byte */
    static const uint8_t stray1[] = {DUNDI_IE_TTL, 2, 0, 1, DUNDI_IE_TTL};
    CHECK_INT(decode_exact(stray1, sizeof(stray1)), DUNDI_E_IE_STRAY);
    CHECK_INT(decode_exact(stray1 + 4, 1), DUNDI_E_IE_STRAY);
    CHECK_INT(format(stray1, sizeof(stray1), txt, sizeof(txt)), DUNDI_E_IE_STRAY);

    /* the iterator reports the same */
    struct dundi_ie_iter it;
    struct dundi_ie_raw raw;
    dundi_ie_iter_init(&it, stray1, sizeof(stray1));
    CHECK(dundi_ie_next(&it, &raw) == 1 && raw.type == DUNDI_IE_TTL && raw.len == 2 && raw.val == stray1 + 2,
          "iterator: first IE");
    CHECK_INT(dundi_ie_next(&it, &raw), DUNDI_E_IE_STRAY);

    /* wrong-size fixed IEs: counted, skipped, the rest of the message used */
    static const struct {
        uint8_t type, len;
    } bad[] = {
        {DUNDI_IE_EID, 5},       {DUNDI_IE_EID, 7},        {DUNDI_IE_EID_DIRECT, 0}, {DUNDI_IE_REQEID, 12},
        {DUNDI_IE_TTL, 1},       {DUNDI_IE_TTL, 3},        {DUNDI_IE_VERSION, 0},    {DUNDI_IE_EXPIRATION, 4},
        {DUNDI_IE_KEYCRC32, 3},  {DUNDI_IE_KEYCRC32, 5},   {DUNDI_IE_UNKNOWN, 0},    {DUNDI_IE_UNKNOWN, 2},
        {DUNDI_IE_SHAREDKEY, 127}, {DUNDI_IE_SIGNATURE, 129}, {DUNDI_IE_ANSWER, 10}, {DUNDI_IE_HINT, 1},
        {DUNDI_IE_CAUSE, 0},
    };
    uint8_t zeros[255] = {0};
    dundi_ieb_init(&b, 0);
    dundi_ie_put_str(&b, DUNDI_IE_CALLED_NUMBER, "1001");
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        dundi_ie_put_raw(&b, bad[i].type, zeros, bad[i].len);
    dundi_ie_put_str(&b, DUNDI_IE_CALLED_CONTEXT, "priv");
    CHECK_INT(decode_exact(b.buf, b.len), 0);
    CHECK_INT(ies.bad_length, sizeof(bad) / sizeof(bad[0]));
    CHECK(ies.eidcount == 0 && !ies.has_reqeid && ies.ttl == -1 && ies.version == -1 && ies.expiration == -1 &&
              !ies.has_keycrc32 && ies.unknown_cmd == -1 && !ies.sharedkey && !ies.signature && ies.anscount == 0 &&
              !ies.has_hint && ies.cause == -1,
          "wrong-size IEs are ignored");
    CHECK(!strcmp(ies.called_number, "1001") && !strcmp(ies.called_context, "priv"), "the rest is used");
    static const uint8_t badttl[] = {DUNDI_IE_TTL, 1, 5};
    format(badttl, sizeof(badttl), txt, sizeof(txt));
    CHECK_STR(txt, "{TTL=<bad length 1>}");

    /* unknown IE types: counted and skipped using their length */
    static const uint8_t unk[] = {0, 0, 7, 1, 6, 8, 2, 6, 2, 9, 0, 13, 3, 1, 2, 3, DUNDI_IE_PEERSTATUS, 1, 0,
                                  31, 0, 200, 2, 6, 2, 255, 0, DUNDI_IE_TTL, 2, 0, 7};
    CHECK_INT(decode_exact(unk, sizeof(unk)), 0);
    CHECK_INT(ies.unknown, 9);
    CHECK_INT(ies.ttl, 7);
    CHECK_INT(ies.bad_length, 0);

    /* strings with an embedded NUL are cut there */
    dundi_ieb_init(&b, 0);
    dundi_ie_put_raw(&b, DUNDI_IE_CALLED_NUMBER, "12\0" "34", 5);
    dundi_ie_put_raw(&b, DUNDI_IE_CALLED_CONTEXT, "\0priv", 5);
    dundi_ie_put_raw(&b, DUNDI_IE_ANSWER, "\2\0\0\0\0\x0a\1\0\1\0\0" "ab\0cd", 16);
    dundi_ie_put_raw(&b, DUNDI_IE_HINT, "\0\2" "9\0" "9", 5);
    dundi_ie_put_raw(&b, DUNDI_IE_CAUSE, "\3" "de\0nied", 8);
    dundi_ie_put_raw(&b, DUNDI_IE_COUNTRY, "U\0S", 3);
    CHECK_INT(decode_exact(b.buf, b.len), 0);
    CHECK(ies.has_called_number && !strcmp(ies.called_number, "12"), "NUL in CALLED_NUMBER");
    CHECK(ies.has_called_context && ies.called_context[0] == '\0', "NUL first in CALLED_CONTEXT");
    CHECK(ies.anscount == 1 && !strcmp(ies.answers[0].dest, "ab") && ies.answers[0].flags == DUNDI_FLAG_EXISTS,
          "NUL in ANSWER destination");
    CHECK(ies.hint_flags == DUNDI_HINT_DONT_ASK && !strcmp(ies.hint_data, "9"), "NUL in HINT data");
    CHECK(ies.cause == 3 && !strcmp(ies.cause_text, "de"), "NUL in CAUSE text");
    CHECK_STR(ies.country, "U");
    format(b.buf, 7, txt, sizeof(txt));
    CHECK_STR(txt, "{CALLED_NUMBER=12\\x0034}");

    /* more than 512 EIDs and more than 100 ANSWERs */
    eid_t e = mkeid("02:00:00:00:00:99");
    struct dundi_answer ans = {e, DUNDI_PROTO_IAX, DUNDI_FLAG_EXISTS, 0, ""};
    dundi_ieb_init(&b, 0);
    for (unsigned i = 0; i < DUNDI_MAX_EIDS + 8; i++) {
        e.b[4] = (uint8_t)(i >> 8), e.b[5] = (uint8_t)i;
        dundi_ie_put_eid(&b, i & 1 ? DUNDI_IE_EID_DIRECT : DUNDI_IE_EID, &e);
    }
    for (unsigned i = 0; i < DUNDI_MAX_ANSWERS + 10; i++) {
        ans.weight = (uint16_t)i;
        dundi_ie_put_answer(&b, &ans);
    }
    if (decode_b()) {
        CHECK_INT(ies.eidcount, DUNDI_MAX_EIDS);
        CHECK_INT(ies.anscount, DUNDI_MAX_ANSWERS);
        CHECK_INT(ies.overflow, 8 + 10);
        CHECK(ies.eids[511].b[4] == 1 && ies.eids[511].b[5] == 0xff && ies.eid_direct[511] && !ies.eid_direct[510],
              "the first 512 EIDs are kept");
        CHECK_INT(ies.answers[99].weight, 99);
    }

    /* a valid large packet (~1800 bytes) with many answers */
    dundi_ieb_init(&b, 0);
    for (unsigned i = 0; i < 40; i++) {
        snprintf(ans.dest, sizeof(ans.dest), "priv:CUIQNHSSinCkq6NQyMC9fw==@127.0.0.2/2%04u", i);
        ans.weight = (uint16_t)(i * 100);
        dundi_ie_put_answer(&b, &ans);
    }
    dundi_ie_put_hint(&b, DUNDI_HINT_UNAFFECTED, "");
    dundi_ie_put_u16(&b, DUNDI_IE_EXPIRATION, 3600);
    CHECK(b.len > 1500, "large packet is %zu bytes", b.len);
    CHECK_INT(decode_exact(b.buf, b.len), 0);
    unsigned good = 0;
    for (unsigned i = 0; i < ies.anscount; i++) {
        char want[64];
        snprintf(want, sizeof(want), "priv:CUIQNHSSinCkq6NQyMC9fw==@127.0.0.2/2%04u", i);
        good += ies.answers[i].weight == i * 100 && !strcmp(ies.answers[i].dest, want);
    }
    CHECK(ies.anscount == 40 && good == 40 && ies.expiration == 3600 && ies.overflow == 0, "40 answers");

    /* encoding limits: value sizes */
    dundi_ieb_init(&b, 0);
    dundi_ie_put_str(&b, DUNDI_IE_CALLED_NUMBER, rep('1', 256));
    CHECK_INT(dundi_ieb_error(&b), DUNDI_E_VALUE_LONG);
    CHECK_INT(b.len, 0);
    dundi_ie_put_str(&b, DUNDI_IE_CALLED_NUMBER, "1"); /* sticky */
    CHECK(dundi_ieb_error(&b) == DUNDI_E_VALUE_LONG && b.len == 0, "VALUE_LONG is sticky");
    dundi_ieb_init(&b, 0);
    dundi_ie_put_hint(&b, 0, rep('h', DUNDI_MAX_HINT_DATA + 1));
    CHECK_INT(dundi_ieb_error(&b), DUNDI_E_VALUE_LONG);
    dundi_ieb_init(&b, 0);
    dundi_ie_put_cause(&b, 1, rep('c', DUNDI_MAX_CAUSE_TEXT + 1));
    CHECK_INT(dundi_ieb_error(&b), DUNDI_E_VALUE_LONG);
    dundi_ieb_init(&b, 0);
    dundi_ie_put_raw(&b, 99, zeros, 255);
    CHECK(dundi_ieb_error(&b) == 0 && b.len == 257, "255-byte raw value fits");
    /* A 245-byte destination cannot be stored in dest[245] with its NUL; let it
     * run into the spare room of a wrapper so put_answer's guard is exercised. */
    struct {
        struct dundi_answer a;
        char spill[16];
    } w;
    memset(&w, 0, sizeof(w));
    memset((char *)&w + offsetof(struct dundi_answer, dest), 'x', DUNDI_MAX_DEST + 1);
    dundi_ieb_init(&b, 0);
    dundi_ie_put_answer(&b, &w.a);
    CHECK(dundi_ieb_error(&b) == DUNDI_E_VALUE_LONG && b.len == 0, "245-byte destination refused");

    /* encoding limits: capacity */
    dundi_ieb_init(&b, 20);
    for (int i = 0; i < 5; i++)
        dundi_ie_put_u16(&b, DUNDI_IE_TTL, 1);
    CHECK(dundi_ieb_error(&b) == 0 && b.len == 20, "exactly full");
    dundi_ie_put_empty(&b, DUNDI_IE_CACHEBYPASS);
    CHECK_INT(dundi_ieb_error(&b), DUNDI_E_NO_SPACE);
    dundi_ieb_init(&b, 30);
    dundi_ie_put_encdata(&b, zeros, zeros, 16);
    CHECK(dundi_ieb_error(&b) == DUNDI_E_NO_SPACE && b.len == 0, "ENCDATA past cap");
    dundi_ieb_init(&b, DUNDI_MAX_IES + 100);
    CHECK_INT(b.cap, DUNDI_MAX_IES);
    dundi_ieb_init(&b, 0);
    CHECK_INT(b.cap, DUNDI_MAX_IES);
    unsigned puts = 0;
    while (!dundi_ieb_error(&b) && puts < 100)
        dundi_ie_put_raw(&b, 99, zeros, 255), puts++;
    CHECK(dundi_ieb_error(&b) == DUNDI_E_NO_SPACE && puts == 32 && b.len == 31 * 257, "filled to %zu after %u puts",
          b.len, puts);
    size_t full = b.len;
    dundi_ie_put_empty(&b, DUNDI_IE_CACHEBYPASS); /* would fit, but the error is sticky */
    dundi_ie_put_eid(&b, DUNDI_IE_EID, &e);
    dundi_ie_put_encdata(&b, zeros, zeros, 0);
    dundi_ie_put_answer(&b, &ans);
    CHECK(dundi_ieb_error(&b) == DUNDI_E_NO_SPACE && b.len == full, "NO_SPACE is sticky");

    /* formatting into small buffers truncates safely */
    char small[16];
    memset(small, '#', sizeof(small));
    CHECK_INT(format(ex_discover + 8, sizeof(ex_discover) - 8, small, 10), 9);
    CHECK_STR(small, "{VERSION=");
    CHECK_INT(small[10], '#');
    CHECK_INT(format(ex_discover + 8, sizeof(ex_discover) - 8, small, 1), 0);
    CHECK_INT(small[0], '\0');
    CHECK_INT(format(ex_discover + 8, sizeof(ex_discover) - 8, small, 0), DUNDI_E_NO_SPACE);
}

/* ---- (d) random mutation ---- */

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint32_t rnd(uint32_t n) /* xorshift64*, uniform enough for fuzzing */
{
    rng ^= rng >> 12, rng ^= rng << 25, rng ^= rng >> 27;
    return (uint32_t)((rng * 0x2545f4914f6cdd1du) >> 32) % n;
}

static void test_fuzz(void)
{
    static uint8_t seeds[6][1024];
    size_t seedlen[6];
    static char out[32768];
    unsigned iters = 200000, bad = 0, ok = 0;
    eid_t e = mkeid("02:00:00:00:00:0a");
    uint8_t key[DUNDI_KEY_BYTES] = {1};

    memcpy(seeds[0], ex_discover, sizeof(ex_discover)), seedlen[0] = sizeof(ex_discover);
    memcpy(seeds[1], ex_response, sizeof(ex_response)), seedlen[1] = sizeof(ex_response);
    /* an encrypted first packet, a request with a path, an EIDRESPONSE, a CANCEL with CAUSE */
    for (int s = 2; s < 6; s++) {
        static const uint8_t cmds[] = {DUNDI_CMD_ENCRYPT, DUNDI_CMD_DPDISCOVER, DUNDI_CMD_EIDRESPONSE | 0x80,
                                       DUNDI_CMD_CANCEL | 0x80};
        dundi_hdr_encode(&(struct dundi_hdr){0x5678, (uint16_t)(s == 3 ? 0 : 0x1234), 0, 0, cmds[s - 2], 0},
                         seeds[s]);
        dundi_ieb_init(&b, sizeof(seeds[0]) - DUNDI_HDR_LEN);
        if (s == 2) {
            dundi_ie_put_eid(&b, DUNDI_IE_EID, &e);
            dundi_ie_put_raw(&b, DUNDI_IE_SHAREDKEY, key, sizeof(key));
            dundi_ie_put_raw(&b, DUNDI_IE_SIGNATURE, key, sizeof(key));
            dundi_ie_put_encdata(&b, key, key, 64);
        } else if (s == 3) {
            dundi_ie_put_u16(&b, DUNDI_IE_VERSION, 1);
            for (int i = 0; i < 4; i++)
                dundi_ie_put_eid(&b, i ? DUNDI_IE_EID : DUNDI_IE_EID_DIRECT, &e);
            dundi_ie_put_str(&b, DUNDI_IE_CALLED_NUMBER, "20000");
            dundi_ie_put_str(&b, DUNDI_IE_CALLED_CONTEXT, "priv");
            dundi_ie_put_u16(&b, DUNDI_IE_TTL, 1);
            dundi_ie_put_empty(&b, DUNDI_IE_CACHEBYPASS);
            dundi_ie_put_eid(&b, DUNDI_IE_REQEID, &e);
        } else if (s == 4) {
            for (uint8_t t = DUNDI_IE_DEPARTMENT; t <= DUNDI_IE_IPADDR; t++)
                dundi_ie_put_str(&b, t, "some text");
            dundi_ie_put_hint(&b, DUNDI_HINT_DONT_ASK, "12");
            dundi_ie_put_u32(&b, DUNDI_IE_KEYCRC32, 0x783bd49c);
        } else {
            dundi_ie_put_cause(&b, DUNDI_CAUSE_DUPLICATE, "Duplicate request");
            dundi_ie_put_raw(&b, DUNDI_IE_UNKNOWN, "\x0f", 1);
        }
        memcpy(seeds[s] + DUNDI_HDR_LEN, b.buf, b.len);
        seedlen[s] = DUNDI_HDR_LEN + b.len;
    }

    for (unsigned it = 0; it < iters; it++) {
        static uint8_t work[2048];
        int s = (int)rnd(6);
        size_t len = seedlen[s];
        memcpy(work, seeds[s], len);
        for (unsigned m = 1 + rnd(4); m; m--) {
            size_t pos = len ? rnd((uint32_t)len) : 0;
            switch (rnd(6)) {
            case 0: work[pos] ^= (uint8_t)(1u << rnd(8)); break;                  /* bit flip */
            case 1: work[pos] = (uint8_t)rnd(256); break;                         /* random byte */
            case 2: work[pos] = (const uint8_t[]){0, 1, 2, 5, 6, 11, 16, 128, 254, 255}[rnd(10)]; break;
            case 3: len = rnd((uint32_t)len + 1); break;                          /* truncate */
            case 4:                                                               /* insert bytes */
                if (len + 8 < sizeof(work)) {
                    size_t k = 1 + rnd(8);
                    memmove(work + pos + k, work + pos, len - pos);
                    for (size_t i = 0; i < k; i++)
                        work[pos + i] = (uint8_t)rnd(256);
                    len += k;
                }
                break;
            default:                                                              /* delete bytes */
                if (len) {
                    size_t k = 1 + rnd((uint32_t)(len - pos)); /* 1..len-pos */
                    memmove(work + pos, work + pos + k, len - pos - k);
                    len -= k;
                }
                break;
            }
        }
        uint8_t *pkt = dup_exact(work, len);
        struct dundi_hdr h;
        if (dundi_hdr_decode(pkt, len, &h) == 0) {
            size_t outlen = rnd(4) ? sizeof(out) : 1 + rnd(64);
            int rd = dundi_ies_decode(pkt + 8, len - 8, &ies);
            int rf = format(pkt + 8, len - 8, out, outlen);
            ok += rd == 0;
            if ((rd < 0) != (rf < 0) || (rf >= 0 && ((size_t)rf >= outlen || strlen(out) != (size_t)rf)) ||
                ies.eidcount > DUNDI_MAX_EIDS || ies.anscount > DUNDI_MAX_ANSWERS ||
                strlen(ies.called_number) > DUNDI_MAX_IE_VALUE ||
                (ies.anscount && strlen(ies.answers[0].dest) > DUNDI_MAX_DEST))
                bad++;
        }
        free(pkt);
    }
    CHECK(bad == 0, "%u of %u mutated packets gave inconsistent results", bad, iters);
    CHECK(ok > iters / 20 && ok < iters, "%u of %u mutated packets decoded cleanly", ok, iters);
}

/* ---- (e) EIDs ---- */

static void test_eid(void)
{
    eid_t e, f;
    char s[EID_STR_LEN], sh[EID_SHORT_LEN];

    CHECK_INT(eid_parse(&e, "00:11:22:33:44:55"), 0);
    CHECK(!memcmp(e.b, "\x00\x11\x22\x33\x44\x55", 6), "parsed bytes");
    CHECK_STR(eid_to_str(&e, s), "00:11:22:33:44:55");
    CHECK_STR(eid_to_short(&e, sh), "001122334455");
    CHECK_INT(eid_parse(&e, "AA:bb:Cc:dD:Ee:FF"), 0);
    CHECK_STR(eid_to_str(&e, s), "aa:bb:cc:dd:ee:ff");
    CHECK_STR(eid_to_short(&e, sh), "AABBCCDDEEFF");
    CHECK(!eid_is_zero(&e) && eid_parse(&f, "00:00:00:00:00:00") == 0 && eid_is_zero(&f), "eid_is_zero");

    unsigned rt = 0;
    for (unsigned i = 0; i < 1000; i++) {
        for (int k = 0; k < EID_LEN; k++)
            e.b[k] = (uint8_t)rnd(256);
        rt += eid_parse(&f, eid_to_str(&e, s)) == 0 && eid_equal(&e, &f) && strlen(s) == EID_STR_LEN - 1 &&
              strlen(eid_to_short(&e, sh)) == EID_SHORT_LEN - 1;
    }
    CHECK_INT(rt, 1000);

    static const char *const rejects[] = {
        "",
        "00:11:22:33:44",          /* too short */
        "00:11:22:33:44:5",        /* last group too short */
        "00:11:22:33:44:55:",      /* trailing junk */
        "00:11:22:33:44:55:66",    /* seven groups */
        "00:11:22:33:44:55 ",      /* trailing space */
        " 00:11:22:33:44:55",      /* leading space */
        "0g:11:22:33:44:55",       /* bad hex */
        "00:11:22:33:44:5z",       /* bad hex at the end */
        "00-11-22-33-44-55",       /* wrong separator */
        "0011:22:33:44:55:66",     /* missing colon */
        "001122334455",            /* short form is not accepted */
        "0:11:22:33:44:55",        /* one digit */
        "000:11:22:33:44:55",      /* three digits */
    };
    eid_t keep = mkeid("01:02:03:04:05:06");
    for (unsigned i = 0; i < sizeof(rejects) / sizeof(rejects[0]); i++) {
        e = keep;
        CHECK(eid_parse(&e, rejects[i]) == -1, "eid_parse accepted \"%s\"", rejects[i]);
    }
    eid_random(&e);
    CHECK((e.b[0] & 0x03) == 0x02, "eid_random is unicast, locally administered");
}

int main(int argc, char **argv)
{
    (void)argc, (void)argv;
    test_worked_example();
    test_roundtrip();
    test_hostile();
    test_fuzz();
    test_eid();
    return test_summary("wire");
}
