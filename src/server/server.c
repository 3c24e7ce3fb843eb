/* Server lifecycle: sockets on the event loop, snapshot swaps, registrations. */
#include "dundid/looplag.h"
#include "dundid/persist.h"
#include "dundid/qualify.h"
#include "dundid/resolve.h"
#include "dundid/respond.h"
#include "dundid/server_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dundid/clock.h"
#include "dundid/log.h"
#include "dundid/eidquery.h"
#include "dundid/lookup.h"
#include "dundid/precache.h"
#include "dundid/realtime.h"
#include "dundid/ratelimit.h"
#include "dundid/registrations.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define RECV_BATCHES 4 /* recvmmsg calls per readiness event, so timers and feeds still run */
#define CACHE_SWEEP_MS 1000
/* Replies to unauthenticated senders: per source address, and in all. */
#define UNAUTH_RATE 20
#define UNAUTH_BURST 40
#define UNAUTH_GLOBAL_RATE 1000
#define UNAUTH_GLOBAL_BURST 2000
/* RSA work for offered session keys: a peer sends a full key about once an
 * hour; a flood of junk keys must not eat the CPU. */
#define KEYCHECK_RATE 10
#define KEYCHECK_BURST 20
#define KEYCHECK_GLOBAL_RATE 100
#define KEYCHECK_GLOBAL_BURST 200

/* Replies leave from the socket of the destination's family. */
static int udp_transmit(void *ctx, const struct dundi_addr *to, const uint8_t *pkt, size_t len)
{
    struct server *s = ctx;
    for (int i = 0; i < 2; i++)
        if (s->fd[i] >= 0 && s->family[i] == to->ss.ss_family)
            return s->batching ? udp_batch_send(s->batch, s->fd[i], to, pkt, len) : udp_send(s->fd[i], to, pkt, len);
    return -1;
}

void server_yield(struct server *s, struct event *ev)
{
    static const struct timeval now = {0, 0};
    (void)s;
    event_add(ev, &now);
}

static void around_timers(void *ctx, bool before)
{
    if (before)
        looplag_work_begin(ctx);
    else
        looplag_work_end(ctx);
}

void server_feed_event(struct server *s, struct event *ev)
{
    if (s->prio)
        event_priority_set(ev, 1);
}

static int server_send(void *ctx, const struct dundi_addr *to, const uint8_t *pkt, size_t len)
{
    struct server *s = ctx;
    server_debug_packet(s, true, to, pkt, len);
    return s->io.send(s->io.ctx, to, pkt, len);
}

void server_input(struct server *s, const struct dundi_addr *from, const uint8_t *pkt, size_t len)
{
    server_debug_packet(s, false, from, pkt, len > DUNDI_MAX_PACKET ? DUNDI_MAX_PACKET : len);
    /* Oversize datagrams arrive with their true length and are dropped as such. */
    trans_engine_input(s->eng, from, pkt, len);
}

/* Datagrams in batches (recvmmsg), their replies out in batches (sendmmsg). */
static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    struct server *s = arg;
    (void)what;

    looplag_work_begin(s);
    for (int round = 0; round < RECV_BATCHES; round++) {
        int n = udp_recv_batch(fd, s->batch);
        s->batching = true;
        for (int i = 0; i < n; i++) {
            struct dundi_addr from;
            size_t len;
            const uint8_t *pkt = udp_batch_msg(s->batch, i, &len, &from);
            server_input(s, &from, pkt, len);
        }
        s->batching = false;
        udp_batch_flush(s->batch);
        if (n < UDP_BATCH)
            break;
    }
    looplag_work_end(s);
}

/* Expired cache entries go in small batches, so a big cache never stalls the loop. */
static void cache_sweep(void *arg)
{
    struct server *s = arg;
    cache_expire(s->cache, clock_wall_s(), 4096);
    timerq_arm(&s->loop.tq, &s->cache_sweep, clock_now_ms() + CACHE_SWEEP_MS);
}

/* The qualify, register and DNS upkeep a peer state carries. */
static void peer_init(struct server *s, struct peer_state *ps)
{
    (void)s;
    qualify_state_init(ps);
}

static void peer_forget(struct server *s, struct peer_state *ps)
{
    qualify_state_detach(s, ps);
    resolve_detach(ps);
}

static int open_sockets(struct server *s, char *err, size_t errlen)
{
    const struct config *conf = s->conf;
    const struct dundi_addr *addrs[2] = {&conf->bindaddr, conf->has_bindaddr2 ? &conf->bindaddr2 : NULL};
    for (int i = 0; i < 2; i++) {
        if (!addrs[i])
            continue;
        s->fd[i] = udp_bind(addrs[i], conf->tos, err, errlen);
        if (s->fd[i] < 0)
            return -1;
        s->family[i] = addrs[i]->ss.ss_family;
        s->ev[i] = event_new(s->base, s->fd[i], EV_READ | EV_PERSIST, on_readable, s);
        if (s->ev[i] && s->prio)
            event_priority_set(s->ev[i], 0);
        if (!s->ev[i] || event_add(s->ev[i], NULL) < 0) {
            snprintf(err, errlen, "cannot watch the socket");
            return -1;
        }
        char where[64];
        log_notice("listening on %s", dundi_addr_str(addrs[i], where, sizeof(where)));
    }
    return 0;
}

