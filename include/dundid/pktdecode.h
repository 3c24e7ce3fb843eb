/* Captured frames down to their UDP or TCP payload, for SIP snooping.
 * Pure: the payload points into the frame. */
#ifndef DUNDID_PKTDECODE_H
#define DUNDID_PKTDECODE_H

#include <stddef.h>
#include <stdint.h>

#include "dundid/sipfeed.h"

enum pkt_err {
    PKT_OK = 0,
    PKT_E_SHORT = -1,    /* a header runs past the captured bytes */
    PKT_E_LINKTYPE = -2, /* a link type we do not decode */
    PKT_E_NOT_IP = -3,   /* ARP, LLDP, ... */
    PKT_E_FRAGMENT = -4, /* IP fragments are not reassembled */
    PKT_E_PROTO = -5,    /* neither UDP nor TCP */
    PKT_E_EMPTY = -6,    /* no payload (TCP ACKs, ...) */
};

struct pkt_info {
    struct sip_hop hop;
    uint8_t proto; /* 17 UDP, 6 TCP */
    const uint8_t *payload;
    size_t payload_len;
};

/* dlt: pcap's link type (DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_NULL,
 * DLT_LOOP, DLT_RAW, ...). Returns PKT_OK or a negative enum pkt_err. */
int pkt_decode(int dlt, const uint8_t *frame, size_t len, struct pkt_info *out);
const char *pkt_strerror(int err);

#endif
