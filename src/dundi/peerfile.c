/* Dynamic peers' registrations on disk (include/dundid/peerfile.h). */
#include "dundid/peerfile.h"

#include "dundid/decimal.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>

#define MAGIC "# dundid peers 1"
#define FIELD_MAX 64

static int fail(struct peerfile_result *res, size_t line, const char *why)
{
    res->line = line;
    snprintf(res->err, sizeof(res->err), "%s", why);
    return -1;
}

static bool parse_num(const char *s, int64_t *out)
{
    uint64_t v;
    if (!dec_parse_u64(s, strlen(s), INT64_MAX / 2, &v))
        return false;
    *out = (int64_t)v;
    return true;
}

/* Split a line (without its '\n') at TABs into up to max fields. */
static size_t split(const char *line, size_t len, char f[][FIELD_MAX + 1], size_t max, bool *too_long)
{
    size_t n = 0, start = 0;
    *too_long = false;
    for (size_t i = 0; i <= len && n < max + 1; i++)
        if (i == len || line[i] == '\t') {
            size_t flen = i - start;
            if (n < max) {
                if (flen > FIELD_MAX) {
                    *too_long = true;
                    return 0;
                }
                memcpy(f[n], line + start, flen);
                f[n][flen] = '\0';
            }
            n++;
            start = i + 1;
        }
    return n;
}

static bool parse_addr(const char *ip, const char *port, struct dundi_addr *a)
{
    int64_t p;
    memset(a, 0, sizeof(*a));
    if (!parse_num(port, &p) || p < 1 || p > 65535)
        return false;
    struct sockaddr_in *s4 = (struct sockaddr_in *)&a->ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a->ss;
    if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)p);
        a->len = sizeof(*s4);
        return true;
    }
    if (inet_pton(AF_INET6, ip, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)p);
        a->len = sizeof(*s6);
        return true;
    }
    return false;
}

int peerfile_parse(const char *buf, size_t len, int64_t now, struct peerfile_entry *out, size_t max,
                   struct peerfile_result *res)
{
    memset(res, 0, sizeof(*res));
    size_t pos = 0, line = 0, seen = 0;
    bool ended = false;
    while (pos < len) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        if (!nl)
            return fail(res, line + 1, "last line not terminated (a torn write)");
        size_t llen = (size_t)(nl - (buf + pos));
        const char *l = buf + pos;
        pos += llen + 1;
        line++;
        if (ended)
            return fail(res, line, "data after the closing line");
        if (line == 1) {
            if (llen != strlen(MAGIC) || memcmp(l, MAGIC, llen))
                return fail(res, line, "not a dundid peers file");
            continue;
        }
        char f[6][FIELD_MAX + 1];
        bool too_long;
        size_t nf = split(l, llen, f, 6, &too_long);
        if (too_long)
            return fail(res, line, "field too long");
        if (nf == 2 && !strcmp(f[0], "E")) {
            int64_t count;
            if (!parse_num(f[1], &count) || (size_t)count != seen)
                return fail(res, line, "closing count does not match the entries");
            ended = true;
            continue;
        }
        if (nf != 5 || strcmp(f[0], "R"))
            return fail(res, line, "expected R EID ADDRESS PORT EXPIRES or E COUNT");
        struct peerfile_entry e;
        if (eid_parse(&e.eid, f[1]) < 0)
            return fail(res, line, "bad EID");
        if (!parse_addr(f[2], f[3], &e.addr))
            return fail(res, line, "bad address or port");
        if (!parse_num(f[4], &e.expires))
            return fail(res, line, "bad expiry");
        if (++seen > PEERFILE_MAX_ENTRIES)
            return fail(res, line, "too many entries");
        if (e.expires <= now) {
            res->expired++;
            continue;
        }
        if (res->n >= max)
            return fail(res, line, "more entries than room");
        out[res->n++] = e;
    }
    if (!ended)
        return fail(res, line + 1, "no closing line (a torn write)");
    return 0;
}

long peerfile_write(FILE *f, const struct peerfile_entry *v, size_t n)
{
    char eid[EID_STR_LEN], ip[INET6_ADDRSTRLEN];
    fprintf(f, "%s\n", MAGIC);
    for (size_t i = 0; i < n; i++) {
        const struct sockaddr_storage *ss = &v[i].addr.ss;
        const void *a = ss->ss_family == AF_INET6 ? (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr
                                                   : (const void *)&((const struct sockaddr_in *)ss)->sin_addr;
        unsigned port = ntohs(ss->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)ss)->sin6_port
                                                        : ((const struct sockaddr_in *)ss)->sin_port);
        if (!inet_ntop(ss->ss_family, a, ip, sizeof(ip)))
            return -1;
        fprintf(f, "R\t%s\t%s\t%u\t%lld\n", eid_to_str(&v[i].eid, eid), ip, port, (long long)v[i].expires);
    }
    fprintf(f, "E\t%zu\n", n);
    return ferror(f) ? -1 : (long)n;
}
