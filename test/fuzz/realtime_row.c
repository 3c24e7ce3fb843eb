/* libFuzzer target: the RealTime row decoder. Input: a schema byte ('P' =
 * pjsip, anything else chan_sip), then the columns separated by '\n'; a
 * column "\N" is SQL NULL (as mysql's text dumps write it). A decoded row
 * must hold bounded, NUL-terminated strings that satisfy the decoder's rules. */
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rt_field f[RT_MAX_COLS + 2];
    struct rt_row r;
    if (size < 1)
        return 0;
    enum rt_schema s = data[0] == 'P' ? RT_SCHEMA_PJSIP : RT_SCHEMA_CHAN_SIP;
    const char *p = (const char *)data + 1, *end = (const char *)data + size;
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
    int rc = rt_row_decode(s, f, n, &r);
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
