/* RealTime row decoder: chan_sip and pjsip rows as Asterisk writes them,
 * unregistered rows, and every field out of bounds. */
#include <stdio.h>
#include <string.h>

#include "dundid/realtime_row.h"
#include "testutil.h"

#define NUL_FIELD ((const char *)1) /* marks SQL NULL in the tables below */

static int decode(enum rt_schema s, const char *const *cols, size_t n, struct rt_row *r)
{
    struct rt_field f[RT_MAX_COLS + 1];
    for (size_t i = 0; i < n; i++) {
        f[i].null = cols[i] == NUL_FIELD;
        f[i].data = f[i].null ? NULL : cols[i];
        f[i].len = f[i].null ? 0 : strlen(cols[i]);
    }
    return rt_row_decode(s, f, n, r);
}

static int sip_row(const char *name, const char *contact, const char *regseconds, const char *ip, const char *port,
                   const char *regserver, const char *ua, struct rt_row *r)
{
    const char *cols[] = {name, contact, regseconds, ip, port, regserver, ua};
    return decode(RT_SCHEMA_CHAN_SIP, cols, 7, r);
}

static int pj_row(const char *id, const char *endpoint, const char *uri, const char *exp, const char *regserver,
                  const char *via, const char *via_port, const char *ua, struct rt_row *r)
{
    const char *cols[] = {id, endpoint, uri, exp, regserver, via, via_port, ua};
    return decode(RT_SCHEMA_PJSIP, cols, 8, r);
}

static void test_columns(void)
{
    CHECK_INT(rt_row_ncols(RT_SCHEMA_CHAN_SIP), 7);
    CHECK_INT(rt_row_ncols(RT_SCHEMA_PJSIP), 8);
    CHECK_STR(rt_row_column(RT_SCHEMA_CHAN_SIP, 1), "fullcontact");
    CHECK_STR(rt_row_column(RT_SCHEMA_PJSIP, 3), "expiration_time");
    CHECK(rt_row_column(RT_SCHEMA_PJSIP, 8) == NULL, "past the last column");
    CHECK_STR(rt_row_expiry_column(RT_SCHEMA_CHAN_SIP), "regseconds");
}

static void test_chan_sip(void)
{
    struct rt_row r;
    /* As chan_sip writes a registration with rtsavesysname = yes. */
    CHECK_INT(sip_row("1002", "sip:1002@10.10.10.63:5060", "1900000000", "10.10.10.63", "5060", "regpbx1",
                      "Yealink SIP-T46S 66.86.0.15", &r),
              RT_ROW_OK);
    CHECK_STR(r.ext, "1002");
    CHECK_STR(r.contact, "sip:1002@10.10.10.63:5060");
    CHECK_INT(r.expires, 1900000000);
    CHECK_STR(r.source, "10.10.10.63:5060");
    CHECK_STR(r.regserver, "regpbx1");
    CHECK_STR(r.user_agent, "Yealink SIP-T46S 66.86.0.15");

    /* No regserver column value, IPv6, URI parameters. */
    CHECK_INT(sip_row("alice", "sips:alice@[2001:db8::4]:5061;transport=tls", "1900000000", "2001:db8::4", "5061",
                      NUL_FIELD, NUL_FIELD, &r),
              RT_ROW_OK);
    CHECK_STR(r.source, "[2001:db8::4]:5061");
    CHECK_STR(r.regserver, "");
    CHECK_STR(r.user_agent, "");

    /* Address without a port; no address at all. */
    CHECK_INT(sip_row("1003", "sip:1003@h", "1900000000", "10.0.0.3", "0", "", "", &r), RT_ROW_OK);
    CHECK_STR(r.source, "10.0.0.3");
    CHECK_INT(sip_row("1003", "sip:1003@h", "1900000000", NUL_FIELD, NUL_FIELD, "", "", &r), RT_ROW_OK);
    CHECK_STR(r.source, "");

    /* What chan_sip leaves after an unregistration, and a never-registered peer. */
    CHECK_INT(sip_row("1004", "", "0", "", "0", "", "", &r), RT_ROW_UNREGISTERED);
    CHECK_INT(sip_row("1004", NUL_FIELD, NUL_FIELD, NUL_FIELD, NUL_FIELD, NUL_FIELD, NUL_FIELD, &r),
              RT_ROW_UNREGISTERED);
    CHECK_INT(sip_row("1004", "sip:1004@h", "0", "", "", "", "", &r), RT_ROW_UNREGISTERED);
    CHECK_STR(r.ext, "1004");

    /* A long user agent is cut, unprintable bytes replaced. */
    char ua[200];
    memset(ua, 'u', sizeof(ua) - 1);
    ua[sizeof(ua) - 1] = '\0';
    ua[3] = '\t';
    CHECK_INT(sip_row("1005", "sip:1005@h", "1900000000", "", "", "", ua, &r), RT_ROW_OK);
    CHECK_INT(strlen(r.user_agent), REG_UA_MAX);
    CHECK(r.user_agent[3] == '?', "tab replaced: '%c'", r.user_agent[3]);
}

