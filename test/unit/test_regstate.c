/* Unit tests of the registration state file (src/reg/regstate.c): write and
 * parse back, save and load on disk, expired bindings skipped, and every
 * kind of corruption rejected whole (line number given, the same verdict
 * with and without a table).
 *
 * Usage: test_regstate [DATADIR [--seeds DIR]]. With --seeds, the valid and
 * corrupt files built here are written to DIR (test/fuzz/corpus/regstate). */
#include "dundid/regstate.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dundid/regtable.h"
#include "testutil.h"

#define T0 1700000000

static const char *seed_dir;
static unsigned nseeds;

static void seed(const char *name, const char *p, size_t n)
{
    if (!seed_dir)
        return;
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", seed_dir, name);
    FILE *f = fopen(path, "wb");
    if (!CHECK(f != NULL, "cannot write %s", path))
        return;
    CHECK(fwrite(p, 1, n, f) == n, "short write to %s", path);
    fclose(f);
    nseeds++;
}

static struct regtable *table(void)
{
    struct regtable *rt = regtable_new(0);
    if (!rt)
        exit(2);
    return rt;
}

static struct regtable_stats stats(const struct regtable *rt)
{
    struct regtable_stats st;
    regtable_get_stats(rt, &st);
    return st;
}

/* ---- every binding of a table as sorted text lines, to compare tables ---- */

struct dump {
    char *lines[256];
    size_t n;
};

static bool dump_one(void *ctx, const struct reg_binding *b)
{
    struct dump *d = ctx;
    if (d->n < 256) {
        char line[1024];
        int n = snprintf(line, sizeof(line), "%s|%s|%s|%s|%s|%" PRId64 "|%" PRId64 "|%d|%x", b->ext, b->contact,
                         b->registrar, b->source, b->user_agent, b->expires, b->updated, (int)b->feed, b->feeds);
        for (int f = 0; f < REG_FEED_COUNT && n > 0 && (size_t)n < sizeof(line); f++)
            n += snprintf(line + n, sizeof(line) - (size_t)n, "|%" PRId64, b->seen[f]);
        d->lines[d->n++] = strdup(line);
    }
    return true;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void dump(const struct regtable *rt, struct dump *d)
{
    d->n = 0;
    regtable_foreach(rt, dump_one, d);
    qsort(d->lines, d->n, sizeof(d->lines[0]), cmp_str);
}

static void dump_free(struct dump *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->lines[i]);
    d->n = 0;
}

static bool same_tables(const struct regtable *a, const struct regtable *b)
{
    struct dump da, db;
    dump(a, &da);
    dump(b, &db);
    bool same = da.n == db.n;
    for (size_t i = 0; same && i < da.n; i++)
        if (strcmp(da.lines[i], db.lines[i])) {
            printf("  differ: %s\n      vs: %s\n", da.lines[i], db.lines[i]);
            same = false;
        }
    dump_free(&da);
    dump_free(&db);
    return same;
}

/* ---- a table worth saving ---- */

static void fill(struct regtable *rt)
{
    static const struct reg_update ups[] = {
        {.ext = "1002", .contact = "sip:1002@10.10.10.63:5060", .registrar = "10.0.0.5",
         .source = "10.10.10.63:5060", .user_agent = "Yealink SIP-T46S 66.86.0.15", .expires = T0 + 3600,
         .feed = REG_FEED_PCAP},
        {.ext = "1002", .contact = "sip:1002@10.10.10.64:5062;transport=tcp", .registrar = "10.0.0.5",
         .source = "10.10.10.64:40000", .user_agent = "Linphone/5.2 (belle-sip/5.2)", .expires = T0 + 60,
         .feed = REG_FEED_HEP},
        {.ext = "1003", .contact = "sips:1003@[2001:db8::63]:5061", .registrar = "2001:db8::5",
         .source = "[2001:db8::63]:5061", .user_agent = "", .expires = T0 + 120, .feed = REG_FEED_REALTIME},
        {.ext = "+15551234", .contact = "tel:+15551234", .registrar = "registrar.example.com", .source = "",
         .user_agent = "caf\xc3\xa9 phone", .expires = T0 + 10, .feed = REG_FEED_STATE},
        {.ext = "2001", .contact = "sip:2001@h", .registrar = "r", .source = "s",
         .user_agent = "tab\there", /* stored as "tab?here" */ .expires = T0 + 5, .feed = REG_FEED_PCAP},
    };
    for (size_t i = 0; i < sizeof(ups) / sizeof(ups[0]); i++)
        if (regtable_apply(rt, &ups[i], T0 - 100 + (int64_t)i) != 0)
            CHECK(0, "fill %zu", i);
    /* 1002's first contact is vouched for by RealTime too, and HEP after it */
    struct reg_update u = ups[0];
    u.feed = REG_FEED_REALTIME;
    CHECK_INT(regtable_apply(rt, &u, T0 - 50), 0);
    u.feed = REG_FEED_HEP;
    CHECK_INT(regtable_apply(rt, &u, T0 - 40), 0);
    /* what the wire saw leave: one known, one of unknown contact */
    u.contact = "sip:1002@10.10.10.70:5060";
    CHECK_INT(regtable_apply(rt, &u, T0 - 30), 0);
    u.expires = 0;
    CHECK_INT(regtable_apply(rt, &u, T0 - 20), 0);
    regtable_note_departure(rt, "1009", "10.0.0.5", T0 - 10);
}

