/* dundi.conf semantics: [general], [mappings], peer sections, [context NAME].
 * Every problem is reported as FILE:LINE: reason; the snapshot is only
 * returned when there were no errors. */
#include "dundid/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <limits.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "dundid/conf_reader.h"
#include "dundid/conf_values.h"
#include <openssl/evp.h>
#include "dundid/log.h"
#include "dundid/mapping.h"
#include "dundid/regtable.h"
#include "dundid/wire.h"

enum section_kind {
    SEC_NONE,
    SEC_GENERAL,
    SEC_MAPPINGS,
    SEC_PEER,
    SEC_CONTEXT,
    SEC_REGISTRATIONS,
    SEC_REALTIME,
    SEC_REGISTRARS,
    SEC_SKIP
};

struct loader {
    struct config *c;
    struct config_diag *d;
    const char *file;
    enum section_kind kind;
    size_t idx; /* peer or context index */
    bool seen_general, seen_mappings;
    char bindaddr[CONF_STR_MAX], bindaddr2[CONF_STR_MAX];
    int bindaddr_line, bindaddr2_line, keydir_line;
    char hep[CONF_STR_MAX];
    int hep_line;
    char keydir_abs[CONF_STR_MAX * 2];
};

/* ---- diagnostics ---- */

static void diag_add(struct loader *ld, bool error, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void diag_add(struct loader *ld, bool error, int line, const char *fmt, ...)
{
    struct config_diag *d = ld->d;
    char reason[512], *msg;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    if (asprintf(&msg, "%s:%d: %s%s", ld->file, line, error ? "" : "warning: ", reason) < 0)
        return;
    char **m = realloc(d->msg, (d->n + 1) * sizeof(*m));
    bool *e = realloc(d->is_error, (d->n + 1) * sizeof(*e));
    if (m)
        d->msg = m;
    if (e)
        d->is_error = e;
    if (!m || !e) {
        free(msg);
        return;
    }
    d->msg[d->n] = msg;
    d->is_error[d->n++] = error;
    if (error)
        d->errors++;
    else
        d->warnings++;
}

#define ERR(ld, line, ...) diag_add(ld, true, line, __VA_ARGS__)
#define WARN(ld, line, ...) diag_add(ld, false, line, __VA_ARGS__)

void config_diag_free(struct config_diag *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->msg[i]);
    free(d->msg);
    free(d->is_error);
    memset(d, 0, sizeof(*d));
}

/* ---- small parsers ---- */




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

/* DSCP/TOS: a number 0..255 or a DiffServ class name. */
static int parse_tos(const char *s)
{
    static const struct {
        const char *name;
        int dscp;
    } names[] = {
        {"cs0", 0},   {"cs1", 8},   {"cs2", 16},  {"cs3", 24},  {"cs4", 32},  {"cs5", 40},  {"cs6", 48},
        {"cs7", 56},  {"af11", 10}, {"af12", 12}, {"af13", 14}, {"af21", 18}, {"af22", 20}, {"af23", 22},
        {"af31", 26}, {"af32", 28}, {"af33", 30}, {"af41", 34}, {"af42", 36}, {"af43", 38}, {"ef", 46},
    };
    int v;
    if (conf_parse_int(s, 0, 255, &v))
        return v;
    if (!strncasecmp(s, "0x", 2)) {
        char *end;
        long x = strtol(s, &end, 16);
        return (*end || x < 0 || x > 255) ? -1 : (int)x;
    }
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (!strcasecmp(s, names[i].name))
            return names[i].dscp << 2;
    return -1;
}

/* Resolve host (name or literal) into addr with port. */
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

static bool numeric_host(const char *host, uint16_t port, struct dundi_addr *out)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICHOST}, *res;
    char portstr[8];
    snprintf(portstr, sizeof(portstr), "%u", port);
    if (getaddrinfo(host, portstr, &hints, &res))
        return false;
    memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
    out->len = res->ai_addrlen;
    freeaddrinfo(res);
    return true;
}

/* ---- sections ---- */

static void *grow(void *v, size_t n, size_t size)
{
    void *p = realloc(v, (n + 1) * size);
    if (p)
        memset((char *)p + n * size, 0, size);
    return p;
}

