/* Asterisk's file syntax into sections and keys (see conf_text.h). The
 * rules are those of Asterisk's config.c: a line's comments go first, then
 * it is a directive (#...), a section header ([...]) or key = value. A
 * file Asterisk would refuse (no ']', an unknown template, a missing
 * #include, a key before any section) is refused; what Asterisk skips with
 * a warning is a warning here in an Asterisk file and an error in dundid's
 * own. Every count is bounded: files, depth, lines, keys after templates. */
#include "dundid/conf_text.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_SECTIONS 65536
#define DROP ((size_t)-1) /* s->cur after a refused section header */

struct item {
    uint32_t key, val; /* offsets into text */
    int loc;
    int next; /* the next item of its section, -1 at the end */
};

struct section {
    uint32_t name;
    int loc;
    bool tmpl;
    int head, tail;
};

struct st {
    const struct conf_fs *fs;
    const struct conf_text_opts *o;
    struct conf_srcmap *map;
    conf_text_diag_fn diag;
    void *u;
    char *text;
    size_t tlen, tcap;
    struct item *items;
    size_t nitems, icap;
    struct section *secs; /* secs[0]: keys before any section */
    size_t nsecs, scap;
    size_t cur;
    size_t inherited; /* keys copied from templates so far */
    bool refused;
    int stack[CONF_INCLUDE_DEPTH + 2]; /* file indices being read */
    int depth;
};

