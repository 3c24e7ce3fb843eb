/* Address helpers (identity, same host, text, host keys) and the shared
 * hashes against published FNV-1a vectors. */
#include <arpa/inet.h>
#include <string.h>

#include "dundid/addr.h"
#include "dundid/hash.h"
#include "testutil.h"

static struct dundi_addr ip(const char *text, uint16_t port)
{
    struct dundi_addr a;
    memset(&a, 0, sizeof(a));
    if (strchr(text, ':')) {
        struct sockaddr_in6 *s = (void *)&a.ss;
        s->sin6_family = AF_INET6;
        s->sin6_port = htons(port);
        inet_pton(AF_INET6, text, &s->sin6_addr);
        a.len = sizeof(*s);
    } else {
        struct sockaddr_in *s = (void *)&a.ss;
        s->sin_family = AF_INET;
        s->sin_port = htons(port);
        inet_pton(AF_INET, text, &s->sin_addr);
        a.len = sizeof(*s);
    }
    return a;
}

static void test_identity(void)
{
    struct dundi_addr a = ip("10.0.0.1", 4520), b = ip("10.0.0.1", 4521), c = ip("10.0.0.2", 4520);
    struct dundi_addr a6 = ip("2001:db8::1", 4520), b6 = ip("2001:db8::1", 9), c6 = ip("2001:db8::2", 4520);
    struct dundi_addr none;
    memset(&none, 0, sizeof(none));
    CHECK(dundi_addr_equal(&a, &a), "v4 equal to itself");
    CHECK(!dundi_addr_equal(&a, &b), "v4 port differs");
    CHECK(!dundi_addr_equal(&a, &c), "v4 host differs");
    CHECK(dundi_addr_same_host(&a, &b), "v4 same host, other port");
    CHECK(!dundi_addr_same_host(&a, &c), "v4 other host");
    CHECK(dundi_addr_equal(&a6, &a6) && !dundi_addr_equal(&a6, &b6), "v6 equal / port");
    CHECK(dundi_addr_same_host(&a6, &b6) && !dundi_addr_same_host(&a6, &c6), "v6 same host");
    CHECK(!dundi_addr_same_host(&a, &a6) && !dundi_addr_equal(&a, &a6), "families differ");
    CHECK(!dundi_addr_equal(&none, &none) && !dundi_addr_same_host(&none, &none), "no family: never equal");
    /* has_local is not part of the identity */
    struct dundi_addr l = a;
    l.has_local = true;
    memset(&l.local, 1, 4);
    CHECK(dundi_addr_equal(&a, &l), "local address ignored");
}

static void test_text(void)
{
    char buf[64];
    struct dundi_addr a = ip("192.0.2.7", 4520), a6 = ip("::1", 4520), none;
    memset(&none, 0, sizeof(none));
    CHECK_STR(dundi_addr_str(&a, buf, sizeof(buf)), "192.0.2.7:4520");
    CHECK_STR(dundi_addr_str(&a6, buf, sizeof(buf)), "[::1]:4520");
    CHECK_STR(dundi_addr_str(&none, buf, sizeof(buf)), "(none)");
    CHECK(dundi_addr_ip_str(&a, buf, sizeof(buf)), "v4 text");
    CHECK_STR(buf, "192.0.2.7");
    CHECK(dundi_addr_ip_str(&a6, buf, sizeof(buf)), "v6 text");
    CHECK_STR(buf, "::1");
    strcpy(buf, "x");
    CHECK(!dundi_addr_ip_str(&none, buf, sizeof(buf)) && !buf[0], "no family: empty text");
    strcpy(buf, "x");
    CHECK(!dundi_addr_ip_str(&a, buf, 5) && !buf[0], "too small: empty text");
}

static void test_keys(void)
{
    uint8_t k1[DUNDI_ADDR_HOST_KEY_LEN], k2[DUNDI_ADDR_HOST_KEY_LEN];
    struct dundi_addr a = ip("10.0.0.1", 1), b = ip("10.0.0.1", 2), c = ip("10.0.0.2", 1), a6 = ip("::a00:1", 1);
    dundi_addr_host_key(&a, k1);
    CHECK(k1[0] == 4 && k1[1] == 10 && k1[4] == 1 && k1[5] == 0 && k1[16] == 0, "v4 key layout");
    dundi_addr_host_key(&b, k2);
    CHECK(!memcmp(k1, k2, sizeof(k1)), "ports left out of the key");
    dundi_addr_host_key(&c, k2);
    CHECK(memcmp(k1, k2, sizeof(k1)) != 0, "hosts differ in the key");
    dundi_addr_host_key(&a6, k2);
    CHECK(k2[0] == 6 && memcmp(k1, k2, sizeof(k1)) != 0, "v6 tagged apart from v4");
    CHECK(dundi_addr_hash(&a, FNV32_BASIS) != dundi_addr_hash(&b, FNV32_BASIS), "hash covers the port");
    CHECK(dundi_addr_hash(&a, FNV32_BASIS) != dundi_addr_hash(&c, FNV32_BASIS), "hash covers the host");
}

static void test_has_local(void)
{
    struct dundi_addr a = ip("10.0.0.1", 1);
    CHECK(!dundi_addr_has_local(&a), "no local");
    a.has_local = true;
    CHECK(!dundi_addr_has_local(&a), "wildcard local");
    memset(&a.local, 0, sizeof(a.local));
    a.local.s6_addr[3] = 1;
    CHECK(dundi_addr_has_local(&a), "specific local");
}

static void test_hash(void)
{
    /* Published FNV-1a vectors. */
    CHECK_INT(fnv1a32(FNV32_BASIS, "", 0), 0x811c9dc5u);
    CHECK_INT(fnv1a32(FNV32_BASIS, "a", 1), 0xe40c292cu);
    CHECK_INT(fnv1a32(FNV32_BASIS, "foobar", 6), 0xbf9cf968u);
    CHECK(fnv1a64(FNV64_BASIS, "a", 1) == UINT64_C(0xaf63dc4c8601ec8c), "fnv1a64 a");
    CHECK(fnv1a64(FNV64_BASIS, "foobar", 6) == UINT64_C(0x85944171f73967e8), "fnv1a64 foobar");
    CHECK(fnv1a64_str(FNV64_BASIS, "foobar") == fnv1a64(FNV64_BASIS, "foobar", 6), "str form");
    CHECK_INT(fnv1a32_lower(FNV32_BASIS, "FooBAR@[Z]", 10), fnv1a32(FNV32_BASIS, "foobar@[z]", 10));
    CHECK(fnv1a32_lower(FNV32_BASIS, "A", 1) != fnv1a32(FNV32_BASIS, "A", 1), "folding changes the hash");
    /* incremental = whole */
    CHECK_INT(fnv1a32(fnv1a32(FNV32_BASIS, "foo", 3), "bar", 3), 0xbf9cf968u);
    CHECK(hash_keyed_str(1, "1001") == hash_keyed(1, "1001", 4), "keyed str form");
    CHECK(hash_keyed_str(1, "1001") != hash_keyed_str(2, "1001"), "the seed changes the hash");
    CHECK(hash_mix64(fnv1a64(fnv1a64(hash_keyed_start(9), "10", 2), "01", 2)) == hash_keyed(9, "1001", 4),
          "keyed hash in steps");
    CHECK_INT(hash_mix32(0), 0);
    CHECK(hash_mix32(1) != 1, "the mix moves bits");
}

int main(void)
{
    test_identity();
    test_text();
    test_keys();
    test_has_local();
    test_hash();
    return test_summary("test_addr");
}
