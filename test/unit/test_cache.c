/* Answer/hint cache (protocol doc section 5): keys, lifetimes, negative
 * entries, hints, dedup, LRU bound, expiry sweep, CLI iteration. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zlib.h>

#include "dundid/cache.h"
#include "testutil.h"

static eid_t mk_eid(uint8_t a, uint8_t b)
{
    eid_t e = {{0x02, 0, 0, 0, a, b}};
    return e;
}

static struct dundi_answer mk_ans(uint8_t proto, uint16_t flags, uint16_t weight, const char *dest, const eid_t *owner)
{
    struct dundi_answer a;
    memset(&a, 0, sizeof a);
    a.eid = *owner;
    a.proto = proto;
    a.flags = flags;
    a.weight = weight;
    snprintf(a.dest, sizeof a.dest, "%s", dest);
    return a;
}

static bool lookup(struct cache *c, const eid_t *peer, const char *num, const char *ctx, uint32_t crc,
                   const eid_t *root, int64_t now, struct cache_result *res)
{
    cache_result_init(res);
    return cache_lookup(c, peer, num, ctx, crc, root, now, res);
}

/* Collects foreach output as key strings. */
struct seen {
    unsigned n;
    char keys[16][160];
    int64_t exp[16];
    unsigned nans[16];
    struct dundi_answer first[16];
};

static void collect(void *ctx, const struct cache_view *v)
{
    struct seen *s = ctx;
    if (s->n < 16) {
        cache_view_key(v, s->keys[s->n], sizeof s->keys[0]);
        s->exp[s->n] = v->expires_in;
        s->nans[s->n] = v->n_answers;
        if (v->n_answers)
            cache_view_answer(v, 0, &s->first[s->n]);
    }
    s->n++;
}

static int find_key(const struct seen *s, const char *key)
{
    for (unsigned i = 0; i < s->n && i < 16; i++)
        if (strcmp(s->keys[i], key) == 0)
            return (int)i;
    return -1;
}

static void test_path_crc(void)
{
    eid_t l[3] = {mk_eid(1, 1), mk_eid(2, 2), mk_eid(3, 3)};
    uint32_t c0 = (uint32_t)crc32(0L, l[0].b, 6), c1 = (uint32_t)crc32(0L, l[1].b, 6);
    CHECK_INT(cache_path_crc(NULL, 0), 0);
    CHECK_INT(cache_path_crc(l, 1), 0);
    CHECK_INT(cache_path_crc(l, 2), c0);
    CHECK_INT(cache_path_crc(l, 3), c0 ^ c1);
    /* the last entry (root) never counts */
    eid_t m[3] = {l[0], l[1], mk_eid(9, 9)};
    CHECK_INT(cache_path_crc(m, 3), cache_path_crc(l, 3));
    /* a known value: crc32 of six zero bytes */
    eid_t z[2] = {{{0}}, {{0}}};
    CHECK_INT(cache_path_crc(z, 2), 0xb1c2a1a3u);
}

