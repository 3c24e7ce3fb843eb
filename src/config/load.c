/* dundi.conf text to a snapshot: sections, defaults, diagnostics. Every
 * problem is reported as FILE:LINE: reason; the snapshot is only returned
 * when there were no errors. Pure: the file is the only thing read. */
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dundid/conf_reader.h"
#include "dundid/conf_values.h"
#include "dundid/wire.h"
#include "load.h"

/* ---- diagnostics ---- */

/* Room for v[n] in an array whose capacity is n rounded up to a power of
 * two: it doubles when n reaches one, so a file of many lines costs few
 * reallocations. NULL when out of memory (v is kept). */
static void *room(void *v, size_t n, size_t size)
{
    if (n & (n - 1))
        return v;
    return realloc(v, (n ? 2 * n : 1) * size);
}

/* The messages live one after the other in d->text (one allocation for all
 * of them: a fuzzed file has a dozen); msg[i] point into it. */
static char *diag_space(struct config_diag *d, size_t need)
{
    if (d->len + need > d->cap) {
        size_t cap = d->cap ? d->cap : 1024;
        while (cap < d->len + need)
            cap *= 2;
        char *t = malloc(cap);
        if (!t)
            return NULL;
        if (d->len)
            memcpy(t, d->text, d->len);
        for (size_t i = 0; i < d->n; i++)
            d->msg[i] = t + (d->msg[i] - d->text);
        free(d->text);
        d->text = t;
        d->cap = cap;
    }
    return d->text + d->len;
}

/* Append "FILE:LINE: [warning: ]REASON" (REASON cut at 511 characters). */
__attribute__((format(printf, 5, 0))) static void diag_vadd(struct config_diag *d, const char *file, bool error, int line, const char *fmt, va_list ap)
{
    char where[32];
    int wn = line >= 0 ? snprintf(where, sizeof(where), ":%d: %s", line, error ? "" : "warning: ") : 0;
    size_t fn = strlen(file), reason = 512;
    char *out = diag_space(d, fn + (size_t)wn + reason);
    char **m = room(d->msg, d->n, sizeof(*m));
    if (m)
        d->msg = m;
    bool *e = room(d->is_error, d->n, sizeof(*e));
    if (e)
        d->is_error = e;
    if (!out || !m || !e)
        return;
    memcpy(out, file, fn);
    memcpy(out + fn, where, (size_t)wn);
    int rn = vsnprintf(out + fn + wn, reason, fmt, ap);
    if (rn < 0)
        rn = 0;
    d->len += fn + (size_t)wn + ((size_t)rn < reason ? (size_t)rn : reason - 1) + 1;
    d->msg[d->n] = out;
    d->is_error[d->n++] = error;
    if (error)
        d->errors++;
    else
        d->warnings++;
}

void conf_diag_add(struct config_diag *d, const char *file, bool error, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_vadd(d, file, error, line, fmt, ap);
    va_end(ap);
}

/* "FILE: reason", without a line (the file itself is the problem). */
__attribute__((format(printf, 3, 4))) static void diag_file(struct config_diag *d, const char *file, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_vadd(d, file, true, -1, fmt, ap);
    va_end(ap);
}

void config_diag_free(struct config_diag *d)
{
    free(d->text);
    free(d->msg);
    free(d->is_error);
    memset(d, 0, sizeof(*d));
}

/* ---- helpers of the section files ---- */

bool conf_opt_set(struct loader *ld, const struct opt *t, size_t n, void *base, const char *k, const char *v,
                  int line)
{
    for (size_t i = 0; i < n; i++) {
        if (strcasecmp(k, t[i].name))
            continue;
        char *dst = (char *)base + t[i].off;
        const char *name = t[i].name;
        int x;
        switch (t[i].type) {
        case OPT_INT:
            if (!conf_parse_int(v, t[i].min, t[i].max, (int *)(void *)dst))
                ERR(ld, line, "%s: '%s' must be %ld..%ld%s%s", name, v, t[i].min, t[i].max, t[i].unit ? " " : "",
                    t[i].unit ? t[i].unit : "");
            break;
        case OPT_PORT:
            if (!conf_parse_int(v, 1, 65535, &x))
                ERR(ld, line, "%s: '%s' is not a port number (1..65535)", name, v);
            else
                *(uint16_t *)(void *)dst = (uint16_t)x;
            break;
        case OPT_BOOL:
            if ((x = conf_parse_bool(v)) < 0)
                ERR(ld, line, "%s: '%s' must be yes or no", name, v);
            else
                *(bool *)(void *)dst = x;
            break;
        case OPT_TEXT:
            if (!conf_copy(dst, (size_t)t[i].max, v))
                ERR(ld, line, "%s: longer than %ld characters", k, t[i].max - 1);
            break;
        case OPT_WORD:
            if (!*v || !conf_copy(dst, (size_t)t[i].max, v))
                ERR(ld, line, "%s: must be 1..%ld characters", k, t[i].max - 1);
            break;
        }
        return true;
    }
    return false;
}