static void on_section(void *user, const char *name, int line)
{
    struct loader *ld = user;
    struct config *c = ld->c;
    eid_t e;

    if (!strcasecmp(name, "general")) {
        if (ld->seen_general)
            WARN(ld, line, "[general] appears again; its keys are merged");
        ld->seen_general = true;
        ld->kind = SEC_GENERAL;
    } else if (!strcasecmp(name, "registrations")) {
        ld->kind = SEC_REGISTRATIONS;
    } else if (!strcasecmp(name, "mappings")) {
        ld->seen_mappings = true;
        ld->kind = SEC_MAPPINGS;
    } else if (!strcmp(name, "*") || eid_parse(&e, name) == 0) {
        bool wild = !strcmp(name, "*");
        if (wild)
            memset(&e, 0, sizeof(e));
        for (size_t i = 0; i < c->npeers; i++)
            if (c->peers[i].wildcard == wild && eid_equal(&c->peers[i].eid, &e)) {
                ERR(ld, line, "peer [%s] is already defined at line %d", name, c->peers[i].line);
                ld->kind = SEC_SKIP;
                return;
            }
        struct peer_conf *p = grow(c->peers, c->npeers, sizeof(*p));
        if (!p) {
            ERR(ld, line, "out of memory");
            ld->kind = SEC_SKIP;
            return;
        }
        c->peers = p;
        p = &c->peers[c->npeers];
        p->eid = e;
        p->wildcard = wild;
        p->line = line;
        p->port = DUNDI_PORT;
        p->autokill_ms = -1;
        p->addr_check = -1;
        ld->idx = c->npeers++;
        ld->kind = SEC_PEER;
    } else if (!strcasecmp(name, "realtime")) {
        if (c->realtime.enabled)
            WARN(ld, line, "[realtime] appears again; its keys are merged");
        c->realtime.enabled = true;
        c->realtime.line = line;
        ld->kind = SEC_REALTIME;
    } else if (!strcasecmp(name, "registrars")) {
        ld->kind = SEC_REGISTRARS;
    } else if (!strncasecmp(name, "context", 7) && isspace((unsigned char)name[7])) {
        const char *cname = name + 8;
        while (isspace((unsigned char)*cname))
            cname++;
        if (!*cname || strlen(cname) >= CONF_NAME_MAX) {
            ERR(ld, line, "[context NAME]: the name must be 1..%d characters", CONF_NAME_MAX - 1);
            ld->kind = SEC_SKIP;
            return;
        }
        for (size_t i = 0; i < c->ncontexts; i++)
            if (!strcasecmp(c->contexts[i].name, cname)) {
                ERR(ld, line, "context '%s' is already defined at line %d", cname, c->contexts[i].line);
                ld->kind = SEC_SKIP;
                return;
            }
        struct local_context *lc = grow(c->contexts, c->ncontexts, sizeof(*lc));
        if (!lc) {
            ld->kind = SEC_SKIP;
            return;
        }
        c->contexts = lc;
        lc = &c->contexts[c->ncontexts];
        snprintf(lc->name, sizeof(lc->name), "%s", cname);
        lc->line = line;
        ld->idx = c->ncontexts++;
        ld->kind = SEC_CONTEXT;
    } else {
        ERR(ld, line, "unknown section [%s] (expected general, mappings, registrations, a peer EID, * or 'context NAME')",
            name);
        ld->kind = SEC_SKIP;
    }
}

/* ---- [general] ---- */

static char *contact_slot(struct config *c, const char *key)
{
    if (!strcasecmp(key, "department"))
        return c->department;
    if (!strcasecmp(key, "organization"))
        return c->organization;
    if (!strcasecmp(key, "locality"))
        return c->locality;
    if (!strcasecmp(key, "stateprov"))
        return c->stateprov;
    if (!strcasecmp(key, "country"))
        return c->country;
    if (!strcasecmp(key, "email"))
        return c->email;
    if (!strcasecmp(key, "phone"))
        return c->phone;
    return NULL;
}

/* "HOST:PORT" or "[V6]:PORT" with a numeric address. */
static bool parse_listen(const char *v, char *host, size_t hostlen, uint16_t *port)
{
    const char *colon = strrchr(v, ':');
    int n;
    if (!colon || !conf_parse_int(colon + 1, 1, 65535, &n))
        return false;
    const char *h = v;
    size_t len = (size_t)(colon - v);
    if (len >= 2 && h[0] == '[' && h[len - 1] == ']') {
        h++;
        len -= 2;
    }
    if (len == 0 || len >= hostlen)
        return false;
    memcpy(host, h, len);
    host[len] = '\0';
    struct in6_addr a6;
    struct in_addr a4;
    if (inet_pton(AF_INET, host, &a4) != 1 && inet_pton(AF_INET6, host, &a6) != 1)
        return false;
    *port = (uint16_t)n;
    return true;
}

/* pidfile, logfile, metrics: the process side of [general]. */
static bool ops_key(struct loader *ld, const char *k, const char *v, int line)
{
    struct config *c = ld->c;
    if (!strcasecmp(k, "pidfile") || !strcasecmp(k, "logfile")) {
        char *slot = !strcasecmp(k, "pidfile") ? c->pidfile : c->logfile;
        if (v[0] != '/' || !conf_copy(slot, CONF_STR_MAX, v))
            ERR(ld, line, "%s: '%s' must be an absolute path shorter than %d characters", k, v, CONF_STR_MAX);
    } else if (!strcasecmp(k, "metrics")) {
        if (!parse_listen(v, c->metrics_host, sizeof(c->metrics_host), &c->metrics_port)) {
            c->metrics_host[0] = '\0';
            ERR(ld, line, "metrics: '%s' must be IP:PORT (e.g. 127.0.0.1:9520 or [::1]:9520)", v);
        }
    } else {
        return false;
    }
    return true;
}

