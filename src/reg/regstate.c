/* Reading and writing the registration state file. The parser is pure; the
 * load/save wrappers below it do the file I/O. */
#include "dundid/regstate.h"
#include "dundid/statefile.h"

#include "dundid/decimal.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC "# dundid registrations 1"
#define NFIELDS 9 /* B ext registrar contact source expires updated feed ua */

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

/* One pass over the file: validate only, or apply. */
static int pass(const char *buf, size_t len, struct regtable *rt, int64_t now, struct regstate_result *res, bool apply)
{
    static char f[NFIELDS][REG_CONTACT_MAX + 1];
    size_t flen[NFIELDS];
    size_t pos = 0, lineno = 0, count = 0;
    bool ended = false;

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
            if (n != strlen(MAGIC) || memcmp(line, MAGIC, n))
                return fail(res, lineno, "not a dundid registration state file (version 1)");
            continue;
        }
        int nf = split(line, n, f, flen);
        if (nf == 2 && !strcmp(f[0], "E")) {
            int64_t want;
            if (!parse_i64(f[1], flen[1], &want) || (size_t)want != count)
                return fail(res, lineno, "the end line's count does not match the bindings");
            ended = true;
            continue;
        }
        int64_t expires, updated;
        int feed;
        if (nf != NFIELDS || strcmp(f[0], "B"))
            return fail(res, lineno, "expected a binding (B and 8 fields) or the end line (E count)");
        if (!flen[1] || flen[1] > REG_EXT_MAX || !flen[2] || flen[2] > REG_REGISTRAR_MAX || !flen[3] ||
            flen[4] > REG_SOURCE_MAX || flen[8] > REG_UA_MAX)
            return fail(res, lineno, "a field is empty or too long");
        if (!parse_i64(f[5], flen[5], &expires) || !parse_i64(f[6], flen[6], &updated))
            return fail(res, lineno, "expires and updated must be epoch seconds");
        if ((feed = reg_feed_parse(f[7])) < 0)
            return fail(res, lineno, "unknown feed");
        count++;
        if (!apply)
            continue;
        if (expires <= now) {
            res->expired++;
            continue;
        }
        struct reg_update u = {f[1], f[3], f[2], f[4], f[8], expires, (enum reg_feed)feed};
        if (regtable_apply(rt, &u, updated < now ? updated : now) == 0)
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
    long n;
};

static bool write_one(void *ctx, const struct reg_binding *b)
{
    struct write_ctx *w = ctx;
    fprintf(w->f, "B\t%s\t%s\t%s\t%s\t%" PRId64 "\t%" PRId64 "\t%s\t%s\n", b->ext, b->registrar, b->contact,
            b->source, b->expires, b->updated, reg_feed_name(b->feed), b->user_agent);
    w->n++;
    return true;
}

long regstate_write(FILE *f, const struct regtable *rt)
{
    struct write_ctx w = {f, 0};
    fprintf(f, "%s\n", MAGIC);
    regtable_foreach(rt, write_one, &w);
    fprintf(f, "E\t%ld\n", w.n);
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
