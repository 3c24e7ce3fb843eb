/* Unit tests for the configuration loader (src/config/: the parser, the host probe, reader.c).
 * argv[1]: the test data directory; the config files are under conf/. */
#include "dundid/config.h"

#include <arpa/inet.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dundid/conf_values.h"
#include "dundid/log.h"
#include "dundid/wire.h"
#include "testutil.h"

/* CHECK_INT as an expression, to guard dependent checks. */
#define CHECK_INT_OK(got, want)                                                                         \
    CHECK((long long)(got) == (long long)(want), "%s = %lld, want %lld", #got, (long long)(got),        \
          (long long)(want))

static const char *datadir;

static void conf_path(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/conf/%s", datadir, name);
}

/* Write text to a new temporary file named in path (unlink it after). */
static void write_temp(const char *text, char *path, size_t pathlen)
{
    char tmpl[] = "/tmp/dundid-test-config-XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd < 0) {
        perror("mkstemp");
        exit(2);
    }
    FILE *f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
    snprintf(path, pathlen, "%s", tmpl);
}

/* Write text to a temporary file and load it; the file's path is left in path. */
static struct config *load_text(const char *text, struct config_diag *d, char *path, size_t pathlen)
{
    write_temp(text, path, pathlen);
    struct config *c = config_load(path, d);
    unlink(path);
    return c;
}

static void dump_diag(const struct config_diag *d)
{
    for (size_t i = 0; i < d->n; i++)
        printf("    diag[%zu] %s\n", i, d->msg[i]);
}

static int eid_is(const eid_t *e, const char *want)
{
    char buf[EID_STR_LEN];
    return !strcmp(eid_to_str(e, buf), want);
}

static int addr4_is(const struct dundi_addr *a, const char *ip, unsigned port)
{
    const struct sockaddr_in *s = (const void *)&a->ss;
    char buf[INET_ADDRSTRLEN];
    return a->ss.ss_family == AF_INET && ntohs(s->sin_port) == port &&
           inet_ntop(AF_INET, &s->sin_addr, buf, sizeof(buf)) && !strcmp(buf, ip);
}

static int addr6_is(const struct dundi_addr *a, const char *ip, unsigned port)
{
    const struct sockaddr_in6 *s = (const void *)&a->ss;
    char buf[INET6_ADDRSTRLEN];
    return a->ss.ss_family == AF_INET6 && ntohs(s->sin6_port) == port &&
           inet_ntop(AF_INET6, &s->sin6_addr, buf, sizeof(buf)) && !strcmp(buf, ip);
}

static const struct peer_conf *peer_by_name(const struct config *c, const char *name)
{
    eid_t e;
    if (!strcmp(name, "*")) {
        for (size_t i = 0; i < c->npeers; i++)
            if (c->peers[i].wildcard)
                return &c->peers[i];
        return NULL;
    }
    if (eid_parse(&e, name) < 0)
        return NULL;
    for (size_t i = 0; i < c->npeers; i++)
        if (!c->peers[i].wildcard && eid_equal(&c->peers[i].eid, &e))
            return &c->peers[i];
    return NULL;
}

/* ---- the big good file ---- */