static void general_key(struct loader *ld, const char *k, const char *v, int line)
{
    struct config *c = ld->c;
    int n;
    char *slot;

    if (!strcasecmp(k, "port")) {
        if (!conf_parse_int(v, 1, 65535, &n))
            ERR(ld, line, "port: '%s' is not a port number (1..65535)", v);
        else
            c->port = (uint16_t)n;
    } else if (!strcasecmp(k, "bindaddr")) {
        conf_copy(ld->bindaddr, sizeof(ld->bindaddr), v);
        ld->bindaddr_line = line;
    } else if (!strcasecmp(k, "bindaddr2")) {
        conf_copy(ld->bindaddr2, sizeof(ld->bindaddr2), v);
        ld->bindaddr2_line = line;
    } else if (!strcasecmp(k, "tos")) {
        if ((n = parse_tos(v)) < 0)
            ERR(ld, line, "tos: '%s' is not a number 0..255 or a DSCP name (cs0..cs7, af11..af43, ef)", v);
        else
            c->tos = n;
    } else if (!strcasecmp(k, "entityid")) {
        if (eid_parse(&c->eid, v) < 0 || eid_is_zero(&c->eid))
            ERR(ld, line, "entityid: '%s' is not an EID like 00:11:22:33:44:55 (and not all zero)", v);
        else
            c->has_eid = true;
    } else if (!strcasecmp(k, "ttl")) {
        /* The reference accepts 1..119 only. */
        if (!conf_parse_int(v, 1, 119, &n))
            ERR(ld, line, "ttl: '%s' must be 1..119", v);
        else
            c->ttl = n;
    } else if (!strcasecmp(k, "autokill")) {
        int b = conf_parse_bool(v);
        if (b == 1)
            c->autokill_ms = 2000;
        else if (b == 0)
            c->autokill_ms = 0;
        else if (!conf_parse_int(v, 0, 3600000, &n))
            ERR(ld, line, "autokill: '%s' must be yes, no or milliseconds", v);
        else
            c->autokill_ms = n;
    } else if (!strcasecmp(k, "cachetime")) {
        if (!conf_parse_int(v, 0, 65535, &n))
            ERR(ld, line, "cachetime: '%s' must be 0..65535 seconds", v);
        else
            c->cachetime = n;
    } else if (!strcasecmp(k, "storehistory")) {
        if ((n = conf_parse_bool(v)) < 0)
            ERR(ld, line, "storehistory: '%s' must be yes or no", v);
        else
            c->storehistory = n;
    } else if (!strcasecmp(k, "dns_refresh")) {
        if (!conf_parse_int(v, 1, 86400, &n))
            ERR(ld, line, "dns_refresh: '%s' must be 1..86400 seconds", v);
        else
            c->dns_refresh_s = n;
    } else if (!strcasecmp(k, "resolv_conf")) {
        if (!*v || !conf_copy(c->resolv_conf, sizeof(c->resolv_conf), v))
            ERR(ld, line, "resolv_conf: '%s' is not a file name", v);
    } else if ((slot = contact_slot(c, k))) {
        if (!conf_copy(slot, CONF_NAME_MAX, v))
            ERR(ld, line, "%s: longer than %d characters", k, CONF_NAME_MAX - 1);
    } else if (!strcasecmp(k, "keydir")) {
        if (!*v || !conf_copy(c->keydir, sizeof(c->keydir), v))
            ERR(ld, line, "keydir: '%s' is not a folder name", v);
        else
            ld->keydir_line = line;
    } else if (!strcasecmp(k, "cache_size")) {
        if (!conf_parse_int(v, 16, 100000000, &n))
            ERR(ld, line, "cache_size: '%s' must be 16..100000000 entries", v);
        else
            c->cache_size = n;
    } else if (!strcasecmp(k, "session_key_lifetime")) {
        if (!conf_parse_int(v, 10, 86400, &n))
            ERR(ld, line, "session_key_lifetime: '%s' must be 10..86400 seconds", v);
        else
            c->session_key_lifetime_s = n;
    } else if (!strcasecmp(k, "ipaddr")) {
        struct in6_addr a6;
        struct in_addr a4;
        if (inet_pton(AF_INET, v, &a4) != 1 && inet_pton(AF_INET6, v, &a6) != 1)
            ERR(ld, line, "ipaddr: '%s' is not an IP address", v);
        else
            conf_copy(c->ipaddr, sizeof(c->ipaddr), v);
    } else if (!strcasecmp(k, "max_transactions")) {
        if (!conf_parse_int(v, 1, TRANS_ID_SPACE - 2, &n))
            ERR(ld, line, "max_transactions: '%s' must be 1..%d", v, TRANS_ID_SPACE - 2);
        else
            c->max_transactions = n;
    } else if (!strcasecmp(k, "max_transactions_per_source")) {
        if (!conf_parse_int(v, 1, TRANS_ID_SPACE - 2, &n))
            ERR(ld, line, "max_transactions_per_source: '%s' must be 1..%d", v, TRANS_ID_SPACE - 2);
        else
            c->max_per_source = n;
    } else if (!strcasecmp(k, "peer_address_check")) {
        if ((n = conf_parse_bool(v)) < 0)
            ERR(ld, line, "peer_address_check: '%s' must be yes or no", v);
        else
            c->peer_address_check = n;
    } else if (!strcasecmp(k, "loglevel")) {
        if ((n = log_level_from_name(v)) < 0)
            ERR(ld, line, "loglevel: '%s' must be error, warning, notice, info or debug", v);
        else
            c->loglevel = n;
    } else if (!strcasecmp(k, "control")) {
        c->control_set = true;
        if (!strcasecmp(v, "none"))
            c->control[0] = '\0';
        else if (v[0] != '/' || !conf_copy(c->control, sizeof(c->control), v))
            ERR(ld, line, "control: '%s' must be none or an absolute path of at most %d characters", v,
                CONF_CONTROL_MAX - 1);
    } else if (ops_key(ld, k, v, line)) {
        /* done there */
    } else if (!strcasecmp(k, "authdebug") || !strcasecmp(k, "outgoing_sip_tech") ||
               !strcasecmp(k, "pjsip_outgoing_endpoint") || !strcasecmp(k, "secretpath")) {
        WARN(ld, line, "%s: Asterisk option with no effect in dundid; ignored", k);
    } else {
        ERR(ld, line, "unknown option '%s' in [general]", k);
    }
}

