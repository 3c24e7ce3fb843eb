/* HEP (Homer Encapsulation Protocol) v1/v2/v3 decoder and a HEPv3 encoder.
 * See include/dundid/hep.h for the wire formats. Every read is preceded by a
 * check against the datagram length; the chunk walk advances by at least the
 * 6-byte chunk header on each step, so it ends after at most len/6 steps. */
#include "dundid/hep.h"

#include <limits.h>
#include <string.h>
#include <sys/socket.h>
#include <zlib.h>

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[1] << 8 | p[0]);
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* Wire family value (the sender's AF_INET/AF_INET6) to ours; 0 if unknown. */
static int wire_family(unsigned v)
{
    switch (v) {
    case 2:
        return AF_INET;
    case 10: /* Linux */
    case 24: /* NetBSD, OpenBSD */
    case 28: /* FreeBSD, DragonFly */
    case 30: /* macOS */
        return AF_INET6;
    default:
        return 0;
    }
}

const char *hep_strerror(int err)
{
    switch (err) {
    case HEP_OK:
        return "ok";
    case HEP_E_SHORT:
        return "datagram too short";
    case HEP_E_MAGIC:
        return "not a HEP datagram";
    case HEP_E_LENGTH:
        return "inconsistent length";
    case HEP_E_CHUNK:
        return "chunk of the wrong size";
    case HEP_E_MISSING:
        return "no payload or no addresses";
    case HEP_E_FAMILY:
        return "unknown address family";
    default:
        return "unknown error";
    }
}

/* HEPv1 (no time header) and HEPv2. The caller checked len >= 8. */
static int decode_v12(const uint8_t *buf, size_t len, struct hep_msg *out)
{
    int fam = wire_family(buf[2]);
    if (!fam)
        return HEP_E_FAMILY;
    size_t alen = fam == AF_INET ? 4 : 16;
    size_t fixed = 8 + 2 * alen;
    /* The header-length byte covers the 8 fixed bytes and the two addresses
     * (the v2 time header comes after it): anything else, including a value
     * pointing past the datagram, is not a header we can trust. */
    if (buf[1] != fixed)
        return HEP_E_LENGTH;
    size_t off = fixed + (buf[0] == 2 ? 12 : 0);
    if (len < off)
        return HEP_E_SHORT;

    out->version = buf[0];
    out->family = fam;
    out->ip_proto = buf[3];
    out->sport = be16(buf + 4);
    out->dport = be16(buf + 6);
    memcpy(out->src, buf + 8, alen);
    memcpy(out->dst, buf + 8 + alen, alen);
    if (buf[0] == 2) {
        const uint8_t *t = buf + fixed;
        out->ts_sec = le32(t);
        out->ts_usec = le32(t + 4);
        out->capture_id = le16(t + 8);
    }
    out->proto_type = HEP_PROTO_SIP;
    if (len == off)
        return HEP_E_MISSING;
    out->payload = buf + off;
    out->payload_len = len - off;
    return HEP_OK;
}

/* Does a generic chunk of type t with a value of vlen bytes have the size
 * the specification gives it? Types without a fixed size always do. */
static bool chunk_size_ok(unsigned t, size_t vlen)
{
    switch (t) {
    case HEP_CT_IP_FAMILY:
    case HEP_CT_IP_PROTO:
    case HEP_CT_PROTO_TYPE:
        return vlen == 1;
    case HEP_CT_SRC_PORT:
    case HEP_CT_DST_PORT:
        return vlen == 2;
    case HEP_CT_IPV4_SRC:
    case HEP_CT_IPV4_DST:
    case HEP_CT_TS_SEC:
    case HEP_CT_TS_USEC:
    case HEP_CT_CAPTURE_ID:
        return vlen == 4;
    case HEP_CT_IPV6_SRC:
    case HEP_CT_IPV6_DST:
        return vlen == 16;
    default:
        return true;
    }
}

/* HEPv3. The caller checked len >= 6 and the magic. */
static int decode_v3(const uint8_t *buf, size_t len, struct hep_msg *out)
{
    if (be16(buf + 4) != len) /* one packet per datagram, nothing trailing */
        return HEP_E_LENGTH;

    int fam_byte = -1;
    const uint8_t *v4s = NULL, *v4d = NULL, *v6s = NULL, *v6d = NULL;
    const uint8_t *plain = NULL, *zipped = NULL;
    size_t plain_len = 0, zipped_len = 0;

    out->version = 3;
    for (size_t off = HEP3_HDR_LEN; off < len;) {
        if (len - off < HEP3_CHUNK_HDR)
            return HEP_E_LENGTH;
        const uint8_t *c = buf + off;
        size_t clen = be16(c + 4);
        if (clen < HEP3_CHUNK_HDR || clen > len - off)
            return HEP_E_LENGTH;
        off += clen; /* >= 6: the walk always advances */
        if (be16(c) != 0)
            continue; /* vendor chunk */
        unsigned type = be16(c + 2);
        const uint8_t *v = c + HEP3_CHUNK_HDR;
        size_t vlen = clen - HEP3_CHUNK_HDR;
        if (!chunk_size_ok(type, vlen))
            return HEP_E_CHUNK;
        switch (type) {
        case HEP_CT_IP_FAMILY:
            fam_byte = v[0];
            break;
        case HEP_CT_IP_PROTO:
            out->ip_proto = v[0];
            break;
        case HEP_CT_IPV4_SRC:
            v4s = v;
            break;
        case HEP_CT_IPV4_DST:
            v4d = v;
            break;
        case HEP_CT_IPV6_SRC:
            v6s = v;
            break;
        case HEP_CT_IPV6_DST:
            v6d = v;
            break;
        case HEP_CT_SRC_PORT:
            out->sport = be16(v);
            break;
        case HEP_CT_DST_PORT:
            out->dport = be16(v);
            break;
        case HEP_CT_TS_SEC:
            out->ts_sec = be32(v);
            break;
        case HEP_CT_TS_USEC:
            out->ts_usec = be32(v);
            break;
        case HEP_CT_PROTO_TYPE:
            out->proto_type = v[0];
            break;
        case HEP_CT_CAPTURE_ID:
            out->capture_id = be32(v);
            break;
        case HEP_CT_AUTH_KEY:
            out->auth_key = (const char *)v;
            out->auth_key_len = vlen;
            break;
        case HEP_CT_PAYLOAD:
            plain = v;
            plain_len = vlen;
            break;
        case HEP_CT_PAYLOAD_Z:
            zipped = v;
            zipped_len = vlen;
            break;
        case HEP_CT_CORRELATION:
            out->correlation_id = (const char *)v;
            out->correlation_id_len = vlen;
            break;
        default: /* keep-alive timer and later additions */
            break;
        }
    }

    if (fam_byte >= 0) {
        out->family = wire_family((unsigned)fam_byte);
        if (!out->family)
            return HEP_E_FAMILY;
    } else if (v4s && v4d) {
        out->family = AF_INET;
    } else if (v6s && v6d) {
        out->family = AF_INET6;
    } else {
        return HEP_E_MISSING;
    }
    if (out->family == AF_INET) {
        if (!v4s || !v4d)
            return HEP_E_MISSING;
        memcpy(out->src, v4s, 4);
        memcpy(out->dst, v4d, 4);
    } else {
        if (!v6s || !v6d)
            return HEP_E_MISSING;
        memcpy(out->src, v6s, 16);
        memcpy(out->dst, v6d, 16);
    }

    if (plain && plain_len) {
        out->payload = plain;
        out->payload_len = plain_len;
    } else if (zipped && zipped_len) {
        out->payload = zipped;
        out->payload_len = zipped_len;
        out->payload_compressed = true;
    } else {
        return HEP_E_MISSING;
    }
    return HEP_OK;
}

int hep_decode(const uint8_t *buf, size_t len, struct hep_msg *out)
{
    memset(out, 0, sizeof(*out));
    if (!buf || len == 0)
        return HEP_E_SHORT;
    if (buf[0] == 1 || buf[0] == 2)
        return len < 8 ? HEP_E_SHORT : decode_v12(buf, len, out);
    if (memcmp(buf, "HEP3", len < 4 ? len : 4) != 0)
        return HEP_E_MAGIC;
    if (len < HEP3_HDR_LEN)
        return HEP_E_SHORT;
    return decode_v3(buf, len, out);
}

bool hep_auth_ok(const struct hep_msg *m, const char *password)
{
    if (!m || !password || !m->auth_key)
        return false;
    size_t plen = strlen(password), klen = m->auth_key_len;
    const unsigned char *k = (const unsigned char *)m->auth_key;
    const unsigned char *p = (const unsigned char *)password;
    /* Walk the whole password whatever the key holds; no early exit. */
    volatile unsigned diff = klen != plen;
    for (size_t i = 0; i < plen; i++)
        diff |= (unsigned)(p[i] ^ (i < klen ? k[i] : 0u));
    return diff == 0;
}

long hep_inflate(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
    if (!in || !out || len == 0 || len > UINT_MAX)
        return -1;
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, 15 + 32) != Z_OK) /* zlib or gzip header */
        return -1;
    zs.next_in = (Bytef *)(uintptr_t)in; /* zlib does not write through it */
    zs.avail_in = (uInt)len;
    zs.next_out = out;
    zs.avail_out = cap > UINT_MAX ? UINT_MAX : (uInt)cap;
    int rc = inflate(&zs, Z_FINISH);
    long n = (long)zs.total_out;
    inflateEnd(&zs);
    return rc == Z_STREAM_END ? n : -1;
}

