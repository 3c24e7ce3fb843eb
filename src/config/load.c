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

#include "dundid/conf_values.h"
#include "dundid/wire.h"
#include "dundid/conf_text.h"
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

/* Append "FILE:LINE: [warning: ]REASON[SUFFIX]" (REASON and SUFFIX cut at
 * 1023 characters). */
__attribute__((format(printf, 6, 0))) static void diag_vadd(struct config_diag *d, const char *file, bool error, int line,
                                                            const char *suffix, const char *fmt, va_list ap)
{
    char where[32];
    int wn = line >= 0 ? snprintf(where, sizeof(where), ":%d: %s", line, error ? "" : "warning: ") : 0;
    size_t fn = strlen(file), reason = 1024;
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
    /* The reason straight into place (most messages have no suffix). */
    int rn = vsnprintf(out + fn + wn, reason, fmt, ap);
    if (rn < 0)
        rn = 0;
    if (suffix && *suffix && (size_t)rn < reason - 1)
        rn += snprintf(out + fn + wn + rn, reason - (size_t)rn, "%s", suffix);
    d->len += fn + (size_t)wn + ((size_t)rn < reason ? (size_t)rn : reason - 1) + 1;
    d->msg[d->n] = out;
    d->is_error[d->n++] = error;
    if (error)
        d->errors++;
    else
        d->warnings++;
}

__attribute__((format(printf, 6, 0))) static void diag_vloc(struct config_diag *d, const struct conf_srcmap *src,
                                                             bool error, int loc, const char *suffix, const char *fmt,
                                                             va_list ap)
{
    size_t idx = (size_t)loc >> CONF_LOC_LINE_BITS;
    if (loc >= 0 && idx < src->n && src->v[idx].from <= 0) { /* a top file: no chain to name */
        diag_vadd(d, src->v[idx].path, error, loc & ((1 << CONF_LOC_LINE_BITS) - 1), suffix, fmt, ap);
        return;
    }
    char file[4096], chain[2048], both[2600];
    int line;
    conf_srcmap_where(src, loc, file, sizeof(file), &line, chain, sizeof(chain));
    snprintf(both, sizeof(both), "%s%s", chain, suffix ? suffix : "");
    diag_vadd(d, file, error, line, both, fmt, ap);
}

void conf_diag_add(struct config_diag *d, const struct conf_srcmap *src, bool error, int loc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_vloc(d, src, error, loc, NULL, fmt, ap);
    va_end(ap);
}

void conf_err(struct loader *ld, int loc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_vloc(ld->d, &ld->c->src, !ld->lenient, loc, ld->lenient ? "; ignored, as Asterisk does" : NULL, fmt, ap);
    va_end(ap);
}

const char *conf_at(const struct conf_srcmap *src, int loc, int other, char *buf, size_t len)
{
    char file[4096], chain[8];
    int line;
    if ((loc >> CONF_LOC_LINE_BITS) == (other >> CONF_LOC_LINE_BITS)) {
        snprintf(buf, len, "line %d", other & ((1 << CONF_LOC_LINE_BITS) - 1));
        return buf;
    }
    conf_srcmap_where(src, other, file, sizeof(file), &line, chain, sizeof(chain));
    snprintf(buf, len, "%s:%d", file, line);
    return buf;
}

/* "FILE: reason", without a line (the file itself is the problem). */
__attribute__((format(printf, 4, 5))) static void diag_file_kind(struct config_diag *d, const char *file, bool error,
                                                                 const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_vadd(d, file, error, -1, NULL, fmt, ap);
    va_end(ap);
}
#define diag_file(d, file, ...) diag_file_kind(d, file, true, __VA_ARGS__)

void conf_diag_file(struct config_diag *d, const char *file, bool error, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    diag_file_kind(d, file, error, ": %s%s", error ? "" : "warning: ", msg);
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
    return conf_trim(f);
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
    case SEC_NONE: /* Asterisk refuses such a file too */
        conf_diag_add(ld->d, &ld->c->src, true, line, "'%s' outside of any section", key);
        break;
    }
}

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

/* ---- reading files ---- */

struct text_diag {
    struct loader *ld;
    const char *path; /* for problems of the file itself (loc < 0) */
};

static void on_text_diag(void *u, int loc, bool error, const char *msg)
{
    struct text_diag *t = u;
    if (loc < 0)
        diag_file(t->ld->d, t->path, ": %s", msg);
    else
        conf_diag_add(t->ld->d, &t->ld->c->src, error, loc, "%s", msg);
}

int conf_read_doc(struct loader *ld, const struct conf_fs *fs, const char *path, const struct conf_text_opts *o,
                  struct conf_doc *doc)
{
    struct text_diag t = {ld, path};
    return conf_text_read(doc, &ld->c->src, fs, path, o, on_text_diag, &t);
}

void conf_apply_doc(struct loader *ld, const struct conf_doc *doc)
{
    ld->kind = SEC_NONE;
    for (size_t i = 0; i < doc->n; i++) {
        const struct conf_item *it = &doc->items[i];
        if (it->kind == CONF_SECTION) {
            on_section(ld, it->name, it->loc);
            continue;
        }
        if (strlen(it->name) > 255 || strlen(it->value) > 1023) {
            ERR(ld, it->loc, "'%.40s...': a key longer than 255 or a value longer than 1023 characters", it->name);
            continue;
        }
        on_keyval(ld, it->name, it->value, it->loc);
    }
}

