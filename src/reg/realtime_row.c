/* RealTime rows to registrations: column lists and the checked decoder. */
#include "dundid/realtime_row.h"

#include "dundid/decimal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define RT_EXPIRY_MAX ((int64_t)1 << 40) /* far beyond any real epoch, keeps sums safe */

static const char *const cols_sip[] = {"name", "fullcontact", "regseconds", "ipaddr", "port", "regserver",
                                       "useragent"};
static const char *const cols_pjsip[] = {"id",         "endpoint", "uri",      "expiration_time",
                                         "reg_server", "via_addr", "via_port", "user_agent"};
enum { SIP_NAME, SIP_CONTACT, SIP_REGSECONDS, SIP_IPADDR, SIP_PORT, SIP_REGSERVER, SIP_UA };
enum { PJ_ID, PJ_ENDPOINT, PJ_URI, PJ_EXPIRATION, PJ_REGSERVER, PJ_VIA_ADDR, PJ_VIA_PORT, PJ_UA };

size_t rt_row_ncols(enum rt_schema s)
{
    return s == RT_SCHEMA_PJSIP ? sizeof(cols_pjsip) / sizeof(cols_pjsip[0]) : sizeof(cols_sip) / sizeof(cols_sip[0]);
}

const char *rt_row_column(enum rt_schema s, size_t i)
{
    if (i >= rt_row_ncols(s))
        return NULL;
    return s == RT_SCHEMA_PJSIP ? cols_pjsip[i] : cols_sip[i];
}

bool rt_row_column_needed(enum rt_schema s, size_t i)
{
    if (s == RT_SCHEMA_PJSIP)
        return i == PJ_ID || i == PJ_URI || i == PJ_EXPIRATION;
    return i == SIP_NAME || i == SIP_CONTACT || i == SIP_REGSECONDS;
}

int rt_columns_resolve(enum rt_schema s, const char *const *names, size_t n, struct rt_columns *out, char *err,
                       size_t errlen)
{
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < rt_row_ncols(s); i++) {
        bool found = false;
        for (size_t j = 0; j < n && !found; j++)
            found = names[j] && !strcasecmp(names[j], rt_row_column(s, i));
        if (found)
            out->col[out->n++] = (uint8_t)i;
        else if (rt_row_column_needed(s, i)) {
            snprintf(err, errlen, "the table has no column %s (%s needs it)", rt_row_column(s, i),
                     rt_schema_name(s));
            return -1;
        }
    }
    return 0;
}

int rt_columns_select(enum rt_schema s, const struct rt_columns *c, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < c->n; i++) {
        int w = snprintf(buf + used, len - used, "%s`%s`", i ? ", " : "", rt_row_column(s, c->col[i]));
        if (w < 0 || (size_t)w >= len - used)
            return -1;
        used += (size_t)w;
    }
    return 0;
}

const char *rt_row_key_column(enum rt_schema s)
{
    /* A pjsip contact's id is "AOR;@hash" (stored "AOR^3B@hash" by
     * res_config_odbc and res_config_mysql): the AOR is the extension. */
    return s == RT_SCHEMA_PJSIP ? "SUBSTRING_INDEX(REPLACE(`id`, '^3B', ';'), ';@', 1)" : "`name`";
}

const char *rt_row_expiry_column(enum rt_schema s) { return s == RT_SCHEMA_PJSIP ? "expiration_time" : "regseconds"; }

static bool empty(const struct rt_field *f) { return f->null || f->len == 0; }

/* Copy a field that must be printable without spaces, 1..cap-1 bytes. */
static bool take_token(char *dst, size_t cap, const char *p, size_t n, const char *forbidden)
{
    if (n == 0 || n >= cap)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isgraph((unsigned char)p[i]) || strchr(forbidden, p[i]))
            return false;
    memcpy(dst, p, n);
    dst[n] = '\0';
    return true;
}

/* Extensions end up in dial strings and DUNDi numbers. */
#define EXT_FORBIDDEN "@/;,<>\"'\\&|"

static bool take_ext(char *dst, const struct rt_field *f)
{
    return !empty(f) && take_token(dst, REG_EXT_MAX + 1, f->data, f->len, EXT_FORBIDDEN);
}

