/* Unit tests for Asterisk's file syntax (conftext.c), the Asterisk folder
 * (asterisk.c) and extensions.conf as answer sources (extensions.c and
 * mapping.c's context search), through an in-memory file provider, and the
 * shipped sample folder from disk. argv[1]: the test data directory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dundid/clock.h"
#include "dundid/config.h"
#include "dundid/dp_timing.h"
#include "dundid/conf_text.h"
#include "dundid/mapping.h"
#include "dundid/wire.h"
#include "testutil.h"

static const char *datadir;

/* ---- an in-memory folder ---- */

struct memfs {
    const char *name[16];
    const char *text[16];
    size_t n;
};

static int mem_read(void *u, const char *path, size_t max, char **data, size_t *len, char *err, size_t errlen)
{
    const struct memfs *m = u;
    for (size_t i = 0; i < m->n; i++)
        if (!strcmp(m->name[i], path)) {
            size_t n = strlen(m->text[i]);
            if (n > max) {
                snprintf(err, errlen, "larger than %zu bytes", max);
                return -1;
            }
            *data = malloc(n + 1);
            memcpy(*data, m->text[i], n + 1);
            *len = n;
            return 0;
        }
    snprintf(err, errlen, "cannot open: No such file or directory");
    return -2;
}

/* Glob: one star in the name, enough for the tests. */
static int mem_glob(void *u, const char *pattern, void (*each)(void *, const char *), void *ctx, char *err,
                    size_t errlen)
{
    const struct memfs *m = u;
    const char *star = strchr(pattern, '*');
    int n = 0;
    (void)err;
    (void)errlen;
    for (size_t i = 0; star && i < m->n; i++) {
        size_t pre = (size_t)(star - pattern), nl = strlen(m->name[i]), sl = strlen(star + 1);
        if (nl >= pre + sl && !strncmp(m->name[i], pattern, pre) && !strcmp(m->name[i] + nl - sl, star + 1)) {
            each(ctx, m->name[i]);
            n++;
        }
    }
    return n;
}

static int mem_exec(void *u, const char *cmd, size_t max, char **data, size_t *len, char *err, size_t errlen)
{
    (void)u;
    (void)max;
    (void)err;
    (void)errlen;
    char buf[256];
    snprintf(buf, sizeof(buf), "[general]\ncountry = %s\n", cmd);
    *data = strdup(buf);
    *len = strlen(buf);
    return 0;
}

static void dump(const struct config_diag *d)
{
    for (size_t i = 0; i < d->n; i++)
        printf("    diag[%zu] %s\n", i, d->msg[i]);
}

static bool has_msg(const struct config_diag *d, const char *want)
{
    for (size_t i = 0; i < d->n; i++)
        if (strstr(d->msg[i], want))
            return true;
    return false;
}

#define CHECK_MSG(d, want)                                                                              \
    do {                                                                                                \
        if (!CHECK(has_msg(d, want), "a diagnostic with \"%s\"", want))                                 \
            dump(d);                                                                                    \
    } while (0)

/* Parse (no probe) with dundid's file and/or an Asterisk folder. */
static struct config *parse(struct memfs *m, const char *path, const char *astdir, struct config_diag *d)
{
    struct conf_fs fs = {mem_read, mem_glob, mem_exec, m};
    return config_parse_src(&(struct config_src){.path = path, .astdir = astdir, .fs = &fs}, d);
}

#define GEN "[general]\nentityid = 02:00:00:00:00:01\n"
#define CHECK_INT_OK(got, want) CHECK((long long)(got) == (long long)(want), "%s = %lld, want %lld", #got, (long long)(got), (long long)(want))

/* ---- the syntax ---- */