/* Section 12: A caches B's answer for 3590 s under e00000000 and r000000000000. */
static void test_spec_example(void)
{
    struct cache *c = cache_new(100);
    eid_t b, a;
    eid_parse(&b, "00:aa:bb:cc:dd:ee");
    eid_parse(&a, "00:11:22:33:44:55");
    struct dundi_answer ans = mk_ans(DUNDI_PROTO_IAX, 0x185, 0, "dundi:s3cr3t@10.0.0.2/5551212", &b);
    int64_t now = 1700000000;
    cache_save(c, &b, "5551212", "e164", cache_path_crc(NULL, 0), true, NULL, &ans, 1, 3600, 3600, false, now);
    CHECK_INT(cache_count(c), 2);
    CHECK_INT(cache_stats(c)->saves, 1);

    struct seen s = {0};
    cache_foreach(c, now, collect, &s);
    CHECK_INT(s.n, 2);
    int ie = find_key(&s, "00AABBCCDDEE/5551212/e164/e00000000");
    int ir = find_key(&s, "00AABBCCDDEE/5551212/e164/r000000000000");
    if (CHECK(ie >= 0 && ir >= 0, "both keys listed")) {
        CHECK_INT(s.exp[ie], 3590);
        CHECK_INT(s.exp[ir], 3590);
        CHECK_INT(s.nans[ie], 1);
        CHECK_STR(s.first[ie].dest, "dundi:s3cr3t@10.0.0.2/5551212");
        CHECK_INT(s.first[ie].flags, 0x185);
        CHECK(eid_equal(&s.first[ie].eid, &b), "owner EID kept");
    }

    struct cache_result r;
    CHECK(lookup(c, &b, "5551212", "e164", 0, NULL, now, &r), "hit");
    CHECK_INT(r.n, 1);
    CHECK_INT(r.expiration, 3590);
    CHECK_INT(r.expirations[0], 3590);
    CHECK_INT(r.answers[0].proto, DUNDI_PROTO_IAX);
    CHECK_INT(r.answers[0].weight, 0);
    CHECK(!r.hint_hit, "no hint");
    /* another peer, or another number, misses */
    CHECK(!lookup(c, &a, "5551212", "e164", 0, NULL, now, &r), "other peer misses");
    CHECK(!lookup(c, &b, "5551213", "e164", 0, NULL, now, &r), "other number misses");
    CHECK(!lookup(c, &b, "5551212", "e163", 0, NULL, now, &r), "other context misses");
    /* boundary: one second left, then gone (and removed) */
    CHECK(lookup(c, &b, "5551212", "e164", 0, NULL, now + 3589, &r), "hit at 3589");
    CHECK_INT(r.expiration, 1);
    CHECK_INT(r.expirations[0], 1);
    CHECK(!lookup(c, &b, "5551212", "e164", 0, NULL, now + 3590, &r), "expired at 3590");
    CHECK_INT(cache_count(c), 0);
    CHECK_INT(cache_stats(c)->expired, 2);
    CHECK_INT(cache_stats(c)->hits, 2);
    CHECK_INT(cache_stats(c)->misses, 4);
    cache_free(c);
}

static void test_negative(void)
{
    struct cache *c = cache_new(100);
    eid_t p = mk_eid(0, 1);
    struct cache_result r;
    cache_save(c, &p, "123", "e164", 0, true, NULL, NULL, 0, 100, 3600, false, 0);
    CHECK(lookup(c, &p, "123", "e164", 0, NULL, 10, &r), "empty entry is a hit");
    CHECK_INT(r.n, 0);
    CHECK_INT(r.expiration, 80);
    /* answers all carrying '|' make a negative entry too */
    struct dundi_answer a = mk_ans(1, 1, 0, "a|b", &p);
    cache_save(c, &p, "456", "e164", 0, true, NULL, &a, 1, 100, 3600, false, 0);
    CHECK(lookup(c, &p, "456", "e164", 0, NULL, 10, &r), "pipe-only answers: hit");
    CHECK_INT(r.n, 0);
    struct dundi_answer two[2] = {mk_ans(1, 1, 0, "x|y", &p), mk_ans(1, 1, 5, "ok", &p)};
    cache_save(c, &p, "789", "e164", 0, true, NULL, two, 2, 100, 3600, false, 0);
    CHECK(lookup(c, &p, "789", "e164", 0, NULL, 10, &r), "hit");
    if (CHECK(r.n == 1, "n = %u, want 1", r.n))
        CHECK_STR(r.answers[0].dest, "ok");
    cache_free(c);
}