static void test_chan_sip_bad(void)
{
    struct rt_row r;
    char longext[REG_EXT_MAX + 2], longcontact[REG_CONTACT_MAX + 2];
    memset(longext, '1', sizeof(longext) - 1);
    longext[sizeof(longext) - 1] = '\0';
    memcpy(longcontact, "sip:", 4);
    memset(longcontact + 4, 'x', sizeof(longcontact) - 5);
    longcontact[sizeof(longcontact) - 1] = '\0';

    CHECK_INT(sip_row("", "sip:a@h", "1900000000", "", "", "", "", &r), RT_ROW_BAD_EXT);
    CHECK_INT(sip_row(NUL_FIELD, "sip:a@h", "1900000000", "", "", "", "", &r), RT_ROW_BAD_EXT);
    CHECK_INT(sip_row(longext, "sip:a@h", "1900000000", "", "", "", "", &r), RT_ROW_BAD_EXT);
    longext[REG_EXT_MAX] = '\0'; /* exactly 80: fine */
    CHECK_INT(sip_row(longext, "sip:a@h", "1900000000", "", "", "", "", &r), RT_ROW_OK);
    CHECK_INT(sip_row("10 02", "sip:a@h", "1900000000", "", "", "", "", &r), RT_ROW_BAD_EXT);
    CHECK_INT(sip_row("1002@x", "sip:a@h", "1900000000", "", "", "", "", &r), RT_ROW_BAD_EXT);
    CHECK_INT(sip_row("a/b", "sip:a@h", "1900000000", "", "", "", "", &r), RT_ROW_BAD_EXT);

    CHECK_INT(sip_row("1002", "http://x", "1900000000", "", "", "", "", &r), RT_ROW_BAD_CONTACT);
    CHECK_INT(sip_row("1002", "sip:", "1900000000", "", "", "", "", &r), RT_ROW_BAD_CONTACT);
    CHECK_INT(sip_row("1002", "sip:a b@h", "1900000000", "", "", "", "", &r), RT_ROW_BAD_CONTACT);
    CHECK_INT(sip_row("1002", "<sip:a@h>", "1900000000", "", "", "", "", &r), RT_ROW_BAD_CONTACT);
    CHECK_INT(sip_row("1002", longcontact, "1900000000", "", "", "", "", &r), RT_ROW_BAD_CONTACT);
    longcontact[REG_CONTACT_MAX] = '\0';
    CHECK_INT(sip_row("1002", longcontact, "1900000000", "", "", "", "", &r), RT_ROW_OK);

    CHECK_INT(sip_row("1002", "sip:a@h", "-5", "", "", "", "", &r), RT_ROW_BAD_EXPIRY);
    CHECK_INT(sip_row("1002", "sip:a@h", "12x", "", "", "", "", &r), RT_ROW_BAD_EXPIRY);
    CHECK_INT(sip_row("1002", "sip:a@h", " 12", "", "", "", "", &r), RT_ROW_BAD_EXPIRY);
    CHECK_INT(sip_row("1002", "sip:a@h", "99999999999999999999", "", "", "", "", &r), RT_ROW_BAD_EXPIRY);
    CHECK_INT(sip_row("1002", "sip:a@h", "9999999999999", "", "", "", "", &r), RT_ROW_BAD_EXPIRY);

    CHECK_INT(sip_row("1002", "sip:a@h", "1900000000", "10.0.0.256", "5060", "", "", &r), RT_ROW_BAD_SOURCE);
    CHECK_INT(sip_row("1002", "sip:a@h", "1900000000", "phone.example", "5060", "", "", &r), RT_ROW_BAD_SOURCE);
    CHECK_INT(sip_row("1002", "sip:a@h", "1900000000", "10.0.0.1", "65536", "", "", &r), RT_ROW_BAD_SOURCE);
    CHECK_INT(sip_row("1002", "sip:a@h", "1900000000", "10.0.0.1", "-1", "", "", &r), RT_ROW_BAD_SOURCE);

    CHECK_INT(sip_row("1002", "sip:a@h", "1900000000", "", "", "reg pbx", "", &r), RT_ROW_BAD_REGSERVER);
    CHECK_INT(sip_row("1002", "sip:a@h", "1900000000", "", "", "a/b", "", &r), RT_ROW_BAD_REGSERVER);

    /* Wrong shape. */
    const char *five[] = {"1002", "sip:a@h", "1900000000", "", ""};
    CHECK_INT(decode(RT_SCHEMA_CHAN_SIP, five, 5, &r), RT_ROW_BAD_COLUMNS);
    /* Bytes with lengths, not C strings: a NUL inside a field is refused. */
    struct rt_field f[7] = {{"10\0" "2", 4, false}, {"sip:a@h", 7, false}, {"1900000000", 10, false}};
    for (int i = 3; i < 7; i++)
        f[i] = (struct rt_field){NULL, 0, true};
    CHECK_INT(rt_row_decode(RT_SCHEMA_CHAN_SIP, f, 7, &r), RT_ROW_BAD_EXT);
    f[0] = (struct rt_field){NULL, 3, false};
    CHECK_INT(rt_row_decode(RT_SCHEMA_CHAN_SIP, f, 7, &r), RT_ROW_BAD_COLUMNS);
}

