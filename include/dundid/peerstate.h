/* What dundid knows of its peers beyond their configuration, kept across
 * reloads for the peers that stay: reachability (qualify, 7.3), session
 * keys, recent lookup times, the address of a dynamic peer that registered
 * (7.4), a host name's resolved address, and the peers cloned from [*] for
 * strangers that registered (7.7). Configuration snapshots are never edited:
 * clones live here, and every walk over "our peers" goes through
 * server_peer_at(), which sees the snapshot's peers and then the clones. */
#ifndef DUNDID_PEERSTATE_H
#define DUNDID_PEERSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dundid/config.h"
#include "dundid/crypto.h"
#include "dundid/timerq.h"
#include "dundid/trans.h"

struct server;
struct outreq;
struct evdns_getaddrinfo_request;

#define REG_EXPIRATION_S 60 /* the reference always grants 60 s (+10 s grace) */
/* Registrations of dynamic peers held at once: a [*] section with host =
 * dynamic would otherwise let any sender add EIDs without end. */
#define REG_MAX_PEERS 4096
#define PEER_MAX_CLONES CONF_MAX_CLONES
#define PEER_HISTORY 10 /* recorded lookup times per peer (storehistory) */

/* Reachability as qualify sees it (7.3), computed in one place. SUSPECT:
 * a request to the peer just went unanswered; lookups still ask it but
 * wait for it only briefly, while fast probes decide (passive detection). */
enum peer_reach {
    PEER_UNMONITORED,
    PEER_UNKNOWN,
    PEER_OK,
    PEER_LAGGED,
    PEER_UNREACHABLE,
    PEER_SUSPECT,
    PEER_REACH_COUNT
};
/* "unmonitored", "unknown", "ok", "lagged", "unreachable", "suspect" */
extern const char *const peer_reach_names[PEER_REACH_COUNT];

struct lookup_time {
    char what[2 * DUNDI_MAX_NUMBER + 2]; /* NUMBER@CONTEXT; "" = unused */
    int ms;
};

/* A dynamic peer's address, learned from its REGREQ. */
struct registration {
    struct registration *next;
    struct server *s;
    eid_t eid;
    struct dundi_addr addr;
    struct timer expiry;
};

struct peer_state {
    struct peer_state *next;
    eid_t eid;
    EVP_PKEY *pub, *priv; /* the keys this state was made with (owned refs) */
    bool rx_valid;        /* the peer's key, accepted after its signature checked */
    uint8_t rx_sharedkey[DUNDI_KEY_BYTES], rx_signature[DUNDI_KEY_BYTES];
    uint32_t rx_crc;
    uint8_t rx_aes[DUNDI_AES_KEY_LEN];
    bool tx_valid; /* our key towards the peer */
    bool tx_sentfull;
    int64_t tx_expires;
    struct dundi_session_key tx;
    /* qualify (7.3): 0 = no result yet, -1 = unreachable, else the last RTT */
    struct server *s;
    int rtt_ms;
    struct timer qualify_timer;
    struct outreq *ping;
    /* passive failure detection: a request went unanswered */
    bool suspect;
    unsigned probe_ms; /* the next fast probe's delay (doubles up to the unreachable interval) */
    bool remeasure;    /* an unreachable peer answered late: the next ping's time counts */
    uint64_t heard_ms; /* when it last answered or sent us something authenticated */
    /* our registration with this peer (register = yes) */
    struct timer register_timer;
    struct outreq *regtrans;
    bool registered;
    struct lookup_time history[PEER_HISTORY]; /* newest first */
    /* the peer's host name, resolved without blocking (resolve.c) */
    char dns_host[CONF_STR_MAX];
    uint16_t dns_port;
    bool dns_ok, dns_failing, dns_busy;
    struct dundi_addr dns_addr;
    struct timer dns_timer;
    struct evdns_getaddrinfo_request *dns_req;
};