static void test_includes(void)
{
    struct memfs m = {{"/e/d.conf", "/e/more.conf", "/e/d.d/a.conf", "/e/d.d/b.conf", "/e/d.d/x.txt"},
                      {"[general]\n#include more.conf\n#include \"d.d/*.conf\"\n#tryinclude <nothere.conf>\n",
                       "entityid = 02:00:00:00:00:01\n", "[mappings]\ne164 => a,1,SIP,x/${NUMBER}\n[context a]\n",
                       "[context b]\nexten => 1\n", "garbage without equals\n"},
                      5};
    struct config_diag d;
    struct config *c = parse(&m, "/e/d.conf", NULL, &d);
    if (!CHECK(c != NULL, "includes with a glob load"))
        dump(&d);
    if (c) {
        CHECK_INT(c->nmaps, 1);
        CHECK_INT(c->ncontexts, 2);
        CHECK(c->has_eid, "entityid from the included file");
        CHECK_INT(c->src.n, 4);
    }
    config_free(c);
    config_diag_free(&d);

    /* a problem in an included file names it and the chain */
    m = (struct memfs){{"/e/d.conf", "/e/one.conf", "/e/two.conf"},
                       {GEN "#include one.conf\n", "; one\n#include two.conf\n", "[general]\nttl = 500\n"},
                       3};
    c = parse(&m, "/e/d.conf", NULL, &d);
    CHECK(c == NULL, "bad ttl in a twice-included file fails");
    CHECK_MSG(&d, "/e/two.conf:2: ttl: '500' must be 1..119 (included from /e/one.conf:2, from /e/d.conf:3)");
    config_free(c);
    config_diag_free(&d);

    /* a loop, and a missing #include */
    m = (struct memfs){{"/e/d.conf", "/e/loop.conf"}, {GEN "#include loop.conf\n#include gone.conf\n", "#include loop.conf\n"}, 2};
    c = parse(&m, "/e/d.conf", NULL, &d);
    CHECK(c == NULL, "an include loop fails");
    CHECK_MSG(&d, "/e/loop.conf:1: include loop: '/e/loop.conf' is already being read (included from /e/d.conf:3)");
    CHECK_MSG(&d, "/e/d.conf:4: cannot include '/e/gone.conf': cannot open: No such file or directory");
    config_free(c);
    config_diag_free(&d);

    /* depth: a chain of 12 distinct files stops at 10 levels */
    static char names[13][32], texts[13][64];
    m.n = 0;
    for (int i = 0; i < 13; i++) {
        snprintf(names[i], sizeof(names[i]), "/e/f%d.conf", i);
        snprintf(texts[i], sizeof(texts[i]), "%s#include f%d.conf\n", i ? "" : GEN, i + 1);
        m.name[m.n] = names[i];
        m.text[m.n++] = texts[i];
    }
    c = parse(&m, "/e/f0.conf", NULL, &d);
    CHECK(c == NULL, "too deep fails");
    CHECK_MSG(&d, "#include nested more than 10 levels deep");
    config_free(c);
    config_diag_free(&d);
}

