/* Peer host names through libevent's evdns: never blocking the loop, again
 * every dns_refresh seconds, and sooner after a failure. A name that does
 * not resolve leaves the peer without an address (it is not asked) until it
 * does; a failure after a success keeps the last address, so a DNS outage
 * does not cut peers off. */
#include <event2/dns.h>
#include <event2/util.h>
#include <stdio.h>
#include <string.h>

#include "dundid/clock.h"
#include "dundid/log.h"
#include "dundid/resolve.h"
#include "dundid/server_impl.h"

#define RETRY_MAX_S 30 /* after a failure, at most this long until the next try */

static void resolve_fire(void *arg);

/* The resolver's own remarks (a nameserver timing out, ...) go to our log. */
static void evdns_log(int is_warning, const char *msg)
{
    if (is_warning)
        log_info("resolver: %s", msg);
    else
        log_debug("resolver: %s", msg);
}

int resolve_init(struct server *s, char *err, size_t errlen)
{
    evdns_set_log_fn(evdns_log);
    s->dns = evdns_base_new(s->base, 0);
    if (!s->dns) {
        snprintf(err, errlen, "cannot set up the DNS resolver");
        return -1;
    }
    /* A missing or empty file leaves the resolver without nameservers: names
     * then fail (and are retried), addresses in the file still work. */
    int rc = evdns_base_resolv_conf_parse(s->dns, DNS_OPTIONS_ALL, s->conf->resolv_conf);
    if (rc)
        log_warning("%s: cannot read nameservers (evdns error %d); peer host names will not resolve",
                    s->conf->resolv_conf, rc);
    return 0;
}

static int retry_s(const struct server *s)
{
    return s->conf->dns_refresh_s < RETRY_MAX_S ? s->conf->dns_refresh_s : RETRY_MAX_S;
}

static bool have_socket(const struct server *s, int family)
{
    return s->io.families[0] == family || s->io.families[1] == family;
}

static void on_resolved(int result, struct evutil_addrinfo *res, void *arg)
{
    struct peer_state *ps = arg;
    if (result == EVUTIL_EAI_CANCEL) /* the peer state is going away */
        return;
    struct server *s = ps->s;
    char eid[EID_STR_LEN], where[64];
    ps->dns_req = NULL;
    ps->dns_busy = false;
    eid_to_str(&ps->eid, eid);

    const struct evutil_addrinfo *use = NULL;
    for (const struct evutil_addrinfo *ai = result == 0 ? res : NULL; ai && !use; ai = ai->ai_next)
        if (have_socket(s, ai->ai_family) && ai->ai_addrlen <= sizeof(ps->dns_addr.ss))
            use = ai;
    if (!use) {
        const char *why = result ? evutil_gai_strerror(result) : "no address of a family we listen on";
        if (!ps->dns_failing)
            log_warning("peer %s: cannot resolve host '%s': %s; %s, retrying every %d s", eid, ps->dns_host, why,
                        ps->dns_ok ? "keeping its last address" : "not asked until it resolves", retry_s(s));
        ps->dns_failing = true;
        timerq_arm(&s->loop.tq, &ps->dns_timer, clock_now_ms() + (uint64_t)retry_s(s) * 1000u);
    } else {
        struct dundi_addr a = {0};
        memcpy(&a.ss, use->ai_addr, use->ai_addrlen);
        a.len = (socklen_t)use->ai_addrlen;
        if (!ps->dns_ok || ps->dns_failing || !dundi_addr_equal(&a, &ps->dns_addr))
            log_notice("peer %s: host '%s' is %s", eid, ps->dns_host, dundi_addr_str(&a, where, sizeof(where)));
        ps->dns_addr = a;
        ps->dns_ok = true;
        ps->dns_failing = false;
        timerq_arm(&s->loop.tq, &ps->dns_timer, clock_now_ms() + (uint64_t)s->conf->dns_refresh_s * 1000u);
    }
    if (res)
        evutil_freeaddrinfo(res);
}

static void resolve_fire(void *arg)
{
    struct peer_state *ps = arg;
    struct server *s = ps->s;
    struct evutil_addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM};
    char port[8];

    if (ps->dns_busy || !ps->dns_host[0])
        return;
    snprintf(port, sizeof(port), "%u", ps->dns_port);
    /* The callback may run before this returns (hosts file): it clears dns_busy. */
    ps->dns_busy = true;
    struct evdns_getaddrinfo_request *req = evdns_getaddrinfo(s->dns, ps->dns_host, port, &hints, on_resolved, ps);
    if (ps->dns_busy && req) {
        ps->dns_req = req;
    } else if (ps->dns_busy) { /* failed without a word: try again later */
        ps->dns_busy = false;
        timerq_arm(&s->loop.tq, &ps->dns_timer, clock_now_ms() + (uint64_t)retry_s(s) * 1000u);
    }
}

void resolve_soon(struct server *s, struct peer_state *ps)
{
    if (ps->dns_host[0] && !ps->dns_busy)
        timerq_arm(&s->loop.tq, &ps->dns_timer, clock_now_ms());
}

void resolve_detach(struct peer_state *ps)
{
    if (ps->s)
        timerq_cancel(&ps->s->loop.tq, &ps->dns_timer);
    if (ps->dns_req) {
        struct evdns_getaddrinfo_request *req = ps->dns_req;
        ps->dns_req = NULL;
        ps->dns_busy = false;
        evdns_getaddrinfo_cancel(req);
    }
}

void resolve_schedule(struct server *s)
{
    for (size_t i = 0; i < server_peer_count(s); i++) {
        const struct peer_conf *p = server_peer_at(s, i);
        if (p->wildcard || p->dynamic || p->has_addr || !p->host[0])
            continue;
        struct peer_state *ps = server_peer_state(s, &p->eid, p);
        if (!ps)
            continue;
        if (!strcmp(ps->dns_host, p->host) && ps->dns_port == p->port)
            continue; /* unchanged: keeps its address and its rhythm */
        resolve_detach(ps);
        snprintf(ps->dns_host, sizeof(ps->dns_host), "%s", p->host);
        ps->dns_port = p->port;
        ps->dns_ok = ps->dns_failing = false;
        timer_init(&ps->dns_timer, resolve_fire, ps);
        timerq_arm(&s->loop.tq, &ps->dns_timer, clock_now_ms());
    }
    /* Peers that no longer have a name stop resolving it. */
    for (struct peer_state *ps = s->peers.states; ps; ps = ps->next) {
        const struct peer_conf *p = server_find_peer(s, &ps->eid);
        if (ps->dns_host[0] && (!p || p->wildcard || p->dynamic || p->has_addr || !p->host[0])) {
            resolve_detach(ps);
            ps->dns_host[0] = '\0';
            ps->dns_ok = ps->dns_failing = false;
        }
    }
}

void resolve_free(struct server *s)
{
    if (s->dns)
        evdns_base_free(s->dns, 0);
    s->dns = NULL;
}