/* ---- [mappings] ---- */

static char *field(char **s)
{
    char *f = *s, *comma;
    if (!f)
        return NULL;
    comma = strchr(f, ',');
    if (comma) {
        *comma = '\0';
        *s = comma + 1;
    } else {
        *s = NULL;
    }
    /* trim */
    while (isspace((unsigned char)*f))
        f++;
    size_t n = strlen(f);
    while (n && isspace((unsigned char)f[n - 1]))
        f[--n] = '\0';
    return f;
}

static const struct {
    const char *name;
    unsigned bits;
} map_options[] = {
    {"nounsolicited", DUNDI_FLAG_NOUNSOLICITED},
    {"nocomunsolicit", DUNDI_FLAG_NOCOMUNSOLICIT},
    {"residential", DUNDI_FLAG_RESIDENTIAL},
    {"commercial", DUNDI_FLAG_COMMERCIAL},
    {"mobile", DUNDI_FLAG_MOBILE},
    {"nopartial", MAP_OPT_NOPARTIAL},
};

static void mapping_key(struct loader *ld, const char *k, const char *v, int line)
{
    struct config *c = ld->c;
    struct mapping m = {.line = line};
    char buf[1024], *rest = buf, *f;

    if (!conf_copy(m.dcontext, sizeof(m.dcontext), k) || !*k) {
        ERR(ld, line, "mapping: DUNDi context name must be 1..%d characters", CONF_NAME_MAX - 1);
        return;
    }
    conf_copy(buf, sizeof(buf), v);
    if (*v) {
        char *lctx = field(&rest), *weight = field(&rest), *tech = field(&rest), *dest = field(&rest);
        if (!lctx || !weight || !tech || !dest) {
            ERR(ld, line, "mapping '%s': expected 'local_context,weight,tech,destination[,options]'", k);
            return;
        }
        if (!*lctx || !conf_copy(m.lcontext, sizeof(m.lcontext), lctx)) {
            ERR(ld, line, "mapping '%s': bad local context '%s'", k, lctx);
            return;
        }
        if (!strncmp(weight, "${", 2)) {
            conf_copy(m.weight_expr, sizeof(m.weight_expr), weight);
        } else if (!conf_parse_int(weight, 0, 59999, &m.weight)) {
            ERR(ld, line, "mapping '%s': weight '%s' must be 0..59999 or ${VARIABLE}", k, weight);
            return;
        }
        if ((m.proto = dundi_proto_from_name(tech)) < 0) {
            ERR(ld, line, "mapping '%s': unknown technology '%s' (IAX2, SIP, PJSIP, H323)", k, tech);
            return;
        }
        if (!conf_copy(m.dest, sizeof(m.dest), dest)) {
            ERR(ld, line, "mapping '%s': destination too long", k);
            return;
        }
        while ((f = field(&rest))) {
            size_t i;
            for (i = 0; i < sizeof(map_options) / sizeof(map_options[0]); i++)
                if (!strcasecmp(f, map_options[i].name)) {
                    m.options |= map_options[i].bits;
                    break;
                }
            if (i == sizeof(map_options) / sizeof(map_options[0]) && *f)
                WARN(ld, line, "mapping '%s': unknown option '%s' ignored", k, f);
        }
    }
    /* The reference keeps one mapping per (dcontext, lcontext): the last wins. */
    for (size_t i = 0; i < c->nmaps; i++)
        if (!strcasecmp(c->maps[i].dcontext, m.dcontext) && !strcasecmp(c->maps[i].lcontext, m.lcontext)) {
            WARN(ld, line, "mapping '%s' to '%s' replaces the one at line %d (as Asterisk does)", m.dcontext,
                 m.lcontext[0] ? m.lcontext : "(none)", c->maps[i].line);
            c->maps[i] = m;
            return;
        }
    struct mapping *mm = grow(c->maps, c->nmaps, sizeof(*mm));
    if (!mm)
        return;
    c->maps = mm;
    c->maps[c->nmaps++] = m;
}