static void test_keys(void)
{
    struct cache *c = cache_new(100);
    eid_t p = mk_eid(0, 1), root = mk_eid(0, 0x77), other = mk_eid(0, 0x78);
    struct dundi_answer a = mk_ans(2, 1, 10, "SIP/x", &p);
    struct cache_result r;

    /* affected: stored under e<crc> and r<root> */
    cache_save(c, &p, "100", "ctx", 0x1234, false, &root, &a, 1, 60, 3600, false, 0);
    CHECK(lookup(c, &p, "100", "ctx", 0x1234, &other, 1, &r), "e<crc> hit");
    CHECK(lookup(c, &p, "100", "ctx", 0x9999, &root, 1, &r), "r<root> hit");
    CHECK(!lookup(c, &p, "100", "ctx", 0x9999, &other, 1, &r), "different path and root: miss");
    CHECK(!lookup(c, &p, "100", "ctx", 0, &other, 1, &r), "not stored under e0");
    CHECK(!lookup(c, &p, "100", "ctx", 0x9999, NULL, 1, &r), "NULL root = zero: miss");

    /* unaffected: stored under e0, which any path finds */
    cache_save(c, &p, "200", "ctx", 0x1234, true, &root, &a, 1, 60, 3600, false, 0);
    CHECK(lookup(c, &p, "200", "ctx", 0x5555, &other, 1, &r), "e0 hit from any path");
    CHECK(lookup(c, &p, "200", "ctx", 0x1234, &other, 1, &r), "e<crc> probe misses, then e0 hits");

    struct seen s = {0};
    cache_foreach(c, 1, collect, &s);
    CHECK_INT(s.n, 4);
    CHECK(find_key(&s, "020000000001/100/ctx/e00001234") >= 0, "e<crc> key text");
    CHECK(find_key(&s, "020000000001/100/ctx/r020000000077") >= 0, "r<root> key text");
    CHECK(find_key(&s, "020000000001/200/ctx/e00000000") >= 0, "e0 key text");

    /* answers found under several keys are merged once; expiration is the lowest */
    cache_save(c, &p, "300", "ctx", 0x42, false, &root, &a, 1, 60, 3600, false, 0);
    struct dundi_answer b2 = mk_ans(2, 1, 10, "SIP/y", &p);
    cache_save(c, &p, "300", "ctx", 0x43, true, &root, &b2, 1, 30, 3600, false, 0); /* overwrites r<root> */
    CHECK(lookup(c, &p, "300", "ctx", 0x42, &root, 0, &r), "hit");
    CHECK_INT(r.n, 2);
    CHECK_INT(r.expiration, 20);
    CHECK_INT(r.expirations[0], 50);
    CHECK_INT(r.expirations[1], 20);
    CHECK_INT(cache_count(c), 7);

    /* context compares case-insensitively, number exactly */
    cache_save(c, &p, "ABC", "E164", 0, true, NULL, &a, 1, 60, 3600, false, 0);
    CHECK(lookup(c, &p, "ABC", "e164", 0, NULL, 1, &r), "context case-insensitive");
    CHECK(lookup(c, &p, "ABC", "E164", 0, NULL, 1, &r), "same case");
    CHECK(!lookup(c, &p, "abc", "e164", 0, NULL, 1, &r), "number case-sensitive");
    /* a save with other context case replaces the key (no duplicate) */
    size_t before = cache_count(c);
    cache_save(c, &p, "ABC", "e164", 0, true, NULL, &a, 1, 60, 3600, false, 0);
    CHECK_INT(cache_count(c), before);
    cache_free(c);
}

static void test_lifetimes(void)
{
    struct cache *c = cache_new(100);
    eid_t p = mk_eid(0, 1);
    struct cache_result r;
    struct {
        int expiration, cachetime;
        bool pushed;
        int want;
    } cases[] = {
        {3600, 3600, false, 3590}, {3600, 3600, true, 3610}, {0, 3600, false, 3590},  {-1, 500, false, 490},
        {0, 500, true, 510},       {5, 3600, false, 1},      {10, 3600, false, 1},    {11, 3600, false, 1},
        {12, 3600, false, 2},      {0, 0, false, 1},         {1, 3600, true, 11},     {65535, 10, false, 65525},
    };
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char num[16];
        snprintf(num, sizeof num, "n%u", i);
        cache_save(c, &p, num, "e164", 0, true, NULL, NULL, 0, cases[i].expiration, cases[i].cachetime,
                   cases[i].pushed, 1000);
        CHECK(lookup(c, &p, num, "e164", 0, NULL, 1000, &r), "case %u hit", i);
        CHECK(r.expiration == cases[i].want, "case %u: lifetime %d, want %d", i, r.expiration, cases[i].want);
        CHECK(!lookup(c, &p, num, "e164", 0, NULL, 1000 + cases[i].want, &r), "case %u gone at expiry", i);
    }
    CHECK_INT(cache_count(c), 0);
    cache_free(c);
}

