/* sip-storm: a registration storm. PHONES phones re-register (REGISTER and
 * its 200 OK) spread evenly over SECONDS, either as HEP v3 copies sent to a
 * HEP listener (--hep ADDR:PORT) or as plain SIP on the wire between a
 * "registrar" socket and a "phone" socket on loopback (--sip), for a live
 * capture on lo to see. Sent with sendmmsg in 1 ms slices; bounded by count.
 * Phone i is extension FIRST+i with contact sip:EXT@10.B.C.D:5060, so the
 * table must end with exactly PHONES bindings. */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define MSG_MAX 1024

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int parse_addr(const char *s, struct sockaddr_in *out)
{
    char host[64];
    const char *colon = strrchr(s, ':');
    if (!colon || (size_t)(colon - s) >= sizeof(host))
        return -1;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    memset(out, 0, sizeof(*out));
    out->sin_family = AF_INET;
    out->sin_port = htons((uint16_t)atoi(colon + 1));
    return inet_pton(AF_INET, host, &out->sin_addr) == 1 ? 0 : -1;
}

/* The phone's own address (in the contact and, for HEP, the hop). */
static void phone_ip(unsigned i, char *buf, size_t len)
{
    snprintf(buf, len, "10.%u.%u.%u", 100 + (i >> 16) % 100, (i >> 8) & 255, i & 255);
}

static size_t sip_register(char *out, unsigned ext, const char *ip, const char *registrar, unsigned round,
                           unsigned expires)
{
    return (size_t)snprintf(out, MSG_MAX,
                            "REGISTER sip:%s SIP/2.0\r\n"
                            "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK-%u-%u\r\n"
                            "From: <sip:%u@%s>;tag=f%u\r\n"
                            "To: <sip:%u@%s>\r\n"
                            "Call-ID: storm-%u@%s\r\n"
                            "CSeq: %u REGISTER\r\n"
                            "Contact: <sip:%u@%s:5060>\r\n"
                            "Expires: %u\r\n"
                            "User-Agent: sip-storm\r\n"
                            "Content-Length: 0\r\n\r\n",
                            registrar, ip, ext, round, ext, registrar, ext, ext, registrar, ext, ip, round + 1, ext,
                            ip, expires);
}

static size_t sip_ok(char *out, unsigned ext, const char *ip, const char *registrar, unsigned round, unsigned expires)
{
    return (size_t)snprintf(out, MSG_MAX,
                            "SIP/2.0 200 OK\r\n"
                            "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK-%u-%u\r\n"
                            "From: <sip:%u@%s>;tag=f%u\r\n"
                            "To: <sip:%u@%s>;tag=r%u\r\n"
                            "Call-ID: storm-%u@%s\r\n"
                            "CSeq: %u REGISTER\r\n"
                            "Contact: <sip:%u@%s:5060>;expires=%u\r\n"
                            "Content-Length: 0\r\n\r\n",
                            ip, ext, round, ext, registrar, ext, ext, registrar, ext, ext, ip, round + 1, ext, ip,
                            expires);
}

static size_t chunk(uint8_t *p, uint16_t type, const void *v, size_t len)
{
    uint16_t h[3] = {0, htons(type), htons((uint16_t)(6 + len))};
    memcpy(p, h, 6);
    memcpy(p + 6, v, len);
    return 6 + len;
}

/* HEP v3 around one SIP message from src:sport to dst:dport. */
static size_t hep3(uint8_t *out, const char *src, const char *dst, uint16_t sport, uint16_t dport, const char *sip,
                   size_t siplen)
{
    size_t n = 6;
    uint8_t fam = 2, proto = 17, type = 1;
    struct in_addr a, b;
    inet_pton(AF_INET, src, &a);
    inet_pton(AF_INET, dst, &b);
    uint16_t sp = htons(sport), dp = htons(dport);
    uint32_t ts = htonl((uint32_t)time(NULL)), us = 0, cid = htonl(2001);
    n += chunk(out + n, 1, &fam, 1);
    n += chunk(out + n, 2, &proto, 1);
    n += chunk(out + n, 3, &a, 4);
    n += chunk(out + n, 4, &b, 4);
    n += chunk(out + n, 7, &sp, 2);
    n += chunk(out + n, 8, &dp, 2);
    n += chunk(out + n, 9, &ts, 4);
    n += chunk(out + n, 10, &us, 4);
    n += chunk(out + n, 11, &type, 1);
    n += chunk(out + n, 12, &cid, 4);
    n += chunk(out + n, 15, sip, siplen);
    memcpy(out, "HEP3", 4);
    uint16_t total = htons((uint16_t)n);
    memcpy(out + 4, &total, 2);
    return n;
}

static void usage(void)
{
    fprintf(stderr, "usage: sip-storm --phones N --seconds S [--first EXT] [--round R] [--expires E]\n"
                    "                 (--hep ADDR:PORT [--registrar IP] | --sip REGISTRAR_ADDR:PORT PHONE_ADDR:PORT)\n"
                    "prints: sent MESSAGES seconds S rate MSGS_PER_S late_ms MAX_LATENESS\n");
    exit(2);
}

