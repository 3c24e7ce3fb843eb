/* An Asterisk extensions.conf as answer sources (-A), read the way
 * pbx_config.c loads it: [globals] first (each value with the globals
 * before it substituted), then every other section but [general] is a
 * context; a context named twice is one context. What a lookup needs of it:
 * the extensions that have a priority 1 and no caller ID match (pbx_dundi
 * asks for priority 1 without caller ID), include => in order, ignorepat =>.
 * An include's time condition is kept and checked at each lookup
 * (dp_timing.h). What cannot be evaluated here (switches, a time condition's
 * time zone, dialplan functions) is a warning naming the line. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dundid/conf_values.h"
#include "dundid/template_vars.h"
#include "dundid/conf_text.h"
#include "load.h"

#define GLOBALS_MAX 4096
#define VALUE_MAX 1024

struct globals {
    const char *name[GLOBALS_MAX];
    char *value[GLOBALS_MAX];
    size_t n;
};

static const char *global_get(const struct globals *g, const char *name, size_t len)
{
    for (size_t i = g->n; i-- > 0;) /* the last one set wins */
        if (strlen(g->name[i]) == len && !strncmp(g->name[i], name, len))
            return g->value[i];
    return NULL;
}

/* ${NAME} and ${NAME:offset:length} from the globals (an unset one is
 * empty, as in Asterisk); names for which keep() is true are left as they
 * are. Returns false when something could not be evaluated (a function,
 * a nested ${...}, $[...]). */
static bool subst(const struct globals *g, const char *in, char *out, size_t outlen, bool (*keep)(const char *, size_t))
{
    size_t o = 0;
    bool ok = !strstr(in, "$[");
    while (*in && o + 1 < outlen) {
        if (in[0] == '$' && in[1] == '{') {
            const char *end = strchr(in + 2, '}');
            size_t len = end ? (size_t)(end - in - 2) : 0;
            long off, sublen;
            size_t nlen = var_split(in + 2, len, &off, &sublen);
            if (!end || strcspn(in + 2, "($}") < len) {
                ok = false;
            } else if (keep && keep(in + 2, nlen)) {
                size_t n = len + 3;
                if (o + n >= outlen)
                    break;
                memcpy(out + o, in, n);
                o += n;
                in = end + 1;
                continue;
            } else {
                const char *v = global_get(g, in + 2, nlen);
                size_t start = 0, n = v ? var_substring(strlen(v), off, sublen, &start) : 0;
                if (o + n >= outlen)
                    n = outlen - 1 - o;
                if (n)
                    memcpy(out + o, v + start, n);
                o += n;
                in = end + 1;
                continue;
            }
        }
        out[o++] = *in++;
    }
    out[o] = '\0';
    return ok;
}

/* The variables pbx_dundi sets for a mapping's destination and weight. */
static bool dundi_var(const char *name, size_t len)
{
    static const char *const v[] = {"NUMBER", "EID", "SECRET", "IPADDR"};
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
        if (strlen(v[i]) == len && !strncmp(v[i], name, len))
            return true;
    return false;
}

/* Split at the first ',' outside [ ] (a pattern's class may hold one). */
static char *field(char **s)
{
    char *f = *s;
    if (!f)
        return NULL;
    int depth = 0;
    char *p = f;
    for (; *p; p++) {
        if (*p == '[')
            depth++;
        else if (*p == ']' && depth)
            depth--;
        else if (*p == ',' && !depth)
            break;
    }
    if (*p) {
        *p = '\0';
        *s = p + 1;
    } else {
        *s = NULL;
    }
    return conf_trim(f);
}

struct ctx_state {
    size_t ctx;
    char lastext[256];
    int lastpri; /* -2: none yet */
};

/* Adds ext (priority 1, no caller ID) once to the context. */
static void add_exten(struct loader *ld, size_t ci, const char *ext, int loc)
{
    struct local_context *lc = &ld->c->contexts[ci];
    for (size_t i = 0; i < lc->nexten; i++)
        if (!strcmp(lc->exten[i].text, ext))
            return;
    if (strlen(ext) > PATTERN_MAX) {
        WARN(ld, loc, "extension '%.40s...' is longer than %d characters: a lookup never finds it", ext, PATTERN_MAX);
        return;
    }
    context_pattern(ld, &lc->exten, &lc->nexten, ext, loc);
}

