/* Peer sections: [EID] and the [*] template. */
#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dundid/conf_values.h"
#include "dundid/wire.h"
#include "load.h"

const char *model_name(int model)
{
    switch (model) {
    case MODEL_INBOUND: return "Inbound";
    case MODEL_OUTBOUND: return "Outbound";
    case MODEL_SYMMETRIC: return "Symmetric";
    }
    return "Unknown";
}

static int parse_model(const char *s, bool precache)
{
    if (!strcasecmp(s, "inbound") || !strcasecmp(s, "in"))
        return MODEL_INBOUND;
    if (!strcasecmp(s, "outbound") || !strcasecmp(s, "out"))
        return MODEL_OUTBOUND;
    if (!strcasecmp(s, "symmetric") || !strcasecmp(s, "both"))
        return MODEL_SYMMETRIC;
    if (!strcasecmp(s, "none"))
        return MODEL_NONE;
    /* Aliases people write for precache (the reference would ignore them). */
    if (precache && !strcasecmp(s, "incoming"))
        return MODEL_INBOUND;
    if (precache && !strcasecmp(s, "outgoing"))
        return MODEL_OUTBOUND;
    return -1;
}

/* A DNS name as resolvers take it: labels of letters, digits, '-' and '_'. */
static bool valid_hostname(const char *h)
{
    size_t n = strlen(h), label = 0;
    if (!n || n > 253 || h[0] == '.' || h[0] == '-')
        return false;
    for (const char *c = h; *c; c++) {
        if (*c == '.') {
            if (!label)
                return false;
            label = 0;
        } else if (isalnum((unsigned char)*c) || *c == '-' || *c == '_') {
            if (++label > 63)
                return false;
        } else {
            return false;
        }
    }
    return true;
}

void peer_section(struct loader *ld, const char *name, const eid_t *e, int line)
{
    struct config *c = ld->c;
    eid_t zero = {0};
    bool wild = !e;
    if (wild)
        e = &zero;
    ld->kind = SEC_SKIP;
    for (size_t i = 0; i < c->npeers; i++)
        if (c->peers[i].wildcard == wild && eid_equal(&c->peers[i].eid, e)) {
            char at[4200];
            ERR(ld, line, "peer [%s] is already defined at %s", name,
                conf_at(&c->src, line, c->peers[i].line, at, sizeof(at)));
            return;
        }
    struct peer_conf *p = conf_grow(c->peers, c->npeers, sizeof(*p));
    if (!p) {
        ERR(ld, line, "out of memory");
        return;
    }
    c->peers = p;
    p = &c->peers[c->npeers];
    p->eid = *e;
    p->wildcard = wild;
    p->line = line;
    p->asterisk = ld->lenient;
    p->port = DUNDI_PORT;
    p->autokill_ms = -1;
    p->addr_check = -1;
    ld->idx = c->npeers++;
    ld->kind = SEC_PEER;
}

static const struct opt peer_opts[] = {
    {"port", OPT_PORT, 0, 0, NULL, offsetof(struct peer_conf, port)},
    {"register", OPT_BOOL, 0, 0, NULL, offsetof(struct peer_conf, reg)},
};

static bool add_rule(struct loader *ld, struct rulelist *l, const char *key, const char *name, bool allow, int line)
{
    struct rule *r = conf_grow(l->v, l->n, sizeof(*r));
    if (!r)
        return false;
    l->v = r;
    if (!conf_copy(r[l->n].name, sizeof(r[l->n].name), name) || !*name) {
        ERR(ld, line, "%s: context name must be 1..%d characters", key, CONF_NAME_MAX - 1);
        return false;
    }
    r[l->n++].allow = allow;
    return true;
}

/* yes (2000 ms), no or milliseconds in 0/1..max. */
static void set_ms(struct loader *ld, int *dst, const char *k, const char *v, int line, long min, long max)
{
    int b = conf_parse_bool(v);
    if (b >= 0)
        *dst = b ? 2000 : 0;
    else if (!conf_parse_int(v, min, max, dst))
        ERR(ld, line, "%s: '%s' must be yes, no or milliseconds", k, v);
}

