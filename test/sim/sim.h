/* A deterministic simulator for the server layer, in the manner of
 * Unbound's testbound: several dundid servers, each the real src/server/
 * code on its own (never dispatched) event base, wired through an
 * in-memory network with a seeded loss rate, on one simulated clock.
 * Scenarios say "this goes in, these packets come out, time passes"; there
 * are no ports, no sleeps and no threads, and a run with the same seed
 * always does the same. */
#ifndef DUNDID_SIM_H
#define DUNDID_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dundid/eidquery.h"
#include "dundid/lookup.h"
#include "dundid/server_impl.h" /* white-box: scenarios read counters and peer state */
#include "dundid/wire.h"

struct sim;
struct sim_node;

/* One datagram that went over the simulated network. */
struct sim_pkt {
    uint64_t sent_ms;
    struct dundi_addr from, to;
    uint8_t cmd; /* header command without flags */
    bool final, dropped; /* dropped: lost, or sender or receiver down */
    size_t len;
    uint8_t data[DUNDI_MAX_PACKET];
};

/* A new world at simulated time 0 (the wall clock starts at a fixed date);
 * seed drives packet loss. keydir: where the scenarios' key files are. */
struct sim *sim_new(uint64_t seed, const char *keydir);
void sim_free(struct sim *w);

/* A dundid at addr ("127.0.0.1:4520", "[::1]:4520") with this configuration
 * text; "@KEYDIR@" in it is replaced by the keydir. Aborts the test with
 * the configuration's diagnostics when it does not load. */
struct sim_node *sim_node(struct sim *w, const char *name, const char *addr, const char *conf);
struct server *sim_server(struct sim_node *n);
/* Replace the node's configuration, as a SIGHUP would (0, or -1 when it
 * does not load: the running one stays). */
int sim_reload(struct sim_node *n, const char *conf);
/* A node that is down neither sends nor receives (a dead host). */
void sim_down(struct sim_node *n, bool down);
/* Restart: the server is freed and started again with its last
 * configuration (a kill -9 and restart: nothing kept in memory). */
void sim_restart(struct sim_node *n);

/* Every datagram is lost with this probability (0..100 %). */
void sim_set_loss(struct sim *w, unsigned percent);
/* One-way delay of every datagram (default 1 ms). */
void sim_set_latency(struct sim *w, unsigned ms);

/* Let time pass, running every timer and delivering every datagram due. */
void sim_run(struct sim *w, uint64_t ms);
uint64_t sim_now(const struct sim *w);

/* A lookup started by node n itself (as `dundictl lookup` does): its own
 * answers, then the lookup towards its peers. Runs the world until it is
 * answered or limit_ms passed; returns true when it was answered. */
struct sim_answer {
    struct local_result local;
    struct lookup_result fwd;
    uint64_t ms; /* how long it took */
};
bool sim_lookup(struct sim_node *n, const char *number, const char *context, bool bypass, uint64_t limit_ms,
                struct sim_answer *out);
/* Number of answers (local and forwarded) whose destination contains dest. */
unsigned sim_answers_with(const struct sim_answer *a, const char *dest);

/* Put a raw datagram on the network from addr (no node needs to be
 * there; replies to it are logged like every packet). */
void sim_inject(struct sim *w, const char *from, struct sim_node *to, const uint8_t *pkt, size_t len);

/* The same, arriving delay_ms later than sim_inject's would. */
void sim_inject_later(struct sim *w, const char *from, struct sim_node *to, const uint8_t *pkt, size_t len,
                      uint64_t delay_ms);
/* A peer played by the scenario at addr (no node there): fn sees every
 * datagram that reaches it, when it arrives, and may answer with sim_inject. */
typedef void (*sim_agent_fn)(void *ctx, struct sim *w, const struct sim_pkt *p);
void sim_agent(struct sim *w, const char *addr, sim_agent_fn fn, void *ctx);

/* The packet log since the last sim_log_clear: datagrams from `from` to
 * `to` (addresses as text or NULL = any) with command cmd (-1 = any). */
size_t sim_count(const struct sim *w, const char *from, const char *to, int cmd);
const struct sim_pkt *sim_log(const struct sim *w, size_t *n);
void sim_log_clear(struct sim *w);
/* The nth (from 0) logged datagram matching from/to/cmd as sim_count does, or NULL. */
const struct sim_pkt *sim_find(const struct sim *w, const char *from, const char *to, int cmd, size_t nth);
/* A logged datagram's header and IEs (false when they do not parse). An
 * ENCRYPT shows its envelope (EID, SHAREDKEY or KEYCRC32, ENCDATA). */
bool sim_decode(const struct sim_pkt *p, struct dundi_hdr *h, struct dundi_ies *ies);

/* A client without a daemon: send a request (cmd with these IEs, a new
 * transaction strans) from addr to node n, run the world until the final
 * response comes back (ACKing it as a client does) or limit_ms passed.
 * Returns the response's command (its IEs in *out), or -1 without one. */
int sim_request(struct sim *w, const char *from, struct sim_node *n, uint8_t cmd, uint16_t strans,
                const struct dundi_ieb *ies, uint64_t limit_ms, struct dundi_ies *out);
/* The same, not waiting: the request is on the wire; sim_response picks up
 * the final response to strans at from (ACKing it), -1 when there is none yet. */
void sim_request_send(struct sim *w, const char *from, struct sim_node *n, uint8_t cmd, uint16_t strans,
                      const struct dundi_ieb *ies);
int sim_response(struct sim *w, const char *from, struct sim_node *n, uint16_t strans, struct dundi_ies *out);
/* The IEs of a DPDISCOVER for number@context with ttl, the path list
 * path[0..npath) (direct[i]: EID_DIRECT) and CACHEBYPASS. */
void sim_discover_ies(struct dundi_ieb *b, const char *const *path, const bool *direct, unsigned npath,
                      const char *number, const char *context, int ttl, bool bypass);

/* An EID query started by node n (as `dundictl eidquery` does) in context
 * (NULL: e164), TTL ttl (0: the configured one). Runs the world until it ends or limit_ms passed. */
bool sim_eid_query(struct sim_node *n, const char *target, const char *context, int ttl, uint64_t limit_ms,
                   struct eid_info *out);

/* Node n's view of its peer eid: qualify result (0 none yet, -1
 * unreachable, else the RTT in ms; INT_MIN when it keeps no state for it),
 * whether our registration with it was accepted, and where the peer can be
 * reached now ("" when nowhere). */
int sim_peer_rtt(struct sim_node *n, const char *eid);
bool sim_peer_registered(struct sim_node *n, const char *eid);
const char *sim_peer_addr(struct sim_node *n, const char *eid);

/* A digest of the whole log: when each datagram went, from where to where,
 * its command, length and fate. Two runs with the same seed give the same
 * digest (the bytes differ: session keys, IVs and transaction ids are random). */
uint64_t sim_digest(const struct sim *w);

/* The address of a node, as text. */
const char *sim_addr(const struct sim_node *n);

#endif
