/* Requests dundid sends to a peer: lookups (DPDISCOVER), EID queries,
 * precache pushes, REGREQ and qualify pings all go through here. One
 * request is one transaction, opened encrypted when the peer is keyed, with
 * the peer's autokill and retransmission times. This module owns what every
 * such request needs alike: opening the ENCRYPT envelope of the reply, the
 * ENCREJ restart with the full key (6.7, once), the rule that a keyed
 * peer's reply counts only inside its envelope (6.1), CANCEL of a reply
 * that is not final, and the counters of malformed and rejected replies.
 * Its caller sees verified replies and one end, with the reason. */
#ifndef DUNDID_OUTREQ_H
#define DUNDID_OUTREQ_H

#include <stdbool.h>
#include <stdint.h>

#include "dundid/config.h"
#include "dundid/wire.h"

struct server;
struct outreq;

enum outreq_end {
    OUTREQ_DONE,     /* the exchange completed */
    OUTREQ_TIMEOUT,  /* retransmissions exhausted */
    OUTREQ_AUTOKILL, /* no acknowledgement within the peer's autokill time */
    OUTREQ_REJECTED, /* the peer refused our key and a restart could not help */
    OUTREQ_DEADLINE, /* our own deadline (outreq_set_deadline) passed */
    OUTREQ_ABORTED,  /* ended by us (shutdown, reload) */
};

struct outreq_ops {
    /* A reply of the expected kind (DPRESPONSE for DPDISCOVER, ...) that
     * passed the checks; ie is decoded (scratch: copy what you keep). May be
     * called more than once (a peer may answer in pieces). */
    void (*on_reply)(void *ctx, struct outreq *r, const struct dundi_ies *ie);
    /* Exactly once, unless outreq_cancel() ran first. r is gone afterwards. */
    void (*on_end)(void *ctx, struct outreq *r, enum outreq_end why);
};

/* Send cmd with ies (may be NULL) to peer p. NULL when p has no address,
 * the transaction table is full or encryption cannot be set up (logged).
 * A NULL (qualify) goes final and in clear, as any node ACKs it; autokill
 * guards DPDISCOVER, EIDQUERY and PRECACHERQ (4.10). */
struct outreq *outreq_send(struct server *s, const struct peer_conf *p, uint8_t cmd, const struct dundi_ieb *ies,
                           const struct outreq_ops *ops, void *ctx);
/* Stop waiting: the peer gets a CANCEL if the exchange is still open; no
 * callback runs after this. */
void outreq_cancel(struct outreq *r);
/* Forget it at once, sending nothing (a ping or REGREQ replaced by a newer
 * one, or a peer that went away); no callback runs after this. */
void outreq_drop(struct outreq *r);
/* At ms, if still running: on_end(OUTREQ_DEADLINE) at once, and a CANCEL
 * to the peer (its transaction then ends by itself, silently). */
void outreq_set_deadline(struct outreq *r, uint64_t ms);

const eid_t *outreq_peer(const struct outreq *r);
/* When the request went out (clock_now_ms). */
uint64_t outreq_sent_ms(const struct outreq *r);
/* Where the reply came from (the transaction's address). */
const struct dundi_addr *outreq_addr(const struct outreq *r);

/* EID + SHAREDKEY/SIGNATURE (first time, or force_full) or KEYCRC32 of our
 * session key for p, renewed after session_key_lifetime. */
#define PEER_KEY_IES_MAX (2 + EID_LEN + 2 * (2 + DUNDI_KEY_BYTES))
int outreq_key_ies(struct server *s, const struct peer_conf *p, bool force_full, uint8_t *out, size_t *len,
                   bool *full);

#endif
