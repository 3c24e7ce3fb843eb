/* SIP REGISTER parser: real-looking requests and responses from common
 * stacks, RFC 3261 syntax corners (compact forms, folding, bare LF, star
 * contact, IPv6, tel:), and hostile input (every truncation, overlong
 * values, too many contacts, NUL, oversize, garbage).
 *
 * "test_sip --seeds DIR" writes the valid messages below as fuzz seeds. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dundid/sip.h"
#include "testutil.h"

/* ---- messages (written with "\n"; parse_msg turns that into CRLF) ------ */

/* Asterisk chan_sip registering outbound (register => in sip.conf). */
static const char ASTERISK_REG[] =
    "REGISTER sip:sip.provider.example SIP/2.0\n"
    "Via: SIP/2.0/UDP 10.10.10.5:5060;branch=z9hG4bK3f2a1b7c;rport\n"
    "Max-Forwards: 70\n"
    "From: <sip:1002@sip.provider.example>;tag=as5d3e1f0a\n"
    "To: <sip:1002@sip.provider.example>\n"
    "Call-ID: 0d1c2b3a4f5e6d7c8b9a0f1e2d3c4b5a@10.10.10.5\n"
    "CSeq: 102 REGISTER\n"
    "Supported: replaces, timer\n"
    "User-Agent: Asterisk PBX 16.28.0\n"
    "Authorization: Digest username=\"1002\", realm=\"asterisk\", algorithm=MD5, "
    "uri=\"sip:sip.provider.example\", nonce=\"5e8b7a1c\", response=\"6629fae49393a05397450978507c4ef1\"\n"
    "Expires: 120\n"
    "Contact: <sip:s@10.10.10.5:5060>\n"
    "Content-Length: 0\n"
    "\n";

/* Asterisk res_pjsip / pjsua. */
static const char PJSIP_REG[] =
    "REGISTER sip:pbx.example.com SIP/2.0\n"
    "Via: SIP/2.0/UDP 192.168.1.20:5060;rport;branch=z9hG4bKPj5a8e2b3c-4d1f-4e6a-9b7c-1d2e3f4a5b6c\n"
    "Max-Forwards: 70\n"
    "From: <sip:1003@pbx.example.com>;tag=8f4c2d1e-7b6a-4c3d-9e8f-0a1b2c3d4e5f\n"
    "To: <sip:1003@pbx.example.com>\n"
    "Call-ID: 3c2b1a09-8f7e-6d5c-4b3a-291807f6e5d4\n"
    "CSeq: 34071 REGISTER\n"
    "Contact: <sip:1003@192.168.1.20:5060;ob>\n"
    "Expires: 300\n"
    "Allow: PRACK, INVITE, ACK, BYE, CANCEL, UPDATE, INFO, SUBSCRIBE, NOTIFY, REFER, MESSAGE, OPTIONS\n"
    "User-Agent: PJSUA v2.13 Linux-6.1/x86_64/glibc-2.36\n"
    "Content-Length:  0\n"
    "\n";

/* Yealink: display name, +sip.instance with a quoted <urn:...>. */
static const char YEALINK_REG[] =
    "REGISTER sip:10.10.10.1:5060 SIP/2.0\n"
    "Via: SIP/2.0/UDP 10.10.10.63:5060;branch=z9hG4bK1842087462\n"
    "From: \"Reception\" <sip:1002@10.10.10.1:5060>;tag=1327384702\n"
    "To: \"Reception\" <sip:1002@10.10.10.1:5060>\n"
    "Call-ID: 1469483219@10.10.10.63\n"
    "CSeq: 1 REGISTER\n"
    "Contact: <sip:1002@10.10.10.63:5060>;reg-id=1;"
    "+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-805EC0A1B2C3>\"\n"
    "Max-Forwards: 70\n"
    "User-Agent: Yealink SIP-T46S 66.86.0.15\n"
    "Expires: 3600\n"
    "Allow: INVITE, INFO, PRACK, ACK, BYE, CANCEL, OPTIONS, NOTIFY, REGISTER, SUBSCRIBE, REFER, PUBLISH, "
    "UPDATE, MESSAGE\n"
    "Allow-Events: talk,hold,conference,refer,check-sync\n"
    "Content-Length: 0\n"
    "\n";

/* Polycom over TCP: a comma in the display name and a comma list in a quoted param. */
static const char POLYCOM_REG[] =
    "REGISTER sip:pbx.example.com SIP/2.0\n"
    "Via: SIP/2.0/TCP 10.10.10.71;branch=z9hG4bK8c1b2a3d-e4f5;rport\n"
    "From: \"Smith, John\" <sip:1004@pbx.example.com>;tag=A1B2C3D4-E5F6\n"
    "To: \"Smith, John\" <sip:1004@pbx.example.com>\n"
    "CSeq: 1 REGISTER\n"
    "Call-ID: 9f8e7d6c-5b4a3928-17060504@10.10.10.71\n"
    "Contact: \"Smith, John\" <sip:1004@10.10.10.71:5060;transport=tcp>;methods=\"INVITE, ACK, BYE, "
    "CANCEL, OPTIONS, INFO, MESSAGE, SUBSCRIBE, NOTIFY, PRACK, UPDATE, REFER\";"
    "+sip.instance=\"<urn:uuid:0004f2a1-b2c3-d4e5-f6a7-0004f2a1b2c3>\";reg-id=1;expires=600\n"
    "User-Agent: PolycomVVX-VVX_411-UA/6.4.3.5018\n"
    "Accept-Language: en\n"
    "Supported: 100rel,replaces,outbound,gruu\n"
    "Max-Forwards: 70\n"
    "Content-Length: 0\n"
    "\n";

/* Relayed by Kamailio: its own Via on top, the phone's below, Path added. */
static const char KAMAILIO_REG[] =
    "REGISTER sip:registrar.example.com SIP/2.0\n"
    "Via: SIP/2.0/UDP 203.0.113.10:5080;branch=z9hG4bKcydzigwkX\n"
    "Via: SIP/2.0/UDP 10.10.10.63:5060;received=198.51.100.7;rport=40123;branch=z9hG4bK1842087462\n"
    "Path: <sip:203.0.113.10:5080;lr;received=sip:198.51.100.7:40123>\n"
    "From: <sip:1002@registrar.example.com>;tag=1327384702\n"
    "To: <sip:1002@registrar.example.com>\n"
    "Call-ID: 1469483219@10.10.10.63\n"
    "CSeq: 3 REGISTER\n"
    "Contact: <sip:1002@10.10.10.63:5060>;expires=3600\n"
    "Max-Forwards: 69\n"
    "Content-Length: 0\n"
    "\n";

/* Same relay, with both Vias folded into one comma-separated header. */
static const char KAMAILIO_ONEVIA[] =
    "REGISTER sip:registrar.example.com SIP/2.0\n"
    "Via: SIP/2.0/UDP 203.0.113.10;branch=z9hG4bKtop, SIP/2.0/UDP 10.10.10.63:5060;branch=z9hG4bKphone\n"
    "From: <sip:1002@registrar.example.com>;tag=1\n"
    "To: <sip:1002@registrar.example.com>\n"
    "Call-ID: onevia@10.10.10.63\n"
    "CSeq: 4 REGISTER\n"
    "Contact: <sip:1002@10.10.10.63:5060>\n"
    "\n";

/* The registrar's authoritative list: several Contacts, each with its own expiry. */
static const char OK_MULTI[] =
    "SIP/2.0 200 OK\n"
    "Via: SIP/2.0/UDP 10.10.10.63:5060;branch=z9hG4bK1842087462;received=10.10.10.63;rport=5060\n"
    "From: \"Reception\" <sip:1002@10.10.10.1>;tag=1327384702\n"
    "To: \"Reception\" <sip:1002@10.10.10.1>;tag=as0e7a1b2c\n"
    "Call-ID: 1469483219@10.10.10.63\n"
    "CSeq: 2 REGISTER\n"
    "Contact: <sip:1002@10.10.10.63:5060>;expires=3600;q=0.9, "
    "<sip:1002@10.10.10.64:5062;transport=tcp>;expires=120\n"
    "Contact: <sip:1002@[2001:db8::63]:5060>;expires=60;q=1.0\n"
    "Contact: sip:1002@10.10.10.65\n"
    "Date: Mon, 03 Mar 2025 10:00:00 GMT\n"
    "Server: Asterisk PBX 18.20.0\n"
    "Expires: 1800\n"
    "Content-Length: 0\n"
    "\n";

static const char UNAUTH_401[] =
    "SIP/2.0 401 Unauthorized\n"
    "Via: SIP/2.0/UDP 10.10.10.63:5060;branch=z9hG4bK1842087461;received=10.10.10.63;rport=5060\n"
    "From: \"Reception\" <sip:1002@10.10.10.1>;tag=1327384702\n"
    "To: \"Reception\" <sip:1002@10.10.10.1>;tag=as1d2c3b4a\n"
    "Call-ID: 1469483219@10.10.10.63\n"
    "CSeq: 1 REGISTER\n"
    "Server: Asterisk PBX 18.20.0\n"
    "Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, SUBSCRIBE, NOTIFY, INFO, PUBLISH, MESSAGE\n"
    "Supported: replaces, timer\n"
    "WWW-Authenticate: Digest algorithm=MD5, realm=\"asterisk\", nonce=\"1a2b3c4d\"\n"
    "Content-Length: 0\n"
    "\n";

static const char FORBIDDEN_403[] =
    "SIP/2.0 403 Forbidden\n"
    "Via: SIP/2.0/UDP 10.10.10.63:5060;branch=z9hG4bK1842087463\n"
    "From: <sip:1002@10.10.10.1>;tag=1327384702\n"
    "To: <sip:1002@10.10.10.1>;tag=as77\n"
    "Call-ID: 1469483219@10.10.10.63\n"
    "CSeq: 3 REGISTER\n"
    "Content-Length: 0\n"
    "\n";