/* ---- peers ---- */

static bool add_rule(struct loader *ld, struct rulelist *l, const char *key, const char *name, bool allow, int line)
{
    struct rule *r = realloc(l->v, (l->n + 1) * sizeof(*r));
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

static void peer_key(struct loader *ld, const char *k, const char *v, int line)
{
    struct peer_conf *p = &ld->c->peers[ld->idx];
    int n;

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
    } else if (!strcasecmp(k, "port")) {
        if (!conf_parse_int(v, 1, 65535, &n))
            ERR(ld, line, "port: '%s' is not a port number (1..65535)", v);
        else
            p->port = (uint16_t)n;
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
        int b = conf_parse_bool(v);
        if (b >= 0)
            p->qualify_ms = b ? 2000 : 0;
        else if (!conf_parse_int(v, 1, 60000, &p->qualify_ms))
            ERR(ld, line, "qualify: '%s' must be yes, no or milliseconds", v);
    } else if (!strcasecmp(k, "register")) {
        if ((n = conf_parse_bool(v)) < 0)
            ERR(ld, line, "register: '%s' must be yes or no", v);
        else
            p->reg = n;
    } else if (!strcasecmp(k, "ustothem")) {
        if (eid_parse(&p->us_eid, v) < 0)
            ERR(ld, line, "ustothem: '%s' is not an EID", v);
        else
            p->has_ustothem = true;
    } else if (!strcasecmp(k, "autokill")) {
        int b = conf_parse_bool(v);
        if (b >= 0)
            p->autokill_ms = b ? 2000 : 0;
        else if (!conf_parse_int(v, 0, 3600000, &p->autokill_ms))
            ERR(ld, line, "autokill: '%s' must be yes, no or milliseconds", v);
    } else if (!strcasecmp(k, "peer_address_check")) {
        if ((p->addr_check = conf_parse_bool(v)) < 0)
            ERR(ld, line, "peer_address_check: '%s' must be yes or no", v);
    } else {
        ERR(ld, line, "unknown peer option '%s'", k);
    }
}

/* ---- [context NAME] ---- */

static bool add_pattern(struct loader *ld, struct pattern **v, size_t *n, const char *text, int line)
{
    char buf[256], err[128], *rest = buf;
    conf_copy(buf, sizeof(buf), text);
    /* Accept both "exten => 1001" and extensions.conf's "exten => 1001,1,NoOp()". */
    char *pat = field(&rest);
    struct pattern *pv = realloc(*v, (*n + 1) * sizeof(**v));
    if (!pv)
        return false;
    *v = pv;
    if (pattern_compile(&pv[*n], pat ? pat : "", err, sizeof(err)) < 0) {
        ERR(ld, line, "bad pattern '%s': %s", pat ? pat : "", err);
        return false;
    }
    (*n)++;
    return true;
}

static void context_key(struct loader *ld, const char *k, const char *v, int line)
{
    struct local_context *lc = &ld->c->contexts[ld->idx];
    if (!strcasecmp(k, "exten"))
        add_pattern(ld, &lc->exten, &lc->nexten, v, line);
    else if (!strcasecmp(k, "ignorepat"))
        add_pattern(ld, &lc->ignorepat, &lc->nignorepat, v, line);
    else if (!strcasecmp(k, "same"))
        ; /* extensions.conf continuation: no new extension */
    else
        ERR(ld, line, "unknown key '%s' in a context (expected exten or ignorepat)", k);
}

/* ---- [registrations] ---- */

static bool parse_cidr(const char *s, struct cidr *out)
{
    char addr[INET6_ADDRSTRLEN + 1];
    const char *slash = strchr(s, '/');
    size_t alen = slash ? (size_t)(slash - s) : strlen(s);
    if (alen >= sizeof(addr))
        return false;
    memcpy(addr, s, alen);
    addr[alen] = '\0';
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, addr, out->addr) == 1)
        out->family = AF_INET;
    else if (inet_pton(AF_INET6, addr, out->addr) == 1)
        out->family = AF_INET6;
    else
        return false;
    int maxbits = out->family == AF_INET ? 32 : 128, bits = maxbits;
    if (slash && !conf_parse_int(slash + 1, 0, maxbits, &bits))
        return false;
    out->bits = (unsigned)bits;
    return true;
}

