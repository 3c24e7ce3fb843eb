/* DUNDi wire codec: the 8-byte header and the information elements.
 * Pure: bytes in, structures out (and back). No sockets, clocks or globals. */
#ifndef DUNDID_WIRE_H
#define DUNDID_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dundid/eid.h"

#define DUNDI_PORT 4520
#define DUNDI_HDR_LEN 8
#define DUNDI_MAX_PACKET 8191 /* the reference overruns its buffer at 8192 */
#define DUNDI_MAX_IES (DUNDI_MAX_PACKET - DUNDI_HDR_LEN)
#define DUNDI_MAX_EIDS 512
#define DUNDI_MAX_ANSWERS 100
#define DUNDI_MAX_IE_VALUE 255
#define DUNDI_MAX_DEST 244      /* ANSWER destination: 255 - 11 */
#define DUNDI_MAX_HINT_DATA 253 /* HINT string: 255 - 2 */
#define DUNDI_MAX_CAUSE_TEXT 254
#define DUNDI_MAX_NUMBER 79 /* numbers and contexts: the reference's buffers */
#define DUNDI_KEY_BYTES 128 /* SHAREDKEY and SIGNATURE: RSA-1024 output */

/* Header flags in the cmdresp byte. */
#define DUNDI_FLAG_FINAL 0x80
#define DUNDI_FLAG_RESPONSE 0x40
#define DUNDI_TRANS_MASK 0x7fff

/* Commands as compared by the reference: cmdresp & 0x7f (R bit included),
 * so response codes can never open a transaction. */
enum dundi_cmd {
    DUNDI_CMD_ACK = 0x40,
    DUNDI_CMD_DPDISCOVER = 0x01,
    DUNDI_CMD_DPRESPONSE = 0x42,
    DUNDI_CMD_EIDQUERY = 0x03,
    DUNDI_CMD_EIDRESPONSE = 0x44,
    DUNDI_CMD_PRECACHERQ = 0x05,
    DUNDI_CMD_PRECACHERP = 0x46,
    DUNDI_CMD_INVALID = 0x47,
    DUNDI_CMD_UNKNOWN = 0x48,
    DUNDI_CMD_NULL = 0x09,
    DUNDI_CMD_REGREQ = 0x0a,
    DUNDI_CMD_REGRESPONSE = 0x4b,
    DUNDI_CMD_CANCEL = 0x0c,
    DUNDI_CMD_ENCRYPT = 0x0d,
    DUNDI_CMD_ENCREJ = 0x4e,
    DUNDI_CMD_STATUS = 0x0f,
};

enum dundi_ie_type {
    DUNDI_IE_EID = 1,
    DUNDI_IE_CALLED_CONTEXT = 2,
    DUNDI_IE_CALLED_NUMBER = 3,
    DUNDI_IE_EID_DIRECT = 4,
    DUNDI_IE_ANSWER = 5,
    DUNDI_IE_TTL = 6,
    DUNDI_IE_VERSION = 10,
    DUNDI_IE_EXPIRATION = 11,
    DUNDI_IE_UNKNOWN = 12,
    DUNDI_IE_CAUSE = 14,
    DUNDI_IE_REQEID = 15,
    DUNDI_IE_ENCDATA = 16,
    DUNDI_IE_SHAREDKEY = 17,
    DUNDI_IE_SIGNATURE = 18,
    DUNDI_IE_KEYCRC32 = 19,
    DUNDI_IE_HINT = 20,
    DUNDI_IE_DEPARTMENT = 21,
    DUNDI_IE_ORGANIZATION = 22,
    DUNDI_IE_LOCALITY = 23,
    DUNDI_IE_STATE_PROV = 24,
    DUNDI_IE_COUNTRY = 25,
    DUNDI_IE_EMAIL = 26,
    DUNDI_IE_PHONE = 27,
    DUNDI_IE_IPADDR = 28,
    DUNDI_IE_CACHEBYPASS = 29,
    DUNDI_IE_PEERSTATUS = 30,
};

enum dundi_proto {
    DUNDI_PROTO_NONE = 0,
    DUNDI_PROTO_IAX = 1,
    DUNDI_PROTO_SIP = 2,
    DUNDI_PROTO_H323 = 3,
    DUNDI_PROTO_PJSIP = 4,
};

