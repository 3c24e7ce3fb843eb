/* Keeping in touch with peers: qualify pings (7.3), fast probes of suspect
 * peers, and registration with the peers we register with (7.4). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dundid/clock.h"
#include "dundid/log.h"
#include "dundid/outreq.h"
#include "dundid/resolve.h"
#include "dundid/server_impl.h"

#define QUALIFY_FIRST_MS 5000
#define QUALIFY_EVERY_MS 60000
#define QUALIFY_UNREACHABLE_EVERY_MS 10000
#define PROBE_FIRST_MS 1000 /* a suspect peer is probed after 1 s, 2 s, 4 s, ... up to the unreachable interval */
#define REGISTER_FIRST_MS 2000
#define REGISTER_EVERY_MS 60000

/* ---- reachability ---- */

static void set_rtt(struct server *s, struct peer_state *ps, const struct peer_conf *p, int rtt)
{
    char was[32], now[32], eid[EID_STR_LEN];
    int old_rtt;
    enum peer_reach before = peer_reach(s, p, &old_rtt);
    peer_reach_text(before, old_rtt, was, sizeof(was));
    bool changed = (ps->rtt_ms < 0) != (rtt < 0) || (ps->rtt_ms > p->qualify_ms) != (rtt > p->qualify_ms) ||
                   (ps->rtt_ms == 0) != (rtt == 0);
    if (rtt < 0 && ps->rtt_ms >= 0)
        resolve_soon(s, ps); /* unreachable: perhaps it moved to another address */
    ps->rtt_ms = rtt;
    /* Transitions are worth a line; every ping is not. */
    if (changed)
        log_notice("peer %s is now %s (was %s)", eid_to_str(&p->eid, eid),
                   peer_reach_text(peer_reach(s, p, NULL), rtt, now, sizeof(now)), was);
}

/* Pings follow each other by the interval of the peer's state: 60 s while
 * OK, 10 s while unreachable, and for a suspect peer 1 s, 2 s, 4 s, ... up
 * to 10 s; the interval counts from when the previous ping was sent. */
static uint64_t interval_ms(struct peer_state *ps, const struct peer_conf *p)
{
    if (ps->suspect) {
        ps->probe_ms = ps->probe_ms ? 2 * ps->probe_ms : PROBE_FIRST_MS;
        if (ps->probe_ms > QUALIFY_UNREACHABLE_EVERY_MS)
            ps->probe_ms = QUALIFY_UNREACHABLE_EVERY_MS;
        return ps->probe_ms;
    }
    if (!p->qualify_ms)
        return 0; /* unmonitored and not suspect: no pings */
    return ps->rtt_ms < 0 ? QUALIFY_UNREACHABLE_EVERY_MS : QUALIFY_EVERY_MS;
}

/* The next ping at sent + in, unless one is due sooner. */
static void next_ping_by(struct server *s, struct peer_state *ps, uint64_t when)
{
    if (!timer_armed(&ps->qualify_timer) || ps->qualify_timer.when > when)
        timerq_arm(&s->loop.tq, &ps->qualify_timer, when);
}