/* exten => EXT,PRI,APP and same => PRI,APP: does it give EXT a priority 1? */
static void exten_line(struct loader *ld, struct ctx_state *st, const struct globals *g, bool same, const char *v,
                       int loc)
{
    char buf[VALUE_MAX], ext[256], *rest = buf;
    conf_copy(buf, sizeof(buf), v);
    if (same) {
        if (!st->lastext[0]) {
            WARN(ld, loc, "same => without an extension before it in this context; Asterisk skips the line");
            return;
        }
        snprintf(ext, sizeof(ext), "%s", st->lastext);
    } else {
        char *e = field(&rest);
        if (!subst(g, e ? e : "", ext, sizeof(ext), NULL))
            WARN(ld, loc, "extension '%s': only ${GLOBAL} variables are evaluated here", e);
        snprintf(st->lastext, sizeof(st->lastext), "%s", ext);
    }
    char *cid = strchr(ext, '/');
    if (cid)
        *cid++ = '\0';
    char *pri = field(&rest);
    if (!pri)
        pri = (char *)"";
    char *label = strchr(pri, '(');
    if (label) {
        if (!strchr(label, ')')) {
            WARN(ld, loc, "label without ')'; Asterisk skips the line");
            return;
        }
        *label = '\0';
    }
    char *plus = strchr(pri, '+');
    if (plus)
        *plus++ = '\0';
    int ipri;
    if (!strcmp(pri, "hint")) {
        ipri = -1;
    } else if (!strcmp(pri, "n") || !strcmp(pri, "next") || !strcmp(pri, "s") || !strcmp(pri, "same")) {
        if (st->lastpri == -2) {
            WARN(ld, loc, "priority '%s' on the first line of the context; Asterisk skips the line", pri);
            return;
        }
        ipri = st->lastpri + (pri[0] == 'n');
    } else if (!conf_parse_int(pri, 1, 0x7fffffff, &ipri)) {
        WARN(ld, loc, "priority '%s' is not a number dundid can evaluate; the line is skipped (Asterisk looks it up as a label)",
             pri);
        return;
    }
    if (plus && ipri > 0)
        ipri += atoi(plus);
    st->lastpri = ipri;
    if (cid && *cid)
        return; /* pbx_dundi asks without a caller ID: this never matches */
    if (ipri != 1) {
        if (ext[0] == '_' && strchr(ext, '!') && strlen(ext) <= PATTERN_MAX) {
            struct local_context *lc = &ld->c->contexts[st->ctx];
            for (size_t i = 0; i < lc->nearly; i++)
                if (!strcmp(lc->early[i].text, ext))
                    return;
            if (context_pattern(ld, &lc->early, &lc->nearly, ext, loc) && lc->early[lc->nearly - 1].tail != '!')
                lc->nearly--; /* a '!' in [ ], not an early match */
        }
        return;
    }
    if (!ext[0]) {
        WARN(ld, loc, "empty extension name; Asterisk registers it, a lookup never finds it");
        return;
    }
    add_exten(ld, st->ctx, ext, loc);
}

struct pending_include {
    size_t ctx;
    char name[CONF_NAME_MAX];
    int loc;
    struct dp_timing when;
};

static void context_line(struct loader *ld, struct ctx_state *st, const struct globals *g, const char *k,
                         const char *v, int loc, struct pending_include **inc, size_t *ninc)
{
    char val[VALUE_MAX];
    if (!strncasecmp(k, "same", 4) || !strcasecmp(k, "exten")) {
        exten_line(ld, st, g, !strncasecmp(k, "same", 4), v, loc);
    } else if (!strcasecmp(k, "include")) {
        if (!subst(g, v, val, sizeof(val), NULL))
            WARN(ld, loc, "include => %s: only ${GLOBAL} variables are evaluated here", v);
        struct dp_timing when;
        int skipped = 0;
        char *bar = val + strcspn(val, "|,");
        dp_timing_parse(&when, *bar ? bar + 1 : "", &skipped);
        if (*bar)
            *bar = '\0';
        if (skipped)
            WARN(ld, loc, "include => %s: %d item(s) of its time condition are not times, days or months; skipped, "
                          "as Asterisk does", val, skipped);
        if (when.has_timezone)
            WARN(ld, loc, "include => %s: the time zone of its time condition is not honoured; dundid uses the "
                          "host's local time", val);
        char *name = val;
        while (isspace((unsigned char)*name))
            name++;
        size_t n = strlen(name);
        while (n && isspace((unsigned char)name[n - 1]))
            name[--n] = '\0';
        struct pending_include *pi = conf_grow(*inc, *ninc, sizeof(**inc));
        if (!pi)
            return;
        *inc = pi;
        pi[*ninc].ctx = st->ctx;
        pi[*ninc].when = when;
        conf_copy(pi[*ninc].name, sizeof(pi[*ninc].name), name);
        pi[(*ninc)++].loc = loc;
    } else if (!strcasecmp(k, "ignorepat")) {
        struct local_context *lc = &ld->c->contexts[st->ctx];
        if (!subst(g, v, val, sizeof(val), NULL))
            WARN(ld, loc, "ignorepat => %s: only ${GLOBAL} variables are evaluated here", v);
        context_pattern(ld, &lc->ignorepat, &lc->nignorepat, val, loc);
    } else if (!strcasecmp(k, "switch") || !strcasecmp(k, "lswitch") || !strcasecmp(k, "eswitch")) {
        WARN(ld, loc,
             "%s => %s: dundid cannot ask a switch; its lookups answer from this context without it (Asterisk asks it)",
             k, v);
    } else {
        WARN(ld, loc, "'%s' is not a dialplan line (exten, same, include, ignorepat, switch); Asterisk ignores it", k);
    }
}

