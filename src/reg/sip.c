/* SIP REGISTER parser (RFC 3261 subset) for the registration snooper.
 *
 * The header section is located and screened before anything else: no NUL or
 * other control character, CR only as part of CRLF. Later stages rely on that:
 * inside one header's value a CR or LF can only come from a folded
 * continuation line, so value parsers simply treat CR and LF as whitespace.
 * Values are walked with a bounded cursor and copied into the caller's fixed
 * buffers; nothing is read outside buf[0, len), and every loop advances.
 */
#include "dundid/sip.h"

#include "dundid/decimal.h"

#include <limits.h>
#include <string.h>

/* A cursor over one header value, [p, end). */
struct cur {
    const char *p, *end;
};

static bool is_wsp(char c)
{
    return c == ' ' || c == '\t';
}

/* Whitespace inside a value: folding leaves its CR/LF behind (see above). */
static bool is_lws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_alnum(char c)
{
    return is_alpha(c) || is_digit(c);
}

/* RFC 3261 25.1 token characters. */
static bool is_token(char c)
{
    if (is_alnum(c))
        return true;
    switch (c) {
    case '-': case '.': case '!': case '%': case '*':
    case '_': case '+': case '`': case '\'': case '~':
        return true;
    default:
        return false;
    }
}

/* ASCII-only case folding, independent of the C locale. */
static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static char upper(char c)
{
    return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}

/* Case-insensitively, is [p, p+n) exactly the literal LIT? */
static bool ieq(const char *p, size_t n, const char *lit)
{
    size_t i = 0;
    for (; i < n; i++)
        if (lit[i] == '\0' || lower(p[i]) != lower(lit[i]))
            return false;
    return lit[i] == '\0';
}

static void skip_lws(struct cur *c)
{
    while (c->p < c->end && is_lws(*c->p))
        c->p++;
}

static bool at(const struct cur *c, char ch)
{
    return c->p < c->end && *c->p == ch;
}

static size_t span_len(const char *from, const char *to)
{
    return (size_t)(to - from);
}

/* Copy [p, p+n) as a string. Values that matter are never silently cut. */
static int copy_str(char *dst, size_t cap, const char *p, size_t n)
{
    if (n >= cap)
        return SIP_E_TOO_LONG;
    memcpy(dst, p, n);
    dst[n] = '\0';
    return SIP_OK;
}

/* Free text (User-Agent): trimmed, each whitespace run (folds included) as one
 * SP. It is informational only, so an overlong value is cut rather than
 * failing the registration, but never in the middle of a UTF-8 sequence. */
static void copy_text_cut(char *dst, size_t cap, const char *p, const char *end)
{
    while (p < end && is_lws(*p))
        p++;
    while (end > p && is_lws(end[-1]))
        end--;
    size_t n = 0;
    while (p < end && n + 1 < cap) {
        if (is_lws(*p)) {
            while (p < end && is_lws(*p))
                p++;
            dst[n++] = ' ';
        } else {
            dst[n++] = *p++;
        }
    }
    if (p < end) {
        size_t k = n, cont = 0;
        while (k > 0 && cont < 3 && ((unsigned char)dst[k - 1] & 0xC0) == 0x80) {
            k--;
            cont++;
        }
        if (k > 0) {
            unsigned char lead = (unsigned char)dst[k - 1];
            size_t need = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : lead >= 0xC0 ? 1 : 0;
            if (lead >= 0xC0 && cont < need)
                n = k - 1;
        }
    }
    dst[n] = '\0';
}

/* At '"': step over a quoted-string, honouring backslash escapes. */
static int skip_quoted(struct cur *c)
{
    c->p++;
    while (c->p < c->end) {
        char ch = *c->p++;
        if (ch == '"')
            return SIP_OK;
        if (ch == '\\') {
            /* quoted-pair cannot escape CR or LF (RFC 3261 25.1) */
            if (c->p >= c->end || *c->p == '\r' || *c->p == '\n')
                return SIP_E_HEADER;
            c->p++;
        }
    }
    return SIP_E_HEADER;
}

/* delta-seconds, saturated at INT_MAX (the RFC allows up to 2^32-1). A
 * malformed value counts as 3600, as RFC 3261 20.19 says for Expires. */
