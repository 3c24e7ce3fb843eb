/* Token buckets under a driven clock: burst, refill, per-source isolation,
 * the global bucket across many sources, disabled buckets. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "dundid/ratelimit.h"
#include "testutil.h"

static struct dundi_addr v4(const char *ip, uint16_t port)
{
    struct dundi_addr a = {.len = sizeof(struct sockaddr_in)};
    struct sockaddr_in *s = (void *)&a.ss;
    s->sin_family = AF_INET;
    s->sin_port = htons(port);
    inet_pton(AF_INET, ip, &s->sin_addr);
    return a;
}

static unsigned burst_of(struct ratelimit *r, const struct dundi_addr *a, uint64_t now, unsigned tries)
{
    unsigned n = 0;
    for (unsigned i = 0; i < tries; i++)
        n += ratelimit_allow(r, a, now);
    return n;
}

int main(void)
{
    static struct ratelimit r;
    uint64_t now = 5000;
    struct dundi_addr a = v4("127.0.0.1", 4520), a2 = v4("127.0.0.1", 9999), b = v4("127.0.0.2", 4520);

    /* 10/s, burst 5 per source; global 1000/s burst 1000 (not reached) */
    ratelimit_init(&r, 10, 5, 1000, 1000);
    CHECK_INT(burst_of(&r, &a, now, 20), 5);
    CHECK_INT(r.suppressed, 15);
    /* the port does not matter: same bucket */
    CHECK(!ratelimit_allow(&r, &a2, now), "another port of the same address has its own bucket");
    /* another address is not affected */
    CHECK_INT(burst_of(&r, &b, now, 20), 5);
    /* refill: 10/s -> one token per 100 ms */
    now += 99;
    CHECK(!ratelimit_allow(&r, &a, now), "refilled before 100 ms");
    now += 1;
    CHECK(ratelimit_allow(&r, &a, now), "not refilled after 100 ms");
    CHECK(!ratelimit_allow(&r, &a, now), "two tokens after 100 ms");
    /* a long pause refills to the burst, not beyond */
    now += 3600000;
    CHECK_INT(burst_of(&r, &a, now, 100), 5);
    /* the clock going nowhere (or back) adds nothing */
    CHECK_INT(burst_of(&r, &a, now - 1000, 10), 0);

    /* global: 100 per second, burst 50, over 1000 sources of 5 each */
    ratelimit_init(&r, 10, 5, 100, 50);
    unsigned got = 0;
    for (unsigned i = 0; i < 1000; i++) {
        char ip[32];
        snprintf(ip, sizeof(ip), "10.%u.%u.1", i / 256, i % 256);
        struct dundi_addr x = v4(ip, 1);
        got += burst_of(&r, &x, now, 5);
    }
    CHECK_INT(got, 50);
    CHECK_INT(r.allowed, 50);
    CHECK_INT(r.suppressed, 4950);
    /* one second later: 100 more tokens globally, capped at the burst of 50 */
    now += 1000;
    got = 0;
    for (unsigned i = 0; i < 200; i++) {
        char ip[32];
        snprintf(ip, sizeof(ip), "10.200.%u.1", i);
        struct dundi_addr x = v4(ip, 1);
        got += ratelimit_allow(&r, &x, now);
    }
    CHECK_INT(got, 50);

    /* a source over its own share does not use up the global bucket */
    ratelimit_init(&r, 10, 5, 100, 10);
    CHECK_INT(burst_of(&r, &a, now, 1000), 5);
    CHECK_INT(burst_of(&r, &b, now, 1000), 5);

    /* rate 0: that bucket is off */
    ratelimit_init(&r, 0, 1, 0, 1);
    CHECK_INT(burst_of(&r, &a, now, 10000), 10000);
    ratelimit_init(&r, 0, 1, 10, 3);
    CHECK_INT(burst_of(&r, &a, now, 100), 3);

    /* IPv6 keys */
    struct dundi_addr c = {.len = sizeof(struct sockaddr_in6)}, d;
    struct sockaddr_in6 *s6 = (void *)&c.ss;
    s6->sin6_family = AF_INET6;
    inet_pton(AF_INET6, "::1", &s6->sin6_addr);
    d = c;
    inet_pton(AF_INET6, "::2", &((struct sockaddr_in6 *)(void *)&d.ss)->sin6_addr);
    ratelimit_init(&r, 1, 2, 0, 1);
    CHECK_INT(burst_of(&r, &c, now, 10), 2);
    CHECK_INT(burst_of(&r, &d, now, 10), 2);
    return test_summary("test_ratelimit");
}
