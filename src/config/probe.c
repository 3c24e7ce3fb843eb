/* What a parsed snapshot needs from the host: the default EID and ${IPADDR}
 * from the interfaces and our name, bindaddr/bindaddr2/hep host names, and
 * the key files. At start a host name is looked up (blocking, before the
 * loop runs); on a reload nothing is looked up, so the loop never waits. */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "load.h"

struct probe {
    struct config *c;
    const struct config *prev; /* NULL at start */
    struct config_diag *d;
};

#define PERR(pr, line, ...) conf_diag_add((pr)->d, &(pr)->c->src, true, line, __VA_ARGS__)
#define PWARN(pr, line, ...) conf_diag_add((pr)->d, &(pr)->c->src, false, line, __VA_ARGS__)

/* Resolve host (name or literal) into addr with port: may block. */
static int resolve(const char *host, uint16_t port, int family, struct dundi_addr *out, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_family = family, .ai_socktype = SOCK_DGRAM}, *res;
    char portstr[8];
    snprintf(portstr, sizeof(portstr), "%u", port);
    int rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc) {
        snprintf(err, errlen, "%s", gai_strerror(rc));
        return -1;
    }
    memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
    out->len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

static void set_port(struct dundi_addr *a, uint16_t port)
{
    if (a->ss.ss_family == AF_INET)
        ((struct sockaddr_in *)(void *)&a->ss)->sin_port = htons(port);
    else
        ((struct sockaddr_in6 *)(void *)&a->ss)->sin6_port = htons(port);
}

/* A host name the parser left: looked up at start. On a reload the name
 * must be the one the running snapshot resolved (its address is kept, with
 * the port now given); another one is a warning, and the running address
 * stays. Returns false when there is no address. */
static bool probe_name(struct probe *pr, const char *what, const struct conf_addr_text *t, uint16_t port,
                       struct dundi_addr *out, const struct conf_addr_text *prev_t, const struct dundi_addr *prev_addr,
                       bool prev_has)
{
    char err[128];
    if (!pr->prev) {
        if (resolve(t->text, port, AF_UNSPEC, out, err, sizeof(err)) == 0)
            return true;
        PERR(pr, t->line, "%s: cannot resolve '%s': %s", what, t->text, err);
        return false;
    }
    if (!prev_has || strcmp(prev_t->text, t->text))
        PWARN(pr, t->line, "%s: '%s' is a host name, looked up only at start; the change takes effect at the next restart",
              what, t->text);
    if (!prev_has)
        return false;
    *out = *prev_addr;
    set_port(out, port); /* the host's address, our port */
    return true;
}

/* The parser checked the families when both addresses were numeric. */
static void probe_bindaddrs(struct probe *pr)
{
    struct config *c = pr->c;
    const struct config *o = pr->prev;
    bool named = false;
    if (!c->bindaddr.ss.ss_family) {
        named = true;
        if (!probe_name(pr, "bindaddr", &c->bindaddr_text, c->port, &c->bindaddr, o ? &o->bindaddr_text : NULL,
                        o ? &o->bindaddr : NULL, o != NULL))
            return;
    }
    if (!c->bindaddr2_text.text[0])
        return;
    if (!c->bindaddr2.ss.ss_family) {
        named = true;
        if (!probe_name(pr, "bindaddr2", &c->bindaddr2_text, c->port, &c->bindaddr2,
                        o ? &o->bindaddr2_text : NULL, o ? &o->bindaddr2 : NULL, o && o->has_bindaddr2))
            return;
    }
    if (named)
        general_check_bindaddr2(pr->d, c);
}

static bool addr_is_loopback(const struct dundi_addr *a)
{
    if (a->ss.ss_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)(const void *)&a->ss)->sin_addr.s_addr) >> 24) == 127;
    return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)(const void *)&a->ss)->sin6_addr);
}

static void addr_ntop(const struct dundi_addr *a, char *buf, size_t len)
{
    if (a->ss.ss_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)&a->ss)->sin_addr, buf, (socklen_t)len);
    else
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)&a->ss)->sin6_addr, buf, (socklen_t)len);
}

