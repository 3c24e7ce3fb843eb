/* Values of configuration options. */
#include "dundid/conf_values.h"

#include "dundid/decimal.h"

#include <limits.h>
#include <string.h>
#include <strings.h>

bool conf_parse_int(const char *s, long min, long max, int *out)
{
    int64_t v;
    if (!dec_parse_i64(s, strlen(s), min < INT_MIN ? INT_MIN : min, max > INT_MAX ? INT_MAX : max, &v))
        return false;
    *out = (int)v;
    return true;
}

int conf_parse_bool(const char *s)
{
    static const char *const yes[] = {"yes", "true", "y", "t", "1", "on"};
    static const char *const no[] = {"no", "false", "n", "f", "0", "off"};
    for (size_t i = 0; i < 6; i++) {
        if (!strcasecmp(s, yes[i]))
            return 1;
        if (!strcasecmp(s, no[i]))
            return 0;
    }
    return -1;
}

bool conf_copy(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        return false;
    memcpy(dst, src, n + 1);
    return true;
}
