/* libFuzzer target: the RealTime row decoder. Input: a schema byte ('P' =
 * pjsip, anything else chan_sip), then the columns separated by '\n'; a
 * column "\N" is SQL NULL (as mysql's text dumps write it). A decoded row
 * must hold bounded, NUL-terminated strings that satisfy the decoder's rules.
 * With 'p' or 'c' (pjsip, chan_sip) the first line is the table's column
 * names, separated by ',': they are matched by name first (a needed one
 * missing must be an error naming it) and the fields are the matched ones. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dundid/realtime_row.h"

static void check_str(const char *s, size_t cap)
{
    if (!memchr(s, '\0', cap))
        abort();
}

/* The column-name line: returns where the fields start, or NULL to stop. */
static const char *by_name(enum rt_schema s, const char *p, const char *end, struct rt_columns *c)
{
    char buf[1024], *names[64];
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t len = (size_t)((nl ? nl : end) - p), n = 0;
    if (len >= sizeof(buf))
        return NULL;
    memcpy(buf, p, len);
    buf[len] = '\0';
    for (char *q = buf, *comma; n < 64; q = comma + 1) {
        names[n++] = q;
        if (!(comma = strchr(q, ',')))
            break;
        *comma = '\0';
    }
    char err[200], sel[512];
    if (rt_columns_resolve(s, (const char *const *)names, n, c, err, sizeof(err)) < 0) {
        if (!memchr(err, '\0', sizeof(err)) || !strstr(err, "needs it"))
            abort();
        return NULL;
    }
    if (c->n > rt_row_ncols(s))
        abort();
    unsigned seen = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (c->col[i] >= rt_row_ncols(s) || seen >> c->col[i] & 1u)
            abort();
        seen |= 1u << c->col[i];
    }
    for (size_t i = 0; i < rt_row_ncols(s); i++)
        if (rt_row_column_needed(s, i) && !(seen >> i & 1u))
            abort();
    if (rt_columns_select(s, c, sel, sizeof(sel)) < 0)
        abort();
    return nl ? nl + 1 : end;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rt_field f[RT_MAX_COLS + 2];
    struct rt_row r;
    struct rt_columns c;
    if (size < 1)
        return 0;
    bool named = data[0] == 'p' || data[0] == 'c';
    enum rt_schema s = data[0] == 'P' || data[0] == 'p' ? RT_SCHEMA_PJSIP : RT_SCHEMA_CHAN_SIP;
    const char *p = (const char *)data + 1, *end = (const char *)data + size;
    if (named && !(p = by_name(s, p, end, &c)))
        return 0;
    size_t n = 0;
    while (n < RT_MAX_COLS + 2) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end;
        f[n].data = p;
        f[n].len = (size_t)(stop - p);
        f[n].null = f[n].len == 2 && p[0] == '\\' && p[1] == 'N';
        n++;
        if (!nl)
            break;
        p = nl + 1;
    }
    int rc = named ? rt_row_decode_cols(s, &c, f, n, &r) : rt_row_decode(s, f, n, &r);
    (void)rt_row_strerror(rc);
    if (rc < 0)
        return 0;
    check_str(r.ext, sizeof(r.ext));
    check_str(r.contact, sizeof(r.contact));
    check_str(r.regserver, sizeof(r.regserver));
    check_str(r.source, sizeof(r.source));
    check_str(r.user_agent, sizeof(r.user_agent));
    if (!r.ext[0] || strpbrk(r.ext, "@/;, \t\r\n") || r.expires < 0)
        abort();
    if (rc == RT_ROW_OK && (r.expires == 0 || (strncasecmp(r.contact, "sip:", 4) && strncasecmp(r.contact, "sips:", 5))))
        abort();
    return 0;
}
