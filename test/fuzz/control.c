/* libFuzzer target: the control protocol (ctl_proto.c). The first byte picks
 * what the rest is: 0 a request line, 1 a daemon response as dundictl reads
 * it, 2 command output to frame and read back (must round-trip exactly).
 * Seeds are checked in under corpus/control. abort() marks a violation. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dundid/ctl_out.h"
#include "dundid/ctl_proto.h"

static struct ctl_request rq;

static void request(const char *buf, size_t len)
{
    char err[CTL_REASON_MAX];
    if (ctl_parse(buf, len, &rq, err, sizeof(err)) < 0) {
        if (!memchr(err, '\0', sizeof(err)))
            abort();
        return;
    }
    if (rq.argc < 1 || rq.argc > CTL_MAX_WORDS || rq.argv[rq.argc])
        abort();
    for (int i = 0; i < rq.argc; i++) {
        size_t n = strlen(rq.argv[i]);
        if (!n || n > CTL_WORD_MAX || rq.argv[i] < rq.buf || rq.argv[i] + n > rq.buf + sizeof(rq.buf))
            abort();
    }
    /* Words are safe JSON strings and output lines. */
    struct ctl_out o;
    ctl_out_init(&o, 1 << 16, true);
    cj_arr(&o, NULL);
    for (int i = 0; i < rq.argc; i++)
        cj_str(&o, NULL, rq.argv[i]);
    cj_end(&o);
    ctl_out_free(&o);
}

static void response(const char *buf, size_t len)
{
    struct ctl_response r;
    if (ctl_parse_response(buf, len, &r) < 0)
        return;
    if (!ctl_response_complete(buf, len) || r.outlen > len || r.out[r.outlen] != '\0')
        abort();
    ctl_response_free(&r);
}

static void roundtrip(const char *buf, size_t len)
{
    size_t n;
    bool ok = len % 2;
    char *f = ctl_frame(buf, len, ok, ok ? NULL : "fuzz\nreason", &n);
    if (!f)
        return;
    struct ctl_response r;
    if (!ctl_response_complete(f, n) || ctl_parse_response(f, n, &r) < 0)
        abort();
    bool added_nl = len && buf[len - 1] != '\n';
    if (r.ok != ok || r.outlen != len + added_nl || memcmp(r.out, buf, len))
        abort();
    if (!ok && strcmp(r.reason, "fuzz reason"))
        abort();
    ctl_response_free(&r);
    free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size)
        return 0;
    /* Exact-size heap copy so ASan catches any read past the end. */
    size_t len = size - 1;
    char *buf = malloc(len ? len : 1);
    if (!buf)
        return 0;
    memcpy(buf, data + 1, len);
    switch (data[0] % 3) {
    case 0: request(buf, len); break;
    case 1: response(buf, len); break;
    default: roundtrip(buf, len); break;
    }
    free(buf);
    return 0;
}