static void say(struct st *s, int loc, bool error, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void say(struct st *s, int loc, bool error, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (error)
        s->refused = true;
    s->diag(s->u, loc, error, msg);
}

/* What Asterisk skips: a warning in its files, an error in dundid's. */
#define SKIP(s, loc, ...) say(s, loc, !(s)->o->lenient, __VA_ARGS__)

static void *grow(void *v, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return v;
    size_t n = *cap ? *cap * 2 : 64;
    while (n < need)
        n *= 2;
    void *p = realloc(v, n * size);
    if (p)
        *cap = n;
    return p;
}

/* A copy of len bytes in text; UINT32_MAX when out of memory. */
static uint32_t put(struct st *s, const char *str, size_t len)
{
    char *t = grow(s->text, &s->tcap, s->tlen + len + 1, 1);
    if (!t || s->tlen + len + 1 > UINT32_MAX)
        return UINT32_MAX;
    s->text = t;
    memcpy(t + s->tlen, str, len);
    t[s->tlen + len] = '\0';
    uint32_t off = (uint32_t)s->tlen;
    s->tlen += len + 1;
    return off;
}

static bool add_item(struct st *s, size_t sec, uint32_t key, uint32_t val, int loc)
{
    if (s->nitems >= CONF_MAX_ITEMS) {
        say(s, loc, true, "more than %u keys (templates included): refused", CONF_MAX_ITEMS);
        return false;
    }
    struct item *it = grow(s->items, &s->icap, s->nitems + 1, sizeof(*it));
    if (!it) {
        say(s, loc, true, "out of memory");
        return false;
    }
    s->items = it;
    int i = (int)s->nitems++;
    it[i] = (struct item){key, val, loc, -1};
    struct section *c = &s->secs[sec];
    if (c->tail >= 0)
        it[c->tail].next = i;
    else
        c->head = i;
    c->tail = i;
    return true;
}

char *conf_trim(char *p)
{
    while (isspace((unsigned char)*p))
        p++;
    size_t n = strlen(p);
    while (n && isspace((unsigned char)p[n - 1]))
        p[--n] = '\0';
    return p;
}

/* Comments out of one line, in place: ';' to the end, ';-- --;' blocks
 * (which may span lines), '\;' kept as ';'. */
static void strip_comments(char *p, bool *in_block)
{
    char *out = p;
    while (*p) {
        if (*in_block) {
            char *end = strstr(p, "--;");
            if (!end)
                break;
            *in_block = false;
            p = end + 3;
            continue;
        }
        size_t n = strcspn(p, "\\;");
        memmove(out, p, n);
        out += n;
        p += n;
        if (!*p)
            break;
        if (p[0] == '\\') {
            if (p[1] == ';') {
                *out++ = ';';
                p += 2;
            } else {
                *out++ = *p++;
            }
        } else if (p[1] == '-' && p[2] == '-') {
            *in_block = true;
            p += 3;
        } else {
            break;
        }
    }
    *out = '\0';
}

static int find_section(const struct st *s, const char *name)
{
    for (size_t i = 1; i < s->nsecs; i++)
        if (!strcasecmp(s->text + s->secs[i].name, name))
            return (int)i;
    return -1;
}

/* [name], [name](!), [name](+), [name](a,b,!). */
static void section_line(struct st *s, char *line, int loc)
{
    char *end = strchr(line, ']');
    if (!end) {
        say(s, loc, true, "section header without ']'");
        s->cur = DROP;
        return;
    }
    *end = '\0';
    char *name = conf_trim(line + 1), *opts = NULL;
    if (end[1] == '(') {
        opts = end + 2;
        char *close = strchr(opts, ')');
        if (!close) {
            say(s, loc, true, "section [%s]: '(' without ')'", name);
            s->cur = DROP;
            return;
        }
        *close = '\0';
        if (*conf_trim(close + 1))
            SKIP(s, loc, "section [%s]: text after ')' ignored", name);
    } else if (*conf_trim(end + 1)) {
        SKIP(s, loc, "section [%s]: text after ']' ignored", name);
    }
    if (s->nsecs >= MAX_SECTIONS) {
        say(s, loc, true, "more than %d sections", MAX_SECTIONS);
        s->cur = DROP;
        return;
    }
    struct section *v = grow(s->secs, &s->scap, s->nsecs + 1, sizeof(*v));
    uint32_t off = put(s, name, strlen(name));
    if (!v || off == UINT32_MAX) {
        say(s, loc, true, "out of memory");
        s->cur = DROP;
        return;
    }
    s->secs = v;
    size_t me = s->nsecs++;
    v[me] = (struct section){off, loc, false, -1, -1};
    s->cur = me;
    for (char *o = opts, *f; o && (f = strsep(&o, ","));) {
        f = conf_trim(f);
        if (!strcmp(f, "!")) {
            s->secs[s->cur].tmpl = true;
        } else if (f[0] == '+') {
            /* Add to the section defined before under this name. */
            int prev = find_section(s, s->text + off);
            if (prev < 0 || (size_t)prev == me) {
                say(s, loc, true, "section [%s](+): no section [%s] before to add to", s->text + off, s->text + off);
                s->nsecs = me;
                s->cur = DROP;
                return;
            }
            s->nsecs = me; /* the new one is dropped: keys go to prev */
            s->cur = (size_t)prev;
        } else if (*f) {
            int base = find_section(s, f);
            if (base < 0 || (size_t)base == me || (size_t)base == s->cur) {
                say(s, loc, true, "section [%s]: template or section '%s' is not defined before this line",
                    s->text + off, f);
                s->nsecs = me;
                s->cur = DROP;
                return;
            }
            for (int i = s->secs[base].head; i >= 0; i = s->items[i].next) {
                if (++s->inherited > CONF_MAX_INHERITED) {
                    say(s, loc, true, "templates copy more than %d keys: refused", CONF_MAX_INHERITED);
                    s->cur = DROP;
                    return;
                }
                if (!add_item(s, s->cur, s->items[i].key, s->items[i].val, s->items[i].loc))
                    return;
            }
        }
    }
}

/* key = value, key => value, key += more. */
static void key_line(struct st *s, char *line, int loc)
{
    char *eq = strchr(line, '=');
    if (!eq) {
        SKIP(s, loc, "expected 'key = value' or 'key => value'%s", s->o->lenient ? "; Asterisk skips the line" : "");
        return;
    }
    bool append = eq > line && eq[-1] == '+';
    char *val = eq + 1;
    if (*val == '>')
        val++;
    *eq = '\0';
    if (append)
        eq[-1] = '\0';
    char *key = conf_trim(line);
    val = conf_trim(val);
    if (!*key) {
        SKIP(s, loc, "no key before '='");
        return;
    }
    if (s->cur == DROP)
        return; /* under a refused header: the error is said */
    if (append) {
        int last = -1;
        for (int i = s->secs[s->cur].head; i >= 0; i = s->items[i].next)
            if (!strcmp(s->text + s->items[i].key, key))
                last = i;
        if (last >= 0) {
            const char *old = s->text + s->items[last].val;
            size_t ol = strlen(old), vl = strlen(val);
            char *both = malloc(ol + vl + 1);
            if (!both) {
                say(s, loc, true, "out of memory");
                return;
            }
            memcpy(both, old, ol);
            memcpy(both + ol, val, vl + 1);
            uint32_t v = put(s, both, ol + vl);
            free(both);
            if (v != UINT32_MAX)
                s->items[last].val = v;
            return;
        }
    }
    uint32_t k = put(s, key, strlen(key)), v = put(s, val, strlen(val));
    if (k == UINT32_MAX || v == UINT32_MAX) {
        say(s, loc, true, "out of memory");
        return;
    }
    add_item(s, s->cur, k, v, loc);
}

static void read_file(struct st *s, const char *path, int from, bool optional);

struct globctx {
    struct st *s;
    int from;
    bool optional;
    int count;
};

static void glob_each(void *ctx, const char *path)
{
    struct globctx *g = ctx;
    g->count++;
    read_file(g->s, path, g->from, g->optional);
}

/* Included output of a command: read like a file named "#exec CMD". */
static void read_text(struct st *s, const char *name, char *data, size_t len, int from);

static void directive(struct st *s, char *line, int loc)
{
    char *word = line + 1, *arg = word;
    while (*arg && (unsigned char)*arg > 32)
        arg++;
    if (*arg)
        *arg++ = '\0';
    arg = conf_trim(arg);
    bool inc = !strcasecmp(word, "include"), tryinc = !strcasecmp(word, "tryinclude"), ex = !strcasecmp(word, "exec");
    if (!*word) {
        SKIP(s, loc, "a line starting with '#' is not a comment (comments start with ';')%s",
             s->o->lenient ? "; Asterisk skips it as an unknown directive" : "");
        return;
    }
    if (!inc && !tryinc && !ex) {
        SKIP(s, loc, "unknown directive '#%s'%s (comments start with ';'; the directives are #include, #tryinclude, #exec)",
             word, s->o->lenient ? " skipped, as Asterisk does" : "");
        return;
    }
    if (!*arg) {
        SKIP(s, loc, "#%s needs %s", word, ex ? "a command" : "a file name");
        return;
    }
    size_t n = strlen(arg);
    if ((arg[0] == '"' && n > 1 && arg[n - 1] == '"') || (arg[0] == '<' && n > 1 && arg[n - 1] == '>')) {
        arg[n - 1] = '\0';
        arg++;
    }
    if (ex) {
        char err[256], *data = NULL;
        size_t len = 0;
        if (!s->o->exec_ok || !s->fs->exec) {
            say(s, loc, false, "#exec %s skipped: commands run only with 'execincludes = yes' in asterisk.conf [options]%s",
                arg, s->o->lenient ? " (as Asterisk does)" : "");
            return;
        }
        if (s->fs->exec(s->fs->u, arg, CONF_FILE_MAX_BYTES, &data, &len, err, sizeof(err)) < 0) {
            say(s, loc, true, "#exec %s: %s", arg, err);
            return;
        }
        char name[300];
        snprintf(name, sizeof(name), "#exec %s", arg);
        read_text(s, name, data, len, loc);
        free(data);
        return;
    }
    char full[4096];
    if (arg[0] == '/' || !s->o->basedir || !*s->o->basedir)
        snprintf(full, sizeof(full), "%s", arg);
    else if (snprintf(full, sizeof(full), "%s/%s", s->o->basedir, arg) >= (int)sizeof(full)) {
        say(s, loc, true, "#%s: name too long", word);
        return;
    }
    if (!strpbrk(full, "*?[{") || !s->fs->glob) {
        read_file(s, full, loc, tryinc);
        return;
    }
    struct globctx g = {s, loc, tryinc, 0};
    char err[256];
    if (s->fs->glob(s->fs->u, full, glob_each, &g, err, sizeof(err)) < 0)
        say(s, loc, true, "#%s %s: %s", word, arg, err);
    else if (!g.count && inc)
        say(s, loc, true, "#include %s: no file matches", arg);
}

static void read_text(struct st *s, const char *name, char *data, size_t len, int from)
{
    if (s->depth > CONF_INCLUDE_DEPTH) {
        say(s, from, true, "#include nested more than %d levels deep", CONF_INCLUDE_DEPTH);
        return;
    }
    if (s->map->n >= CONF_MAX_FILES) {
        say(s, from, true, "more than %d files", CONF_MAX_FILES);
        return;
    }
    struct conf_srcfile *f = realloc(s->map->v, (s->map->n + 1) * sizeof(*f));
    if (!f) {
        say(s, from, true, "out of memory");
        return;
    }
    s->map->v = f;
    int idx = (int)s->map->n;
    if (!(f[idx].path = strdup(name))) {
        say(s, from, true, "out of memory");
        return;
    }
    f[idx].from = from;
    s->map->n++;
    s->stack[s->depth++] = idx;

    bool in_block = false;
    int line = 0;
    char *p = data, *end = data + len;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        line++;
        int loc = (idx << CONF_LOC_LINE_BITS) | line;
        if (line >= (1 << CONF_LOC_LINE_BITS)) {
            say(s, loc - 1, true, "more than %d lines", (1 << CONF_LOC_LINE_BITS) - 2);
            break;
        }
        if (memchr(p, '\0', n)) {
            say(s, loc, true, "not a text file (a NUL byte)");
            break;
        }
        p[n] = '\0';
        char *cur = p;
        p += n + 1;
        strip_comments(cur, &in_block);
        cur = conf_trim(cur);
        if (!*cur)
            continue;
        if (strlen(cur) > CONF_LINE_MAX) {
            say(s, loc, true, "line too long (more than %d characters)", CONF_LINE_MAX);
            continue;
        }
        if (cur[0] == '#')
            directive(s, cur, loc);
        else if (cur[0] == '[')
            section_line(s, cur, loc);
        else
            key_line(s, cur, loc);
    }
    s->depth--;
}

