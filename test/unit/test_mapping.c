/* Unit tests for local answers: ${VARIABLE} expansion, context flags and
 * mapping_answer (src/answer/mapping.c), on configs loaded from files.
 * argv[1]: the test data directory. */
#include "dundid/mapping.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dundid/config.h"
#include "dundid/log.h"
#include "dundid/wire.h"
#include "testutil.h"

#define CHECK_INT_OK(got, want)                                                                         \
    CHECK((long long)(got) == (long long)(want), "%s = %lld, want %lld", #got, (long long)(got),        \
          (long long)(want))

#define SECRET "AbCdEfGhIjKlMnOpQrSt+w=="
#define GEN "[general]\nentityid = 02:00:00:00:00:01\n"

static const char *datadir;

static void dump_diag(const struct config_diag *d)
{
    for (size_t i = 0; i < d->n; i++)
        printf("    diag[%zu] %s\n", i, d->msg[i]);
}

static struct config *load_file(const char *name)
{
    char path[1024];
    struct config_diag d;
    snprintf(path, sizeof(path), "%s/conf/%s", datadir, name);
    struct config *c = config_load(path, &d);
    if (!CHECK(c != NULL, "%s loads", name))
        dump_diag(&d);
    config_diag_free(&d);
    return c;
}

/* Write text to a mkstemp file and load it. */
static struct config *load_text(const char *text)
{
    char tmpl[] = "/tmp/dundid-test-mapping-XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd < 0) {
        perror("mkstemp");
        exit(2);
    }
    FILE *f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
    struct config_diag d;
    struct config *c = config_load(tmpl, &d);
    unlink(tmpl);
    if (!CHECK(c != NULL && d.errors == 0, "inline config loads"))
        dump_diag(&d);
    config_diag_free(&d);
    return c;
}

static int eid_is(const eid_t *e, const char *want)
{
    char buf[EID_STR_LEN];
    return !strcmp(eid_to_str(e, buf), want);
}

/* ---- mapping_expand ---- */

