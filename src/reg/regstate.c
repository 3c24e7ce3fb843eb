/* Reading and writing the registration state file. The parser is pure; the
 * load/save wrappers below it do the file I/O. */
#include "dundid/regstate.h"
#include "dundid/statefile.h"

#include "dundid/decimal.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC_V1 "# dundid registrations 1"
#define MAGIC "# dundid registrations 2"
#define NFIELDS 10 /* B ext registrar contact source expires updated feed ua vouchers */

static int fail(struct regstate_result *res, size_t line, const char *why)
{
    res->line = line;
    snprintf(res->err, sizeof(res->err), "line %zu: %s", line, why);
    return -1;
}

static bool parse_i64(const char *s, size_t n, int64_t *out)
{
    uint64_t v;
    if (!dec_parse_u64(s, n, INT64_MAX, &v))
        return false;
    *out = (int64_t)v;
    return true;
}

/* Split one line (without its newline) at TABs into fields copied to bufs. */
static int split(const char *line, size_t len, char fields[NFIELDS][REG_CONTACT_MAX + 1], size_t *lens)
{
    size_t nf = 0, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && line[i] != '\t') {
            if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
                return -1;
            continue;
        }
        size_t n = i - start;
        if (nf >= NFIELDS || n > REG_CONTACT_MAX)
            return -1;
        memcpy(fields[nf], line + start, n);
        fields[nf][n] = '\0';
        lens[nf++] = n;
        start = i + 1;
    }
    return (int)nf;
}

/* "feed:seen,feed:seen": the feeds that vouch for a binding and when each
 * last confirmed it, in seen[] (0 = not vouching). The binding's own feed
 * must be one of them. */
static bool parse_vouchers(const char *s, size_t n, int feed, int64_t seen[REG_FEED_COUNT])
{
    memset(seen, 0, REG_FEED_COUNT * sizeof(*seen));
    size_t i = 0;
    while (i < n) {
        size_t colon = i, end;
        while (colon < n && s[colon] != ':')
            colon++;
        for (end = colon; end < n && s[end] != ','; end++)
            ;
        char name[16];
        int64_t t;
        if (colon == n || colon - i >= sizeof(name) || !parse_i64(s + colon + 1, end - colon - 1, &t) || t <= 0)
            return false;
        memcpy(name, s + i, colon - i);
        name[colon - i] = '\0';
        int f = reg_feed_parse(name);
        if (f < 0 || seen[f])
            return false;
        seen[f] = t;
        i = end + (end < n); /* past the comma; a trailing one is an empty item */
        if (end < n && i == n)
            return false;
    }
    return seen[feed] != 0;
}

/* Put one binding in the table as its vouchers say: each feed confirms it at
 * its time (never later than now), oldest first, its own feed last. */
static bool restore(struct regtable *rt, const struct reg_update *base, const int64_t seen[REG_FEED_COUNT],
                    int64_t updated, int64_t now)
{
    bool done[REG_FEED_COUNT] = {false};
    done[base->feed] = true;
    for (;;) {
        int next = -1;
        for (int f = 0; f < REG_FEED_COUNT; f++)
            if (!done[f] && seen[f] && (next < 0 || seen[f] < seen[next]))
                next = f;
        struct reg_update u = *base;
        int64_t at = next < 0 ? updated : seen[next];
        if (next >= 0) {
            u.feed = (enum reg_feed)next;
            done[next] = true;
        }
        if (regtable_apply(rt, &u, at < now ? at : now) != 0)
            return false;
        if (next < 0)
            return true;
    }
}

/* One pass over the file: validate only, or apply. Version 1 files (no
 * vouchers, no departures) are still read: each binding has its one feed. */
