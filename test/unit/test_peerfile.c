/* The dynamic peers' file: round trip, expiry, every prefix and corruption
 * refused whole. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "dundid/peerfile.h"
#include "testutil.h"

static struct peerfile_entry entry(const char *eid, const char *ip, unsigned port, int64_t expires)
{
    struct peerfile_entry e;
    memset(&e, 0, sizeof(e));
    eid_parse(&e.eid, eid);
    if (strchr(ip, ':')) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&e.addr.ss;
        s6->sin6_family = AF_INET6;
        inet_pton(AF_INET6, ip, &s6->sin6_addr);
        s6->sin6_port = htons((uint16_t)port);
        e.addr.len = sizeof(*s6);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&e.addr.ss;
        s4->sin_family = AF_INET;
        inet_pton(AF_INET, ip, &s4->sin_addr);
        s4->sin_port = htons((uint16_t)port);
        e.addr.len = sizeof(*s4);
    }
    e.expires = expires;
    return e;
}

static size_t render(const struct peerfile_entry *v, size_t n, char *buf, size_t cap)
{
    FILE *f = fmemopen(buf, cap, "w");
    CHECK_INT(peerfile_write(f, v, n), (long)n);
    fclose(f);
    return strlen(buf);
}

int main(void)
{
    struct peerfile_entry in[3] = {entry("02:00:00:00:00:01", "127.0.0.5", 4520, 1000),
                                   entry("02:00:00:00:00:02", "::1", 45210, 2000),
                                   entry("02:00:00:00:00:03", "10.1.2.3", 1, 500)};
    char buf[4096];
    size_t len = render(in, 3, buf, sizeof(buf));
    struct peerfile_entry out[8];
    struct peerfile_result res;

    /* Round trip at now = 600: the third has expired. */
    CHECK_INT(peerfile_parse(buf, len, 600, out, 8, &res), 0);
    CHECK_INT(res.n, 2);
    CHECK_INT(res.expired, 1);
    for (size_t i = 0; i < 2 && i < res.n; i++) {
        CHECK(eid_equal(&out[i].eid, &in[i].eid), "eid %zu", i);
        CHECK(dundi_addr_equal(&out[i].addr, &in[i].addr), "addr %zu", i);
        CHECK_INT(out[i].expires, in[i].expires);
    }
    /* No room: refused, not truncated. */
    CHECK_INT(peerfile_parse(buf, len, 0, out, 2, &res), -1);
    /* Every proper prefix is refused (a torn write). */
    size_t refused = 0;
    for (size_t n = 0; n < len; n++) {
        refused += peerfile_parse(buf, n, 0, out, 8, &res) < 0;
        CHECK(n == 0 || res.err[0], "prefix %zu: a reason", n);
    }
    CHECK_INT(refused, len);
    /* Every single-byte change to a digit, a tab or a letter is either refused or parses to the same count. */
    for (size_t i = 0; i < len; i++) {
        char mut[4096];
        memcpy(mut, buf, len);
        mut[i] = mut[i] == '\t' ? ' ' : mut[i] == 'R' ? 'X' : mut[i] == '\n' ? 'n' : '\t';
        int rc = peerfile_parse(mut, len, 0, out, 8, &res);
        CHECK(rc < 0 || res.n + res.expired == 3, "byte %zu changed: rc %d, %zu entries", i, rc, res.n);
    }
    /* Hostile lines. */
    const char *bad[] = {
        "# dundid peers 2\nE\t0\n",
        "# dundid peers 1\nR\t02:00:00:00:00:01\t127.0.0.1\t70000\t5\nE\t1\n",
        "# dundid peers 1\nR\tzz\t127.0.0.1\t4520\t5\nE\t1\n",
        "# dundid peers 1\nR\t02:00:00:00:00:01\tlocalhost\t4520\t5\nE\t1\n",
        "# dundid peers 1\nR\t02:00:00:00:00:01\t127.0.0.1\t4520\t9999999999999999999\nE\t1\n",
        "# dundid peers 1\nR\t02:00:00:00:00:01\t127.0.0.1\t4520\t-5\nE\t1\n",
        "# dundid peers 1\nE\t1\n",
        "# dundid peers 1\nE\t0\nR\t02:00:00:00:00:01\t127.0.0.1\t4520\t5\n",
        "# dundid peers 1\nR\t02:00:00:00:00:01\t127.0.0.1\t4520\t5\t6\nE\t1\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(peerfile_parse(bad[i], strlen(bad[i]), 0, out, 8, &res) < 0, "bad file %zu refused", i);
    char longline[512] = "# dundid peers 1\nR\t";
    memset(longline + strlen(longline), '1', 200);
    strcat(longline, "\n");
    CHECK(peerfile_parse(longline, strlen(longline), 0, out, 8, &res) < 0, "a long field is refused");
    return test_summary("test_peerfile");
}
