/* How long the loop stops for a cache state-file save: written inline (as
 * before bgsave) against handed to a child process (fork), for a cache of
 * -k KEYS answers in a process of about -m MB of touched memory (a daemon
 * with a large registration table). Prints both, and their ratio.
 *
 *   save-bench [-k KEYS] [-m MB] [-d DIR]   (defaults 100000, 200, /tmp) */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dundid/bgsave.h"
#include "dundid/cache.h"
#include "dundid/cachefile.h"
#include "dundid/clock.h"
#include "dundid/statefile.h"

static struct cache *cache;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static long write_cache(void *ctx, FILE *f)
{
    (void)ctx;
    struct cachefile_result res;
    return cachefile_write(f, cache, clock_wall_s(), &res);
}

static bool finished;
static double child_done_ms;
static void on_done(void *arg, bool ok, const char *err)
{
    (void)arg;
    if (!ok)
        fprintf(stderr, "save-bench: child save failed: %s\n", err);
    finished = true;
    child_done_ms = now_ms();
}

int main(int argc, char **argv)
{
    long keys = 100000, mb = 200;
    const char *dir = "/tmp";
    int opt;
    while ((opt = getopt(argc, argv, "k:m:d:")) != -1) {
        switch (opt) {
        case 'k': keys = atol(optarg); break;
        case 'm': mb = atol(optarg); break;
        case 'd': dir = optarg; break;
        default: fprintf(stderr, "usage: save-bench [-k KEYS] [-m MB] [-d DIR]\n"); return 2;
        }
    }
    if (keys <= 0 || keys > 10000000 || mb < 0 || mb > 16384)
        return 2;
    /* Memory the process holds and has touched, as a big table would. */
    size_t ballast_len = (size_t)mb << 20;
    char *ballast = malloc(ballast_len ? ballast_len : 1);
    if (!ballast)
        return 1;
    memset(ballast, 1, ballast_len);

    cache = cache_new((size_t)keys);
    int64_t wall = clock_wall_s();
    eid_t peer = {{2, 0, 0, 0, 0, 9}};
    struct dundi_answer a = {.eid = peer, .proto = 2, .flags = 1, .weight = 0};
    for (long i = 0; i < keys; i++) {
        char number[32];
        snprintf(number, sizeof(number), "%ld", 1000000 + i);
        snprintf(a.dest, sizeof(a.dest), "SIP/%s@10.0.%ld.%ld", number, (i >> 8) & 255, i & 255);
        cache_restore(cache, &peer, number, "priv", 'e', (uint32_t)i, &peer, false, &a, 1, wall + 3600, wall);
    }
    char path[4096], err[256];
    snprintf(path, sizeof(path), "%s/save-bench.%d.state", dir, (int)getpid());

    double t0 = now_ms();
    if (statefile_save(path, write_cache, NULL, err, sizeof(err)) < 0) {
        fprintf(stderr, "save-bench: %s\n", err);
        return 1;
    }
    double inline_ms = now_ms() - t0;

    struct event_base *base = event_base_new();
    struct bgsave b;
    bgsave_init(&b);
    t0 = now_ms();
    if (bgsave_start(&b, base, path, write_cache, NULL, on_done, NULL, err, sizeof(err)) < 0) {
        fprintf(stderr, "save-bench: %s\n", err);
        return 1;
    }
    double fork_ms = now_ms() - t0;
    for (int i = 0; i < 60000 && !finished; i++) /* at most about 60 s */
        event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK), usleep(1000);
    double child_ms = child_done_ms - t0;
    unlink(path);
    printf("cache save, %ld keys, %ld MB resident: loop stopped %.2f ms inline, %.2f ms with a child "
           "(ratio %.3f); the child took %.1f ms\n",
           keys, mb, inline_ms, fork_ms, fork_ms / inline_ms, child_ms);
    event_base_free(base);
    free(ballast);
    return finished ? 0 : 1;
}