static void registrations_key(struct loader *ld, const char *k, const char *v, int line)
{
    struct reg_conf *r = &ld->c->reg;
    int n;
    struct {
        const char *key;
        char *dst;
        size_t cap;
    } strs[] = {
        {"regcontext", r->regcontext, sizeof(r->regcontext)},
        {"capture", r->capture, sizeof(r->capture)},
        {"capture_filter", r->capture_filter, sizeof(r->capture_filter)},
        {"capture_file", r->capture_file, sizeof(r->capture_file)},
        {"hep_password", r->hep_password, sizeof(r->hep_password)},
        {"statefile", r->statefile, sizeof(r->statefile)},
    };
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        if (!strcasecmp(k, strs[i].key)) {
            if ((!*v && strcasecmp(k, "statefile")) || !conf_copy(strs[i].dst, strs[i].cap, v))
                ERR(ld, line, "%s: must be 1..%zu characters", k, strs[i].cap - 1);
            else if (!strcasecmp(k, "statefile") && !strcasecmp(v, "none"))
                r->statefile[0] = '\0';
            return;
        }
    struct {
        const char *key;
        int *dst;
        long min, max;
        const char *unit;
    } ints[] = {
        {"max_bindings", &r->max_bindings, 1, REG_MAX_BINDINGS_LIMIT, "bindings"},
        {"state_interval", &r->state_interval_s, 1, 86400, "seconds"},
        {"negative_cachetime", &r->negative_cachetime, 0, 65535, "seconds"},
        {"default_expires", &r->default_expires, 1, 86400 * 7, "seconds"},
    };
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
        if (!strcasecmp(k, ints[i].key)) {
            if (!conf_parse_int(v, ints[i].min, ints[i].max, ints[i].dst))
                ERR(ld, line, "%s: '%s' must be %ld..%ld %s", k, v, ints[i].min, ints[i].max, ints[i].unit);
            return;
        }
    if (!strcasecmp(k, "keep_other_registrars")) {
        if ((n = conf_parse_bool(v)) < 0)
            ERR(ld, line, "keep_other_registrars: '%s' must be yes or no", v);
        else
            r->keep_other_registrars = n;
    } else if (!strcasecmp(k, "precache_registrations")) {
        if ((n = conf_parse_bool(v)) < 0)
            ERR(ld, line, "precache_registrations: '%s' must be yes or no", v);
        else
            ld->c->precache_registrations = n;
    } else if (!strcasecmp(k, "hep")) {
        if (!conf_copy(ld->hep, sizeof(ld->hep), v) || !*v)
            ERR(ld, line, "hep: '%s' is not ADDRESS:PORT", v);
        ld->hep_line = line;
    } else if (!strcasecmp(k, "hep_allow")) {
        struct cidr c;
        struct cidr *nv;
        if (!parse_cidr(v, &c))
            ERR(ld, line, "hep_allow: '%s' is not an address or ADDRESS/BITS", v);
        else if (!(nv = realloc(r->hep_allow, (r->nhep_allow + 1) * sizeof(*nv))))
            ERR(ld, line, "out of memory");
        else {
            r->hep_allow = nv;
            r->hep_allow[r->nhep_allow++] = c;
        }
    } else {
        ERR(ld, line, "unknown option '%s' in [registrations]", k);
    }
}

/* "ADDR:PORT", "[V6]:PORT" or "PORT" (every address). */
static void resolve_hep(struct loader *ld)
{
    char host[CONF_STR_MAX], err[128];
    const char *colon = strrchr(ld->hep, ':'), *portstr = colon ? colon + 1 : ld->hep;
    int port;
    if (!conf_parse_int(portstr, 1, 65535, &port)) {
        ERR(ld, ld->hep_line, "hep: '%s' needs a port (ADDRESS:PORT)", ld->hep);
        return;
    }
    if (!colon)
        snprintf(host, sizeof(host), "0.0.0.0");
    else if (ld->hep[0] == '[' && colon > ld->hep + 1 && colon[-1] == ']')
        snprintf(host, sizeof(host), "%.*s", (int)(colon - ld->hep - 2), ld->hep + 1);
    else
        snprintf(host, sizeof(host), "%.*s", (int)(colon - ld->hep), ld->hep);
    if (resolve(host, (uint16_t)port, AF_UNSPEC, &ld->c->reg.hep, err, sizeof(err)))
        ERR(ld, ld->hep_line, "hep: cannot resolve '%s': %s", host, err);
    else
        ld->c->reg.has_hep = true;
}

static void on_keyval(void *user, const char *key, const char *value, int line)
{
    struct loader *ld = user;
    char err[256];
    switch (ld->kind) {
    case SEC_REALTIME:
        if (realtime_conf_key(&ld->c->realtime, key, value, err, sizeof(err)) < 0)
            ERR(ld, line, "%s", err);
        break;
    case SEC_REGISTRARS:
        if (realtime_conf_registrar(&ld->c->realtime, key, value, line, err, sizeof(err)) < 0)
            ERR(ld, line, "%s", err);
        break;
    case SEC_GENERAL: general_key(ld, key, value, line); break;
    case SEC_MAPPINGS: mapping_key(ld, key, value, line); break;
    case SEC_PEER: peer_key(ld, key, value, line); break;
    case SEC_CONTEXT: context_key(ld, key, value, line); break;
    case SEC_REGISTRATIONS: registrations_key(ld, key, value, line); break;
    case SEC_SKIP: break;
    case SEC_NONE: ERR(ld, line, "'%s' outside of any section", key); break;
    }
}

static void on_error(void *user, const char *reason, int line) { ERR((struct loader *)user, line, "%s", reason); }

/* ---- validation after the whole file is read ---- */

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