static const char UNREGISTER[] =
    "REGISTER sip:10.10.10.1 SIP/2.0\n"
    "Via: SIP/2.0/UDP 10.10.10.63:5060;branch=z9hG4bK99\n"
    "From: <sip:1002@10.10.10.1>;tag=77\n"
    "To: <sip:1002@10.10.10.1>\n"
    "Call-ID: 1469483219@10.10.10.63\n"
    "CSeq: 9 REGISTER\n"
    "Contact: <sip:1002@10.10.10.63:5060>\n"
    "Expires: 0\n"
    "Content-Length: 0\n"
    "\n";

static const char STAR_UNREG[] =
    "REGISTER sip:10.10.10.1 SIP/2.0\n"
    "Via: SIP/2.0/UDP 10.10.10.63:5060;branch=z9hG4bK100\n"
    "From: <sip:1002@10.10.10.1>;tag=78\n"
    "To: <sip:1002@10.10.10.1>\n"
    "Call-ID: star@10.10.10.63\n"
    "CSeq: 10 REGISTER\n"
    "Contact: *\n"
    "Expires: 0\n"
    "Content-Length: 0\n"
    "\n";

static const char COMPACT[] =
    "REGISTER sip:example.com SIP/2.0\n"
    "v: SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKc1\n"
    "f: <sip:2001@example.com>;tag=x1\n"
    "t: sip:2001@example.com\n"
    "i: c1@10.0.0.5\n"
    "CSeq: 7 REGISTER\n"
    "m: sip:2001@10.0.0.5:5070;expires=90;q=0.5, \"Desk\" <sip:2001@10.0.0.6>\n"
    "l: 0\n"
    "\n";

/* LWS folding (RFC 3261 7.3.1): continuation lines start with SP or HTAB. */
static const char FOLDED[] =
    "REGISTER sip:example.com SIP/2.0\n"
    "Via: SIP/2.0/UDP 10.0.0.5:5062\n"
    " ;branch=z9hG4bKfold\n"
    "From: <sip:2002@example.com>\n"
    "\t;tag=f1\n"
    "To:\n"
    "   <sip:2002@example.com>\n"
    "Call-ID: fold@10.0.0.5\n"
    "CSeq:\n"
    " 8\n"
    " REGISTER\n"
    "Contact: <sip:2002@10.0.0.6>;expires=30,\n"
    "\t<sip:2002@10.0.0.7>\n"
    "User-Agent: Foo\n"
    "   Bar/1.0\n"
    "\n";

/* Case variations: header names, compact letters, scheme and param names,
 * version string; the method itself is case-sensitive. */
static const char CASES[] =
    "REGISTER SIP:example.com sip/2.0\n"
    "VIA: sip/2.0/udp 10.0.0.9:5070;BRANCH=z9hG4bKcase\n"
    "FROM: <SIP:3001@example.com>;TAG=a\n"
    "tO: <SIPS:3001@Example.COM>\n"
    "call-id: case@10.0.0.9\n"
    "cseq: 11 REGISTER\n"
    "CONTACT: <sip:3001@10.0.0.9:5070>;EXPIRES=45;Q=0.25\n"
    "M: <sip:3001@10.0.0.10>\n"
    "expires: 600\n"
    "user-AGENT: Case/1\n"
    "\n";

static const char IPV6[] =
    "REGISTER sip:[2001:db8::1] SIP/2.0\n"
    "Via: SIP/2.0/UDP [2001:db8::1002]:5070;branch=z9hG4bKv6;rport\n"
    "From: <sip:1002@[2001:db8::1]>;tag=v6\n"
    "To: <sip:1002@[2001:db8::1]>\n"
    "Call-ID: v6@2001:db8::1002\n"
    "CSeq: 1 REGISTER\n"
    "Contact: <sip:1002@[2001:db8::1]:5060>;expires=300\n"
    "Contact: sip:1002@[2001:db8::1002]:5070;expires=200\n"
    "\n";

static const char TEL[] =
    "REGISTER sip:gw.example.com SIP/2.0\n"
    "Via: SIP/2.0/TLS gw.example.com;branch=z9hG4bKtel\n"
    "From: <tel:+1-555-123-4567>;tag=t\n"
    "To: <tel:+15551234567;phone-context=example.com>\n"
    "Call-ID: tel@gw.example.com\n"
    "CSeq: 1 REGISTER\n"
    "Contact: <sip:+15551234567@gw.example.com;user=phone>\n"
    "\n";

/* SIPp's REGISTER scenario template, filled in. */
static const char SIPP_REG[] =
    "REGISTER sip:127.0.0.1 SIP/2.0\n"
    "Via: SIP/2.0/UDP 127.0.1.1:5061;branch=z9hG4bK-12345-1-0\n"
    "From: <sip:sipp@sip.com>;tag=12345SIPpTag001\n"
    "To: <sip:sipp@sip.com>\n"
    "Call-ID: 1-12345@127.0.1.1\n"
    "CSeq: 1 REGISTER\n"
    "Contact: sip:sipp@127.0.1.1:5061\n"
    "Max-Forwards: 10\n"
    "Expires: 120\n"
    "User-Agent: SIPp/Linux\n"
    "Content-Length: 0\n"
    "\n";

/* A body after the blank line is ignored, whatever it holds. */
static const char WITH_BODY[] =
    "REGISTER sip:example.com SIP/2.0\n"
    "Via: SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKb\n"
    "From: <sip:2003@example.com>;tag=b\n"
    "To: <sip:2003@example.com>\n"
    "Call-ID: body@10.0.0.5\n"
    "CSeq: 1 REGISTER\n"
    "Content-Type: text/plain\n"
    "Content-Length: 11\n"
    "\n"
    "hello\nworld";

struct named {
    const char *name, *text;
};

static const struct named valid_msgs[] = {
    {"asterisk-register", ASTERISK_REG}, {"pjsip-register", PJSIP_REG},
    {"yealink-register", YEALINK_REG},   {"polycom-register", POLYCOM_REG},
    {"kamailio-relayed", KAMAILIO_REG},  {"kamailio-one-via", KAMAILIO_ONEVIA},
    {"200-multi-contact", OK_MULTI},     {"401-unauthorized", UNAUTH_401},
    {"403-forbidden", FORBIDDEN_403},    {"unregister", UNREGISTER},
    {"star-unregister", STAR_UNREG},     {"compact", COMPACT},
    {"folded", FOLDED},                  {"case-variations", CASES},
    {"ipv6", IPV6},                      {"tel", TEL},
    {"sipp-register", SIPP_REG},         {"with-body", WITH_BODY},
};
#define NVALID (sizeof(valid_msgs) / sizeof(valid_msgs[0]))

/* ---- helpers ------------------------------------------------------------ */

static char wire[80000];

/* "\n" -> "\r\n" into wire[]; returns the length. */
static size_t to_crlf(const char *text)
{
    size_t n = 0;
    for (const char *p = text; *p && n + 2 < sizeof(wire); p++) {
        if (*p == '\n')
            wire[n++] = '\r';
        wire[n++] = *p;
    }
    wire[n] = '\0';
    return n;
}

/* Parses an exact-size heap copy, so ASan flags any read past the end. */
static int parse_raw(const char *buf, size_t len, struct sip_msg *m)
{
    char *copy = malloc(len ? len : 1);
    if (!copy) {
        perror("malloc");
        exit(2);
    }
    if (len)
        memcpy(copy, buf, len);
    int rc = sip_parse(copy, len, m);
    free(copy);
    return rc;
}

static int parse_msg(const char *text, struct sip_msg *m)
{
    size_t n = to_crlf(text);
    return parse_raw(wire, n, m);
}

/* Replace the first occurrence of FROM in TEXT with TO (into edit[]). */
static char edit[80000];
static const char *subst(const char *text, const char *from, const char *to)
{
    static char src[80000]; /* text may be edit[] itself (nested subst) */
    snprintf(src, sizeof(src), "%s", text);
    text = src;
    const char *p = strstr(text, from);
    if (!p) {
        CHECK(0, "subst: \"%s\" not found", from);
        snprintf(edit, sizeof(edit), "%s", text);
        return edit;
    }
    snprintf(edit, sizeof(edit), "%.*s%s%s", (int)(p - text), text, to, p + strlen(from));
    return edit;
}

static struct sip_msg m; /* big: keep it off the stack */

/* ---- real-looking messages ---------------------------------------------- */

static void test_asterisk(void)
{
    CHECK_INT(parse_msg(ASTERISK_REG, &m), SIP_OK);
    CHECK(m.is_request, "request");
    CHECK_INT(m.status, 0);
    CHECK_STR(m.method, "REGISTER");
    CHECK_STR(m.request_uri, "sip:sip.provider.example");
    CHECK_STR(m.call_id, "0d1c2b3a4f5e6d7c8b9a0f1e2d3c4b5a@10.10.10.5");
    CHECK_INT(m.cseq, 102);
    CHECK_STR(m.cseq_method, "REGISTER");
    CHECK_STR(m.to_uri, "sip:1002@sip.provider.example");
    CHECK_STR(m.to_user, "1002");
    CHECK_STR(m.from_uri, "sip:1002@sip.provider.example");
    CHECK_STR(m.via_transport, "UDP");
    CHECK_STR(m.via_host, "10.10.10.5");
    CHECK_INT(m.via_port, 5060);
    CHECK_STR(m.via_branch, "z9hG4bK3f2a1b7c");
    CHECK_INT(m.expires, 120);
    CHECK_STR(m.user_agent, "Asterisk PBX 16.28.0");
    if (CHECK(m.ncontacts == 1, "ncontacts %u", m.ncontacts)) {
        CHECK_STR(m.contacts[0].uri, "sip:s@10.10.10.5:5060");
        CHECK_INT(m.contacts[0].expires, -1);
        CHECK_INT(m.contacts[0].q, -1);
        CHECK(!m.contacts[0].star, "not star");
        CHECK_INT(sip_contact_expires(&m, 0, 3600), 120);
    }
}