static void test_templates_and_directives(void)
{
    struct memfs m = {{"/e/d.conf"},
                      {GEN "[tpl](!)\nmodel = symmetric\nhost = 192.0.2.1\n"
                           "[02:00:00:00:00:02](tpl)\nhost = 192.0.2.2\n"
                           "[02:00:00:00:00:03](tpl)\n"
                           "[general](+)\ncountry = US\ncountry += A\n"
                           "#exec /bin/echo\n"},
                      1};
    struct config_diag d;
    struct config *c = parse(&m, "/e/d.conf", NULL, &d);
    if (!CHECK(c != NULL, "templates load"))
        dump(&d);
    if (c) {
        CHECK_INT(c->npeers, 2);
        if (c->npeers == 2) {
            CHECK_STR(c->peers[0].host, "192.0.2.2"); /* own line after the template's */
            CHECK_STR(c->peers[1].host, "192.0.2.1");
            CHECK_INT(c->peers[1].model, MODEL_SYMMETRIC);
        }
        CHECK_STR(c->country, "USA");
    }
    CHECK_MSG(&d, "/e/d.conf:12: warning: #exec /bin/echo skipped: commands run only with 'execincludes = yes'");
    config_free(c);
    config_diag_free(&d);

    /* unknown template, (+) of nothing, self inheritance, junk: refused */
    m.text[0] = GEN "[a](nosuch)\nx = 1\n[b](+)\n[c](c)\n[d\n#bogus\n\x01\n";
    c = parse(&m, "/e/d.conf", NULL, &d);
    CHECK(c == NULL, "bad templates fail");
    CHECK_MSG(&d, "/e/d.conf:3: section [a]: template or section 'nosuch' is not defined before this line");
    CHECK_MSG(&d, "/e/d.conf:5: section [b](+): no section [b] before to add to");
    CHECK_MSG(&d, "/e/d.conf:6: section [c]: template or section 'c' is not defined before this line");
    CHECK_MSG(&d, "/e/d.conf:7: section header without ']'");
    CHECK_MSG(&d, "/e/d.conf:8: unknown directive '#bogus'");
    config_free(c);
    config_diag_free(&d);

    /* a NUL byte: not a text file */
    static const char bin[] = GEN "x\0y\n";
    char *t = malloc(sizeof(bin));
    memcpy(t, bin, sizeof(bin));
    FILE *f = fmemopen(t, sizeof(bin) - 1, "r");
    c = config_parse_stream(f, "bin.conf", &d);
    fclose(f);
    free(t);
    CHECK(c == NULL, "a binary file fails");
    CHECK_MSG(&d, "bin.conf:3: not a text file (a NUL byte)");
    config_free(c);
    config_diag_free(&d);

    /* exponential templates are bounded */
    static char big[4096];
    size_t o = (size_t)snprintf(big, sizeof(big), GEN "[t0](!)\na=1\nb=2\n");
    for (int i = 1; i < 40; i++)
        o += (size_t)snprintf(big + o, sizeof(big) - o, "[t%d](!,t%d,t%d)\n", i, i - 1, i - 1);
    m.text[0] = big;
    c = parse(&m, "/e/d.conf", NULL, &d);
    CHECK(c == NULL, "2^40 keys through templates fail");
    CHECK_MSG(&d, "templates copy more than 65536 keys: refused");
    config_free(c);
    config_diag_free(&d);
}

/* ---- time conditions (TZ=UTC, set in main) ---- */

static int64_t monday_10(void) { return 1796637600; }   /* 2026-12-07 10:00 */
static int64_t monday_1700(void) { return 1796662800; } /* 17:00: the last minute of 08:00-17:00 */
static int64_t monday_1701(void) { return 1796662860; }
static int64_t saturday_10(void) { return 1796464800; } /* 2026-12-05 */

static bool timing_at(const char *spec, int wday, int hour, int min, int mday, int mon)
{
    struct dp_timing t;
    int skipped = 0;
    struct tm tm = {.tm_wday = wday, .tm_hour = hour, .tm_min = min, .tm_mday = mday, .tm_mon = mon};
    dp_timing_parse(&t, spec, &skipped);
    return dp_timing_match(&t, &tm);
}

static void test_timing(void)
{
    CHECK(timing_at("", 0, 0, 0, 1, 0), "empty is always");
    CHECK(timing_at("*,*,*,*", 3, 23, 59, 31, 11), "stars are always");
    CHECK(timing_at("17:02-8:58,mon-fri,*,*", 1, 23, 0, 7, 11), "a time range across midnight");
    CHECK(!timing_at("17:02-8:58,mon-fri,*,*", 1, 12, 0, 7, 11), "noon is outside 17:02-8:58");
    CHECK(!timing_at("17:02-8:58,mon-fri,*,*", 1, 17, 1, 7, 11), "17:01 is outside");
    CHECK(timing_at("*,fri-mon,*,*", 0, 12, 0, 7, 11), "a weekday range that wraps (Sunday)");
    CHECK(!timing_at("*,fri-mon,*,*", 3, 12, 0, 7, 11), "Wednesday is outside fri-mon");
    CHECK(timing_at("*,*,1&15,dec", 2, 12, 0, 15, 11), "'&' joins days");
    CHECK(!timing_at("*,*,1&15,dec", 2, 12, 0, 14, 11), "the 14th is not listed");
    CHECK(timing_at("*,*,*,12", 2, 12, 0, 14, 11), "a month by number");
    CHECK(!timing_at("*,*,*,jan-nov", 2, 12, 0, 14, 11), "December is outside jan-nov");
    struct dp_timing t;
    int skipped = 0;
    dp_timing_parse(&t, "25:00&9:00,funday,*,*,Europe/Paris", &skipped);
    CHECK_INT(skipped, 2);
    CHECK(t.has_timezone, "a fifth field is a time zone");
}