static void test_good_full(void)
{
    char path[1024], want[1200];
    struct config_diag d;
    conf_path(path, sizeof(path), "good-full.conf");
    struct config *c = config_load(path, &d);

    if (!CHECK(c != NULL, "good-full.conf loads")) {
        dump_diag(&d);
        config_diag_free(&d);
        return;
    }
    CHECK_INT(d.errors, 0);
    CHECK_STR(c->path, path);

    /* [general] */
    CHECK_INT(c->port, 4521);
    CHECK(addr4_is(&c->bindaddr, "127.0.0.1", 4521), "bindaddr 127.0.0.1:4521");
    CHECK(!c->has_bindaddr2, "no bindaddr2");
    CHECK_INT(c->tos, 184);
    CHECK(c->has_eid && eid_is(&c->eid, "02:00:00:00:00:0a"), "entityid (upper case in the file)");
    CHECK_INT(c->ttl, 32);
    CHECK_INT(c->autokill_ms, 1500);
    CHECK_INT(c->cachetime, 600);
    CHECK(c->storehistory, "storehistory = yes (block comment after the value)");
    CHECK_STR(c->department, "Voice; Ops");
    CHECK_STR(c->organization, "Example Org");
    CHECK_STR(c->locality, "Springfield");
    CHECK_STR(c->stateprov, "Ohio");
    CHECK_STR(c->country, "US");
    CHECK_STR(c->email, "noc@example.com");
    CHECK_STR(c->phone, "+1-555-0100");
    CHECK_STR(c->ipaddr, "192.0.2.7");
    CHECK_INT(c->max_transactions, 500);
    CHECK_INT(c->loglevel, LOG_LVL_DEBUG);

    /* warnings, in order: reading first, validation after */
    static const char *const warnings[] = {
        "26: warning: authdebug: Asterisk option with no effect in dundid; ignored",
        "27: warning: outgoing_sip_tech: Asterisk option with no effect in dundid; ignored",
        "28: warning: pjsip_outgoing_endpoint: Asterisk option with no effect in dundid; ignored",
        "29: warning: secretpath: Asterisk option with no effect in dundid; ignored",
        "37: warning: mapping 'pjctx': unknown option 'bogus' ignored",
        "38: warning: mapping 'e164' to 'numbers' replaces the one at line 32 (as Asterisk does)",
        "77: warning: peer [*]: include rules have no effect unless model is outbound or symmetric",
    };
    size_t nw = sizeof(warnings) / sizeof(warnings[0]);
    CHECK_INT(d.warnings, nw);
    CHECK_INT(d.n, nw);
    for (size_t i = 0; i < nw && i < d.n; i++) {
        snprintf(want, sizeof(want), "%s:%s", path, warnings[i]);
        CHECK_STR(d.msg[i], want);
        CHECK(!d.is_error[i], "diag %zu is a warning", i);
    }

    /* [mappings]: file order, the duplicate replaced in place */
    if (CHECK_INT_OK(c->nmaps, 6)) {
        const struct mapping *m = c->maps;
        CHECK_STR(m[0].dcontext, "e164");
        CHECK_STR(m[0].lcontext, "numbers");
        CHECK_INT(m[0].line, 38);
        CHECK_INT(m[0].weight, 5);
        CHECK_STR(m[0].weight_expr, "");
        CHECK_INT(m[0].proto, DUNDI_PROTO_IAX);
        CHECK_STR(m[0].dest, "replaced/${NUMBER}");
        CHECK_INT(m[0].options, 0);

        CHECK_STR(m[1].dcontext, "e164");
        CHECK_STR(m[1].lcontext, "extra");
        CHECK_INT(m[1].line, 33);
        CHECK_STR(m[1].weight_expr, "${NUMBER}");
        CHECK_INT(m[1].proto, DUNDI_PROTO_SIP);
        CHECK_STR(m[1].dest, "${NUMBER}@${IPADDR}");
        CHECK_INT(m[1].options, DUNDI_FLAG_RESIDENTIAL | DUNDI_FLAG_COMMERCIAL | DUNDI_FLAG_MOBILE);

        CHECK_STR(m[2].dcontext, "priv");
        CHECK_STR(m[2].lcontext, "");
        CHECK_STR(m[2].dest, "");
        CHECK_INT(m[2].line, 34);

        CHECK_STR(m[3].dcontext, "iaxctx");
        CHECK_INT(m[3].weight, 10);
        CHECK_INT(m[3].proto, DUNDI_PROTO_IAX);
        CHECK_STR(m[3].dest, "iax/${NUMBER}");
        CHECK_INT(m[3].options, MAP_OPT_NOPARTIAL);

        CHECK_STR(m[4].dcontext, "h323ctx");
        CHECK_INT(m[4].weight, 20);
        CHECK_INT(m[4].proto, DUNDI_PROTO_H323);
        CHECK_INT(m[4].options, 0);

        CHECK_STR(m[5].dcontext, "pjctx");
        CHECK_INT(m[5].weight, 30);
        CHECK_INT(m[5].proto, DUNDI_PROTO_PJSIP);
        CHECK_INT(m[5].options, 0);
    }
    CHECK(config_has_dcontext(c, "priv"), "priv declared");
    CHECK(config_has_dcontext(c, "PRIV"), "dcontext lookup is case-insensitive");
    CHECK(config_has_dcontext(c, "e164"), "e164 declared");
    CHECK(!config_has_dcontext(c, "numbers"), "a local context is not a DUNDi context");
    CHECK(!config_has_dcontext(c, "nope"), "unknown dcontext");

    /* peers, in file order */
    CHECK_INT(c->npeers, 4);
    const struct peer_conf *b = peer_by_name(c, "02:00:00:00:00:0b");
    if (CHECK(b != NULL, "peer 0b")) {
        CHECK_INT(b->line, 40);
        CHECK(!b->wildcard && !b->dynamic, "0b static");
        CHECK_STR(b->host, "127.0.0.3");
        CHECK(b->has_addr && addr4_is(&b->addr, "127.0.0.3", 4530), "0b addr 127.0.0.3:4530");
        CHECK_INT(b->port, 4530);
        CHECK_INT(b->model, MODEL_SYMMETRIC);
        CHECK_INT(b->pcmodel, MODEL_NONE);
        if (CHECK_INT_OK(b->include.n, 3)) {
            CHECK_STR(b->include.v[0].name, "priv");
            CHECK(b->include.v[0].allow, "include priv");
            CHECK_STR(b->include.v[1].name, "e164");
            CHECK(!b->include.v[1].allow, "noinclude e164");
            CHECK_STR(b->include.v[2].name, "ALL");
            CHECK(b->include.v[2].allow, "include ALL");
        }
        if (CHECK_INT_OK(b->permit.n, 2)) {
            CHECK_STR(b->permit.v[0].name, "all");
            CHECK(b->permit.v[0].allow, "permit all");
            CHECK_STR(b->permit.v[1].name, "secret");
            CHECK(!b->permit.v[1].allow, "deny secret");
        }
        CHECK(rules_allow(&b->include, "e164"), "include ALL after noinclude e164 wins");
        CHECK(rules_allow(&b->include, "other"), "include ALL covers other");
        CHECK(!rules_allow(&b->permit, "secret"), "deny secret after permit all");
        CHECK(!rules_allow(&b->permit, "SECRET"), "deny SECRET (case-insensitive)");
        CHECK(rules_allow(&b->permit, "e164"), "permit all");
        CHECK_INT(b->order, ORDER_SECONDARY);
        CHECK_STR(b->inkey, "peerkey");
        CHECK_STR(b->outkey, "mykey");
        CHECK_INT(b->qualify_ms, 2000);
        CHECK(b->reg, "register = yes");
        CHECK(b->has_ustothem && eid_is(&b->us_eid, "02:00:00:00:00:aa"), "ustothem");
        CHECK_INT(b->autokill_ms, 0);
    }
    const struct peer_conf *pc = peer_by_name(c, "02:00:00:00:00:0c");
    if (CHECK(pc != NULL, "peer 0C (section name in upper case)")) {
        CHECK_INT(pc->line, 57);
        CHECK(pc->dynamic, "host = dynamic");
        CHECK(!pc->has_addr, "dynamic: no address");
        CHECK_STR(pc->host, "");
        CHECK_INT(pc->port, DUNDI_PORT);
        CHECK_INT(pc->model, MODEL_INBOUND);
        CHECK_INT(pc->pcmodel, MODEL_INBOUND); /* precache = incoming */
        CHECK_INT(pc->order, ORDER_TERTIARY);
        CHECK_INT(pc->qualify_ms, 250);
        CHECK(!pc->reg, "register defaults to no");
        CHECK(!pc->has_ustothem, "no ustothem");
        CHECK_INT(pc->autokill_ms, 3000);
        CHECK_STR(pc->inkey, "");
        CHECK_STR(pc->outkey, "");
    }
    const struct peer_conf *pd = peer_by_name(c, "02:00:00:00:00:0d");
    if (CHECK(pd != NULL, "peer 0d")) {
        CHECK(pd->has_addr && addr6_is(&pd->addr, "::1", 4599), "0d addr [::1]:4599");
        CHECK_INT(pd->model, MODEL_NONE);
        CHECK_INT(pd->pcmodel, MODEL_OUTBOUND); /* precache = outgoing */
        CHECK_INT(pd->order, ORDER_QUARTIARY);
        CHECK_INT(pd->qualify_ms, 0);
        CHECK_INT(pd->autokill_ms, 2000);
    }
    const struct peer_conf *pw = peer_by_name(c, "*");
    if (CHECK(pw != NULL, "peer [*]")) {
        CHECK(pw->wildcard && eid_is_zero(&pw->eid), "[*] is the zero EID");
        CHECK_INT(pw->line, 77);
        CHECK_INT(pw->model, MODEL_INBOUND);
        CHECK_INT(pw->order, ORDER_PRIMARY);
        CHECK(!pw->dynamic && !pw->has_addr, "[*] has no address");
        CHECK_INT(pw->autokill_ms, -1);
    }

    /* lookups */
    eid_t e;
    eid_parse(&e, "02:00:00:00:00:0B");
    CHECK(config_find_peer(c, &e) == b, "find exact EID");
    eid_parse(&e, "02:00:00:00:00:0c");
    CHECK(config_find_peer(c, &e) == pc, "find 0c");
    eid_parse(&e, "02:00:00:00:00:ff");
    CHECK(config_find_peer(c, &e) == pw, "unknown EID falls back to [*]");
    CHECK(config_find_peer(c, NULL) == pw, "NULL EID -> [*]");
    memset(&e, 0, sizeof(e));
    CHECK(config_find_peer(c, &e) == pw, "zero EID -> [*]");

    CHECK(eid_is(config_us_eid(c, b), "02:00:00:00:00:aa"), "us_eid towards 0b = ustothem");
    CHECK(eid_is(config_us_eid(c, pc), "02:00:00:00:00:0a"), "us_eid towards 0c = global");
    CHECK(eid_is(config_us_eid(c, NULL), "02:00:00:00:00:0a"), "us_eid without a peer = global");

    CHECK_INT(config_peer_autokill(c, b), 2000);   /* qualify yes wins over autokill no */
    CHECK_INT(config_peer_autokill(c, pc), 250);   /* qualify 250 wins over autokill 3000 */
    CHECK_INT(config_peer_autokill(c, pd), 2000);  /* no qualify: peer autokill yes */
    CHECK_INT(config_peer_autokill(c, pw), 1500);  /* nothing on the peer: global */
    CHECK_INT(config_peer_autokill(c, NULL), 1500);

    /* [context NAME] */
    CHECK_INT(c->ncontexts, 3);
    const struct local_context *lc = config_find_context(c, "NUMBERS");
    if (CHECK(lc != NULL, "context numbers (case-insensitive lookup)")) {
        CHECK_STR(lc->name, "numbers");
        CHECK_INT(lc->line, 82);
        if (CHECK_INT_OK(lc->nexten, 3)) {
            /* in Asterisk's order: literals, then patterns */
            CHECK_STR(lc->exten[0].text, "1001");
            CHECK_STR(lc->exten[1].text, "555-1212");
            CHECK_STR(lc->exten[2].text, "_1XXX"); /* ",1,NoOp()" dropped */
        }
        if (CHECK_INT_OK(lc->nignorepat, 1))
            CHECK_STR(lc->ignorepat[0].text, "9");
    }
    lc = config_find_context(c, "extra");
    if (CHECK(lc != NULL, "[CONTEXT extra]")) {
        CHECK_INT(lc->nexten, 1);
        CHECK_INT(lc->nignorepat, 0);
    }
    lc = config_find_context(c, "empty");
    if (CHECK(lc != NULL, "[context Empty]")) {
        CHECK_STR(lc->name, "Empty");
        CHECK_INT(lc->nexten, 0);
    }
    CHECK(config_find_context(c, "nope") == NULL, "unknown context");

    config_free(c);
    config_diag_free(&d);
    CHECK(d.n == 0 && d.msg == NULL, "config_diag_free resets");
}

/* IPv6 bindaddr, a bindaddr2 of the other family, DSCP name, defaults. */
static void test_good_v6(void)
{
    char path[1024];
    struct config_diag d;
    conf_path(path, sizeof(path), "good-v6.conf");
    struct config *c = config_load(path, &d);
    if (!CHECK(c != NULL, "good-v6.conf loads")) {
        dump_diag(&d);
        config_diag_free(&d);
        return;
    }
    CHECK_INT(d.errors, 0);
    CHECK_INT(d.warnings, 0);
    CHECK(addr6_is(&c->bindaddr, "::1", 4520), "bindaddr [::1]:4520");
    CHECK(c->has_bindaddr2 && addr4_is(&c->bindaddr2, "127.0.0.1", 4520), "bindaddr2 127.0.0.1:4520");
    CHECK_INT(c->tos, 184); /* ef = DSCP 46 << 2 */
    CHECK_INT(c->autokill_ms, 2000);
    CHECK(!c->storehistory, "storehistory = no");
    CHECK_STR(c->ipaddr, "::1"); /* derived from bindaddr */
    /* defaults */
    CHECK_INT(c->port, 4520);
    CHECK_INT(c->ttl, 120);
    CHECK_INT(c->cachetime, 3600);
    CHECK_INT(c->loglevel, -1);
    CHECK_INT(c->max_transactions, 0);
    CHECK_STR(c->organization, "");
    CHECK_INT(c->npeers, 0);
    if (CHECK_INT_OK(c->nmaps, 2)) {
        const struct mapping *m = &c->maps[0];
        CHECK_STR(m->dcontext, "e164");
        CHECK_STR(m->lcontext, "local"); /* fields are trimmed */
        CHECK_INT(m->weight, 59999);
        CHECK_INT(m->proto, DUNDI_PROTO_IAX);
        CHECK_STR(m->dest, "IAX2/dundi:${SECRET}@${IPADDR}/${NUMBER}");
        CHECK_INT(m->options, DUNDI_FLAG_NOUNSOLICITED | DUNDI_FLAG_NOCOMUNSOLICIT | MAP_OPT_NOPARTIAL);
        CHECK_STR(c->maps[1].dcontext, "priv");
        CHECK_STR(c->maps[1].lcontext, "");
    }
    config_free(c);
    config_diag_free(&d);
}

