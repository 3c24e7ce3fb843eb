/* The cache on disk: what a restart keeps. Answers, negative entries and
 * hints come back under the same keys with the rest of their lifetime;
 * torn and damaged files are refused; hostile strings are not written. */
#include <stdlib.h>
#include <string.h>

#include "dundid/cachefile.h"
#include "testutil.h"

static bool put(void *ctx, const struct cache_record *r)
{
    return cache_restore(ctx, &r->peer, r->number, r->context, r->kind, r->crc, &r->root, r->hint, r->answers, r->n,
                         r->expires, 1000);
}

static bool count_only(void *ctx, const struct cache_record *r)
{
    (void)r;
    ++*(size_t *)ctx;
    return true;
}

static char *render(const struct cache *c, int64_t now, size_t *len, struct cachefile_result *res)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    CHECK(cachefile_write(f, c, now, res) >= 0, "written");
    fclose(f);
    return buf;
}

int main(void)
{
    eid_t peer, root, owner;
    eid_parse(&peer, "02:00:00:00:00:01");
    eid_parse(&root, "02:00:00:00:00:09");
    eid_parse(&owner, "02:00:00:00:00:02");
    struct dundi_answer a[2];
    memset(a, 0, sizeof(a));
    a[0].eid = owner;
    a[0].proto = 1;
    a[0].flags = 0x0001;
    a[0].weight = 10;
    strcpy(a[0].dest, "SIP/1001@10.0.0.2");
    a[1] = a[0];
    a[1].weight = 20;
    strcpy(a[1].dest, "IAX2/1001@10.0.0.3");

    struct cache *c = cache_new(100);
    /* At now = 1000: answers for 1001 (60 s), a negative entry for 1009 (30 s), a hint for 12 (90 s). */
    cache_save(c, &peer, "1001", "priv", 0x1234abcd, false, &root, a, 2, 70, 5, false, 1000);
    cache_save(c, &peer, "1009", "priv", 0, true, NULL, NULL, 0, 40, 5, false, 1000);
    cache_save_hint(c, &peer, "12", "priv", 7, false, &root, 90, 5, 1000);
    /* A destination with a newline cannot be one line of the file: not written. */
    strcpy(a[1].dest, "SIP/x\nK\tinjected");
    cache_save(c, &peer, "1002", "priv", 0, true, NULL, &a[1], 1, 70, 5, false, 1000);

    size_t len;
    struct cachefile_result res;
    char *buf = render(c, 1000, &len, &res);
    CHECK_INT(res.skipped, 2); /* the two keys (e and r) of 1002 */

    /* Restored 10 s later into an empty cache: the same answers, 10 s less to live. */
    struct cache *d = cache_new(100);
    CHECK_INT(cachefile_parse(buf, len, 1000, put, d, &res), 0);
    CHECK_INT(res.keys, 6);
    struct cache_result r;
    cache_result_init(&r);
    if (CHECK(cache_lookup(d, &peer, "1001", "priv", 0x1234abcd, &root, 1010, &r), "1001 found")) {
        CHECK_INT(r.n, 2);
        CHECK_STR(r.answers[0].dest, "SIP/1001@10.0.0.2");
        CHECK(eid_equal(&r.answers[0].eid, &owner), "owner kept");
        CHECK_INT(r.answers[1].weight, 20);
        CHECK_INT(r.expiration, 50);
    }
    cache_result_init(&r);
    CHECK(cache_lookup(d, &peer, "1009", "priv", 0, NULL, 1010, &r), "negative entry found");
    CHECK_INT(r.n, 0);
    cache_result_init(&r);
    CHECK(cache_lookup(d, &peer, "1234", "priv", 7, &root, 1010, &r) && r.hint_hit, "the hint is found");
    CHECK_STR(r.hint_data, "12");
    cache_result_init(&r);
    CHECK(!cache_lookup(d, &peer, "1002", "priv", 0, NULL, 1010, &r), "the unwritable key is not there");

    /* Loaded after 1009 and 1001 expired: only the hint comes back. */
    size_t n = 0;
    CHECK_INT(cachefile_parse(buf, len, 1061, count_only, &n, &res), 0);
    CHECK_INT(n, 2);
    CHECK_INT(res.expired, 4);

    /* Every proper prefix is refused. */
    size_t refused = 0;
    for (size_t i = 0; i < len; i++) {
        n = 0;
        refused += cachefile_parse(buf, i, 1000, count_only, &n, &res) < 0;
    }
    CHECK_INT(refused, len);
    /* One byte changed anywhere: refused, or parsed to keys that still fit. */
    for (size_t i = 0; i < len; i++) {
        char *m = malloc(len);
        memcpy(m, buf, len);
        m[i] = m[i] == '\t' ? 'x' : m[i] == '\n' ? '\t' : '\t';
        n = 0;
        int rc = cachefile_parse(m, len, 1000, count_only, &n, &res);
        CHECK(rc < 0 || n <= 6, "byte %zu: rc %d, %zu keys", i, rc, n);
        free(m);
    }
    const char *bad[] = {
        "# dundid cache 1\nK\t02:00:00:00:00:01\te\t1234abcd\ta\t2000\t1001\tpriv\t65\nE\t1\n",
        "# dundid cache 1\nK\t02:00:00:00:00:01\tx\t1234abcd\ta\t2000\t1001\tpriv\t0\nE\t1\n",
        "# dundid cache 1\nK\t02:00:00:00:00:01\te\t1234abcg\ta\t2000\t1001\tpriv\t0\nE\t1\n",
        "# dundid cache 1\nK\t02:00:00:00:00:01\te\t1234abcd\th\t2000\t12\tpriv\t1\nE\t1\n",
        "# dundid cache 1\nK\t02:00:00:00:00:01\te\t1234abcd\ta\t2000\t\tpriv\t0\nE\t1\n",
        "# dundid cache 1\nK\t02:00:00:00:00:01\te\t1234abcd\ta\t2000\t1001\tpriv\t1\nE\t1\n",
        "# dundid cache 1\nK\t02:00:00:00:00:01\te\t1234abcd\ta\t2000\t1001\tpriv\t1\nA\t02:00:00:00:00:02\t256\t0\t0\tx\nE\t1\n",
        "# dundid cache 1\nE\t1\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        n = 0;
        CHECK(cachefile_parse(bad[i], strlen(bad[i]), 1000, count_only, &n, &res) < 0, "bad file %zu refused", i);
    }
    free(buf);
    cache_free(c);
    cache_free(d);
    return test_summary("test_cachefile");
}