static void test_expand(void)
{
    eid_t eid;
    eid_parse(&eid, "02:00:00:00:00:0A");
    struct answer_vars v = {"5551212", &eid, SECRET, "192.0.2.7", NULL, 0, NULL};
    char out[256];

    static const struct {
        const char *tmpl, *want;
    } ok[] = {
        {"", ""},
        {"plain", "plain"},
        {"${NUMBER}", "5551212"},
        {"${EID}", "02:00:00:00:00:0a"},
        {"${SECRET}", SECRET},
        {"${IPADDR}", "192.0.2.7"},
        {"IAX2/dundi:${SECRET}@${IPADDR}/${NUMBER}", "IAX2/dundi:" SECRET "@192.0.2.7/5551212"},
        {"${NUMBER}${NUMBER}", "55512125551212"},
        {"${EID}/${NUMBER}@${IPADDR}:${SECRET}", "02:00:00:00:00:0a/5551212@192.0.2.7:" SECRET},
        {"$NUMBER", "$NUMBER"},
        {"cost $5", "cost $5"},
        {"trailing $", "trailing $"},
        {"{NUMBER}", "{NUMBER}"},
        {"a}b", "a}b"},
        /* ${VAR:offset:length} as Asterisk takes it */
        {"${NUMBER:0:3}", "555"},
        {"${NUMBER:3}", "1212"},
        {"${NUMBER:-4}", "1212"},
        {"${NUMBER:-4:2}", "12"},
        {"${NUMBER:1:-1}", "55121"},
        {"${NUMBER:2:-4}", "5"},
        {"${NUMBER:2:-5}", ""},
        {"${NUMBER:2:-50}", ""},
        {"${NUMBER:-100}", "5551212"},
        {"${NUMBER:-100:2}", "55"},
        {"${NUMBER:7}", ""},
        {"${NUMBER:100:2}", ""},
        {"${NUMBER:0:0}", ""},
        {"${NUMBER:}", "5551212"},
        {"${NUMBER::3}", "5551212"},   /* no offset read: no length either */
        {"${NUMBER:x}", "5551212"},
        {"${NUMBER:1:x}", "551212"},
        {"${NUMBER: 2: 2}", "51"},
        {"${NUMBER:+2:+2}", "51"},
        {"${NUMBER:99999999999999999999:1}", ""},
        {"${NUMBER:-99999999999999999999}", "5551212"},
        {"${NUMBER:0:-99999999999999999999}", ""},
        {"${NUMBER:0:1}${NUMBER:-1}", "52"},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        int n = mapping_expand(ok[i].tmpl, &v, out, sizeof(out));
        CHECK(n == (int)strlen(ok[i].want) && !strcmp(out, ok[i].want), "expand \"%s\" = %d \"%s\", want \"%s\"",
              ok[i].tmpl, n, n >= 0 ? out : "", ok[i].want);
    }

    static const char *const bad[] = {
        "${FOO}", "x${NUMBER}${FOO}y", "${number}", "${Number}", "${}", "${NUMBER", "abc${", "${NUMBER}${EID",
        "${ NUMBER}", "${FOO:1}", "${number:0:1}", "${:1}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(mapping_expand(bad[i], &v, out, sizeof(out)) == -1, "expand \"%s\" must fail", bad[i]);

    /* Output size: the result plus its NUL must fit. */
    CHECK_INT(mapping_expand("${NUMBER}", &v, out, 8), 7);
    CHECK_STR(out, "5551212");
    CHECK_INT(mapping_expand("${NUMBER}", &v, out, 7), -1);
    CHECK_INT(mapping_expand("abcd", &v, out, 5), 4);
    CHECK_STR(out, "abcd");
    CHECK_INT(mapping_expand("abcde", &v, out, 5), -1);
    CHECK_INT(mapping_expand("ab${NUMBER}", &v, out, 10), 9);
    CHECK_INT(mapping_expand("ab${NUMBER}", &v, out, 9), -1);
    CHECK_INT(mapping_expand("", &v, out, 1), 0);
    CHECK_STR(out, "");
    CHECK_INT(mapping_expand("", &v, out, 0), -1);
    CHECK_INT(mapping_expand("x", &v, out, 1), -1);
    /* Never writes past outlen, even when it fails. */
    char guard[16];
    memset(guard, '#', sizeof(guard));
    CHECK_INT(mapping_expand("${SECRET}", &v, guard, 8), -1);
    CHECK(guard[8] == '#' && guard[15] == '#', "no write past outlen");

    /* Unset values expand to nothing. */
    struct answer_vars none = {0};
    CHECK_INT(mapping_expand("[${NUMBER}|${EID}|${SECRET}|${IPADDR}]", &none, out, sizeof(out)), 5);
    CHECK_STR(out, "[|||]");

    CHECK(mapping_var_known("NUMBER", 6), "NUMBER known");
    CHECK(mapping_var_known("EID", 3), "EID known");
    CHECK(mapping_var_known("SECRET", 6), "SECRET known");
    CHECK(mapping_var_known("IPADDR", 6), "IPADDR known");
    CHECK(mapping_var_known("NUMBERX", 6), "length given: NUMBER of NUMBERX");
    CHECK(!mapping_var_known("NUMBER", 5), "NUMBE unknown");
    CHECK(!mapping_var_known("number", 6), "case-sensitive");
    CHECK(!mapping_var_known("FOO", 3), "FOO unknown");
    CHECK(!mapping_var_known("", 0), "empty unknown");
}

/* ---- context_flags ---- */

static void test_context_flags(void)
{
    struct config *c = load_text(GEN "[context t]\n"
                                     "exten => 1001\n"
                                     "exten => _20X,1,NoOp()\n"
                                     "exten => _3X.\n"
                                     "exten => 555-1212\n"
                                     "ignorepat => 9\n"
                                     "ignorepat => _8X.\n"
                                     "[context empty]\n");
    if (!c)
        return;
    const struct local_context *lc = config_find_context(c, "t");
    const uint16_t E = DUNDI_FLAG_EXISTS, C = DUNDI_FLAG_CANMATCH, M = DUNDI_FLAG_MATCHMORE,
                   I = DUNDI_FLAG_IGNOREPAT;
    static const struct {
        const char *number;
        uint16_t want;
    } cases[] = {
        {"1001", 0x0005},  {"100", 0x0006},   {"1", 0x0006},    {"10010", 0},      {"1002", 0},
        {"205", 0x0005},   {"20", 0x0006},    {"2", 0x0006},    {"2055", 0},       {"21", 0},
        {"31", 0x0006},    {"312", 0x0007},   {"3123456", 0x0007}, {"3", 0x0006},  {"5551212", 0x0005},
        {"555-1212", 0x0005}, {"555", 0x0006}, {"9", 0x0008},   {"91", 0},         {"812", 0x0008},
        {"81", 0},         {"8", 0},
        {"", 0x0006},      {"4", 0},
    };
    CHECK_INT(E | C, 0x0005);
    CHECK_INT(C | M, 0x0006);
    CHECK_INT(I, 0x0008);
    if (CHECK(lc != NULL, "context t")) {
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            uint16_t f = context_flags(c, lc, cases[i].number);
            CHECK(f == cases[i].want, "context_flags(t, \"%s\") = 0x%04x, want 0x%04x", cases[i].number, f,
                  cases[i].want);
        }
    }
    lc = config_find_context(c, "empty");
    if (CHECK(lc != NULL, "context empty")) {
        CHECK_INT(context_flags(c, lc, "1001"), 0);
        CHECK_INT(context_flags(c, lc, ""), 0);
    }
    config_free(c);
}