/* 0..max in decimal; NULL or empty is 0 (never registered). */
static bool take_int(const struct rt_field *f, int64_t max, int64_t *out)
{
    uint64_t v = 0;
    *out = 0;
    if (empty(f))
        return true;
    if (!dec_parse_u64(f->data, f->len, (uint64_t)max, &v))
        return false;
    *out = (int64_t)v;
    return true;
}

static int take_contact(char *dst, const struct rt_field *f)
{
    if (empty(f))
        return RT_ROW_UNREGISTERED;
    if (!take_token(dst, REG_CONTACT_MAX + 1, f->data, f->len, "<>\"") ||
        (strncasecmp(dst, "sip:", 4) && strncasecmp(dst, "sips:", 5)) || !strchr(dst, ':')[1])
        return RT_ROW_BAD_CONTACT;
    return RT_ROW_OK;
}

/* "IP:PORT" ("[IPv6]:PORT"), "IP" without a port, "" without an address. */
static bool take_source(char *dst, const struct rt_field *addr, const struct rt_field *port)
{
    char ip[INET6_ADDRSTRLEN + 1];
    unsigned char bin[16];
    int64_t p;

    dst[0] = '\0';
    if (!take_int(port, 65535, &p))
        return false;
    if (empty(addr))
        return true;
    if (addr->len >= sizeof(ip))
        return false;
    memcpy(ip, addr->data, addr->len);
    ip[addr->len] = '\0';
    bool v6 = inet_pton(AF_INET6, ip, bin) == 1;
    if (!v6 && inet_pton(AF_INET, ip, bin) != 1)
        return false;
    if (p)
        snprintf(dst, REG_SOURCE_MAX + 1, v6 ? "[%s]:%d" : "%s:%d", ip, (int)p);
    else
        snprintf(dst, REG_SOURCE_MAX + 1, "%s", ip);
    return true;
}

static bool take_regserver(char *dst, const struct rt_field *f)
{
    dst[0] = '\0';
    return empty(f) || take_token(dst, REG_REGISTRAR_MAX + 1, f->data, f->len, "/@,;&|\"'\\");
}

/* User agents are informational: cut to size, unprintable bytes become '?'. */
static void take_ua(char *dst, const struct rt_field *f)
{
    size_t n = f->null ? 0 : f->len < REG_UA_MAX ? f->len : REG_UA_MAX;
    for (size_t i = 0; i < n; i++)
        dst[i] = isprint((unsigned char)f->data[i]) ? f->data[i] : '?';
    dst[n] = '\0';
}

static int decode_sip(const struct rt_field *f, struct rt_row *out)
{
    if (!take_ext(out->ext, &f[SIP_NAME]))
        return RT_ROW_BAD_EXT;
    if (!take_int(&f[SIP_REGSECONDS], RT_EXPIRY_MAX, &out->expires))
        return RT_ROW_BAD_EXPIRY;
    int rc = take_contact(out->contact, &f[SIP_CONTACT]);
    if (rc < 0)
        return rc;
    if (!take_source(out->source, &f[SIP_IPADDR], &f[SIP_PORT]))
        return RT_ROW_BAD_SOURCE;
    if (!take_regserver(out->regserver, &f[SIP_REGSERVER]))
        return RT_ROW_BAD_REGSERVER;
    take_ua(out->user_agent, &f[SIP_UA]);
    return rc == RT_ROW_UNREGISTERED || out->expires == 0 ? RT_ROW_UNREGISTERED : RT_ROW_OK;
}

