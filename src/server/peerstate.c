/* Peer runtime state (include/dundid/peerstate.h). The lowest layer of the
 * server: it calls nothing above it; what upper layers hang on a state
 * (qualify timers, DNS requests) they take down in s->forget_peer. */
#include "dundid/peerstate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "dundid/clock.h"
#include "dundid/log.h"
#include "dundid/server_impl.h"

const char *const peer_reach_names[PEER_REACH_COUNT] = {"unmonitored", "unknown", "ok",
                                                          "lagged",      "unreachable", "suspect"};

/* ---- peers: the snapshot's, then the clones ---- */

size_t server_peer_count(const struct server *s) { return s->conf->npeers + s->peers.nclones; }

const struct peer_conf *server_peer_at(const struct server *s, size_t i)
{
    return i < s->conf->npeers ? &s->conf->peers[i] : s->peers.clones[i - s->conf->npeers];
}

static const struct peer_conf *find_clone(const struct server *s, const eid_t *eid)
{
    for (size_t i = 0; i < s->peers.nclones; i++)
        if (eid_equal(&s->peers.clones[i]->eid, eid))
            return s->peers.clones[i];
    return NULL;
}

const struct peer_conf *server_find_peer(const struct server *s, const eid_t *eid)
{
    const struct peer_conf *p = config_find_peer(s->conf, eid);
    if (p && p->wildcard && eid) {
        const struct peer_conf *clone = find_clone(s, eid);
        if (clone)
            return clone;
    }
    return p;
}

static void clone_free(struct peer_conf *p)
{
    free(p->include.v);
    free(p->permit.v);
    crypto_free_key(p->inkey_pub);
    crypto_free_key(p->outkey_priv);
    free(p);
}

static bool copy_rules(struct rulelist *dst, const struct rulelist *src)
{
    dst->n = src->n;
    dst->v = NULL;
    if (!src->n)
        return true;
    if (!(dst->v = malloc(src->n * sizeof(*src->v))))
        return false;
    memcpy(dst->v, src->v, src->n * sizeof(*src->v));
    return true;
}

/* A deep copy of [*] under eid: its rules and key references are its own. */
static struct peer_conf *make_clone(const struct peer_conf *wild, const eid_t *eid)
{
    struct peer_conf *p = malloc(sizeof(*p));
    if (!p)
        return NULL;
    *p = *wild;
    p->wildcard = false;
    p->cloned = true;
    p->eid = *eid;
    p->include.v = p->permit.v = NULL;
    p->inkey_pub = p->outkey_priv = NULL;
    if (!copy_rules(&p->include, &wild->include) || !copy_rules(&p->permit, &wild->permit)) {
        clone_free(p);
        return NULL;
    }
    if ((p->inkey_pub = wild->inkey_pub))
        EVP_PKEY_up_ref(p->inkey_pub);
    if ((p->outkey_priv = wild->outkey_priv))
        EVP_PKEY_up_ref(p->outkey_priv);
    return p;
}

const struct peer_conf *server_clone_wildcard(struct server *s, const eid_t *eid)
{
    const struct peer_conf *wild = config_find_peer(s->conf, NULL);
    struct peer_table *t = &s->peers;
    if (!wild || !wild->wildcard || server_find_peer(s, eid) != wild || t->nclones >= PEER_MAX_CLONES)
        return NULL;
    struct peer_conf **v = realloc(t->clones, (t->nclones + 1) * sizeof(*v));
    if (!v)
        return NULL;
    t->clones = v;
    if (!(v[t->nclones] = make_clone(wild, eid)))
        return NULL;
    return v[t->nclones++];
}

/* ---- state per peer EID ---- */

static void set_keys(struct peer_state *ps, const struct peer_conf *p)
{
    crypto_free_key(ps->pub);
    crypto_free_key(ps->priv);
    ps->pub = p ? p->inkey_pub : NULL;
    ps->priv = p ? p->outkey_priv : NULL;
    if (ps->pub)
        EVP_PKEY_up_ref(ps->pub);
    if (ps->priv)
        EVP_PKEY_up_ref(ps->priv);
    ps->rx_valid = ps->tx_valid = ps->tx_sentfull = false;
}

