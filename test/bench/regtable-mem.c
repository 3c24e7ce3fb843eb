/* regtable-mem: bytes per binding of the registration table at scale.
 * Fills a table with N bindings (default 1000000) of realistic sizes, then
 * prints the table's own count (stats.memory_bytes) and the process RSS
 * growth, each per binding, and the time per apply and per lookup.
 * Not a test: run by hand, e.g. build/test/regtable-mem 1000000 2.
 *
 * Usage: regtable-mem [BINDINGS [PER_EXTENSION]] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "dundid/regtable.h"

static long rss_bytes(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * sysconf(_SC_PAGESIZE);
}

static double secs(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    long per = argc > 2 ? atol(argv[2]) : 1;
    if (n <= 0 || per <= 0 || per > REG_MAX_BINDINGS_LIMIT) {
        fprintf(stderr, "usage: regtable-mem [BINDINGS [PER_EXTENSION (1..%d)]]\n", REG_MAX_BINDINGS_LIMIT);
        return 2;
    }
    const int64_t now = 1700000000;
    long rss0 = rss_bytes();
    struct regtable *rt = regtable_new((unsigned)per);
    if (!rt)
        return 1;
    struct regtable_stats st0;
    regtable_get_stats(rt, &st0);

    char ext[32], contact[96], source[32];
    double t0 = secs();
    for (long i = 0; i < n; i++) {
        long e = i / per, k = i % per;
        unsigned ip = (unsigned)(e * 7 + k);
        /* a 7-digit extension, a contact like a Yealink's, its source */
        snprintf(ext, sizeof(ext), "%07ld", 1000000 + e);
        snprintf(contact, sizeof(contact), "sip:%s@10.%u.%u.%u:5060;transport=udp", ext, (ip >> 16) & 255,
                 (ip >> 8) & 255, ip & 255);
        snprintf(source, sizeof(source), "10.%u.%u.%u:5060", (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
        struct reg_update u = {.ext = ext, .contact = contact, .registrar = "10.0.0.5", .source = source,
                               .user_agent = "Yealink SIP-T46S 66.86.0.15", .expires = now + 60 + i % 3600,
                               .feed = REG_FEED_PCAP};
        if (regtable_apply(rt, &u, now) != 0) {
            fprintf(stderr, "apply %ld failed\n", i);
            return 1;
        }
    }
    double t1 = secs();
    struct reg_binding b[REG_MAX_BINDINGS_LIMIT];
    size_t found = 0;
    for (long e = 0; e < n / per; e++) {
        snprintf(ext, sizeof(ext), "%07ld", 1000000 + e);
        found += regtable_get(rt, ext, now, b, REG_MAX_BINDINGS_LIMIT);
    }
    double t2 = secs();
    long rss1 = rss_bytes();
    struct regtable_stats st;
    regtable_get_stats(rt, &st);
    printf("bindings %llu in %llu extensions (%ld per extension), %zu found again\n",
           (unsigned long long)st.bindings, (unsigned long long)st.extensions, per, found);
    printf("memory_bytes %llu (empty table %llu): %.1f bytes per binding, %.1f above the empty table\n",
           (unsigned long long)st.memory_bytes, (unsigned long long)st0.memory_bytes,
           (double)st.memory_bytes / (double)st.bindings,
           (double)(st.memory_bytes - st0.memory_bytes) / (double)st.bindings);
    printf("RSS growth %ld bytes: %.1f bytes per binding (malloc overhead included)\n", rss1 - rss0,
           (double)(rss1 - rss0) / (double)st.bindings);
    printf("apply %.0f ns, get %.0f ns per call\n", (t1 - t0) / (double)n * 1e9,
           (t2 - t1) / (double)(n / per) * 1e9);
    regtable_free(rt);
    return 0;
}
