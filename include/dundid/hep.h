/* HEP (Homer Encapsulation Protocol) decoder: one UDP datagram carrying a
 * copy of a SIP message, as sent by Asterisk res_hep, Kamailio siptrace,
 * OpenSIPS proto_hep, FreeSWITCH, captagent, ...
 *
 * hep_decode() is pure: no I/O, no allocation, no global state. It never
 * reads outside buf[0..len) and the returned pointers point into buf, so they
 * stay valid only as long as the datagram does.
 *
 * Versions:
 *   HEPv3  "HEP3", u16 total length, then chunks {u16 vendor, u16 type,
 *          u16 length (header included), value}; everything big-endian.
 *   HEPv2  u8 version 2, u8 header length, u8 family, u8 protocol, u16 sport,
 *          u16 dport, src and dst address (4 or 16 bytes each), then a 12-byte
 *          time header (u32 seconds, u32 microseconds, u16 capture id,
 *          2 padding bytes), then the SIP message to the end of the datagram.
 *          The header-length byte covers the fixed 8 bytes and the addresses
 *          only (16 for IPv4, 40 for IPv6). Ports and addresses are in network
 *          order; the time header is in the sender's host order, which every
 *          known sender makes little-endian (Kamailio's to_le()).
 *   HEPv1  as HEPv2 without the time header.
 */
#ifndef DUNDID_HEP_H
#define DUNDID_HEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum hep_err {
    HEP_OK = 0,
    HEP_E_SHORT = -1,   /* datagram too short for the header */
    HEP_E_MAGIC = -2,   /* not HEP (neither "HEP3" nor version 1/2) */
    HEP_E_LENGTH = -3,  /* total, chunk or header length inconsistent */
    HEP_E_CHUNK = -4,   /* a generic fixed-size chunk with the wrong size */
    HEP_E_MISSING = -5, /* no payload or no source/destination addresses */
    HEP_E_FAMILY = -6,  /* unknown address family */
};

/* Generic (vendor 0) HEPv3 chunk types. */
enum hep_chunk_type {
    HEP_CT_IP_FAMILY = 0x0001,   /* u8: 2 IPv4, 10 IPv6 */
    HEP_CT_IP_PROTO = 0x0002,    /* u8: 17 UDP, 6 TCP, ... */
    HEP_CT_IPV4_SRC = 0x0003,    /* 4 bytes */
    HEP_CT_IPV4_DST = 0x0004,    /* 4 bytes */
    HEP_CT_IPV6_SRC = 0x0005,    /* 16 bytes */
    HEP_CT_IPV6_DST = 0x0006,    /* 16 bytes */
    HEP_CT_SRC_PORT = 0x0007,    /* u16 */
    HEP_CT_DST_PORT = 0x0008,    /* u16 */
    HEP_CT_TS_SEC = 0x0009,      /* u32 */
    HEP_CT_TS_USEC = 0x000a,     /* u32 */
    HEP_CT_PROTO_TYPE = 0x000b,  /* u8: 1 SIP */
    HEP_CT_CAPTURE_ID = 0x000c,  /* u32 */
    HEP_CT_KEEPALIVE = 0x000d,   /* u16 (ignored) */
    HEP_CT_AUTH_KEY = 0x000e,    /* string */
    HEP_CT_PAYLOAD = 0x000f,     /* the captured message */
    HEP_CT_PAYLOAD_Z = 0x0010,   /* the captured message, compressed */
    HEP_CT_CORRELATION = 0x0011, /* string */
};

#define HEP_PROTO_SIP 1
#define HEP3_HDR_LEN 6   /* "HEP3" + u16 total length */
#define HEP3_CHUNK_HDR 6 /* u16 vendor, u16 type, u16 length */
#define HEP3_MAX_LEN 65535

struct hep_msg {
    int version;              /* 1, 2 or 3 */
    int family;               /* AF_INET or AF_INET6 */
    uint8_t ip_proto;         /* 17 UDP, 6 TCP; 0 if a v3 packet has none */
    uint8_t src[16], dst[16]; /* network order; IPv4 in the first 4 bytes */
    uint16_t sport, dport;
    uint32_t ts_sec, ts_usec; /* 0 for v1 */
    uint8_t proto_type;       /* 1 = SIP; 0 if a v3 packet has none; 1 for v1/v2 */
    uint32_t capture_id;
    const char *auth_key; /* points into the datagram, not NUL-terminated; NULL if absent */
    size_t auth_key_len;
    const char *correlation_id; /* ditto (chunk 0x0011) */
    size_t correlation_id_len;
    const uint8_t *payload; /* the SIP message, pointing into the datagram */
    size_t payload_len;
    bool payload_compressed; /* payload is chunk 0x0010: see hep_inflate() */
};

/* Decode one datagram. Returns HEP_OK and fills *out, or a negative
 * enum hep_err (and *out is then unspecified). An address family chunk or
 * byte of 2 is IPv4; 10 (Linux), 24, 28 and 30 (BSD, macOS values of
 * AF_INET6, sent by Asterisk or OpenSIPS built there) are IPv6. A v3 packet
 * needs a source and a destination address of its family and a non-empty
 * payload; the other chunks are optional. Unknown vendors and types are
 * skipped; when a chunk repeats, the last one wins, except that a plain
 * payload is preferred to a compressed one. */
int hep_decode(const uint8_t *buf, size_t len, struct hep_msg *out);

/* "ok", "datagram too short", ... for an enum hep_err value. */
const char *hep_strerror(int err);

/* True when the message carries an auth key chunk equal to password. The
 * comparison takes the same time whatever the key's content. False when the
 * key is absent or password is NULL: call it only when a password is set. */
bool hep_auth_ok(const struct hep_msg *m, const char *password);

/* Inflate a compressed payload (zlib or gzip stream, detected) into
 * out[0..cap). Returns the inflated length, or -1 if the data is not a
 * complete valid stream or does not fit. Uses zlib, which allocates its own
 * state; it is not part of the pure decoder. */
long hep_inflate(const uint8_t *in, size_t len, uint8_t *out, size_t cap);

/* Encode m as a HEPv3 datagram into out[0..cap) (for tests and traffic
 * generators). Writes family, protocol, ports, timestamps, protocol type,
 * capture id, addresses, then auth key, correlation id (each if non-NULL)
 * and the payload (chunk 0x0010 if payload_compressed). Returns the length,
 * or -1 if it does not fit in cap or in 65535 bytes, or the family is not
 * AF_INET/AF_INET6. */
int hep3_encode(const struct hep_msg *m, uint8_t *out, size_t cap);

#endif