static int decode_pjsip(const struct rt_field *f, struct rt_row *out)
{
    /* The extension is the AOR of "AOR;@hash"; the endpoint column (newer
     * schemas) stands in when the AOR part is empty. */
    const struct rt_field *id = &f[PJ_ID];
    struct rt_field aor = {id->data, 0, id->null};
    while (!id->null && aor.len < id->len &&
           !(id->data[aor.len] == ';' && aor.len + 1 < id->len && id->data[aor.len + 1] == '@'))
        aor.len++;
    if (!take_ext(out->ext, empty(&aor) ? &f[PJ_ENDPOINT] : &aor))
        return RT_ROW_BAD_EXT;
    if (!take_int(&f[PJ_EXPIRATION], RT_EXPIRY_MAX, &out->expires))
        return RT_ROW_BAD_EXPIRY;
    int rc = take_contact(out->contact, &f[PJ_URI]);
    if (rc < 0)
        return rc;
    if (!take_source(out->source, &f[PJ_VIA_ADDR], &f[PJ_VIA_PORT]))
        return RT_ROW_BAD_SOURCE;
    if (!take_regserver(out->regserver, &f[PJ_REGSERVER]))
        return RT_ROW_BAD_REGSERVER;
    take_ua(out->user_agent, &f[PJ_UA]);
    return rc == RT_ROW_UNREGISTERED || out->expires == 0 ? RT_ROW_UNREGISTERED : RT_ROW_OK;
}

size_t rt_field_unescape(const char *in, size_t len, char *out)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        int hi = i + 2 < len ? hex_digit(in[i + 1]) : -1, lo = hi >= 0 ? hex_digit(in[i + 2]) : -1;
        if (in[i] == '^' && lo >= 0) {
            out[n++] = (char)(hi * 16 + lo);
            i += 2;
        } else
            out[n++] = in[i];
    }
    return n;
}

int rt_row_decode(enum rt_schema s, const struct rt_field *f, size_t nf, struct rt_row *out)
{
    char buf[RT_MAX_COLS][RT_FIELD_MAX];
    struct rt_field plain[RT_MAX_COLS];

    memset(out, 0, sizeof(*out));
    if (nf != rt_row_ncols(s) || nf > RT_MAX_COLS)
        return RT_ROW_BAD_COLUMNS;
    for (size_t i = 0; i < nf; i++) {
        if (!f[i].null && f[i].len && !f[i].data)
            return RT_ROW_BAD_COLUMNS;
        /* Asterisk's RealTime drivers store ';' and '^' as "^3B" and "^5E"
         * and undo it when they read: so do we. Longer fields are left as
         * they are (the checks below refuse them). */
        plain[i] = f[i];
        if (!f[i].null && f[i].len <= RT_FIELD_MAX && memchr(f[i].data, '^', f[i].len))
            plain[i] = (struct rt_field){buf[i], rt_field_unescape(f[i].data, f[i].len, buf[i]), false};
    }
    return s == RT_SCHEMA_PJSIP ? decode_pjsip(plain, out) : decode_sip(plain, out);
}

int rt_row_decode_cols(enum rt_schema s, const struct rt_columns *c, const struct rt_field *f, size_t nf,
                       struct rt_row *out)
{
    struct rt_field all[RT_MAX_COLS];
    size_t n = rt_row_ncols(s);
    if (nf != c->n || c->n > n) {
        memset(out, 0, sizeof(*out));
        return RT_ROW_BAD_COLUMNS;
    }
    for (size_t i = 0; i < n; i++)
        all[i] = (struct rt_field){NULL, 0, true};
    for (size_t i = 0; i < nf; i++) {
        if (c->col[i] >= n) {
            memset(out, 0, sizeof(*out));
            return RT_ROW_BAD_COLUMNS;
        }
        all[c->col[i]] = f[i];
    }
    return rt_row_decode(s, all, n, out);
}

const char *rt_row_strerror(int rc)
{
    switch (rc) {
    case RT_ROW_OK: return "ok";
    case RT_ROW_UNREGISTERED: return "not registered";
    case RT_ROW_BAD_EXT: return "bad extension (empty, longer than 80 or with separators)";
    case RT_ROW_BAD_CONTACT: return "bad contact (not a sip:/sips: URI of at most 255 characters)";
    case RT_ROW_BAD_EXPIRY: return "bad expiry (not a non-negative epoch second)";
    case RT_ROW_BAD_SOURCE: return "bad source address or port";
    case RT_ROW_BAD_REGSERVER: return "bad registrar name";
    case RT_ROW_BAD_COLUMNS: return "wrong number of columns";
    }
    return "?";
}
