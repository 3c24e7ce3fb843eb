/* The simulator (sim.h). */
#include "sim.h"

#include <arpa/inet.h>
#include <limits.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dundid/clock.h"
#include "dundid/log.h"
#include "dundid/mapping.h"

#define SIM_MAX_NODES 16
#define SIM_EPOCH 1767225600 /* the wall clock starts at 2026-01-01 00:00 UTC */
#define SIM_MAX_STEPS 10000000u /* a scenario that never settles fails instead of hanging */

struct sim_node {
    struct sim *w;
    char name[32];
    char addr_text[64];
    struct dundi_addr addr;
    struct event_base *base;
    struct server srv;
    bool up, running;
    char conf_path[64];
};

struct inflight {
    uint64_t due_ms;
    size_t log_index; /* the packet in the log */
    struct sim_node *to;
    struct agent *agent; /* or to an agent */
};

/* A peer played by the scenario at an address without a node. */
struct agent {
    struct dundi_addr addr;
    sim_agent_fn fn;
    void *ctx;
};
#define SIM_MAX_AGENTS 16

struct sim {
    uint64_t now_ms;
    uint64_t rng;
    unsigned loss, latency_ms;
    char keydir[512];
    struct sim_node *nodes[SIM_MAX_NODES];
    unsigned nnodes;
    struct sim_pkt *log;
    size_t nlog, caplog;
    size_t log_start; /* sim_log_clear: what counts starts here */
    struct inflight *q;
    size_t nq, capq;
    struct agent agents[SIM_MAX_AGENTS];
    unsigned nagents;
    uint64_t extra_delay_ms; /* sim_inject_later */
};

static struct sim *current; /* one world at a time: the clock is the process's */

static uint64_t sim_clock_ms(void) { return current->now_ms; }
static int64_t sim_wall_s(void) { return SIM_EPOCH + (int64_t)(current->now_ms / 1000); }

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "sim: %s: %s\n", what, detail);
    abort();
}

static uint64_t next_random(struct sim *w)
{
    /* xorshift64*: small, seeded, the same on every machine */
    w->rng ^= w->rng >> 12;
    w->rng ^= w->rng << 25;
    w->rng ^= w->rng >> 27;
    return w->rng * 2685821657736338717ull;
}

static int parse_addr(const char *text, struct dundi_addr *a)
{
    char host[64];
    const char *colon = strrchr(text, ':');
    memset(a, 0, sizeof(*a));
    if (!colon || (size_t)(colon - text) >= sizeof(host))
        return -1;
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = '\0';
    int port = atoi(colon + 1);
    if (host[0] == '[') {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a->ss;
        size_t n = strlen(host);
        if (n < 3 || host[n - 1] != ']')
            return -1;
        host[n - 1] = '\0';
        if (inet_pton(AF_INET6, host + 1, &s6->sin6_addr) != 1)
            return -1;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        a->len = sizeof(*s6);
        return 0;
    }
    struct sockaddr_in *s4 = (struct sockaddr_in *)&a->ss;
    if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
        return -1;
    s4->sin_family = AF_INET;
    s4->sin_port = htons((uint16_t)port);
    a->len = sizeof(*s4);
    return 0;
}

struct sim *sim_new(uint64_t seed, const char *keydir)
{
    struct sim *w = calloc(1, sizeof(*w));
    if (!w)
        die("sim_new", "out of memory");
    w->rng = seed ? seed : 0x9e3779b97f4a7c15ull;
    w->latency_ms = 1;
    snprintf(w->keydir, sizeof(w->keydir), "%s", keydir ? keydir : ".");
    current = w;
    /* Scenarios assert on packets and counters; DUNDID_SIM_LOG=debug shows the daemons' logs. */
    const char *lv = getenv("DUNDID_SIM_LOG");
    log_set_level(lv && !strcmp(lv, "debug") ? LOG_LVL_DEBUG : lv ? LOG_LVL_INFO : LOG_LVL_ERROR);
    clock_set_source(sim_clock_ms);
    clock_set_wall_source(sim_wall_s);
    return w;
}