/* ---- an Asterisk folder ---- */

static const char ast_conf[] = "[options]\nentityid = 02:00:00:00:00:aa\nsystemname = pbx1\n"
                               "[directories]\nastkeydir => /keys/ast\n";
static const char dundi_conf[] = "[general]\nttl = 500\nbogus = 1\n"
                                 "#exec /bin/true\n"
                                 "[mappings]\n"
                                 "e164 => dundi-e164,${W},IAX2,dundi:${SECRET}@${IPADDR}/${NUMBER}${SUFFIX}\n"
                                 "e164 => nowhere,10,IAX2,x\n"
                                 "e164 => bad,abc,IAX2,x\n"
                                 "priv => dundi-e164,10x,SIP,y\n"
                                 "[00:50:8B:F3:75:BB]\nhost = 192.0.2.9\n"
                                 "[00:50:8B:F3:75:BC]\nmodel = symmetric\nhost = 192.0.2.10\ncolour = red\n";
static const char ext_conf[] = "[general]\nstatic = yes\n"
                               "[globals]\nW = 7\nSUFFIX = -x\nPFX = 55\n"
                               "[dundi-e164]\n"
                               "exten => ${PFX}51212,1,Answer()\n"
                               " same => n,Hangup()\n"
                               "exten => 1000,hint,SIP/1000\n"
                               "exten => 2000,2,NoOp()\n"
                               "exten => 3000/100,1,NoOp()\n"
                               "exten => _4XX!,1,NoOp()\n"
                               "include => inner\n"
                               "include => timed,08:00-17:00,mon-fri,*,*\n"
                               "include => missing\n"
                               "ignorepat => 9\n"
                               "switch => DUNDi/e164\n"
                               "[inner]\nexten => _6XX,1,NoOp()\ninclude => dundi-e164\nignorepat => 6\n"
                               "[timed]\nexten => 7000,1,NoOp()\n"
                               "[dundi-e164](+)\nexten => 8000,1,NoOp()\n";

