/* Time conditions of dialplan includes, as Asterisk's pbx_timing.c reads
 * and checks them (see dp_timing.h). */
#include "dundid/dp_timing.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const days[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};
static const char *const months[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                     "jul", "aug", "sep", "oct", "nov", "dec", NULL};

/* 0-based index of a name or of the number 1..max; -1 when neither. */
static int lookup(const char *s, const char *const names[], int max)
{
    if (names && *s > '9')
        for (int i = 0; names[i]; i++)
            if (!strcasecmp(s, names[i]))
                return i;
    int n = 0, digits = 0;
    while (digits < 2 && isdigit((unsigned char)s[digits]))
        n = n * 10 + (s[digits++] - '0');
    return digits && n >= 1 && n <= max ? n - 1 : -1;
}

static uint32_t range(char *src, int max, const char *const names[], int *skipped)
{
    if (!src || !*src || !strcmp(src, "*"))
        return (uint32_t)((1ull << max) - 1);
    uint32_t mask = 0;
    for (char *part; (part = strsep(&src, "&"));) {
        char *endp = strchr(part, '-');
        if (endp)
            *endp++ = '\0';
        int start = lookup(part, names, max), end = endp ? lookup(endp, names, max) : start;
        if (start < 0 || end < 0) {
            (*skipped)++;
            continue;
        }
        mask |= 1u << end;
        for (int i = start; i != end; i = (i + 1) % max) /* ranges wrap around */
            mask |= 1u << i;
    }
    return mask;
}

/* "HH:MM" (one or two digits each); false when it is not a time. */
static bool hhmm(const char *s, int *minute)
{
    int h, m;
    char tail;
    if (sscanf(s, "%2d:%2d%c", &h, &m, &tail) < 2 || h < 0 || h > 23 || m < 0 || m > 59)
        return false;
    *minute = h * 60 + m;
    return true;
}

static void times(struct dp_timing *t, char *src, int *skipped)
{
    memset(t->minmask, 0, sizeof(t->minmask));
    if (!src || !*src || !strcmp(src, "*")) {
        for (int i = 0; i < 48; i++)
            t->minmask[i] = 0x3fffffff;
        return;
    }
    for (char *part; (part = strsep(&src, "&"));) {
        char *endp = strchr(part, '-');
        int a, b;
        if (endp) {
            *endp++ = '\0';
            while (*endp && !isdigit((unsigned char)*endp))
                endp++;
        }
        if (!hhmm(part, &a) || (endp && !hhmm(endp, &b))) {
            (*skipped)++;
            continue;
        }
        if (!endp)
            b = a;
        for (int x = a;; x = (x + 1) % (24 * 60)) {
            t->minmask[x / 30] |= 1u << (x % 30);
            if (x == b)
                break;
        }
    }
}

void dp_timing_parse(struct dp_timing *t, const char *spec, int *skipped)
{
    char buf[256], *info = buf;
    snprintf(buf, sizeof(buf), "%s", spec);
    int fields = 1;
    for (const char *p = buf; *p; p++)
        fields += *p == '|' || *p == ',';
    t->has_timezone = fields == 5;
    t->monthmask = 0xfff;
    t->daymask = 0x7fffffff;
    t->dowmask = 0x7f;
    times(t, strsep(&info, "|,"), skipped);
    if (info)
        t->dowmask = (uint8_t)range(strsep(&info, "|,"), 7, days, skipped);
    if (info)
        t->daymask = range(strsep(&info, "|,"), 31, NULL, skipped);
    if (info)
        t->monthmask = (uint16_t)range(strsep(&info, "|,"), 12, months, skipped);
    t->always = t->monthmask == 0xfff && t->daymask == 0x7fffffff && t->dowmask == 0x7f;
    for (int i = 0; i < 48 && t->always; i++)
        t->always = t->minmask[i] == 0x3fffffff;
}

bool dp_timing_match(const struct dp_timing *t, const struct tm *tm)
{
    if (tm->tm_mon < 0 || tm->tm_mon > 11 || tm->tm_mday < 1 || tm->tm_mday > 31 || tm->tm_wday < 0 ||
        tm->tm_wday > 6 || tm->tm_hour < 0 || tm->tm_hour > 23 || tm->tm_min < 0 || tm->tm_min > 59)
        return false;
    return (t->monthmask >> tm->tm_mon & 1) && (t->daymask >> (tm->tm_mday - 1) & 1) &&
           (t->dowmask >> tm->tm_wday & 1) &&
           (t->minmask[tm->tm_hour * 2 + (tm->tm_min >= 30)] >> (tm->tm_min % 30) & 1);
}