/* The first address of an interface that is up, not loopback or link-local. */
static void ipaddr_from_interfaces(struct config *c, int fam)
{
    struct ifaddrs *ifs;
    struct dundi_addr a;
    if (getifaddrs(&ifs) < 0)
        return;
    for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != fam || !(i->ifa_flags & IFF_UP) ||
            (i->ifa_flags & IFF_LOOPBACK))
            continue;
        memcpy(&a.ss, i->ifa_addr, fam == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
        if (fam == AF_INET6 && IN6_IS_ADDR_LINKLOCAL(&((struct sockaddr_in6 *)&a.ss)->sin6_addr))
            continue;
        addr_ntop(&a, c->ipaddr, sizeof(c->ipaddr));
        break;
    }
    freeifaddrs(ifs);
}

/* ${IPADDR} when the file does not set it: a specific bindaddr, else our
 * host name resolved in bindaddr's family (a loopback answer, Debian's
 * 127.0.1.1, is useless to peers), else an interface. A reload keeps what the
 * start found rather than look the name up again. */
static void derive_ipaddr(struct probe *pr)
{
    struct config *c = pr->c;
    const struct config *o = pr->prev;
    int fam = c->bindaddr.ss.ss_family;
    char host[256], err[128];
    struct dundi_addr a;

    if (c->ipaddr[0])
        return;
    c->ipaddr_derived = true;
    if (fam == AF_INET) {
        const struct sockaddr_in *s = (const void *)&c->bindaddr.ss;
        if (s->sin_addr.s_addr != htonl(INADDR_ANY)) {
            inet_ntop(AF_INET, &s->sin_addr, c->ipaddr, sizeof(c->ipaddr));
            return;
        }
    } else if (fam == AF_INET6) {
        const struct sockaddr_in6 *s = (const void *)&c->bindaddr.ss;
        if (!IN6_IS_ADDR_UNSPECIFIED(&s->sin6_addr)) {
            inet_ntop(AF_INET6, &s->sin6_addr, c->ipaddr, sizeof(c->ipaddr));
            return;
        }
    }
    if (o && o->ipaddr_derived && o->bindaddr.ss.ss_family == fam) {
        memcpy(c->ipaddr, o->ipaddr, sizeof(c->ipaddr));
        return;
    }
    if (!o && gethostname(host, sizeof(host)) == 0 && resolve(host, 0, fam, &a, err, sizeof(err)) == 0 &&
        !addr_is_loopback(&a)) {
        addr_ntop(&a, c->ipaddr, sizeof(c->ipaddr));
        return;
    }
    ipaddr_from_interfaces(c, fam);
}

/* ${IPADDR} of Asterisk's mappings: pbx_dundi ignores bindaddr but for its
 * family and takes the first address its host name resolves to (an IPv6
 * one in brackets), loopback or not; nothing when it does not resolve. An
 * ipaddr set in dundid's file counts for every mapping. A reload keeps
 * what the start found, as for ipaddr. */
static void derive_asterisk_ipaddr(struct probe *pr)
{
    struct config *c = pr->c;
    const struct config *o = pr->prev;
    int fam = c->bindaddr.ss.ss_family == AF_INET6 ? AF_INET6 : AF_INET;
    char host[256], err[128], ip[INET6_ADDRSTRLEN];
    struct dundi_addr a;

    c->has_ipaddr_asterisk = true;
    c->ipaddr_asterisk[0] = '\0';
    if (!c->ipaddr_derived) {
        memcpy(c->ipaddr_asterisk, c->ipaddr, sizeof(c->ipaddr_asterisk));
    } else if (o && o->has_ipaddr_asterisk && o->ipaddr_derived && o->bindaddr.ss.ss_family == c->bindaddr.ss.ss_family) {
        memcpy(c->ipaddr_asterisk, o->ipaddr_asterisk, sizeof(c->ipaddr_asterisk));
    } else if (gethostname(host, sizeof(host)) == 0) {
        host[sizeof(host) - 1] = '\0';
        if (resolve(host, 0, fam, &a, err, sizeof(err)) == 0) {
            addr_ntop(&a, ip, sizeof(ip));
            snprintf(c->ipaddr_asterisk, sizeof(c->ipaddr_asterisk), fam == AF_INET6 ? "[%s]" : "%s", ip);
        }
    }
}