static void test_asterisk_folder(void)
{
    struct memfs m = {{"/ast/asterisk.conf", "/ast/dundi.conf", "/ast/extensions.conf"},
                      {ast_conf, dundi_conf, ext_conf},
                      3};
    struct config_diag d;
    struct config *c = parse(&m, NULL, "/ast", &d);
    if (!CHECK(c != NULL, "the Asterisk folder loads"))
        dump(&d);
    CHECK_INT(d.errors, 0);
    /* Asterisk's leniency, each with file:line and what Asterisk does */
    CHECK_MSG(&d, "/ast/dundi.conf:2: warning: ttl: '500' must be 1..119; ignored, as Asterisk does");
    CHECK_MSG(&d, "/ast/dundi.conf:3: warning: unknown option 'bogus' in [general]; ignored, as Asterisk does");
    CHECK_MSG(&d, "/ast/dundi.conf:4: warning: #exec /bin/true skipped: commands run only with 'execincludes = yes' "
                  "in asterisk.conf [options] (as Asterisk does)");
    CHECK_MSG(&d, "/ast/dundi.conf:8: warning: mapping 'e164': weight 'abc' must be 0..59999 or ${VARIABLE}; ignored, "
                  "as Asterisk does");
    CHECK_MSG(&d, "/ast/dundi.conf:7: warning: mapping 'e164': context 'nowhere' is not in extensions.conf");
    CHECK_MSG(&d, "/ast/dundi.conf:9: warning: mapping 'priv': weight '10x' is read as 10, as Asterisk does");
    CHECK_MSG(&d, "/ast/dundi.conf:10: warning: peer [00:50:8b:f3:75:bb]: neither model nor precache is set, so it "
                  "could do nothing; Asterisk discards the peer, and so does dundid");
    CHECK_MSG(&d, "/ast/dundi.conf:15: warning: unknown peer option 'colour'; ignored, as Asterisk does");
    CHECK_MSG(&d, "/ast/extensions.conf:16: warning: include => missing: no such context");
    CHECK_MSG(&d, "/ast/extensions.conf:18: warning: switch => DUNDi/e164: dundid cannot ask a switch");
    if (!c) {
        config_diag_free(&d);
        return;
    }
    char e[EID_STR_LEN];
    CHECK_STR(eid_to_str(&c->eid, e), "02:00:00:00:00:aa");
    CHECK_STR(c->systemname, "pbx1");
    CHECK_STR(c->keydir, "/keys/ast/keys");
    CHECK_INT(c->ttl, 120);
    CHECK_INT(c->npeers, 1);
    if (CHECK_INT_OK(c->nmaps, 3)) {
        CHECK_INT(c->maps[2].weight, 10);
        CHECK_INT(c->maps[0].weight, 7);
        CHECK_STR(c->maps[0].dest, "dundi:${SECRET}@${IPADDR}/${NUMBER}-x");
    }
    const struct local_context *lc = config_find_context(c, "dundi-e164");
    if (CHECK(lc != NULL, "context dundi-e164")) {
        const uint16_t E = DUNDI_FLAG_EXISTS, C = DUNDI_FLAG_CANMATCH, M = DUNDI_FLAG_MATCHMORE,
                       I = DUNDI_FLAG_IGNOREPAT;
        static const struct {
            const char *number;
            uint16_t want;
        } cases[] = {
            {"5551212", 0x0005}, /* ${PFX} from [globals]; priority 1 */
            {"555", 0x0006},
            {"1000", 0},         /* a hint only */
            {"2000", 0},         /* no priority 1 */
            {"3000", 0},         /* caller ID match: never without one */
            {"4", 0x0006},       /* before the '!' */
            {"412", 0x0005},     /* '!' early match: no MATCHMORE */
            {"4123", 0x0005},
            {"612", 0x0005},     /* through include => inner (and its loop back) */
            {"6", 0x0006},       /* inner's ignorepat is not ours */
            {"7000", 0x0005},    /* a timed include, in its time (Monday 10:00) */
            {"8000", 0x0005},    /* [dundi-e164](+) */
            {"9", 0x0008},
            {"99", 0},
        };
        (void)E;
        (void)C;
        (void)M;
        (void)I;
        clock_set_wall_source(monday_10);
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            uint16_t f = context_flags(c, lc, cases[i].number);
            CHECK(f == cases[i].want, "flags(%s) = 0x%04x, want 0x%04x", cases[i].number, f, cases[i].want);
        }
        /* out of its time the include is not searched, as in Asterisk */
        clock_set_wall_source(monday_1701);
        CHECK_INT(context_flags(c, lc, "7000"), 0);
        clock_set_wall_source(saturday_10);
        CHECK_INT(context_flags(c, lc, "7000"), 0);
        clock_set_wall_source(monday_1700);
        CHECK_INT(context_flags(c, lc, "7000"), 0x0005);
        clock_set_wall_source(NULL);
    }
    config_free(c);
    config_diag_free(&d);

    /* What Asterisk refuses is refused: a missing #include in dundi.conf. */
    m.text[1] = "[general]\n#include gone.conf\n";
    c = parse(&m, NULL, "/ast", &d);
    CHECK(c == NULL, "a missing #include in dundi.conf fails");
    CHECK_MSG(&d, "/ast/dundi.conf:2: cannot include '/ast/gone.conf'");
    config_free(c);
    config_diag_free(&d);

    /* ... and a key before any section, in either file */
    m.text[1] = "ttl = 3\n[general]\n";
    m.text[2] = "exten => 1,1,NoOp\n[ctx]\n";
    c = parse(&m, NULL, "/ast", &d);
    CHECK(c == NULL, "keys outside of any section fail");
    CHECK_MSG(&d, "/ast/dundi.conf:1: 'ttl' outside of any section");
    CHECK_MSG(&d, "/ast/extensions.conf:1: 'exten' outside of any section");
    config_free(c);
    config_diag_free(&d);
    m.text[2] = ext_conf;

    /* execincludes = yes runs #exec */
    m.text[0] = "[options]\nexecincludes = yes\nentityid = 02:00:00:00:00:aa\n";
    m.text[1] = "#exec XX\n";
    c = parse(&m, NULL, "/ast", &d);
    if (CHECK(c != NULL, "#exec with execincludes"))
        CHECK_STR(c->country, "XX");
    config_free(c);
    config_diag_free(&d);

    /* dundid's file after the folder: its options win, its own checks stay strict */
    m = (struct memfs){{"/ast/asterisk.conf", "/ast/dundi.conf", "/ast/extensions.conf", "/etc/dundid.conf"},
                       {ast_conf, "[general]\nttl = 10\n[mappings]\nx => ctx,0,SIP,a\n", "[ctx]\nexten => 1,1,NoOp\n",
                        "[general]\nasterisk_dir = /ast\nttl = 20\ncontrol = /run/x.ctl\n[mappings]\n"
                        "y => ctx,0,SIP,b\n"},
                       4};
    c = parse(&m, "/etc/dundid.conf", NULL, &d);
    if (!CHECK(c != NULL, "dundid file with asterisk_dir"))
        dump(&d);
    if (c) {
        CHECK_INT(c->ttl, 20);
        CHECK_STR(c->control, "/run/x.ctl");
        CHECK_INT(c->nmaps, 2);
        CHECK_STR(c->asterisk_dir, "/ast");
    }
    config_free(c);
    config_diag_free(&d);
    m.text[3] = "[general]\nasterisk_dir = /ast\nttl = 500\n";
    c = parse(&m, "/etc/dundid.conf", NULL, &d);
    CHECK(c == NULL, "dundid's own file stays strict");
    CHECK_MSG(&d, "/etc/dundid.conf:3: ttl: '500' must be 1..119");
    config_free(c);
    config_diag_free(&d);
}

