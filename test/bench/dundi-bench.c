/* dundi-bench: a DUNDi load generator. Keeps a window of lookups in flight
 * against one server (dundid, Asterisk or any DUNDi responder), through the
 * same transaction engine dundid uses (ACKs, retransmissions), and prints
 * lookups/s, outcomes and latency percentiles. Bounded by count and by time.
 * With --reflect it is instead a canned responder (reflect.c). */
#include <getopt.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "dundid/clock.h"
#include "dundid/crypto.h"
#include "dundid/net.h"
#include "dundid/trans.h"
#include "reflect.h"

struct bench {
    struct event_base *base;
    struct loop loop;
    struct trans_engine *eng;
    int fd;
    struct dundi_addr to;
    eid_t eid;
    char context[DUNDI_MAX_NUMBER + 1];
    const char *prefix;
    unsigned spread;
    char **list; /* --numbers FILE */
    unsigned nlist;
    bool bypass;
    unsigned ttl;
    unsigned total, window, started, done, answered, unanswered, failed, timeouts;
    unsigned max_seconds;
    unsigned rate; /* --rate: lookups started per second (0: keep the window full) */
    struct timer pacer;
    uint64_t paced, skipped;
    uint64_t t0;
    uint32_t *lat_us;
    /* encryption: one session key, sent in full once, then by CRC (as a peer does) */
    bool crypt;
    struct dundi_session_key key;
    bool sent_full;
    struct timer deadline;
    struct dundi_ies ies;
    uint8_t inner[DUNDI_MAX_INNER];
};

struct one {
    struct bench *b;
    uint64_t start;
    bool finished;
};

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void start_one(struct bench *b);

enum outcome { ANSWERED, UNANSWERED, FAILED, TIMEOUT };

static void record(struct one *o, enum outcome what)
{
    struct bench *b = o->b;
    if (o->finished)
        return;
    o->finished = true;
    if (b->done < b->total)
        b->lat_us[b->done] = (uint32_t)(now_us() - o->start);
    b->done++;
    switch (what) {
    case ANSWERED: b->answered++; break;
    case UNANSWERED: b->unanswered++; break;
    case FAILED: b->failed++; break;
    case TIMEOUT: b->timeouts++; break;
    }
    if (b->done >= b->total)
        event_base_loopbreak(b->base);
    else if (b->started < b->total && !b->rate)
        start_one(b);
}

/* --rate: every millisecond, start the lookups that are due by now (the
 * window still caps how many are in flight; those over it are skipped and
 * show as a rate below the one asked). */
static void on_pace(void *arg)
{
    struct bench *b = arg;
    uint64_t due = (now_us() - b->t0) * b->rate / 1000000u;
    for (; b->paced < due && b->started < b->total; b->paced++) {
        if (b->started - b->done >= b->window)
            b->skipped++; /* the server is behind: this one is not sent */
        else
            start_one(b);
    }
    if (b->started < b->total)
        timerq_arm(&b->loop.tq, &b->pacer, clock_now_ms() + 1);
}

static void on_command(struct trans *t, struct dundi_hdr *h, const uint8_t *ies, size_t len)
{
    struct one *o = t->owner;
    struct bench *b = o->b;
    struct dundi_hdr ih;
    uint8_t cmd = dundi_hdr_cmd(h);

    if (cmd == DUNDI_CMD_ENCRYPT) {
        if (dundi_ies_decode(ies, len, &b->ies) < 0 ||
            trans_open_envelope(t, h, &b->ies, b->inner, &ih, &ies, &len) != CRYPTO_OK)
            return;
        cmd = dundi_hdr_cmd(&ih);
        h = &ih;
    }
    if (cmd == DUNDI_CMD_DPRESPONSE) {
        if (dundi_ies_decode(ies, len, &b->ies) != DUNDI_OK || b->ies.cause >= 1)
            record(o, FAILED);
        else
            record(o, b->ies.anscount > 0 ? ANSWERED : UNANSWERED);
        if (!dundi_hdr_final(h))
            trans_send(t, DUNDI_CMD_CANCEL, true, NULL);
        return;
    }
    trans_default_command(t, h);
}

static void on_end(struct trans *t, enum trans_end why)
{
    struct one *o = t->owner;
    (void)why;
    record(o, why == TRANS_END_DONE ? FAILED : TIMEOUT); /* no-op when already answered */
    free(o);
}

static const struct trans_handler handler = {on_command, on_end};

static int send_dgram(void *ctx, const struct dundi_addr *to, const uint8_t *pkt, size_t len)
{
    struct bench *b = ctx;
    return udp_send(b->fd, to, pkt, len);
}