static bool same_key(EVP_PKEY *a, EVP_PKEY *b) { return a == b || (a && b && EVP_PKEY_eq(a, b) == 1); }

static bool keys_changed(const struct peer_state *ps, const struct peer_conf *p)
{
    return !same_key(ps->pub, p ? p->inkey_pub : NULL) || !same_key(ps->priv, p ? p->outkey_priv : NULL);
}

const struct peer_state *server_find_peer_state(const struct server *s, const eid_t *eid)
{
    for (const struct peer_state *ps = s->peers.states; ps; ps = ps->next)
        if (eid_equal(&ps->eid, eid))
            return ps;
    return NULL;
}

struct peer_state *server_peer_state(struct server *s, const eid_t *eid, const struct peer_conf *p)
{
    struct peer_state *ps = (struct peer_state *)server_find_peer_state(s, eid);
    if (ps) {
        if (keys_changed(ps, p))
            set_keys(ps, p);
        return ps;
    }
    if (!(ps = calloc(1, sizeof(*ps))))
        return NULL;
    ps->eid = *eid;
    ps->s = s;
    if (s->peer_hooks.init)
        s->peer_hooks.init(s, ps);
    set_keys(ps, p);
    ps->next = s->peers.states;
    s->peers.states = ps;
    return ps;
}

size_t server_peer_state_count(const struct server *s)
{
    size_t n = 0;
    for (const struct peer_state *ps = s->peers.states; ps; ps = ps->next)
        n++;
    return n;
}

static void state_free(struct server *s, struct peer_state *ps)
{
    if (s->peer_hooks.forget)
        s->peer_hooks.forget(s, ps);
    crypto_free_key(ps->pub);
    crypto_free_key(ps->priv);
    OPENSSL_cleanse(ps, sizeof(*ps));
    free(ps);
}

const struct dundi_addr *server_peer_addr(const struct server *s, const struct peer_conf *p)
{
    if (p->dynamic) {
        const struct registration *r = server_find_registration(s, &p->eid);
        return r ? &r->addr : NULL;
    }
    if (p->has_addr)
        return &p->addr;
    const struct peer_state *ps = p->host[0] ? server_find_peer_state(s, &p->eid) : NULL;
    /* A name resolved for another host or port (before a reload) does not count. */
    if (!ps || !ps->dns_ok || strcmp(ps->dns_host, p->host) || ps->dns_port != p->port)
        return NULL;
    return &ps->dns_addr;
}

/* ---- reachability ---- */

enum peer_reach peer_reach(const struct server *s, const struct peer_conf *p, int *rtt_ms)
{
    const struct peer_state *ps = server_find_peer_state(s, &p->eid);
    int rtt = ps && p->qualify_ms ? ps->rtt_ms : 0;
    if (rtt_ms)
        *rtt_ms = rtt;
    if (ps && ps->suspect && rtt >= 0)
        return PEER_SUSPECT;
    if (!p->qualify_ms)
        return PEER_UNMONITORED;
    if (rtt == 0)
        return PEER_UNKNOWN;
    if (rtt < 0)
        return PEER_UNREACHABLE;
    return rtt > p->qualify_ms ? PEER_LAGGED : PEER_OK;
}

const char *peer_reach_text(enum peer_reach r, int rtt_ms, char *buf, size_t len)
{
    switch (r) {
    case PEER_UNMONITORED: snprintf(buf, len, "Unmonitored"); break;
    case PEER_UNKNOWN: snprintf(buf, len, "UNKNOWN"); break;
    case PEER_UNREACHABLE: snprintf(buf, len, "UNREACHABLE"); break;
    case PEER_SUSPECT: snprintf(buf, len, "SUSPECT"); break;
    default: snprintf(buf, len, "%s (%d ms)", r == PEER_LAGGED ? "LAGGED" : "OK", rtt_ms); break;
    }
    return buf;
}