void peer_key(struct loader *ld, const char *k, const char *v, int line)
{
    struct peer_conf *p = &ld->c->peers[ld->idx];
    int n;

    if (conf_opt_set(ld, peer_opts, NOPTS(peer_opts), p, k, v, line))
        return;
    if (!strcasecmp(k, "host")) {
        p->host_line = line;
        /* The last host line wins, as in the reference. */
        if (!strcasecmp(v, "dynamic")) {
            p->dynamic = true;
            p->host[0] = '\0';
        } else if (!*v || !conf_copy(p->host, sizeof(p->host), v)) {
            ERR(ld, line, "host: '%s' is not a host name or address", v);
        } else {
            p->dynamic = false;
        }
    } else if (!strcasecmp(k, "model")) {
        /* A bad value leaves the model alone: -1 would set every bit and make up conflicts. */
        if ((n = parse_model(v, false)) < 0)
            ERR(ld, line, "model: '%s' must be inbound, outbound, symmetric or none", v);
        else
            p->model = n;
    } else if (!strcasecmp(k, "precache")) {
        if ((n = parse_model(v, true)) < 0)
            ERR(ld, line, "precache: '%s' must be inbound, outbound, symmetric or none", v);
        else
            p->pcmodel = n;
    } else if (!strcasecmp(k, "include") || !strcasecmp(k, "noinclude")) {
        add_rule(ld, &p->include, k, v, tolower((unsigned char)k[0]) == 'i', line);
    } else if (!strcasecmp(k, "permit") || !strcasecmp(k, "deny")) {
        add_rule(ld, &p->permit, k, v, tolower((unsigned char)k[0]) == 'p', line);
    } else if (!strcasecmp(k, "order")) {
        static const char *const orders[] = {"primary", "secondary", "tertiary", "quartiary"};
        for (n = 0; n < 4 && strcasecmp(v, orders[n]); n++)
            ;
        if (n == 4)
            ERR(ld, line, "order: '%s' must be primary, secondary, tertiary or quartiary", v);
        else
            p->order = n;
    } else if (!strcasecmp(k, "inkey") || !strcasecmp(k, "outkey")) {
        char *dst = tolower((unsigned char)k[0]) == 'i' ? p->inkey : p->outkey;
        if (!*v || strchr(v, '/') || !conf_copy(dst, CONF_NAME_MAX, v))
            ERR(ld, line, "%s: '%s' is not a key name (a file name without .pub/.key)", k, v);
    } else if (!strcasecmp(k, "qualify")) {
        set_ms(ld, &p->qualify_ms, k, v, line, 1, 60000);
    } else if (!strcasecmp(k, "ustothem")) {
        if (eid_parse(&p->us_eid, v) < 0)
            ERR(ld, line, "ustothem: '%s' is not an EID", v);
        else
            p->has_ustothem = true;
    } else if (!strcasecmp(k, "autokill")) {
        set_ms(ld, &p->autokill_ms, k, v, line, 0, 3600000);
    } else if (!strcasecmp(k, "peer_address_check")) {
        if ((p->addr_check = conf_parse_bool(v)) < 0)
            ERR(ld, line, "peer_address_check: '%s' must be yes or no", v);
    } else {
        ERR(ld, line, "unknown peer option '%s'", k);
    }
}

/* An Asterisk peer Asterisk would discard (pbx_dundi's build_peer): said,
 * and dropped from c->peers. */
static bool discard(struct loader *ld, size_t *i, const char *pn, const char *why)
{
    struct config *c = ld->c;
    struct peer_conf *p = &c->peers[*i];
    if (!p->asterisk) {
        ERR(ld, p->line, "peer [%s]: %s", pn, why);
        return false;
    }
    WARN(ld, p->line, "peer [%s]: %s; Asterisk discards the peer, and so does dundid", pn, why);
    free(p->include.v);
    free(p->permit.v);
    memmove(p, p + 1, (c->npeers - *i - 1) * sizeof(*p));
    c->npeers--;
    (*i)--;
    return true;
}

void peers_finish(struct loader *ld)
{
    struct config *c = ld->c;
    for (size_t i = 0; i < c->npeers; i++) {
        struct peer_conf *p = &c->peers[i];
        char name[EID_STR_LEN];
        const char *pn = p->wildcard ? "*" : eid_to_str(&p->eid, name);
        bool in = p->model & MODEL_INBOUND, out = p->model & MODEL_OUTBOUND;
        if (p->model == MODEL_NONE && p->pcmodel == MODEL_NONE &&
            discard(ld, &i, pn, "neither model nor precache is set, so it could do nothing"))
            continue;
        if (in && (p->pcmodel & MODEL_OUTBOUND) &&
            discard(ld, &i, pn, "model inbound/symmetric cannot be combined with precache outbound"))
            continue;
        if (out && (p->pcmodel & MODEL_INBOUND) &&
            discard(ld, &i, pn, "model outbound/symmetric cannot be combined with precache inbound"))
            continue;
        ld->lenient = p->asterisk;
        if (p->include.n && !out && !(p->pcmodel & MODEL_INBOUND))
            WARN(ld, p->line, "peer [%s]: include rules have no effect unless model is outbound or symmetric", pn);
        if (p->permit.n && !in && !(p->pcmodel & MODEL_OUTBOUND))
            WARN(ld, p->line, "peer [%s]: permit rules have no effect unless model is inbound or symmetric", pn);
        /* An address is taken now; a name is resolved by the daemon, without
         * blocking, and again every dns_refresh seconds. */
        if (p->host[0]) {
            if (conf_numeric_addr(p->host, p->port, &p->addr))
                p->has_addr = true;
            else if (!valid_hostname(p->host))
                ERR(ld, p->host_line, "peer [%s]: host '%s' is not a host name or address", pn, p->host);
        }
        /* The key files themselves are read by config_probe(). */
        if (p->inkey[0] && !p->outkey[0])
            ERR(ld, p->line, "peer [%s]: inkey without outkey (encryption needs both)", pn);
        else if (p->outkey[0] && !p->inkey[0])
            ERR(ld, p->line, "peer [%s]: outkey without inkey (encryption needs both)", pn);
        ld->lenient = false;
    }
}