/* ---- mapping_answer ---- */

static void answer(const struct config *c, const char *dcontext, const char *number, const eid_t *us,
                   struct local_result *r)
{
    struct answer_vars v = {number, us, SECRET, c->ipaddr[0] ? c->ipaddr : "10.0.0.2", NULL, 0, NULL};
    memset(r, 0x5a, sizeof(*r)); /* mapping_answer must set everything it reports */
    mapping_answer(c, dcontext, &v, r);
}

/* PBX A of the reference capture (test/data/A-*.conf). */
static void test_pbx_a(void)
{
    struct config *c = load_file("pbx-a.conf");
    if (!c)
        return;
    const eid_t *us = config_us_eid(c, NULL);
    CHECK(eid_is(us, "02:00:00:00:00:0a"), "A's EID");
    struct local_result r;

    answer(c, "priv", "1001", us, &r);
    if (CHECK_INT_OK(r.n, 1)) {
        CHECK(eid_is(&r.answers[0].eid, "02:00:00:00:00:0a"), "owner EID = A");
        CHECK_INT(r.answers[0].flags, 0x0001);
        CHECK_INT(r.answers[0].weight, 0);
        CHECK_INT(r.answers[0].proto, 1);
        CHECK_STR(r.answers[0].dest, "priv:" SECRET "@127.0.0.2/1001");
    }
    CHECK_INT(r.hint_flags, 0x0004);
    CHECK_STR(r.hint_data, "");
    CHECK_INT(r.dropped, 0);

    /* The DUNDi context is matched case-insensitively. */
    answer(c, "PRIV", "1006", us, &r);
    if (CHECK_INT_OK(r.n, 1))
        CHECK_STR(r.answers[0].dest, "priv:" SECRET "@127.0.0.2/1006");

    answer(c, "priv", "1009", us, &r);
    CHECK_INT(r.n, 0);
    CHECK_INT(r.hint_flags, 0x0006);
    CHECK_STR(r.hint_data, "1009");

    /* 1007 can still become 1007X: nopartial drops the answer, but DONT_ASK is cleared. */
    answer(c, "priv", "1007", us, &r);
    CHECK_INT(r.n, 0);
    CHECK_INT(r.hint_flags, 0x0004);
    CHECK_STR(r.hint_data, "");

    answer(c, "priv", "10071", us, &r);
    if (CHECK_INT_OK(r.n, 1)) {
        CHECK_INT(r.answers[0].flags, 0x0001);
        CHECK_STR(r.answers[0].dest, "priv:" SECRET "@127.0.0.2/10071");
    }
    CHECK_INT(r.hint_flags, 0x0004);

    answer(c, "priv", "90000", us, &r);
    CHECK_INT(r.n, 0);
    CHECK_INT(r.hint_flags, 0x0006);
    CHECK_STR(r.hint_data, "9");

    answer(c, "priv", "20000", us, &r);
    CHECK_INT(r.n, 1);
    answer(c, "priv", "20001", us, &r);
    CHECK_INT(r.n, 0);
    CHECK_INT(r.hint_flags, 0x0006);
    CHECK_STR(r.hint_data, "20001");
    answer(c, "priv", "2000", us, &r);
    CHECK_INT(r.n, 0);
    CHECK_INT(r.hint_flags, 0x0004);
    CHECK_STR(r.hint_data, "");
    answer(c, "priv", "10100", us, &r);
    CHECK_INT(r.hint_flags, 0x0006);
    CHECK_STR(r.hint_data, "101");

    /* A context without any mapping: nothing, DONT_ASK stays, no string. */
    answer(c, "e164", "1001", us, &r);
    CHECK_INT(r.n, 0);
    CHECK_INT(r.hint_flags, 0x0006);
    CHECK_STR(r.hint_data, "");
    CHECK_INT(r.dropped, 0);

    /* Owner EID and ${EID} follow the us_eid given (ustothem), not the global EID. */
    eid_t other;
    eid_parse(&other, "02:00:00:00:00:cc");
    answer(c, "priv", "1001", &other, &r);
    if (CHECK_INT_OK(r.n, 1))
        CHECK(eid_is(&r.answers[0].eid, "02:00:00:00:00:cc"), "owner EID = us_eid");
    config_free(c);
}

