/* The one clock every timer and expiry reads, so tests can drive time. */
#ifndef DUNDID_CLOCK_H
#define DUNDID_CLOCK_H

#include <stdint.h>

/* Milliseconds on a monotonic clock. */
uint64_t clock_now_ms(void);
/* Wall-clock seconds since the epoch (for absolute expiry shown to people). */
int64_t clock_wall_s(void);

/* Tests: replace the monotonic source (NULL restores the real clock). */
void clock_set_source(uint64_t (*now_ms)(void));
/* Tests and the simulator: replace the wall-clock source (NULL: time()). */
void clock_set_wall_source(int64_t (*wall_s)(void));

#endif