static void derive_ipaddr(struct loader *ld)
{
    struct config *c = ld->c;
    int fam = c->bindaddr.ss.ss_family;
    char host[256];

    if (c->ipaddr[0])
        return;
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
    /* Like the reference: our host name, resolved in bindaddr's family; but a
     * loopback answer (Debian's 127.0.1.1) is useless to peers, so then take
     * the first address of an interface that is up. */
    struct dundi_addr a;
    char err[128];
    if (gethostname(host, sizeof(host)) == 0 && resolve(host, 0, fam, &a, err, sizeof(err)) == 0 &&
        !addr_is_loopback(&a)) {
        addr_ntop(&a, c->ipaddr, sizeof(c->ipaddr));
        return;
    }
    struct ifaddrs *ifs;
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

/* Every ${NAME} in a template must be one dundid can fill in. */
static void check_template(struct loader *ld, const struct mapping *m, const char *what, const char *tmpl)
{
    for (const char *p = strstr(tmpl, "${"); p; p = strstr(p + 2, "${")) {
        const char *end = strchr(p + 2, '}');
        if (!end) {
            ERR(ld, m->line, "mapping '%s': unterminated ${ in %s", m->dcontext, what);
            return;
        }
        if (!mapping_var_known(p + 2, (size_t)(end - p - 2)))
            ERR(ld, m->line, "mapping '%s': unknown variable ${%.*s} in %s (known: NUMBER, EID, SECRET, IPADDR, CONTACT, CONTACTURI, REGISTRAR)",
                m->dcontext, (int)(end - p - 2), p + 2, what);
    }
}

/* The key folder: relative names are taken from the config file's folder. */
static const char *keydir(struct loader *ld)
{
    const char *kd = ld->c->keydir[0] ? ld->c->keydir : DUNDID_DEFAULT_KEYDIR;
    if (!ld->keydir_abs[0]) {
        const char *slash = strrchr(ld->file, '/');
        if (kd[0] == '/' || !slash)
            snprintf(ld->keydir_abs, sizeof(ld->keydir_abs), "%s", kd);
        else
            snprintf(ld->keydir_abs, sizeof(ld->keydir_abs), "%.*s/%s", (int)(slash - ld->file), ld->file, kd);
    }
    return ld->keydir_abs;
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

static void load_peer_keys(struct loader *ld, struct peer_conf *p, const char *pn)
{
    int err;
    const char *dir = keydir(ld);
    if (!(p->inkey_pub = find_loaded(ld->c, p->inkey, false)) &&
        !(p->inkey_pub = crypto_load_public(dir, p->inkey, &err)))
        ERR(ld, p->line, "peer [%s]: inkey '%s': %s/%s.pub: %s", pn, p->inkey, dir, p->inkey, crypto_strerror(err));
    if (!(p->outkey_priv = find_loaded(ld->c, p->outkey, true)) &&
        !(p->outkey_priv = crypto_load_private(dir, p->outkey, &err)))
        ERR(ld, p->line, "peer [%s]: outkey '%s': %s/%s.key: %s", pn, p->outkey, dir, p->outkey,
            crypto_strerror(err));
}

static void validate(struct loader *ld)
{
    struct config *c = ld->c;
    char err[128];

    if (resolve(ld->bindaddr[0] ? ld->bindaddr : "0.0.0.0", c->port, AF_UNSPEC, &c->bindaddr, err, sizeof(err)))
        ERR(ld, ld->bindaddr_line, "bindaddr: cannot resolve '%s': %s", ld->bindaddr, err);
    if (ld->bindaddr2[0]) {
        if (resolve(ld->bindaddr2, c->port, AF_UNSPEC, &c->bindaddr2, err, sizeof(err)))
            ERR(ld, ld->bindaddr2_line, "bindaddr2: cannot resolve '%s': %s", ld->bindaddr2, err);
        else if (c->bindaddr2.ss.ss_family == c->bindaddr.ss.ss_family)
            ERR(ld, ld->bindaddr2_line, "bindaddr2 must be of the other address family than bindaddr");
        else
            c->has_bindaddr2 = true;
    }
    if (!c->has_eid) {
        if (eid_from_host(&c->eid) == 0)
            c->has_eid = true;
        else
            ERR(ld, 1, "no entityid set and no network interface with a MAC address to take it from");
    }
    derive_ipaddr(ld);
    if (ld->hep[0])
        resolve_hep(ld);
    if (c->reg.capture[0] && c->reg.capture_file[0])
        ERR(ld, 1, "[registrations]: capture and capture_file exclude each other");

    for (size_t i = 0; i < c->nmaps; i++) {
        struct mapping *m = &c->maps[i];
        if (m->lcontext[0] && !config_find_context(c, m->lcontext) && !config_is_regcontext(c, m->lcontext))
            ERR(ld, m->line, "mapping '%s': unknown local context '%s' (define it as [context %s])", m->dcontext,
                m->lcontext, m->lcontext);
        check_template(ld, m, "destination", m->dest);
        check_template(ld, m, "weight", m->weight_expr);
    }
    for (size_t i = 0; i < c->npeers; i++) {
        struct peer_conf *p = &c->peers[i];
        char name[EID_STR_LEN];
        const char *pn = p->wildcard ? "*" : eid_to_str(&p->eid, name);
        bool in = p->model & MODEL_INBOUND, out = p->model & MODEL_OUTBOUND;
        if (p->model == MODEL_NONE && p->pcmodel == MODEL_NONE)
            ERR(ld, p->line, "peer [%s]: neither model nor precache is set, so it could do nothing", pn);
        if (in && (p->pcmodel & MODEL_OUTBOUND))
            ERR(ld, p->line, "peer [%s]: model inbound/symmetric cannot be combined with precache outbound", pn);
        if (out && (p->pcmodel & MODEL_INBOUND))
            ERR(ld, p->line, "peer [%s]: model outbound/symmetric cannot be combined with precache inbound", pn);
        if (p->include.n && !out && !(p->pcmodel & MODEL_INBOUND))
            WARN(ld, p->line, "peer [%s]: include rules have no effect unless model is outbound or symmetric", pn);
        if (p->permit.n && !in && !(p->pcmodel & MODEL_OUTBOUND))
            WARN(ld, p->line, "peer [%s]: permit rules have no effect unless model is inbound or symmetric", pn);
        /* An address is taken now; a name is resolved by the daemon, without
         * blocking, and again every dns_refresh seconds. */
        if (p->host[0]) {
            if (numeric_host(p->host, p->port, &p->addr))
                p->has_addr = true;
            else if (!valid_hostname(p->host))
                ERR(ld, p->host_line, "peer [%s]: host '%s' is not a host name or address", pn, p->host);
        }
        if (p->inkey[0] && !p->outkey[0])
            ERR(ld, p->line, "peer [%s]: inkey without outkey (encryption needs both)", pn);
        else if (p->outkey[0] && !p->inkey[0])
            ERR(ld, p->line, "peer [%s]: outkey without inkey (encryption needs both)", pn);
        else if (p->inkey[0])
            load_peer_keys(ld, p, pn);
    }
    if (realtime_conf_finish(&c->realtime, err, sizeof(err)) < 0)
        ERR(ld, c->realtime.line, "%s", err);
}

struct config *config_load(const char *path, struct config_diag *diag)
{
    struct config *c = calloc(1, sizeof(*c));
    struct loader ld = {.c = c, .d = diag, .file = path, .kind = SEC_NONE};

    memset(diag, 0, sizeof(*diag));
    if (!c)
        return NULL;
    conf_copy(c->path, sizeof(c->path), path);
    c->port = DUNDI_PORT;
    c->ttl = 120;
    c->cachetime = 3600;
    c->loglevel = -1;
    c->session_key_lifetime_s = SESSION_KEY_LIFETIME_S;
    c->cache_size = 100000;
    conf_copy(c->control, sizeof(c->control), DUNDID_DEFAULT_CONTROL);
    c->max_per_source = 4096;
    c->peer_address_check = true;
    c->dns_refresh_s = 300;
    snprintf(c->resolv_conf, sizeof(c->resolv_conf), "/etc/resolv.conf");
    snprintf(c->reg.regcontext, sizeof(c->reg.regcontext), "%s", REG_DEFAULT_CONTEXT);
    snprintf(c->reg.capture_filter, sizeof(c->reg.capture_filter), "udp port 5060");
    snprintf(c->reg.statefile, sizeof(c->reg.statefile), "%s", REG_DEFAULT_STATEFILE);
    c->reg.state_interval_s = 60;
    c->reg.max_bindings = 8;
    c->reg.negative_cachetime = 60;
    c->reg.default_expires = 3600;
    realtime_conf_defaults(&c->realtime);

    FILE *f = fopen(path, "r");
    if (!f) {
        char *msg;
        if (asprintf(&msg, "%s: cannot open: %s", path, strerror(errno)) >= 0) {
            diag->msg = malloc(sizeof(char *));
            diag->is_error = malloc(sizeof(bool));
            if (diag->msg && diag->is_error) {
                diag->msg[0] = msg;
                diag->is_error[0] = true;
                diag->n = 1;
            } else {
                free(msg);
            }
        }
        diag->errors = 1;
        config_free(c);
        return NULL;
    }
    if (conf_read(f, &(struct conf_reader_ops){on_section, on_keyval, on_error}, &ld) < 0)
        ERR(&ld, 0, "read error");
    fclose(f);
    validate(&ld);
    if (diag->errors) {
        config_free(c);
        return NULL;
    }
    return c;
}

void config_free(struct config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->npeers; i++) {
        free(c->peers[i].include.v);
        free(c->peers[i].permit.v);
        crypto_free_key(c->peers[i].inkey_pub);
        crypto_free_key(c->peers[i].outkey_priv);
    }
    for (size_t i = 0; i < c->ncontexts; i++) {
        free(c->contexts[i].exten);
        free(c->contexts[i].ignorepat);
    }
    free(c->reg.hep_allow);
    realtime_conf_free(&c->realtime);
    free(c->peers);
    free(c->maps);
    free(c->contexts);
    free(c);
}

/* ---- queries ---- */

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