/* The worked example of spec section 12, plus partial answers without nopartial. */
static void test_spec_example(void)
{
    struct config *c = load_text("[general]\n"
                                 "entityid = 00:aa:bb:cc:dd:ee\n"
                                 "ipaddr = 10.0.0.2\n"
                                 "[mappings]\n"
                                 "e164 => numbers,0,IAX2,dundi:${SECRET}@${IPADDR}/${NUMBER},nounsolicited,nocomunsolicit\n"
                                 "plain => numbers,7,SIP,sip/${NUMBER}\n"
                                 "[context numbers]\n"
                                 "exten => 5551212\n"
                                 "exten => _555XXX\n");
    if (!c)
        return;
    const eid_t *us = config_us_eid(c, NULL);
    struct local_result r;
    struct answer_vars v = {"5551212", us, "s3cr3t", c->ipaddr, NULL, 0, NULL};
    mapping_answer(c, "e164", &v, &r);
    if (CHECK_INT_OK(r.n, 1)) {
        const struct dundi_answer *a = &r.answers[0];
        CHECK(eid_is(&a->eid, "00:aa:bb:cc:dd:ee"), "owner EID = B");
        CHECK_INT(a->proto, DUNDI_PROTO_IAX);
        CHECK_INT(a->flags, 0x0185);
        CHECK_INT(a->flags, DUNDI_FLAG_EXISTS | DUNDI_FLAG_CANMATCH | DUNDI_FLAG_NOUNSOLICITED |
                                DUNDI_FLAG_NOCOMUNSOLICIT);
        CHECK_INT(a->weight, 0);
        CHECK_STR(a->dest, "dundi:s3cr3t@10.0.0.2/5551212");
    }
    CHECK_INT(r.hint_flags, DUNDI_HINT_UNAFFECTED);
    CHECK_STR(r.hint_data, "");

    /* A prefix, no nopartial: CANMATCH|MATCHMORE, options still ORed in, empty destination. */
    v.number = "555";
    mapping_answer(c, "e164", &v, &r);
    if (CHECK_INT_OK(r.n, 1)) {
        CHECK_INT(r.answers[0].flags, 0x0186);
        CHECK_STR(r.answers[0].dest, "");
        CHECK_INT(r.answers[0].weight, 0);
    }
    mapping_answer(c, "plain", &v, &r);
    if (CHECK_INT_OK(r.n, 1)) {
        CHECK_INT(r.answers[0].flags, DUNDI_FLAG_CANMATCH | DUNDI_FLAG_MATCHMORE);
        CHECK_STR(r.answers[0].dest, "");
        CHECK_INT(r.answers[0].weight, 7);
        CHECK_INT(r.answers[0].proto, DUNDI_PROTO_SIP);
    }
    CHECK_INT(r.hint_flags, DUNDI_HINT_UNAFFECTED);

    /* EXISTS and MATCHMORE at once: 555121 matches _555XXX and is a prefix of 5551212. */
    v.number = "555121";
    mapping_answer(c, "plain", &v, &r);
    if (CHECK_INT_OK(r.n, 1)) {
        CHECK_INT(r.answers[0].flags, DUNDI_FLAG_EXISTS | DUNDI_FLAG_CANMATCH | DUNDI_FLAG_MATCHMORE);
        CHECK_STR(r.answers[0].dest, "sip/555121");
    }
    v.number = "666";
    mapping_answer(c, "plain", &v, &r);
    CHECK_INT(r.n, 0);
    CHECK_INT(r.hint_flags, DUNDI_HINT_DONT_ASK | DUNDI_HINT_UNAFFECTED);
    CHECK_STR(r.hint_data, "6");
    config_free(c);
}

