/* Bounded decimal numbers: the range check comes before the multiplication. */
#include "dundid/decimal.h"

size_t dec_span(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++;
    return i;
}

bool dec_parse_u64(const char *s, size_t n, uint64_t max, uint64_t *out)
{
    if (n == 0 || dec_span(s, n) != n)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (d > max || v > (max - d) / 10) /* v * 10 + d > max, without computing it */
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

bool dec_parse_i64(const char *s, size_t n, int64_t min, int64_t max, int64_t *out)
{
    if (min > max)
        return false;
    bool neg = n > 0 && s[0] == '-';
    if (n > 0 && (s[0] == '-' || s[0] == '+')) {
        s++;
        n--;
    }
    /* The largest magnitude allowed on this side of zero; -INT64_MIN does
     * not fit in int64_t, so it is computed in uint64_t. */
    uint64_t lim;
    if (neg)
        lim = min < 0 ? (uint64_t)(-(min + 1)) + 1 : 0;
    else if (max < 0)
        return false;
    else
        lim = (uint64_t)max;
    uint64_t m;
    if (!dec_parse_u64(s, n, lim, &m))
        return false;
    int64_t v = neg ? (m ? -(int64_t)(m - 1) - 1 : 0) : (int64_t)m;
    if (v < min || v > max)
        return false;
    *out = v;
    return true;
}

int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}