/* ---- small inline variants ---- */

#define GEN "[general]\nentityid = 02:00:00:00:00:01\n"

static struct config *load_ok(const char *text, const char *what)
{
    char path[64];
    struct config_diag d;
    struct config *c = load_text(text, &d, path, sizeof(path));
    if (!CHECK(c != NULL && d.errors == 0, "%s: loads", what))
        dump_diag(&d);
    config_diag_free(&d);
    return c;
}

/* pidfile, logfile, metrics: off or empty by default; kept as given. */
static void test_ops_options(void)
{
    struct config *c = load_ok(GEN, "no ops options");
    if (c) {
        CHECK(!c->pidfile[0] && !c->logfile[0] && !c->metrics_host[0], "ops options empty by default");
        config_free(c);
    }
    c = load_ok(GEN "pidfile = /run/x/d.pid\nlogfile = /var/log/d.log\nmetrics = 127.0.0.1:9520\n", "ops v4");
    if (c) {
        CHECK_STR(c->pidfile, "/run/x/d.pid");
        CHECK_STR(c->logfile, "/var/log/d.log");
        CHECK_STR(c->metrics_host, "127.0.0.1");
        CHECK_INT(c->metrics_port, 9520);
        config_free(c);
    }
    c = load_ok(GEN "metrics = [::1]:65535\n", "ops v6");
    if (c) {
        CHECK_STR(c->metrics_host, "::1");
        CHECK_INT(c->metrics_port, 65535);
        config_free(c);
    }
}

/* The number parser under every option: bounds, leading zeros, signs, and
 * values that do not fit in a long or an int (issue 18's pattern). */