static void test_pjsip(void)
{
    struct rt_row r;
    /* As res_pjsip writes a contact (id is "AOR;@hash"). */
    CHECK_INT(pj_row("1005;@6e0a1c6b2f9d0e4a2b1c", "1005", "sip:1005@192.168.1.20:5060;ob", "1900000300", "regpbx2",
                     "192.168.1.20", "5060", "PJSUA v2.13", &r),
              RT_ROW_OK);
    CHECK_STR(r.ext, "1005");
    CHECK_STR(r.contact, "sip:1005@192.168.1.20:5060;ob");
    CHECK_INT(r.expires, 1900000300);
    CHECK_STR(r.regserver, "regpbx2");
    CHECK_STR(r.source, "192.168.1.20:5060");

    /* As res_config_odbc and res_config_mysql store it: ';' as "^3B" in every
     * text column (recorded from Asterisk 20, test/data/asterisk-pjsip). */
    CHECK_INT(pj_row("1001^3B@6d2329405c1a711a290967cde09ed13d", "1001", "sip:1001@127.0.49.20:45861^3Bob",
                     "1796577767", "regpbx1", "127.0.49.20", "45861", "Yealink SIP-T46S 66.86.0.15", &r),
              RT_ROW_OK);
    CHECK_STR(r.ext, "1001");
    CHECK_STR(r.contact, "sip:1001@127.0.49.20:45861;ob");
    /* "^5E" is '^'; a '^' without two hex digits after it stays. */
    CHECK_INT(pj_row("10^5E1^3B@x", "", "sip:x@h^3", "1900000300", "", "", "", "", &r), RT_ROW_OK);
    CHECK_STR(r.ext, "10^1");
    CHECK_STR(r.contact, "sip:x@h^3");
    CHECK_INT(pj_row("^3b@x", "1009", "sip:x@h^", "1900000300", "", "", "", "", &r), RT_ROW_OK);
    CHECK_STR(r.ext, "1009");
    CHECK_STR(r.contact, "sip:x@h^");
    {
        char out[8];
        CHECK_INT(rt_field_unescape("a^3B^5E^4", 9, out), 5);
        CHECK(!memcmp(out, "a;^^4", 5), "unescape");
        CHECK_INT(rt_field_unescape("^zz^", 4, out), 4);
        CHECK(!memcmp(out, "^zz^", 4), "unescape keeps a bare ^");
    }

    /* The AOR, not the endpoint, is the extension; the endpoint only when the id has no AOR. */
    CHECK_INT(pj_row("sales;@1", "1006", "sip:x@h", "1900000300", "", "", "", "", &r), RT_ROW_OK);
    CHECK_STR(r.ext, "sales");
    CHECK_INT(pj_row(";@abc", "1006", "sip:x@h", "1900000300", "", "", "", "", &r), RT_ROW_OK);
    CHECK_STR(r.ext, "1006");
    CHECK_INT(pj_row("plainid", NUL_FIELD, "sip:x@h", "1900000300", "", "", "", "", &r), RT_ROW_OK);
    CHECK_STR(r.ext, "plainid");
    /* A ';' without '@' is part of the id, and ';' is not allowed in extensions. */
    CHECK_INT(pj_row("a;b", NUL_FIELD, "sip:x@h", "1900000300", "", "", "", "", &r), RT_ROW_BAD_EXT);
    CHECK_INT(pj_row(";@abc", NUL_FIELD, "sip:x@h", "1900000300", "", "", "", "", &r), RT_ROW_BAD_EXT);
    CHECK_INT(pj_row(";@abc", "", "sip:x@h", "1900000300", "", "", "", "", &r), RT_ROW_BAD_EXT);

    /* Old schemas keep expiration_time as text: the same digits. */
    CHECK_INT(pj_row("1007;@1", "", "sip:x@h", "1900000300", "", "::1", "5070", "", &r), RT_ROW_OK);
    CHECK_STR(r.source, "[::1]:5070");
    CHECK_INT(pj_row("1007;@1", "", "sip:x@h", "1.5", "", "", "", "", &r), RT_ROW_BAD_EXPIRY);
    CHECK_INT(pj_row("1007;@1", "", "", "1900000300", "", "", "", "", &r), RT_ROW_UNREGISTERED);
    CHECK_INT(pj_row("1007;@1", "", "sip:x@h", "1900000300", "", "bogus", "", "", &r), RT_ROW_BAD_SOURCE);
}