enum dundi_answer_flag {
    DUNDI_FLAG_EXISTS = 0x0001,
    DUNDI_FLAG_MATCHMORE = 0x0002,
    DUNDI_FLAG_CANMATCH = 0x0004,
    DUNDI_FLAG_IGNOREPAT = 0x0008,
    DUNDI_FLAG_RESIDENTIAL = 0x0010,
    DUNDI_FLAG_COMMERCIAL = 0x0020,
    DUNDI_FLAG_MOBILE = 0x0040,
    DUNDI_FLAG_NOUNSOLICITED = 0x0080,
    DUNDI_FLAG_NOCOMUNSOLICIT = 0x0100,
};

enum dundi_hint_flag {
    DUNDI_HINT_TTL_EXPIRED = 0x0001,
    DUNDI_HINT_DONT_ASK = 0x0002,
    DUNDI_HINT_UNAFFECTED = 0x0004,
};

enum dundi_cause {
    DUNDI_CAUSE_SUCCESS = 0,
    DUNDI_CAUSE_GENERAL = 1,
    DUNDI_CAUSE_DYNAMIC = 2,
    DUNDI_CAUSE_NOAUTH = 3,
    DUNDI_CAUSE_DUPLICATE = 4,
    DUNDI_CAUSE_TTL_EXPIRED = 5,
    DUNDI_CAUSE_NEEDKEY = 6,
    DUNDI_CAUSE_BADENCRYPT = 7,
};

/* Decode/encode results: 0 is success, negatives are errors. */
enum dundi_err {
    DUNDI_OK = 0,
    DUNDI_E_EMPTY = -1,      /* zero-length datagram */
    DUNDI_E_SHORT = -2,      /* shorter than the 8-byte header */
    DUNDI_E_TOO_LONG = -3,   /* longer than DUNDI_MAX_PACKET */
    DUNDI_E_IE_TRUNC = -4,   /* an IE's length runs past the end */
    DUNDI_E_IE_STRAY = -5,   /* one stray byte after the last IE */
    DUNDI_E_NO_SPACE = -6,   /* encode: the packet would exceed its size limit */
    DUNDI_E_VALUE_LONG = -7, /* encode: a value exceeds its IE's limit */
};

const char *dundi_strerror(int err);
const char *dundi_cmd_name(uint8_t cmd); /* cmd = cmdresp & 0x7f */
const char *dundi_ie_name(uint8_t type);
const char *dundi_proto_name(uint8_t proto);
/* "IAX2" -> DUNDI_PROTO_IAX etc., case-insensitive; -1 if unknown. */
int dundi_proto_from_name(const char *name);

/* "EXISTS|CANMATCH|..." for answer flags, "TTL_EXPIRED|DONT_ASK|..." for
 * hint flags; "NONEXISTENT"/"NONE" when no bit is set. Returns buf. */
char *dundi_flags_str(uint16_t flags, char *buf, size_t len);
char *dundi_hint_str(uint16_t flags, char *buf, size_t len);
const char *dundi_cause_name(int cause);

struct dundi_hdr {
    uint16_t strans;
    uint16_t dtrans;
    uint8_t iseqno;
    uint8_t oseqno;
    uint8_t cmdresp;
    uint8_t cmdflags;
};

static inline uint8_t dundi_hdr_cmd(const struct dundi_hdr *h) { return h->cmdresp & 0x7f; }
static inline bool dundi_hdr_final(const struct dundi_hdr *h) { return (h->cmdresp & DUNDI_FLAG_FINAL) != 0; }

int dundi_hdr_decode(const uint8_t *buf, size_t len, struct dundi_hdr *out);
void dundi_hdr_encode(const struct dundi_hdr *h, uint8_t out[DUNDI_HDR_LEN]);

/* One raw IE as found on the wire. val points into the packet. */
struct dundi_ie_raw {
    uint8_t type;
    uint8_t lenbyte; /* the length byte as sent (meaningless for ENCDATA) */
    const uint8_t *val;
    size_t len; /* bytes of value; for ENCDATA everything up to the end */
};

struct dundi_ie_iter {
    const uint8_t *p;
    size_t len;
    size_t off;
};

void dundi_ie_iter_init(struct dundi_ie_iter *it, const uint8_t *ies, size_t len);
/* 1 = an IE was returned, 0 = end, <0 = malformed (DUNDI_E_IE_TRUNC/STRAY). */
int dundi_ie_next(struct dundi_ie_iter *it, struct dundi_ie_raw *ie);

struct dundi_answer {
    eid_t eid;
    uint8_t proto;
    uint16_t flags;
    uint16_t weight;
    char dest[DUNDI_MAX_DEST + 1]; /* truncated at an embedded NUL, as the reference does */
};