/* Several mappings of one DUNDi context. */
static void test_several_mappings(void)
{
    struct config *c = load_text(GEN
                                 "[mappings]\n"
                                 "e164 => first,1,IAX2,first/${NUMBER}\n"
                                 "e164 => second,2,SIP,second/${NUMBER}\n"
                                 "e164 => third,3,PJSIP,third/${NUMBER},mobile\n"
                                 "other => ctxshort,0,IAX2,x\n"
                                 "other => ctxlong,0,IAX2,x\n"
                                 "rev => ctxlong,0,IAX2,x\n"
                                 "rev => ctxshort,0,IAX2,x\n"
                                 "mixed => ctxshort,0,IAX2,x\n"
                                 "mixed => ctxlong,0,IAX2,x,nopartial\n"
                                 "mixed2 => ctxlong,0,IAX2,x,nopartial\n"
                                 "mixed2 => ctxshort,0,IAX2,x\n"
                                 "decl =>\n"
                                 "decl => first,4,IAX2,d/${NUMBER}\n"
                                 "[context first]\nexten => _1XXX\n"
                                 "[context second]\nexten => 1234\n"
                                 "[context third]\nexten => _12X.\n"
                                 "[context ctxshort]\nexten => 1234\n"
                                 "[context ctxlong]\nexten => 13015\n");
    if (!c)
        return;
    const eid_t *us = config_us_eid(c, NULL);
    struct local_result r;

    /* Answers in reverse file order. */
    answer(c, "e164", "1234", us, &r);
    if (CHECK_INT_OK(r.n, 3)) {
        CHECK_STR(r.answers[0].dest, "third/1234");
        CHECK_INT(r.answers[0].flags, DUNDI_FLAG_EXISTS | DUNDI_FLAG_CANMATCH | DUNDI_FLAG_MATCHMORE |
                                          DUNDI_FLAG_MOBILE);
        CHECK_INT(r.answers[0].weight, 3);
        CHECK_INT(r.answers[0].proto, DUNDI_PROTO_PJSIP);
        CHECK_STR(r.answers[1].dest, "second/1234");
        CHECK_INT(r.answers[1].weight, 2);
        CHECK_INT(r.answers[1].proto, DUNDI_PROTO_SIP);
        CHECK_STR(r.answers[2].dest, "first/1234");
        CHECK_INT(r.answers[2].weight, 1);
        CHECK_INT(r.answers[2].proto, DUNDI_PROTO_IAX);
    }
    CHECK_INT(r.hint_flags, DUNDI_HINT_UNAFFECTED);

    /* Only some mappings answer: the others contribute nothing, DONT_ASK cleared. */
    answer(c, "e164", "1299", us, &r);
    if (CHECK_INT_OK(r.n, 2)) {
        CHECK_STR(r.answers[0].dest, "third/1299");
        CHECK_STR(r.answers[1].dest, "first/1299");
    }
    CHECK_INT(r.hint_flags, DUNDI_HINT_UNAFFECTED);
    CHECK_STR(r.hint_data, "");

    /* Longest DONT_ASK prefix across mappings, whichever order they come in:
     * ctxshort (1234) rules out "13", ctxlong (13015) only "1300". */
    answer(c, "other", "13005", us, &r);
    CHECK_INT(r.n, 0);
    CHECK_INT(r.hint_flags, DUNDI_HINT_DONT_ASK | DUNDI_HINT_UNAFFECTED);
    CHECK_STR(r.hint_data, "1300");
    answer(c, "rev", "13005", us, &r);
    CHECK_INT(r.hint_flags, DUNDI_HINT_DONT_ASK | DUNDI_HINT_UNAFFECTED);
    CHECK_STR(r.hint_data, "1300");
    answer(c, "other", "2", us, &r);
    CHECK_STR(r.hint_data, "2");

    /* One mapping matches partially (removed by nopartial), the other not at all:
     * no answer, DONT_ASK cleared, no string. Both processing orders. */
    answer(c, "mixed", "130", us, &r);
    CHECK_INT(r.n, 0);
    CHECK_INT(r.hint_flags, DUNDI_HINT_UNAFFECTED);
    CHECK_STR(r.hint_data, "");
    answer(c, "mixed2", "130", us, &r);
    CHECK_INT(r.n, 0);
    CHECK_INT(r.hint_flags, DUNDI_HINT_UNAFFECTED);
    CHECK_STR(r.hint_data, "");
    /* mixed: 1234 answers from ctxshort, ctxlong (processed first) gives nothing. */
    answer(c, "mixed", "1234", us, &r);
    if (CHECK_INT_OK(r.n, 1))
        CHECK_INT(r.answers[0].flags, DUNDI_FLAG_EXISTS | DUNDI_FLAG_CANMATCH);
    CHECK_INT(r.hint_flags, DUNDI_HINT_UNAFFECTED);
    CHECK_STR(r.hint_data, "");

    /* The empty form next to a real mapping: only the real one answers. */
    answer(c, "decl", "1000", us, &r);
    if (CHECK_INT_OK(r.n, 1)) {
        CHECK_STR(r.answers[0].dest, "d/1000");
        CHECK_INT(r.answers[0].weight, 4);
    }
    config_free(c);

    /* Only the empty form: the context is supported, but never answers. */
    c = load_file("good-v6.conf");
    if (c) {
        CHECK(config_has_dcontext(c, "priv"), "priv declared");
        answer(c, "priv", "5551212", config_us_eid(c, NULL), &r);
        CHECK_INT(r.n, 0);
        CHECK_INT(r.hint_flags, DUNDI_HINT_DONT_ASK | DUNDI_HINT_UNAFFECTED);
        CHECK_STR(r.hint_data, "");
        /* and its e164 mapping has nopartial and a weight of 59999 */
        answer(c, "e164", "2345678", config_us_eid(c, NULL), &r);
        if (CHECK_INT_OK(r.n, 1)) {
            CHECK_INT(r.answers[0].flags, DUNDI_FLAG_EXISTS | DUNDI_FLAG_NOUNSOLICITED | DUNDI_FLAG_NOCOMUNSOLICIT);
            CHECK_INT(r.answers[0].weight, 59999);
            CHECK_STR(r.answers[0].dest, "IAX2/dundi:" SECRET "@::1/2345678");
        }
        answer(c, "e164", "234", config_us_eid(c, NULL), &r);
        CHECK_INT(r.n, 0);
        CHECK_INT(r.hint_flags, DUNDI_HINT_UNAFFECTED);
        config_free(c);
    }
}