static void stop_node(struct sim_node *n)
{
    if (!n->running)
        return;
    server_free(&n->srv);
    event_base_free(n->base);
    n->base = NULL;
    n->running = false;
}

void sim_free(struct sim *w)
{
    for (unsigned i = 0; i < w->nnodes; i++) {
        stop_node(w->nodes[i]);
        unlink(w->nodes[i]->conf_path);
        free(w->nodes[i]);
    }
    free(w->log);
    free(w->q);
    free(w);
    current = NULL;
    clock_set_source(NULL);
    clock_set_wall_source(NULL);
}

static struct sim_node *node_at(struct sim *w, const struct dundi_addr *a)
{
    for (unsigned i = 0; i < w->nnodes; i++)
        if (dundi_addr_equal(&w->nodes[i]->addr, a))
            return w->nodes[i];
    return NULL;
}

static struct agent *agent_at(struct sim *w, const struct dundi_addr *a)
{
    for (unsigned i = 0; i < w->nagents; i++)
        if (dundi_addr_equal(&w->agents[i].addr, a))
            return &w->agents[i];
    return NULL;
}

/* Every datagram goes into the log; those to a live node or an agent are queued. */
static void put_on_wire(struct sim *w, const struct dundi_addr *from, const struct dundi_addr *to,
                        const uint8_t *pkt, size_t len, bool from_up)
{
    if (w->nlog == w->caplog) {
        w->caplog = w->caplog ? 2 * w->caplog : 32;
        if (!(w->log = realloc(w->log, w->caplog * sizeof(*w->log))))
            die("log", "out of memory");
    }
    struct sim_pkt *p = &w->log[w->nlog];
    memset(p, 0, offsetof(struct sim_pkt, data));
    p->sent_ms = w->now_ms;
    p->from = *from;
    p->to = *to;
    p->len = len > sizeof(p->data) ? sizeof(p->data) : len;
    memcpy(p->data, pkt, p->len);
    struct dundi_hdr h;
    if (dundi_hdr_decode(pkt, len, &h) == 0) {
        p->cmd = dundi_hdr_cmd(&h);
        p->final = dundi_hdr_final(&h);
    }
    struct sim_node *dst = node_at(w, to);
    struct agent *ag = dst ? NULL : agent_at(w, to);
    /* An address without a node is a client outside the world (sim_request):
     * what reaches it is not dropped, only not queued. */
    p->dropped = !from_up || (dst && !dst->up) || (w->loss && next_random(w) % 100 < w->loss);
    size_t index = w->nlog++;
    if (p->dropped || (!dst && !ag))
        return;
    if (w->nq == w->capq) {
        w->capq = w->capq ? 2 * w->capq : 64;
        if (!(w->q = realloc(w->q, w->capq * sizeof(*w->q))))
            die("queue", "out of memory");
    }
    w->q[w->nq++] = (struct inflight){w->now_ms + w->extra_delay_ms + w->latency_ms, index, dst, ag};
}

static int node_send(void *ctx, const struct dundi_addr *to, const uint8_t *pkt, size_t len)
{
    struct sim_node *n = ctx;
    put_on_wire(n->w, &n->addr, to, pkt, len, n->up);
    return 0;
}

static void write_conf(struct sim_node *n, const char *conf)
{
    FILE *f = fopen(n->conf_path, "w");
    if (!f)
        die("cannot write", n->conf_path);
    /* @KEYDIR@ stands for the scenarios' key folder. */
    for (const char *p = conf; *p;) {
        const char *k = strstr(p, "@KEYDIR@");
        size_t run = k ? (size_t)(k - p) : strlen(p);
        fwrite(p, 1, run, f);
        if (!k)
            break;
        fputs(n->w->keydir, f);
        p = k + strlen("@KEYDIR@");
    }
    fclose(f);
}