static int delta_seconds(const char *p, size_t n)
{
    uint64_t v;
    if (n == 0 || dec_span(p, n) != n)
        return 3600;
    return dec_parse_u64(p, n, INT_MAX, &v) ? (int)v : INT_MAX;
}

/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), in thousandths. */
static int qvalue(const char *p, size_t n, int *out)
{
    if (n == 0 || n > 5 || (p[0] != '0' && p[0] != '1'))
        return SIP_E_HEADER;
    int v = (p[0] - '0') * 1000;
    if (n > 1) {
        if (p[1] != '.')
            return SIP_E_HEADER;
        int scale = 100;
        for (size_t i = 2; i < n; i++, scale /= 10) {
            if (!is_digit(p[i]))
                return SIP_E_HEADER;
            v += (p[i] - '0') * scale;
        }
    }
    if (v > 1000)
        return SIP_E_HEADER;
    *out = v;
    return SIP_OK;
}

/* scheme ":" something, with no whitespace, quotes or angle brackets: enough
 * to tell a URI from junk without judging the scheme-specific part. */
static bool valid_uri(const char *p, size_t n)
{
    size_t i = 0;
    if (n == 0 || !is_alpha(p[0]))
        return false;
    while (i < n && (is_alnum(p[i]) || p[i] == '+' || p[i] == '-' || p[i] == '.'))
        i++;
    if (i == n || p[i] != ':' || i + 1 == n)
        return false;
    for (; i < n; i++)
        if (is_lws(p[i]) || p[i] == '<' || p[i] == '>' || p[i] == '"')
            return false;
    return true;
}

struct param {
    const char *name, *val; /* val NULL: no "=value" */
    size_t nlen, vlen;
};

/* Unquoted param values (token / host, incl. [IPv6]) end at these. */
static bool ends_value(char c)
{
    return is_lws(c) || c == ';' || c == ',' || c == '"' || c == '<' || c == '>';
}

/* *( SEMI generic-param ): reads the next ";name[=value]". Returns 1 with
 * *pr filled, 0 when no ';' follows, or SIP_E_HEADER. A quoted value comes
 * back without its quotes (escapes left as they are). */
static int next_param(struct cur *c, struct param *pr)
{
    const char *save = c->p;
    skip_lws(c);
    if (!at(c, ';')) {
        c->p = save;
        return 0;
    }
    c->p++;
    skip_lws(c);
    pr->name = c->p;
    while (c->p < c->end && is_token(*c->p))
        c->p++;
    pr->nlen = span_len(pr->name, c->p);
    pr->val = NULL;
    pr->vlen = 0;
    if (pr->nlen == 0)
        return SIP_E_HEADER;
    save = c->p;
    skip_lws(c);
    if (!at(c, '=')) {
        c->p = save;
        return 1;
    }
    c->p++;
    skip_lws(c);
    if (at(c, '"')) {
        const char *q = c->p;
        int rc = skip_quoted(c);
        if (rc != SIP_OK)
            return rc;
        pr->val = q + 1;
        pr->vlen = span_len(q, c->p) - 2;
        return 1;
    }
    pr->val = c->p;
    while (c->p < c->end && !ends_value(*c->p))
        c->p++;
    pr->vlen = span_len(pr->val, c->p);
    return pr->vlen ? 1 : SIP_E_HEADER;
}

/* name-addr or addr-spec; copies the URI and leaves the cursor on whatever
 * params follow. */
static int parse_addr(struct cur *c, char *uri, size_t cap)
{
    skip_lws(c);
    if (at(c, '"')) {
        int rc = skip_quoted(c);
        if (rc != SIP_OK)
            return rc;
        skip_lws(c);
        if (!at(c, '<'))
            return SIP_E_HEADER;
    } else if (!at(c, '<')) {
        /* An unquoted display name runs up to '<'. An addr-spec has no '<'
         * before its first ';' or ',', so this cannot misfire on one. Kept
         * lenient (not just tokens): phones put UTF-8 there unquoted. */
        const char *q = c->p;
        while (q < c->end && *q != '<' && *q != '"' && *q != ',' && *q != ';')
            q++;
        if (q < c->end && *q == '<')
            c->p = q;
    }
    const char *u;
    size_t n;
    if (at(c, '<')) {
        u = ++c->p;
        while (c->p < c->end && *c->p != '>')
            c->p++;
        if (c->p >= c->end)
            return SIP_E_HEADER;
        n = span_len(u, c->p);
        c->p++;
    } else {
        /* addr-spec: params after it belong to the header (RFC 3261 20), and
         * a URI with ';' or ',' of its own must use <>: stop at either. */
        u = c->p;
        while (c->p < c->end && !is_lws(*c->p) && *c->p != ';' && *c->p != ',')
            c->p++;
        n = span_len(u, c->p);
    }
    if (!valid_uri(u, n))
        return SIP_E_HEADER;
    return copy_str(uri, cap, u, n);
}