/* Issue 18: regseconds, expiration_time and the ports at their bounds; 19
 * nines used to overflow int64_t before the range check (UBSan in this build). */
static void test_number_bounds(void)
{
    struct rt_row r;
    CHECK_INT(sip_row("1002", "sip:a@h", "1099511627776", "", "", "", "", &r), RT_ROW_OK); /* 2^40, the largest */
    CHECK_INT(r.expires, 1099511627776LL);
    CHECK_INT(sip_row("1002", "sip:a@h", "1099511627777", "", "", "", "", &r), RT_ROW_BAD_EXPIRY);
    CHECK_INT(sip_row("1002", "sip:a@h", "10995116277760", "", "", "", "", &r), RT_ROW_BAD_EXPIRY);
    CHECK_INT(sip_row("1002", "sip:a@h", "9999999999999999999", "", "", "", "", &r), RT_ROW_BAD_EXPIRY);
    CHECK_INT(sip_row("1002", "sip:a@h", "9223372036854775807", "", "", "", "", &r), RT_ROW_BAD_EXPIRY);
    CHECK_INT(sip_row("1002", "sip:a@h", "9223372036854775808", "", "", "", "", &r), RT_ROW_BAD_EXPIRY);
    CHECK_INT(sip_row("1002", "sip:a@h", "18446744073709551617", "", "", "", "", &r), RT_ROW_BAD_EXPIRY);
    CHECK_INT(sip_row("1002", "sip:a@h", "0000000000000000000001900000000", "", "", "", "", &r), RT_ROW_OK);
    CHECK_INT(r.expires, 1900000000);
    CHECK_INT(pj_row("1007;@1", "", "sip:x@h", "1099511627776", "", "", "", "", &r), RT_ROW_OK);
    CHECK_INT(pj_row("1007;@1", "", "sip:x@h", "1099511627777", "", "", "", "", &r), RT_ROW_BAD_EXPIRY);
    CHECK_INT(pj_row("1007;@1", "", "sip:x@h", "9999999999999999999", "", "", "", "", &r), RT_ROW_BAD_EXPIRY);
    CHECK_INT(pj_row("1007;@1", "", "sip:x@h", "99999999999999999999", "", "", "", "", &r), RT_ROW_BAD_EXPIRY);

    CHECK_INT(sip_row("1002", "sip:a@h", "1900000000", "10.0.0.1", "65535", "", "", &r), RT_ROW_OK);
    CHECK_STR(r.source, "10.0.0.1:65535");
    CHECK_INT(sip_row("1002", "sip:a@h", "1900000000", "10.0.0.1", "655350", "", "", &r), RT_ROW_BAD_SOURCE);
    CHECK_INT(sip_row("1002", "sip:a@h", "1900000000", "10.0.0.1", "9999999999999999999", "", "", &r),
              RT_ROW_BAD_SOURCE);
    CHECK_INT(sip_row("1002", "sip:a@h", "1900000000", "10.0.0.1", "00000000000000000000005060", "", "", &r), RT_ROW_OK);
    CHECK_STR(r.source, "10.0.0.1:5060");
    CHECK_INT(pj_row("1007;@1", "", "sip:x@h", "1900000300", "", "10.0.0.1", "9999999999999999999", "", &r),
              RT_ROW_BAD_SOURCE);
}

