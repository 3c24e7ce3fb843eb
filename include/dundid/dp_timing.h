/* The time condition of a dialplan include
 * ("include => ctx,TIMES,WEEKDAYS,MONTHDAYS,MONTHS[,TIMEZONE]"), with
 * Asterisk's rules: '*' or empty is always, '&' joins items, 'a-b' ranges
 * wrap around, names or numbers for weekdays and months, a minute's
 * resolution for times. */
#ifndef DUNDID_DP_TIMING_H
#define DUNDID_DP_TIMING_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct dp_timing {
    uint32_t minmask[48]; /* per half hour, a bit per minute */
    uint32_t daymask;     /* bit d-1: day d of the month */
    uint16_t monthmask;   /* bit 0: January */
    uint8_t dowmask;      /* bit 0: Sunday */
    bool has_timezone;    /* a fifth field: not honoured (the host's local time is used) */
    bool always;          /* every bit set: no need to read the time */
};

/* Parse spec (the fields after the context's name). Items Asterisk would
 * skip with a warning are counted in *skipped. */
void dp_timing_parse(struct dp_timing *t, const char *spec, int *skipped);
/* Does the local time tm fall in it? */
bool dp_timing_match(const struct dp_timing *t, const struct tm *tm);

#endif