/* The whole value must have been consumed (trailing whitespace aside). */
static int expect_end(struct cur *c)
{
    skip_lws(c);
    return c->p == c->end ? SIP_OK : SIP_E_HEADER;
}

/* To / From: one address, its params (tag, ...) skipped. */
static int parse_party(struct cur *c, char *uri, size_t cap)
{
    int rc = parse_addr(c, uri, cap);
    if (rc != SIP_OK)
        return rc;
    struct param pr;
    while ((rc = next_param(c, &pr)) > 0)
        ;
    if (rc < 0)
        return rc;
    return expect_end(c);
}

/* The user part of a sip:/sips: URI, or the number of a tel: URI, with
 * %-escapes decoded; "" when there is none. */
static int uri_user(const char *uri, char *out, size_t cap)
{
    out[0] = '\0';
    const char *colon = strchr(uri, ':');
    if (!colon)
        return SIP_OK;
    size_t sn = span_len(uri, colon);
    const char *u = colon + 1, *ue;
    if (ieq(uri, sn, "sip") || ieq(uri, sn, "sips")) {
        const char *atp = strchr(u, '@');
        if (!atp)
            return SIP_OK;
        const char *pw = memchr(u, ':', span_len(u, atp));
        ue = pw ? pw : atp;
    } else if (ieq(uri, sn, "tel")) {
        ue = u;
        while (*ue && *ue != ';')
            ue++;
    } else {
        return SIP_OK;
    }
    size_t n = 0;
    for (const char *p = u; p < ue; p++) {
        char ch = *p;
        if (ch == '%') {
            if (span_len(p, ue) < 3 || hex_digit(p[1]) < 0 || hex_digit(p[2]) < 0)
                return SIP_E_HEADER;
            ch = (char)(hex_digit(p[1]) * 16 + hex_digit(p[2]));
            /* the screening promise (no control characters) holds for decoded text too */
            if ((unsigned char)ch < 0x20 || ch == 0x7f)
                return SIP_E_HEADER;
            p += 2;
        }
        if (n + 1 >= cap)
            return SIP_E_TOO_LONG;
        out[n++] = ch;
    }
    out[n] = '\0';
    return SIP_OK;
}

static struct sip_contact *new_contact(struct sip_msg *m)
{
    if (m->ncontacts >= SIP_MAX_CONTACTS)
        return NULL;
    struct sip_contact *ct = &m->contacts[m->ncontacts++];
    ct->expires = -1;
    ct->q = -1;
    return ct;
}

/* Contact: ( "*" / contact-param *( COMMA contact-param ) ). Commas inside <>
 * or quoted strings do not split, as the parsers above step over those. */
static int parse_contacts(struct cur *c, struct sip_msg *m)
{
    skip_lws(c);
    if (c->p == c->end)
        return SIP_E_HEADER;
    if (at(c, '*')) {
        /* "*" stands alone; otherwise it starts a token display name */
        struct cur look = {c->p + 1, c->end};
        if (expect_end(&look) == SIP_OK) {
            struct sip_contact *ct = new_contact(m);
            if (!ct)
                return SIP_E_TOO_MANY;
            ct->star = true;
            return SIP_OK;
        }
    }
    for (;;) {
        struct sip_contact *ct = new_contact(m);
        if (!ct)
            return SIP_E_TOO_MANY;
        int rc = parse_addr(c, ct->uri, sizeof(ct->uri));
        if (rc != SIP_OK)
            return rc;
        struct param pr;
        while ((rc = next_param(c, &pr)) > 0) {
            if (ieq(pr.name, pr.nlen, "expires")) {
                ct->expires = pr.val ? delta_seconds(pr.val, pr.vlen) : 3600;
            } else if (ieq(pr.name, pr.nlen, "q")) {
                if (!pr.val || qvalue(pr.val, pr.vlen, &ct->q) != SIP_OK)
                    return SIP_E_HEADER;
            }
        }
        if (rc < 0)
            return rc;
        skip_lws(c);
        if (c->p == c->end)
            return SIP_OK;
        if (*c->p != ',')
            return SIP_E_HEADER;
        c->p++;
    }
}