static void test_registrar_for(void)
{
    struct realtime_conf rc;
    char err[256];
    realtime_conf_defaults(&rc);
    CHECK_INT(realtime_conf_registrar(&rc, "regpbx1", "10.10.10.1", 3, err, sizeof(err)), 0);
    CHECK_INT(realtime_conf_registrar(&rc, "regpbx2", "10.10.10.2:4569", 4, err, sizeof(err)), 0);
    CHECK_STR(realtime_conf_registrar_for(&rc, "regpbx1"), "10.10.10.1");
    CHECK_STR(realtime_conf_registrar_for(&rc, "REGPBX2"), "10.10.10.2:4569");
    CHECK_STR(realtime_conf_registrar_for(&rc, "regpbx9"), "regpbx9"); /* unmapped: the name itself */
    CHECK(realtime_conf_registrar_for(&rc, "") == NULL, "empty regserver without a default is dropped");
    CHECK_INT(realtime_conf_key(&rc, "default_registrar", "10.10.10.9", err, sizeof(err)), 0);
    CHECK_STR(realtime_conf_registrar_for(&rc, ""), "10.10.10.9");
    realtime_conf_free(&rc);
}

/* Columns found by name (issue 17): Asterisk's schema revisions, tables of
 * one's own, and a needed column missing. */