static void test_dedup(void)
{
    struct cache *c = cache_new(1000);
    eid_t p1 = mk_eid(0, 1), p2 = mk_eid(0, 2), p3 = mk_eid(0, 3);
    struct cache_result r;
    struct dundi_answer a1[2] = {mk_ans(1, 1, 50, "IAX2/a", &p1), mk_ans(2, 1, 50, "SIP/b", &p1)};
    struct dundi_answer a2[3] = {mk_ans(1, 3, 10, "IAX2/a", &p2), mk_ans(2, 1, 90, "SIP/b", &p2),
                                 mk_ans(2, 1, 7, "IAX2/a", &p2)};
    cache_save(c, &p1, "5", "e164", 0, true, NULL, a1, 2, 100, 3600, false, 0);
    cache_save(c, &p2, "5", "e164", 0, true, NULL, a2, 3, 200, 3600, false, 0);
    cache_result_init(&r);
    CHECK(cache_lookup(c, &p1, "5", "e164", 0, NULL, 0, &r), "p1 hit");
    CHECK(cache_lookup(c, &p2, "5", "e164", 0, NULL, 0, &r), "p2 hit");
    if (CHECK(r.n == 3, "n = %u, want 3", r.n)) {
        CHECK_STR(r.answers[0].dest, "IAX2/a");
        CHECK_INT(r.answers[0].weight, 10); /* lowered */
        CHECK_INT(r.answers[0].flags, 1);   /* the existing entry is kept otherwise */
        CHECK(eid_equal(&r.answers[0].eid, &p1), "existing owner kept");
        CHECK_INT(r.expirations[0], 90);
        CHECK_INT(r.answers[1].weight, 50); /* not raised */
        CHECK_INT(r.answers[2].proto, 2);   /* same dest, other proto: distinct */
        CHECK_INT(r.answers[2].weight, 7);
        CHECK_INT(r.expirations[2], 190);
        CHECK(eid_equal(&r.answers[2].eid, &p2), "owner of appended answer");
    }
    CHECK_INT(r.expiration, 90);

    /* result capacity: 64 */
    struct dundi_answer many[DUNDI_MAX_ANSWERS];
    for (int i = 0; i < DUNDI_MAX_ANSWERS; i++) {
        char d[32];
        snprintf(d, sizeof d, "IAX2/d%d", i);
        many[i] = mk_ans(1, 1, (uint16_t)i, d, &p3);
    }
    cache_save(c, &p3, "6", "e164", 0, true, NULL, many, DUNDI_MAX_ANSWERS, 100, 3600, false, 0);
    CHECK(lookup(c, &p3, "6", "e164", 0, NULL, 0, &r), "hit");
    CHECK_INT(r.n, CACHE_MAX_RESULTS);
    CHECK_STR(r.answers[63].dest, "IAX2/d63");
    /* a full result still dedups (weight lowered) */
    struct dundi_answer low = mk_ans(1, 1, 0, "IAX2/d63", &p1);
    cache_save(c, &p1, "6", "e164", 0, true, NULL, &low, 1, 100, 3600, false, 0);
    CHECK(cache_lookup(c, &p1, "6", "e164", 0, NULL, 0, &r), "hit");
    CHECK_INT(r.n, CACHE_MAX_RESULTS);
    CHECK_INT(r.answers[63].weight, 0);

    /* long destinations round-trip */
    char longd[DUNDI_MAX_DEST + 1];
    memset(longd, 'x', DUNDI_MAX_DEST);
    longd[DUNDI_MAX_DEST] = '\0';
    struct dundi_answer la = mk_ans(1, 1, 1, longd, &p1);
    cache_save(c, &p1, "7", "e164", 0, true, NULL, &la, 1, 100, 3600, false, 0);
    CHECK(lookup(c, &p1, "7", "e164", 0, NULL, 0, &r), "hit");
    CHECK(r.n == 1 && strcmp(r.answers[0].dest, longd) == 0, "244-byte dest kept");
    cache_free(c);
}

