/* Feeds inih one cleaned-up line at a time. inih splits sections and
 * key = value; this file adds what Asterisk's syntax needs on top. */
#include "dundid/conf_reader.h"

#include <ctype.h>
#include <ini.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* An escaped ';' travels through inih as this byte, so inih's own comment
 * handling cannot cut the value; it is turned back into ';' for the handler. */
#define ESCAPED_SEMI '\x01'

struct reader {
    FILE *f;
    const struct conf_reader_ops *ops;
    void *user;
    int line;
    bool in_block;
    bool skip; /* after a rejected section header: drop its keys */
    char *buf;
    size_t bufcap;
};

/* Remove comments in place: ';' to end of line, ';-- ... --;' blocks. The
 * scans are libc's (strstr, strcspn): the per-character work of a line is
 * what the fuzzer runs most. */
static void strip_comments(struct reader *r, char *s)
{
    char *out = s, *p = s;
    for (;;) {
        if (r->in_block) {
            char *end = strstr(p, "--;");
            if (!end)
                break;
            r->in_block = false;
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
                *out++ = ESCAPED_SEMI;
                p += 2;
            } else {
                *out++ = *p++;
            }
        } else if (p[1] == '-' && p[2] == '-') {
            r->in_block = true;
            p += 3;
        } else {
            break; /* ';' to the end of the line */
        }
    }
    *out = '\0';
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

static void unescape(char *dst, const char *src, size_t cap)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
    for (char *e = memchr(dst, ESCAPED_SEMI, n); e; e = strchr(e + 1, ESCAPED_SEMI))
        *e = ';';
}

static char *next_line(char *str, int num, void *stream)
{
    struct reader *r = stream;
    for (;;) {
        ssize_t got = getline(&r->buf, &r->bufcap, r->f);
        if (got < 0)
            return NULL;
        r->line++;
        strip_comments(r, r->buf);
        char *s = trim(r->buf);
        if (!*s)
            continue; /* blank: nothing for inih to see */
        if (s[0] == '#') {
            r->ops->error(r->user, "#include and #exec are not supported; merge the file in", r->line);
            continue;
        }
        if (s[0] == '[') {
            char *end = strchr(s, ']');
            if (!end) {
                r->ops->error(r->user, "section header without ']'", r->line);
                r->skip = true;
                continue;
            }
            if (end[1]) {
                r->ops->error(r->user, "section templates '[name](template)' are not supported", r->line);
                r->skip = true;
                continue;
            }
            *end = '\0';
            char name[256];
            unescape(name, trim(s + 1), sizeof(name));
            r->skip = false;
            r->ops->section(r->user, name, r->line);
            continue; /* sections are tracked here, with their line numbers */
        }
        if (!strchr(s, '=')) {
            r->ops->error(r->user, "expected 'key = value' or 'key => value'", r->line);
            continue;
        }
        size_t n = strlen(s);
        if (n + 2 > (size_t)num) {
            r->ops->error(r->user, "line too long", r->line);
            continue;
        }
        memcpy(str, s, n);
        memcpy(str + n, "\n", 2);
        return str;
    }
}

static int on_keyval(void *user, const char *section, const char *name, const char *value)
{
    struct reader *r = user;
    char key[256], val[1024];
    (void)section;
    if (r->skip)
        return 1;
    /* "a => b" reaches us as key "a", value "> b". */
    if (value[0] == '>')
        value++;
    while (isspace((unsigned char)*value))
        value++;
    unescape(key, name, sizeof(key));
    unescape(val, value, sizeof(val));
    r->ops->keyval(r->user, key, val, r->line);
    return 1;
}

int conf_read(FILE *f, const struct conf_reader_ops *ops, void *user)
{
    struct reader r = {.f = f, .ops = ops, .user = user};
    int rc = ini_parse_stream(next_line, &r, on_keyval, &r);
    free(r.buf);
    if (rc > 0)
        ops->error(user, "syntax error", r.line);
    return ferror(f) ? -1 : 0;
}
