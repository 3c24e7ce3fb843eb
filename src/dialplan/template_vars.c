/* The variable names of mapping templates, and the substring form. */
#include "dundid/template_vars.h"

#include <ctype.h>
#include <limits.h>
#include <string.h>

static const char *const known_vars[] = {"NUMBER", "EID", "SECRET", "IPADDR", "CONTACT", "CONTACTURI", "REGISTRAR"};

bool mapping_var_known(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(known_vars) / sizeof(known_vars[0]); i++)
        if (strlen(known_vars[i]) == len && !strncmp(known_vars[i], name, len))
            return true;
    return false;
}

/* An optionally signed decimal after blanks (like scanf's %d), clamped to
 * an int's range. Returns false when there are no digits. */
static bool read_int(const char **p, const char *end, long *out)
{
    const char *s = *p;
    while (s < end && isspace((unsigned char)*s))
        s++;
    bool neg = s < end && *s == '-';
    if (s < end && (*s == '-' || *s == '+'))
        s++;
    if (s >= end || !isdigit((unsigned char)*s))
        return false;
    long v = 0;
    for (; s < end && isdigit((unsigned char)*s); s++)
        if (v <= INT_MAX)
            v = v * 10 + (*s - '0');
    if (v > INT_MAX)
        v = INT_MAX;
    *out = neg ? -v : v;
    *p = s;
    return true;
}

size_t var_split(const char *in, size_t len, long *offset, long *length)
{
    const char *colon = memchr(in, ':', len), *end = in + len;
    *offset = 0;
    *length = LONG_MAX;
    if (!colon)
        return len;
    const char *p = colon + 1;
    /* The length is only read when the offset was and ':' follows it. */
    if (read_int(&p, end, offset) && p < end && *p == ':') {
        p++;
        (void)read_int(&p, end, length);
    }
    return (size_t)(colon - in);
}

size_t var_substring(size_t vlen, long offset, long length, size_t *start)
{
    long n = vlen > INT_MAX ? INT_MAX : (long)vlen;
    *start = 0;
    if (offset < 0 && (offset += n) < 0)
        offset = 0;
    if (offset >= n)
        return 0;
    *start = (size_t)offset;
    long rest = n - offset;
    if (length >= 0)
        return (size_t)(length < rest ? length : rest);
    /* length < 0: that many off the end, nothing when it passes the start */
    return rest + length > 0 ? (size_t)(rest + length) : 0;
}