/* ---- encoder ---- */

struct wbuf {
    uint8_t *p;
    size_t len;
};

static void put16(struct wbuf *w, unsigned v)
{
    w->p[w->len++] = (uint8_t)(v >> 8);
    w->p[w->len++] = (uint8_t)v;
}

static void put_chunk(struct wbuf *w, unsigned type, const void *val, size_t vlen)
{
    put16(w, 0);
    put16(w, type);
    put16(w, (unsigned)(HEP3_CHUNK_HDR + vlen));
    if (vlen)
        memcpy(w->p + w->len, val, vlen);
    w->len += vlen;
}

static void put_u8(struct wbuf *w, unsigned type, unsigned v)
{
    uint8_t b = (uint8_t)v;
    put_chunk(w, type, &b, 1);
}

static void put_u16(struct wbuf *w, unsigned type, unsigned v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    put_chunk(w, type, b, 2);
}

static void put_u32(struct wbuf *w, unsigned type, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    put_chunk(w, type, b, 4);
}

int hep3_encode(const struct hep_msg *m, uint8_t *out, size_t cap)
{
    if (!m || !out || (m->family != AF_INET && m->family != AF_INET6))
        return -1;
    size_t alen = m->family == AF_INET ? 4 : 16;
    size_t auth = m->auth_key ? m->auth_key_len : 0, corr = m->correlation_id ? m->correlation_id_len : 0;
    if (auth > HEP3_MAX_LEN || corr > HEP3_MAX_LEN || m->payload_len > HEP3_MAX_LEN)
        return -1;
    size_t need = HEP3_HDR_LEN + 3 * (HEP3_CHUNK_HDR + 1) /* family, proto, type */
                  + 2 * (HEP3_CHUNK_HDR + 2)               /* ports */
                  + 3 * (HEP3_CHUNK_HDR + 4)               /* times, capture id */
                  + 2 * (HEP3_CHUNK_HDR + alen)            /* addresses */
                  + (m->auth_key ? HEP3_CHUNK_HDR + auth : 0) + (m->correlation_id ? HEP3_CHUNK_HDR + corr : 0) +
                  HEP3_CHUNK_HDR + m->payload_len;
    if (need > HEP3_MAX_LEN || need > cap || (m->payload_len && !m->payload))
        return -1;

    struct wbuf w = {out, 0};
    memcpy(w.p, "HEP3", 4);
    w.len = 4;
    put16(&w, (unsigned)need);
    put_u8(&w, HEP_CT_IP_FAMILY, m->family == AF_INET ? 2 : 10);
    put_u8(&w, HEP_CT_IP_PROTO, m->ip_proto);
    put_u16(&w, HEP_CT_SRC_PORT, m->sport);
    put_u16(&w, HEP_CT_DST_PORT, m->dport);
    put_u32(&w, HEP_CT_TS_SEC, m->ts_sec);
    put_u32(&w, HEP_CT_TS_USEC, m->ts_usec);
    put_u8(&w, HEP_CT_PROTO_TYPE, m->proto_type);
    put_u32(&w, HEP_CT_CAPTURE_ID, m->capture_id);
    put_chunk(&w, m->family == AF_INET ? HEP_CT_IPV4_SRC : HEP_CT_IPV6_SRC, m->src, alen);
    put_chunk(&w, m->family == AF_INET ? HEP_CT_IPV4_DST : HEP_CT_IPV6_DST, m->dst, alen);
    if (m->auth_key)
        put_chunk(&w, HEP_CT_AUTH_KEY, m->auth_key, auth);
    if (m->correlation_id)
        put_chunk(&w, HEP_CT_CORRELATION, m->correlation_id, corr);
    put_chunk(&w, m->payload_compressed ? HEP_CT_PAYLOAD_Z : HEP_CT_PAYLOAD, m->payload, m->payload_len);
    return w.len == need ? (int)w.len : -1;
}
