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

static int64_t real_wall_s(void) { return (int64_t)time(NULL); }

static int64_t (*wall_source)(void) = real_wall_s;

int64_t clock_wall_s(void) { return wall_source(); }

void clock_set_source(uint64_t (*now_ms)(void)) { source = now_ms ? now_ms : real_now_ms; }

void clock_set_wall_source(int64_t (*wall_s)(void)) { wall_source = wall_s ? wall_s : real_wall_s; }