static void test_pjsip(void)
{
    CHECK_INT(parse_msg(PJSIP_REG, &m), SIP_OK);
    CHECK_STR(m.via_host, "192.168.1.20");
    CHECK_STR(m.via_branch, "z9hG4bKPj5a8e2b3c-4d1f-4e6a-9b7c-1d2e3f4a5b6c");
    CHECK_INT(m.cseq, 34071);
    CHECK_STR(m.to_user, "1003");
    CHECK_STR(m.call_id, "3c2b1a09-8f7e-6d5c-4b3a-291807f6e5d4");
    CHECK_INT(m.ncontacts, 1);
    CHECK_STR(m.contacts[0].uri, "sip:1003@192.168.1.20:5060;ob");
    CHECK_INT(sip_contact_expires(&m, 0, 3600), 300);
    CHECK_STR(m.user_agent, "PJSUA v2.13 Linux-6.1/x86_64/glibc-2.36");
}

static void test_phones(void)
{
    CHECK_INT(parse_msg(YEALINK_REG, &m), SIP_OK);
    CHECK_STR(m.request_uri, "sip:10.10.10.1:5060");
    CHECK_STR(m.to_uri, "sip:1002@10.10.10.1:5060");
    CHECK_STR(m.to_user, "1002");
    CHECK_STR(m.from_uri, "sip:1002@10.10.10.1:5060");
    if (CHECK(m.ncontacts == 1, "yealink ncontacts %u", m.ncontacts)) {
        CHECK_STR(m.contacts[0].uri, "sip:1002@10.10.10.63:5060");
        CHECK_INT(m.contacts[0].expires, -1);
    }
    CHECK_INT(m.expires, 3600);
    CHECK_INT(sip_contact_expires(&m, 0, 60), 3600);
    CHECK_STR(m.user_agent, "Yealink SIP-T46S 66.86.0.15");

    CHECK_INT(parse_msg(POLYCOM_REG, &m), SIP_OK);
    CHECK_STR(m.via_transport, "TCP");
    CHECK_STR(m.via_host, "10.10.10.71");
    CHECK_INT(m.via_port, 5060); /* no port in sent-by */
    CHECK_STR(m.via_branch, "z9hG4bK8c1b2a3d-e4f5");
    CHECK_STR(m.to_uri, "sip:1004@pbx.example.com");
    CHECK_STR(m.to_user, "1004");
    if (CHECK(m.ncontacts == 1, "polycom ncontacts %u (commas in quotes must not split)", m.ncontacts)) {
        CHECK_STR(m.contacts[0].uri, "sip:1004@10.10.10.71:5060;transport=tcp");
        CHECK_INT(m.contacts[0].expires, 600);
    }
    CHECK_INT(m.expires, -1);
    CHECK_INT(sip_contact_expires(&m, 0, 3600), 600);
}

static void test_relayed(void)
{
    CHECK_INT(parse_msg(KAMAILIO_REG, &m), SIP_OK);
    /* the top Via is the proxy's */
    CHECK_STR(m.via_host, "203.0.113.10");
    CHECK_INT(m.via_port, 5080);
    CHECK_STR(m.via_branch, "z9hG4bKcydzigwkX");
    CHECK_INT(m.cseq, 3);
    CHECK_INT(m.ncontacts, 1);
    CHECK_INT(sip_contact_expires(&m, 0, 1), 3600);

    CHECK_INT(parse_msg(KAMAILIO_ONEVIA, &m), SIP_OK);
    CHECK_STR(m.via_host, "203.0.113.10");
    CHECK_INT(m.via_port, 5060);
    CHECK_STR(m.via_branch, "z9hG4bKtop");
    CHECK_INT(sip_contact_expires(&m, 0, 3600), 3600); /* neither given: the default */
    CHECK_INT(sip_contact_expires(&m, 0, 900), 900);
}

static void test_responses(void)
{
    CHECK_INT(parse_msg(OK_MULTI, &m), SIP_OK);
    CHECK(!m.is_request, "response");
    CHECK_INT(m.status, 200);
    CHECK_STR(m.method, "REGISTER");
    CHECK_STR(m.request_uri, "");
    CHECK_STR(m.to_uri, "sip:1002@10.10.10.1");
    CHECK_STR(m.to_user, "1002");
    CHECK_INT(m.cseq, 2);
    CHECK_INT(m.expires, 1800);
    if (CHECK(m.ncontacts == 4, "200 ncontacts %u", m.ncontacts)) {
        CHECK_STR(m.contacts[0].uri, "sip:1002@10.10.10.63:5060");
        CHECK_INT(m.contacts[0].expires, 3600);
        CHECK_INT(m.contacts[0].q, 900);
        CHECK_STR(m.contacts[1].uri, "sip:1002@10.10.10.64:5062;transport=tcp");
        CHECK_INT(m.contacts[1].expires, 120);
        CHECK_INT(m.contacts[1].q, -1);
        CHECK_STR(m.contacts[2].uri, "sip:1002@[2001:db8::63]:5060");
        CHECK_INT(m.contacts[2].expires, 60);
        CHECK_INT(m.contacts[2].q, 1000);
        CHECK_STR(m.contacts[3].uri, "sip:1002@10.10.10.65");
        CHECK_INT(sip_contact_expires(&m, 0, 5), 3600);
        CHECK_INT(sip_contact_expires(&m, 1, 5), 120);
        CHECK_INT(sip_contact_expires(&m, 2, 5), 60);
        CHECK_INT(sip_contact_expires(&m, 3, 5), 1800); /* falls back to Expires */
        CHECK_INT(sip_contact_expires(&m, 4, 5), -1);
    }

    CHECK_INT(parse_msg(UNAUTH_401, &m), SIP_OK);
    CHECK_INT(m.status, 401);
    CHECK_STR(m.method, "REGISTER");
    CHECK_INT(m.ncontacts, 0);
    CHECK_INT(m.expires, -1);
    CHECK_STR(m.via_branch, "z9hG4bK1842087461");

    CHECK_INT(parse_msg(FORBIDDEN_403, &m), SIP_OK);
    CHECK_INT(m.status, 403);
    CHECK_STR(m.call_id, "1469483219@10.10.10.63");

    /* the status line's reason phrase may be empty or missing */
    CHECK_INT(parse_msg(subst(FORBIDDEN_403, "403 Forbidden", "403 "), &m), SIP_OK);
    CHECK_INT(parse_msg(subst(FORBIDDEN_403, "403 Forbidden", "403"), &m), SIP_OK);
    CHECK_INT(m.status, 403);
    /* a response need not have a Via for us */
    CHECK_INT(parse_msg(subst(FORBIDDEN_403, "Via: SIP/2.0/UDP 10.10.10.63:5060;branch=z9hG4bK1842087463\n", ""),
                        &m),
              SIP_OK);
}

static void test_unregister(void)
{
    CHECK_INT(parse_msg(UNREGISTER, &m), SIP_OK);
    CHECK_INT(m.expires, 0);
    CHECK_INT(m.ncontacts, 1);
    CHECK_INT(sip_contact_expires(&m, 0, 3600), 0);

    CHECK_INT(parse_msg(STAR_UNREG, &m), SIP_OK);
    if (CHECK(m.ncontacts == 1, "star ncontacts %u", m.ncontacts)) {
        CHECK(m.contacts[0].star, "star");
        CHECK_STR(m.contacts[0].uri, "");
        CHECK_INT(m.contacts[0].expires, -1);
    }
    CHECK_INT(m.expires, 0);
    CHECK_INT(sip_contact_expires(&m, 0, 3600), 0);

    /* star without Expires: 0 is recorded all the same; the caller rejects it */
    CHECK_INT(parse_msg(subst(STAR_UNREG, "Expires: 0\n", ""), &m), SIP_OK);
    CHECK(m.ncontacts == 1 && m.contacts[0].star, "star kept");
    CHECK_INT(m.expires, -1);
    /* star with trailing space; a second Contact header next to it is recorded too */
    CHECK_INT(parse_msg(subst(STAR_UNREG, "Contact: *\n", "Contact:   *  \nContact: <sip:a@b>\n"), &m), SIP_OK);
    CHECK_INT(m.ncontacts, 2);
    /* but "*" is not a list element */
    CHECK_INT(parse_msg(subst(STAR_UNREG, "Contact: *\n", "Contact: *, <sip:a@b>\n"), &m), SIP_E_HEADER);
    CHECK_INT(parse_msg(subst(STAR_UNREG, "Contact: *\n", "Contact: <sip:a@b>, *\n"), &m), SIP_E_HEADER);
    CHECK_INT(parse_msg(subst(STAR_UNREG, "Contact: *\n", "Contact: *;expires=0\n"), &m), SIP_E_HEADER);
    /* "*x" is a token display name, not a star */
    CHECK_INT(parse_msg(subst(STAR_UNREG, "Contact: *\n", "Contact: *x <sip:a@b>\n"), &m), SIP_OK);
    CHECK(m.ncontacts == 1 && !m.contacts[0].star, "*x display name");
    CHECK_STR(m.contacts[0].uri, "sip:a@b");
}