/* regtable_write into memory; returns a malloc'ed buffer */
static char *write_mem(const struct regtable *rt, size_t *len, long *count)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    if (!f)
        exit(2);
    *count = regstate_write(f, rt);
    fclose(f);
    return buf;
}

/* Parse from an exact-size heap copy, so ASan sees any read past the end. */
static int parse_exact(const char *p, size_t n, struct regtable *rt, int64_t now, struct regstate_result *res)
{
    char *c = malloc(n ? n : 1);
    if (!c)
        exit(2);
    memcpy(c, p, n);
    int rc = regstate_parse(c, n, rt, now, res);
    free(c);
    return rc;
}

/* ---- cases ---- */

static void test_round_trip(void)
{
    struct regtable *a = table();
    fill(a);
    size_t len;
    long count;
    char *buf = write_mem(a, &len, &count);
    CHECK_INT(count, 5);
    CHECK(!strncmp(buf, "# dundid registrations 2\n", 25), "magic first: %.30s", buf);
    CHECK(len > 2 && !strcmp(buf + len - 6, "E\t5\t2\n"), "end line last");
    /* lines, exactly */
    CHECK(strstr(buf, "B\t1003\t2001:db8::5\tsips:1003@[2001:db8::63]:5061\t[2001:db8::63]:5061\t1700000120\t"
                      "1699999902\trealtime\t\trealtime:1699999902\n") != NULL,
          "the 1003 line as documented:\n%s", buf);
    CHECK(strstr(buf, "B\t1002\t10.0.0.5\tsip:1002@10.10.10.63:5060\t10.10.10.63:5060\t1700003600\t1699999960\thep\t"
                      "Yealink SIP-T46S 66.86.0.15\tpcap:1699999900,hep:1699999960,realtime:1699999950\n") != NULL,
          "the vouchers of 1002:\n%s", buf);
    CHECK(strstr(buf, "D\t1002\t10.0.0.5\tsip:1002@10.10.10.70:5060\t1700003602\t1699999980\n") != NULL,
          "a departure:\n%s", buf);
    CHECK(strstr(buf, "D\t1009\t10.0.0.5\t\t1700003590\t1699999990\n") != NULL, "an unknown departure:\n%s",
          buf);
    CHECK(strstr(buf, "\ttab?here\tpcap:") != NULL, "UA cleaned before writing");
    seed("valid-5", buf, len);

    struct regtable *b = table();
    struct regstate_result res;
    CHECK_INT(parse_exact(buf, len, NULL, T0, &res), 0); /* check only */
    CHECK_INT(res.line, 0);
    int rc = parse_exact(buf, len, b, T0, &res);
    CHECK_INT(rc, 0);
    CHECK_INT(res.loaded, 5);
    CHECK_INT(res.expired, 0);
    CHECK_INT(res.line, 0);
    CHECK(same_tables(a, b), "round trip keeps every field");
    CHECK_INT(res.departures, 2);
    CHECK_INT(stats(b).departures, 2);
    CHECK_INT(stats(b).bindings, 5);
    CHECK_INT(stats(b).by_feed[REG_FEED_STATE], 1);
    CHECK_INT(regtable_next_expiry(b), T0 + 5);

    /* written again: the same file, line order aside */
    size_t len2;
    long count2;
    char *buf2 = write_mem(b, &len2, &count2);
    CHECK_INT(count2, 5);
    CHECK_INT(len2, len);
    free(buf2);

    /* later: two bindings expired on the way (expires <= now) */
    struct regtable *c = table();
    rc = parse_exact(buf, len, c, T0 + 10, &res);
    CHECK_INT(rc, 0);
    CHECK_INT(res.loaded, 3);
    CHECK_INT(res.expired, 2);
    CHECK_INT(stats(c).bindings, 3);
    CHECK(!regtable_has(c, "2001", T0), "2001 skipped");
    CHECK(!regtable_has(c, "+15551234", T0), "+15551234 skipped (expires == now)");
    /* all expired */
    struct regtable *d = table();
    CHECK_INT(parse_exact(buf, len, d, T0 + 100000, &res), 0);
    CHECK_INT(res.loaded, 0);
    CHECK_INT(res.expired, 5);
    CHECK_INT(stats(d).bindings, 0);

    /* an empty table: magic and "E 0" */
    struct regtable *e = table();
    size_t elen;
    long ecount;
    char *ebuf = write_mem(e, &elen, &ecount);
    CHECK_INT(ecount, 0);
    CHECK_STR(ebuf, "# dundid registrations 2\nE\t0\t0\n");
    CHECK_INT(parse_exact(ebuf, elen, e, T0, &res), 0);
    CHECK_INT(res.loaded, 0);
    seed("valid-empty", ebuf, elen);
    free(ebuf);

    free(buf);
    regtable_free(a);
    regtable_free(b);
    regtable_free(c);
    regtable_free(d);
    regtable_free(e);
}