static void test_columns_by_name(void)
{
    struct rt_columns c;
    char err[200] = "", sel[512];
    /* the current sippeers, in its own order and with its ~80 other columns */
    const char *sippeers[] = {"id", "name", "ipaddr", "port", "regseconds", "defaultuser", "fullcontact", "regserver",
                              "useragent", "lastms", "host", "type", "context", "secret", "accountcode"};
    CHECK_INT(rt_columns_resolve(RT_SCHEMA_CHAN_SIP, sippeers, 15, &c, err, sizeof(err)), 0);
    CHECK_INT(c.n, 7);
    CHECK_INT(rt_columns_select(RT_SCHEMA_CHAN_SIP, &c, sel, sizeof(sel)), 0);
    CHECK_STR(sel, "`name`, `fullcontact`, `regseconds`, `ipaddr`, `port`, `regserver`, `useragent`");
    /* another case, only the needed ones, extras and a NULL name */
    const char *odd[] = {"Notes", "RegSeconds", NULL, "FULLCONTACT", "name"};
    CHECK_INT(rt_columns_resolve(RT_SCHEMA_CHAN_SIP, odd, 5, &c, err, sizeof(err)), 0);
    CHECK_INT(rt_columns_select(RT_SCHEMA_CHAN_SIP, &c, sel, sizeof(sel)), 0);
    CHECK_STR(sel, "`name`, `fullcontact`, `regseconds`");
    /* a row of those three: the missing ones are NULL */
    struct rt_field f[3] = {{"1821", 4, false}, {"sip:1821@h:5062", 15, false}, {"1700003600", 10, false}};
    struct rt_row r;
    CHECK_INT(rt_row_decode_cols(RT_SCHEMA_CHAN_SIP, &c, f, 3, &r), RT_ROW_OK);
    CHECK_STR(r.ext, "1821");
    CHECK_STR(r.contact, "sip:1821@h:5062");
    CHECK_INT(r.expires, 1700003600);
    CHECK_STR(r.source, "");
    CHECK_STR(r.regserver, "");
    CHECK_STR(r.user_agent, "");
    CHECK_INT(rt_row_decode_cols(RT_SCHEMA_CHAN_SIP, &c, f, 2, &r), RT_ROW_BAD_COLUMNS);
    struct rt_columns bad = c;
    bad.col[1] = 200;
    CHECK_INT(rt_row_decode_cols(RT_SCHEMA_CHAN_SIP, &bad, f, 3, &r), RT_ROW_BAD_COLUMNS);
    bad.n = RT_MAX_COLS + 1;
    CHECK_INT(rt_row_decode_cols(RT_SCHEMA_CHAN_SIP, &bad, f, RT_MAX_COLS + 1, &r), RT_ROW_BAD_COLUMNS);
    /* each needed column missing in turn is named */
    const char *needed[] = {"name", "fullcontact", "regseconds"};
    for (int miss = 0; miss < 3; miss++) {
        const char *names[2];
        int k = 0;
        for (int i = 0; i < 3; i++)
            if (i != miss)
                names[k++] = needed[i];
        CHECK_INT(rt_columns_resolve(RT_SCHEMA_CHAN_SIP, names, 2, &c, err, sizeof(err)), -1);
        char want[120];
        snprintf(want, sizeof(want), "the table has no column %s (chan_sip needs it)", needed[miss]);
        CHECK_STR(err, want);
    }
    /* ps_contacts of 2014: no endpoint, reg_server, via_addr, via_port */
    const char *pj2014[] = {"id", "uri", "expiration_time", "qualify_frequency", "outbound_proxy", "path", "user_agent"};
    CHECK_INT(rt_columns_resolve(RT_SCHEMA_PJSIP, pj2014, 7, &c, err, sizeof(err)), 0);
    CHECK_INT(rt_columns_select(RT_SCHEMA_PJSIP, &c, sel, sizeof(sel)), 0);
    CHECK_STR(sel, "`id`, `uri`, `expiration_time`, `user_agent`");
    struct rt_field g[4] = {{"1831;@t1", 8, false}, {"sip:1831@10.10.30.21", 20, false}, {"1700003600", 10, false},
                            {"old phone", 9, false}};
    CHECK_INT(rt_row_decode_cols(RT_SCHEMA_PJSIP, &c, g, 4, &r), RT_ROW_OK);
    CHECK_STR(r.ext, "1831");
    CHECK_STR(r.user_agent, "old phone");
    CHECK_STR(r.regserver, "");
    const char *nouri[] = {"id", "expiration_time", "endpoint"};
    CHECK_INT(rt_columns_resolve(RT_SCHEMA_PJSIP, nouri, 3, &c, err, sizeof(err)), -1);
    CHECK_STR(err, "the table has no column uri (pjsip needs it)");
    CHECK(rt_row_column_needed(RT_SCHEMA_PJSIP, 0) && !rt_row_column_needed(RT_SCHEMA_PJSIP, 1), "pjsip needs");
    /* a select list that does not fit is refused, not cut */
    CHECK_INT(rt_columns_resolve(RT_SCHEMA_CHAN_SIP, sippeers, 15, &c, err, sizeof(err)), 0);
    CHECK_INT(rt_columns_select(RT_SCHEMA_CHAN_SIP, &c, sel, 20), -1);
}

int main(void)
{
    test_columns();
    test_columns_by_name();
    test_chan_sip();
    test_chan_sip_bad();
    test_pjsip();
    test_number_bounds();
    test_registrar_for();
    return test_summary("test_realtime_row");
}