/* Weight expressions, IGNOREPAT answers, oversized destinations, too many answers. */
static void test_weights_and_limits(void)
{
    struct config *c = load_text(GEN
                                 "[mappings]\n"
                                 "wnum => any,${NUMBER},IAX2,n\n"
                                 "weid => any,${EID},IAX2,e\n"
                                 "wlit => any,${SECRET}1,IAX2,s\n"
                                 "ign => ign,5,IAX2,never/${NUMBER}\n"
                                 "long => any,0,IAX2,${NUMBER}${NUMBER}${NUMBER}${NUMBER}\n"
                                 "long => two,0,IAX2,ok/${NUMBER}\n"
                                 "[context any]\nexten => _X.\n"
                                 "[context two]\nexten => _X.\n"
                                 "[context ign]\nignorepat => 9\nexten => 1\n");
    if (!c)
        return;
    const eid_t *us = config_us_eid(c, NULL);
    struct local_result r;
    struct answer_vars v = {"1001", us, "", "10.0.0.2", NULL, 0, NULL};

    static const struct {
        const char *dcontext, *number;
        int weight;
    } wcases[] = {
        {"wnum", "1001", 1001}, {"wnum", "59999", 59999}, {"wnum", "000", 0},    {"wnum", "60000", 59999},
        {"wnum", "70000", 59999}, {"wnum", "12a", 59999}, {"weid", "1001", 59999},
        {"wlit", "1001", 1},  /* empty secret: "1" */
    };
    for (size_t i = 0; i < sizeof(wcases) / sizeof(wcases[0]); i++) {
        v.number = wcases[i].number;
        mapping_answer(c, wcases[i].dcontext, &v, &r);
        if (CHECK(r.n == 1, "%s %s: one answer", wcases[i].dcontext, wcases[i].number))
            CHECK(r.answers[0].weight == wcases[i].weight, "%s %s: weight %u, want %d", wcases[i].dcontext,
                  wcases[i].number, r.answers[0].weight, wcases[i].weight);
    }
    /* A partial answer evaluates the weight without the variables (8.2): ${NUMBER} is empty -> 59999. */
    v.number = "1";
    mapping_answer(c, "wnum", &v, &r);
    if (CHECK_INT_OK(r.n, 1)) {
        CHECK_INT(r.answers[0].flags, DUNDI_FLAG_CANMATCH | DUNDI_FLAG_MATCHMORE);
        CHECK_INT(r.answers[0].weight, 59999);
        CHECK_STR(r.answers[0].dest, "");
    }

    /* IGNOREPAT alone is an answer, with no destination. */
    v.number = "9";
    mapping_answer(c, "ign", &v, &r);
    if (CHECK_INT_OK(r.n, 1)) {
        CHECK_INT(r.answers[0].flags, DUNDI_FLAG_IGNOREPAT);
        CHECK_STR(r.answers[0].dest, "");
        CHECK_INT(r.answers[0].weight, 5);
    }
    CHECK_INT(r.hint_flags, DUNDI_HINT_UNAFFECTED);

    /* Destination of exactly 244 characters fits, 248 does not: dropped and counted. */
    char num[80];
    memset(num, '1', 61);
    num[61] = '\0';
    v.number = num;
    mapping_answer(c, "long", &v, &r);
    if (CHECK_INT_OK(r.n, 2)) {
        CHECK_INT(strlen(r.answers[1].dest), DUNDI_MAX_DEST);
        CHECK_INT(strlen(r.answers[0].dest), 64);
    }
    CHECK_INT(r.dropped, 0);
    memset(num, '1', 62);
    num[62] = '\0';
    mapping_answer(c, "long", &v, &r);
    char want[96];
    snprintf(want, sizeof(want), "ok/%s", num);
    if (CHECK_INT_OK(r.n, 1))
        CHECK_STR(r.answers[0].dest, want);
    CHECK_INT(r.dropped, 1);
    CHECK_INT(r.hint_flags, DUNDI_HINT_UNAFFECTED); /* the dropped answer still matched */

    /* Unknown variables never get this far: the loader refuses them. */
    struct config_diag d;
    char tmpl[] = "/tmp/dundid-test-mapping-XXXXXX";
    int fd = mkstemp(tmpl);
    FILE *f = fdopen(fd, "w");
    fputs(GEN "[mappings]\nunk => any,${FOO},IAX2,x/${BAR}\n[context any]\nexten => _X.\n", f);
    fclose(f);
    struct config *bad = config_load(tmpl, &d);
    unlink(tmpl);
    CHECK(bad == NULL && d.errors == 2, "unknown variables refused at load (%zu errors)", d.errors);
    if (d.n == 2) {
        CHECK(strstr(d.msg[0], "unknown variable ${BAR} in destination") != NULL, "%s", d.msg[0]);
        CHECK(strstr(d.msg[1], "unknown variable ${FOO} in weight") != NULL, "%s", d.msg[1]);
    }
    config_diag_free(&d);
    config_free(c);

    /* More mappings than an answer list holds: the extra ones are dropped. */
    size_t cap = 200000, len = 0;
    char *text = malloc(cap);
    if (!text)
        return;
    len += (size_t)snprintf(text + len, cap - len, GEN "[mappings]\n");
    for (int i = 0; i < DUNDI_MAX_ANSWERS + 3; i++)
        len += (size_t)snprintf(text + len, cap - len, "e164 => c%d,%d,IAX2,d%d/${NUMBER}\n", i, i, i);
    for (int i = 0; i < DUNDI_MAX_ANSWERS + 3; i++)
        len += (size_t)snprintf(text + len, cap - len, "[context c%d]\nexten => _X.\n", i);
    c = load_text(text);
    free(text);
    if (!c)
        return;
    v.number = "420";
    v.us_eid = config_us_eid(c, NULL);
    mapping_answer(c, "e164", &v, &r);
    CHECK_INT(r.n, DUNDI_MAX_ANSWERS);
    CHECK_INT(r.dropped, 3);
    CHECK_STR(r.answers[0].dest, "d102/420"); /* last line first */
    CHECK_INT(r.answers[DUNDI_MAX_ANSWERS - 1].weight, 3);
    config_free(c);
}

