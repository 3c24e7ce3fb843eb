/* The cache on disk (include/dundid/cachefile.h). */
#include "dundid/cachefile.h"

#include "dundid/decimal.h"

#include <stdlib.h>
#include <string.h>

#define MAGIC "# dundid cache 1"
#define NF_KEY 9
#define NF_ANSWER 6
#define FIELD_MAX DUNDI_MAX_DEST

static int fail(struct cachefile_result *res, size_t line, const char *why)
{
    res->line = line;
    snprintf(res->err, sizeof(res->err), "%s", why);
    return -1;
}

static bool num(const char *s, int64_t max, int64_t *out)
{
    uint64_t v;
    if (!dec_parse_u64(s, strlen(s), (uint64_t)max, &v))
        return false;
    *out = (int64_t)v;
    return true;
}

static bool hex32(const char *s, uint32_t *out)
{
    uint32_t v = 0;
    if (strlen(s) != 8)
        return false;
    for (int i = 0; i < 8; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return false;
        v = v << 4 | (uint32_t)d;
    }
    *out = v;
    return true;
}

/* No control characters: a string of the file is one field of one line. */
static bool printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

static size_t split(const char *line, size_t len, char f[][FIELD_MAX + 1], size_t max, bool *bad)
{
    size_t n = 0, start = 0;
    *bad = false;
    for (size_t i = 0; i <= len; i++)
        if (i == len || line[i] == '\t') {
            size_t flen = i - start;
            if (n >= max || flen > FIELD_MAX) {
                *bad = true;
                return 0;
            }
            memcpy(f[n], line + start, flen);
            f[n][flen] = '\0';
            if (!printable(f[n])) {
                *bad = true;
                return 0;
            }
            n++;
            start = i + 1;
        }
    return n;
}

static bool copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        return false;
    memcpy(dst, src, n + 1);
    return true;
}

struct parser {
    struct cache_record r;
    unsigned want; /* answers still to come for r */
    bool in_key;
    size_t keys;
};

static int key_line(struct parser *p, char f[][FIELD_MAX + 1], size_t line, struct cachefile_result *res)
{
    struct cache_record *r = &p->r;
    int64_t v;
    memset(r, 0, sizeof(*r));
    if (eid_parse(&r->peer, f[1]) < 0)
        return fail(res, line, "bad peer EID");
    if (!strcmp(f[2], "e")) {
        r->kind = 'e';
        if (!hex32(f[3], &r->crc))
            return fail(res, line, "bad path CRC");
    } else if (!strcmp(f[2], "r")) {
        r->kind = 'r';
        if (eid_parse(&r->root, f[3]) < 0)
            return fail(res, line, "bad root EID");
    } else {
        return fail(res, line, "kind is not e or r");
    }
    if (strcmp(f[4], "a") && strcmp(f[4], "h"))
        return fail(res, line, "neither an answer (a) nor a hint (h) key");
    r->hint = f[4][0] == 'h';
    if (!num(f[5], INT64_MAX / 2, &r->expires))
        return fail(res, line, "bad expiry");
    if (!f[6][0] || !copy_str(r->number, sizeof(r->number), f[6]) ||
        !copy_str(r->context, sizeof(r->context), f[7]))
        return fail(res, line, "number or context empty or too long");
    if (!num(f[8], r->hint ? 0 : CACHE_MAX_RESULTS, &v))
        return fail(res, line, "bad answer count");
    p->want = (unsigned)v;
    p->in_key = true;
    return 0;
}

static int answer_line(struct parser *p, char f[][FIELD_MAX + 1], size_t line, struct cachefile_result *res)
{
    struct dundi_answer *a = &p->r.answers[p->r.n];
    int64_t proto, flags, weight;
    memset(a, 0, sizeof(*a));
    if (eid_parse(&a->eid, f[1]) < 0 || !num(f[2], 255, &proto) || !num(f[3], 65535, &flags) ||
        !num(f[4], 65535, &weight) || !copy_str(a->dest, sizeof(a->dest), f[5]))
        return fail(res, line, "bad answer");
    a->proto = (uint8_t)proto;
    a->flags = (uint16_t)flags;
    a->weight = (uint16_t)weight;
    p->r.n++;
    p->want--;
    return 0;
}