static void test_parse_int(void)
{
    int v = -7;
    CHECK(conf_parse_int("65535", 1, 65535, &v) && v == 65535, "the largest accepted value");
    CHECK(!conf_parse_int("65536", 1, 65535, &v) && v == 65535, "one more");
    CHECK(!conf_parse_int("655350", 1, 65535, &v), "one more digit");
    CHECK(conf_parse_int("1", 1, 65535, &v) && v == 1, "the smallest");
    CHECK(!conf_parse_int("0", 1, 65535, &v), "one less");
    CHECK(conf_parse_int("000000000000000000000005060", 1, 65535, &v) && v == 5060, "leading zeros");
    CHECK(!conf_parse_int("9999999999999999999", 0, 100000000, &v), "19 nines");
    CHECK(!conf_parse_int("99999999999999999999", 0, 100000000, &v), "20 digits");
    CHECK(!conf_parse_int("9223372036854775808", 0, 100000000, &v), "over LONG_MAX");
    CHECK(!conf_parse_int("4294967297", 0, LONG_MAX, &v), "over INT_MAX, even with a long max");
    CHECK(conf_parse_int("2147483647", 0, LONG_MAX, &v) && v == INT_MAX, "INT_MAX");
    CHECK(conf_parse_int("-2147483648", LONG_MIN, 0, &v) && v == INT_MIN, "INT_MIN");
    CHECK(!conf_parse_int("-2147483649", LONG_MIN, 0, &v), "under INT_MIN");
    CHECK(conf_parse_int("+7", 0, 10, &v) && v == 7, "plus sign");
    CHECK(!conf_parse_int("-1", 0, 10, &v), "below min");
    const char *bad[] = {"", " 5", "5 ", "5x", "0x10", "1e3", "--5", "-", "5.0"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(!conf_parse_int(bad[i], 0, 100, &v), "'%s' refused", bad[i]);
}

static void test_general_values(void)
{
    static const struct {
        const char *value;
        int tos;
    } tos_cases[] = {
        {"0", 0},     {"255", 255}, {"184", 184}, {"0xb8", 184}, {"0XB8", 184}, {"ef", 184},
        {"EF", 184},  {"af41", 136}, {"AF11", 40}, {"af43", 152}, {"cs0", 0},    {"cs7", 224},
    };
    char text[512];
    for (size_t i = 0; i < sizeof(tos_cases) / sizeof(tos_cases[0]); i++) {
        snprintf(text, sizeof(text), GEN "tos = %s\n", tos_cases[i].value);
        struct config *c = load_ok(text, tos_cases[i].value);
        if (c)
            CHECK(c->tos == tos_cases[i].tos, "tos %s = %d, want %d", tos_cases[i].value, c->tos, tos_cases[i].tos);
        config_free(c);
    }

    static const struct {
        const char *value;
        int ms;
    } ak_cases[] = {
        {"yes", 2000}, {"no", 0}, {"true", 2000}, {"off", 0}, {"1", 2000}, {"0", 0}, {"750", 750}, {"3600000", 3600000},
    };
    for (size_t i = 0; i < sizeof(ak_cases) / sizeof(ak_cases[0]); i++) {
        snprintf(text, sizeof(text), GEN "autokill = %s\n", ak_cases[i].value);
        struct config *c = load_ok(text, ak_cases[i].value);
        if (c)
            CHECK(c->autokill_ms == ak_cases[i].ms, "autokill %s = %d, want %d", ak_cases[i].value, c->autokill_ms,
                  ak_cases[i].ms);
        config_free(c);
    }

    struct config *c = load_ok(GEN, "defaults");
    if (c) {
        CHECK_INT(c->autokill_ms, 0);
        CHECK_INT(c->tos, 0);
        CHECK(!c->storehistory, "storehistory defaults to no");
        CHECK(addr4_is(&c->bindaddr, "0.0.0.0", 4520), "bindaddr defaults to 0.0.0.0:4520");
        CHECK(!c->has_bindaddr2, "no bindaddr2");
        CHECK_INT(c->nmaps, 0);
        CHECK(!config_has_dcontext(c, "e164"), "no mappings");
    }
    config_free(c);

    c = load_ok(GEN "ttl = 1\n", "ttl 1");
    if (c)
        CHECK_INT(c->ttl, 1);
    config_free(c);
    c = load_ok(GEN "ttl = 119\nport = 65535\ncachetime = 0\nmax_transactions = 32766\nloglevel = ERROR\n", "limits");
    if (c) {
        CHECK_INT(c->ttl, 119);
        CHECK_INT(c->port, 65535);
        CHECK_INT(c->cachetime, 0);
        CHECK_INT(c->max_transactions, 32766);
        CHECK_INT(c->loglevel, LOG_LVL_ERROR);
    }
    config_free(c);

    /* bindaddr2 given first in IPv4, bindaddr IPv6: the other way round works too */
    c = load_ok(GEN "bindaddr = 127.0.0.1\nbindaddr2 = ::1\nport = 4600\n", "bindaddr2 v6");
    if (c) {
        CHECK(addr4_is(&c->bindaddr, "127.0.0.1", 4600), "bindaddr 127.0.0.1:4600");
        CHECK(c->has_bindaddr2 && addr6_is(&c->bindaddr2, "::1", 4600), "bindaddr2 [::1]:4600");
        CHECK_STR(c->ipaddr, "127.0.0.1");
    }
    config_free(c);

    /* control socket: default, explicit, none; relative and too long are errors */
    c = load_ok(GEN, "control default");
    if (c) {
        CHECK_STR(c->control, DUNDID_DEFAULT_CONTROL);
        CHECK(!c->control_set, "default control path is not 'set'");
    }
    config_free(c);
    c = load_ok(GEN "control = /tmp/x/d.ctl\n", "control path");
    if (c) {
        CHECK_STR(c->control, "/tmp/x/d.ctl");
        CHECK(c->control_set, "control given");
    }
    config_free(c);
    c = load_ok(GEN "control = None\n", "control none");
    if (c)
        CHECK(c->control[0] == '\0' && c->control_set, "control = none disables the socket");
    config_free(c);
    c = load_ok(GEN "control_group = voip-ops\n", "control_group");
    if (c)
        CHECK_STR(c->control_group, "voip-ops");
    config_free(c);
    {
        struct config_diag dc;
        char cpath[64], cwant[200];
        c = load_text(GEN "control_group = a b\n", &dc, cpath, sizeof(cpath));
        CHECK(c == NULL, "control_group with a space refused");
        snprintf(cwant, sizeof(cwant), "%s:3: control_group: 'a b' is not a group name", cpath);
        if (CHECK_INT_OK(dc.n, 1))
            CHECK_STR(dc.msg[0], cwant);
        config_free(c);
        config_diag_free(&dc);
    }
    {
        char ctl[400];
        struct config_diag dc;
        char cpath[64], cwant[400];
        for (size_t i = 0; i < 2; i++) {
            char val[200] = "dundid.ctl"; /* relative */
            if (i == 1) {                 /* one character more than sun_path holds */
                memset(val, 'a', 108);
                val[0] = '/';
                val[108] = '\0';
            }
            snprintf(ctl, sizeof(ctl), GEN "control = %s\n", val);
            c = load_text(ctl, &dc, cpath, sizeof(cpath));
            CHECK(c == NULL, "control = %s refused", val);
            snprintf(cwant, sizeof(cwant),
                     "%s:3: control: '%s' must be none or an absolute path of at most 107 characters", cpath, val);
            if (CHECK_INT_OK(dc.n, 1))
                CHECK_STR(dc.msg[0], cwant);
            config_free(c);
            config_diag_free(&dc);
        }
    }

    /* [general] twice: merged, with a warning */
    char path[64], want[200];
    struct config_diag d;
    c = load_text(GEN "[mappings]\n[general]\nttl = 7\n", &d, path, sizeof(path));
    if (CHECK(c != NULL, "[general] twice loads")) {
        CHECK_INT(c->ttl, 7);
        CHECK(c->has_eid, "entityid from the first [general]");
        snprintf(want, sizeof(want), "%s:4: warning: [general] appears again; its keys are merged", path);
        if (CHECK_INT_OK(d.n, 1))
            CHECK_STR(d.msg[0], want);
    }
    config_free(c);
    config_diag_free(&d);
}

static void test_mapping_forms(void)
{
    static const struct {
        const char *tech;
        int proto;
    } techs[] = {
        {"IAX", DUNDI_PROTO_IAX}, {"iax", DUNDI_PROTO_IAX},   {"IAX2", DUNDI_PROTO_IAX},   {"Iax2", DUNDI_PROTO_IAX},
        {"SIP", DUNDI_PROTO_SIP}, {"sip", DUNDI_PROTO_SIP},   {"H323", DUNDI_PROTO_H323},  {"h323", DUNDI_PROTO_H323},
        {"PJSIP", DUNDI_PROTO_PJSIP}, {"pjsip", DUNDI_PROTO_PJSIP},
    };
    char text[512];
    for (size_t i = 0; i < sizeof(techs) / sizeof(techs[0]); i++) {
        snprintf(text, sizeof(text), GEN "[mappings]\ne164 => l,1,%s,d\n[context l]\n", techs[i].tech);
        struct config *c = load_ok(text, techs[i].tech);
        if (c && CHECK_INT_OK(c->nmaps, 1))
            CHECK(c->maps[0].proto == techs[i].proto, "tech %s -> %d, want %d", techs[i].tech, c->maps[0].proto,
                  techs[i].proto);
        config_free(c);
    }

    /* "=", "=>" without spaces, the empty forms, every option name */
    struct config *c = load_ok(GEN "[mappings]\n"
                                   "a=>l,0,SIP,x/${NUMBER}\n"
                                   "b = l,2,SIP,y,NOPARTIAL,Mobile,residential,commercial,nounsolicited,nocomunsolicit\n"
                                   "c =\n"
                                   "d=>\n"
                                   "e => l,${EID},SIP,z,\n"
                                   "[context l]\nexten => 1\n",
                               "mapping forms");
    if (c && CHECK_INT_OK(c->nmaps, 5)) {
        CHECK_STR(c->maps[0].dcontext, "a");
        CHECK_STR(c->maps[0].lcontext, "l");
        CHECK_STR(c->maps[0].dest, "x/${NUMBER}");
        CHECK_INT(c->maps[1].weight, 2);
        CHECK_INT(c->maps[1].options, MAP_OPT_NOPARTIAL | DUNDI_FLAG_MOBILE | DUNDI_FLAG_RESIDENTIAL |
                                          DUNDI_FLAG_COMMERCIAL | DUNDI_FLAG_NOUNSOLICITED |
                                          DUNDI_FLAG_NOCOMUNSOLICIT);
        CHECK_STR(c->maps[2].dcontext, "c");
        CHECK_STR(c->maps[2].lcontext, "");
        CHECK_STR(c->maps[3].dcontext, "d");
        CHECK_STR(c->maps[3].lcontext, "");
        CHECK(config_has_dcontext(c, "c") && config_has_dcontext(c, "D"), "empty forms declare the context");
        CHECK_STR(c->maps[4].weight_expr, "${EID}");
        CHECK_INT(c->maps[4].options, 0); /* trailing empty option ignored silently */
    }
    config_free(c);

    /* The empty form twice, and an empty form after a full one: different lcontexts, both kept. */
    char path[64], want[200];
    struct config_diag d;
    c = load_text(GEN "[mappings]\np =>\np => l,0,SIP,x\np =>\n[context l]\n", &d, path, sizeof(path));
    if (CHECK(c != NULL, "repeated empty form loads")) {
        CHECK_INT(c->nmaps, 2);
        snprintf(want, sizeof(want), "%s:6: warning: mapping 'p' to '(none)' replaces the one at line 4 (as Asterisk does)",
                 path);
        if (CHECK_INT_OK(d.n, 1))
            CHECK_STR(d.msg[0], want);
    }
    config_free(c);
    config_diag_free(&d);

    /* Replacement is case-insensitive on both context names. */
    c = load_text(GEN "[mappings]\nE164 => L,1,SIP,x\ne164 => l,2,SIP,y\n[context l]\n", &d, path, sizeof(path));
    if (CHECK(c != NULL, "case-insensitive replacement loads") && CHECK_INT_OK(c->nmaps, 1)) {
        CHECK_INT(c->maps[0].weight, 2);
        CHECK_STR(c->maps[0].dcontext, "e164");
        CHECK_INT(d.warnings, 1);
    }
    config_free(c);
    config_diag_free(&d);
}

static void test_peer_variants(void)
{
    static const struct {
        const char *model, *precache;
        int m, pc;
    } models[] = {
        {"inbound", "none", MODEL_INBOUND, MODEL_NONE},     {"in", "inbound", MODEL_INBOUND, MODEL_INBOUND},
        {"outbound", "none", MODEL_OUTBOUND, MODEL_NONE},   {"OUT", "outbound", MODEL_OUTBOUND, MODEL_OUTBOUND},
        {"symmetric", "none", MODEL_SYMMETRIC, MODEL_NONE}, {"both", "none", MODEL_SYMMETRIC, MODEL_NONE},
        {"none", "symmetric", MODEL_NONE, MODEL_SYMMETRIC}, {"none", "both", MODEL_NONE, MODEL_SYMMETRIC},
        {"none", "incoming", MODEL_NONE, MODEL_INBOUND},    {"none", "Outgoing", MODEL_NONE, MODEL_OUTBOUND},
        {"inbound", "incoming", MODEL_INBOUND, MODEL_INBOUND},
    };
    char text[512];
    for (size_t i = 0; i < sizeof(models) / sizeof(models[0]); i++) {
        snprintf(text, sizeof(text), GEN "[02:00:00:00:00:02]\nmodel = %s\nprecache = %s\n", models[i].model,
                 models[i].precache);
        struct config *c = load_ok(text, models[i].precache);
        if (c && CHECK_INT_OK(c->npeers, 1)) {
            CHECK(c->peers[0].model == models[i].m, "model %s -> %d", models[i].model, c->peers[0].model);
            CHECK(c->peers[0].pcmodel == models[i].pc, "precache %s -> %d", models[i].precache, c->peers[0].pcmodel);
        }
        config_free(c);
    }
    CHECK_STR(model_name(MODEL_INBOUND), "Inbound");
    CHECK_STR(model_name(MODEL_OUTBOUND), "Outbound");
    CHECK_STR(model_name(MODEL_SYMMETRIC), "Symmetric");
    CHECK_STR(model_name(MODEL_NONE), "Unknown");

    /* The last host line wins; an explicit autokill = 0 is not "the global value". */
    struct config *c = load_ok(GEN "autokill = 900\n"
                                   "[02:00:00:00:00:02]\nmodel = outbound\nhost = dynamic\nhost = 127.0.0.9\nautokill = 0\n"
                                   "[02:00:00:00:00:03]\nmodel = outbound\nhost = 127.0.0.9\nhost = dynamic\n"
                                   "qualify = 0\n",
                               "host variants");
    if (c && CHECK_INT_OK(c->npeers, 2)) {
        const struct peer_conf *p = &c->peers[0];
        CHECK(!p->dynamic && p->has_addr && addr4_is(&p->addr, "127.0.0.9", 4520), "dynamic then literal");
        CHECK_INT(config_peer_autokill(c, p), 0);
        p = &c->peers[1];
        CHECK(p->dynamic && !p->has_addr && !p->host[0], "literal then dynamic");
        CHECK_INT(p->qualify_ms, 0);
        CHECK_INT(config_peer_autokill(c, p), 900);
        eid_t e;
        eid_parse(&e, "02:00:00:00:00:04");
        CHECK(config_find_peer(c, &e) == NULL, "no [*]: unknown EID -> NULL");
        CHECK(config_find_peer(c, NULL) == NULL, "no [*]: NULL EID -> NULL");
    }
    config_free(c);
}

/* ---- rules_allow ---- */

static void test_rules(void)
{
    static const struct {
        const char *rules; /* "+name" allow, "-name" deny, space separated */
        const char *context;
        bool want;
    } cases[] = {
        {"", "e164", false},
        {"+e164", "e164", true},
        {"+e164", "E164", true},
        {"+E164", "e164", true},
        {"+e164", "priv", false},
        {"-e164", "e164", false},
        {"+all", "anything", true},
        {"+ALL", "anything", true},
        {"+All", "all", true},
        {"-all", "e164", false},
        {"+all -e164", "e164", false},
        {"+all -e164", "priv", true},
        {"-e164 +all", "e164", true},
        {"+e164 -all", "e164", false},
        {"-all +e164", "e164", true},
        {"-all +e164", "priv", false},
        {"+e164 -e164", "e164", false},
        {"-e164 +e164", "e164", true},
        {"+a +b -a", "a", false},
        {"+a +b -a", "b", true},
        {"+a +b -a", "c", false},
        {"+priv", "priv2", false},
        {"+priv2", "priv", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct rule r[8];
        struct rulelist l = {r, 0};
        char buf[128], *save, *tok;
        snprintf(buf, sizeof(buf), "%s", cases[i].rules);
        for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
            r[l.n].allow = tok[0] == '+';
            snprintf(r[l.n].name, sizeof(r[l.n].name), "%s", tok + 1);
            l.n++;
        }
        CHECK(rules_allow(&l, cases[i].context) == cases[i].want, "rules \"%s\" context %s: want %s",
              cases[i].rules, cases[i].context, cases[i].want ? "allow" : "deny");
    }
}

/* ---- bad files ---- */

struct bad_case {
    const char *file;
    const char *msg[12]; /* "LINE: reason" (FILE: is prepended); @GAI@ = gai_strerror for nohost.invalid */
};

static const struct bad_case bad_cases[] = {
    {"bad-section.conf",
     {"3: unknown section [foo] (expected general, mappings, registrations, a peer EID, * or 'context NAME')"}},
    {"bad-general-key.conf", {"3: unknown option 'colour' in [general]"}},
    {"bad-peer-option.conf", {"6: unknown peer option 'colour'"}},
    {"bad-entityid.conf",
     {"3: entityid: '02:00:00:00:00' is not an EID like 00:11:22:33:44:55 (and not all zero)",
      "4: entityid: '00:00:00:00:00:00' is not an EID like 00:11:22:33:44:55 (and not all zero)",
      "5: entityid: '02:00:00:00:00:01:02' is not an EID like 00:11:22:33:44:55 (and not all zero)"}},
    {"bad-ttl.conf", {"3: ttl: '120' must be 1..119", "4: ttl: '0' must be 1..119", "5: ttl: '32x' must be 1..119"}},
    {"bad-port.conf",
     {"3: port: '70000' is not a port number (1..65535)", "4: port: '0' is not a port number (1..65535)",
      "5: port: 'abc' is not a port number (1..65535)", "8: port: '65536' is not a port number (1..65535)"}},
    {"bad-autokill.conf",
     {"3: autokill: 'maybe' must be yes, no or milliseconds", "4: autokill: '-5' must be yes, no or milliseconds",
      "7: autokill: 'soon' must be yes, no or milliseconds"}},
    {"bad-tos.conf",
     {"3: tos: '256' is not a number 0..255 or a DSCP name (cs0..cs7, af11..af43, ef)",
      "4: tos: 'af99' is not a number 0..255 or a DSCP name (cs0..cs7, af11..af43, ef)",
      "5: tos: '0x1ff' is not a number 0..255 or a DSCP name (cs0..cs7, af11..af43, ef)"}},
    {"bad-map-context.conf", {"4: mapping 'priv': unknown local context 'nosuch' (define it as [context nosuch])"}},
    {"bad-map-fields.conf",
     {"4: mapping 'priv': expected 'local_context,weight,tech,destination[,options]'",
      "5: mapping 'e164': expected 'local_context,weight,tech,destination[,options]'"}},
    {"bad-map-lcontext.conf", {"4: mapping 'priv': bad local context ''"}},
    {"bad-weight.conf",
     {"4: mapping 'priv': weight '60000' must be 0..59999 or ${VARIABLE}",
      "5: mapping 'e164': weight 'abc' must be 0..59999 or ${VARIABLE}",
      "6: mapping 'other': weight '-1' must be 0..59999 or ${VARIABLE}"}},
    {"bad-tech.conf",
     {"4: mapping 'priv': unknown technology 'XMPP' (IAX2, SIP, PJSIP, H323)",
      "5: mapping 'e164': unknown technology 'IAX3' (IAX2, SIP, PJSIP, H323)"}},
    {"bad-pattern.conf",
     {"4: bad pattern '_[12': unterminated [ in pattern", "5: bad pattern '_[12': unterminated [ in pattern",
      "6: bad pattern '_[9': unterminated [ in pattern", "7: bad pattern '': empty pattern",
      "8: bad pattern '_[2-1]': reversed range in [ ] in pattern"}},
    {"bad-noequals.conf", {"3: expected 'key = value' or 'key => value'"}},
    {"bad-include.conf",
     {"3: cannot include '/nonexistent/dundid-test/other.conf': cannot open: No such file or directory",
      "4: warning: #exec /bin/true skipped: commands run only with 'execincludes = yes' in asterisk.conf [options]",
      "5: a line starting with '#' is not a comment (comments start with ';')"}},
    /* templates apply; keys under a rejected header are dropped, not applied
     * to the previous section; the reading's problems come first */
    {"bad-template.conf", {"7: section header without ']'", "4: unknown peer option 'colour'"}},
    {"bad-dup-peer.conf",
     {"6: peer [02:00:00:00:00:0A] is already defined at line 3", "10: peer [*] is already defined at line 8"}},
    {"bad-dup-context.conf", {"5: context 'A' is already defined at line 3"}},
    {"bad-model-none.conf",
     {"3: peer [02:00:00:00:00:02]: neither model nor precache is set, so it could do nothing",
      "5: peer [02:00:00:00:00:03]: neither model nor precache is set, so it could do nothing"}},
    {"bad-model-conflict.conf",
     {"3: peer [02:00:00:00:00:02]: model inbound/symmetric cannot be combined with precache outbound",
      "6: peer [02:00:00:00:00:03]: model outbound/symmetric cannot be combined with precache inbound",
      "9: peer [02:00:00:00:00:04]: model inbound/symmetric cannot be combined with precache outbound",
      "9: peer [02:00:00:00:00:04]: model outbound/symmetric cannot be combined with precache inbound"}},
    /* a bad value leaves the model unset: no made-up conflict with the other setting */
    {"bad-model-value.conf",
     {"5: precache: 'upward' must be inbound, outbound, symmetric or none",
      "7: model: 'sideways' must be inbound, outbound, symmetric or none"}},
    {"bad-inkey.conf",
     {"11: inkey: 'keys/theirs' is not a key name (a file name without .pub/.key)",
      "12: outkey: '' is not a key name (a file name without .pub/.key)",
      "3: peer [02:00:00:00:00:02]: inkey without outkey (encryption needs both)",
      "6: peer [02:00:00:00:00:03]: outkey without inkey (encryption needs both)"}},
    /* reported at the host line */
    {"bad-host.conf",
     {"9: host: '' is not a host name or address", "6: peer [02:00:00:00:00:02]: host 'no!host.example' is not a host name or address"}},
    {"bad-bindaddr.conf", {"3: bindaddr: cannot resolve 'nohost.invalid': @GAI@"}},
    {"bad-bindaddr2.conf", {"4: bindaddr2 must be of the other address family than bindaddr"}},
    {"bad-outside.conf", {"1: 'port' outside of any section"}},
    {"bad-general-values.conf",
     {"3: cachetime: '-1' must be 0..65535 seconds", "4: storehistory: 'maybe' must be yes or no",
      "5: ipaddr: 'example.com' is not an IP address", "6: max_transactions: '0' must be 1..32766",
      "7: max_transactions: '32767' must be 1..32766",
      "8: loglevel: 'loud' must be error, warning, notice, info or debug"}},
    {"bad-peer-values.conf",
     {"5: order: 'fifth' must be primary, secondary, tertiary or quartiary",
      "6: qualify: 'fast' must be yes, no or milliseconds", "7: qualify: '60001' must be yes, no or milliseconds",
      "8: register: 'maybe' must be yes or no", "9: ustothem: 'xyz' is not an EID",
      "10: permit: context name must be 1..79 characters"}},
    {"bad-contact.conf", {"3: department: longer than 79 characters"}},
    {"bad-longline.conf", {"4: department: longer than 79 characters"}},
    {"bad-ops.conf",
     {"3: pidfile: 'run/dundid.pid' must be an absolute path shorter than 256 characters",
      "4: logfile: '' must be an absolute path shorter than 256 characters",
      "5: metrics: 'localhost:9520' must be IP:PORT (e.g. 127.0.0.1:9520 or [::1]:9520)",
      "6: metrics: '127.0.0.1:0' must be IP:PORT (e.g. 127.0.0.1:9520 or [::1]:9520)",
      "7: metrics: '[::1:9520' must be IP:PORT (e.g. 127.0.0.1:9520 or [::1]:9520)"}},
    {"bad-multi.conf",
     {"16: expected 'key = value' or 'key => value'", "3: port: '99999' is not a port number (1..65535)",
      "4: ttl: '200' must be 1..119", "5: unknown option 'bogus' in [general]",
      "6: warning: authdebug: Asterisk option with no effect in dundid; ignored",
      "9: mapping 'e164': weight 'abc' must be 0..59999 or ${VARIABLE}", "11: bad pattern '_[1': unterminated [ in pattern",
      "8: mapping 'priv': unknown local context 'nosuch' (define it as [context nosuch])",
      "12: peer [02:00:00:00:00:02]: model inbound/symmetric cannot be combined with precache outbound",
      "15: peer [02:00:00:00:00:02]: host '-nohost.invalid' is not a host name or address"}},
};

static void expand_expected(char *out, size_t len, const char *path, const char *msg, const char *gai)
{
    const char *at = strstr(msg, "@GAI@");
    if (at)
        snprintf(out, len, "%s:%.*s%s%s", path, (int)(at - msg), msg, gai, at + 5);
    else
        snprintf(out, len, "%s:%s", path, msg);
}

static void test_bad_files(void)
{
    /* What the resolver says about the reserved .invalid name, same hints as the loader. */
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM}, *res = NULL;
    int rc = getaddrinfo("nohost.invalid", "4520", &hints, &res);
    if (rc == 0)
        freeaddrinfo(res);
    CHECK(rc != 0, "nohost.invalid does not resolve");
    const char *gai = rc ? gai_strerror(rc) : "?";

    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const struct bad_case *bc = &bad_cases[i];
        char path[1024], want[1400];
        struct config_diag d;
        size_t nmsg = 0, nerr = 0;
        while (nmsg < 12 && bc->msg[nmsg]) {
            if (!strstr(bc->msg[nmsg], ": warning: "))
                nerr++;
            nmsg++;
        }
        conf_path(path, sizeof(path), bc->file);
        struct config *c = config_load(path, &d);
        CHECK(c == NULL, "%s: config_load must fail", bc->file);
        config_free(c);
        int ok = CHECK(d.n == nmsg && d.errors == nerr && d.warnings == nmsg - nerr,
                       "%s: %zu diagnostics (%zu errors), want %zu (%zu)", bc->file, d.n, d.errors, nmsg, nerr);
        for (size_t j = 0; j < nmsg && j < d.n; j++) {
            expand_expected(want, sizeof(want), path, bc->msg[j], gai);
            ok &= CHECK(!strcmp(d.msg[j], want), "%s diag %zu:\n    got  \"%s\"\n    want \"%s\"", bc->file, j,
                        d.msg[j], want);
            CHECK(d.is_error[j] == (strstr(bc->msg[j], ": warning: ") == NULL), "%s diag %zu is_error", bc->file, j);
        }
        if (!ok)
            dump_diag(&d);
        config_diag_free(&d);
    }

    /* A file that does not exist */
    char path[1024], want[1200];
    struct config_diag d;
    conf_path(path, sizeof(path), "does-not-exist.conf");
    struct config *c = config_load(path, &d);
    CHECK(c == NULL, "missing file fails");
    CHECK_INT(d.errors, 1);
    if (CHECK_INT_OK(d.n, 1)) {
        snprintf(want, sizeof(want), "%s: cannot open: No such file or directory", path);
        CHECK_STR(d.msg[0], want);
        CHECK(d.is_error[0], "missing file is an error");
    }
    config_diag_free(&d);

    /* The reference capture's A-dundi.conf names a local context it does not define. */
    snprintf(path, sizeof(path), "%s/A-dundi.conf", datadir);
    c = config_load(path, &d);
    CHECK(c == NULL, "A-dundi.conf alone does not load (its keys are not in the default keydir)");
    config_free(c);
    /* Its priv mapping names sipregistration, the default regcontext: no
     * static context is needed for it any more. */
    snprintf(want, sizeof(want), "%s:11: peer [02:00:00:00:00:0b]: inkey 'dundi'", path);
    CHECK(d.n >= 1 && d.errors >= 1, "A-dundi.conf diagnostics");
    bool found = false, regctx = false;
    for (size_t i = 0; i < d.n; i++) {
        found |= !strncmp(d.msg[i], want, strlen(want));
        regctx |= strstr(d.msg[i], "sipregistration") != NULL;
    }
    CHECK(found, "A-dundi.conf: %s...", want);
    CHECK(!regctx, "A-dundi.conf: the regcontext mapping is accepted");
    config_diag_free(&d);
}