bool peer_usable(const struct server *s, const struct peer_conf *p)
{
    int rtt;
    enum peer_reach r = peer_reach(s, p, &rtt);
    /* No result yet counts as usable; unreachable or lagged does not, and
     * the reference already stops asking at RTT == maxms (4.1). A suspect
     * peer is asked, but not waited for long (peer_suspect_wait_ms). */
    return r == PEER_UNMONITORED || r == PEER_UNKNOWN || r == PEER_SUSPECT || (r == PEER_OK && rtt < p->qualify_ms);
}

bool peer_suspect(const struct server *s, const struct peer_conf *p) { return peer_reach(s, p, NULL) == PEER_SUSPECT; }

unsigned peer_suspect_wait_ms(const struct server *s, const struct peer_conf *p)
{
    const struct peer_state *ps = server_find_peer_state(s, &p->eid);
    unsigned ms = ps && ps->rtt_ms > 0 ? 2u * (unsigned)ps->rtt_ms : 200u;
    return ms < 50 ? 50 : ms > 500 ? 500 : ms;
}

void peer_went_silent(struct server *s, const eid_t *eid, uint64_t sent_ms)
{
    const struct peer_conf *p = server_find_peer(s, eid);
    struct peer_state *ps = p && !p->wildcard ? server_peer_state(s, eid, p) : NULL;
    char e[EID_STR_LEN];
    if (!ps || ps->suspect || (p->qualify_ms && ps->rtt_ms < 0))
        return; /* already suspected, or known unreachable */
    /* Heard from since: a request sent while it was down (or restarting)
     * that ends now says nothing new; suspecting it again would flap. */
    if (ps->heard_ms && ps->heard_ms >= sent_ms)
        return;
    ps->suspect = true;
    s->stats.peer_suspects++;
    log_notice("peer %s is now SUSPECT (a request went unanswered); probing it", eid_to_str(eid, e));
    if (s->peer_hooks.suspect)
        s->peer_hooks.suspect(s, ps);
}

void peer_heard(struct server *s, const eid_t *eid)
{
    struct peer_state *ps = (struct peer_state *)server_find_peer_state(s, eid);
    char e[EID_STR_LEN];
    if (!ps)
        return;
    ps->heard_ms = clock_now_ms();
    if (ps->suspect) {
        ps->suspect = false;
        ps->probe_ms = 0;
        s->stats.peer_suspects_cleared++;
        log_notice("peer %s answers again (was SUSPECT)", eid_to_str(eid, e));
    }
    if (s->peer_hooks.heard)
        s->peer_hooks.heard(s, ps);
}

bool peer_unreachable(const struct server *s, const struct peer_conf *p)
{
    return peer_reach(s, p, NULL) == PEER_UNREACHABLE;
}

unsigned peer_rexmit_ms(const struct server *s, const struct peer_conf *p)
{
    int rtt;
    enum peer_reach r = peer_reach(s, p, &rtt);
    if ((r != PEER_OK && r != PEER_LAGGED && r != PEER_SUSPECT) || rtt <= 1)
        return TRANS_REXMIT_MS;
    unsigned ms = 2u * (unsigned)rtt;
    return ms < 150 ? 150 : ms > TRANS_REXMIT_MS ? TRANS_REXMIT_MS : ms;
}

void server_note_lookup_time(struct server *s, const eid_t *peer, const char *number, const char *context, int ms)
{
    if (!s->storehistory)
        return;
    struct peer_state *ps = server_peer_state(s, peer, server_find_peer(s, peer));
    if (!ps)
        return;
    memmove(&ps->history[1], &ps->history[0], sizeof(ps->history[0]) * (PEER_HISTORY - 1));
    snprintf(ps->history[0].what, sizeof(ps->history[0].what), "%s@%s", number, context);
    ps->history[0].ms = ms;
}

/* ---- registrations of dynamic peers ---- */

static void unlink_registration(struct server *s, struct registration *r)
{
    for (struct registration **pp = &s->peers.regs; *pp; pp = &(*pp)->next)
        if (*pp == r) {
            *pp = r->next;
            return;
        }
}