static struct config *load(struct sim_node *n, bool fatal)
{
    struct config_diag d = {0};
    struct config *c = config_load(n->conf_path, &d);
    if (!c && fatal) {
        for (size_t i = 0; i < d.n; i++)
            fprintf(stderr, "%s: %s\n", n->name, d.msg[i]);
        die("configuration does not load", n->name);
    }
    config_diag_free(&d);
    return c;
}

static void start_node(struct sim_node *n)
{
    char err[256];
    struct config *c = load(n, true);
    struct server_io io = {node_send, n, {n->addr.ss.ss_family, AF_UNSPEC}};
    if (!(n->base = event_base_new()))
        die("event_base_new", n->name);
    if (server_init(&n->srv, n->base, c, &io, err, sizeof(err)) < 0)
        die(n->name, err);
    n->running = true;
}

struct sim_node *sim_node(struct sim *w, const char *name, const char *addr, const char *conf)
{
    if (w->nnodes == SIM_MAX_NODES)
        die("too many nodes", name);
    struct sim_node *n = calloc(1, sizeof(*n));
    if (!n)
        die("sim_node", "out of memory");
    n->w = w;
    n->up = true;
    snprintf(n->name, sizeof(n->name), "%s", name);
    snprintf(n->addr_text, sizeof(n->addr_text), "%s", addr);
    if (parse_addr(addr, &n->addr) < 0)
        die("bad address", addr);
    snprintf(n->conf_path, sizeof(n->conf_path), "/tmp/dundid-sim-%d-%u.conf", (int)getpid(), w->nnodes);
    w->nodes[w->nnodes++] = n;
    write_conf(n, conf);
    start_node(n);
    return n;
}

struct server *sim_server(struct sim_node *n) { return &n->srv; }
const char *sim_addr(const struct sim_node *n) { return n->addr_text; }
void sim_down(struct sim_node *n, bool down) { n->up = !down; }

int sim_reload(struct sim_node *n, const char *conf)
{
    write_conf(n, conf);
    struct config *c = load(n, false);
    if (!c)
        return -1;
    server_reload(&n->srv, c);
    return 0;
}

void sim_restart(struct sim_node *n)
{
    n->srv.persist.started = false; /* kill -9: nothing is written at the stop */
    stop_node(n);
    /* Datagrams still on their way to the old process are lost with it. */
    for (size_t i = 0; i < n->w->nq; i++)
        if (n->w->q[i].to == n)
            n->w->q[i].to = NULL;
    start_node(n);
}

void sim_set_loss(struct sim *w, unsigned percent) { w->loss = percent > 100 ? 100 : percent; }
void sim_set_latency(struct sim *w, unsigned ms) { w->latency_ms = ms; }
uint64_t sim_now(const struct sim *w) { return w->now_ms; }

/* The earliest thing that happens: a timer of a running node or a delivery. */
static uint64_t next_event(const struct sim *w)
{
    uint64_t next = UINT64_MAX;
    for (unsigned i = 0; i < w->nnodes; i++)
        if (w->nodes[i]->running) {
            uint64_t t = timerq_next(&w->nodes[i]->srv.loop.tq);
            if (t < next)
                next = t;
        }
    for (size_t i = 0; i < w->nq; i++)
        if (w->q[i].due_ms < next)
            next = w->q[i].due_ms;
    return next;
}

/* One step at now: deliver what is due (in the order sent), then run timers. */
static void step(struct sim *w)
{
    for (size_t i = 0; i < w->nq;) {
        struct inflight f = w->q[i];
        if (f.due_ms > w->now_ms) {
            i++;
            continue;
        }
        memmove(&w->q[i], &w->q[i + 1], (w->nq - i - 1) * sizeof(*w->q));
        w->nq--;
        if (f.to && f.to->running && f.to->up) {
            const struct sim_pkt *p = &w->log[f.log_index];
            struct sim_pkt copy = *p; /* the log may move while the server sends */
            server_input(&f.to->srv, &copy.from, copy.data, copy.len);
        } else if (f.agent) {
            struct sim_pkt copy = w->log[f.log_index];
            f.agent->fn(f.agent->ctx, w, &copy);
        }
    }
    for (unsigned i = 0; i < w->nnodes; i++)
        if (w->nodes[i]->running)
            timerq_run(&w->nodes[i]->srv.loop.tq, w->now_ms);
}

