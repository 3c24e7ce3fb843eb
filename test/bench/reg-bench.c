/* reg-bench: figures for the registration table, in one process.
 *   - SIP snooping: REGISTER/200 frames through pkt_decode + sipfeed into the
 *     table, against sip_parse alone on the same messages (the reference);
 *   - memory: bytes per binding at N bindings (the table's own count and the
 *     process RSS growth);
 *   - lookups at 10 k and at N bindings;
 *   - the state file: write N bindings, then load them into a fresh table.
 * Usage: reg-bench [-n BINDINGS] [-m SIP_PAIRS] [-d DIR] */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dundid/pktdecode.h"
#include "dundid/regstate.h"
#include "dundid/regtable.h"
#include "dundid/sip.h"
#include "dundid/sipfeed.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_kb(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

struct frame {
    uint8_t *data;
    size_t len;
};

/* Ethernet + IPv4 + UDP around a SIP message. */
static struct frame make_frame(const char *src, const char *dst, int sport, int dport, const char *sip)
{
    size_t plen = strlen(sip), len = 14 + 20 + 8 + plen;
    uint8_t *f = calloc(1, len);
    unsigned a[4], b[4];
    sscanf(src, "%u.%u.%u.%u", &a[0], &a[1], &a[2], &a[3]);
    sscanf(dst, "%u.%u.%u.%u", &b[0], &b[1], &b[2], &b[3]);
    f[12] = 0x08;
    uint8_t *ip = f + 14;
    ip[0] = 0x45;
    ip[2] = (uint8_t)((20 + 8 + plen) >> 8);
    ip[3] = (uint8_t)(20 + 8 + plen);
    ip[6] = 0x40;
    ip[8] = 64;
    ip[9] = 17;
    for (int i = 0; i < 4; i++) {
        ip[12 + i] = (uint8_t)a[i];
        ip[16 + i] = (uint8_t)b[i];
    }
    uint8_t *udp = ip + 20;
    udp[0] = (uint8_t)(sport >> 8);
    udp[1] = (uint8_t)sport;
    udp[2] = (uint8_t)(dport >> 8);
    udp[3] = (uint8_t)dport;
    udp[4] = (uint8_t)((8 + plen) >> 8);
    udp[5] = (uint8_t)(8 + plen);
    memcpy(udp + 8, sip, plen);
    return (struct frame){f, len};
}

static void sip_pair(unsigned i, char *req, char *resp, size_t cap)
{
    unsigned user = 100000 + i;
    snprintf(req, cap,
             "REGISTER sip:10.1.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.2.%u.%u:5060;branch=z9hG4bK%u\r\n"
             "Max-Forwards: 70\r\nFrom: <sip:%u@10.1.0.2>;tag=a%u\r\nTo: <sip:%u@10.1.0.2>\r\n"
             "Call-ID: %u-reg@10.2.%u.%u\r\nCSeq: 7 REGISTER\r\n"
             "Contact: <sip:%u@10.2.%u.%u:5060;transport=udp>;expires=3600\r\nExpires: 3600\r\n"
             "User-Agent: Yealink SIP-T46S 66.86.0.15\r\nContent-Length: 0\r\n\r\n",
             (i >> 8) & 255, i & 255, i, user, i, user, user, (i >> 8) & 255, i & 255, user, (i >> 8) & 255, i & 255);
    snprintf(resp, cap,
             "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.2.%u.%u:5060;branch=z9hG4bK%u;received=10.2.%u.%u\r\n"
             "From: <sip:%u@10.1.0.2>;tag=a%u\r\nTo: <sip:%u@10.1.0.2>;tag=r%u\r\n"
             "Call-ID: %u-reg@10.2.%u.%u\r\nCSeq: 7 REGISTER\r\n"
             "Contact: <sip:%u@10.2.%u.%u:5060;transport=udp>;expires=3600\r\nServer: Asterisk PBX 20\r\n"
             "Content-Length: 0\r\n\r\n",
             (i >> 8) & 255, i & 255, i, (i >> 8) & 255, i & 255, user, i, user, i, user, (i >> 8) & 255, i & 255,
             user, (i >> 8) & 255, i & 255);
}

static void bench_sip(unsigned pairs)
{
    struct frame *fr = calloc(2 * (size_t)pairs, sizeof(*fr));
    char req[1024], resp[1024], src[32];
    for (unsigned i = 0; i < pairs; i++) {
        sip_pair(i, req, resp, sizeof(req));
        snprintf(src, sizeof(src), "10.2.%u.%u", (i >> 8) & 255, i & 255);
        fr[2 * i] = make_frame(src, "10.1.0.2", 5060, 5060, req);
        fr[2 * i + 1] = make_frame("10.1.0.2", src, 5060, 5060, resp);
    }
    size_t n = 2 * (size_t)pairs;
    static struct sip_msg m;
    struct pkt_info pi;

    double t0 = now_s();
    for (size_t i = 0; i < n; i++)
        if (pkt_decode(1, fr[i].data, fr[i].len, &pi) != PKT_OK ||
            sip_parse((const char *)pi.payload, pi.payload_len, &m) != SIP_OK)
            abort();
    double parse_only = now_s() - t0;

    struct regtable *rt = regtable_new(8);
    struct sipfeed *sf = sipfeed_new(0);
    t0 = now_s();
    for (size_t i = 0; i < n; i++) {
        pkt_decode(1, fr[i].data, fr[i].len, &pi);
        sipfeed_input(sf, rt, REG_FEED_PCAP, pi.payload, pi.payload_len, &pi.hop, 1700000000, 3600);
    }
    double applied = now_s() - t0;
    struct regtable_stats st;
    regtable_get_stats(rt, &st);
    if (st.bindings != pairs)
        fprintf(stderr, "reg-bench: %llu bindings, expected %u\n", (unsigned long long)st.bindings, pairs);
    printf("%-52s %12.0f %7.2f\n", "SIP msgs/s: decode + sip_parse only (reference)", n / parse_only, 1.0);
    printf("%-52s %12.0f %7.2f\n", "SIP msgs/s: decode + parse + match + apply to table", n / applied,
           parse_only / applied);
    sipfeed_free(sf);
    regtable_free(rt);
    for (size_t i = 0; i < n; i++)
        free(fr[i].data);
    free(fr);
}

