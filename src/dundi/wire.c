/* DUNDi wire codec. Every read is bounds-checked against the datagram. */
#include "dundid/wire.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

const char *dundi_strerror(int err)
{
    switch (err) {
    case DUNDI_OK: return "ok";
    case DUNDI_E_EMPTY: return "empty datagram";
    case DUNDI_E_SHORT: return "datagram shorter than the 8-byte header";
    case DUNDI_E_TOO_LONG: return "datagram longer than 8191 bytes";
    case DUNDI_E_IE_TRUNC: return "information element runs past the end of the datagram";
    case DUNDI_E_IE_STRAY: return "stray byte after the last information element";
    case DUNDI_E_NO_SPACE: return "packet would exceed its size limit";
    case DUNDI_E_VALUE_LONG: return "value too long for its information element";
    }
    return "unknown error";
}

const char *dundi_cmd_name(uint8_t cmd)
{
    switch (cmd & 0x7f) {
    case DUNDI_CMD_ACK: return "ACK";
    case DUNDI_CMD_DPDISCOVER: return "DPDISCOVER";
    case DUNDI_CMD_DPRESPONSE: return "DPRESPONSE";
    case DUNDI_CMD_EIDQUERY: return "EIDQUERY";
    case DUNDI_CMD_EIDRESPONSE: return "EIDRESPONSE";
    case DUNDI_CMD_PRECACHERQ: return "PRECACHERQ";
    case DUNDI_CMD_PRECACHERP: return "PRECACHERP";
    case DUNDI_CMD_INVALID: return "INVALID";
    case DUNDI_CMD_UNKNOWN: return "UNKNOWN";
    case DUNDI_CMD_NULL: return "NULL";
    case DUNDI_CMD_REGREQ: return "REGREQ";
    case DUNDI_CMD_REGRESPONSE: return "REGRESPONSE";
    case DUNDI_CMD_CANCEL: return "CANCEL";
    case DUNDI_CMD_ENCRYPT: return "ENCRYPT";
    case DUNDI_CMD_ENCREJ: return "ENCREJ";
    case DUNDI_CMD_STATUS: return "STATUS";
    }
    return NULL;
}

static const char *const ie_names[] = {
    [DUNDI_IE_EID] = "EID",
    [DUNDI_IE_CALLED_CONTEXT] = "CALLED_CONTEXT",
    [DUNDI_IE_CALLED_NUMBER] = "CALLED_NUMBER",
    [DUNDI_IE_EID_DIRECT] = "EID_DIRECT",
    [DUNDI_IE_ANSWER] = "ANSWER",
    [DUNDI_IE_TTL] = "TTL",
    [DUNDI_IE_VERSION] = "VERSION",
    [DUNDI_IE_EXPIRATION] = "EXPIRATION",
    [DUNDI_IE_UNKNOWN] = "UNKNOWN",
    [DUNDI_IE_CAUSE] = "CAUSE",
    [DUNDI_IE_REQEID] = "REQEID",
    [DUNDI_IE_ENCDATA] = "ENCDATA",
    [DUNDI_IE_SHAREDKEY] = "SHAREDKEY",
    [DUNDI_IE_SIGNATURE] = "SIGNATURE",
    [DUNDI_IE_KEYCRC32] = "KEYCRC32",
    [DUNDI_IE_HINT] = "HINT",
    [DUNDI_IE_DEPARTMENT] = "DEPARTMENT",
    [DUNDI_IE_ORGANIZATION] = "ORGANIZATION",
    [DUNDI_IE_LOCALITY] = "LOCALITY",
    [DUNDI_IE_STATE_PROV] = "STATE_PROV",
    [DUNDI_IE_COUNTRY] = "COUNTRY",
    [DUNDI_IE_EMAIL] = "EMAIL",
    [DUNDI_IE_PHONE] = "PHONE",
    [DUNDI_IE_IPADDR] = "IPADDR",
    [DUNDI_IE_CACHEBYPASS] = "CACHEBYPASS",
    [DUNDI_IE_PEERSTATUS] = "PEERSTATUS",
};

const char *dundi_ie_name(uint8_t type)
{
    if (type < sizeof(ie_names) / sizeof(ie_names[0]))
        return ie_names[type];
    return NULL;
}