/* ---- regcontext mappings: answers from the registration table ---- */

static void test_registrations(void)
{
    struct config *c = load_text("[general]\nentityid = 02:00:00:00:00:0a\ncachetime = 300\n"
                                 "[registrations]\nstatefile = none\n"
                                 "[mappings]\n"
                                 "priv => sipregistration,0,IAX2,priv:pw@${REGISTRAR}/${NUMBER},nopartial\n"
                                 "direct => sipregistration,0,SIP,${CONTACT},nopartial\n"
                                 "uri => sipregistration,5,SIP,${CONTACTURI}\n");
    struct regtable *rt = regtable_new(8);
    if (!c || !rt)
        return;
    int64_t now = 1700000000;
    struct reg_update u1 = {.ext = "1002", .contact = "sip:1002@10.10.10.63:5060", .registrar = "10.0.0.2",
                            .expires = now + 100, .feed = REG_FEED_PCAP};
    struct reg_update u2 = {.ext = "1002", .contact = "sip:1002@10.10.10.64:5062;ob", .registrar = "10.0.0.2",
                            .expires = now + 40, .feed = REG_FEED_HEP};
    struct reg_update u3 = {.ext = "10050", .contact = "sip:10050@10.9.9.9", .registrar = "10.0.0.3",
                            .expires = now + 3600, .feed = REG_FEED_PCAP};
    regtable_apply(rt, &u1, now);
    regtable_apply(rt, &u2, now);
    regtable_apply(rt, &u3, now);
    eid_t us;
    eid_parse(&us, "02:00:00:00:00:0a");
    struct local_result r;
    struct answer_vars v = {.number = "1002", .us_eid = &us, .secret = "", .ipaddr = "10.0.0.1", .regs = rt,
                            .now = now};

    /* Two contacts at one registrar: the same IAX2 destination, answered once. */
    mapping_answer(c, "priv", &v, &r);
    CHECK_INT(r.n, 1);
    CHECK_STR(r.answers[0].dest, "priv:pw@10.0.0.2/1002");
    CHECK_INT(r.answers[0].flags, DUNDI_FLAG_EXISTS);
    CHECK_INT(r.answers[0].weight, 0);
    CHECK(r.consulted_regs, "the table was consulted");
    CHECK_INT(r.expiration, 40); /* the first binding to expire bounds EXPIRATION */
    CHECK(!(r.hint_flags & DUNDI_HINT_DONT_ASK), "registered: no DONT_ASK");

    /* ${CONTACT} drops the scheme only; one answer per binding, newest first. */
    mapping_answer(c, "direct", &v, &r);
    CHECK_INT(r.n, 2);
    CHECK_STR(r.answers[0].dest, "1002@10.10.10.64:5062;ob");
    CHECK_STR(r.answers[1].dest, "1002@10.10.10.63:5060");
    mapping_answer(c, "uri", &v, &r);
    CHECK_INT(r.n, 2);
    CHECK_STR(r.answers[1].dest, "sip:1002@10.10.10.63:5060");
    CHECK_INT(r.answers[1].weight, 5);

    /* Expired bindings are never answered. */
    v.now = now + 50;
    mapping_answer(c, "direct", &v, &r);
    CHECK_INT(r.n, 1);
    CHECK_INT(r.expiration, 50);
    v.now = now + 100;
    mapping_answer(c, "direct", &v, &r);
    CHECK_INT(r.n, 0);
    v.now = now;

    /* Not registered: the shortest prefix nothing registered starts with. */
    v.number = "1099";
    mapping_answer(c, "priv", &v, &r);
    CHECK_INT(r.n, 0);
    CHECK(r.hint_flags & DUNDI_HINT_DONT_ASK, "not registered: DONT_ASK");
    CHECK_STR(r.hint_data, "109");
    v.number = "2001";
    mapping_answer(c, "priv", &v, &r);
    CHECK_STR(r.hint_data, "2");
    /* A registered extension longer than the number: it may be dialled on. */
    v.number = "1005";
    mapping_answer(c, "priv", &v, &r);
    CHECK_INT(r.n, 0);
    CHECK(!(r.hint_flags & DUNDI_HINT_DONT_ASK), "a prefix of 10050: no DONT_ASK");
    /* Without a table (regs NULL) the mapping answers nothing. */
    v.number = "1002";
    v.regs = NULL;
    mapping_answer(c, "priv", &v, &r);
    CHECK_INT(r.n, 0);
    CHECK(!r.consulted_regs, "no table, not consulted");
    regtable_free(rt);
    config_free(c);
}