/* "updated" from the future is brought back to now; the past is kept. */
static void test_updated_clamped(void)
{
    const char *text = "# dundid registrations 1\n"
                       "B\t1\tr\tsip:a@h\t\t1700000500\t1700000400\tpcap\t\n"
                       "B\t2\tr\tsip:b@h\t\t1700000500\t1699999000\thep\tua\n"
                       "E\t2\n";
    struct regtable *rt = table();
    struct regstate_result res;
    CHECK_INT(parse_exact(text, strlen(text), rt, T0, &res), 0);
    struct reg_binding b;
    if (CHECK(regtable_get(rt, "1", T0, &b, 1) == 1, "1 loaded"))
        CHECK_INT(b.updated, T0);
    if (CHECK(regtable_get(rt, "2", T0, &b, 1) == 1, "2 loaded")) {
        CHECK_INT(b.updated, 1699999000);
        CHECK_INT(b.feed, REG_FEED_HEP);
        CHECK_STR(b.user_agent, "ua");
        CHECK_STR(b.source, "");
    }
    seed("valid-clamped", text, strlen(text));
    regtable_free(rt);
}

/* Numbers at their bounds: INT64_MAX is the largest expiry, leading zeros
 * are the same number (the bad side is in test_corrupt). */
static void test_number_bounds(void)
{
    const char *text = "# dundid registrations 1\n"
                       "B\t1\tr\tsip:a@h\t\t9223372036854775807\t1699999000\tpcap\t\n"
                       "B\t2\tr\tsip:b@h\t\t00000000000000000000001700000500\t0001699999000\thep\t\n"
                       "E\t0000000000000000000002\n";
    struct regtable *rt = table();
    struct regstate_result res;
    CHECK_INT(parse_exact(text, strlen(text), rt, T0, &res), 0);
    CHECK_INT(res.loaded, 2);
    struct reg_binding b;
    if (CHECK(regtable_get(rt, "1", T0, &b, 1) == 1, "1 loaded"))
        CHECK_INT(b.expires, INT64_MAX);
    if (CHECK(regtable_get(rt, "2", T0, &b, 1) == 1, "2 loaded")) {
        CHECK_INT(b.expires, 1700000500);
        CHECK_INT(b.updated, 1699999000);
    }
    seed("valid-bounds", text, strlen(text));
    regtable_free(rt);
}

/* Backup registrations (keep_other_registrars): the same contact at two
 * registrars survives the round trip only into a table with the same
 * setting; into a default table the second line moves the first. So the
 * daemon must set it before loading the state file. */