static const struct {
    const char *name;
    int proto;
} proto_names[] = {
    {"IAX", DUNDI_PROTO_IAX}, {"IAX2", DUNDI_PROTO_IAX}, {"SIP", DUNDI_PROTO_SIP},
    {"H323", DUNDI_PROTO_H323}, {"PJSIP", DUNDI_PROTO_PJSIP},
};

const char *dundi_proto_name(uint8_t proto)
{
    switch (proto) {
    case DUNDI_PROTO_NONE: return "None";
    case DUNDI_PROTO_IAX: return "IAX2";
    case DUNDI_PROTO_SIP: return "SIP";
    case DUNDI_PROTO_H323: return "H323";
    case DUNDI_PROTO_PJSIP: return "PJSIP";
    }
    return "Unknown";
}

int dundi_proto_from_name(const char *name)
{
    for (size_t i = 0; i < sizeof(proto_names) / sizeof(proto_names[0]); i++)
        if (!strcasecmp(name, proto_names[i].name))
            return proto_names[i].proto;
    return -1;
}

static char *bits_str(uint16_t v, const char *const *names, size_t n, const char *none, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++)
        if (v & (1u << i)) {
            int w = snprintf(buf + o, o < len ? len - o : 0, "%s%s", o ? "|" : "", names[i]);
            if (w > 0)
                o += (size_t)w;
        }
    if (!o)
        snprintf(buf, len, "%s", none);
    return buf;
}

char *dundi_flags_str(uint16_t flags, char *buf, size_t len)
{
    static const char *const names[] = {"EXISTS",      "MATCHMORE", "CANMATCH", "IGNOREPAT",     "RESIDENTIAL",
                                        "COMMERCIAL",  "MOBILE",    "NOUNSOLICITED", "NOCOMUNSOLICIT"};
    return bits_str(flags, names, 9, "NONEXISTENT", buf, len);
}

char *dundi_hint_str(uint16_t flags, char *buf, size_t len)
{
    static const char *const names[] = {"TTL_EXPIRED", "DONT_ASK", "UNAFFECTED"};
    return bits_str(flags, names, 3, "NONE", buf, len);
}

const char *dundi_cause_name(int cause)
{
    static const char *const names[] = {"SUCCESS",     "GENERAL", "DYNAMIC",    "NOAUTH",
                                        "DUPLICATE",   "TTL_EXPIRED", "NEEDKEY", "BADENCRYPT"};
    return cause >= 0 && cause < 8 ? names[cause] : "UNKNOWN";
}

int dundi_hdr_decode(const uint8_t *buf, size_t len, struct dundi_hdr *out)
{
    if (len == 0)
        return DUNDI_E_EMPTY;
    if (len < DUNDI_HDR_LEN)
        return DUNDI_E_SHORT;
    if (len > DUNDI_MAX_PACKET)
        return DUNDI_E_TOO_LONG;
    out->strans = get16(buf);
    out->dtrans = get16(buf + 2);
    out->iseqno = buf[4];
    out->oseqno = buf[5];
    out->cmdresp = buf[6];
    out->cmdflags = buf[7];
    return DUNDI_OK;
}

void dundi_hdr_encode(const struct dundi_hdr *h, uint8_t out[DUNDI_HDR_LEN])
{
    out[0] = (uint8_t)(h->strans >> 8);
    out[1] = (uint8_t)h->strans;
    out[2] = (uint8_t)(h->dtrans >> 8);
    out[3] = (uint8_t)h->dtrans;
    out[4] = h->iseqno;
    out[5] = h->oseqno;
    out[6] = h->cmdresp;
    out[7] = h->cmdflags;
}

void dundi_ie_iter_init(struct dundi_ie_iter *it, const uint8_t *ies, size_t len)
{
    it->p = ies;
    it->len = len;
    it->off = 0;
}

int dundi_ie_next(struct dundi_ie_iter *it, struct dundi_ie_raw *ie)
{
    size_t left = it->len - it->off;
    if (left == 0)
        return 0;
    if (left == 1)
        return DUNDI_E_IE_STRAY;
    const uint8_t *p = it->p + it->off;
    ie->type = p[0];
    ie->lenbyte = p[1];
    ie->val = p + 2;
    if (ie->type == DUNDI_IE_ENCDATA) {
        /* The reference ignores ENCDATA's length byte and takes the rest. */
        ie->len = left - 2;
    } else {
        if ((size_t)p[1] > left - 2)
            return DUNDI_E_IE_TRUNC;
        ie->len = p[1];
    }
    it->off += 2 + ie->len;
    return 1;
}

