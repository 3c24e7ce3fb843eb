/* Questions asked of a loaded snapshot. */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "dundid/config.h"

bool rules_allow(const struct rulelist *l, const char *context)
{
    bool allow = false;
    for (size_t i = 0; i < l->n; i++)
        if (!strcasecmp(l->v[i].name, "all") || !strcasecmp(l->v[i].name, context))
            allow = l->v[i].allow;
    return allow;
}

const struct peer_conf *config_find_peer(const struct config *c, const eid_t *eid)
{
    const struct peer_conf *wild = NULL;
    for (size_t i = 0; i < c->npeers; i++) {
        if (c->peers[i].wildcard)
            wild = &c->peers[i];
        else if (eid && eid_equal(&c->peers[i].eid, eid))
            return &c->peers[i];
    }
    return wild;
}

static bool copy_rules(struct rulelist *dst, const struct rulelist *src)
{
    dst->n = 0;
    dst->v = src->n ? malloc(src->n * sizeof(*src->v)) : NULL;
    if (src->n && !dst->v)
        return false;
    memcpy(dst->v, src->v, src->n * sizeof(*src->v));
    dst->n = src->n;
    return true;
}

const struct peer_conf *config_clone_wildcard(struct config *c, const eid_t *eid)
{
    const struct peer_conf *wild = config_find_peer(c, NULL);
    size_t clones = 0;
    if (!wild || !wild->wildcard || config_find_peer(c, eid) != wild)
        return NULL;
    for (size_t i = 0; i < c->npeers; i++)
        clones += c->peers[i].cloned;
    if (clones >= CONF_MAX_CLONES)
        return NULL;
    struct peer_conf *v = realloc(c->peers, (c->npeers + 1) * sizeof(*v));
    if (!v)
        return NULL;
    c->peers = v;
    wild = config_find_peer(c, NULL);
    struct peer_conf *p = &c->peers[c->npeers];
    *p = *wild;
    p->wildcard = false;
    p->cloned = true;
    p->eid = *eid;
    if (!copy_rules(&p->include, &wild->include) || !copy_rules(&p->permit, &wild->permit)) {
        free(p->include.v);
        return NULL;
    }
    if (p->inkey_pub)
        EVP_PKEY_up_ref(p->inkey_pub);
    if (p->outkey_priv)
        EVP_PKEY_up_ref(p->outkey_priv);
    c->npeers++;
    return p;
}

bool config_is_regcontext(const struct config *c, const char *name)
{
    return c->reg.regcontext[0] && !strcasecmp(c->reg.regcontext, name);
}

bool cidr_match(const struct cidr *v, size_t n, const struct sockaddr *sa)
{
    const uint8_t *a;
    int fam = sa->sa_family;
    uint8_t mapped[4];
    if (fam == AF_INET) {
        a = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
    } else if (fam == AF_INET6) {
        const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        a = a6->s6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a6)) { /* a v4 sender on a dual-stack socket */
            memcpy(mapped, a + 12, 4);
            a = mapped;
            fam = AF_INET;
        }
    } else {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (v[i].family != fam)
            continue;
        unsigned full = v[i].bits / 8, rest = v[i].bits % 8;
        if (memcmp(v[i].addr, a, full))
            continue;
        if (rest && ((v[i].addr[full] ^ a[full]) & (uint8_t)(0xff << (8 - rest))))
            continue;
        return true;
    }
    return false;
}

const struct local_context *config_find_context(const struct config *c, const char *name)
{
    for (size_t i = 0; i < c->ncontexts; i++)
        if (!strcasecmp(c->contexts[i].name, name))
            return &c->contexts[i];
    return NULL;
}

bool config_has_dcontext(const struct config *c, const char *dcontext)
{
    for (size_t i = 0; i < c->nmaps; i++)
        if (!strcasecmp(c->maps[i].dcontext, dcontext))
            return true;
    return false;
}

const eid_t *config_us_eid(const struct config *c, const struct peer_conf *p)
{
    return p && p->has_ustothem ? &p->us_eid : &c->eid;
}

int config_peer_autokill(const struct config *c, const struct peer_conf *p)
{
    if (p && p->qualify_ms)
        return p->qualify_ms;
    if (p && p->autokill_ms >= 0)
        return p->autokill_ms;
    return c->autokill_ms;
}

bool config_peer_addr_check(const struct config *c, const struct peer_conf *p)
{
    /* Only a static host gives an address to check against. */
    if (!p || p->dynamic || !p->has_addr)
        return false;
    return p->addr_check >= 0 ? p->addr_check == 1 : c->peer_address_check;
}