static void read_file(struct st *s, const char *path, int from, bool optional)
{
    for (int i = 0; i < s->depth; i++)
        if (!strcmp(s->map->v[s->stack[i]].path, path)) {
            say(s, from, true, "include loop: '%s' is already being read", path);
            return;
        }
    char err[256], *data = NULL;
    size_t len = 0;
    int rc = s->fs->read(s->fs->u, path, CONF_FILE_MAX_BYTES, &data, &len, err, sizeof(err));
    if (rc == -2 && optional)
        return;
    if (rc < 0) {
        if (from)
            say(s, from, true, "cannot include '%s': %s", path, err);
        else
            say(s, 0, true, "%s", err);
        return;
    }
    read_text(s, path, data, len, from);
    free(data);
}

int conf_text_read(struct conf_doc *doc, struct conf_srcmap *map, const struct conf_fs *fs, const char *path,
                   const struct conf_text_opts *o, conf_text_diag_fn diag, void *u)
{
    struct st s = {.fs = fs, .o = o, .map = map, .diag = diag, .u = u};
    memset(doc, 0, sizeof(*doc));
    char err[256], *data = NULL;
    size_t len = 0;
    int rc = fs->read(fs->u, path, CONF_FILE_MAX_BYTES, &data, &len, err, sizeof(err));
    if (rc == -2 && !o->must_exist)
        return 1;
    if (rc < 0) {
        diag(u, -1, true, err);
        return -1;
    }
    s.secs = grow(NULL, &s.scap, 1, sizeof(*s.secs));
    if (!s.secs) {
        free(data);
        diag(u, -1, true, "out of memory");
        return -1;
    }
    s.secs[0] = (struct section){0, 0, false, -1, -1};
    s.nsecs = 1;
    read_text(&s, path, data, len, 0);
    free(data);

    /* Out: sections in order, templates left out; pointers into text. */
    size_t n = s.nitems + s.nsecs;
    doc->items = malloc((n ? n : 1) * sizeof(*doc->items));
    if (!doc->items) {
        s.refused = true;
        diag(u, -1, true, "out of memory");
    }
    for (size_t i = 0; doc->items && i < s.nsecs; i++) {
        if (s.secs[i].tmpl)
            continue;
        if (i)
            doc->items[doc->n++] = (struct conf_item){CONF_SECTION, s.secs[i].loc, s.text + s.secs[i].name, NULL};
        for (int j = s.secs[i].head; j >= 0; j = s.items[j].next)
            doc->items[doc->n++] =
                (struct conf_item){CONF_KEY, s.items[j].loc, s.text + s.items[j].key, s.text + s.items[j].val};
    }
    doc->text = s.text;
    free(s.items);
    free(s.secs);
    return s.refused ? -1 : 0;
}

