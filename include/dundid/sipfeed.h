/* SIP REGISTER transactions seen on the wire (libpcap or HEP) turned into
 * registration-table changes. Only a 2xx response commits: its Contact list
 * is what the registrar holds for the AOR. The REGISTER it answers (matched
 * by Call-ID, CSeq and the address pair) adds the phone's user agent; a 2xx
 * that lists nothing for a REGISTER that asked to bind a contact is a
 * registrar that failed to store it and changes nothing. Pure:
 * no I/O, the time is passed in. */
#ifndef DUNDID_SIPFEED_H
#define DUNDID_SIPFEED_H

#include <stddef.h>
#include <stdint.h>

#include "dundid/regtable.h"

#define SIPFEED_PENDING_S 32 /* RFC 3261 Timer F: a REGISTER older than this gets no answer */
#define SIPFEED_DEFAULT_MAX_PENDING 65536

/* Where a captured message came from and went to. */
struct sip_hop {
    char src[48], dst[48]; /* IP addresses as text (IPv6 without brackets) */
    uint16_t sport, dport;
};

struct sipfeed_stats {
    uint64_t messages;      /* offered */
    uint64_t not_register;  /* other methods and their responses: ignored */
    uint64_t malformed;     /* failed to parse */
    uint64_t requests;      /* REGISTER requests */
    uint64_t committed;     /* 2xx responses applied */
    uint64_t unmatched;     /* 2xx with no REGISTER seen (applied without user agent) */
    uint64_t refused;       /* 401/407/403/... : never commit */
    uint64_t provisional;   /* 1xx */
    uint64_t pending_dropped; /* REGISTERs forgotten: table full */
    uint64_t not_bound;     /* 2xx listing no contact for a REGISTER that asked to bind one: ignored */
    uint64_t bindings_set, bindings_removed;
};

struct sipfeed;

struct sipfeed *sipfeed_new(size_t max_pending);
void sipfeed_free(struct sipfeed *f);

/* Offer one SIP message (UDP datagram or whole TCP segment). Changes go to
 * rt as feed. default_expires applies to a 2xx contact without any expiry. */
void sipfeed_input(struct sipfeed *f, struct regtable *rt, enum reg_feed feed, const uint8_t *msg, size_t len,
                   const struct sip_hop *hop, int64_t now, int default_expires);
/* Forget REGISTERs that waited longer than SIPFEED_PENDING_S. */
void sipfeed_expire(struct sipfeed *f, int64_t now);
size_t sipfeed_pending(const struct sipfeed *f);
void sipfeed_get_stats(const struct sipfeed *f, struct sipfeed_stats *out);

#endif