static void fill(struct regtable *rt, unsigned n, int64_t now)
{
    char ext[16], contact[96], src[32];
    for (unsigned i = 0; i < n; i++) {
        snprintf(ext, sizeof(ext), "%u", 1000000 + i);
        snprintf(contact, sizeof(contact), "sip:%u@10.%u.%u.%u:5060;transport=udp", 1000000 + i, (i >> 16) & 255,
                 (i >> 8) & 255, i & 255);
        snprintf(src, sizeof(src), "10.%u.%u.%u:5060", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        struct reg_update u = {.ext = ext, .contact = contact, .registrar = "10.1.0.2", .source = src,
                               .user_agent = "Yealink SIP-T46S 66.86.0.15", .expires = now + 600 + i % 3000,
                               .feed = REG_FEED_PCAP};
        regtable_apply(rt, &u, now);
    }
}

static double lookups_per_s(const struct regtable *rt, unsigned n, int64_t now)
{
    struct reg_binding b[8];
    char ext[16];
    unsigned x = 12345, found = 0, rounds = 2000000;
    double t0 = now_s();
    for (unsigned i = 0; i < rounds; i++) {
        x = x * 1103515245u + 12345u;
        snprintf(ext, sizeof(ext), "%u", 1000000 + (x >> 8) % n);
        found += (unsigned)regtable_get(rt, ext, now, b, 8);
    }
    double dt = now_s() - t0;
    if (found != rounds)
        fprintf(stderr, "reg-bench: %u of %u lookups found\n", found, rounds);
    return rounds / dt;
}

int main(int argc, char **argv)
{
    unsigned n = 1000000, pairs = 200000;
    const char *dir = "/tmp";
    int opt;
    while ((opt = getopt(argc, argv, "n:m:d:")) != -1) {
        if (opt == 'n')
            n = (unsigned)strtoul(optarg, NULL, 10);
        else if (opt == 'm')
            pairs = (unsigned)strtoul(optarg, NULL, 10);
        else if (opt == 'd')
            dir = optarg;
        else {
            fprintf(stderr, "usage: reg-bench [-n BINDINGS] [-m SIP_PAIRS] [-d DIR]\n");
            return 2;
        }
    }
    int64_t now = 1700000000;
    printf("%-52s %12s %7s\n", "figure", "value", "ratio");
    long rss0 = rss_kb(); /* first, before other figures leave freed memory to reuse */
    double t0 = now_s();
    struct regtable *rt = regtable_new(8);
    fill(rt, n, now);
    double fill_s = now_s() - t0;
    long rss1 = rss_kb();
    struct regtable_stats st;
    regtable_get_stats(rt, &st);
    printf("%-52s %12.1f\n", "table bytes per binding (own count)", (double)st.memory_bytes / (double)st.bindings);
    printf("%-52s %12.1f\n", "RSS growth per binding (bytes)", (rss1 - rss0) * 1024.0 / (double)st.bindings);
    printf("%-52s %12.0f\n", "bindings applied/s while filling", n / fill_s);
    double big_lps = lookups_per_s(rt, n, now);
    struct regtable *small = regtable_new(8);
    fill(small, 10000, now);
    double small_lps = lookups_per_s(small, 10000, now);
    regtable_free(small);
    printf("%-52s %12.0f %7.2f\n", "table lookups/s at 10 k bindings (reference)", small_lps, 1.0);
    printf("%-52s %12.0f %7.2f\n", "table lookups/s at N bindings", big_lps, big_lps / small_lps);

    char path[4096], err[256];
    snprintf(path, sizeof(path), "%s/reg-bench-%d.state", dir, (int)getpid());
    t0 = now_s();
    if (regstate_save(path, rt, err, sizeof(err)) < 0) {
        fprintf(stderr, "reg-bench: %s\n", err);
        return 1;
    }
    double save_s = now_s() - t0;
    regtable_free(rt);
    struct regtable *back = regtable_new(8);
    struct regstate_result res;
    t0 = now_s();
    if (regstate_load(path, back, now, &res) < 0) {
        fprintf(stderr, "reg-bench: load: %s\n", res.err);
        return 1;
    }
    double load_s = now_s() - t0;
    unlink(path);
    printf("%-52s %12.3f\n", "state file: save N bindings (s)", save_s);
    printf("%-52s %12.3f\n", "state file: load N bindings (s)", load_s);
    printf("%-52s %12zu\n", "state file: bindings restored", res.loaded);
    regtable_free(back);
    bench_sip(pairs);
    return 0;
}