int server_init(struct server *s, struct event_base *base, struct config *conf, const struct server_io *io, char *err,
                size_t errlen)
{
    memset(s, 0, sizeof(*s));
    s->fd[0] = s->fd[1] = -1;
    s->base = base;
    s->conf = conf;
    s->storehistory = conf->storehistory;
    secret_init(&s->secret, clock_wall_s());
    /* Lookups first: the DUNDi sockets, the timers and the lag probe at
     * priority 0; feed work (server_feed_event) at 1, run only when nothing
     * of priority 0 is ready. Events made before keep priority 0. */
    s->prio = event_base_get_npriorities(base) == 2 || event_base_priority_init(base, 2) == 0;
    s->scratch = malloc(sizeof(*s->scratch));
    s->batch = udp_batch_new();
    if (!s->scratch || !s->batch || loop_init(&s->loop, base) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    s->peer_hooks = (struct peer_hooks){peer_init, peer_forget, qualify_suspect, qualify_heard, persist_peers_changed};
    s->cache = cache_new((size_t)conf->cache_size);
    timer_init(&s->cache_sweep, cache_sweep, s);
    precache_init(s);
    timerq_arm(&s->loop.tq, &s->cache_sweep, clock_now_ms() + CACHE_SWEEP_MS);
    s->eng = trans_engine_new(&s->loop.tq, &respond_handler, (size_t)conf->max_transactions);
    if (!s->eng || !s->cache) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (s->prio)
        event_priority_set(s->loop.tick, 0);
    s->loop.around = around_timers;
    s->loop.around_ctx = s;
    s->eng->send = server_send;
    s->eng->send_ctx = s;
    s->eng->inner = server_debug_inner;
    s->eng->inner_ctx = s;
    s->eng->max_per_source = (uint32_t)conf->max_per_source;
    if (!(s->rl = malloc(sizeof(*s->rl))) || !(s->rl_keys = malloc(sizeof(*s->rl_keys))) || looplag_start(s) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    ratelimit_init(s->rl, UNAUTH_RATE, UNAUTH_BURST, UNAUTH_GLOBAL_RATE, UNAUTH_GLOBAL_BURST);
    ratelimit_init(s->rl_keys, KEYCHECK_RATE, KEYCHECK_BURST, KEYCHECK_GLOBAL_RATE, KEYCHECK_GLOBAL_BURST);
    s->eng->rl = s->rl;

    if (io) {
        s->io = *io;
    } else {
        s->io = (struct server_io){udp_transmit, s, {conf->bindaddr.ss.ss_family, conf->has_bindaddr2 ? conf->bindaddr2.ss.ss_family : AF_UNSPEC}};
        if (open_sockets(s, err, errlen) < 0)
            return -1;
    }
    if (resolve_init(s, err, errlen) < 0)
        return -1;
    if (registrations_start(s, err, errlen) < 0)
        return -1;
    if (!(s->realtime = realtime_new(s))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    realtime_configure(s->realtime, NULL, conf);
    s->persist.save_in_child = !io;
    persist_start(s);
    qualify_schedule(s);
    resolve_schedule(s);
    precache_schedule(s, NULL);
    precache_watch_registrations(s);
    return 0;
}

void server_free(struct server *s)
{
    if (s->persist.started) /* a start that failed must not overwrite good files */
        persist_save_all(s);
    persist_stop(s);
    lookup_abandon_all(s);
    eid_query_abandon_all(s);
    precache_free(s);
    peers_free(s); /* before the engine: a state's ping still holds its transaction */
    trans_engine_free(s->eng);
    resolve_free(s);
    realtime_free(s->realtime); /* after the transactions: they may wait for it */
    registrations_stop(s);
    for (int i = 0; i < 2; i++) {
        if (s->ev[i])
            event_free(s->ev[i]);
        if (s->fd[i] >= 0)
            close(s->fd[i]);
    }
    looplag_stop(s);
    loop_free(&s->loop);
    cache_free(s->cache);
    config_free(s->conf);
    free(s->scratch);
    udp_batch_free(s->batch);
    free(s->rl);
    free(s->rl_keys);
    memset(s, 0, sizeof(*s));
}

void server_reload(struct server *s, struct config *conf)
{
    struct config *old = s->conf;
    s->conf = conf;
    s->storehistory = conf->storehistory;
    s->eng->max_per_source = (uint32_t)conf->max_per_source;
    peers_reload(s);
    qualify_schedule(s);
    resolve_schedule(s);
    precache_schedule(s, old);
    if (conf->port != old->port || !dundi_addr_equal(&conf->bindaddr, &old->bindaddr))
        log_warning("bindaddr/port changes take effect at the next restart");
    registrations_reload(s, old);
    precache_watch_registrations(s);
    realtime_configure(s->realtime, old, conf);
    config_free(old);
}