/* Line-length limit of the reader: 198 characters of content fit, 199 do not. */
static void test_long_lines(void)
{
    static char text[8192];
    char path[64], want[200], value[4200];
    struct config_diag d;

    /* "phone = " is 8 characters; the value fills the rest. Contact fields hold 79. */
    memset(value, '5', 79);
    value[79] = '\0';
    snprintf(text, sizeof(text), GEN "phone = %s\n", value);
    struct config *c = load_text(text, &d, path, sizeof(path));
    if (CHECK(c != NULL, "79-character phone loads"))
        CHECK_STR(c->phone, value);
    config_free(c);
    config_diag_free(&d);

    /* A destination of 255 characters (after comments and trimming) is taken. */
    memset(value, 'x', 255);
    value[255] = '\0';
    snprintf(text, sizeof(text), GEN "[mappings]\ne164 => l,0,SIP,%s   ; comment\n[context l]\n", value);
    c = load_text(text, &d, path, sizeof(path));
    if (CHECK(c != NULL, "255-character destination loads") && CHECK_INT_OK(c->nmaps, 1))
        CHECK_INT(strlen(c->maps[0].dest), 255);
    config_free(c);
    config_diag_free(&d);

    /* 4095 characters of content are a line; one more is too long */
    for (int n = 4095; n <= 4096; n++) {
        memset(value, 'x', (size_t)n - 7);
        value[n - 7] = '\0';
        snprintf(text, sizeof(text), GEN "phone =%s\n", value);
        c = load_text(text, &d, path, sizeof(path));
        CHECK(c == NULL, "%d-character line fails", n);
        snprintf(want, sizeof(want), "%s:3: %s", path,
                 n == 4095 ? "'phone...': a key longer than 255 or a value longer than 1023 characters"
                           : "line too long (more than 4095 characters)");
        if (CHECK_INT_OK(d.n, 1))
            CHECK_STR(d.msg[0], want);
        config_diag_free(&d);
    }
}