/* via-parm = sent-protocol LWS sent-by *( SEMI via-params ); only the first
 * value of the header is read (the top Via). */
static int parse_via(struct cur *c, struct sip_msg *m)
{
    const char *t = NULL;
    size_t tn = 0;
    for (int part = 0; part < 3; part++) { /* "SIP" / "2.0" / transport */
        skip_lws(c);
        t = c->p;
        while (c->p < c->end && is_token(*c->p))
            c->p++;
        tn = span_len(t, c->p);
        if (tn == 0)
            return SIP_E_HEADER;
        if (part < 2) {
            skip_lws(c);
            if (!at(c, '/'))
                return SIP_E_HEADER;
            c->p++;
        }
    }
    if (tn >= sizeof(m->via_transport))
        return SIP_E_TOO_LONG;
    for (size_t i = 0; i < tn; i++)
        m->via_transport[i] = upper(t[i]);
    m->via_transport[tn] = '\0';
    if (c->p >= c->end || !is_lws(*c->p))
        return SIP_E_HEADER;
    skip_lws(c);

    const char *h = c->p;
    if (at(c, '[')) {
        c->p++;
        while (c->p < c->end && (hex_digit(*c->p) >= 0 || *c->p == ':' || *c->p == '.'))
            c->p++;
        if (!at(c, ']') || span_len(h, c->p) < 3)
            return SIP_E_HEADER;
        c->p++;
    } else {
        while (c->p < c->end && (is_alnum(*c->p) || *c->p == '-' || *c->p == '.' || *c->p == '_'))
            c->p++;
        if (c->p == h)
            return SIP_E_HEADER;
    }
    int rc = copy_str(m->via_host, sizeof(m->via_host), h, span_len(h, c->p));
    if (rc != SIP_OK)
        return rc;

    /* default port of the transport (RFC 3261 18.2.2, 19.1.2) */
    unsigned long port = strcmp(m->via_transport, "TLS") == 0 ? 5061 : 5060;
    const char *save = c->p;
    skip_lws(c);
    if (at(c, ':')) {
        c->p++;
        skip_lws(c);
        size_t nd = dec_span(c->p, span_len(c->p, c->end));
        uint64_t v;
        if (!dec_parse_u64(c->p, nd, 65535, &v) || v == 0)
            return SIP_E_HEADER;
        c->p += nd;
        port = (unsigned long)v;
    } else {
        c->p = save;
    }
    m->via_port = (uint16_t)port;

    struct param pr;
    while ((rc = next_param(c, &pr)) > 0) {
        if (ieq(pr.name, pr.nlen, "branch") && pr.val) {
            rc = copy_str(m->via_branch, sizeof(m->via_branch), pr.val, pr.vlen);
            if (rc != SIP_OK)
                return rc;
        }
    }
    if (rc < 0)
        return rc;
    skip_lws(c);
    return c->p == c->end || *c->p == ',' ? SIP_OK : SIP_E_HEADER;
}

/* CSeq = 1*DIGIT LWS Method */
static int parse_cseq(struct cur *c, struct sip_msg *m)
{
    skip_lws(c);
    size_t nd = dec_span(c->p, span_len(c->p, c->end));
    uint64_t v;
    if (!dec_parse_u64(c->p, nd, UINT32_MAX, &v))
        return SIP_E_HEADER;
    c->p += nd;
    if (c->p == c->end || !is_lws(*c->p))
        return SIP_E_HEADER;
    m->cseq = (uint32_t)v;
    skip_lws(c);
    const char *meth = c->p;
    while (c->p < c->end && is_token(*c->p))
        c->p++;
    if (c->p == meth)
        return SIP_E_HEADER;
    int rc = copy_str(m->cseq_method, sizeof(m->cseq_method), meth, span_len(meth, c->p));
    return rc != SIP_OK ? rc : expect_end(c);
}

