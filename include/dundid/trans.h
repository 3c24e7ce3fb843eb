/* DUNDi transactions: ids, sequence numbers, ACKs, retransmission, INVALID,
 * autokill. Sockets are reached only through the engine's send callback and
 * time only through the timer queue, so the whole state machine runs in tests. */
#ifndef DUNDID_TRANS_H
#define DUNDID_TRANS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dundid/addr.h"
#include "dundid/srccount.h"
#include "dundid/timerq.h"
#include "dundid/wire.h"

struct ratelimit;

#define TRANS_ID_SPACE 32768
#define TRANS_REXMIT_MS 1000
#define TRANS_RETRIES 4 /* so at most 5 transmissions */
/* A transaction with no traffic for this long is ended: peers that vanish
 * mid-transaction leave no lasting state (longer than any lookup may wait). */
#define TRANS_IDLE_MS 60000

enum trans_end {
    TRANS_END_DONE,     /* final exchange completed */
    TRANS_END_TIMEOUT,  /* retransmissions exhausted */
    TRANS_END_AUTOKILL, /* no acknowledgement within the autokill time */
    TRANS_END_ABORT,    /* ended by us (cancel, reload, shutdown) */
};

struct trans;

struct trans_handler {
    /* A non-ACK command arrived in order (after the generic ACK rules). ies
     * points into the datagram; the handler may trans_send() replies. */
    void (*on_command)(struct trans *t, struct dundi_hdr *h, const uint8_t *ies, size_t ieslen);
    /* Called once, just before the transaction is freed. */
    void (*on_end)(struct trans *t, enum trans_end why);
};

struct trans_pkt; /* an outstanding packet awaiting its ACK */

struct trans {
    struct trans_engine *eng;
    uint16_t id;        /* ours, 1..32766 */
    uint16_t remote_id; /* theirs, 0 until known */
    struct dundi_addr addr;
    uint8_t iseqno, oseqno, prev_iseqno, acked_iseqno;
    bool final_sent;
    bool dead;
    unsigned rexmit_ms;
    unsigned autokill_ms; /* 0 = off */
    struct timer autokill;
    struct timer idle;
    struct trans_pkt *out;
    /* Encryption (protocol 6): when on, requests and responses travel in
     * ENCRYPT envelopes under one AES key, the opener's. */
    bool encrypted;
    bool opened; /* we opened it: our first packet carries key_ies */
    uint8_t aes[16];
    uint8_t *key_ies; /* EID + SHAREDKEY/SIGNATURE or KEYCRC32 */
    size_t key_ies_len;
    /* The peer this transaction is bound to (after key acceptance). */
    bool bound;
    eid_t peer_eid;
    /* The packet the datagram being processed acknowledged (for ENCREJ). */
    const uint8_t *last_acked;
    size_t last_acked_len;
    const struct trans_handler *handler;
    void *owner; /* the handler's per-transaction data */
    struct src_node *src; /* its share of the per-source count */
    /* hash chains and the list of all transactions */
    struct trans *next_remote, *prev_all, *next_all;
};

/* The engine's counters, defined once: this list makes the struct, and
 * counters.c renders it as the stats line, the metrics and "show stats".
 * X(member, kind, key, metric, label, help): see include/dundid/counters.h. */
#define TRANS_STATS(X)                                                                                                \
    X(rx, counter, "rx", "packets_received", NULL, "DUNDi datagrams received.")                                       \
    X(tx, counter, "tx", "packets_sent", NULL, "DUNDi datagrams sent.")                                               \
    X(rx_bytes, counter, "rx_bytes", "received_bytes", NULL, "Bytes of DUNDi datagrams received.")                    \
    X(tx_bytes, counter, "tx_bytes", "sent_bytes", NULL, "Bytes of DUNDi datagrams sent.")                            \
    X(rx_malformed, counter, "malformed", "packets_dropped", "reason=\"malformed\"",                                  \
      "Datagrams shorter than a header or longer than the limit.")                                                    \
    X(rx_unknown, counter, "unknown_trans", "packets_dropped", "reason=\"unknown_transaction\"",                      \
      "Packets of no transaction that may not open one.")                                                             \
    X(rx_duplicate, counter, "duplicates", "packets_duplicate", NULL,                                                 \
      "Repeated packets (acknowledged again, not processed).")                                                        \
    X(rx_out_of_window, counter, "out_of_window", "packets_dropped", "reason=\"out_of_window\"",                      \
      "Packets out of sequence.")                                                                                     \
    X(tx_invalid, counter, "invalid_sent", "invalid_sent", NULL,                                                      \
      "INVALID replies sent to packets of unknown transactions.")                                                     \
    X(tx_retransmit, counter, "retransmits", "retransmissions", NULL, "Packets sent again for want of an ACK.")       \
    X(created, counter, "trans_created", "transactions_created", NULL, "DUNDi transactions opened.")                  \
    X(timeouts, counter, "timeouts", "transaction_timeouts", NULL,                                                    \
      "Transactions ended without an acknowledgement.")                                                               \
    X(autokilled, counter, "autokilled", "transactions_autokilled", NULL, "Transactions ended by autokill.")          \
    X(idle_ended, counter, "idle_ended", "transactions_idle_ended", NULL,                                             \
      "Transactions ended because they were idle.")                                                                   \
    X(refused_full, counter, "refused_full", "packets_dropped", "reason=\"table_full\"",                              \
      "New transactions refused: max_transactions were open.")                                                        \
    X(refused_source, counter, "refused_source", "packets_dropped", "reason=\"source_limit\"",                        \
      "New transactions refused: their address had max_transactions_per_source open.")                                \
    X(tx_invalid_suppressed, counter, "invalid_suppressed", "replies_suppressed", "reply=\"invalid\"",                \
      "INVALID, CANCEL or UNKNOWN replies to unknown senders not sent (rate limit).")                                 \
    X(rx_late_ack, counter, "late_acks", "late_acks", NULL, "ACKs of refusals sent once, absorbed.")