static void test_compact_and_folding(void)
{
    CHECK_INT(parse_msg(COMPACT, &m), SIP_OK);
    CHECK_STR(m.via_host, "10.0.0.5");
    CHECK_STR(m.via_branch, "z9hG4bKc1");
    CHECK_STR(m.from_uri, "sip:2001@example.com");
    CHECK_STR(m.to_uri, "sip:2001@example.com");
    CHECK_STR(m.to_user, "2001");
    CHECK_STR(m.call_id, "c1@10.0.0.5");
    if (CHECK(m.ncontacts == 2, "compact ncontacts %u", m.ncontacts)) {
        CHECK_STR(m.contacts[0].uri, "sip:2001@10.0.0.5:5070"); /* addr-spec: params are the header's */
        CHECK_INT(m.contacts[0].expires, 90);
        CHECK_INT(m.contacts[0].q, 500);
        CHECK_STR(m.contacts[1].uri, "sip:2001@10.0.0.6");
        CHECK_INT(m.contacts[1].expires, -1);
    }

    CHECK_INT(parse_msg(FOLDED, &m), SIP_OK);
    CHECK_INT(m.via_port, 5062);
    CHECK_STR(m.via_branch, "z9hG4bKfold");
    CHECK_STR(m.from_uri, "sip:2002@example.com");
    CHECK_STR(m.to_uri, "sip:2002@example.com");
    CHECK_INT(m.cseq, 8);
    CHECK_STR(m.cseq_method, "REGISTER");
    if (CHECK(m.ncontacts == 2, "folded ncontacts %u", m.ncontacts)) {
        CHECK_STR(m.contacts[0].uri, "sip:2002@10.0.0.6");
        CHECK_INT(m.contacts[0].expires, 30);
        CHECK_STR(m.contacts[1].uri, "sip:2002@10.0.0.7");
    }
    CHECK_STR(m.user_agent, "Foo Bar/1.0");

    /* bare LF line endings, as the table is written */
    size_t n = strlen(FOLDED);
    CHECK_INT(parse_raw(FOLDED, n, &m), SIP_OK);
    CHECK_STR(m.user_agent, "Foo Bar/1.0");
    CHECK_INT(parse_raw(POLYCOM_REG, strlen(POLYCOM_REG), &m), SIP_OK);
    CHECK_STR(m.contacts[0].uri, "sip:1004@10.10.10.71:5060;transport=tcp");
    CHECK_INT(parse_raw(OK_MULTI, strlen(OK_MULTI), &m), SIP_OK);
    CHECK_INT(m.ncontacts, 4);

    /* mixed endings: CRLF lines, then a bare LF blank line */
    n = to_crlf(SIPP_REG);
    wire[n - 2] = '\n';
    CHECK_INT(parse_raw(wire, n - 1, &m), SIP_OK);
    CHECK_STR(m.user_agent, "SIPp/Linux");

    /* a continuation line with nothing before it */
    CHECK_INT(parse_msg("REGISTER sip:a SIP/2.0\n folded: x\n\n", &m), SIP_E_HEADER);
    /* a fold between the name and the colon is not allowed */
    CHECK_INT(parse_msg(subst(SIPP_REG, "Max-Forwards: 10", "Max-Forwards\n : 10"), &m), SIP_E_HEADER);
    /* but SP/HTAB before the colon is */
    CHECK_INT(parse_msg(subst(SIPP_REG, "Call-ID: ", "Call-ID \t: "), &m), SIP_OK);
    CHECK_STR(m.call_id, "1-12345@127.0.1.1");
}

static void test_cases(void)
{
    CHECK_INT(parse_msg(CASES, &m), SIP_OK);
    CHECK_STR(m.request_uri, "SIP:example.com");
    CHECK_STR(m.via_transport, "UDP");
    CHECK_STR(m.via_host, "10.0.0.9");
    CHECK_INT(m.via_port, 5070);
    CHECK_STR(m.via_branch, "z9hG4bKcase");
    CHECK_STR(m.to_uri, "SIPS:3001@Example.COM");
    CHECK_STR(m.to_user, "3001");
    CHECK_STR(m.call_id, "case@10.0.0.9");
    CHECK_INT(m.cseq, 11);
    CHECK_INT(m.expires, 600);
    CHECK_STR(m.user_agent, "Case/1");
    if (CHECK(m.ncontacts == 2, "case ncontacts %u", m.ncontacts)) {
        CHECK_INT(m.contacts[0].expires, 45);
        CHECK_INT(m.contacts[0].q, 250);
        CHECK_INT(sip_contact_expires(&m, 1, 1), 600);
    }
    /* method names are case-sensitive (RFC 3261 7.1) */
    CHECK_INT(parse_msg(subst(CASES, "REGISTER SIP:", "register SIP:"), &m), SIP_E_NOT_REGISTER);
    CHECK_INT(parse_msg(subst(CASES, "cseq: 11 REGISTER", "cseq: 11 register"), &m), SIP_E_HEADER);
}

static void test_ipv6_tel(void)
{
    CHECK_INT(parse_msg(IPV6, &m), SIP_OK);
    CHECK_STR(m.request_uri, "sip:[2001:db8::1]");
    CHECK_STR(m.via_host, "[2001:db8::1002]");
    CHECK_INT(m.via_port, 5070);
    CHECK_STR(m.via_branch, "z9hG4bKv6");
    CHECK_STR(m.to_user, "1002");
    if (CHECK(m.ncontacts == 2, "v6 ncontacts %u", m.ncontacts)) {
        CHECK_STR(m.contacts[0].uri, "sip:1002@[2001:db8::1]:5060");
        CHECK_INT(m.contacts[0].expires, 300);
        CHECK_STR(m.contacts[1].uri, "sip:1002@[2001:db8::1002]:5070");
        CHECK_INT(m.contacts[1].expires, 200);
    }
    char s[64];
    CHECK_INT(sip_uri_strip(m.contacts[0].uri, s, sizeof(s)), 0);
    CHECK_STR(s, "1002@[2001:db8::1]:5060");
    /* IPv6 Via without a port */
    CHECK_INT(parse_msg(subst(IPV6, "[2001:db8::1002]:5070", "[::1]"), &m), SIP_OK);
    CHECK_STR(m.via_host, "[::1]");
    CHECK_INT(m.via_port, 5060);
    CHECK_INT(parse_msg(subst(IPV6, "[2001:db8::1002]:5070", "[2001:db8::1002"), &m), SIP_E_HEADER);
    CHECK_INT(parse_msg(subst(IPV6, "[2001:db8::1002]:5070", "[]"), &m), SIP_E_HEADER);
    CHECK_INT(parse_msg(subst(IPV6, "[2001:db8::1002]:5070", "[zz::1]"), &m), SIP_E_HEADER);

    CHECK_INT(parse_msg(TEL, &m), SIP_OK);
    CHECK_STR(m.to_uri, "tel:+15551234567;phone-context=example.com");
    CHECK_STR(m.to_user, "+15551234567");
    CHECK_STR(m.from_uri, "tel:+1-555-123-4567");
    CHECK_STR(m.via_transport, "TLS");
    CHECK_STR(m.via_host, "gw.example.com");
    CHECK_INT(m.via_port, 5061); /* TLS default port */
    CHECK_STR(m.contacts[0].uri, "sip:+15551234567@gw.example.com;user=phone");
    CHECK_INT(parse_msg(subst(TEL, "<tel:+15551234567;phone-context=example.com>", "tel:+4930123"), &m), SIP_OK);
    CHECK_STR(m.to_user, "+4930123");
}

static void test_to_user(void)
{
    static const struct {
        const char *to, *user;
        int rc;
    } cases[] = {
        {"<sip:1002@example.com>", "1002", SIP_OK},
        {"sip:1002@example.com;tag=x", "1002", SIP_OK},
        {"<sips:alice@example.com:5061;transport=tls>", "alice", SIP_OK},
        {"<sip:alice:secret@example.com>", "alice", SIP_OK},
        {"<sip:example.com>", "", SIP_OK},
        {"<sip:%31002@example.com>", "1002", SIP_OK},
        {"<sip:a%2cb@example.com>", "a,b", SIP_OK},
        {"<sip:+1555;phone-context=x@example.com;user=phone>", "+1555;phone-context=x", SIP_OK},
        {"<tel:911>", "911", SIP_OK},
        {"<urn:service:sos>", "", SIP_OK},
        {"Bob Smith <sip:bob@example.com>", "bob", SIP_OK},
        {"\"B\\\"o,b\" <sip:bob@example.com>", "bob", SIP_OK},
        {"\xc3\x9c" "ber <sip:ueber@example.com>", "ueber", SIP_OK},
        {"<sip:a%00b@example.com>", "", SIP_E_HEADER},
        {"<sip:a%0db@example.com>", "", SIP_E_HEADER},
        {"<sip:a%4@example.com>", "", SIP_E_HEADER},
        {"<sip:a%zz@example.com>", "", SIP_E_HEADER},
        {"<sip:1002@example.com", "", SIP_E_HEADER},
        {"\"Bob <sip:bob@example.com>", "", SIP_E_HEADER},
        {"\"Bob\" sip:bob@example.com", "", SIP_E_HEADER},
        {"<1002@example.com>", "", SIP_E_HEADER},
        {"<sip:>", "", SIP_E_HEADER},
        {"<>", "", SIP_E_HEADER},
        {"", "", SIP_E_HEADER},
        {"<sip:a@b>, <sip:c@d>", "", SIP_E_HEADER},
        {"<sip:a@b> junk", "", SIP_E_HEADER},
        {"<sip:a@b>;tag", "a", SIP_OK},
        {"<sip:a@b>;tag=", "", SIP_E_HEADER},
        {"<sip:a@b>;=x", "", SIP_E_HEADER},
        {"<sip:a b@c>", "", SIP_E_HEADER},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char line[512];
        snprintf(line, sizeof(line), "To: %s\n", cases[i].to);
        int rc = parse_msg(subst(SIPP_REG, "To: <sip:sipp@sip.com>\n", line), &m);
        CHECK(rc == cases[i].rc, "To: %s -> %d, want %d", cases[i].to, rc, cases[i].rc);
        if (rc == SIP_OK && cases[i].rc == SIP_OK)
            CHECK(strcmp(m.to_user, cases[i].user) == 0, "To: %s -> user \"%s\", want \"%s\"", cases[i].to,
                  m.to_user, cases[i].user);
    }
}