static void start_one(struct bench *b)
{
    static struct dundi_ieb req, keyies;
    char number[DUNDI_MAX_NUMBER + 1];
    struct one *o = calloc(1, sizeof(*o));
    struct trans *t = o ? trans_open(b->eng, &b->to, &handler, o) : NULL;

    b->started++;
    if (!t) {
        free(o);
        b->done++;
        b->failed++;
        return;
    }
    o->b = b;
    o->start = now_us();
    if (b->crypt) {
        dundi_ieb_init(&keyies, 0);
        dundi_ie_put_eid(&keyies, DUNDI_IE_EID, &b->eid);
        if (!b->sent_full) {
            dundi_ie_put_raw(&keyies, DUNDI_IE_SHAREDKEY, b->key.sharedkey, DUNDI_KEY_BYTES);
            dundi_ie_put_raw(&keyies, DUNDI_IE_SIGNATURE, b->key.signature, DUNDI_KEY_BYTES);
            b->sent_full = true;
        } else {
            dundi_ie_put_u32(&keyies, DUNDI_IE_KEYCRC32, b->key.crc);
        }
        trans_set_crypto(t, b->key.aes, keyies.buf, keyies.len);
    }
    if (b->nlist) {
        snprintf(number, sizeof(number), "%s", b->list[(b->started - 1) % b->nlist]);
    } else {
        /* Fixed width, so every number has the same length (patterns match them all). */
        char digits[16], padded[16];
        int width = snprintf(digits, sizeof(digits), "%u", b->spread > 1 ? b->spread - 1 : 0);
        int len = snprintf(digits, sizeof(digits), "%u", b->spread ? (b->started - 1) % b->spread : 0);
        memset(padded, '0', sizeof(padded));
        memcpy(padded + (width - len), digits, (size_t)len + 1);
        snprintf(number, sizeof(number), "%.60s%s", b->prefix, padded);
    }
    dundi_ieb_init(&req, 0);
    dundi_ie_put_u16(&req, DUNDI_IE_VERSION, 1);
    dundi_ie_put_eid(&req, DUNDI_IE_EID_DIRECT, &b->eid);
    dundi_ie_put_str(&req, DUNDI_IE_CALLED_NUMBER, number);
    dundi_ie_put_str(&req, DUNDI_IE_CALLED_CONTEXT, b->context);
    dundi_ie_put_u16(&req, DUNDI_IE_TTL, (uint16_t)b->ttl);
    if (b->bypass)
        dundi_ie_put_empty(&req, DUNDI_IE_CACHEBYPASS);
    trans_send(t, DUNDI_CMD_DPDISCOVER, false, &req);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    struct bench *b = arg;
    uint8_t buf[DUNDI_MAX_PACKET + 1];
    (void)what;
    for (int n = 0; n < 256; n++) {
        struct dundi_addr from;
        ssize_t got = udp_recv(fd, buf, sizeof(buf), &from);
        if (got < 0)
            break;
        trans_engine_input(b->eng, &from, buf, (size_t)got > sizeof(buf) ? sizeof(buf) : (size_t)got);
    }
}

static void on_deadline(void *arg)
{
    struct bench *b = arg;
    fprintf(stderr, "dundi-bench: time limit of %u s reached\n", b->max_seconds);
    event_base_loopbreak(b->base);
}

static int cmp_u32(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, c = *(const uint32_t *)y;
    return a < c ? -1 : a > c;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: dundi-bench [options] HOST[:PORT]\n"
            "       dundi-bench --reflect ADDR:PORT [--duration S] [--eid E]\n"
            "  -x, --context C          DUNDi context (default priv)\n"
            "  -N, --numbers PREFIX:COUNT | FILE\n"
            "                           PREFIX followed by 0..COUNT-1 zero-padded, or one number a line\n"
            "  -p PREFIX, -s COUNT      the same as --numbers PREFIX:COUNT (default 2000:10)\n"
            "  -c, --inflight N         lookups in flight at once (default 64)\n"
            "  -n, --count N            stop after N lookups (default 20000; 0 with --duration: no limit)\n"
            "  -d, --duration S         stop after S seconds of load (default: by count)\n"
            "  -t SECONDS               hard time limit in any case (default 60)\n"
            "  -e, --eid E              the EID we present (default 02:00:00:00:00:99)\n"
            "  -k, --keydir D -i, --inkey K -o, --outkey K   encrypt, as a keyed peer does\n"
            "  -b, --bypass             set CACHEBYPASS\n"
            "  -T, --ttl N              TTL of the requests (default 2: a lookup server may forward once)\n"
            "  -r, --rate N             start N lookups a second (the window caps those in flight;\n"
            "                           ones due while it is full are skipped and counted)\n"
            "  -j, --json               one JSON object instead of name/value pairs\n"
            "  -R, --reflect ADDR:PORT  be a canned responder instead (the machine's ceiling)\n"
            "prints: lookups answered unanswered failed timeouts seconds lookups/s p50/p90/p99/p99.9/max (us)\n");
}