/* Copy a wire string, cut at an embedded NUL like the reference. */
static void copy_str(char *dst, const uint8_t *val, size_t len)
{
    const uint8_t *nul = memchr(val, 0, len);
    if (nul)
        len = (size_t)(nul - val);
    memcpy(dst, val, len);
    dst[len] = '\0';
}

static char *contact_field(struct dundi_ies *o, uint8_t type)
{
    switch (type) {
    case DUNDI_IE_DEPARTMENT: return o->department;
    case DUNDI_IE_ORGANIZATION: return o->organization;
    case DUNDI_IE_LOCALITY: return o->locality;
    case DUNDI_IE_STATE_PROV: return o->stateprov;
    case DUNDI_IE_COUNTRY: return o->country;
    case DUNDI_IE_EMAIL: return o->email;
    case DUNDI_IE_PHONE: return o->phone;
    case DUNDI_IE_IPADDR: return o->ipaddr;
    }
    return NULL;
}

/* Fixed-size IEs: the size each must have (0 = variable). */
static bool size_ok(uint8_t type, size_t len)
{
    switch (type) {
    case DUNDI_IE_EID:
    case DUNDI_IE_EID_DIRECT:
    case DUNDI_IE_REQEID: return len == EID_LEN;
    case DUNDI_IE_TTL:
    case DUNDI_IE_VERSION:
    case DUNDI_IE_EXPIRATION: return len == 2;
    case DUNDI_IE_KEYCRC32: return len == 4;
    case DUNDI_IE_UNKNOWN: return len == 1;
    case DUNDI_IE_SHAREDKEY:
    case DUNDI_IE_SIGNATURE: return len == DUNDI_KEY_BYTES;
    case DUNDI_IE_ANSWER: return len >= 11;
    case DUNDI_IE_HINT: return len >= 2;
    case DUNDI_IE_CAUSE: return len >= 1;
    }
    return true;
}

static void decode_answer(struct dundi_answer *a, const uint8_t *v, size_t len)
{
    memcpy(a->eid.b, v, EID_LEN);
    a->proto = v[6];
    a->flags = get16(v + 7);
    a->weight = get16(v + 9);
    copy_str(a->dest, v + 11, len - 11);
}

static void ies_reset(struct dundi_ies *o)
{
    /* Clear only the scalar part: the big arrays are guarded by their counts. */
    o->eidcount = 0;
    o->anscount = 0;
    o->has_called_context = o->has_called_number = false;
    o->called_context[0] = o->called_number[0] = '\0';
    o->ttl = o->version = o->expiration = o->unknown_cmd = o->cause = -1;
    o->cause_text[0] = '\0';
    o->has_reqeid = false;
    o->has_hint = false;
    o->hint_flags = 0;
    o->hint_data[0] = '\0';
    o->cachebypass = false;
    o->encdata = o->sharedkey = o->signature = NULL;
    o->encdata_len = 0;
    o->has_keycrc32 = false;
    o->keycrc32 = 0;
    o->has_organization = false;
    for (uint8_t t = DUNDI_IE_DEPARTMENT; t <= DUNDI_IE_IPADDR; t++)
        contact_field(o, t)[0] = '\0';
    o->bad_length = o->unknown = o->overflow = 0;
}