void conf_doc_free(struct conf_doc *doc)
{
    free(doc->items);
    free(doc->text);
    memset(doc, 0, sizeof(*doc));
}

void conf_srcmap_where(const struct conf_srcmap *m, int loc, char *file, size_t filelen, int *line, char *chain,
                       size_t chainlen)
{
    size_t idx = (size_t)loc >> CONF_LOC_LINE_BITS, o = 0;
    *line = loc & ((1 << CONF_LOC_LINE_BITS) - 1);
    if (chainlen)
        chain[0] = '\0';
    if (loc < 0 || idx >= m->n) {
        snprintf(file, filelen, "?");
        return;
    }
    snprintf(file, filelen, "%s", m->v[idx].path);
    /* Bounded: every file was read from an earlier one. */
    for (int from = m->v[idx].from, hops = 0; from > 0 && hops < CONF_INCLUDE_DEPTH + 2; hops++) {
        size_t fi = (size_t)from >> CONF_LOC_LINE_BITS;
        if (fi >= m->n || fi >= idx)
            break;
        int w = snprintf(chain + o, chainlen > o ? chainlen - o : 0, "%s%s:%d", o ? ", from " : " (included from ",
                         m->v[fi].path, from & ((1 << CONF_LOC_LINE_BITS) - 1));
        if (w < 0 || o + (size_t)w >= chainlen)
            break;
        o += (size_t)w;
        from = m->v[fi].from;
        idx = fi;
    }
    if (o && o + 1 < chainlen) {
        chain[o] = ')';
        chain[o + 1] = '\0';
    }
}

void conf_srcmap_free(struct conf_srcmap *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->v[i].path);
    free(m->v);
    memset(m, 0, sizeof(*m));
}