void sim_run(struct sim *w, uint64_t ms)
{
    uint64_t end = w->now_ms + ms;
    for (unsigned steps = 0;; steps++) {
        if (steps >= SIM_MAX_STEPS)
            die("sim_run", "the world never settles (a timer re-arms itself for now?)");
        uint64_t next = next_event(w);
        if (next > end)
            break;
        if (next > w->now_ms)
            w->now_ms = next;
        step(w);
    }
    w->now_ms = end;
}

struct pending_lookup {
    struct sim_answer *out;
    bool done;
};

static void lookup_done(void *ctx, const struct lookup_result *r)
{
    struct pending_lookup *pl = ctx;
    pl->out->fwd = *r;
    pl->done = true;
}

bool sim_lookup(struct sim_node *n, const char *number, const char *context, bool bypass, uint64_t limit_ms,
                struct sim_answer *out)
{
    struct server *s = &n->srv;
    const struct config *c = s->conf;
    struct sim *w = n->w;
    uint64_t start = w->now_ms;
    memset(out, 0, sizeof(*out));
    struct answer_vars v = {number, &c->eid, s->secret.current, c->ipaddr, s->regtable, clock_wall_s(), NULL};
    mapping_answer(c, context, &v, &out->local);
    struct lookup_request *rq = calloc(1, sizeof(*rq));
    if (!rq)
        die("sim_lookup", "out of memory");
    snprintf(rq->number, sizeof(rq->number), "%s", number);
    snprintf(rq->context, sizeof(rq->context), "%s", context);
    rq->ttl = c->ttl;
    rq->bypass = bypass;
    rq->hint_flags = out->local.hint_flags;
    memcpy(rq->hint_data, out->local.hint_data, sizeof(rq->hint_data));
    struct pending_lookup pl = {out, false};
    struct lookup *lk = lookup_start(s, rq, lookup_done, &pl);
    free(rq);
    if (!lk)
        die("sim_lookup", "out of memory");
    /* In steps of 1 ms, so the answer's time is measured to the millisecond. */
    while (!pl.done && w->now_ms - start < limit_ms)
        sim_run(w, 1);
    if (!pl.done)
        lookup_abandon(lk);
    out->ms = w->now_ms - start;
    return pl.done;
}

unsigned sim_answers_with(const struct sim_answer *a, const char *dest)
{
    unsigned n = 0;
    for (unsigned i = 0; i < a->local.n; i++)
        n += strstr(a->local.answers[i].dest, dest) != NULL;
    for (unsigned i = 0; i < a->fwd.res.n; i++)
        n += strstr(a->fwd.res.answers[i].dest, dest) != NULL;
    return n;
}

void sim_inject(struct sim *w, const char *from, struct sim_node *to, const uint8_t *pkt, size_t len)
{
    struct dundi_addr a;
    if (parse_addr(from, &a) < 0)
        die("bad address", from);
    put_on_wire(w, &a, &to->addr, pkt, len, true);
}

void sim_inject_later(struct sim *w, const char *from, struct sim_node *to, const uint8_t *pkt, size_t len,
                      uint64_t delay_ms)
{
    w->extra_delay_ms = delay_ms;
    sim_inject(w, from, to, pkt, len);
    w->extra_delay_ms = 0;
}

void sim_agent(struct sim *w, const char *addr, sim_agent_fn fn, void *ctx)
{
    if (w->nagents == SIM_MAX_AGENTS)
        die("too many agents", addr);
    struct agent *a = &w->agents[w->nagents++];
    if (parse_addr(addr, &a->addr) < 0)
        die("bad address", addr);
    a->fn = fn;
    a->ctx = ctx;
}

static bool addr_is(const struct dundi_addr *a, const char *text)
{
    struct dundi_addr b;
    return !text || (parse_addr(text, &b) == 0 && dundi_addr_equal(a, &b));
}