/* The sample folder as shipped, from disk (no probe: no keys needed). */
static void test_samples(void)
{
    char dir[1024];
    struct config_diag d;
    snprintf(dir, sizeof(dir), "%s/asterisk-samples", datadir);
    struct config *c = config_parse_src(&(struct config_src){.astdir = dir}, &d);
    if (!CHECK(c != NULL && d.errors == 0, "the Asterisk sample folder parses"))
        dump(&d);
    if (c) {
        CHECK(config_find_context(c, "dundi-e164-canonical") != NULL, "a sample context");
        CHECK_INT(c->ttl, 32);
    }
    config_free(c);
    config_diag_free(&d);
}

/* Answers where pbx_dundi's behaviour is easy to get wrong (issue 13;
 * the facts are in test/data/asterisk-answers/README.md). */
static const char ans_dundi[] = "[general]\nentityid = 02:00:00:00:00:aa\n[mappings]\n"
                                "glob => part,${G},SIP,d/${G:1:2}\n"
                                "sub => part,${NUMBER:0:1},SIP,${NUMBER:-2}/${NUMBER:1:-1}/${NUMBER:-9:2}/${G::2}\n"
                                "mixed => part,${NUMBER}${G},SIP,x\n"
                                "feat => feat,1,SIP,f\n"
                                "ghost => no-such-context,1,SIP,g\n"
                                "ip => part,1,SIP,${IPADDR}\n";