/* Lexical details of the reader beyond good-full.conf. */
static void test_lexical(void)
{
    struct config *c = load_ok("; leading comment\n"
                               "\n"
                               "   [general]   \n"
                               "entityid=02:00:00:00:00:01;comment without space\n"
                               "organization = a\\;b\\;c ; real comment\n"
                               "department = ;-- all of it is a comment --; x\n"
                               "email = one ;-- block\n"
                               "  country = ignored inside the block\n"
                               "  --;locality = after the block\n"
                               "phone=\t tabbed \t\n",
                               "lexical");
    if (c) {
        CHECK_STR(c->organization, "a;b;c");
        CHECK_STR(c->department, "x");
        CHECK_STR(c->email, "one");
        CHECK_STR(c->country, "");
        CHECK_STR(c->locality, "after the block");
        CHECK_STR(c->phone, "tabbed");
        CHECK(eid_is(&c->eid, "02:00:00:00:00:01"), "entityid before a ';' comment");
    }
    config_free(c);
}

/* Key files: loaded once per name, errors name the peer, key and path. */
static void test_key_files(void)
{
    char path[4096], keypath[4096], want[8192];
    struct config_diag d;

    snprintf(path, sizeof(path), "%s/conf/bad-keyfiles.conf", datadir);
    struct config *c = config_load(path, &d);
    CHECK(c == NULL && d.errors == 1, "bad-keyfiles.conf: %zu errors", d.errors);
    snprintf(want, sizeof(want),
             "%s:4: peer [02:00:00:00:00:02]: inkey 'nosuch': %s/conf/keys/nosuch.pub: key file missing or unreadable",
             path, datadir);
    if (CHECK(d.n >= 1, "a diagnostic"))
        CHECK_STR(d.msg[0], want);
    config_diag_free(&d);

    /* A private key others may read is refused, as Asterisk refuses it. */
    snprintf(keypath, sizeof(keypath), "%s/conf/keys/mykey.key", datadir);
    chmod(keypath, 0640);
    c = config_load(path, &d);
    chmod(keypath, 0600);
    snprintf(want, sizeof(want),
             "%s:8: peer [02:00:00:00:00:03]: outkey 'mykey': %s/conf/keys/mykey.key: private key is readable by "
             "group or others (chmod 600)",
             path, datadir);
    bool found = false;
    for (size_t i = 0; i < d.n; i++)
        found |= !strcmp(d.msg[i], want);
    CHECK(c == NULL && found, "group-readable private key refused with: %s", want);
    config_diag_free(&d);

    /* Good keys: loaded, and shared between peers naming the same file. */
    snprintf(path, sizeof(path), "%s/conf/pbx-a.conf", datadir);
    c = config_load(path, &d);
    if (CHECK(c != NULL, "pbx-a.conf loads with its keys")) {
        const struct peer_conf *b = NULL;
        for (size_t i = 0; i < c->npeers; i++)
            if (c->peers[i].inkey[0])
                b = &c->peers[i];
        CHECK(b && b->inkey_pub && b->outkey_priv, "keys loaded");
        config_free(c);
    }
    config_diag_free(&d);
}