size_t sim_count(const struct sim *w, const char *from, const char *to, int cmd)
{
    size_t n = 0;
    for (size_t i = w->log_start; i < w->nlog; i++) {
        const struct sim_pkt *p = &w->log[i];
        n += addr_is(&p->from, from) && addr_is(&p->to, to) && (cmd < 0 || p->cmd == cmd);
    }
    return n;
}

const struct sim_pkt *sim_log(const struct sim *w, size_t *n)
{
    *n = w->nlog - w->log_start;
    return w->log + w->log_start;
}

void sim_log_clear(struct sim *w) { w->log_start = w->nlog; }

const struct sim_pkt *sim_find(const struct sim *w, const char *from, const char *to, int cmd, size_t nth)
{
    for (size_t i = w->log_start; i < w->nlog; i++) {
        const struct sim_pkt *p = &w->log[i];
        if (addr_is(&p->from, from) && addr_is(&p->to, to) && (cmd < 0 || p->cmd == cmd) && nth-- == 0)
            return p;
    }
    return NULL;
}

bool sim_decode(const struct sim_pkt *p, struct dundi_hdr *h, struct dundi_ies *ies)
{
    return dundi_hdr_decode(p->data, p->len, h) == 0 &&
           dundi_ies_decode(p->data + DUNDI_HDR_LEN, p->len - DUNDI_HDR_LEN, ies) == 0;
}

static void client_send(struct sim *w, const char *from, struct sim_node *n, const struct dundi_hdr *h,
                        const struct dundi_ieb *ies)
{
    uint8_t pkt[DUNDI_MAX_PACKET];
    size_t len = ies ? ies->len : 0;
    dundi_hdr_encode(h, pkt);
    if (len)
        memcpy(pkt + DUNDI_HDR_LEN, ies->buf, len);
    sim_inject(w, from, n, pkt, DUNDI_HDR_LEN + len);
}

void sim_request_send(struct sim *w, const char *from, struct sim_node *n, uint8_t cmd, uint16_t strans,
                      const struct dundi_ieb *ies)
{
    struct dundi_hdr h = {strans, 0, 0, 0, cmd, 0};
    client_send(w, from, n, &h, ies);
}

int sim_response(struct sim *w, const char *from, struct sim_node *n, uint16_t strans, struct dundi_ies *out)
{
    /* The first final response to strans (a retransmission repeats it). */
    for (size_t i = w->log_start; i < w->nlog; i++) {
        const struct sim_pkt *p = &w->log[i];
        struct dundi_hdr h;
        if (p->dropped || !p->final || p->cmd == DUNDI_CMD_ACK || !addr_is(&p->to, from) ||
            !dundi_addr_equal(&p->from, &n->addr) || dundi_hdr_decode(p->data, p->len, &h) < 0 ||
            (h.dtrans & DUNDI_TRANS_MASK) != strans)
            continue;
        if (dundi_ies_decode(p->data + DUNDI_HDR_LEN, p->len - DUNDI_HDR_LEN, out) < 0)
            memset(out, 0, sizeof(*out));
        int cmd = p->cmd;
        struct dundi_hdr ack = {strans, h.strans, (uint8_t)(h.oseqno + 1), h.iseqno, DUNDI_CMD_ACK | DUNDI_FLAG_FINAL,
                                0};
        client_send(w, from, n, &ack, NULL);
        return cmd;
    }
    return -1;
}

int sim_request(struct sim *w, const char *from, struct sim_node *n, uint8_t cmd, uint16_t strans,
                const struct dundi_ieb *ies, uint64_t limit_ms, struct dundi_ies *out)
{
    uint64_t start = w->now_ms;
    memset(out, 0, sizeof(*out));
    sim_request_send(w, from, n, cmd, strans, ies);
    int got;
    while ((got = sim_response(w, from, n, strans, out)) < 0 && w->now_ms - start < limit_ms)
        sim_run(w, 1);
    sim_run(w, 2); /* the ACK arrives */
    return got;
}