static void reg_expire(void *arg)
{
    struct registration *r = arg;
    struct server *s = r->s;
    char eid[EID_STR_LEN];
    log_notice("registration of peer %s expired", eid_to_str(&r->eid, eid));
    /* No address, no reachability: the next registration starts from UNKNOWN (7.4). */
    struct peer_state *ps = (struct peer_state *)server_find_peer_state(s, &r->eid);
    if (ps)
        ps->rtt_ms = 0;
    unlink_registration(s, r);
    free(r);
    if (s->peer_hooks.registrations_changed)
        s->peer_hooks.registrations_changed(s);
}

const struct registration *server_find_registration(const struct server *s, const eid_t *eid)
{
    for (const struct registration *r = s->peers.regs; r; r = r->next)
        if (eid_equal(&r->eid, eid))
            return r;
    return NULL;
}

size_t server_registration_count(const struct server *s)
{
    size_t n = 0;
    for (const struct registration *r = s->peers.regs; r; r = r->next)
        n++;
    return n;
}

bool server_registrations_full(const struct server *s, const eid_t *eid)
{
    return !server_find_registration(s, eid) && server_registration_count(s) >= REG_MAX_PEERS;
}

bool server_register(struct server *s, const eid_t *eid, const struct dundi_addr *addr)
{
    s->stats.registrations++;
    return server_register_until(s, eid, addr, (REG_EXPIRATION_S + 10) * 1000u);
}

bool server_register_until(struct server *s, const eid_t *eid, const struct dundi_addr *addr, uint64_t left_ms)
{
    struct registration *r = (struct registration *)server_find_registration(s, eid);
    bool changed = !r || !dundi_addr_equal(&r->addr, addr);
    if (!r) {
        if (!(r = calloc(1, sizeof(*r))))
            return false;
        r->s = s;
        r->eid = *eid;
        timer_init(&r->expiry, reg_expire, r);
        r->next = s->peers.regs;
        s->peers.regs = r;
    }
    r->addr = *addr;
    timerq_arm(&s->loop.tq, &r->expiry, clock_now_ms() + left_ms);
    if (changed && s->peer_hooks.registrations_changed)
        s->peer_hooks.registrations_changed(s);
    return changed;
}

/* ---- lifecycle ---- */

static void drop_registration(struct server *s, struct registration *r)
{
    timerq_cancel(&s->loop.tq, &r->expiry);
    unlink_registration(s, r);
    free(r);
}

void peers_reload(struct server *s)
{
    struct peer_table *t = &s->peers;
    /* Clones are made again from the new [*]; a stranger that became a
     * configured peer, or a [*] that went away, ends its clone. */
    size_t kept = 0;
    const struct peer_conf *wild = config_find_peer(s->conf, NULL);
    for (size_t i = 0; i < t->nclones; i++) {
        struct peer_conf *old = t->clones[i];
        struct peer_conf *fresh = NULL;
        if (wild && wild->wildcard && wild->dynamic && config_find_peer(s->conf, &old->eid) == wild)
            fresh = make_clone(wild, &old->eid);
        clone_free(old);
        if (fresh)
            t->clones[kept++] = fresh;
    }
    t->nclones = kept;
    /* Registrations survive for peers that are still dynamic. */
    for (struct registration *r = t->regs, *next; r; r = next) {
        next = r->next;
        const struct peer_conf *p = server_find_peer(s, &r->eid);
        if (!p || p->wildcard || !p->dynamic)
            drop_registration(s, r);
    }
    /* Peers that stay keep their state: reachability, and session keys
     * while their key files did not change. */
    for (struct peer_state **pp = &t->states; *pp;) {
        struct peer_state *ps = *pp;
        const struct peer_conf *p = server_find_peer(s, &ps->eid);
        if (p) {
            if (keys_changed(ps, p))
                set_keys(ps, p);
            pp = &ps->next;
            continue;
        }
        *pp = ps->next;
        state_free(s, ps);
    }
}

void peers_free(struct server *s)
{
    struct peer_table *t = &s->peers;
    while (t->states) {
        struct peer_state *ps = t->states;
        t->states = ps->next;
        state_free(s, ps);
    }
    while (t->regs)
        drop_registration(s, t->regs);
    for (size_t i = 0; i < t->nclones; i++)
        clone_free(t->clones[i]);
    free(t->clones);
    memset(t, 0, sizeof(*t));
}