/* Peer host names are resolved by the daemon later: any valid name loads. */
static void test_host_names(void)
{
    struct config *c = load_ok(GEN "[02:00:00:00:00:02]\nmodel = outbound\ninclude = all\nhost = nohost.invalid\n"
                                   "[02:00:00:00:00:03]\nmodel = outbound\ninclude = all\nhost = 10.1.2.3\nport = 4521\n",
                               "host names");
    if (c && CHECK_INT_OK(c->npeers, 2)) {
        CHECK(!c->peers[0].has_addr && !strcmp(c->peers[0].host, "nohost.invalid"), "a name waits for the resolver");
        CHECK(c->peers[1].has_addr, "an address is taken at load");
        CHECK_INT(ntohs(((struct sockaddr_in *)&c->peers[1].addr.ss)->sin_port), 4521);
    }
    config_free(c);
}

/* [*] cloned for a registering stranger (7.7). */
static void test_wildcard_clone(void)
{
    struct config *c = load_ok(GEN "[*]\nhost = dynamic\nmodel = symmetric\ninclude = priv\npermit = priv\n"
                                   "[02:00:00:00:00:02]\nmodel = inbound\npermit = all\n",
                               "wildcard");
    eid_t known, stranger;
    eid_parse(&known, "02:00:00:00:00:02");
    eid_parse(&stranger, "02:00:00:00:00:77");
    if (!c)
        return;
    CHECK(config_clone_wildcard(c, &known) == NULL, "a known EID is not cloned");
    const struct peer_conf *p = config_clone_wildcard(c, &stranger);
    if (CHECK(p != NULL, "a stranger is cloned")) {
        CHECK(!p->wildcard && p->cloned && p->dynamic && p->model == MODEL_SYMMETRIC, "a real peer like [*]");
        CHECK(eid_equal(&p->eid, &stranger), "with the stranger's EID");
        CHECK(rules_allow(&p->include, "priv") && !rules_allow(&p->include, "other"), "include copied");
        CHECK(config_find_peer(c, &stranger) == p, "found by its EID now");
        CHECK(config_clone_wildcard(c, &stranger) == NULL, "cloned once");
    }
    unsigned made = 1;
    for (unsigned i = 0; i < CONF_MAX_CLONES + 5; i++) {
        eid_t e = {{0x02, 0x10, 0, 0, (uint8_t)(i >> 8), (uint8_t)i}};
        made += config_clone_wildcard(c, &e) != NULL;
    }
    CHECK_INT(made, CONF_MAX_CLONES);
    config_free(c); /* frees the clones' rule lists too (ASan checks) */
}

/* [realtime] and [registrars]: a full section, defaults, and every bad value
 * as FILE:LINE: reason. */