/* The key folder: relative names are taken from the config file's folder. */
static void keydir(const struct config *c, char *out, size_t len)
{
    const char *kd = c->keydir[0] ? c->keydir : DUNDID_DEFAULT_KEYDIR;
    const char *slash = strrchr(c->path, '/');
    if (kd[0] == '/' || !slash)
        snprintf(out, len, "%s", kd);
    else
        snprintf(out, len, "%.*s/%s", (int)(slash - c->path), c->path, kd);
}

/* One load per key file, shared by every peer naming it. */
static EVP_PKEY *find_loaded(struct config *c, const char *name, bool priv)
{
    for (size_t i = 0; i < c->npeers; i++) {
        struct peer_conf *q = &c->peers[i];
        EVP_PKEY *k = priv ? q->outkey_priv : q->inkey_pub;
        if (k && !strcmp(priv ? q->outkey : q->inkey, name)) {
            EVP_PKEY_up_ref(k);
            return k;
        }
    }
    return NULL;
}

static void load_keys(struct probe *pr)
{
    struct config *c = pr->c;
    char dir[4096 + CONF_STR_MAX];
    int err;
    keydir(c, dir, sizeof(dir));
    for (size_t i = 0; i < c->npeers; i++) {
        struct peer_conf *p = &c->peers[i];
        char name[EID_STR_LEN];
        const char *pn = p->wildcard ? "*" : eid_to_str(&p->eid, name);
        if (!p->inkey[0] || !p->outkey[0])
            continue;
        if (!(p->inkey_pub = find_loaded(c, p->inkey, false)) &&
            !(p->inkey_pub = crypto_load_public(dir, p->inkey, &err)))
            PERR(pr, p->line, "peer [%s]: inkey '%s': %s/%s.pub: %s", pn, p->inkey, dir, p->inkey,
                 crypto_strerror(err));
        if (!(p->outkey_priv = find_loaded(c, p->outkey, true)) &&
            !(p->outkey_priv = crypto_load_private(dir, p->outkey, &err)))
            PERR(pr, p->line, "peer [%s]: outkey '%s': %s/%s.key: %s%s%s%s%s%s", pn, p->outkey, dir, p->outkey,
                 crypto_strerror(err),
                 err == CRYPTO_E_PASSPHRASE ? "; write it without one: openssl rsa -traditional -in " : "",
                 err == CRYPTO_E_PASSPHRASE ? p->outkey : "",
                 err == CRYPTO_E_PASSPHRASE ? ".key -out " : "", err == CRYPTO_E_PASSPHRASE ? p->outkey : "",
                 err == CRYPTO_E_PASSPHRASE ? ".key.plain (asks for the passphrase), then mv it over the .key, mode 0600"
                                            : "");
    }
}

int config_probe(struct config *c, const struct config *prev, struct config_diag *diag)
{
    struct probe pr = {c, prev, diag};
    size_t errors = diag->errors;

    probe_bindaddrs(&pr);
    if (!c->has_eid) {
        if (eid_from_host(&c->eid) == 0)
            c->has_eid = true;
        else if (c->asterisk_dir[0])
            conf_diag_file(diag, c->asterisk_dir, true,
                           "no entityid set (asterisk.conf [options], dundi.conf or dundid's [general]) and no "
                           "network interface with a MAC address to take it from");
        else
            PERR(&pr, 1, "no entityid set and no network interface with a MAC address to take it from");
    }
    derive_ipaddr(&pr);
    if (c->asterisk_dir[0])
        derive_asterisk_ipaddr(&pr);
    struct reg_conf *r = &c->reg;
    if (r->hep_port && !r->has_hep)
        r->has_hep = probe_name(&pr, "hep", &r->hep_text, r->hep_port, &r->hep, prev ? &prev->reg.hep_text : NULL,
                                prev ? &prev->reg.hep : NULL, prev && prev->reg.has_hep);
    load_keys(&pr);
    return diag->errors > errors ? -1 : 0;
}