static int pass(const char *buf, size_t len, struct regtable *rt, int64_t now, struct regstate_result *res, bool apply)
{
    static char f[NFIELDS][REG_CONTACT_MAX + 1];
    size_t flen[NFIELDS];
    size_t pos = 0, lineno = 0, count = 0, ndep = 0;
    bool ended = false, v1 = false;

    while (pos < len) {
        const char *line = buf + pos;
        const char *nl = memchr(line, '\n', len - pos);
        if (!nl)
            return fail(res, lineno + 1, "truncated (no newline at the end)");
        size_t n = (size_t)(nl - line);
        pos += n + 1;
        lineno++;
        if (ended)
            return fail(res, lineno, "data after the end line");
        if (lineno == 1) {
            v1 = n == strlen(MAGIC_V1) && !memcmp(line, MAGIC_V1, n);
            if (!v1 && (n != strlen(MAGIC) || memcmp(line, MAGIC, n)))
                return fail(res, lineno, "not a dundid registration state file (version 1 or 2)");
            continue;
        }
        int nf = split(line, n, f, flen);
        if (nf == (v1 ? 2 : 3) && !strcmp(f[0], "E")) {
            int64_t want, wantd = 0;
            if (!parse_i64(f[1], flen[1], &want) || (size_t)want != count ||
                (!v1 && (!parse_i64(f[2], flen[2], &wantd) || (size_t)wantd != ndep)))
                return fail(res, lineno, "the end line's count does not match the bindings");
            ended = true;
            continue;
        }
        if (!v1 && nf == 6 && !strcmp(f[0], "D")) {
            int64_t until, at;
            if (!flen[1] || flen[1] > REG_EXT_MAX || !flen[2] || flen[2] > REG_REGISTRAR_MAX)
                return fail(res, lineno, "a field is empty or too long");
            if (!parse_i64(f[4], flen[4], &until) || !parse_i64(f[5], flen[5], &at))
                return fail(res, lineno, "until and at must be epoch seconds");
            ndep++;
            struct reg_departure d = {f[1], f[2], f[3], until, at};
            if (apply && until > now && regtable_add_departure(rt, &d) == 0)
                res->departures++;
            continue;
        }
        int64_t expires, updated, seen[REG_FEED_COUNT] = {0};
        int feed;
        if (nf != (v1 ? NFIELDS - 1 : NFIELDS) || strcmp(f[0], "B"))
            return fail(res, lineno,
                        v1 ? "expected a binding (B and 8 fields) or the end line (E count)"
                           : "expected a binding (B and 9 fields), a departure (D and 5) or the end line (E and 2)");
        if (!flen[1] || flen[1] > REG_EXT_MAX || !flen[2] || flen[2] > REG_REGISTRAR_MAX || !flen[3] ||
            flen[4] > REG_SOURCE_MAX || flen[8] > REG_UA_MAX)
            return fail(res, lineno, "a field is empty or too long");
        if (!parse_i64(f[5], flen[5], &expires) || !parse_i64(f[6], flen[6], &updated))
            return fail(res, lineno, "expires and updated must be epoch seconds");
        if ((feed = reg_feed_parse(f[7])) < 0)
            return fail(res, lineno, "unknown feed");
        if (!v1 && !parse_vouchers(f[9], flen[9], feed, seen))
            return fail(res, lineno, "bad vouchers (feed:seen, comma-separated, the binding's feed among them)");
        count++;
        if (!apply)
            continue;
        if (expires <= now) {
            res->expired++;
            continue;
        }
        struct reg_update u = {f[1], f[3], f[2], f[4], f[8], expires, (enum reg_feed)feed};
        if (restore(rt, &u, seen, updated, now))
            res->loaded++;
    }
    if (!lineno)
        return fail(res, 1, "empty file");
    if (!ended)
        return fail(res, lineno, "truncated (no end line)");
    return 0;
}

int regstate_parse(const char *buf, size_t len, struct regtable *rt, int64_t now, struct regstate_result *res)
{
    memset(res, 0, sizeof(*res));
    if (!rt)
        return pass(buf, len, NULL, now, res, false);
    regtable_reserve(rt, len / 100); /* a binding line is about 100 bytes or more */
    return pass(buf, len, rt, now, res, true);
}

struct write_ctx {
    FILE *f;
    long n, nd;
};

static bool write_one(void *ctx, const struct reg_binding *b)
{
    struct write_ctx *w = ctx;
    fprintf(w->f, "B\t%s\t%s\t%s\t%s\t%" PRId64 "\t%" PRId64 "\t%s\t%s\t", b->ext, b->registrar, b->contact,
            b->source, b->expires, b->updated, reg_feed_name(b->feed), b->user_agent);
    const char *sep = "";
    for (int f = 0; f < REG_FEED_COUNT; f++)
        if (reg_binding_vouched(b, (enum reg_feed)f)) {
            fprintf(w->f, "%s%s:%" PRId64, sep, reg_feed_name((enum reg_feed)f), b->seen[f] > 0 ? b->seen[f] : 1);
            sep = ",";
        }
    fputc('\n', w->f);
    w->n++;
    return true;
}

static bool write_departure(void *ctx, const struct reg_departure *d)
{
    struct write_ctx *w = ctx;
    fprintf(w->f, "D\t%s\t%s\t%s\t%" PRId64 "\t%" PRId64 "\n", d->ext, d->registrar, d->contact, d->until, d->at);
    w->nd++;
    return true;
}

long regstate_write(FILE *f, const struct regtable *rt)
{
    struct write_ctx w = {f, 0, 0};
    fprintf(f, "%s\n", MAGIC);
    regtable_foreach(rt, write_one, &w);
    regtable_foreach_departure(rt, write_departure, &w);
    fprintf(f, "E\t%ld\t%ld\n", w.n, w.nd);
    return ferror(f) ? -1 : w.n;
}

struct load_ctx {
    struct regtable *rt;
    int64_t now;
    struct regstate_result *res;
};

static int parse_all(void *ctx, const char *buf, size_t len)
{
    struct load_ctx *l = ctx;
    return regstate_parse(buf, len, l->rt, l->now, l->res);
}

int regstate_load(const char *path, struct regtable *rt, int64_t now, struct regstate_result *res)
{
    struct load_ctx l = {rt, now, res};
    memset(res, 0, sizeof(*res));
    int rc = statefile_load(path, REGSTATE_MAX_BYTES, parse_all, &l, res->err, sizeof(res->err));
    if (rc < 0 && !res->line && !strcmp(res->err, "empty file"))
        res->line = 1;
    return rc > 0 ? 0 : rc;
}

static long write_all(void *ctx, FILE *f) { return regstate_write(f, ctx); }

int regstate_save(const char *path, const struct regtable *rt, char *err, size_t errlen)
{
    return statefile_save(path, write_all, (void *)rt, err, errlen);
}