int main(int argc, char **argv)
{
    unsigned phones = 0, first = 3000000, round = 1, expires = 3600;
    double seconds = 0;
    const char *hep = NULL, *registrar_ip = "10.0.0.1";
    struct sockaddr_in hep_to, reg_addr, phone_addr;
    bool sip = false;
    static const struct option opts[] = {
        {"phones", required_argument, NULL, 'n'}, {"seconds", required_argument, NULL, 's'},
        {"first", required_argument, NULL, 'f'},  {"round", required_argument, NULL, 'r'},
        {"expires", required_argument, NULL, 'e'}, {"hep", required_argument, NULL, 'H'},
        {"registrar", required_argument, NULL, 'R'}, {"sip", no_argument, NULL, 'S'},
        {NULL, 0, NULL, 0}};
    int o;
    while ((o = getopt_long(argc, argv, "n:s:f:r:e:H:R:S", opts, NULL)) != -1) {
        switch (o) {
        case 'n': phones = (unsigned)strtoul(optarg, NULL, 10); break;
        case 's': seconds = atof(optarg); break;
        case 'f': first = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'r': round = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'e': expires = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'H': hep = optarg; break;
        case 'R': registrar_ip = optarg; break;
        case 'S': sip = true; break;
        default: usage();
        }
    }
    if (!phones || phones > 10000000 || seconds <= 0 || seconds > 600 || (!hep == !sip))
        usage();
    int fd = socket(AF_INET, SOCK_DGRAM, 0), fd2 = -1;
    int sndbuf = 8 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
    if (hep) {
        if (parse_addr(hep, &hep_to) < 0)
            usage();
    } else {
        /* REGISTERs leave from the phone socket, 200 OKs from the registrar's. */
        if (optind + 2 != argc || parse_addr(argv[optind], &reg_addr) < 0 || parse_addr(argv[optind + 1], &phone_addr) < 0)
            usage();
        fd2 = socket(AF_INET, SOCK_DGRAM, 0);
        setsockopt(fd2, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        setsockopt(fd2, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        /* A tiny receive buffer: what arrives is dropped after the capture saw it. */
        int rcv = 4096;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
        setsockopt(fd2, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
        if (bind(fd, (struct sockaddr *)&phone_addr, sizeof(phone_addr)) < 0 ||
            bind(fd2, (struct sockaddr *)&reg_addr, sizeof(reg_addr)) < 0) {
            perror("sip-storm: bind");
            return 2;
        }
    }
    char reg_name[64];
    if (sip)
        inet_ntop(AF_INET, &reg_addr.sin_addr, reg_name, sizeof(reg_name));
    else
        snprintf(reg_name, sizeof(reg_name), "%s", registrar_ip);

    static uint8_t bufs[BATCH][MSG_MAX + 128];
    static char text[MSG_MAX];
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    uint64_t total = 2ull * phones, sent = 0, t0 = now_us(), late_max = 0, failed = 0;
    double per_us = (double)total / (seconds * 1e6);
    while (sent < total) {
        uint64_t due = (uint64_t)((double)(now_us() - t0) * per_us) + 1;
        if (due > total)
            due = total;
        if (due <= sent) {
            struct timespec ts = {0, 200000};
            nanosleep(&ts, NULL);
            continue;
        }
        uint64_t behind_us = (uint64_t)((double)(due - sent) / per_us);
        if (behind_us > late_max)
            late_max = behind_us;
        /* Message k: phone k/2, REGISTER when even, its 200 OK when odd. */
        while (sent < due) {
            int n = 0, sock = -1;
            for (; n < BATCH && sent < due; n++, sent++) {
                unsigned i = (unsigned)(sent / 2);
                bool ok = sent & 1;
                int want = sip && ok ? fd2 : fd;
                if (sock >= 0 && want != sock)
                    break;
                sock = want;
                char ip[32];
                phone_ip(i, ip, sizeof(ip));
                size_t len = ok ? sip_ok(text, first + i, ip, reg_name, round, expires)
                                : sip_register(text, first + i, ip, reg_name, round, expires);
                iov[n].iov_base = bufs[n];
                if (hep) {
                    iov[n].iov_len = ok ? hep3(bufs[n], registrar_ip, ip, 5060, 5060, text, len)
                                        : hep3(bufs[n], ip, registrar_ip, 5060, 5060, text, len);
                    msgs[n].msg_hdr = (struct msghdr){.msg_name = &hep_to, .msg_namelen = sizeof(hep_to)};
                } else {
                    memcpy(bufs[n], text, len);
                    iov[n].iov_len = len;
                    msgs[n].msg_hdr = (struct msghdr){.msg_name = ok ? &phone_addr : &reg_addr,
                                                      .msg_namelen = sizeof(struct sockaddr_in)};
                }
                msgs[n].msg_hdr.msg_iov = &iov[n];
                msgs[n].msg_hdr.msg_iovlen = 1;
            }
            for (int done = 0; done < n;) {
                int m = sendmmsg(sock, msgs + done, (unsigned)(n - done), 0);
                if (m <= 0) {
                    failed++;
                    done++;
                    continue;
                }
                done += m;
            }
        }
    }
    double secs = (double)(now_us() - t0) / 1e6;
    printf("sent %llu seconds %.3f rate %.0f late_ms %.1f failed %llu\n", (unsigned long long)sent, secs,
           (double)sent / secs, (double)late_max / 1000.0, (unsigned long long)failed);
    close(fd);
    if (fd2 >= 0)
        close(fd2);
    return failed ? 1 : 0;
}