static void test_keep_other_registrars(void)
{
    struct regtable *a = table();
    regtable_set_keep_other_registrars(a, true);
    struct reg_update u = {.ext = "1002", .contact = "sip:1002@10.10.10.63", .registrar = "10.0.0.5",
                           .expires = T0 + 600, .feed = REG_FEED_PCAP};
    CHECK_INT(regtable_apply(a, &u, T0 - 10), 0);
    u.registrar = "10.0.0.6";
    CHECK_INT(regtable_apply(a, &u, T0 - 5), 0);
    CHECK_INT(stats(a).bindings, 2);
    size_t len;
    long count;
    char *buf = write_mem(a, &len, &count);
    CHECK_INT(count, 2);
    struct regstate_result res;
    struct regtable *b = table();
    regtable_set_keep_other_registrars(b, true);
    CHECK_INT(parse_exact(buf, len, b, T0, &res), 0);
    CHECK_INT(res.loaded, 2);
    CHECK_INT(stats(b).bindings, 2);
    CHECK(same_tables(a, b), "both registrations kept");
    struct regtable *c = table();
    CHECK_INT(parse_exact(buf, len, c, T0, &res), 0);
    CHECK_INT(stats(c).bindings, 1);
    CHECK_INT(stats(c).moved, 1);
    free(buf);
    regtable_free(a);
    regtable_free(b);
    regtable_free(c);
}

static char *tmpdir_path;

static void test_save_load(void)
{
    char tmpl[] = "/tmp/test_regstate.XXXXXX";
    tmpdir_path = mkdtemp(tmpl);
    if (!CHECK(tmpdir_path != NULL, "mkdtemp: %s", strerror(errno)))
        return;
    char path[512], tmp[600];
    snprintf(path, sizeof(path), "%s/registrations.state", tmpdir_path);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);

    /* a missing file is not an error */
    struct regtable *rt = table();
    struct regstate_result res;
    memset(&res, 0x55, sizeof(res));
    CHECK_INT(regstate_load(path, rt, T0, &res), 0);
    CHECK_INT(res.loaded, 0);
    CHECK_INT(res.line, 0);
    CHECK_INT(stats(rt).bindings, 0);

    struct regtable *a = table();
    fill(a);
    char err[256] = "";
    mode_t old = umask(022);
    CHECK_INT(regstate_save(path, a, err, sizeof(err)), 0);
    struct stat st;
    if (CHECK(stat(path, &st) == 0, "saved file exists"))
        CHECK_INT(st.st_mode & 0777, 0600);
    CHECK(access(tmp, F_OK) != 0, "no .tmp left behind");
    CHECK_INT(regstate_load(path, rt, T0, &res), 0);
    CHECK_INT(res.loaded, 5);
    CHECK(same_tables(a, rt), "load gives back what was saved");

    /* saving again replaces it, even over a stale .tmp with a wider mode */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        CHECK(write(fd, "junk", 4) == 4, "write stale tmp");
        fchmod(fd, 0644);
        close(fd);
    }
    struct reg_update u = {.ext = "9999", .contact = "sip:9@h", .registrar = "r", .expires = T0 + 50};
    CHECK_INT(regtable_apply(a, &u, T0), 0);
    CHECK_INT(regstate_save(path, a, err, sizeof(err)), 0);
    if (CHECK(stat(path, &st) == 0, "saved file exists"))
        CHECK_INT(st.st_mode & 0777, 0600);
    CHECK(access(tmp, F_OK) != 0, "no .tmp left behind");
    struct regtable *b = table();
    CHECK_INT(regstate_load(path, b, T0, &res), 0);
    CHECK_INT(res.loaded, 6);
    CHECK(same_tables(a, b), "second save");
    umask(old);

    /* a corrupt file on disk: refused, nothing loaded */
    FILE *f = fopen(path, "w");
    if (f) {
        fputs("# dundid registrations 1\nB\t1\tr\tsip:a@h\t\t1700000500\t1\tpcap\t\n", f);
        fclose(f);
    }
    struct regtable *c = table();
    CHECK_INT(regstate_load(path, c, T0, &res), -1);
    CHECK_INT(res.line, 2);
    CHECK(res.err[0] != '\0', "error text");
    regtable_free(c); /* what was read before the damage: the caller drops it */
    c = table();
    /* an empty file is an error (the daemon never writes one) */
    f = fopen(path, "w");
    if (f)
        fclose(f);
    CHECK_INT(regstate_load(path, c, T0, &res), -1);
    CHECK_INT(res.line, 1);
    /* a folder is not a state file */
    CHECK_INT(regstate_load(tmpdir_path, c, T0, &res), -1);
    CHECK(res.err[0] != '\0', "error text for a folder");
    CHECK_INT(stats(c).bindings, 0);

    /* saving where the folder is missing fails cleanly */
    char bad[600];
    snprintf(bad, sizeof(bad), "%s/no/such/dir/state", tmpdir_path);
    err[0] = '\0';
    CHECK_INT(regstate_save(bad, a, err, sizeof(err)), -1);
    CHECK(err[0] != '\0', "error text for a missing folder");

    unlink(path);
    unlink(tmp);
    rmdir(tmpdir_path);
    regtable_free(rt);
    regtable_free(a);
    regtable_free(b);
    regtable_free(c);
}