static void ping_end(void *ctx, struct outreq *r, enum outreq_end why)
{
    struct peer_state *ps = ctx;
    struct server *s = ps->s;
    ps->ping = NULL;
    const struct peer_conf *p = server_find_peer(s, &ps->eid);
    if (!p || p->wildcard)
        return;
    uint64_t sent = outreq_sent_ms(r);
    if (why == OUTREQ_DONE) {
        uint64_t rtt = clock_now_ms() - sent;
        bool was_suspect = ps->suspect;
        /* An unreachable peer that answers a ping late most likely answered a
         * retransmission sent while it was coming up: that time is its
         * downtime, not its lag. It is alive; measure again at once instead
         * of holding it LAGGED (and not asked) until the next minute. */
        if (p->qualify_ms && ps->rtt_ms < 0 && rtt > (uint64_t)p->qualify_ms && !ps->remeasure) {
            ps->remeasure = true;
            peer_heard(s, &ps->eid);
            timerq_arm(&s->loop.tq, &ps->qualify_timer, clock_now_ms());
            return;
        }
        ps->remeasure = false;
        if (p->qualify_ms)
            set_rtt(s, ps, p, rtt < 1 ? 1 : (int)rtt);
        peer_heard(s, &ps->eid);
        /* A probe that found it alive: back to the regular rhythm. */
        if (was_suspect && p->qualify_ms)
            timerq_arm(&s->loop.tq, &ps->qualify_timer, sent + QUALIFY_EVERY_MS);
        else if (was_suspect)
            timerq_cancel(&s->loop.tq, &ps->qualify_timer);
    } else if ((why == OUTREQ_TIMEOUT || why == OUTREQ_DEADLINE) && p->qualify_ms) {
        /* A probe of a suspect peer has the qualify limit as its deadline. */
        ps->suspect = false; /* no longer a suspicion: it is unreachable */
        ps->probe_ms = 0;
        set_rtt(s, ps, p, -1);
        next_ping_by(s, ps, sent + QUALIFY_UNREACHABLE_EVERY_MS); /* not a minute later */
    }
}

static const struct outreq_ops ping_ops = {NULL, ping_end};

static void qualify_fire(void *arg)
{
    struct peer_state *ps = arg;
    struct server *s = ps->s;
    const struct peer_conf *p = server_find_peer(s, &ps->eid);
    if (!p || p->wildcard || (!p->qualify_ms && !ps->suspect))
        return;
    uint64_t in = interval_ms(ps, p);
    if (ps->ping && p->qualify_ms) {
        /* Still in flight: a probe ends at its deadline (the qualify limit),
         * a regular ping when its retransmissions run out, before the next
         * is due. Dropping it for a new one could put the decision off for ever. */
        timerq_arm(&s->loop.tq, &ps->qualify_timer, clock_now_ms() + in);
        return;
    }
    outreq_drop(ps->ping); /* unqualified: abandoned, the new one counts */
    ps->ping = outreq_send(s, p, DUNDI_CMD_NULL, NULL, &ping_ops, ps);
    /* A probe decides within the qualify limit: with a round trip under
     * 2 ms retransmissions are 1 s apart, and a dead peer would otherwise
     * stay SUSPECT (and cost every lookup its short wait) for many seconds. */
    if (ps->ping && ps->suspect && p->qualify_ms)
        outreq_set_deadline(ps->ping, clock_now_ms() + (uint64_t)p->qualify_ms);
    if (in)
        timerq_arm(&s->loop.tq, &ps->qualify_timer, clock_now_ms() + in);
}

/* A request to ps went unanswered (peerstate's suspect hook): probe soon. */
void qualify_suspect(struct server *s, struct peer_state *ps)
{
    const struct peer_conf *p = server_find_peer(s, &ps->eid);
    if (!p || p->wildcard)
        return;
    ps->probe_ms = 0;
    if (!ps->ping) /* a ping in flight decides already */
        timerq_arm(&s->loop.tq, &ps->qualify_timer, clock_now_ms() + interval_ms(ps, p));
}

/* An unreachable peer sent us something authenticated: ping it now. */
void qualify_heard(struct server *s, struct peer_state *ps)
{
    const struct peer_conf *p = server_find_peer(s, &ps->eid);
    if (p && !p->wildcard && p->qualify_ms && ps->rtt_ms < 0 && !ps->ping)
        timerq_arm(&s->loop.tq, &ps->qualify_timer, clock_now_ms());
}

void qualify_soon(struct server *s, const eid_t *eid)
{
    const struct peer_conf *p = server_find_peer(s, eid);
    struct peer_state *ps = p && p->qualify_ms && !p->wildcard ? server_peer_state(s, eid, p) : NULL;
    if (ps)
        timerq_arm(&s->loop.tq, &ps->qualify_timer, clock_now_ms() + QUALIFY_FIRST_MS);
}

/* ---- registering with a peer (we are the dynamic one) ---- */