/* Mappings of dundi.conf (Asterisk's) with [globals] filled in: Asterisk
 * substitutes them when it answers, dundid once here. */
static void map_globals(struct loader *ld, const struct globals *g)
{
    struct config *c = ld->c;
    char out[CONF_STR_MAX];
    for (size_t i = 0; i < c->nmaps; i++) {
        struct mapping *m = &c->maps[i];
        if (!m->asterisk)
            continue;
        if (!subst(g, m->dest, out, sizeof(out), dundi_var))
            WARN(ld, m->line, "mapping '%s': destination '%s': only ${GLOBAL} and ${NUMBER}, ${EID}, ${SECRET}, "
                              "${IPADDR} are evaluated; the rest is left as written",
                 m->dcontext, m->dest);
        else
            conf_copy(m->dest, sizeof(m->dest), out);
        if (!m->weight_expr[0])
            continue;
        if (!subst(g, m->weight_expr, out, sizeof(out), dundi_var)) {
            WARN(ld, m->line, "mapping '%s': weight '%s' cannot be evaluated here (a function or expression): it is %d",
                 m->dcontext, m->weight_expr, 59999);
            m->weight_expr[0] = '\0';
            m->weight = 59999;
            continue;
        }
        if (strstr(out, "${")) {
            conf_copy(m->weight_expr, sizeof(m->weight_expr), out);
            continue;
        }
        /* Asterisk reads the leading integer; nothing or out of range weighs the most. */
        char *end;
        long w = strtol(out, &end, 10);
        m->weight = (end == out || w < 0 || w > 59999) ? 59999 : (int)w;
        m->weight_expr[0] = '\0'; /* Asterisk substitutes [globals] in partial answers too */
    }
}

static void globals_free(struct globals *g)
{
    for (size_t i = 0; i < g->n; i++)
        free(g->value[i]);
}

void extensions_read(struct loader *ld, const struct conf_doc *doc)
{
    struct config *c = ld->c;
    struct globals *g = calloc(1, sizeof(*g));
    struct pending_include *inc = NULL;
    size_t ninc = 0;
    char val[VALUE_MAX];
    if (!g)
        return;
    bool in_globals = false;
    for (size_t i = 0; i < doc->n; i++) {
        const struct conf_item *it = &doc->items[i];
        if (it->kind == CONF_SECTION) {
            in_globals = !strcasecmp(it->name, "globals");
            continue;
        }
        if (!in_globals)
            continue;
        if (!subst(g, it->value, val, sizeof(val), NULL))
            WARN(ld, it->loc, "global %s: only ${GLOBAL} variables are evaluated here", it->name);
        if (g->n >= GLOBALS_MAX) {
            WARN(ld, it->loc, "more than %d globals: the rest are not read", GLOBALS_MAX);
            break;
        }
        g->name[g->n] = it->name;
        if (!(g->value[g->n] = strdup(val)))
            break;
        g->n++;
    }

    struct ctx_state st = {.ctx = SIZE_MAX};
    bool seen_section = false;
    for (size_t i = 0; i < doc->n; i++) {
        const struct conf_item *it = &doc->items[i];
        if (it->kind == CONF_SECTION) {
            seen_section = true;
            st = (struct ctx_state){.ctx = SIZE_MAX, .lastpri = -2};
            if (!strcasecmp(it->name, "general") || !strcasecmp(it->name, "globals"))
                continue;
            const struct local_context *have = config_find_context(c, it->name);
            if (have)
                st.ctx = (size_t)(have - c->contexts);
            else if (context_add(ld, it->name, it->loc))
                st.ctx = c->ncontexts - 1;
            continue;
        }
        if (st.ctx != SIZE_MAX)
            context_line(ld, &st, g, it->name, it->value, it->loc, &inc, &ninc);
        else if (!seen_section) /* Asterisk refuses the file */
            conf_diag_add(ld->d, &c->src, true, it->loc, "'%s' outside of any section", it->name);
    }

    for (size_t i = 0; i < ninc; i++) {
        const struct local_context *to = config_find_context(c, inc[i].name);
        struct local_context *lc = &c->contexts[inc[i].ctx];
        if (!to)
            WARN(ld, inc[i].loc,
                 "include => %s: no such context in extensions.conf; dundid finds nothing through it (a context "
                 "another Asterisk module makes, such as res_parking's parkedcalls, is unknown to dundid)",
                 inc[i].name);
        int *v = conf_grow(lc->include, lc->ninclude, sizeof(*v));
        if (!v)
            break;
        lc->include = v;
        struct dp_timing *w = conf_grow(lc->include_when, lc->ninclude, sizeof(*w));
        if (!w)
            break;
        lc->include_when = w;
        w[lc->ninclude] = inc[i].when;
        v[lc->ninclude++] = to ? (int)(to - c->contexts) : -1;
    }
    map_globals(ld, g);
    free(inc);
    globals_free(g);
    free(g);
}