/* dundid's own file: substrings, case-sensitive extensions, Asterisk's
 * MATCHMORE order. */
static void test_own_file_like_asterisk(void)
{
    struct config *c = load_text(GEN "[mappings]\n"
                                     "priv => t,${NUMBER:0:1},SIP,${NUMBER:-3}@h\n"
                                     "[context t]\n"
                                     "exten => alice\n"
                                     "exten => _NXXNXXXXXX\n"
                                     "exten => _4X!\n");
    if (!c)
        return;
    eid_t us = c->eid;
    struct local_result r;
    answer(c, "priv", "4123", &us, &r);
    if (CHECK_INT_OK(r.n, 1)) {
        CHECK_INT(r.answers[0].flags, DUNDI_FLAG_EXISTS | DUNDI_FLAG_CANMATCH); /* _4X! decides: no MATCHMORE */
        CHECK_INT(r.answers[0].weight, 4);
        CHECK_STR(r.answers[0].dest, "123@h");
    }
    answer(c, "priv", "ALICE", &us, &r);
    CHECK_INT(r.n, 0);
    CHECK_STR(r.hint_data, "A");
    answer(c, "priv", "alice", &us, &r);
    CHECK_INT(r.n, 1);
    config_free(c);
    static const char bad[] = GEN "[mappings]\npriv => t,${NUMBR:0:1},SIP,x\n[context t]\nexten => 1\n";
    struct config_diag d;
    FILE *f = fmemopen((void *)bad, sizeof(bad) - 1, "r");
    if (CHECK(f != NULL, "fmemopen")) {
        c = config_parse_stream(f, "x.conf", &d);
        fclose(f);
        CHECK(d.errors > 0, "${NUMBR:0:1} is an unknown variable");
        config_free(c);
        config_diag_free(&d);
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DATADIR\n", argv[0]);
        return 2;
    }
    datadir = argv[1];
    tu_private_keys(datadir);
    log_set_level(LOG_LVL_ERROR);

    test_expand();
    test_context_flags();
    test_pbx_a();
    test_spec_example();
    test_several_mappings();
    test_weights_and_limits();
    test_registrations();
    test_own_file_like_asterisk();
    return test_summary("test_mapping");
}