/* Call-ID = word [ "@" word ]: one non-empty run without whitespace. */
static int parse_call_id(struct cur *c, struct sip_msg *m)
{
    skip_lws(c);
    const char *s = c->p;
    while (c->p < c->end && !is_lws(*c->p))
        c->p++;
    const char *e = c->p;
    if (e == s || expect_end(c) != SIP_OK)
        return SIP_E_HEADER;
    return copy_str(m->call_id, sizeof(m->call_id), s, span_len(s, e));
}

enum hkind { HK_OTHER, HK_VIA, HK_TO, HK_FROM, HK_CALLID, HK_CSEQ, HK_CONTACT, HK_EXPIRES, HK_UA };

static const struct {
    const char *name;
    char compact; /* RFC 3261 7.3.3 compact form, 0 if none */
    enum hkind kind;
} header_names[] = {
    {"Via", 'v', HK_VIA},         {"To", 't', HK_TO},
    {"From", 'f', HK_FROM},       {"Call-ID", 'i', HK_CALLID},
    {"CSeq", 0, HK_CSEQ},         {"Contact", 'm', HK_CONTACT},
    {"Expires", 0, HK_EXPIRES},   {"User-Agent", 0, HK_UA},
};

static enum hkind header_kind(const char *name, size_t n)
{
    for (size_t i = 0; i < sizeof(header_names) / sizeof(header_names[0]); i++) {
        if (ieq(name, n, header_names[i].name))
            return header_names[i].kind;
        if (n == 1 && header_names[i].compact && lower(name[0]) == header_names[i].compact)
            return header_names[i].kind;
    }
    return HK_OTHER;
}

/* End of the line starting at i (before CR LF / LF) and the next line's
 * start. Only called inside the screened section, where every line ends in LF. */
static size_t line_end(const char *buf, size_t i, size_t hend, size_t *next)
{
    const char *nl = memchr(buf + i, '\n', hend - i);
    size_t e = (size_t)(nl - buf);
    *next = e + 1;
    if (e > i && buf[e - 1] == '\r')
        e--;
    return e;
}

/* Request-Line = Method SP Request-URI SP SIP-Version, or
 * Status-Line = SIP-Version SP Status-Code SP Reason-Phrase. */
