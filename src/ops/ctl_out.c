/* Command output buffer and JSON writer (ctl_out.h). */
#include "dundid/ctl_out.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ctl_out_init(struct ctl_out *o, size_t limit, bool json)
{
    memset(o, 0, sizeof(*o));
    o->limit = limit;
    o->json = json;
}

void ctl_out_free(struct ctl_out *o)
{
    free(o->buf);
    o->buf = NULL;
    o->len = o->cap = 0;
}

static bool reserve(struct ctl_out *o, size_t n)
{
    if (o->full)
        return false;
    if (o->len + n > o->limit) {
        o->full = true;
        return false;
    }
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 4096;
        while (cap < o->len + n + 1)
            cap *= 2;
        char *b = realloc(o->buf, cap);
        if (!b) {
            o->full = true;
            return false;
        }
        o->buf = b;
        o->cap = cap;
    }
    return true;
}

void ctl_write(struct ctl_out *o, const char *s, size_t n)
{
    if (!reserve(o, n))
        return;
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

void ctl_printf(struct ctl_out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(o, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(o->buf + o->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    o->len += (size_t)n;
}

static void put_string(struct ctl_out *o, const char *s)
{
    ctl_write(o, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            char e[2] = {'\\', (char)*p};
            ctl_write(o, e, 2);
        } else if (*p < 0x20 || *p >= 0x7f) {
            /* Bytes beyond ASCII are shown as code points, so the output is always valid. */
            ctl_printf(o, "\\u%04x", *p);
        } else {
            ctl_write(o, (const char *)p, 1);
        }
    }
    ctl_write(o, "\"", 1);
}

/* Comma, line break inside arrays, and the key. */
static void member(struct ctl_out *o, const char *key)
{
    if (o->depth) {
        if (o->comma[o->depth - 1])
            ctl_write(o, ",", 1);
        o->comma[o->depth - 1] = true;
        if (o->closer[o->depth - 1] == ']')
            ctl_write(o, "\n", 1);
    }
    if (key) {
        put_string(o, key);
        ctl_write(o, ":", 1);
    }
}

static void open_level(struct ctl_out *o, const char *key, char opener, char closer)
{
    member(o, key);
    ctl_write(o, &opener, 1);
    if (o->depth < CTL_JSON_DEPTH) {
        o->closer[o->depth] = closer;
        o->comma[o->depth] = false;
        o->depth++;
    } else {
        o->full = true; /* deeper than any command nests: a bug, never shown half-done */
    }
}

void cj_obj(struct ctl_out *o, const char *key) { open_level(o, key, '{', '}'); }
void cj_arr(struct ctl_out *o, const char *key) { open_level(o, key, '[', ']'); }

void cj_end(struct ctl_out *o)
{
    if (!o->depth)
        return;
    o->depth--;
    ctl_write(o, &o->closer[o->depth], 1);
    if (!o->depth)
        ctl_write(o, "\n", 1);
}

void cj_str(struct ctl_out *o, const char *key, const char *val)
{
    member(o, key);
    put_string(o, val ? val : "");
}

void cj_int(struct ctl_out *o, const char *key, long long val)
{
    member(o, key);
    ctl_printf(o, "%lld", val);
}

void cj_bool(struct ctl_out *o, const char *key, bool val)
{
    member(o, key);
    ctl_printf(o, "%s", val ? "true" : "false");
}

void cj_null(struct ctl_out *o, const char *key)
{
    member(o, key);
    ctl_write(o, "null", 4);
}