/* [general] asterisk_dir of dundid's file, before anything else is read. */
static const char *find_asterisk_dir(const struct conf_doc *doc)
{
    const char *dir = NULL;
    bool general = false;
    for (size_t i = 0; i < doc->n; i++) {
        const struct conf_item *it = &doc->items[i];
        if (it->kind == CONF_SECTION)
            general = !strcasecmp(it->name, "general");
        else if (general && !strcasecmp(it->name, "asterisk_dir"))
            dir = it->value;
    }
    return dir;
}

static void finish(struct loader *ld)
{
    struct config *c = ld->c;
    general_finish(ld);
    registrations_finish(ld);
    contexts_finish(ld);
    mappings_finish(ld);
    peers_finish(ld);
    char err[128];
    if (realtime_conf_finish(&c->realtime, err, sizeof(err)) < 0)
        ERR(ld, c->realtime.line, "%s", err);
}

/* The snapshot even when there were errors (NULL: no memory), so that the
 * probe can report its own problems of a broken file too. */
static struct config *parse_src(const struct config_src *src, struct config_diag *diag)
{
    const struct conf_fs *fs = src->fs ? src->fs : &conf_fs_host;
    struct config *c = calloc(1, sizeof(*c));
    struct loader ld = {.c = c, .d = diag, .kind = SEC_NONE};
    const char *shown = src->path ? src->path : src->astdir;

    memset(diag, 0, sizeof(*diag));
    if (!c || !(c->path = strdup(shown ? shown : "")) || (src->astdir && !(c->astdir_arg = strdup(src->astdir)))) {
        if (c)
            free(c->path);
        free(c);
        return NULL;
    }
    set_defaults(c);
    struct conf_doc own = {0};
    char base[4096];
    if (src->path) {
        const char *slash = strrchr(src->path, '/');
        snprintf(base, sizeof(base), "%.*s", slash ? (int)(slash - src->path) : 1, slash ? src->path : ".");
        struct conf_text_opts o = {.basedir = base, .must_exist = true};
        if (conf_read_doc(&ld, fs, src->path, &o, &own) < 0 && !c->src.n) {
            conf_doc_free(&own);
            config_free(c);
            return NULL; /* not even read: nothing to probe */
        }
    }
    const char *astdir = src->astdir ? src->astdir : find_asterisk_dir(&own);
    char astabs[4096 + CONF_STR_MAX + 2];
    if (astdir && *astdir && astdir[0] != '/' && src->path) {
        /* asterisk_dir = relative to dundid's file, as keydir */
        snprintf(astabs, sizeof(astabs), "%s/%.*s", base, CONF_STR_MAX, astdir);
        astdir = astabs;
    }
    if (astdir && *astdir)
        asterisk_read(&ld, fs, astdir);
    if (src->path) {
        ld.lenient = false;
        ld.seen_general = ld.seen_mappings = false;
        conf_apply_doc(&ld, &own);
    }
    conf_doc_free(&own);
    finish(&ld);
    return c;
}

/* One file held in memory: config_parse_stream's provider. */
struct memfile {
    const char *name;
    const char *data;
    size_t len;
};

static int mem_read(void *u, const char *path, size_t max, char **data, size_t *len, char *err, size_t errlen)
{
    const struct memfile *m = u;
    if (strcmp(path, m->name)) {
        snprintf(err, errlen, "cannot open: no such file");
        return -2;
    }
    if (m->len > max) {
        snprintf(err, errlen, "larger than %zu bytes", max);
        return -1;
    }
    if (!(*data = malloc(m->len + 1))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memcpy(*data, m->data, m->len);
    (*data)[m->len] = '\0';
    *len = m->len;
    return 0;
}

static struct config *checked(struct config *c, const struct config_diag *diag)
{
    if (c && diag->errors) {
        config_free(c);
        return NULL;
    }
    return c;
}

struct config *config_parse_src(const struct config_src *src, struct config_diag *diag)
{
    return checked(parse_src(src, diag), diag);
}

struct config *config_load_src(const struct config_src *src, struct config_diag *diag)
{
    struct config *c = parse_src(src, diag);
    if (c)
        config_probe(c, NULL, diag);
    return checked(c, diag);
}

struct config *config_parse(const char *path, struct config_diag *diag)
{
    return config_parse_src(&(struct config_src){.path = path}, diag);
}

struct config *config_parse_stream(FILE *f, const char *name, struct config_diag *diag)
{
    char *buf = NULL;
    size_t cap = 0, n = 0, got;
    struct memfile m = {name, NULL, 0};
    do {
        if (n == cap) {
            char *b = cap < CONF_FILE_MAX_BYTES + 1 ? realloc(buf, cap ? cap * 2 : 4096) : NULL;
            if (!b)
                break;
            buf = b;
            cap = cap ? cap * 2 : 4096;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got);
    m.data = buf ? buf : "";
    m.len = n;
    struct conf_fs fs = {mem_read, NULL, NULL, &m};
    struct config *c = config_parse_src(&(struct config_src){.path = name, .fs = &fs}, diag);
    free(buf);
    return c;
}

struct config *config_reload(const char *path, const struct config *running, struct config_diag *diag)
{
    struct config_src src = {.path = path, .astdir = running ? running->astdir_arg : NULL};
    struct config *c = parse_src(&src, diag);
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
        free(c->contexts[i].early);
        free(c->contexts[i].include);
        free(c->contexts[i].include_when);
    }
    free(c->reg.hep_allow);
    realtime_conf_free(&c->realtime);
    free(c->peers);
    free(c->maps);
    free(c->contexts);
    free(c->path);
    free(c->astdir_arg);
    conf_srcmap_free(&c->src);
    free(c);
}