void *conf_grow(void *v, size_t n, size_t size)
{
    void *p = room(v, n, size);
    if (p)
        memset((char *)p + n * size, 0, size);
    return p;
}

char *conf_field(char **s)
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
    while (isspace((unsigned char)*f))
        f++;
    size_t n = strlen(f);
    while (n && isspace((unsigned char)f[n - 1]))
        f[--n] = '\0';
    return f;
}

bool conf_numeric_addr(const char *host, uint16_t port, struct dundi_addr *out)
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
        peer_section(ld, name, strcmp(name, "*") ? &e : NULL, line);
    } else if (!strcasecmp(name, "realtime")) {
        if (c->realtime.enabled)
            WARN(ld, line, "[realtime] appears again; its keys are merged");
        c->realtime.enabled = true;
        c->realtime.line = line;
        ld->kind = SEC_REALTIME;
    } else if (!strcasecmp(name, "registrars")) {
        ld->kind = SEC_REGISTRARS;
    } else if (!strncasecmp(name, "context", 7) && isspace((unsigned char)name[7])) {
        context_section(ld, name + 8, line);
    } else {
        ERR(ld, line, "unknown section [%s] (expected general, mappings, registrations, a peer EID, * or 'context NAME')",
            name);
        ld->kind = SEC_SKIP;
    }
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

static void set_defaults(struct config *c)
{
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
    c->reg.capture_buffer_kb = 8192;
    c->reg.capture_immediate = true; /* each REGISTER at once; "no" for storms (see the manual) */
    snprintf(c->reg.statefile, sizeof(c->reg.statefile), "%s", REG_DEFAULT_STATEFILE);
    c->reg.state_interval_s = 60;
    c->reg.max_bindings = 8;
    c->reg.negative_cachetime = 60;
    c->reg.default_expires = 3600;
    realtime_conf_defaults(&c->realtime);
}

/* The snapshot even when there were errors (NULL: unreadable or no memory),
 * so that the probe can report its own problems of a broken file too. */
static struct config *parse_stream(FILE *f, const char *name, struct config_diag *diag)
{
    struct config *c = calloc(1, sizeof(*c));
    struct loader ld = {.c = c, .d = diag, .file = name, .kind = SEC_NONE};

    if (!c || !(c->path = strdup(name))) {
        free(c);
        return NULL;
    }
    set_defaults(c);
    if (conf_read(f, &(struct conf_reader_ops){on_section, on_keyval, on_error}, &ld) < 0)
        ERR(&ld, 0, "read error");
    general_finish(&ld);
    registrations_finish(&ld);
    mappings_finish(&ld);
    peers_finish(&ld);
    char err[128];
    if (realtime_conf_finish(&c->realtime, err, sizeof(err)) < 0)
        ERR(&ld, c->realtime.line, "%s", err);
    return c;
}

static struct config *parse(const char *path, struct config_diag *diag)
{
    memset(diag, 0, sizeof(*diag));
    FILE *f = fopen(path, "r");
    if (!f) {
        diag_file(diag, path, ": cannot open: %s", strerror(errno));
        diag->errors = 1;
        return NULL;
    }
    struct config *c = parse_stream(f, path, diag);
    fclose(f);
    return c;
}

static struct config *checked(struct config *c, const struct config_diag *diag)
{
    if (c && diag->errors) {
        config_free(c);
        return NULL;
    }
    return c;
}

struct config *config_parse(const char *path, struct config_diag *diag) { return checked(parse(path, diag), diag); }

struct config *config_parse_stream(FILE *f, const char *name, struct config_diag *diag)
{
    memset(diag, 0, sizeof(*diag));
    return checked(parse_stream(f, name, diag), diag);
}

struct config *config_reload(const char *path, const struct config *running, struct config_diag *diag)
{
    struct config *c = parse(path, diag);
    if (c)
        config_probe(c, running, diag);
    return checked(c, diag);
}

struct config *config_load(const char *path, struct config_diag *diag) { return config_reload(path, NULL, diag); }

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
    free(c->path);
    free(c);
}