struct trans_stats {
#define TRANS_STATS_MEMBER(member, ...) uint64_t member;
    TRANS_STATS(TRANS_STATS_MEMBER)
#undef TRANS_STATS_MEMBER
};


/* A refusal sent once (trans_reply_once): its ACK is expected and must not
 * draw an INVALID. A fixed ring, so remembering costs no memory growth. */
#define TRANS_TOMBSTONES 256
struct trans_tomb {
    struct dundi_addr addr;
    uint16_t id, remote_id;
};

struct trans_engine {
    struct timerq *tq;
    int (*send)(void *ctx, const struct dundi_addr *to, const uint8_t *pkt, size_t len);
    void *send_ctx;
    const struct trans_handler *inbound; /* for transactions peers open */
    size_t count, max;
    uint32_t max_per_source; /* live transactions per remote address, 0 = no cap */
    struct srccount src;
    struct ratelimit *rl; /* INVALID replies, when set */
    struct trans_tomb tomb[TRANS_TOMBSTONES];
    unsigned tomb_next;
    uint16_t next_id;
    struct trans *by_id[TRANS_ID_SPACE];
    struct trans *by_remote[TRANS_ID_SPACE];
    struct trans *all;
    struct trans *zombies; /* destroyed during input, freed when it returns */
    unsigned depth;
    struct trans_stats stats;
    /* Debugging, when set: each message that travels in an envelope, in
     * clear, as it is sealed (tx) or once opened (rx). */
    void (*inner)(void *ctx, bool tx, const struct trans *t, const struct dundi_hdr *h, const uint8_t *ies,
                  size_t len);
    void *inner_ctx;
};

/* max = live transaction limit (0 = 32766). Allocated on the heap (it is big). */
struct trans_engine *trans_engine_new(struct timerq *tq, const struct trans_handler *inbound, size_t max);
void trans_engine_free(struct trans_engine *e);

/* Feed one received datagram. */
void trans_engine_input(struct trans_engine *e, const struct dundi_addr *from, const uint8_t *pkt, size_t len);

/* Open a transaction towards a peer. NULL when the table is full. */
struct trans *trans_open(struct trans_engine *e, const struct dundi_addr *to, const struct trans_handler *h,
                         void *owner);
/* Turn encryption on with this AES key; key_ies (copied) go before ENCDATA
 * in the first packet of a transaction we opened. Returns 0 or -1. */
int trans_set_crypto(struct trans *t, const uint8_t aes[16], const uint8_t *key_ies, size_t key_ies_len);
/* Commands that travel inside ENCRYPT when the transaction is encrypted. */
bool trans_cmd_encrypted(uint8_t cmd);
/* ENCREJ recovery (6.7): start over with new ids and resend the rejected
 * envelope's ENCDATA after new key IEs. Returns 0, or -1 if impossible. */
int trans_restart_with(struct trans *t, const uint8_t *key_ies, size_t key_ies_len);
/* Open an ENCRYPT received on an encrypted transaction: decrypt outer's
 * ENCDATA into inner (DUNDI_MAX_INNER bytes), fill the inner header ih
 * and copy its F bit onto h; ies and ieslen are set to the inner IEs.
 * Returns CRYPTO_OK or a CRYPTO_E_* error. */
int trans_open_envelope(struct trans *t, struct dundi_hdr *h, const struct dundi_ies *outer, uint8_t *inner,
                        struct dundi_hdr *ih, const uint8_t **ies, size_t *ieslen);
/* Send cmd (with F when final) carrying ies (may be NULL). Returns 0 or a DUNDI_E_* error. */
int trans_send(struct trans *t, uint8_t cmd, bool final, const struct dundi_ieb *ies);
/* Send a final reply once, never retransmitted, and end the transaction:
 * refusals to unauthenticated requesters keep no state (a requester that
 * lost it repeats its request). Returns trans_send's code. */
int trans_reply_once(struct trans *t, uint8_t cmd, const struct dundi_ieb *ies);
/* End a transaction now, silently (no packet). Safe inside handlers. */
void trans_destroy(struct trans *t, enum trans_end why);
/* Generic reaction to a command the handler does not otherwise handle
 * (responses without F get CANCEL, unknown commands get UNKNOWN). */
void trans_default_command(struct trans *t, const struct dundi_hdr *h);

#endif