static int parse_start_line(const char *p, const char *e, struct sip_msg *m)
{
    /* the version is case-insensitive (RFC 3261 7.1) */
    if (span_len(p, e) >= 7 && ieq(p, 7, "SIP/2.0")) {
        p += 7;
        if (span_len(p, e) < 4 || p[0] != ' ' || !is_digit(p[1]) || !is_digit(p[2]) || !is_digit(p[3]))
            return SIP_E_START_LINE;
        int status = (p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0');
        p += 4;
        if (status < 100 || status > 699 || (p < e && *p != ' '))
            return SIP_E_START_LINE;
        m->is_request = false;
        m->status = status;
        return SIP_OK;
    }
    const char *meth = p;
    while (p < e && is_token(*p))
        p++;
    const char *meth_end = p;
    if (p == meth || p >= e || *p != ' ')
        return SIP_E_START_LINE;
    const char *u = ++p;
    while (p < e && *p != ' ')
        p++;
    const char *u_end = p;
    if (u_end == u || p >= e)
        return SIP_E_START_LINE;
    p++;
    if (span_len(p, e) != 7 || !ieq(p, 7, "SIP/2.0"))
        return SIP_E_START_LINE;
    /* method names are case-sensitive (RFC 3261 7.1) */
    if (span_len(meth, meth_end) != 8 || memcmp(meth, "REGISTER", 8) != 0)
        return SIP_E_NOT_REGISTER;
    if (!valid_uri(u, span_len(u, u_end)))
        return SIP_E_START_LINE;
    int rc = copy_str(m->request_uri, sizeof(m->request_uri), u, span_len(u, u_end));
    if (rc != SIP_OK)
        return rc;
    m->is_request = true;
    memcpy(m->method, "REGISTER", sizeof("REGISTER"));
    return SIP_OK;
}

enum { SEEN_VIA = 1, SEEN_TO = 2, SEEN_FROM = 4, SEEN_CALLID = 8, SEEN_CSEQ = 16, SEEN_EXPIRES = 32,
       SEEN_UA = 64 };

/* One header. Pass 0 checks the layout of every header and reads CSeq, so a
 * response to another method is told apart before its other headers can
 * fail; pass 1 reads the rest. */
static int parse_header(enum hkind kind, struct cur *c, struct sip_msg *m, unsigned *seen, int pass)
{
    static const unsigned bit[] = {
        [HK_VIA] = SEEN_VIA,       [HK_TO] = SEEN_TO,         [HK_FROM] = SEEN_FROM,
        [HK_CALLID] = SEEN_CALLID, [HK_CSEQ] = SEEN_CSEQ,     [HK_EXPIRES] = SEEN_EXPIRES,
        [HK_UA] = SEEN_UA,
    };
    if (kind == HK_OTHER || (pass == 0) != (kind == HK_CSEQ))
        return SIP_OK;
    if (kind == HK_CONTACT)
        return parse_contacts(c, m);
    if (*seen & bit[kind]) {
        /* only the top Via matters, and a second User-Agent is harmless; two
         * of the others would leave it open which one the registrar used */
        return kind == HK_VIA || kind == HK_UA ? SIP_OK : SIP_E_HEADER;
    }
    *seen |= bit[kind];
    switch (kind) {
    case HK_VIA:
        return parse_via(c, m);
    case HK_TO: {
        int rc = parse_party(c, m->to_uri, sizeof(m->to_uri));
        return rc != SIP_OK ? rc : uri_user(m->to_uri, m->to_user, sizeof(m->to_user));
    }
    case HK_FROM:
        return parse_party(c, m->from_uri, sizeof(m->from_uri));
    case HK_CALLID:
        return parse_call_id(c, m);
    case HK_CSEQ:
        return parse_cseq(c, m);
    case HK_EXPIRES:
        skip_lws(c);
        while (c->end > c->p && is_lws(c->end[-1]))
            c->end--;
        m->expires = delta_seconds(c->p, span_len(c->p, c->end));
        return SIP_OK;
    case HK_UA:
        copy_text_cut(m->user_agent, sizeof(m->user_agent), c->p, c->end);
        return SIP_OK;
    default:
        return SIP_OK;
    }
}

/* Walk the header lines [i, hend), joining folded continuation lines. */
static int parse_headers(const char *buf, size_t i, size_t hend, struct sip_msg *m, unsigned *seen, int pass)
{
    while (i < hend) {
        if (is_wsp(buf[i]))
            return SIP_E_HEADER; /* a continuation with nothing to continue */
        size_t next;
        size_t vend = line_end(buf, i, hend, &next);
        while (next < hend && is_wsp(buf[next]))
            vend = line_end(buf, next, hend, &next);
        /* field-name HCOLON: the colon may follow SP/HTAB but not a fold */
        size_t k = i;
        while (k < vend && is_token(buf[k]))
            k++;
        size_t name_end = k;
        while (k < vend && is_wsp(buf[k]))
            k++;
        if (name_end == i || k >= vend || buf[k] != ':')
            return SIP_E_HEADER;
        struct cur c = {buf + k + 1, buf + vend};
        int rc = parse_header(header_kind(buf + i, name_end - i), &c, m, seen, pass);
        if (rc != SIP_OK)
            return rc;
        i = next;
    }
    return SIP_OK;
}

int sip_parse(const char *buf, size_t len, struct sip_msg *out)
{
    memset(out, 0, sizeof(*out));
    out->expires = -1;
    if (len > SIP_MAX_MSG)
        return SIP_E_TOO_LONG;
    if (!buf)
        return SIP_E_TRUNCATED;

    /* Empty lines before the start line are ignored (RFC 3261 7.5); that
     * also covers CRLF keep-alives. */
    size_t pos = 0;
    for (;;) {
        if (pos < len && buf[pos] == '\n')
            pos++;
        else if (pos + 1 < len && buf[pos] == '\r' && buf[pos + 1] == '\n')
            pos += 2;
        else
            break;
    }

    /* The header section ends at the first empty line after the start line. */
    size_t hend = 0;
    bool ended = false;
    for (size_t i = pos; i < len;) {
        const char *nl = memchr(buf + i, '\n', len - i);
        if (!nl)
            break;
        size_t n = (size_t)(nl - (buf + i));
        if (i > pos && (n == 0 || (n == 1 && buf[i] == '\r'))) {
            hend = i;
            ended = true;
            break;
        }
        i += n + 1;
    }
    if (!ended)
        return SIP_E_TRUNCATED;

    /* Screen the section: no NUL or other control bytes, CR only before LF.
     * buf[hend - 1] is LF, so buf[i + 1] stays inside the section. */
    for (size_t i = pos; i < hend; i++) {
        unsigned char ch = (unsigned char)buf[i];
        if (ch == '\r') {
            if (buf[i + 1] != '\n')
                return SIP_E_HEADER;
        } else if ((ch < 0x20 && ch != '\t' && ch != '\n') || ch == 0x7f) {
            return SIP_E_HEADER;
        }
    }

    size_t first;
    size_t sl_end = line_end(buf, pos, hend, &first);
    int rc = parse_start_line(buf + pos, buf + sl_end, out);
    if (rc != SIP_OK)
        return rc;

    unsigned seen = 0;
    rc = parse_headers(buf, first, hend, out, &seen, 0);
    if (rc != SIP_OK)
        return rc;
    if (!(seen & SEEN_CSEQ))
        return SIP_E_MISSING;
    bool is_register = strcmp(out->cseq_method, "REGISTER") == 0;
    if (!out->is_request && !is_register)
        return SIP_E_NOT_REGISTER;
    if (!is_register)
        return SIP_E_HEADER; /* a REGISTER's CSeq must name REGISTER (RFC 3261 8.1.1.5) */
    rc = parse_headers(buf, first, hend, out, &seen, 1);
    if (rc != SIP_OK)
        return rc;
    if (!(seen & SEEN_CALLID) || !(seen & SEEN_TO) || !(seen & SEEN_FROM))
        return SIP_E_MISSING;
    if (out->is_request && !(seen & SEEN_VIA))
        return SIP_E_MISSING;
    if (!out->is_request)
        memcpy(out->method, out->cseq_method, sizeof(out->method));
    return SIP_OK;
}

int sip_contact_expires(const struct sip_msg *m, unsigned i, int default_expires)
{
    if (!m || i >= m->ncontacts || i >= SIP_MAX_CONTACTS)
        return -1;
    if (m->contacts[i].expires >= 0)
        return m->contacts[i].expires;
    if (m->expires >= 0)
        return m->expires;
    return default_expires;
}

int sip_uri_strip(const char *uri, char *out, size_t outlen)
{
    if (!out || outlen == 0)
        return -1;
    out[0] = '\0';
    if (!uri)
        return -1;
    size_t n = strlen(uri);
    if (!valid_uri(uri, n))
        return -1;
    const char *s = strchr(uri, ':') + 1, *e = uri + n;
    /* '@' cannot appear unescaped in URI params or headers, so the first one
     * ends the userinfo even when the user part holds ';' or '?'. */
    const char *atp = memchr(s, '@', span_len(s, e));
    const char *h = atp ? atp + 1 : s, *he = h;
    while (he < e && *he != ';' && *he != '?')
        he++;
    size_t un = 0;
    if (atp) {
        const char *pw = memchr(s, ':', span_len(s, atp)); /* never hand out a password */
        un = span_len(s, pw ? pw : atp);
    }
    size_t hn = span_len(h, he);
    size_t total = un + (un ? 1 : 0) + hn;
    if (hn == 0 || total >= outlen)
        return -1;
    memcpy(out, s, un);
    if (un)
        out[un] = '@';
    memcpy(out + un + (un ? 1 : 0), h, hn);
    out[total] = '\0';
    return 0;
}

const char *sip_strerror(int err)
{
    switch (err) {
    case SIP_OK: return "ok";
    case SIP_E_TRUNCATED: return "truncated: no blank line ending the headers";
    case SIP_E_START_LINE: return "malformed request or status line";
    case SIP_E_NOT_REGISTER: return "not a REGISTER request or response";
    case SIP_E_HEADER: return "malformed header";
    case SIP_E_MISSING: return "required header missing";
    case SIP_E_TOO_LONG: return "value or message too long";
    case SIP_E_TOO_MANY: return "too many contacts";
    default: return "unknown error";
    }
}