static void test_hints(void)
{
    struct cache *c = cache_new(1000);
    eid_t p = mk_eid(0, 1), q = mk_eid(0, 2), root = mk_eid(0, 9);
    struct cache_result r;

    cache_save_hint(c, &p, "555", "e164", 0x77, false, &root, 100, 3600, 0);
    CHECK_INT(cache_count_hints(c), 2);
    CHECK(lookup(c, &p, "5551212", "e164", 0x77, NULL, 0, &r), "hint via e<crc>");
    CHECK(r.hint_hit, "hint_hit");
    CHECK_STR(r.hint_data, "555");
    CHECK_INT(r.expiration, 100);
    CHECK_INT(r.n, 0);
    CHECK(lookup(c, &p, "5559", "E164", 0x1, &root, 0, &r), "hint via r<root>");
    CHECK(!lookup(c, &p, "5559", "e164", 0x1, NULL, 0, &r), "other path and root: miss");
    CHECK(!lookup(c, &p, "55", "e164", 0x77, NULL, 0, &r), "shorter number: miss");
    CHECK(!r.hint_hit && r.hint_data[0] == '\0', "no hint recorded");
    CHECK(!lookup(c, &q, "5551212", "e164", 0x77, NULL, 0, &r), "other peer: miss");
    CHECK(lookup(c, &p, "555", "e164", 0x77, NULL, 0, &r), "number equal to prefix: hit");

    /* the shortest hinted prefix is the first hit; a longer string already in res stays */
    cache_save_hint(c, &q, "55", "e164", 0, true, NULL, 100, 3600, 0);
    cache_save_hint(c, &q, "5551", "e164", 0, true, NULL, 30, 3600, 0);
    CHECK(lookup(c, &q, "555123", "e164", 0x5, NULL, 0, &r), "hit");
    CHECK_STR(r.hint_data, "55");
    CHECK_INT(r.expiration, 100); /* the "5551" hint was never probed */
    cache_result_init(&r);
    strcpy(r.hint_data, "5551");
    CHECK(cache_lookup(c, &q, "555123", "e164", 0, NULL, 0, &r), "hit");
    CHECK_STR(r.hint_data, "5551");
    cache_result_init(&r);
    CHECK(cache_lookup(c, &q, "555123", "e164", 0, NULL, 0, &r), "hit");
    CHECK(cache_lookup(c, &p, "555123", "e164", 0x77, NULL, 0, &r), "hit");
    CHECK_STR(r.hint_data, "555"); /* longer than "55": replaces it */

    /* hints only when no answers have been collected */
    struct dundi_answer a = mk_ans(1, 1, 0, "IAX2/z", &q);
    eid_t other = mk_eid(0, 3);
    cache_save(c, &other, "555123", "e164", 0, true, NULL, &a, 1, 100, 3600, false, 0);
    cache_result_init(&r);
    CHECK(cache_lookup(c, &other, "555123", "e164", 0, NULL, 0, &r), "answer hit");
    CHECK(!cache_lookup(c, &q, "555123", "e164", 0, NULL, 0, &r), "hint ignored once answers exist");
    CHECK(!r.hint_hit, "no hint hit");
    /* ...but an entry hit for that peer still counts */
    cache_save(c, &q, "555123", "e164", 0, true, NULL, NULL, 0, 100, 3600, false, 0);
    CHECK(cache_lookup(c, &q, "555123", "e164", 0, NULL, 0, &r), "negative entry hit");

    /* lifetimes: expiration 0 removes, -1 means cachetime, no -10 */
    cache_save_hint(c, &p, "777", "e164", 0, true, NULL, -1, 250, 0);
    CHECK(lookup(c, &p, "7771", "e164", 0, NULL, 0, &r), "hit");
    CHECK_INT(r.expiration, 250);
    CHECK(!lookup(c, &p, "7771", "e164", 0, NULL, 250, &r), "expired at boundary");
    cache_save_hint(c, &p, "777", "e164", 0, true, NULL, 50, 250, 0);
    cache_save_hint(c, &p, "777", "e164", 0, true, NULL, 0, 250, 0);
    CHECK(!lookup(c, &p, "7771", "e164", 0, NULL, 1, &r), "expiration 0 replaces the hint");

    /* unstorable prefixes */
    size_t n = cache_count(c);
    char big[DUNDI_MAX_NUMBER + 2];
    memset(big, '1', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    cache_save_hint(c, &p, big, "e164", 0, true, NULL, 50, 250, 0);
    cache_save_hint(c, &p, "", "e164", 0, true, NULL, 50, 250, 0);
    CHECK_INT(cache_count(c), n);
    big[DUNDI_MAX_NUMBER] = '\0'; /* 79 characters: fine */
    cache_save_hint(c, &p, big, "e164", 0, true, NULL, 50, 250, 0);
    CHECK_INT(cache_count(c), n + 2);
    CHECK(lookup(c, &p, big, "e164", 0, NULL, 0, &r), "79-char hint hit");
    CHECK_INT(strlen(r.hint_data), DUNDI_MAX_NUMBER);

    struct seen s = {0};
    cache_foreach_hint(c, 0, collect, &s);
    CHECK(find_key(&s, "hint/020000000001/555/e164/e00000077") >= 0, "hint e key text");
    CHECK(find_key(&s, "hint/020000000001/555/e164/r020000000009") >= 0, "hint r key text");
    CHECK(find_key(&s, "hint/020000000002/55/e164/e00000000") >= 0, "hint e0 key text");
    struct seen s2 = {0};
    cache_foreach(c, 0, collect, &s2);
    for (unsigned i = 0; i < s2.n && i < 16; i++)
        CHECK(strncmp(s2.keys[i], "hint/", 5) != 0, "answer listing has no hints: %s", s2.keys[i]);
    CHECK_INT(s.n + s2.n, cache_count(c));
    cache_free(c);
}

static void test_lru(void)
{
    struct cache *c = cache_new(4);
    eid_t p = mk_eid(0, 1);
    struct cache_result r;
    cache_save(c, &p, "A", "e164", 0, true, NULL, NULL, 0, 100, 3600, false, 0);
    cache_save(c, &p, "B", "e164", 0, true, NULL, NULL, 0, 100, 3600, false, 0);
    CHECK_INT(cache_count(c), 4);
    struct seen s = {0};
    cache_foreach(c, 0, collect, &s);
    CHECK(s.n == 4 && strcmp(s.keys[0], "020000000001/B/e164/r000000000000") == 0 &&
              strcmp(s.keys[3], "020000000001/A/e164/e00000000") == 0,
          "foreach lists most recent first");
    CHECK(lookup(c, &p, "A", "e164", 0, NULL, 1, &r), "touch A"); /* A is now most recent */
    cache_save(c, &p, "C", "e164", 0, true, NULL, NULL, 0, 100, 3600, false, 1);
    CHECK_INT(cache_count(c), 4);
    CHECK_INT(cache_stats(c)->evictions, 2);
    CHECK(!lookup(c, &p, "B", "e164", 0, NULL, 2, &r), "B evicted");
    CHECK(lookup(c, &p, "A", "e164", 0, NULL, 2, &r), "A kept");
    CHECK(lookup(c, &p, "C", "e164", 0, NULL, 2, &r), "C kept");

    /* only one key of an entry touched: the other one goes first */
    struct cache *d = cache_new(4);
    eid_t root = mk_eid(0, 5);
    cache_save(d, &p, "A", "e164", 0x10, false, &root, NULL, 0, 100, 3600, false, 0);
    cache_save(d, &p, "B", "e164", 0, true, NULL, NULL, 0, 100, 3600, false, 0);
    CHECK(lookup(d, &p, "A", "e164", 0x10, NULL, 1, &r), "touch A's e key only");
    cache_save_hint(d, &p, "9", "e164", 0, true, NULL, 100, 3600, 1); /* 2 keys: evicts A/r and B/e */
    CHECK_INT(cache_stats(d)->evictions, 2);
    CHECK(!lookup(d, &p, "A", "e164", 0x99, &root, 2, &r), "A's r key evicted");
    CHECK(lookup(d, &p, "A", "e164", 0x10, NULL, 2, &r), "A's e key kept");
    CHECK(lookup(d, &p, "B", "e164", 0, NULL, 2, &r), "B's r key kept (zero root)");
    CHECK_INT(cache_count(d), 4);

    /* when full, an expired key is dropped before any live one */
    struct cache *e = cache_new(4);
    cache_save(e, &p, "old", "e164", 0, true, NULL, NULL, 0, 15, 3600, false, 0); /* lives 5 s */
    cache_save(e, &p, "new", "e164", 0, true, NULL, NULL, 0, 100, 3600, false, 0);
    CHECK(lookup(e, &p, "old", "e164", 0, NULL, 1, &r), "touch old: new is now least recent");
    cache_save(e, &p, "x", "e164", 0, true, NULL, NULL, 0, 100, 3600, false, 10);
    CHECK_INT(cache_stats(e)->evictions, 0);
    CHECK_INT(cache_stats(e)->expired, 2);
    CHECK(lookup(e, &p, "new", "e164", 0, NULL, 10, &r), "new kept");

    /* max below 2 is raised: one save always fits whole */
    struct cache *f = cache_new(0);
    CHECK_INT(cache_max(f), 2);
    cache_save(f, &p, "A", "e164", 7, false, &root, NULL, 0, 100, 3600, false, 0);
    CHECK(lookup(f, &p, "A", "e164", 7, NULL, 0, &r), "e key");
    CHECK(lookup(f, &p, "A", "e164", 8, &root, 0, &r), "r key");
    cache_free(c);
    cache_free(d);
    cache_free(e);
    cache_free(f);
}

static void test_expire(void)
{
    struct cache *c = cache_new(100);
    eid_t p = mk_eid(0, 1);
    struct dundi_answer a = mk_ans(1, 1, 0, "IAX2/q", &p);
    for (int i = 0; i < 10; i++) {
        char num[8];
        snprintf(num, sizeof num, "%d", i);
        /* lifetimes 11..20 s after the -10 */
        cache_save(c, &p, num, "e164", 0, true, NULL, &a, 1, 21 + i, 3600, false, 0);
    }
    CHECK_INT(cache_count(c), 20);
    CHECK_INT(cache_next_expiry(c, 0), 11);
    CHECK_INT(cache_expire(c, 10, 100), 0);
    CHECK_INT(cache_expire(c, 11, 1), 1); /* budget */
    CHECK_INT(cache_count(c), 19);
    CHECK_INT(cache_next_expiry(c, 11), 0);
    CHECK_INT(cache_expire(c, 11, 100), 1); /* only the expired one */
    CHECK_INT(cache_count(c), 18);
    CHECK_INT(cache_expire(c, 15, 3), 3);
    CHECK_INT(cache_expire(c, 15, 100), 5);
    CHECK_INT(cache_count(c), 10);
    CHECK_INT(cache_stats(c)->expired, 10);
    struct cache_result r;
    CHECK(!lookup(c, &p, "4", "e164", 0, NULL, 15, &r), "15 s entry gone");
    CHECK(lookup(c, &p, "5", "e164", 0, NULL, 15, &r), "16 s entry kept");
    /* foreach hides expired keys without removing them */
    struct seen s = {0};
    cache_foreach(c, 18, collect, &s);
    CHECK_INT(s.n, 4);
    CHECK_INT(cache_count(c), 10);
    CHECK_INT(cache_expire(c, INT64_MAX, SIZE_MAX), 10);
    CHECK_INT(cache_count(c), 0);
    CHECK(cache_next_expiry(c, 0) == INT64_MAX, "empty: no expiry");

    /* flush */
    struct cache *fresh = cache_new(1);
    size_t base = cache_bytes(fresh);
    cache_free(fresh);
    for (int i = 0; i < 500; i++) {
        char num[8];
        snprintf(num, sizeof num, "%d", i);
        cache_save(c, &p, num, "e164", 0, true, NULL, &a, 1, 100, 3600, false, 0);
        cache_save_hint(c, &p, num, "e164", 0, true, NULL, 100, 3600, 0);
    }
    CHECK_INT(cache_count(c), 100);
    CHECK(cache_bytes(c) > base, "bytes grow");
    cache_flush(c);
    CHECK_INT(cache_count(c), 0);
    CHECK_INT(cache_count_hints(c), 0);
    CHECK_INT(cache_bytes(c), base);
    CHECK(!lookup(c, &p, "99", "e164", 0, NULL, 0, &r), "flushed");
    cache_save(c, &p, "1", "e164", 0, true, NULL, &a, 1, 100, 3600, false, 0);
    CHECK(lookup(c, &p, "1", "e164", 0, NULL, 0, &r), "usable after flush");
    cache_free(c);
}

static void count_view(void *ctx, const struct cache_view *v)
{
    (void)v;
    ++*(size_t *)ctx;
}

/* Fixed-seed random saves and lookups into a small cache: bound kept,
 * every hit returns what was saved for that peer and number. */
static void test_stress(void)
{
    struct cache *c = cache_new(1000);
    uint64_t x = 0x9e3779b97f4a7c15ull;
    bool over = false, bad = false, miss_after_save = false;
    struct cache_result *r = malloc(sizeof *r);
    int64_t now = 0;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        eid_t peer = mk_eid(0, (uint8_t)(x % 7));
        unsigned numi = (unsigned)(x >> 8) % 3000;
        char num[16], dest[48];
        snprintf(num, sizeof num, "%u", numi);
        uint32_t crc = (uint32_t)((x >> 20) % 4);
        eid_t root = mk_eid(1, (uint8_t)((x >> 24) % 3));
        if (i % 100 == 0)
            now++;
        switch ((x >> 32) % 4) {
        case 0: {
            snprintf(dest, sizeof dest, "IAX2/%s@%u", num, peer.b[5]);
            struct dundi_answer a = mk_ans(1, 1, 0, dest, &peer);
            cache_save(c, &peer, num, "e164", crc, (x >> 40) & 1, &root, &a, (x >> 41) & 1, (int)((x >> 42) % 40),
                       60, (x >> 50) & 1, now);
            cache_result_init(r);
            miss_after_save |= !cache_lookup(c, &peer, num, "e164", crc, &root, now, r);
            break;
        }
        case 1:
            cache_save_hint(c, &peer, num, "e164", crc, (x >> 40) & 1, &root, (int)((x >> 42) % 40), 60, now);
            break;
        case 2:
            cache_expire(c, now, 5);
            break;
        default:
            cache_result_init(r);
            if (cache_lookup(c, &peer, num, "e164", crc, &root, now, r)) {
                snprintf(dest, sizeof dest, "IAX2/%s@%u", num, peer.b[5]);
                for (unsigned k = 0; k < r->n; k++)
                    bad |= strcmp(r->answers[k].dest, dest) != 0 || r->expirations[k] <= 0;
                bad |= r->expiration <= 0;
            }
        }
        over |= cache_count(c) > 1000;
    }
    /* the expiry heap removes exactly the keys foreach sees as expired */
    bool heap_ok = true;
    for (int64_t t = now; t < now + 100 && cache_count(c) > 0; t++) {
        size_t live = 0;
        cache_foreach(c, t, count_view, &live);
        cache_foreach_hint(c, t, count_view, &live);
        cache_expire(c, t, SIZE_MAX);
        heap_ok &= cache_count(c) == live;
    }
    CHECK(heap_ok, "cache_expire removes exactly the expired keys");
    CHECK_INT(cache_count(c), 0);
    CHECK(!over, "count never exceeds max");
    CHECK(!bad, "hits return the saved answers with positive lifetimes");
    CHECK(!miss_after_save, "a fresh save is always found");
    CHECK(cache_stats(c)->evictions > 0, "evictions happened");
    CHECK(cache_stats(c)->expired > 0, "expiries happened");
    printf("stress: hits %llu misses %llu saves %llu evictions %llu expired %llu\n",
           (unsigned long long)cache_stats(c)->hits, (unsigned long long)cache_stats(c)->misses,
           (unsigned long long)cache_stats(c)->saves, (unsigned long long)cache_stats(c)->evictions,
           (unsigned long long)cache_stats(c)->expired);
    free(r);
    cache_free(c);
}