#define RT_GEN "[general]\nentityid = 02:00:00:00:00:01\nbindaddr = 127.0.0.1\n"
static void test_realtime_section(void)
{
    char path[256], want[512];
    struct config_diag d;
    struct config *c = load_text(RT_GEN "[realtime]\n"                   /* 4 */
                                 "host = db.example.com\nport = 3307\n" /* 5, 6 */
                                 "user = asterisk\npassword = se\\;cret\ndatabase = asteriskdb\n"
                                 "schema = pjsip\npoll = 10\nresync = 300\nondemand = yes\n"
                                 "ondemand_timeout = 150\ndefault_registrar = 10.0.0.9\n"
                                 "[registrars]\nregpbx1 = 10.0.0.1\nregpbx2 = 10.0.0.2:4569\n",
                                 &d, path, sizeof(path));
    if (CHECK(c != NULL, "full [realtime] loads")) {
        const struct realtime_conf *r = &c->realtime;
        CHECK(r->enabled, "enabled");
        CHECK_STR(r->host, "db.example.com");
        CHECK_INT(r->port, 3307);
        CHECK_STR(r->user, "asterisk");
        CHECK_STR(r->password, "se;cret");
        CHECK_STR(r->database, "asteriskdb");
        CHECK_INT(r->schema, RT_SCHEMA_PJSIP);
        CHECK_STR(r->table, "ps_contacts"); /* the schema's default */
        CHECK_INT(r->poll_s, 10);
        CHECK_INT(r->resync_s, 300);
        CHECK(r->ondemand, "ondemand");
        CHECK_INT(r->ondemand_timeout_ms, 150);
        CHECK_INT(r->nregistrars, 2);
        CHECK_STR(realtime_conf_registrar_for(r, "regpbx2"), "10.0.0.2:4569");
        CHECK_STR(realtime_conf_registrar_for(r, ""), "10.0.0.9");
    } else {
        dump_diag(&d);
    }
    config_free(c);
    config_diag_free(&d);

    /* Defaults: a socket, chan_sip's table, poll 5, no on-demand. */
    c = load_text(RT_GEN "[realtime]\nsocket = /run/mysqld/mysqld.sock\nuser = u\ndatabase = d\n", &d, path,
                  sizeof(path));
    if (CHECK(c != NULL, "minimal [realtime] loads")) {
        const struct realtime_conf *r = &c->realtime;
        CHECK_STR(r->host, "");
        CHECK_STR(r->table, "sippeers");
        CHECK_INT(r->schema, RT_SCHEMA_CHAN_SIP);
        CHECK_INT(r->poll_s, RT_DEFAULT_POLL_S);
        CHECK_INT(r->resync_s, RT_DEFAULT_RESYNC_S);
        CHECK(!r->ondemand, "ondemand off");
        CHECK_INT(r->ondemand_timeout_ms, RT_DEFAULT_ONDEMAND_TIMEOUT_MS);
    }
    config_free(c);
    config_diag_free(&d);
    c = load_text(RT_GEN "[realtime]\nuser = u\ndatabase = d\ntable = sip\n", &d, path, sizeof(path));
    if (CHECK(c != NULL, "host defaults to localhost"))
        CHECK_STR(c->realtime.host, "localhost");
    config_free(c);
    config_diag_free(&d);
    c = load_text(RT_GEN, &d, path, sizeof(path));
    CHECK(c && !c->realtime.enabled, "no [realtime]: off");
    config_free(c);
    config_diag_free(&d);

    static const struct {
        const char *body; /* after RT_GEN and "[realtime]\n" (line 5 on) */
        const char *msg;
    } bad[] = {
        {"user = u\ndatabase = d\nport = 0\n", "7: port: '0' is not a port number (1..65535)"},
        {"user = u\ndatabase = d\nsocket = relative.sock\n",
         "7: socket: 'relative.sock' is not an absolute path of at most 255 characters"},
        {"user = u\ndatabase = my-db\n", "6: database: 'my-db' must be 1..64 letters, digits, _ or $"},
        {"user = u\ndatabase = d\nschema = iax\n", "7: schema: 'iax' must be chan_sip or pjsip"},
        {"user = u\ndatabase = d\ntable = sip peers\n", "7: table: 'sip peers' must be 1..64 letters, digits, _ or $"},
        {"user = u\ndatabase = d\ntable = a`b\n", "7: table: 'a`b' must be 1..64 letters, digits, _ or $"},
        {"user = u\ndatabase = d\npoll = 0\n", "7: poll: '0' must be 1..3600 seconds"},
        {"user = u\ndatabase = d\npoll = 5s\n", "7: poll: '5s' must be 1..3600 seconds"},
        {"user = u\ndatabase = d\nresync = 99999999\n", "7: resync: '99999999' must be 1..86400 seconds"},
        {"user = u\ndatabase = d\nondemand = maybe\n", "7: ondemand: 'maybe' must be yes or no"},
        {"user = u\ndatabase = d\nondemand_timeout = 0\n",
         "7: ondemand_timeout: '0' must be 1..5000 milliseconds"},
        {"user = u\ndatabase = d\nondemand = yes\nondemand_timeout = 2500\n",
         "4: [realtime]: ondemand_timeout 2500 ms leaves peers no time for the answer (< 2000)"},
        {"user = u\ndatabase = d\ndefault_registrar = a b\n",
         "7: default_registrar: 'a b' must be an address of 1..63 characters"},
        {"user = u\ndatabase = d\nhost = a/b\n", "7: host: 'a/b' is not a host name or address"},
        {"user = u\ndatabase = d\nflavour = mysql\n", "7: unknown option 'flavour' in [realtime]"},
        {"database = d\n", "4: [realtime]: 'user' is required"},
        {"user = u\n", "4: [realtime]: 'database' is required"},
        {"user = u\ndatabase = d\nsocket = /tmp/s\nport = 3306\n", "4: [realtime]: 'socket' excludes 'host' and 'port'"},
        {"user = u\ndatabase = d\n[registrars]\nregpbx1 = 10.0.0.1\nregpbx1 = 10.0.0.2\n",
         "9: registrar 'regpbx1' is already mapped at line 8"},
        {"user = u\ndatabase = d\n[registrars]\nregpbx1 = 10.0.0.1/24\n",
         "8: registrar 'regpbx1': address '10.0.0.1/24' must be 1..63 characters without spaces or /@,;"},
        {"user = u\ndatabase = d\n[registrars]\nreg@pbx = 10.0.0.1\n",
         "8: registrar name 'reg@pbx' must be 1..63 characters without spaces or /@,;"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char text[1024];
        snprintf(text, sizeof(text), RT_GEN "[realtime]\n%s", bad[i].body);
        c = load_text(text, &d, path, sizeof(path));
        CHECK(c == NULL, "case %zu must fail", i);
        config_free(c);
        snprintf(want, sizeof(want), "%s:%s", path, bad[i].msg);
        int ok = CHECK(d.errors == 1 && d.n >= 1 && !strcmp(d.msg[0], want), "case %zu:\n    got  \"%s\"\n    want \"%s\"",
                       i, d.n ? d.msg[0] : "(none)", want);
        if (!ok)
            dump_diag(&d);
        config_diag_free(&d);
    }
}

/* config_parse takes nothing from the host; config_probe fills in the rest. */
static void test_parse_then_probe(void)
{
    char path[64], want[256];
    struct config_diag d;
    write_temp("[general]\nbindaddr = localhost\n"
               "[registrations]\nhep = localhost:9060\n"
               "[02:00:00:00:00:02]\nmodel = outbound\ninclude = all\ninkey = nosuch\noutkey = nosuch\n",
               path, sizeof(path));
    struct config *c = config_parse(path, &d);
    if (!CHECK(c != NULL && d.n == 0, "the parse alone succeeds")) {
        dump_diag(&d);
        config_diag_free(&d);
        config_free(c);
        unlink(path);
        return;
    }
    CHECK(!c->has_eid, "no EID taken from the interfaces by the parse");
    CHECK(c->bindaddr.ss.ss_family == 0, "a bindaddr name is not looked up by the parse");
    CHECK(!c->reg.has_hep && c->reg.hep_port == 9060, "hep's port parsed, its host name left");
    CHECK(!c->peers[0].inkey_pub && !c->peers[0].outkey_priv, "no key file read by the parse");
    CHECK_STR(c->ipaddr, "");

    CHECK(config_probe(c, NULL, &d) < 0, "the probe fails: the key files are missing");
    CHECK(c->bindaddr.ss.ss_family == AF_INET || c->bindaddr.ss.ss_family == AF_INET6, "bindaddr resolved");
    CHECK(c->reg.has_hep, "hep resolved");
    CHECK(c->ipaddr[0] && c->ipaddr_derived, "ipaddr derived from bindaddr: %s", c->ipaddr);
    snprintf(want, sizeof(want), "%s:5: peer [02:00:00:00:00:02]: inkey 'nosuch': ", path);
    bool found = false;
    for (size_t i = 0; i < d.n; i++)
        found |= !strncmp(d.msg[i], want, strlen(want));
    CHECK(found, "probe reports %s...", want);
    config_free(c);
    config_diag_free(&d);
    unlink(path);

    /* Problems of both steps are reported at once, as one load did. */
    write_temp("[general]\nttl = 0\n"
               "[02:00:00:00:00:02]\nmodel = outbound\ninclude = all\ninkey = nosuch\noutkey = nosuch\n",
               path, sizeof(path));
    c = config_load(path, &d);
    CHECK(c == NULL && d.errors >= 2, "parse and probe errors together: %zu", d.errors);
    config_diag_free(&d);
    unlink(path);
}

/* A reload looks no name up: an unchanged one keeps the running address, a
 * changed one is a warning (it takes effect at restart), numbers are taken. */
static void test_reload_probe(void)
{
    char path[64], want[512];
    struct config_diag d;
    struct config *run = load_ok(GEN "bindaddr = localhost\n[registrations]\nhep = localhost:9060\n", "running");
    if (!run)
        return;

    write_temp(GEN "bindaddr = localhost\n[registrations]\nhep = localhost:9060\n", path, sizeof(path));
    struct config *c = config_reload(path, run, &d);
    if (CHECK(c != NULL && d.n == 0, "unchanged names reload quietly")) {
        CHECK(dundi_addr_equal(&c->bindaddr, &run->bindaddr), "bindaddr kept");
        CHECK(c->reg.has_hep && dundi_addr_equal(&c->reg.hep, &run->reg.hep), "hep kept");
        CHECK_STR(c->ipaddr, run->ipaddr);
    } else {
        dump_diag(&d);
    }
    config_free(c);
    config_diag_free(&d);
    unlink(path);

    /* The same names with other ports: the running addresses, the new ports. */
    write_temp(GEN "bindaddr = localhost\nport = 4530\n[registrations]\nhep = localhost:9070\n", path, sizeof(path));
    c = config_reload(path, run, &d);
    if (CHECK(c != NULL && d.n == 0, "new ports reload quietly")) {
        const struct sockaddr_in *b = (const void *)&c->bindaddr.ss, *h = (const void *)&c->reg.hep.ss;
        CHECK(ntohs(b->sin_port) == 4530 && ntohs(h->sin_port) == 9070, "ports %u %u", ntohs(b->sin_port),
              ntohs(h->sin_port));
    }
    config_free(c);
    config_diag_free(&d);
    unlink(path);

    /* nohost.invalid would fail a lookup: a reload does not try. */
    write_temp(GEN "bindaddr = nohost.invalid\n[registrations]\nhep = nohost.invalid:9060\n", path, sizeof(path));
    c = config_reload(path, run, &d);
    if (CHECK(c != NULL && d.errors == 0 && d.warnings == 2, "changed names reload with warnings")) {
        snprintf(want, sizeof(want),
                 "%s:3: warning: bindaddr: 'nohost.invalid' is a host name, looked up only at start; the change "
                 "takes effect at the next restart",
                 path);
        CHECK_STR(d.msg[0], want);
        snprintf(want, sizeof(want),
                 "%s:5: warning: hep: 'nohost.invalid' is a host name, looked up only at start; the change takes "
                 "effect at the next restart",
                 path);
        CHECK_STR(d.msg[1], want);
        CHECK(dundi_addr_equal(&c->bindaddr, &run->bindaddr), "the running bindaddr stays");
        CHECK(c->reg.has_hep && dundi_addr_equal(&c->reg.hep, &run->reg.hep), "the running hep stays");
    } else {
        dump_diag(&d);
    }
    config_free(c);
    config_diag_free(&d);
    unlink(path);

    write_temp(GEN "bindaddr = 127.0.0.5\n[registrations]\nhep = 127.0.0.6:9061\n", path, sizeof(path));
    c = config_reload(path, run, &d);
    if (CHECK(c != NULL && d.n == 0, "numeric addresses reload")) {
        CHECK(addr4_is(&c->bindaddr, "127.0.0.5", DUNDI_PORT), "new bindaddr (applied at restart)");
        CHECK(addr4_is(&c->reg.hep, "127.0.0.6", 9061), "new hep");
        CHECK_STR(c->ipaddr, "127.0.0.5");
    }
    config_free(c);
    config_diag_free(&d);
    unlink(path);
    config_free(run);
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

    test_good_full();
    test_good_v6();
    test_parse_int();
    test_general_values();
    test_ops_options();
    test_mapping_forms();
    test_peer_variants();
    test_rules();
    test_bad_files();
    test_long_lines();
    test_lexical();
    test_key_files();
    test_host_names();
    test_wildcard_clone();
    test_realtime_section();
    test_parse_then_probe();
    test_reload_probe();
    return test_summary("test_config");
}
