/* The control socket's line protocol (see dundictl(8)). Pure.
 *
 * Request: one line of words separated by blanks, at most CTL_LINE_MAX
 * bytes before its newline, printable ASCII only. A first word "--json"
 * asks for JSON output.
 *
 * Response: the output lines, each starting with '.' getting one more '.'
 * in front; then a status line "OK" or "ERR reason"; then a line ".". */
#ifndef DUNDID_CTL_PROTO_H
#define DUNDID_CTL_PROTO_H

#include <stdbool.h>
#include <stddef.h>

#define CTL_LINE_MAX 4096
#define CTL_MAX_WORDS 16
#define CTL_WORD_MAX 255
#define CTL_REASON_MAX 512

struct ctl_request {
    bool json;
    int argc;
    char *argv[CTL_MAX_WORDS + 1]; /* point into buf; argv[argc] = NULL */
    char buf[CTL_LINE_MAX + 1];
};

/* Parse one request line, given without its '\n' (a trailing '\r' is
 * ignored). Returns 0, or -1 with the reason in err. */
int ctl_parse(const char *line, size_t len, struct ctl_request *rq, char *err, size_t errlen);

/* The framed response for out[0..len) (a missing final newline is added)
 * and the status. reason (ok = false) is cut at CTL_REASON_MAX and its
 * line breaks become blanks. Returns a malloc'd buffer, or NULL. */
char *ctl_frame(const char *out, size_t len, bool ok, const char *reason, size_t *framed_len);

/* Is buf[0..len) a complete framed response (ends with the "." line)? */
bool ctl_response_complete(const char *buf, size_t len);

struct ctl_response {
    char *out; /* output with the stuffing removed (malloc'd, NUL-terminated) */
    size_t outlen;
    bool ok;
    char reason[CTL_REASON_MAX + 1];
};

/* Parse a complete framed response. Returns 0, or -1 when it is not one
 * (no terminator, no or bad status line, bytes after the terminator). */
int ctl_parse_response(const char *buf, size_t len, struct ctl_response *r);
void ctl_response_free(struct ctl_response *r);

#endif