int dundi_ies_decode(const uint8_t *ies, size_t len, struct dundi_ies *o)
{
    struct dundi_ie_iter it;
    struct dundi_ie_raw ie;
    int rc;

    ies_reset(o);
    if (len > DUNDI_MAX_IES)
        return DUNDI_E_TOO_LONG;
    dundi_ie_iter_init(&it, ies, len);
    while ((rc = dundi_ie_next(&it, &ie)) > 0) {
        if (!size_ok(ie.type, ie.len)) {
            o->bad_length++;
            continue;
        }
        const uint8_t *v = ie.val;
        switch (ie.type) {
        case DUNDI_IE_EID:
        case DUNDI_IE_EID_DIRECT:
            if (o->eidcount >= DUNDI_MAX_EIDS) {
                o->overflow++;
                break;
            }
            memcpy(o->eids[o->eidcount].b, v, EID_LEN);
            o->eid_direct[o->eidcount++] = ie.type == DUNDI_IE_EID_DIRECT;
            break;
        case DUNDI_IE_REQEID:
            memcpy(o->reqeid.b, v, EID_LEN);
            o->has_reqeid = true;
            break;
        case DUNDI_IE_CALLED_CONTEXT:
            copy_str(o->called_context, v, ie.len);
            o->has_called_context = true;
            break;
        case DUNDI_IE_CALLED_NUMBER:
            copy_str(o->called_number, v, ie.len);
            o->has_called_number = true;
            break;
        case DUNDI_IE_ANSWER:
            if (o->anscount >= DUNDI_MAX_ANSWERS) {
                o->overflow++;
                break;
            }
            decode_answer(&o->answers[o->anscount++], v, ie.len);
            break;
        case DUNDI_IE_TTL: o->ttl = get16(v); break;
        case DUNDI_IE_VERSION: o->version = get16(v); break;
        case DUNDI_IE_EXPIRATION: o->expiration = get16(v); break;
        case DUNDI_IE_UNKNOWN: o->unknown_cmd = v[0]; break;
        case DUNDI_IE_CAUSE:
            o->cause = v[0];
            copy_str(o->cause_text, v + 1, ie.len - 1);
            break;
        case DUNDI_IE_HINT:
            o->has_hint = true;
            o->hint_flags = get16(v);
            copy_str(o->hint_data, v + 2, ie.len - 2);
            break;
        case DUNDI_IE_CACHEBYPASS: o->cachebypass = true; break;
        case DUNDI_IE_ENCDATA:
            o->encdata = v;
            o->encdata_len = ie.len;
            break;
        case DUNDI_IE_SHAREDKEY: o->sharedkey = v; break;
        case DUNDI_IE_SIGNATURE: o->signature = v; break;
        case DUNDI_IE_KEYCRC32:
            o->has_keycrc32 = true;
            o->keycrc32 = get32(v);
            break;
        case DUNDI_IE_DEPARTMENT:
        case DUNDI_IE_ORGANIZATION:
        case DUNDI_IE_LOCALITY:
        case DUNDI_IE_STATE_PROV:
        case DUNDI_IE_COUNTRY:
        case DUNDI_IE_EMAIL:
        case DUNDI_IE_PHONE:
        case DUNDI_IE_IPADDR:
            copy_str(contact_field(o, ie.type), v, ie.len);
            if (ie.type == DUNDI_IE_ORGANIZATION)
                o->has_organization = true;
            break;
        default: o->unknown++; break;
        }
    }
    return rc;
}

/* ---- encoding ---- */

void dundi_ieb_init(struct dundi_ieb *b, size_t cap)
{
    b->len = 0;
    b->cap = cap && cap < DUNDI_MAX_IES ? cap : DUNDI_MAX_IES;
    b->err = DUNDI_OK;
}

int dundi_ieb_error(const struct dundi_ieb *b) { return b->err; }

/* Reserve room for an IE of vlen value bytes; NULL (and sticky error) if it does not fit. */
static uint8_t *ie_reserve(struct dundi_ieb *b, uint8_t type, size_t vlen)
{
    if (b->err)
        return NULL;
    if (vlen > DUNDI_MAX_IE_VALUE) {
        b->err = DUNDI_E_VALUE_LONG;
        return NULL;
    }
    if (b->len + 2 + vlen > b->cap) {
        b->err = DUNDI_E_NO_SPACE;
        return NULL;
    }
    uint8_t *p = b->buf + b->len;
    p[0] = type;
    p[1] = (uint8_t)vlen;
    b->len += 2 + vlen;
    return p + 2;
}

void dundi_ie_put_raw(struct dundi_ieb *b, uint8_t type, const void *val, size_t len)
{
    uint8_t *p = ie_reserve(b, type, len);
    if (p && len)
        memcpy(p, val, len);
}

void dundi_ie_put_eid(struct dundi_ieb *b, uint8_t type, const eid_t *e)
{
    dundi_ie_put_raw(b, type, e->b, EID_LEN);
}

void dundi_ie_put_str(struct dundi_ieb *b, uint8_t type, const char *s)
{
    dundi_ie_put_raw(b, type, s, strlen(s));
}

