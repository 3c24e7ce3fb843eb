#include "dundid/clock.h"

#include <time.h>

static uint64_t real_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t (*source)(void) = real_now_ms;

uint64_t clock_now_ms(void) { return source(); }

int64_t clock_wall_s(void) { return (int64_t)time(NULL); }

void clock_set_source(uint64_t (*now_ms)(void)) { source = now_ms ? now_ms : real_now_ms; }
