/* Control protocol: request tokenising and response framing (ctl_proto.h). */
#include "dundid/ctl_proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ctl_parse(const char *line, size_t len, struct ctl_request *rq, char *err, size_t errlen)
{
    memset(rq, 0, sizeof(*rq));
    if (len && line[len - 1] == '\r')
        len--;
    if (len > CTL_LINE_MAX) {
        snprintf(err, errlen, "request longer than %d bytes", CTL_LINE_MAX);
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)line[i];
        if ((ch < 0x20 && ch != '\t') || ch >= 0x7f) {
            snprintf(err, errlen, "request has a control or non-ASCII byte (0x%02x) at offset %zu", ch, i);
            return -1;
        }
    }
    memcpy(rq->buf, line, len);
    rq->buf[len] = '\0';

    char *p = rq->buf;
    int n = 0;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            *p++ = '\0';
        if (!*p)
            break;
        if (n == CTL_MAX_WORDS) {
            snprintf(err, errlen, "more than %d words", CTL_MAX_WORDS);
            return -1;
        }
        char *w = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        if ((size_t)(p - w) > CTL_WORD_MAX) {
            snprintf(err, errlen, "a word is longer than %d characters", CTL_WORD_MAX);
            return -1;
        }
        rq->argv[n++] = w;
    }
    int first = 0;
    if (n && !strcmp(rq->argv[0], "--json")) {
        rq->json = true;
        first = 1;
    }
    if (n == first) {
        snprintf(err, errlen, "empty request");
        return -1;
    }
    memmove(rq->argv, rq->argv + first, (size_t)(n - first) * sizeof(char *));
    rq->argc = n - first;
    rq->argv[rq->argc] = NULL;
    return 0;
}

char *ctl_frame(const char *out, size_t len, bool ok, const char *reason, size_t *framed_len)
{
    /* Worst case: every line is "." (doubling), plus newline, status, terminator. */
    size_t cap = 2 * len + 1 + CTL_REASON_MAX + 16;
    char *f = malloc(cap);
    if (!f)
        return NULL;
    size_t n = 0;
    bool bol = true;
    for (size_t i = 0; i < len; i++) {
        if (bol && out[i] == '.')
            f[n++] = '.';
        f[n++] = out[i];
        bol = out[i] == '\n';
    }
    if (!bol)
        f[n++] = '\n';
    if (ok) {
        memcpy(f + n, "OK\n", 3);
        n += 3;
    } else {
        memcpy(f + n, "ERR ", 4);
        n += 4;
        for (size_t i = 0; reason && reason[i] && i < CTL_REASON_MAX; i++)
            f[n++] = reason[i] == '\n' || reason[i] == '\r' ? ' ' : reason[i];
        f[n++] = '\n';
    }
    memcpy(f + n, ".\n", 2);
    n += 2;
    *framed_len = n;
    return f;
}

bool ctl_response_complete(const char *buf, size_t len)
{
    /* Stuffing makes the first line that is exactly "." the terminator. */
    return (len == 2 && !memcmp(buf, ".\n", 2)) || (len >= 3 && !memcmp(buf + len - 3, "\n.\n", 3));
}

int ctl_parse_response(const char *buf, size_t len, struct ctl_response *r)
{
    memset(r, 0, sizeof(*r));
    r->out = malloc(len + 1);
    if (!r->out)
        return -1;
    const char *status = NULL;
    size_t status_len = 0;
    size_t i = 0;
    bool done = false;
    while (i < len && !done) {
        const char *nl = memchr(buf + i, '\n', len - i);
        if (!nl)
            break; /* an unterminated last line */
        const char *line = buf + i;
        size_t ll = (size_t)(nl - line);
        i += ll + 1;
        if (ll == 1 && line[0] == '.') {
            done = true;
            break;
        }
        /* The line before held the status candidate: it was output after all. */
        if (status) {
            memcpy(r->out + r->outlen, status, status_len);
            r->outlen += status_len;
            r->out[r->outlen++] = '\n';
        }
        if (ll && line[0] == '.') {
            line++;
            ll--;
        }
        status = line;
        status_len = ll;
    }
    r->out[r->outlen] = '\0';
    if (!done || i != len || !status)
        goto bad;
    if (status_len == 2 && !memcmp(status, "OK", 2)) {
        r->ok = true;
        return 0;
    }
    if (status_len >= 4 && !memcmp(status, "ERR ", 4) && status_len - 4 <= CTL_REASON_MAX) {
        memcpy(r->reason, status + 4, status_len - 4);
        r->reason[status_len - 4] = '\0';
        return 0;
    }
bad:
    ctl_response_free(r);
    return -1;
}

void ctl_response_free(struct ctl_response *r)
{
    free(r->out);
    r->out = NULL;
    r->outlen = 0;
}