static int load_numbers(struct bench *b, const char *path)
{
    FILE *f = fopen(path, "r");
    char line[128];
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f) && b->nlist < 10000000) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0])
            continue;
        char **v = realloc(b->list, (b->nlist + 1) * sizeof(*v));
        if (!v || !(v[b->nlist] = strdup(line))) {
            fclose(f);
            return -1;
        }
        b->list = v;
        b->nlist++;
    }
    fclose(f);
    return b->nlist ? 0 : -1;
}

static int parse_target(const char *arg, struct dundi_addr *out)
{
    char host[256], port[8] = "4520";
    const char *colon = strrchr(arg, ':');
    const char *h = arg;
    size_t hl = colon ? (size_t)(colon - arg) : strlen(arg);
    if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') { /* [v6]:port */
        h++;
        hl -= 2;
    }
    snprintf(host, sizeof(host), "%.*s", (int)(hl < 255 ? hl : 255), h);
    if (colon)
        snprintf(port, sizeof(port), "%s", colon + 1);
    struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *res;
    if (getaddrinfo(host, port, &hints, &res))
        return -1;
    memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
    out->len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

static uint32_t pct(const uint32_t *v, unsigned n, unsigned per_mille)
{
    return n ? v[(size_t)n * per_mille / 1000 < n ? (size_t)n * per_mille / 1000 : n - 1] : 0;
}

static void on_load_over(void *arg)
{
    struct bench *b = arg;
    b->total = b->started; /* start no more; the ones in flight finish */
    if (b->done >= b->total)
        event_base_loopbreak(b->base);
}