static const char ans_ext[] = "[globals]\nG = 4250\nH = ${G:-3}\n"
                              "[part]\nexten => 60,1,NoOp()\nexten => 6000,1,NoOp()\nexten => 12345,1,NoOp()\n"
                              "[feat]\nexten => _NXXNXXXXXX,1,NoOp()\nexten => _4X!,1,NoOp()\n"
                              "exten => 8xyz,1,NoOp()\nexten => _8ABC,1,NoOp()\ninclude => more\n"
                              "[more]\nexten => _4XXXX,1,NoOp()\nexten => _5XX!,1,NoOp()\n"
                              "exten => _7X!,2,NoOp()\nexten => _NXXXX,1,NoOp()\n"
                              "exten => _6X!,hint,x\nexten => _6[0-9]!,1,NoOp()\n"
                              "exten => _9[!]X,2,NoOp()\n";

static void ask(const struct config *c, const char *dctx, const char *number, struct local_result *r)
{
    eid_t us = c->eid;
    struct answer_vars v = {.number = number, .us_eid = &us, .secret = "s", .ipaddr = "192.0.2.1"};
    mapping_answer(c, dctx, &v, r);
}

static void test_answers_like_asterisk(void)
{
    struct memfs m = {{"/ast/asterisk.conf", "/ast/dundi.conf", "/ast/extensions.conf"},
                      {"[options]\n", ans_dundi, ans_ext},
                      3};
    struct config_diag d;
    struct config *c = parse(&m, NULL, "/ast", &d);
    if (!CHECK(c != NULL, "the folder loads")) {
        dump(&d);
        config_diag_free(&d);
        return;
    }
    struct local_result r;
    /* [globals] in a weight count without EXISTS too (pbx_dundi substitutes
     * the globals then, only NUMBER, EID, SECRET, IPADDR are missing). */
    ask(c, "glob", "60", &r);
    if (CHECK_INT_OK(r.n, 1)) {
        CHECK_INT(r.answers[0].flags, DUNDI_FLAG_EXISTS | DUNDI_FLAG_CANMATCH | DUNDI_FLAG_MATCHMORE);
        CHECK_INT(r.answers[0].weight, 4250);
        CHECK_STR(r.answers[0].dest, "d/25");
    }
    ask(c, "glob", "6", &r);
    if (CHECK_INT_OK(r.n, 1)) {
        CHECK_INT(r.answers[0].flags, DUNDI_FLAG_CANMATCH | DUNDI_FLAG_MATCHMORE);
        CHECK_INT(r.answers[0].weight, 4250);
    }
    /* ${VAR:offset:length}, negative ones counting from the end */
    ask(c, "sub", "12345", &r);
    if (CHECK_INT_OK(r.n, 1)) {
        CHECK_INT(r.answers[0].weight, 1);
        CHECK_STR(r.answers[0].dest, "45/234/12/4250"); /* ${G::2}: no offset read, so no length either */
    }
    ask(c, "sub", "600", &r); /* no EXISTS: NUMBER is not set, 59999 */
    if (CHECK_INT_OK(r.n, 1))
        CHECK_INT(r.answers[0].weight, 59999);
    ask(c, "mixed", "600", &r); /* without NUMBER: "4250" */
    if (CHECK_INT_OK(r.n, 1))
        CHECK_INT(r.answers[0].weight, 4250);
    ask(c, "mixed", "60", &r); /* "604250" is out of range (Asterisk sends it modulo 65536: 14426) */
    if (CHECK_INT_OK(r.n, 1))
        CHECK_INT(r.answers[0].weight, 59999);

    const struct local_context *lc = config_find_context(c, "feat");
    if (CHECK(lc != NULL, "context feat")) {
        static const struct {
            const char *number;
            uint16_t want;
        } cases[] = {
            /* _4X! sorts before _NXXNXXXXXX: its early match ends MATCHMORE */
            {"4", 0x0006},  {"40", 0x0005}, {"400", 0x0005}, {"4199", 0x0005},
            {"5", 0x0006},  {"50", 0x0006}, /* _NXXNXXXXXX; more's _5XX! never asked */
            {"500", 0x0007}, /* EXISTS through more */
            /* case-sensitive names and literal pattern characters */
            {"8xyz", 0x0005}, {"8XYZ", 0}, {"8ABC", 0x0005}, {"8abc", 0}, {"8A", 0x0006}, {"8a", 0}, {"8X", 0},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            uint16_t f = context_flags(c, lc, cases[i].number);
            CHECK(f == cases[i].want, "flags(%s) = 0x%04x, want 0x%04x", cases[i].number, f, cases[i].want);
        }
    }
    /* the MATCHMORE search of an included context stops at its early match
     * only: the including context goes on */
    lc = config_find_context(c, "more");
    if (CHECK(lc != NULL, "context more")) {
        CHECK_INT(context_flags(c, lc, "500"), 0x0005);
        CHECK_INT(context_flags(c, lc, "4000"), 0x0006);
        /* _7X! has no priority 1: never an answer, but its early match
         * still ends MATCHMORE before _NXXXX (as Asterisk 20 answered) */
        CHECK_INT(context_flags(c, lc, "70"), 0x0004);
        CHECK_INT(context_flags(c, lc, "700"), 0x0004);
        CHECK_INT(context_flags(c, lc, "7"), 0x0006);
        CHECK_INT(context_flags(c, lc, "71234"), 0x0005);
        /* _6[0-9]! has a priority 1 and takes _6X!'s place (same in Asterisk's order) */
        CHECK_INT(lc->nearly, 1); /* _7X! only: _9[!]X has no '!' at its end */
        CHECK_INT(context_flags(c, lc, "60"), 0x0005);
        CHECK_INT(context_flags(c, lc, "9!1"), 0x0000);
    }
    ask(c, "feat", "8XYZ", &r);
    CHECK_INT(r.n, 0);
    CHECK_STR(r.hint_data, "8X");
    /* a mapping to a context that does not exist: the hint is the first
     * character (none for an empty number) */
    ask(c, "ghost", "100", &r);
    CHECK_INT(r.n, 0);
    CHECK_INT(r.hint_flags, DUNDI_HINT_DONT_ASK | DUNDI_HINT_UNAFFECTED);
    CHECK_STR(r.hint_data, "1");
    ask(c, "ghost", "", &r);
    CHECK_STR(r.hint_data, "");
    /* ${IPADDR} of Asterisk's mappings: what config_probe() found by
     * pbx_dundi's rule, not the one dundid's own mappings use */
    ask(c, "ip", "60", &r);
    if (CHECK_INT_OK(r.n, 1))
        CHECK_STR(r.answers[0].dest, "192.0.2.1");
    c->has_ipaddr_asterisk = true;
    snprintf(c->ipaddr_asterisk, sizeof(c->ipaddr_asterisk), "127.0.0.9");
    ask(c, "ip", "60", &r);
    if (CHECK_INT_OK(r.n, 1))
        CHECK_STR(r.answers[0].dest, "127.0.0.9");
    config_free(c);
    config_diag_free(&d);
}

int main(int argc, char **argv)
{
    datadir = argc > 1 ? argv[1] : "test/data";
    setenv("TZ", "UTC", 1);
    tzset();
    test_timing();
    test_includes();
    test_templates_and_directives();
    test_asterisk_folder();
    test_answers_like_asterisk();
    test_samples();
    printf("test_asterisk: %d passed, %d failed\n", tu_passed, tu_failed);
    return tu_failed ? 1 : 0;
}