static void reg_reply(void *ctx, struct outreq *r, const struct dundi_ies *ie)
{
    struct peer_state *ps = ctx;
    char eid[EID_STR_LEN];
    (void)r;
    bool ok = ie->cause < 1;
    if (ok != ps->registered)
        log_notice("registration with peer %s %s", eid_to_str(&ps->eid, eid),
                   ok ? "accepted" : ie->cause_text[0] ? ie->cause_text : "refused");
    ps->registered = ok;
}

/* A rejected key gives up until the next scheduled REGREQ (outreq restarted
 * it once with the full key already). */
static void reg_end(void *ctx, struct outreq *r, enum outreq_end why)
{
    struct peer_state *ps = ctx;
    char eid[EID_STR_LEN];
    (void)r;
    ps->regtrans = NULL;
    if (why == OUTREQ_REJECTED)
        log_notice("registration with peer %s: key rejected; giving up until the next REGREQ",
                   eid_to_str(&ps->eid, eid));
    if (why == OUTREQ_TIMEOUT && ps->registered) {
        log_notice("registration with peer %s: no answer", eid_to_str(&ps->eid, eid));
        ps->registered = false;
    }
}

static const struct outreq_ops reg_ops = {reg_reply, reg_end};

static void register_fire(void *arg)
{
    struct peer_state *ps = arg;
    struct server *s = ps->s;
    const struct peer_conf *p = server_find_peer(s, &ps->eid);
    if (!p || p->wildcard || !p->reg)
        return;
    timerq_arm(&s->loop.tq, &ps->register_timer, clock_now_ms() + REGISTER_EVERY_MS);
    outreq_drop(ps->regtrans); /* each REGREQ is a new transaction */
    struct dundi_ieb *b = &s->scratch->req;
    dundi_ieb_init(b, 0);
    dundi_ie_put_u16(b, DUNDI_IE_VERSION, 1);
    dundi_ie_put_eid(b, DUNDI_IE_EID, config_us_eid(s->conf, p));
    dundi_ie_put_u16(b, DUNDI_IE_EXPIRATION, REG_EXPIRATION_S);
    ps->regtrans = outreq_send(s, p, DUNDI_CMD_REGREQ, b, &reg_ops, ps);
}

/* ---- scheduling, at start and after every reload ---- */

void qualify_state_init(struct peer_state *ps)
{
    timer_init(&ps->qualify_timer, qualify_fire, ps);
    timer_init(&ps->register_timer, register_fire, ps);
}

void qualify_state_detach(struct server *s, struct peer_state *ps)
{
    timerq_cancel(&s->loop.tq, &ps->qualify_timer);
    timerq_cancel(&s->loop.tq, &ps->register_timer);
    outreq_drop(ps->ping);
    outreq_drop(ps->regtrans);
    ps->ping = ps->regtrans = NULL;
}

void qualify_schedule(struct server *s)
{
    for (size_t i = 0; i < server_peer_count(s); i++) {
        const struct peer_conf *p = server_peer_at(s, i);
        if (p->wildcard || (!p->qualify_ms && !p->reg))
            continue;
        struct peer_state *ps = server_peer_state(s, &p->eid, p);
        if (!ps)
            continue;
        /* Peers that keep their settings keep their rhythm across reloads. */
        if (p->qualify_ms && !timer_armed(&ps->qualify_timer) && !ps->ping)
            timerq_arm(&s->loop.tq, &ps->qualify_timer, clock_now_ms() + QUALIFY_FIRST_MS);
        if (p->reg && !timer_armed(&ps->register_timer))
            timerq_arm(&s->loop.tq, &ps->register_timer, clock_now_ms() + REGISTER_FIRST_MS);
    }
    for (struct peer_state *ps = s->peers.states; ps; ps = ps->next) {
        const struct peer_conf *p = server_find_peer(s, &ps->eid);
        if (!p || p->wildcard || (!p->qualify_ms && !ps->suspect)) {
            timerq_cancel(&s->loop.tq, &ps->qualify_timer);
            ps->rtt_ms = 0;
        }
        if (!p || p->wildcard || !p->reg)
            timerq_cancel(&s->loop.tq, &ps->register_timer);
    }
}