/* The server's table of peer state. */
struct peer_table {
    struct peer_state *states;
    struct registration *regs;
    struct peer_conf **clones; /* made from [*], each allocated on its own */
    size_t nclones;
};

/* ---- peers: the snapshot's, then the clones ---- */
size_t server_peer_count(const struct server *s);
const struct peer_conf *server_peer_at(const struct server *s, size_t i);
/* The peer with this EID: configured, cloned, or else [*] (NULL: none). */
const struct peer_conf *server_find_peer(const struct server *s, const eid_t *eid);
/* A stranger registered through [*] (7.7): a peer of its own, cloned from
 * [*], until the next reload. NULL without [*], for a known EID, beyond
 * PEER_MAX_CLONES, or out of memory. */
const struct peer_conf *server_clone_wildcard(struct server *s, const eid_t *eid);

/* ---- state per peer EID ---- */
/* Created on first use (NULL: out of memory). Keys are the peer entry's; a
 * change of keys starts the keys afresh. */
struct peer_state *server_peer_state(struct server *s, const eid_t *eid, const struct peer_conf *p);
const struct peer_state *server_find_peer_state(const struct server *s, const eid_t *eid);
size_t server_peer_state_count(const struct server *s);
/* Where a peer can be reached now: its static host, its resolved name, or its registration. */
const struct dundi_addr *server_peer_addr(const struct server *s, const struct peer_conf *p);

/* ---- reachability ---- */
enum peer_reach peer_reach(const struct server *s, const struct peer_conf *p, int *rtt_ms);
/* As the reference shows it: "OK (12 ms)", "UNREACHABLE", "Unmonitored", ... */
const char *peer_reach_text(enum peer_reach r, int rtt_ms, char *buf, size_t len);
bool peer_usable(const struct server *s, const struct peer_conf *p);      /* may be asked (4.1) */
bool peer_unreachable(const struct server *s, const struct peer_conf *p); /* qualified and RTT < 0 */
bool peer_suspect(const struct server *s, const struct peer_conf *p);
/* How long a lookup waits for a suspect peer: twice its last RTT, 50..500 ms. */
unsigned peer_suspect_wait_ms(const struct server *s, const struct peer_conf *p);
/* A request to eid sent at sent_ms ended unanswered (timeout or autokill):
 * suspect it and have it probed (s->peer_hooks.suspect), unless the peer
 * was heard from since that request left. */
void peer_went_silent(struct server *s, const eid_t *eid, uint64_t sent_ms);
/* eid answered or sent us something authenticated: no longer suspect, and
 * an unreachable peer is pinged at once (s->peer_hooks.heard). */
void peer_heard(struct server *s, const eid_t *eid);
unsigned peer_rexmit_ms(const struct server *s, const struct peer_conf *p);
/* Record how long peer took to answer number@context (storehistory). */
void server_note_lookup_time(struct server *s, const eid_t *peer, const char *number, const char *context, int ms);

/* ---- registrations of dynamic peers (7.4) ---- */
/* Record a REGREQ from eid at addr; true if the address changed. */
bool server_register(struct server *s, const eid_t *eid, const struct dundi_addr *addr);
/* The same with the time left (a registration read back from the state file). */
bool server_register_until(struct server *s, const eid_t *eid, const struct dundi_addr *addr, uint64_t left_ms);
const struct registration *server_find_registration(const struct server *s, const eid_t *eid);
size_t server_registration_count(const struct server *s);
/* Would a REGREQ from eid need a new entry while REG_MAX_PEERS are held? */
bool server_registrations_full(const struct server *s, const eid_t *eid);

/* ---- lifecycle (server.c) ---- */
/* After a snapshot swap: clones re-made from the new [*] or dropped,
 * registrations kept for peers that are still dynamic, states kept for
 * peers that stay (their keys reset when the key files changed). */
void peers_reload(struct server *s);
void peers_free(struct server *s);

#endif