/* Must be refused whole: -1, LINE and an error text, the same with and
 * without a table. The parse is one pass, so the table may hold bindings of
 * the lines before LINE (the caller drops it), never of LINE or later. */
static void expect_bad(const char *name, const char *text, size_t len, size_t line)
{
    struct regtable *rt = table();
    struct regstate_result res, chk;
    int rc = parse_exact(text, len, rt, T0, &res);
    int rc_chk = parse_exact(text, len, NULL, T0, &chk);
    if (!CHECK(rc == -1 && rc_chk == -1, "%s: accepted (%d, check only %d)", name, rc, rc_chk)) {
        regtable_free(rt);
        return;
    }
    if (line)
        CHECK(res.line == line, "%s: line %zu, want %zu (%s)", name, res.line, line, res.err);
    else
        CHECK(res.line > 0, "%s: no line given", name);
    CHECK(chk.line == res.line && !strcmp(chk.err, res.err), "%s: check only says line %zu (%s), not %zu (%s)",
          name, chk.line, chk.err, res.line, res.err);
    CHECK(res.err[0] != '\0', "%s: no error text", name);
    CHECK(!!strstr(res.err, "line "), "%s: error text without the line: %s", name, res.err);
    /* binding lines before the bad one; a missing end line is reported at
     * the last line there is, which may be a good binding */
    size_t before = res.line >= 2 ? res.line - 2 : 0;
    if (strstr(res.err, "no end line"))
        before = res.line - 1;
    struct regtable_stats st = stats(rt);
    CHECK(res.loaded <= before && st.bindings <= before, "%s: %zu loaded, %llu in the table, with %zu lines before",
          name, res.loaded, (unsigned long long)st.bindings, before);
    regtable_free(rt);
}

#define HDR "# dundid registrations 1\n"
#define GOOD "B\t1002\t10.0.0.5\tsip:1002@10.10.10.63:5060\t10.10.10.63:5060\t1700003600\t1699999000\tpcap\tUA\n"

