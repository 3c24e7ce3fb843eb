/* Pure parser for SIP REGISTER requests and their responses (RFC 3261 subset).
 *
 * Fed with snooped REGISTER transactions to keep the table of registered
 * phones: no I/O, no allocation, no globals. The body is ignored. */
#ifndef DUNDID_SIP_H
#define DUNDID_SIP_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIP_MAX_MSG 65535         /* longest message accepted, in bytes */
#define SIP_MAX_CONTACTS 16
#define SIP_MAX_URI 256

enum sip_err {
    SIP_OK = 0,
    SIP_E_TRUNCATED = -1,    /* no blank line ending the headers */
    SIP_E_START_LINE = -2,   /* malformed request or status line */
    SIP_E_NOT_REGISTER = -3, /* another method, or a response to one */
    SIP_E_HEADER = -4,       /* malformed header line or value, NUL or control character */
    SIP_E_MISSING = -5,      /* no Call-ID, CSeq, To, From, or (requests) Via */
    SIP_E_TOO_LONG = -6,     /* a value longer than its buffer, or message > SIP_MAX_MSG */
    SIP_E_TOO_MANY = -7,     /* more than SIP_MAX_CONTACTS contacts */
};

/* Short English text for an enum sip_err value ("unknown error" otherwise). */
const char *sip_strerror(int err);

struct sip_contact {
    char uri[SIP_MAX_URI]; /* as written, without <> and the contact params,
                              e.g. "sip:1002@10.10.10.63:5060;transport=udp" */
    int expires;           /* ;expires= param, -1 if absent (3600 if malformed, RFC 3261 20.19) */
    int q;                 /* ;q= param in thousandths (0..1000), -1 if absent */
    bool star;             /* "Contact: *" (uri empty); valid only with Expires: 0,
                              which is the caller's to enforce */
};

struct sip_msg {
    bool is_request;             /* a REGISTER request; false: a response */
    int status;                  /* responses: 200, 401, ...; 0 for requests */
    char method[16];             /* "REGISTER" (for responses, the CSeq method) */
    char request_uri[SIP_MAX_URI]; /* requests only */
    char call_id[256];
    uint32_t cseq;
    char cseq_method[16];
    char to_uri[SIP_MAX_URI];    /* the AOR as written, without <> and the tag etc. */
    char to_user[80];            /* its user part, unescaped: "1002" for sip:/sips:,
                                    the number for tel:, "" for no user / other schemes */
    char from_uri[SIP_MAX_URI];
    /* Top Via (first Via header, first value): */
    char via_transport[16];      /* "UDP", "TCP", "TLS", ... (upper-cased) */
    char via_host[128];          /* sent-by host as written; IPv6 keeps its [] */
    uint16_t via_port;           /* sent-by port; 5060 if absent (5061 for TLS) */
    char via_branch[128];        /* "" if no branch param */
    int expires;                 /* Expires header, -1 if absent (3600 if malformed) */
    char user_agent[128];        /* informational: cut (at a UTF-8 boundary) if longer */
    unsigned ncontacts;
    struct sip_contact contacts[SIP_MAX_CONTACTS];
};

/* Parse one message: a datagram or one complete TCP message (leading empty
 * lines are skipped; whatever follows the blank line is ignored). OUT must not
 * be NULL; it is cleared first and is meaningful only when SIP_OK is returned.
 * Requests other than REGISTER give SIP_E_NOT_REGISTER; responses are accepted
 * only when their CSeq method is REGISTER (else SIP_E_NOT_REGISTER).
 * Returns SIP_OK or a negative enum sip_err. */
int sip_parse(const char *buf, size_t len, struct sip_msg *out);

/* Effective expiry of contact I: its ;expires param, else the Expires header,
 * else DEFAULT_EXPIRES (RFC 3261 10.3 leaves that to the registrar; 3600 is
 * usual). -1 if I is out of range. */
int sip_contact_expires(const struct sip_msg *m, unsigned i, int default_expires);

/* The user@host[:port] part of URI, without scheme, password, params and
 * headers: "sip:1002@10.10.10.63:5060;transport=udp" -> "1002@10.10.10.63:5060",
 * "tel:+15551234;phone-context=x" -> "+15551234". Returns 0, or -1 when URI has
 * no scheme, the result would be empty, or it does not fit OUTLEN bytes. */
int sip_uri_strip(const char *uri, char *out, size_t outlen);
#endif