/* Everything a message can carry. Absent integers are -1, absent strings empty
 * with has_* false. Strings are NUL-terminated copies, cut at an embedded NUL. */
struct dundi_ies {
    unsigned eidcount;
    eid_t eids[DUNDI_MAX_EIDS];
    bool eid_direct[DUNDI_MAX_EIDS];
    unsigned anscount;
    struct dundi_answer answers[DUNDI_MAX_ANSWERS];

    bool has_called_context, has_called_number;
    char called_context[DUNDI_MAX_IE_VALUE + 1];
    char called_number[DUNDI_MAX_IE_VALUE + 1];
    int ttl, version, expiration, unknown_cmd, cause; /* -1 when absent */
    char cause_text[DUNDI_MAX_IE_VALUE + 1];
    bool has_reqeid;
    eid_t reqeid;
    bool has_hint;
    uint16_t hint_flags;
    char hint_data[DUNDI_MAX_IE_VALUE + 1];
    bool cachebypass;

    /* Crypto envelope: pointers into the decoded buffer. */
    const uint8_t *encdata;
    size_t encdata_len;
    const uint8_t *sharedkey;
    const uint8_t *signature;
    bool has_keycrc32;
    uint32_t keycrc32;

    /* EIDRESPONSE contact fields. */
    bool has_organization;
    char department[DUNDI_MAX_IE_VALUE + 1];
    char organization[DUNDI_MAX_IE_VALUE + 1];
    char locality[DUNDI_MAX_IE_VALUE + 1];
    char stateprov[DUNDI_MAX_IE_VALUE + 1];
    char country[DUNDI_MAX_IE_VALUE + 1];
    char email[DUNDI_MAX_IE_VALUE + 1];
    char phone[DUNDI_MAX_IE_VALUE + 1];
    char ipaddr[DUNDI_MAX_IE_VALUE + 1];

    unsigned bad_length; /* fixed-size IEs of the wrong size, skipped */
    unsigned unknown;    /* unknown IE types, skipped */
    unsigned overflow;   /* EIDs/ANSWERs beyond the per-message limits, dropped */
};

/* Decode the IE area (the packet after its header). On error the content of
 * *out is unspecified and the command must be ignored (the reference ACKs it). */
int dundi_ies_decode(const uint8_t *ies, size_t len, struct dundi_ies *out);

/* Builder for the IE area of an outgoing packet. Errors are sticky: after the
 * first failure every put is a no-op and dundi_ieb_error() reports it. */
struct dundi_ieb {
    size_t len;
    size_t cap; /* <= DUNDI_MAX_IES */
    int err;
    uint8_t buf[DUNDI_MAX_IES];
};

void dundi_ieb_init(struct dundi_ieb *b, size_t cap);
int dundi_ieb_error(const struct dundi_ieb *b);
void dundi_ie_put_raw(struct dundi_ieb *b, uint8_t type, const void *val, size_t len);
void dundi_ie_put_eid(struct dundi_ieb *b, uint8_t type, const eid_t *e);
void dundi_ie_put_str(struct dundi_ieb *b, uint8_t type, const char *s);
void dundi_ie_put_u16(struct dundi_ieb *b, uint8_t type, uint16_t v);
void dundi_ie_put_u32(struct dundi_ieb *b, uint8_t type, uint32_t v);
void dundi_ie_put_empty(struct dundi_ieb *b, uint8_t type);
void dundi_ie_put_answer(struct dundi_ieb *b, const struct dundi_answer *a);
void dundi_ie_put_hint(struct dundi_ieb *b, uint16_t flags, const char *data);
void dundi_ie_put_cause(struct dundi_ieb *b, uint8_t cause, const char *text);
/* ENCDATA: IV + ciphertext, always last; length byte truncated as the reference writes it. */
void dundi_ie_put_encdata(struct dundi_ieb *b, const uint8_t iv[16], const uint8_t *ct, size_t ctlen);

/* Render the IEs in wire order in the listing style of the test data:
 * "{VERSION=1, EID_DIRECT=02:00:00:00:00:0b, CALLED_NUMBER=1001, ...}".
 * Returns the length written (truncated to outlen-1) or a negative error. */
int dundi_ies_format(const uint8_t *ies, size_t len, char *out, size_t outlen);
/* The same; with redact, key material and ciphertext (SHAREDKEY, SIGNATURE,
 * ENCDATA) only by their size, for logs. */
int dundi_ies_format_opt(const uint8_t *ies, size_t len, char *out, size_t outlen, bool redact);

#endif