/* 100k keys: saves and lookups must stay O(1). Timing is printed, not asserted. */
static void test_scale(void)
{
    enum { SAVES = 50000 };
    struct cache *c = cache_new(2 * SAVES);
    struct cache_result *r = malloc(sizeof *r);
    eid_t peer = mk_eid(0, 1), root = mk_eid(0, 2);
    clock_t t0 = clock();
    for (unsigned i = 0; i < SAVES; i++) {
        char num[16], dest[48];
        snprintf(num, sizeof num, "1555%07u", i);
        snprintf(dest, sizeof dest, "IAX2/dundi:s3cr3t@10.0.0.2/%s", num);
        struct dundi_answer a = mk_ans(1, 0x185, 0, dest, &peer);
        cache_save(c, &peer, num, "e164", 0, true, &root, &a, 1, 65535, 3600, false, (int64_t)i);
    }
    size_t bytes_full = cache_bytes(c);
    CHECK_INT(cache_count(c), 2 * SAVES);
    CHECK_INT(cache_stats(c)->evictions, 0);
    unsigned hits = 0;
    for (unsigned i = 0; i < 2 * SAVES; i++) {
        char num[16];
        snprintf(num, sizeof num, "1555%07u", (i * 7919u) % SAVES);
        cache_result_init(r);
        hits += cache_lookup(c, &peer, num, "e164", 0x1234, &root, SAVES, r);
    }
    CHECK_INT(hits, 2 * SAVES);
    CHECK_INT(cache_expire(c, 65524 + SAVES / 2, SIZE_MAX), SAVES); /* both keys of the older half */
    double ms = (double)(clock() - t0) * 1000.0 / CLOCKS_PER_SEC;
    printf("scale: %u keys, %.1f ms for %u saves + %u lookups + expiry; %zu bytes (%.0f per key, %.0f per "
           "save with one answer)\n",
           2 * SAVES, ms, SAVES, 2 * SAVES, bytes_full, (double)bytes_full / (2 * SAVES),
           (double)bytes_full / SAVES);
    free(r);
    cache_free(c);
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    test_path_crc();
    test_spec_example();
    test_negative();
    test_keys();
    test_lifetimes();
    test_dedup();
    test_hints();
    test_lru();
    test_expire();
    test_stress();
    test_scale();
    return test_summary("cache");
}