static void test_contact_forms(void)
{
    static const struct {
        const char *contact;
        int rc;
        unsigned n;
        const char *uri0;
        int exp0, q0;
    } cases[] = {
        {"<sip:a@h>", SIP_OK, 1, "sip:a@h", -1, -1},
        {"sip:a@h;expires=60", SIP_OK, 1, "sip:a@h", 60, -1},
        {"sip:a@h ; expires = 60 ; q = 0.1", SIP_OK, 1, "sip:a@h", 60, 100},
        {"\"Bob\" <sip:a@h;transport=udp>;expires=60", SIP_OK, 1, "sip:a@h;transport=udp", 60, -1},
        {"\"Bob\"<sip:a@h>", SIP_OK, 1, "sip:a@h", -1, -1},
        {"Bob <sip:a@h;lr?X-Foo=a,b>;expires=5", SIP_OK, 1, "sip:a@h;lr?X-Foo=a,b", 5, -1},
        {"\"a, <b>\" <sip:a@h>, <sip:c@h>", SIP_OK, 2, "sip:a@h", -1, -1},
        {"<sip:a@h>;x=\"q,;<>\\\"\";expires=7", SIP_OK, 1, "sip:a@h", 7, -1},
        {"<sip:a@h>;expires=0", SIP_OK, 1, "sip:a@h", 0, -1},
        {"<sip:a@h>;expires=99999999999", SIP_OK, 1, "sip:a@h", 2147483647, -1},
        {"<sip:a@h>;expires=2147483647", SIP_OK, 1, "sip:a@h", 2147483647, -1},
        {"<sip:a@h>;expires=2147483648", SIP_OK, 1, "sip:a@h", 2147483647, -1},
        {"<sip:a@h>;expires=9999999999999999999", SIP_OK, 1, "sip:a@h", 2147483647, -1},
        {"<sip:a@h>;expires=184467440737095516160", SIP_OK, 1, "sip:a@h", 2147483647, -1},
        {"<sip:a@h>;expires=0000000000000000000000030", SIP_OK, 1, "sip:a@h", 30, -1},
        {"<sip:a@h>;expires=12a", SIP_OK, 1, "sip:a@h", 3600, -1},
        {"<sip:a@h>;expires=abc", SIP_OK, 1, "sip:a@h", 3600, -1},   /* malformed: 3600 */
        {"<sip:a@h>;expires", SIP_OK, 1, "sip:a@h", 3600, -1},
        {"<sip:a@h>;expires=\"Thu, 01 Dec 1994 16:00:00 GMT\"", SIP_OK, 1, "sip:a@h", 3600, -1},
        {"<sip:a@h>;q=0", SIP_OK, 1, "sip:a@h", -1, 0},
        {"<sip:a@h>;q=1", SIP_OK, 1, "sip:a@h", -1, 1000},
        {"<sip:a@h>;q=0.123", SIP_OK, 1, "sip:a@h", -1, 123},
        {"<sip:a@h>;q=1.000", SIP_OK, 1, "sip:a@h", -1, 1000},
        {"<sip:a@h>;q=1.5", SIP_E_HEADER, 0, "", 0, 0},
        {"<sip:a@h>;q=0.1234", SIP_E_HEADER, 0, "", 0, 0},
        {"<sip:a@h>;q=2", SIP_E_HEADER, 0, "", 0, 0},
        {"<sip:a@h>;q", SIP_E_HEADER, 0, "", 0, 0},
        {"<sip:a@h>;+sip.instance=\"<urn:uuid:1>\";reg-id=1, sip:b@h", SIP_OK, 2, "sip:a@h", -1, -1},
        {"  <sip:a@h>  ,  <sip:b@h>  ", SIP_OK, 2, "sip:a@h", -1, -1},
        {"<sip:a@h>,", SIP_E_HEADER, 0, "", 0, 0},
        {"<sip:a@h>,,<sip:b@h>", SIP_E_HEADER, 0, "", 0, 0},
        {",<sip:a@h>", SIP_E_HEADER, 0, "", 0, 0},
        {"", SIP_E_HEADER, 0, "", 0, 0},
        {"<sip:a@h", SIP_E_HEADER, 0, "", 0, 0},
        {"<sip:a@h>;x=\"open", SIP_E_HEADER, 0, "", 0, 0},
        {"<sip:a@h>;x=\"bs\\", SIP_E_HEADER, 0, "", 0, 0},
        {"<sip:a@h> <sip:b@h>", SIP_E_HEADER, 0, "", 0, 0},
        {"<sip:a@h>;", SIP_E_HEADER, 0, "", 0, 0},
        {"sip:a@h>", SIP_E_HEADER, 0, "", 0, 0},
        {"\"x\"", SIP_E_HEADER, 0, "", 0, 0},
        {"<mailto:a@h>", SIP_OK, 1, "mailto:a@h", -1, -1},
        {"<sip:a@[2001:db8::1]:5060;transport=udp>;expires=30", SIP_OK, 1, "sip:a@[2001:db8::1]:5060;transport=udp",
         30, -1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char line[512];
        snprintf(line, sizeof(line), "Contact: %s\n", cases[i].contact);
        int rc = parse_msg(subst(SIPP_REG, "Contact: sip:sipp@127.0.1.1:5061\n", line), &m);
        CHECK(rc == cases[i].rc, "Contact: %s -> %d, want %d", cases[i].contact, rc, cases[i].rc);
        if (rc != SIP_OK || cases[i].rc != SIP_OK)
            continue;
        CHECK(m.ncontacts == cases[i].n, "Contact: %s -> %u contacts, want %u", cases[i].contact, m.ncontacts,
              cases[i].n);
        CHECK(strcmp(m.contacts[0].uri, cases[i].uri0) == 0, "Contact: %s -> uri \"%s\", want \"%s\"",
              cases[i].contact, m.contacts[0].uri, cases[i].uri0);
        CHECK(m.contacts[0].expires == cases[i].exp0, "Contact: %s -> expires %d, want %d", cases[i].contact,
              m.contacts[0].expires, cases[i].exp0);
        CHECK(m.contacts[0].q == cases[i].q0, "Contact: %s -> q %d, want %d", cases[i].contact, m.contacts[0].q,
              cases[i].q0);
    }
}

static void test_via_forms(void)
{
    static const struct {
        const char *via;
        int rc;
        const char *host;
        unsigned port;
        const char *branch;
    } cases[] = {
        {"SIP/2.0/UDP h.example.com;branch=z9hG4bK1", SIP_OK, "h.example.com", 5060, "z9hG4bK1"},
        {"SIP / 2.0 / tcp h:5070 ; branch = z9hG4bK2 ; rport", SIP_OK, "h", 5070, "z9hG4bK2"},
        {"SIP/2.0/UDP 10.0.0.1:5060;rport=5062;received=192.0.2.1;branch=z9hG4bK3", SIP_OK, "10.0.0.1", 5060,
         "z9hG4bK3"},
        {"SIP/2.0/UDP 10.0.0.1;received=[2001:db8::9]", SIP_OK, "10.0.0.1", 5060, ""},
        {"SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bKws", SIP_OK, "df7jal23ls0d.invalid", 5060, "z9hG4bKws"},
        {"SIP/2.0/UDP 10.0.0.1:65535", SIP_OK, "10.0.0.1", 65535, ""},
        {"SIP/2.0/UDP 10.0.0.1:65536", SIP_E_HEADER, "", 0, ""},
        {"SIP/2.0/UDP 10.0.0.1:0", SIP_E_HEADER, "", 0, ""},
        {"SIP/2.0/UDP 10.0.0.1:", SIP_E_HEADER, "", 0, ""},
        {"SIP/2.0/UDP 10.0.0.1:5060000", SIP_E_HEADER, "", 0, ""},
        {"SIP/2.0/UDP 10.0.0.1:655350", SIP_E_HEADER, "", 0, ""},
        {"SIP/2.0/UDP 10.0.0.1:9999999999999999999", SIP_E_HEADER, "", 0, ""},
        {"SIP/2.0/UDP 10.0.0.1:99999999999999999999", SIP_E_HEADER, "", 0, ""},
        {"SIP/2.0/UDP 10.0.0.1:065535", SIP_OK, "10.0.0.1", 65535, ""},
        {"SIP/2.0/UDP 10.0.0.1:00000000000000000000005062", SIP_OK, "10.0.0.1", 5062, ""},
        {"SIP/2.0/UDP 10.0.0.1:000", SIP_E_HEADER, "", 0, ""},
        {"SIP/2.0/UDP 10.0.0.1:50x", SIP_E_HEADER, "", 0, ""},
        {"SIP/2.0/UDP", SIP_E_HEADER, "", 0, ""},
        {"SIP/2.0/UDP ", SIP_E_HEADER, "", 0, ""},
        {"SIP/2.0 10.0.0.1", SIP_E_HEADER, "", 0, ""},
        {"SIP/2.0/UDP10.0.0.1", SIP_E_HEADER, "", 0, ""},
        {"", SIP_E_HEADER, "", 0, ""},
        {"SIP/2.0/UDP 10.0.0.1;branch", SIP_OK, "10.0.0.1", 5060, ""},
        {"SIP/2.0/UDP 10.0.0.1;branch=", SIP_E_HEADER, "", 0, ""},
        {"SIP/2.0/UDP 10.0.0.1 junk", SIP_E_HEADER, "", 0, ""},
        {"SIP/2.0/UDP a;branch=1, garbage that is not parsed", SIP_OK, "a", 5060, "1"},
        {"SIP/2.0/VERYLONGTRANSPORT a", SIP_E_TOO_LONG, "", 0, ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char line[512];
        snprintf(line, sizeof(line), "Via: %s\n", cases[i].via);
        int rc = parse_msg(subst(SIPP_REG, "Via: SIP/2.0/UDP 127.0.1.1:5061;branch=z9hG4bK-12345-1-0\n", line), &m);
        CHECK(rc == cases[i].rc, "Via: %s -> %d, want %d", cases[i].via, rc, cases[i].rc);
        if (rc != SIP_OK || cases[i].rc != SIP_OK)
            continue;
        CHECK(strcmp(m.via_host, cases[i].host) == 0, "Via: %s -> host \"%s\"", cases[i].via, m.via_host);
        CHECK(m.via_port == cases[i].port, "Via: %s -> port %u", cases[i].via, m.via_port);
        CHECK(strcmp(m.via_branch, cases[i].branch) == 0, "Via: %s -> branch \"%s\"", cases[i].via, m.via_branch);
    }
    /* only the first Via header is read: a broken second one does not matter */
    CHECK_INT(parse_msg(subst(SIPP_REG, "From:", "Via: broken\nFrom:"), &m), SIP_OK);
    CHECK_STR(m.via_host, "127.0.1.1");
    CHECK_INT(m.via_port, 5061);
}

static void test_start_lines(void)
{
    static const struct {
        const char *line;
        int rc;
    } cases[] = {
        {"REGISTER sip:127.0.0.1 SIP/2.0", SIP_OK},
        {"REGISTER sips:example.com SIP/2.0", SIP_OK},
        {"INVITE sip:1002@127.0.0.1 SIP/2.0", SIP_E_NOT_REGISTER},
        {"OPTIONS sip:127.0.0.1 SIP/2.0", SIP_E_NOT_REGISTER},
        {"REGISTERX sip:127.0.0.1 SIP/2.0", SIP_E_NOT_REGISTER},
        {"register sip:127.0.0.1 SIP/2.0", SIP_E_NOT_REGISTER},
        {"REGISTER sip:127.0.0.1 SIP/3.0", SIP_E_START_LINE},
        {"REGISTER sip:127.0.0.1 SIP/2.0 ", SIP_E_START_LINE},
        {"REGISTER sip:127.0.0.1", SIP_E_START_LINE},
        {"REGISTER  sip:127.0.0.1 SIP/2.0", SIP_E_START_LINE},
        {"REGISTER\tsip:127.0.0.1 SIP/2.0", SIP_E_START_LINE},
        {"REGISTER 127.0.0.1 SIP/2.0", SIP_E_START_LINE},
        {"REGISTER sip: SIP/2.0", SIP_E_START_LINE},
        {"REGISTER", SIP_E_START_LINE},
        {" REGISTER sip:127.0.0.1 SIP/2.0", SIP_E_START_LINE},
        {"HTTP/1.1 200 OK", SIP_E_START_LINE},
        {"GET / HTTP/1.1", SIP_E_START_LINE},
        {"SIP/2.0 99 Low", SIP_E_START_LINE},
        {"SIP/2.0 700 High", SIP_E_START_LINE},
        {"SIP/2.0 20 OK", SIP_E_START_LINE},
        {"SIP/2.0 2000 OK", SIP_E_START_LINE},
        {"SIP/2.0  200 OK", SIP_E_START_LINE},
        {"SIP/2.0", SIP_E_START_LINE},
        {"SIP/2.0 abc", SIP_E_START_LINE},
        {"\xff\xfe", SIP_E_START_LINE},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char line[512];
        snprintf(line, sizeof(line), "%s\n", cases[i].line);
        int rc = parse_msg(subst(SIPP_REG, "REGISTER sip:127.0.0.1 SIP/2.0\n", line), &m);
        CHECK(rc == cases[i].rc, "start line \"%s\" -> %d, want %d", cases[i].line, rc, cases[i].rc);
    }
    /* responses to other methods are not ours, whatever else they hold */
    CHECK_INT(parse_msg(subst(OK_MULTI, "CSeq: 2 REGISTER", "CSeq: 2 INVITE"), &m), SIP_E_NOT_REGISTER);
    CHECK_INT(parse_msg(subst(subst(OK_MULTI, "CSeq: 2 REGISTER", "CSeq: 2 INVITE"), "Contact: <sip", "Contact: <x"),
                        &m),
              SIP_E_NOT_REGISTER);
    /* a REGISTER's CSeq must say REGISTER */
    CHECK_INT(parse_msg(subst(SIPP_REG, "CSeq: 1 REGISTER", "CSeq: 1 INVITE"), &m), SIP_E_HEADER);
    /* empty lines before the start line are skipped (RFC 3261 7.5) */
    char buf[2048];
    snprintf(buf, sizeof(buf), "\n\n\n%s", SIPP_REG);
    CHECK_INT(parse_msg(buf, &m), SIP_OK);
    CHECK_INT(parse_raw("\r\n\r\n", 4, &m), SIP_E_TRUNCATED); /* keep-alive */
    CHECK_INT(parse_raw("\n", 1, &m), SIP_E_TRUNCATED);
}

static void test_cseq(void)
{
    static const struct {
        const char *v;
        int rc;
        uint32_t n;
    } cases[] = {
        {"1 REGISTER", SIP_OK, 1},
        {"0 REGISTER", SIP_OK, 0},
        {"4294967295 REGISTER", SIP_OK, 4294967295u},
        {"  42   REGISTER  ", SIP_OK, 42},
        {"4294967296 REGISTER", SIP_E_HEADER, 0},
        {"99999999999999999999999 REGISTER", SIP_E_HEADER, 0},
        {"42949672950 REGISTER", SIP_E_HEADER, 0},
        {"9999999999999999999 REGISTER", SIP_E_HEADER, 0},
        {"18446744073709551616 REGISTER", SIP_E_HEADER, 0},
        {"000000000000000000004294967295 REGISTER", SIP_OK, 4294967295u},
        {"REGISTER", SIP_E_HEADER, 0},
        {"1", SIP_E_HEADER, 0},
        {"1 ", SIP_E_HEADER, 0},
        {"1REGISTER", SIP_E_HEADER, 0},
        {"-1 REGISTER", SIP_E_HEADER, 0},
        {"1 REGISTER extra", SIP_E_HEADER, 0},
        {"1 REGISTERREGISTERREGISTER", SIP_E_TOO_LONG, 0},
        {"", SIP_E_HEADER, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char line[512];
        snprintf(line, sizeof(line), "CSeq: %s\n", cases[i].v);
        int rc = parse_msg(subst(SIPP_REG, "CSeq: 1 REGISTER\n", line), &m);
        CHECK(rc == cases[i].rc, "CSeq: %s -> %d, want %d", cases[i].v, rc, cases[i].rc);
        if (rc == SIP_OK && cases[i].rc == SIP_OK)
            CHECK(m.cseq == cases[i].n, "CSeq: %s -> %u", cases[i].v, (unsigned)m.cseq);
    }
}

static void test_expires_header(void)
{
    static const struct {
        const char *v;
        int want;
    } cases[] = {
        {"0", 0}, {"3600", 3600}, {" 60 ", 60}, {"4294967295", 2147483647}, {"abc", 3600},
        {"", 3600}, {"-5", 3600}, {"6 0", 3600}, {"Thu, 01 Dec 1994 16:00:00 GMT", 3600},
        {"2147483646", 2147483646}, {"2147483647", 2147483647}, {"2147483648", 2147483647},
        {"21474836470", 2147483647}, {"9999999999999999999", 2147483647}, {"99999999999999999999", 2147483647},
        {"0000000000000000000000060", 60}, {"99999999999999999999x", 3600},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char line[512];
        snprintf(line, sizeof(line), "Expires: %s\n", cases[i].v);
        int rc = parse_msg(subst(SIPP_REG, "Expires: 120\n", line), &m);
        CHECK(rc == SIP_OK, "Expires: %s -> %d", cases[i].v, rc);
        CHECK(m.expires == cases[i].want, "Expires: %s -> %d, want %d", cases[i].v, m.expires, cases[i].want);
    }
    CHECK_INT(parse_msg(subst(SIPP_REG, "Expires: 120\n", "Expires: 120\nExpires: 60\n"), &m), SIP_E_HEADER);
}

static void test_missing_and_dups(void)
{
    static const char *required[] = {
        "Via: SIP/2.0/UDP 127.0.1.1:5061;branch=z9hG4bK-12345-1-0\n",
        "From: <sip:sipp@sip.com>;tag=12345SIPpTag001\n",
        "To: <sip:sipp@sip.com>\n",
        "Call-ID: 1-12345@127.0.1.1\n",
        "CSeq: 1 REGISTER\n",
    };
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
        int rc = parse_msg(subst(SIPP_REG, required[i], ""), &m);
        CHECK(rc == SIP_E_MISSING, "without %.10s... -> %d", required[i], rc);
        char twice[256];
        snprintf(twice, sizeof(twice), "%s%s", required[i], required[i]);
        rc = parse_msg(subst(SIPP_REG, required[i], twice), &m);
        /* a second Via is normal; two of the others are ambiguous */
        CHECK(rc == (i == 0 ? SIP_OK : SIP_E_HEADER), "twice %.10s... -> %d", required[i], rc);
    }
    CHECK_INT(parse_msg("REGISTER sip:a SIP/2.0\n\n", &m), SIP_E_MISSING);
    CHECK_INT(parse_msg("SIP/2.0 200 OK\n\n", &m), SIP_E_MISSING);
    /* a REGISTER without Contact is a query for the bindings: fine */
    CHECK_INT(parse_msg(subst(SIPP_REG, "Contact: sip:sipp@127.0.1.1:5061\n", ""), &m), SIP_OK);
    CHECK_INT(m.ncontacts, 0);
    CHECK_INT(sip_contact_expires(&m, 0, 3600), -1);
    /* Call-ID: one word */
    CHECK_INT(parse_msg(subst(SIPP_REG, "Call-ID: 1-12345@127.0.1.1", "Call-ID:"), &m), SIP_E_HEADER);
    CHECK_INT(parse_msg(subst(SIPP_REG, "Call-ID: 1-12345@127.0.1.1", "Call-ID: a b"), &m), SIP_E_HEADER);
    /* empty User-Agent is allowed; two User-Agents keep the first */
    CHECK_INT(parse_msg(subst(SIPP_REG, "User-Agent: SIPp/Linux", "User-Agent:"), &m), SIP_OK);
    CHECK_STR(m.user_agent, "");
    CHECK_INT(parse_msg(subst(SIPP_REG, "User-Agent: SIPp/Linux", "User-Agent: A\nUser-Agent: B"), &m), SIP_OK);
    CHECK_STR(m.user_agent, "A");
    /* unknown headers, even odd ones, are skipped */
    CHECK_INT(parse_msg(subst(SIPP_REG, "Max-Forwards: 10", "X-Weird: <<<\"\\,;;\nX-Empty:"), &m), SIP_OK);
}

static void test_header_syntax(void)
{
    CHECK_INT(parse_msg(subst(SIPP_REG, "Max-Forwards: 10", "Max-Forwards 10"), &m), SIP_E_HEADER);
    CHECK_INT(parse_msg(subst(SIPP_REG, "Max-Forwards: 10", ": 10"), &m), SIP_E_HEADER);
    CHECK_INT(parse_msg(subst(SIPP_REG, "Max-Forwards: 10", "Max Forwards: 10"), &m), SIP_E_HEADER);
    CHECK_INT(parse_msg(subst(SIPP_REG, "Max-Forwards: 10", "Max-Forwards"), &m), SIP_E_HEADER);
    CHECK_INT(parse_msg(subst(SIPP_REG, "Max-Forwards: 10", "Max/Forwards: 10"), &m), SIP_E_HEADER);
    /* control characters in the header section */
    CHECK_INT(parse_msg(subst(SIPP_REG, "SIPp/Linux", "SIPp\x01/Linux"), &m), SIP_E_HEADER);
    CHECK_INT(parse_msg(subst(SIPP_REG, "SIPp/Linux", "SIPp\x7f/Linux"), &m), SIP_E_HEADER);
    CHECK_INT(parse_msg(subst(SIPP_REG, "SIPp/Linux", "SIPp\r/Linux"), &m), SIP_E_HEADER); /* bare CR */
    CHECK_INT(parse_msg(subst(SIPP_REG, "SIPp/Linux", "SIPp\t/Linux"), &m), SIP_OK);
    CHECK_STR(m.user_agent, "SIPp /Linux");
    /* UTF-8 is fine */
    CHECK_INT(parse_msg(subst(SIPP_REG, "SIPp/Linux", "T\xc3\xa9l\xc3\xa9phone"), &m), SIP_OK);
    CHECK_STR(m.user_agent, "T\xc3\xa9l\xc3\xa9phone");

    /* NUL inside the headers; after the blank line it is only body */
    size_t n = to_crlf(SIPP_REG);
    char *p = strstr(wire, "SIPp/Linux");
    p[4] = '\0';
    CHECK_INT(parse_raw(wire, n, &m), SIP_E_HEADER);
    n = to_crlf(SIPP_REG);
    wire[0] = '\0';
    CHECK_INT(parse_raw(wire, n, &m), SIP_E_HEADER);
    n = to_crlf(WITH_BODY);
    p = strstr(wire, "hello");
    p[2] = '\0';
    CHECK_INT(parse_raw(wire, n, &m), SIP_OK);
    CHECK_STR(m.call_id, "body@10.0.0.5");
}

static void test_limits(void)
{
    char big[4096], line[4200];
    /* request URI */
    memset(big, 'a', 300);
    big[300] = '\0';
    snprintf(line, sizeof(line), "REGISTER sip:%s SIP/2.0\n", big);
    CHECK_INT(parse_msg(subst(SIPP_REG, "REGISTER sip:127.0.0.1 SIP/2.0\n", line), &m), SIP_E_TOO_LONG);
    big[SIP_MAX_URI - 5] = '\0'; /* "sip:" + 251 = 255: just fits */
    snprintf(line, sizeof(line), "REGISTER sip:%s SIP/2.0\n", big);
    CHECK_INT(parse_msg(subst(SIPP_REG, "REGISTER sip:127.0.0.1 SIP/2.0\n", line), &m), SIP_OK);
    CHECK_INT(strlen(m.request_uri), SIP_MAX_URI - 1);
    memset(big, 'a', SIP_MAX_URI - 4);
    big[SIP_MAX_URI - 4] = '\0'; /* 256 with the scheme: one too many */
    snprintf(line, sizeof(line), "REGISTER sip:%s SIP/2.0\n", big);
    CHECK_INT(parse_msg(subst(SIPP_REG, "REGISTER sip:127.0.0.1 SIP/2.0\n", line), &m), SIP_E_TOO_LONG);

    /* Call-ID: 255 fits, 256 does not */
    memset(big, 'c', 256);
    big[255] = '\0';
    snprintf(line, sizeof(line), "Call-ID: %s\n", big);
    CHECK_INT(parse_msg(subst(SIPP_REG, "Call-ID: 1-12345@127.0.1.1\n", line), &m), SIP_OK);
    big[255] = 'c';
    big[256] = '\0';
    snprintf(line, sizeof(line), "Call-ID: %s\n", big);
    CHECK_INT(parse_msg(subst(SIPP_REG, "Call-ID: 1-12345@127.0.1.1\n", line), &m), SIP_E_TOO_LONG);

    /* Contact URI, To URI, To user, From, Via host and branch */
    memset(big, 'u', 1000);
    big[1000] = '\0';
    snprintf(line, sizeof(line), "Contact: <sip:%s@h>\n", big);
    CHECK_INT(parse_msg(subst(SIPP_REG, "Contact: sip:sipp@127.0.1.1:5061\n", line), &m), SIP_E_TOO_LONG);
    snprintf(line, sizeof(line), "To: <sip:%s@h>\n", big);
    CHECK_INT(parse_msg(subst(SIPP_REG, "To: <sip:sipp@sip.com>\n", line), &m), SIP_E_TOO_LONG);
    snprintf(line, sizeof(line), "From: <sip:%s@h>\n", big);
    CHECK_INT(parse_msg(subst(SIPP_REG, "From: <sip:sipp@sip.com>;tag=12345SIPpTag001\n", line), &m),
              SIP_E_TOO_LONG);
    big[100] = '\0';
    snprintf(line, sizeof(line), "To: <sip:%s@h>\n", big);
    CHECK_INT(parse_msg(subst(SIPP_REG, "To: <sip:sipp@sip.com>\n", line), &m), SIP_E_TOO_LONG); /* user > 79 */
    big[79] = '\0';
    snprintf(line, sizeof(line), "To: <sip:%s@h>\n", big);
    CHECK_INT(parse_msg(subst(SIPP_REG, "To: <sip:sipp@sip.com>\n", line), &m), SIP_OK);
    CHECK_INT(strlen(m.to_user), 79);
    memset(big, 'h', 200);
    big[200] = '\0';
    snprintf(line, sizeof(line), "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK1\n", big);
    CHECK_INT(parse_msg(subst(SIPP_REG, "Via: SIP/2.0/UDP 127.0.1.1:5061;branch=z9hG4bK-12345-1-0\n", line), &m),
              SIP_E_TOO_LONG);
    snprintf(line, sizeof(line), "Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK%s\n", big);
    CHECK_INT(parse_msg(subst(SIPP_REG, "Via: SIP/2.0/UDP 127.0.1.1:5061;branch=z9hG4bK-12345-1-0\n", line), &m),
              SIP_E_TOO_LONG);

    /* User-Agent is informational: cut to fit, never mid-UTF-8 */
    snprintf(line, sizeof(line), "User-Agent: %s\n", big);
    CHECK_INT(parse_msg(subst(SIPP_REG, "User-Agent: SIPp/Linux\n", line), &m), SIP_OK);
    CHECK_INT(strlen(m.user_agent), sizeof(m.user_agent) - 1);
    char ua[400] = "";
    for (int i = 0; i < 100; i++)
        strcat(ua, "\xe2\x82\xac"); /* the euro sign, 3 bytes */
    snprintf(line, sizeof(line), "User-Agent: a%s\n", ua);
    CHECK_INT(parse_msg(subst(SIPP_REG, "User-Agent: SIPp/Linux\n", line), &m), SIP_OK);
    CHECK_INT(strlen(m.user_agent), 1 + 3 * 42); /* 127 bytes hold 'a' and 42 whole euros */
    snprintf(line, sizeof(line), "User-Agent: %s\n", ua);
    CHECK_INT(parse_msg(subst(SIPP_REG, "User-Agent: SIPp/Linux\n", line), &m), SIP_OK);
    CHECK_INT(strlen(m.user_agent), 3 * 42);
    snprintf(line, sizeof(line), "User-Agent: ab%s\n", ua);
    CHECK_INT(parse_msg(subst(SIPP_REG, "User-Agent: SIPp/Linux\n", line), &m), SIP_OK);
    CHECK_INT(strlen(m.user_agent), 2 + 3 * 41);
}

static void test_contact_count(void)
{
    char line[4096];
    for (unsigned want = 15; want <= 17; want++) {
        /* all in one header */
        size_t n = (size_t)snprintf(line, sizeof(line), "Contact: ");
        for (unsigned i = 0; i < want; i++)
            n += (size_t)snprintf(line + n, sizeof(line) - n, "%s<sip:u@10.0.0.%u>;expires=%u", i ? ", " : "",
                                  i + 1, i + 10);
        snprintf(line + n, sizeof(line) - n, "\n");
        int rc = parse_msg(subst(SIPP_REG, "Contact: sip:sipp@127.0.1.1:5061\n", line), &m);
        CHECK_INT(rc, want <= SIP_MAX_CONTACTS ? SIP_OK : SIP_E_TOO_MANY);
        if (rc == SIP_OK) {
            CHECK_INT(m.ncontacts, want);
            CHECK_STR(m.contacts[want - 1].uri, want == 16 ? "sip:u@10.0.0.16" : "sip:u@10.0.0.15");
            CHECK_INT(sip_contact_expires(&m, want - 1, 0), want + 9);
        }
        /* one per header */
        n = 0;
        for (unsigned i = 0; i < want; i++)
            n += (size_t)snprintf(line + n, sizeof(line) - n, "m: sip:u@10.0.0.%u\n", i + 1);
        rc = parse_msg(subst(SIPP_REG, "Contact: sip:sipp@127.0.1.1:5061\n", line), &m);
        CHECK_INT(rc, want <= SIP_MAX_CONTACTS ? SIP_OK : SIP_E_TOO_MANY);
    }
}

static void test_sizes(void)
{
    static char huge[70001];
    /* 65535 bytes exactly, padded with an ignored header: fine */
    size_t n = to_crlf(SIPP_REG);
    size_t pad = SIP_MAX_MSG - n - strlen("X-Pad: \r\n");
    memcpy(huge, wire, n - 2);
    size_t k = n - 2;
    k += (size_t)sprintf(huge + k, "X-Pad: ");
    memset(huge + k, 'p', pad);
    k += pad;
    memcpy(huge + k, "\r\n\r\n", 4);
    k += 4;
    CHECK_INT(k, SIP_MAX_MSG);
    CHECK_INT(parse_raw(huge, k, &m), SIP_OK);
    /* one more byte, and a 70000-byte message */
    huge[k] = 'x';
    CHECK_INT(parse_raw(huge, k + 1, &m), SIP_E_TOO_LONG);
    memset(huge, 'A', sizeof(huge));
    memcpy(huge, wire, n);
    CHECK_INT(parse_raw(huge, 70000, &m), SIP_E_TOO_LONG);
    CHECK_INT(sip_parse(NULL, 0, &m), SIP_E_TRUNCATED);
    CHECK_INT(parse_raw("", 0, &m), SIP_E_TRUNCATED);
}

/* Every prefix of every valid message, CRLF and LF-only: no crash; before
 * the blank line is complete it is SIP_E_TRUNCATED, from then on SIP_OK. */
static void test_truncation(void)
{
    unsigned bad = 0, total = 0;
    static char msg[8192];
    for (size_t v = 0; v < NVALID; v++) {
        for (int lf = 0; lf < 2; lf++) {
            size_t n;
            if (lf) {
                n = strlen(valid_msgs[v].text);
                memcpy(msg, valid_msgs[v].text, n);
            } else {
                n = to_crlf(valid_msgs[v].text);
                memcpy(msg, wire, n);
            }
            msg[n] = '\0';
            const char *sep = lf ? "\n\n" : "\r\n\r\n";
            const char *blank = strstr(msg, sep);
            size_t hlen = (size_t)(blank - msg) + strlen(sep);
            for (size_t cut = 0; cut <= n; cut++) {
                int rc = parse_raw(msg, cut, &m);
                int want = cut < hlen ? SIP_E_TRUNCATED : SIP_OK;
                total++;
                if (rc != want) {
                    bad++;
                    CHECK(0, "%s%s cut at %zu/%zu -> %d, want %d", valid_msgs[v].name, lf ? " (LF)" : "", cut, n,
                          rc, want);
                }
            }
        }
    }
    CHECK(bad == 0, "%u of %u truncations wrong", bad, total);
    CHECK(total > 5000, "only %u truncations", total);
}

/* Deterministic garbage: random bytes, random mutations of valid messages. */
static uint32_t rng = 12345;
static uint32_t next_rand(void)
{
    rng = rng * 1103515245u + 12345u;
    return rng >> 8;
}

static void test_garbage(void)
{
    static const char *junk[] = {
        "\r\n\r\n\r\n", ":\r\n\r\n", "REGISTER\r\n\r\n", "SIP/2.0 200 OK\r\n:\r\n\r\n",
        "REGISTER sip:a SIP/2.0\r\nContact:<\r\n\r\n", "REGISTER sip:a SIP/2.0\r\n\r\r\n\r\n",
        "REGISTER sip:a SIP/2.0\r\nContact: \"\r\n\r\n", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
        "GET / HTTP/1.0\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
        CHECK(parse_raw(junk[i], strlen(junk[i]), &m) < 0, "junk %zu accepted", i);

    static char buf[4096];
    unsigned ok = 0;
    for (int iter = 0; iter < 20000; iter++) {
        size_t n;
        if (iter % 2) {
            n = next_rand() % sizeof(buf);
            for (size_t i = 0; i < n; i++)
                buf[i] = (char)(next_rand() & 0xff);
        } else {
            const char *src = valid_msgs[next_rand() % NVALID].text;
            n = to_crlf(src);
            memcpy(buf, wire, n);
            for (int k = (int)(next_rand() % 8) + 1; k > 0 && n; k--) {
                static const char pick[] = "\r\n \t:;,<>\"\\@*=[]%\0\xa0";
                buf[next_rand() % n] = (next_rand() & 1) ? pick[next_rand() % (sizeof(pick) - 1)]
                                                         : (char)(next_rand() & 0xff);
            }
        }
        int rc = parse_raw(buf, n, &m);
        if (rc == SIP_OK) {
            ok++;
            CHECK(m.ncontacts <= SIP_MAX_CONTACTS, "ncontacts %u", m.ncontacts);
            CHECK(memchr(m.call_id, '\0', sizeof(m.call_id)) && m.call_id[0], "call_id");
            for (unsigned i = 0; i < m.ncontacts; i++) {
                char s[SIP_MAX_URI];
                (void)sip_uri_strip(m.contacts[i].uri, s, sizeof(s));
                (void)sip_contact_expires(&m, i, 3600);
            }
        } else {
            CHECK(rc >= SIP_E_TOO_MANY && rc <= SIP_E_TRUNCATED, "rc %d", rc);
        }
    }
    CHECK(ok > 0, "no mutated message parsed at all");
}

static void test_uri_strip(void)
{
    static const struct {
        const char *uri, *want;
        int rc;
    } cases[] = {
        {"sip:1002@10.10.10.63:5060;transport=udp", "1002@10.10.10.63:5060", 0},
        {"sip:1002@10.10.10.63", "1002@10.10.10.63", 0},
        {"sips:alice@example.com:5061", "alice@example.com:5061", 0},
        {"SIP:1002@Host", "1002@Host", 0},
        {"sip:alice:secret@example.com;lr", "alice@example.com", 0},
        {"sip:1002@[2001:db8::1]:5060;transport=udp", "1002@[2001:db8::1]:5060", 0},
        {"sip:example.com;lr", "example.com", 0},
        {"sip:a@h?Subject=x", "a@h", 0},
        {"sip:+1555;phone-context=x@gw;user=phone", "+1555;phone-context=x@gw", 0},
        {"tel:+15551234;phone-context=example.com", "+15551234", 0},
        {"sip:@h", "h", 0},
        {"sip:a@", "", -1},
        {"sip:;x", "", -1},
        {"sip:", "", -1},
        {"1002@h", "", -1},
        {"", "", -1},
        {"sip:a b@h", "", -1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[64] = "junk";
        int rc = sip_uri_strip(cases[i].uri, out, sizeof(out));
        CHECK(rc == cases[i].rc && strcmp(out, cases[i].want) == 0, "strip(%s) -> %d \"%s\", want %d \"%s\"",
              cases[i].uri, rc, out, cases[i].rc, cases[i].want);
    }
    char out[8];
    CHECK_INT(sip_uri_strip("sip:123@host", out, sizeof(out)), -1);          /* 8 chars + NUL */
    CHECK_STR(out, "");
    CHECK_INT(sip_uri_strip("sip:12@host", out, sizeof(out)), 0); /* 7 + NUL fits */
    CHECK_STR(out, "12@host");
    CHECK_INT(sip_uri_strip("sip:12@host", out, 0), -1);
    CHECK_INT(sip_uri_strip(NULL, out, sizeof(out)), -1);
    CHECK_INT(sip_uri_strip("sip:a@b", NULL, 4), -1);
}

static void test_misc(void)
{
    CHECK_INT(sip_contact_expires(NULL, 0, 3600), -1);
    int codes[] = {SIP_OK, SIP_E_TRUNCATED, SIP_E_START_LINE, SIP_E_NOT_REGISTER, SIP_E_HEADER, SIP_E_MISSING,
                   SIP_E_TOO_LONG, SIP_E_TOO_MANY};
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        const char *s = sip_strerror(codes[i]);
        CHECK(s && *s && strcmp(s, "unknown error") != 0, "strerror(%d)", codes[i]);
    }
    CHECK_STR(sip_strerror(-99), "unknown error");
    CHECK_STR(sip_strerror(1), "unknown error");
    /* a failed parse leaves no stale data behind */
    CHECK_INT(parse_msg(SIPP_REG, &m), SIP_OK);
    CHECK_INT(parse_raw("x", 1, &m), SIP_E_TRUNCATED);
    CHECK_INT(m.ncontacts, 0);
    CHECK_STR(m.call_id, "");
    CHECK_INT(m.expires, -1);
}

static void test_sipp(void)
{
    CHECK_INT(parse_msg(SIPP_REG, &m), SIP_OK);
    CHECK_STR(m.via_host, "127.0.1.1");
    CHECK_INT(m.via_port, 5061);
    CHECK_STR(m.to_user, "sipp");
    CHECK_STR(m.contacts[0].uri, "sip:sipp@127.0.1.1:5061");
    char s[64];
    CHECK_INT(sip_uri_strip(m.contacts[0].uri, s, sizeof(s)), 0);
    CHECK_STR(s, "sipp@127.0.1.1:5061");

    CHECK_INT(parse_msg(WITH_BODY, &m), SIP_OK);
    CHECK_INT(m.ncontacts, 0);
}

/* Write the valid messages (CRLF) as fuzz seeds into DIR. */
static int write_seeds(const char *dir)
{
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        perror(dir);
        return 1;
    }
    for (size_t v = 0; v < NVALID; v++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, valid_msgs[v].name);
        FILE *f = fopen(path, "wb");
        size_t n = to_crlf(valid_msgs[v].text);
        if (!f || fwrite(wire, 1, n, f) != n || fclose(f) != 0) {
            perror(path);
            return 1;
        }
    }
    printf("wrote %zu seeds to %s\n", NVALID, dir);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--seeds") == 0)
        return write_seeds(argv[2]);
    test_asterisk();
    test_pjsip();
    test_phones();
    test_relayed();
    test_responses();
    test_unregister();
    test_compact_and_folding();
    test_cases();
    test_ipv6_tel();
    test_to_user();
    test_contact_forms();
    test_via_forms();
    test_start_lines();
    test_cseq();
    test_expires_header();
    test_missing_and_dups();
    test_header_syntax();
    test_limits();
    test_contact_count();
    test_sizes();
    test_truncation();
    test_garbage();
    test_uri_strip();
    test_misc();
    test_sipp();
    return test_summary("sip");
}