void dundi_ie_put_u16(struct dundi_ieb *b, uint8_t type, uint16_t v)
{
    uint8_t d[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    dundi_ie_put_raw(b, type, d, 2);
}

void dundi_ie_put_u32(struct dundi_ieb *b, uint8_t type, uint32_t v)
{
    uint8_t d[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    dundi_ie_put_raw(b, type, d, 4);
}

void dundi_ie_put_empty(struct dundi_ieb *b, uint8_t type) { dundi_ie_put_raw(b, type, NULL, 0); }

void dundi_ie_put_answer(struct dundi_ieb *b, const struct dundi_answer *a)
{
    size_t dlen = strlen(a->dest);
    if (dlen > DUNDI_MAX_DEST) {
        if (!b->err)
            b->err = DUNDI_E_VALUE_LONG;
        return;
    }
    uint8_t *p = ie_reserve(b, DUNDI_IE_ANSWER, 11 + dlen);
    if (!p)
        return;
    memcpy(p, a->eid.b, EID_LEN);
    p[6] = a->proto;
    p[7] = (uint8_t)(a->flags >> 8);
    p[8] = (uint8_t)a->flags;
    p[9] = (uint8_t)(a->weight >> 8);
    p[10] = (uint8_t)a->weight;
    memcpy(p + 11, a->dest, dlen);
}

void dundi_ie_put_hint(struct dundi_ieb *b, uint16_t flags, const char *data)
{
    size_t dlen = strlen(data);
    uint8_t *p = ie_reserve(b, DUNDI_IE_HINT, 2 + dlen);
    if (!p)
        return;
    p[0] = (uint8_t)(flags >> 8);
    p[1] = (uint8_t)flags;
    memcpy(p + 2, data, dlen);
}

void dundi_ie_put_cause(struct dundi_ieb *b, uint8_t cause, const char *text)
{
    size_t tlen = text ? strlen(text) : 0;
    uint8_t *p = ie_reserve(b, DUNDI_IE_CAUSE, 1 + tlen);
    if (!p)
        return;
    p[0] = cause;
    if (tlen)
        memcpy(p + 1, text, tlen);
}

void dundi_ie_put_encdata(struct dundi_ieb *b, const uint8_t iv[16], const uint8_t *ct, size_t ctlen)
{
    if (b->err)
        return;
    if (b->len + 2 + 16 + ctlen > b->cap) {
        b->err = DUNDI_E_NO_SPACE;
        return;
    }
    uint8_t *p = b->buf + b->len;
    p[0] = DUNDI_IE_ENCDATA;
    p[1] = (uint8_t)(16 + ctlen); /* the reference writes the truncated value */
    memcpy(p + 2, iv, 16);
    memcpy(p + 18, ct, ctlen);
    b->len += 2 + 16 + ctlen;
}

/* ---- listing format ---- */

struct out {
    char *p;
    size_t cap, len;
};

static void outf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void outf(struct out *o, const char *fmt, ...)
{
    va_list ap;
    size_t room = o->len < o->cap ? o->cap - o->len : 0;
    va_start(ap, fmt);
    int n = vsnprintf(room ? o->p + o->len : NULL, room, fmt, ap); /* no pointer past the end */
    va_end(ap);
    if (n > 0)
        o->len += (size_t)n;
}

/* Append s[0..n): what fits, NUL-terminated; len counts all of it, as
 * vsnprintf's return value does, so outf and out_put agree on truncation. */
static void out_put(struct out *o, const char *s, size_t n)
{
    if (o->len + 1 < o->cap) {
        size_t k = o->cap - 1 - o->len;
        if (k > n)
            k = n;
        memcpy(o->p + o->len, s, k);
        o->p[o->len + k] = '\0';
    }
    o->len += n;
}

static const char hexdig[] = "0123456789abcdef";

/* Strings as the listing shows them: printable ASCII kept, the rest escaped.
 * Staged in chunks: one vsnprintf per byte made the listing the slowest part
 * of a decode. */
static void out_str(struct out *o, const uint8_t *v, size_t len)
{
    char tmp[256];
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (n > sizeof(tmp) - 4) {
            out_put(o, tmp, n);
            n = 0;
        }
        if (v[i] >= 0x20 && v[i] < 0x7f && v[i] != '\\') {
            tmp[n++] = (char)v[i];
        } else {
            tmp[n++] = '\\';
            tmp[n++] = 'x';
            tmp[n++] = hexdig[v[i] >> 4];
            tmp[n++] = hexdig[v[i] & 15];
        }
    }
    out_put(o, tmp, n);
}

static void out_hex(struct out *o, const uint8_t *v, size_t len)
{
    char tmp[256];
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (n > sizeof(tmp) - 2) {
            out_put(o, tmp, n);
            n = 0;
        }
        tmp[n++] = hexdig[v[i] >> 4];
        tmp[n++] = hexdig[v[i] & 15];
    }
    out_put(o, tmp, n);
}