int main(int argc, char **argv)
{
    static struct bench b;
    const char *keydir = NULL, *inkey = NULL, *outkey = NULL, *reflect = NULL;
    unsigned duration = 0;
    bool json = false, count_set = false;
    static const struct option longopts[] = {
        {"context", required_argument, NULL, 'x'}, {"numbers", required_argument, NULL, 'N'},
        {"inflight", required_argument, NULL, 'c'}, {"count", required_argument, NULL, 'n'},
        {"duration", required_argument, NULL, 'd'}, {"eid", required_argument, NULL, 'e'},
        {"keydir", required_argument, NULL, 'k'},   {"inkey", required_argument, NULL, 'i'},
        {"outkey", required_argument, NULL, 'o'},   {"bypass", no_argument, NULL, 'b'},
        {"ttl", required_argument, NULL, 'T'},
        {"json", no_argument, NULL, 'j'},           {"rate", required_argument, NULL, 'r'},           {"reflect", required_argument, NULL, 'R'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    int opt;

    b.total = 20000;
    b.window = 64;
    b.max_seconds = 60;
    b.prefix = "2000";
    b.spread = 10;
    b.ttl = 2;
    strcpy(b.context, "priv");
    eid_parse(&b.eid, "02:00:00:00:00:99");
    while ((opt = getopt_long(argc, argv, "n:c:t:e:x:p:s:k:i:o:N:d:bjR:T:r:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'n': b.total = (unsigned)strtoul(optarg, NULL, 10); count_set = true; break;
        case 'c': b.window = (unsigned)strtoul(optarg, NULL, 10); break;
        case 't': b.max_seconds = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'd': duration = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'e':
            if (eid_parse(&b.eid, optarg) < 0) {
                fprintf(stderr, "dundi-bench: bad EID '%s'\n", optarg);
                return 2;
            }
            break;
        case 'x': snprintf(b.context, sizeof(b.context), "%s", optarg); break;
        case 'p': b.prefix = optarg; break;
        case 's': b.spread = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'N': {
            char *colon = strrchr(optarg, ':');
            if (colon && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1)) {
                *colon = '\0';
                b.prefix = optarg;
                b.spread = (unsigned)strtoul(colon + 1, NULL, 10);
            } else if (load_numbers(&b, optarg) < 0) {
                fprintf(stderr, "dundi-bench: --numbers: cannot read numbers from '%s'\n", optarg);
                return 2;
            }
            break;
        }
        case 'k': keydir = optarg; break;
        case 'i': inkey = optarg; break;
        case 'o': outkey = optarg; break;
        case 'b': b.bypass = true; break;
        case 'T': b.ttl = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'j': json = true; break;
        case 'r': b.rate = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'R': reflect = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (reflect) {
        struct dundi_addr at = {0};
        if (optind != argc || parse_target(reflect, &at) < 0) {
            usage(stderr);
            return 2;
        }
        return reflect_run(&at, &b.eid, duration ? duration : b.max_seconds);
    }
    if (duration && !count_set)
        b.total = 10000000; /* bounded by time */
    if (duration && duration > b.max_seconds)
        b.max_seconds = duration + 10;
    if (optind != argc - 1 || !b.total || !b.window || b.total > 10000000 || b.window > 10000 || !b.max_seconds ||
        !b.spread || !b.ttl || b.ttl > 255) {
        usage(stderr);
        return 2;
    }
    if (parse_target(argv[optind], &b.to) < 0) {
        fprintf(stderr, "dundi-bench: cannot resolve %s\n", argv[optind]);
        return 2;
    }

    if (inkey || outkey) {
        int err;
        EVP_PKEY *pub = crypto_load_public(keydir ? keydir : ".", inkey ? inkey : "", &err);
        EVP_PKEY *priv = pub ? crypto_load_private(keydir ? keydir : ".", outkey ? outkey : "", &err) : NULL;
        if (!pub || !priv || crypto_session_new(&b.key, pub, priv) != CRYPTO_OK) {
            fprintf(stderr, "dundi-bench: keys: %s\n", crypto_strerror(err));
            return 2;
        }
        crypto_free_key(pub);
        crypto_free_key(priv);
        b.crypt = true;
    }

    struct dundi_addr any = {.len = b.to.len};
    any.ss.ss_family = b.to.ss.ss_family;
    char err[128];
    b.fd = udp_bind(&any, 0, err, sizeof(err));
    b.base = event_base_new();
    b.lat_us = calloc(b.total, sizeof(*b.lat_us));
    if (b.fd < 0 || !b.base || !b.lat_us || loop_init(&b.loop, b.base) < 0) {
        fprintf(stderr, "dundi-bench: %s\n", b.fd < 0 ? err : "out of memory");
        return 2;
    }
    /* A big socket buffer: a window of 512 answers arrives in one burst. */
    int rcvbuf = 8 << 20;
    setsockopt(b.fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    b.eng = trans_engine_new(&b.loop.tq, &handler, b.window + 16);
    b.eng->send = send_dgram;
    b.eng->send_ctx = &b;
    struct event *ev = event_new(b.base, b.fd, EV_READ | EV_PERSIST, on_readable, &b);
    event_add(ev, NULL);
    struct timer load_over;
    timer_init(&b.deadline, on_deadline, &b);
    timerq_arm(&b.loop.tq, &b.deadline, clock_now_ms() + b.max_seconds * 1000u);
    timer_init(&load_over, on_load_over, &b);
    if (duration)
        timerq_arm(&b.loop.tq, &load_over, clock_now_ms() + duration * 1000u);

    uint64_t t0 = now_us();
    b.t0 = t0;
    timer_init(&b.pacer, on_pace, &b);
    if (b.rate)
        on_pace(&b);
    for (unsigned i = 0; !b.rate && i < b.window && b.started < b.total; i++)
        start_one(&b);
    event_base_dispatch(b.base);
    double secs = (double)(now_us() - t0) / 1e6;

    unsigned n = b.done < b.total ? b.done : b.total;
    qsort(b.lat_us, n, sizeof(*b.lat_us), cmp_u32);
    double rate = secs > 0 ? b.answered / secs : 0.0;
    uint32_t p50 = pct(b.lat_us, n, 500), p90 = pct(b.lat_us, n, 900), p99 = pct(b.lat_us, n, 990),
             p999 = pct(b.lat_us, n, 999), max = n ? b.lat_us[n - 1] : 0;
    if (json)
        printf("{\"lookups\": %u, \"answered\": %u, \"unanswered\": %u, \"failed\": %u, \"timeouts\": %u, "
               "\"seconds\": %.3f, \"lookups_per_s\": %.0f, \"p50_us\": %u, \"p90_us\": %u, \"p99_us\": %u, "
               "\"p999_us\": %u, \"max_us\": %u, \"skipped\": %llu}\n",
               b.done, b.answered, b.unanswered, b.failed, b.timeouts, secs, rate, p50, p90, p99, p999, max,
               (unsigned long long)b.skipped);
    else
        printf("lookups %u answered %u unanswered %u failed %u timeouts %u seconds %.3f lookups/s %.0f p50_us %u "
               "p90_us %u p99_us %u p999_us %u max_us %u skipped %llu\n",
               b.done, b.answered, b.unanswered, b.failed, b.timeouts, secs, rate, p50, p90, p99, p999, max,
               (unsigned long long)b.skipped);
    timerq_cancel(&b.loop.tq, &load_over);
    timerq_cancel(&b.loop.tq, &b.pacer);
    trans_engine_free(b.eng);
    event_free(ev);
    loop_free(&b.loop);
    event_base_free(b.base);
    free(b.lat_us);
    for (unsigned i = 0; i < b.nlist; i++)
        free(b.list[i]);
    free(b.list);
    close(b.fd);
    return b.failed || b.timeouts ? 1 : 0;
}