void sim_discover_ies(struct dundi_ieb *b, const char *const *path, const bool *direct, unsigned npath,
                      const char *number, const char *context, int ttl, bool bypass)
{
    dundi_ieb_init(b, DUNDI_MAX_IES);
    dundi_ie_put_u16(b, DUNDI_IE_VERSION, 1);
    for (unsigned i = 0; i < npath; i++) {
        eid_t e;
        if (eid_parse(&e, path[i]) < 0)
            die("bad EID", path[i]);
        dundi_ie_put_eid(b, direct[i] ? DUNDI_IE_EID_DIRECT : DUNDI_IE_EID, &e);
    }
    dundi_ie_put_str(b, DUNDI_IE_CALLED_NUMBER, number);
    dundi_ie_put_str(b, DUNDI_IE_CALLED_CONTEXT, context);
    dundi_ie_put_u16(b, DUNDI_IE_TTL, (uint16_t)ttl);
    if (bypass)
        dundi_ie_put_empty(b, DUNDI_IE_CACHEBYPASS);
}

struct pending_eidq {
    struct eid_info *out;
    bool done;
};

static void eidq_done(void *ctx, const struct eid_info *r)
{
    struct pending_eidq *pq = ctx;
    *pq->out = *r;
    pq->done = true;
}

bool sim_eid_query(struct sim_node *n, const char *target, const char *context, int ttl, uint64_t limit_ms,
                   struct eid_info *out)
{
    struct sim *w = n->w;
    uint64_t start = w->now_ms;
    eid_t t;
    if (eid_parse(&t, target) < 0)
        die("bad EID", target);
    memset(out, 0, sizeof(*out));
    struct pending_eidq pq = {out, false};
    struct eid_query *q = eid_query_start(&n->srv, &t, context, ttl, NULL, 0, eidq_done, &pq);
    if (!q)
        die("sim_eid_query", "out of memory");
    while (!pq.done && w->now_ms - start < limit_ms)
        sim_run(w, 1);
    if (!pq.done)
        eid_query_abandon(q);
    return pq.done;
}

/* What the scenarios read of a peer's state: kept in one place, so that a
 * change of struct peer_state touches only this function. */
static const struct peer_state *peer_of(struct sim_node *n, const char *eid)
{
    eid_t e;
    if (eid_parse(&e, eid) < 0)
        die("bad EID", eid);
    return server_find_peer_state(&n->srv, &e);
}

int sim_peer_rtt(struct sim_node *n, const char *eid)
{
    const struct peer_state *ps = peer_of(n, eid);
    return ps ? ps->rtt_ms : INT_MIN;
}

bool sim_peer_registered(struct sim_node *n, const char *eid)
{
    const struct peer_state *ps = peer_of(n, eid);
    return ps && ps->registered;
}

const char *sim_peer_addr(struct sim_node *n, const char *eid)
{
    static char text[80];
    eid_t e;
    if (eid_parse(&e, eid) < 0)
        die("bad EID", eid);
    const struct peer_conf *p = config_find_peer(n->srv.conf, &e);
    const struct dundi_addr *a = p ? server_peer_addr(&n->srv, p) : NULL;
    text[0] = '\0';
    if (a && a->len)
        dundi_addr_str(a, text, sizeof(text));
    return text;
}

uint64_t sim_digest(const struct sim *w)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
#define MIX(v)                                                                                                        \
    do {                                                                                                              \
        h ^= (uint64_t)(v);                                                                                           \
        h *= 1099511628211ull;                                                                                        \
    } while (0)
    for (size_t i = 0; i < w->nlog; i++) {
        const struct sim_pkt *p = &w->log[i];
        MIX(p->sent_ms);
        MIX(p->cmd);
        MIX(p->final);
        MIX(p->dropped);
        MIX(p->len);
        for (size_t k = 0; k < p->from.len; k++)
            MIX(((const uint8_t *)&p->from.ss)[k]);
        for (size_t k = 0; k < p->to.len; k++)
            MIX(((const uint8_t *)&p->to.ss)[k]);
    }
#undef MIX
    return h;
}