int cachefile_parse(const char *buf, size_t len, int64_t now, bool (*put)(void *ctx, const struct cache_record *r),
                    void *ctx, struct cachefile_result *res)
{
    static const size_t room = NF_KEY;
    char f[NF_KEY][FIELD_MAX + 1];
    struct parser *p = calloc(1, sizeof(*p));
    size_t pos = 0, line = 0;
    bool ended = false, bad;
    int rc = -1;

    memset(res, 0, sizeof(*res));
    if (!p)
        return fail(res, 0, "out of memory");
    while (pos < len) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        if (!nl) {
            fail(res, line + 1, "last line not terminated (a torn write)");
            goto out;
        }
        const char *l = buf + pos;
        size_t llen = (size_t)(nl - l);
        pos += llen + 1;
        line++;
        if (ended) {
            fail(res, line, "data after the closing line");
            goto out;
        }
        if (line == 1) {
            if (llen != strlen(MAGIC) || memcmp(l, MAGIC, llen)) {
                fail(res, line, "not a dundid cache file");
                goto out;
            }
            continue;
        }
        size_t nf = split(l, llen, f, room, &bad);
        if (bad) {
            fail(res, line, "field too long, too many fields or a control character");
            goto out;
        }
        if (p->in_key && p->want) {
            if (nf != NF_ANSWER || strcmp(f[0], "A") || answer_line(p, f, line, res) < 0) {
                if (!res->line)
                    fail(res, line, "expected an A line");
                goto out;
            }
        } else if (nf == NF_KEY && !strcmp(f[0], "K")) {
            if (key_line(p, f, line, res) < 0)
                goto out;
            p->keys++;
        } else if (nf == 2 && !strcmp(f[0], "E")) {
            int64_t count;
            if (!num(f[1], INT64_MAX / 2, &count) || (size_t)count != p->keys) {
                fail(res, line, "closing count does not match the keys");
                goto out;
            }
            ended = true;
        } else {
            fail(res, line, "expected K, A or E");
            goto out;
        }
        if (p->in_key && !p->want) { /* a whole key */
            p->in_key = false;
            if (p->r.expires <= now)
                res->expired++;
            else if (put(ctx, &p->r))
                res->keys++;
        }
    }
    if (!ended) {
        fail(res, line + 1, "no closing line (a torn write)");
        goto out;
    }
    rc = 0;
out:
    free(p);
    return rc;
}

struct writer {
    FILE *f;
    int64_t now;
    long n;
    struct cachefile_result *res;
};

static void write_key(void *ctx, const struct cache_view *v)
{
    struct writer *w = ctx;
    char peer[EID_STR_LEN], where[EID_STR_LEN], owner[EID_STR_LEN];
    struct dundi_answer a;
    bool ok = printable(v->number) && printable(v->context) && v->number[0] &&
              strlen(v->number) <= DUNDI_MAX_NUMBER && strlen(v->context) <= DUNDI_MAX_NUMBER &&
              v->n_answers <= CACHE_MAX_RESULTS;
    for (unsigned i = 0; ok && i < v->n_answers; i++) {
        cache_view_answer(v, i, &a);
        ok = printable(a.dest);
    }
    if (!ok) {
        w->res->skipped++;
        return;
    }
    if (v->kind == 'e')
        snprintf(where, sizeof(where), "%08x", (unsigned)v->crc);
    else
        eid_to_str(&v->root, where);
    fprintf(w->f, "K\t%s\t%c\t%s\t%c\t%lld\t%s\t%s\t%u\n", eid_to_str(&v->peer, peer), v->kind, where,
            v->hint ? 'h' : 'a', (long long)(w->now + v->expires_in), v->number, v->context, v->hint ? 0 : v->n_answers);
    for (unsigned i = 0; !v->hint && i < v->n_answers; i++) {
        cache_view_answer(v, i, &a);
        fprintf(w->f, "A\t%s\t%u\t%u\t%u\t%s\n", eid_to_str(&a.eid, owner), a.proto, a.flags, a.weight, a.dest);
    }
    w->n++;
}

long cachefile_write(FILE *f, const struct cache *c, int64_t now, struct cachefile_result *res)
{
    struct writer w = {f, now, 0, res};
    memset(res, 0, sizeof(*res));
    fprintf(f, "%s\n", MAGIC);
    cache_foreach(c, now, write_key, &w);
    cache_foreach_hint(c, now, write_key, &w);
    fprintf(f, "E\t%ld\n", w.n);
    return ferror(f) ? -1 : w.n;
}