static void test_corrupt(void)
{
    /* every prefix of a small valid file */
    const char *valid = HDR GOOD "B\t1003\tr\tsip:1003@h\t\t1700000100\t1699999999\thep\t\n"
                                 "E\t2\n";
    size_t vlen = strlen(valid);
    struct regtable *rt = table();
    struct regstate_result res;
    CHECK_INT(parse_exact(valid, vlen, rt, T0, &res), 0);
    CHECK_INT(res.loaded, 2);
    regtable_free(rt);
    unsigned accepted = 0;
    for (size_t n = 0; n < vlen; n++) {
        rt = table();
        if (parse_exact(valid, n, rt, T0, &res) != -1 || res.line == 0 || res.loaded > 2)
            accepted++;
        if (parse_exact(valid, n, NULL, T0, &res) != -1 || res.line == 0)
            accepted++;
        regtable_free(rt);
    }
    CHECK(accepted == 0, "%u of %zu truncations accepted", accepted, vlen);
    seed("valid-2", valid, vlen);

    struct {
        const char *name, *text;
        size_t line;
    } cases[] = {
        {"empty", "", 1},
        {"only magic", HDR, 1},
        {"no end line", HDR GOOD, 2},
        {"magic v3", "# dundid registrations 3\n" GOOD "E\t1\n", 1},
        {"magic with CR", "# dundid registrations 1\r\n" GOOD "E\t1\n", 1},
        {"magic prefix", "# dundid registrations\n" GOOD "E\t1\n", 1},
        {"magic longer", "# dundid registrations 10\n" GOOD "E\t1\n", 1},
        {"no magic", GOOD "E\t1\n", 1},
        {"count low", HDR GOOD GOOD "E\t1\n", 4},
        {"count high", HDR GOOD "E\t2\n", 3},
        {"count empty", HDR GOOD "E\t\n", 3},
        {"count text", HDR GOOD "E\tone\n", 3},
        {"count negative", HDR GOOD "E\t-1\n", 3},
        {"count signed", HDR GOOD "E\t+1\n", 3},
        {"count huge", HDR GOOD "E\t18446744073709551617\n", 3},
        {"count 19 nines", HDR GOOD "E\t9999999999999999999\n", 3},
        {"count INT64_MAX", HDR GOOD "E\t9223372036854775807\n", 3},
        {"count 20 digits", HDR GOOD "E\t10000000000000000001\n", 3},
        {"end with extra field", HDR GOOD "E\t1\tx\n", 3},
        {"end with space", HDR GOOD "E 1\n", 3},
        {"data after end", HDR GOOD "E\t1\n" GOOD, 4},
        {"empty line after end", HDR GOOD "E\t1\n\n", 4},
        {"second end", HDR GOOD "E\t1\nE\t1\n", 4},
        {"no newline after end", HDR GOOD "E\t1", 3},
        {"empty line", HDR "\n" GOOD "E\t1\n", 2},
        {"lower-case b", HDR "b\t1\tr\tsip:a@h\t\t1700000500\t1\tpcap\t\nE\t1\n", 2},
        {"8 fields", HDR "B\t1\tr\tsip:a@h\t\t1700000500\t1\tpcap\nE\t1\n", 2},
        {"10 fields", HDR "B\t1\tr\tsip:a@h\t\t1700000500\t1\tpcap\tua\tx\nE\t1\n", 2},
        {"spaces for tabs", HDR "B 1 r sip:a@h s 1700000500 1 pcap ua\nE\t1\n", 2},
        {"empty ext", HDR "B\t\tr\tsip:a@h\t\t1700000500\t1\tpcap\t\nE\t1\n", 2},
        {"empty registrar", HDR "B\t1\t\tsip:a@h\t\t1700000500\t1\tpcap\t\nE\t1\n", 2},
        {"empty contact", HDR "B\t1\tr\t\t\t1700000500\t1\tpcap\t\nE\t1\n", 2},
        {"unknown feed", HDR "B\t1\tr\tsip:a@h\t\t1700000500\t1\tsnmp\t\nE\t1\n", 2},
        {"empty feed", HDR "B\t1\tr\tsip:a@h\t\t1700000500\t1\t\t\nE\t1\n", 2},
        {"feed case", HDR "B\t1\tr\tsip:a@h\t\t1700000500\t1\tPCAP\t\nE\t1\n", 2},
        {"expiry text", HDR "B\t1\tr\tsip:a@h\t\tsoon\t1\tpcap\t\nE\t1\n", 2},
        {"expiry digits+text", HDR "B\t1\tr\tsip:a@h\t\t1700000500s\t1\tpcap\t\nE\t1\n", 2},
        {"expiry empty", HDR "B\t1\tr\tsip:a@h\t\t\t1\tpcap\t\nE\t1\n", 2},
        {"expiry negative", HDR "B\t1\tr\tsip:a@h\t\t-5\t1\tpcap\t\nE\t1\n", 2},
        {"expiry space", HDR "B\t1\tr\tsip:a@h\t\t 1700000500\t1\tpcap\t\nE\t1\n", 2},
        {"expiry 20 digits", HDR "B\t1\tr\tsip:a@h\t\t17000005000000000000\t1\tpcap\t\nE\t1\n", 2},
        {"expiry over int64", HDR "B\t1\tr\tsip:a@h\t\t9223372036854775808\t1\tpcap\t\nE\t1\n", 2},
        {"expiry 19 nines", HDR "B\t1\tr\tsip:a@h\t\t9999999999999999999\t1\tpcap\t\nE\t1\n", 2},
        {"updated text", HDR "B\t1\tr\tsip:a@h\t\t1700000500\tx\tpcap\t\nE\t1\n", 2},
        {"updated over int64", HDR "B\t1\tr\tsip:a@h\t\t1700000500\t9999999999999999999\tpcap\t\nE\t1\n", 2},
        {"CRLF", HDR "B\t1\tr\tsip:a@h\t\t1700000500\t1\tpcap\t\r\nE\t1\n", 2},
        {"control in UA", HDR "B\t1\tr\tsip:a@h\t\t1700000500\t1\tpcap\tx\x01y\nE\t1\n", 2},
        {"DEL in contact", HDR "B\t1\tr\tsip:a\x7f@h\t\t1700000500\t1\tpcap\t\nE\t1\n", 2},
        {"ESC in ext", HDR "B\t1\x1b\tr\tsip:a@h\t\t1700000500\t1\tpcap\t\nE\t1\n", 2},
        {"control on the 4th line", HDR GOOD GOOD "B\t1\tr\tsip:a@h\t\x02\t1700000500\t1\tpcap\t\nE\t3\n", 4},
        {"bad last binding", HDR GOOD GOOD GOOD "B\t1\tr\tsip:a@h\t\t1700000500\t1\tpcap\nE\t4\n", 5},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        expect_bad(cases[i].name, cases[i].text, strlen(cases[i].text), cases[i].line);
        char name[64];
        snprintf(name, sizeof(name), "bad-%02zu", i);
        seed(name, cases[i].text, strlen(cases[i].text));
    }
    /* version 2: vouchers and departures */
#define HDR2 "# dundid registrations 2\n"
#define B2 "B\t1\tr\tsip:a@h\t\t1700000500\t1\tpcap\t\t"
    struct {
        const char *name, *text;
        size_t line;
    } v2[] = {
        {"v2 without vouchers", HDR2 "B\t1\tr\tsip:a@h\t\t1700000500\t1\tpcap\t\nE\t1\t0\n", 2},
        {"v2 v1 end line", HDR2 B2 "pcap:1\nE\t1\n", 3},
        {"v2 departures counted wrong", HDR2 B2 "pcap:1\nE\t1\t1\n", 3},
        {"vouchers empty", HDR2 B2 "\nE\t1\t0\n", 2},
        {"vouchers without the feed", HDR2 B2 "hep:1\nE\t1\t0\n", 2},
        {"vouchers unknown feed", HDR2 B2 "pcap:1,sip:2\nE\t1\t0\n", 2},
        {"vouchers twice", HDR2 B2 "pcap:1,pcap:2\nE\t1\t0\n", 2},
        {"vouchers no time", HDR2 B2 "pcap\nE\t1\t0\n", 2},
        {"vouchers empty time", HDR2 B2 "pcap:\nE\t1\t0\n", 2},
        {"vouchers time 0", HDR2 B2 "pcap:0\nE\t1\t0\n", 2},
        {"vouchers trailing comma", HDR2 B2 "pcap:1,\nE\t1\t0\n", 2},
        {"vouchers empty item", HDR2 B2 "pcap:1,,hep:2\nE\t1\t0\n", 2},
        {"vouchers long name", HDR2 B2 "pcappcappcappcappcap:1\nE\t1\t0\n", 2},
        {"vouchers time text", HDR2 B2 "pcap:x1\nE\t1\t0\n", 2},
        {"departure short", HDR2 "D\t1\tr\tsip:a@h\t1700000500\nE\t0\t1\n", 2},
        {"departure long", HDR2 "D\t1\tr\tsip:a@h\t1700000500\t1\t2\nE\t0\t1\n", 2},
        {"departure empty ext", HDR2 "D\t\tr\tsip:a@h\t1700000500\t1\nE\t0\t1\n", 2},
        {"departure until text", HDR2 "D\t1\tr\tsip:a@h\tlater\t1\nE\t0\t1\n", 2},
        {"departure in v1", HDR "D\t1\tr\tsip:a@h\t1700000500\t1\nE\t1\n", 2},
    };
    for (size_t i = 0; i < sizeof(v2) / sizeof(v2[0]); i++) {
        expect_bad(v2[i].name, v2[i].text, strlen(v2[i].text), v2[i].line);
        char name[64];
        snprintf(name, sizeof(name), "bad-v2-%02zu", i);
        seed(name, v2[i].text, strlen(v2[i].text));
    }
    /* a good v2 file: vouchers restored in time order, the named feed last;
     * a departure refuses the stale record; an expired one is skipped */
    const char *good2 = HDR2 "B\t7\tr\tsip:7@h\t\t1700000500\t1699999990\thep\tua\trealtime:1699999980,hep:1699999990,"
                             "pcap:1699999970\n"
                             "D\t8\tr\tsip:8@h\t1700000400\t1699999950\n"
                             "D\t9\tr\t\t1699999999\t1699999950\n"
                             "E\t1\t2\n";
    rt = table();
    CHECK_INT(parse_exact(good2, strlen(good2), rt, T0, &res), 0);
    CHECK_INT(res.loaded, 1);
    CHECK_INT(res.departures, 1);
    struct reg_binding gb;
    if (CHECK(regtable_get(rt, "7", T0, &gb, 1) == 1, "7 loaded")) {
        CHECK_INT(gb.feed, REG_FEED_HEP);
        CHECK_INT(gb.updated, 1699999990);
        CHECK_INT(gb.seen[REG_FEED_PCAP], 1699999970);
        CHECK_INT(gb.seen[REG_FEED_REALTIME], 1699999980);
        CHECK_INT(gb.seen[REG_FEED_STATE], 0);
    }
    struct reg_update stale = {.ext = "8", .contact = "sip:8@h", .registrar = "r", .expires = 1700000400,
                               .feed = REG_FEED_REALTIME};
    CHECK_INT(regtable_apply(rt, &stale, T0), REG_APPLY_REFUSED);
    seed("valid-v2", good2, strlen(good2));
    regtable_free(rt);

    /* NUL in a field */
    static const char nul[] = HDR "B\t1\tr\tsip:a\0@h\t\t1700000500\t1\tpcap\t\nE\t1\n";
    expect_bad("NUL", nul, sizeof(nul) - 1, 2);

    /* fields one past their limit (and at it: accepted) */
    struct {
        const char *name;
        int field; /* 1 ext, 2 registrar, 3 contact, 4 source, 8 ua */
        size_t max;
    } lim[] = {{"ext", 1, REG_EXT_MAX},       {"registrar", 2, REG_REGISTRAR_MAX}, {"contact", 3, REG_CONTACT_MAX},
               {"source", 4, REG_SOURCE_MAX}, {"ua", 8, REG_UA_MAX}};
    for (size_t i = 0; i < sizeof(lim) / sizeof(lim[0]); i++)
        for (size_t extra = 0; extra <= 1; extra++) {
            char fld[9][400] = {"B", "1", "r", "sip:a@h", "", "1700000500", "1", "pcap", ""};
            memset(fld[lim[i].field], 'x', lim[i].max + extra);
            fld[lim[i].field][lim[i].max + extra] = '\0';
            char text[4096];
            snprintf(text, sizeof(text), HDR "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\nE\t1\n", fld[0], fld[1], fld[2],
                     fld[3], fld[4], fld[5], fld[6], fld[7], fld[8]);
            char name[64];
            snprintf(name, sizeof(name), "%s of %zu", lim[i].name, lim[i].max + extra);
            if (extra) {
                expect_bad(name, text, strlen(text), 2);
                continue;
            }
            rt = table();
            int rc = parse_exact(text, strlen(text), rt, T0, &res);
            CHECK(rc == 0 && res.loaded == 1, "%s: rc %d loaded %zu (%s)", name, rc, res.loaded, res.err);
            regtable_free(rt);
        }
    /* the largest epoch second is fine (and a long way off) */
    const char *maxexp = HDR "B\t1\tr\tsip:a@h\t\t9223372036854775807\t0\tstate\t\nE\t1\n";
    rt = table();
    CHECK_INT(parse_exact(maxexp, strlen(maxexp), rt, T0, &res), 0);
    CHECK_INT(res.loaded, 1);
    CHECK(regtable_next_expiry(rt) == INT64_MAX, "expires at INT64_MAX");
    regtable_free(rt);
}

int main(int argc, char **argv)
{
    if (argc >= 4 && !strcmp(argv[2], "--seeds"))
        seed_dir = argv[3];
    test_round_trip();
    test_updated_clamped();
    test_number_bounds();
    test_keep_other_registrars();
    test_save_load();
    test_corrupt();
    if (seed_dir)
        printf("wrote %u seeds to %s\n", nseeds, seed_dir);
    return test_summary("test_regstate");
}