static void format_one(struct out *o, const struct dundi_ie_raw *ie, bool redact)
{
    char eidbuf[EID_STR_LEN];
    const char *name = dundi_ie_name(ie->type);
    const uint8_t *v = ie->val;

    if (name) {
        out_put(o, name, strlen(name));
        out_put(o, "=", 1);
    } else {
        outf(o, "IE%u=", ie->type);
    }
    if (!size_ok(ie->type, ie->len)) {
        outf(o, "<bad length %zu>", ie->len);
        return;
    }
    switch (ie->type) {
    case DUNDI_IE_EID:
    case DUNDI_IE_EID_DIRECT:
    case DUNDI_IE_REQEID: {
        eid_t e;
        memcpy(e.b, v, EID_LEN);
        outf(o, "%s", eid_to_str(&e, eidbuf));
        break;
    }
    case DUNDI_IE_TTL:
    case DUNDI_IE_VERSION:
    case DUNDI_IE_EXPIRATION: outf(o, "%u", get16(v)); break;
    case DUNDI_IE_UNKNOWN: outf(o, "%u", v[0]); break;
    case DUNDI_IE_KEYCRC32: outf(o, "%08x", get32(v)); break;
    case DUNDI_IE_ANSWER: {
        eid_t e;
        memcpy(e.b, v, EID_LEN);
        outf(o, "{'eid': '%s', 'proto': %u, 'flags': '%04x', 'weight': %u, 'data': '", eid_to_str(&e, eidbuf),
             v[6], get16(v + 7), get16(v + 9));
        out_str(o, v + 11, ie->len - 11);
        outf(o, "'}");
        break;
    }
    case DUNDI_IE_HINT:
        outf(o, "{'flags': '%04x', 'data': '", get16(v));
        out_str(o, v + 2, ie->len - 2);
        outf(o, "'}");
        break;
    case DUNDI_IE_CAUSE:
        outf(o, "{'cause': %u, 'text': '", v[0]);
        out_str(o, v + 1, ie->len - 1);
        outf(o, "'}");
        break;
    case DUNDI_IE_ENCDATA:
    case DUNDI_IE_SHAREDKEY:
    case DUNDI_IE_SIGNATURE:
        if (redact) {
            outf(o, "<%zu bytes>", ie->len);
            break;
        }
        out_hex(o, v, ie->len);
        break;
    case DUNDI_IE_PEERSTATUS: out_hex(o, v, ie->len); break;
    case DUNDI_IE_CACHEBYPASS: break;
    default:
        if (name)
            out_str(o, v, ie->len);
        else
            out_hex(o, v, ie->len);
        break;
    }
}

int dundi_ies_format(const uint8_t *ies, size_t len, char *buf, size_t buflen)
{
    return dundi_ies_format_opt(ies, len, buf, buflen, false);
}

int dundi_ies_format_opt(const uint8_t *ies, size_t len, char *buf, size_t buflen, bool redact)
{
    struct out o = {buf, buflen, 0};
    struct dundi_ie_iter it;
    struct dundi_ie_raw ie;
    int rc, n = 0;

    if (!buflen)
        return DUNDI_E_NO_SPACE;
    buf[0] = '\0';
    out_put(&o, "{", 1);
    dundi_ie_iter_init(&it, ies, len);
    while ((rc = dundi_ie_next(&it, &ie)) > 0) {
        if (o.len + 1 >= buflen)
            continue; /* full: only the verdict on the rest is still to come */
        if (n++)
            out_put(&o, ", ", 2);
        format_one(&o, &ie, redact);
    }
    out_put(&o, "}", 1);
    if (rc < 0)
        return rc;
    return (int)(o.len < buflen ? o.len : buflen - 1);
}
