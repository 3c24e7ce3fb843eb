/* Simulated scenarios: the cluster of the paper with dundid in every role
 * (lookup server L, registration servers R1..R5, all keyed), loops in a
 * triangle, [*] strangers, order escalation, and how answers merge. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/testutil.h"
#include "sim.h"

#define L_ADDR "127.0.0.10:4520"
#define L_EID "02:00:00:00:10:00"
#define CLIENT "127.0.0.99:4520"
#define CLIENT_EID "02:00:00:00:00:99"
#define NR 5

static const char *keydir;
static uint16_t next_strans = 100;

static const char *r_host(int i)
{
    static char h[NR + 1][16];
    snprintf(h[i], sizeof(h[i]), "127.0.0.1%d", i);
    return h[i];
}

static const char *r_eid(int i)
{
    static char e[NR + 1][24];
    snprintf(e[i], sizeof(e[i]), "02:00:00:00:10:%02x", i);
    return e[i];
}

static void general(char *b, size_t n, const char *host, const char *eid, int ttl, int cachetime, const char *extra)
{
    snprintf(b, n,
             "[general]\nbindaddr = %s\nport = 4520\nentityid = %s\nttl = %d\ncachetime = %d\nipaddr = %s\n"
             "keydir = @KEYDIR@\nresolv_conf = /dev/null\n%s[registrations]\nstatefile = none\n",
             host, eid, ttl, cachetime, host, extra);
}

__attribute__((format(printf, 3, 4))) static void append(char *b, size_t n, const char *fmt, ...)
{
    size_t len = strlen(b);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b + len, n - len, fmt, ap);
    va_end(ap);
}

#define LINK "[%s]\nmodel = symmetric\nhost = %s\nport = 4520\ninclude = priv\npermit = priv\ninkey = dundi\noutkey = dundi\n"
#define CLIENT_SECTION "[" CLIENT_EID "]\nmodel = inbound\npermit = priv\n"

struct cluster {
    struct sim *w;
    struct sim_node *l, *r[NR + 1];
};

static void cluster_up(struct cluster *c, uint64_t seed, int cachetime, const char *l_extra)
{
    static char text[8192];
    char extra[256];
    c->w = sim_new(seed, keydir);
    for (int i = 1; i <= NR; i++) {
        char addr[32];
        general(text, sizeof(text), r_host(i), r_eid(i), 2, cachetime, "");
        append(text, sizeof(text), "%s%s", "[mappings]\npriv => regs,0,IAX2,${NUMBER}@", r_host(i));
        append(text, sizeof(text), "%s%s", "\n", CLIENT_SECTION);
        append(text, sizeof(text), LINK, L_EID, "127.0.0.10");
        char ctx[128];
        snprintf(ctx, sizeof(ctx), "[context regs]\nexten => 10%d1\nexten => 10%d2\n", i, i);
        append(text, sizeof(text), "%s", ctx);
        snprintf(addr, sizeof(addr), "%s:4520", r_host(i));
        c->r[i] = sim_node(c->w, "R", addr, text);
    }
    snprintf(extra, sizeof(extra), "autokill = 300\n%s", l_extra);
    general(text, sizeof(text), "127.0.0.10", L_EID, 1, 5, extra);
    append(text, sizeof(text), "%s%s", "[mappings]\npriv =>\n", CLIENT_SECTION);
    for (int i = 1; i <= NR; i++)
        append(text, sizeof(text), LINK, r_eid(i), r_host(i));
    c->l = sim_node(c->w, "L", L_ADDR, text);
    sim_run(c->w, 100);
}

static bool only_answer_of(const struct sim_answer *a, int owner, const char *number)
{
    char dest[64];
    snprintf(dest, sizeof(dest), "%s@%s", number, r_host(owner));
    return a->local.n == 0 && a->fwd.res.n == 1 && !strcmp(a->fwd.res.answers[0].dest, dest);
}

static uint64_t asked(struct cluster *c, int i) { return sim_server(c->r[i])->stats.requests; }

/* From each registration server, an extension of each other one: one
 * answer, that server's; nobody asked back along the path. */
static void any_server_finds_any_other(void)
{
    struct cluster c;
    struct sim_answer a;
    unsigned lookups = 0, right = 0;
    cluster_up(&c, 41, 5, "");
    for (int i = 1; i <= NR; i++)
        for (int j = 1; j <= NR; j++) {
            if (i == j)
                continue;
            char number[8];
            snprintf(number, sizeof(number), "10%d%d", j, 1 + lookups % 2);
            lookups++;
            if (sim_lookup(c.r[i], number, "priv", false, 5000, &a) && only_answer_of(&a, j, number))
                right++;
            else
                CHECK(0, "R%d looking up %s", i, number);
        }
    CHECK_INT(right, lookups);
    CHECK(sim_lookup(c.r[1], "1999", "priv", false, 5000, &a), "1999");
    CHECK_INT(a.fwd.res.n, 0);
    lookups++;
    CHECK_INT(sim_server(c.l)->stats.requests, lookups);
    CHECK_INT(sim_server(c.l)->stats.answered, lookups);
    for (int i = 1; i <= NR; i++) {
        CHECK_INT(sim_server(c.r[i])->stats.crypto_rejected, 0);
        CHECK_INT(sim_server(c.r[i])->stats.encrej_sent, 0);
    }
    sim_free(c.w);
}

/* TTL 2 from a client to R1: R1 forwards with TTL 1, L may not forward. */
static void ttl_two_stops_at_the_lookup_server(void)
{
    struct cluster c;
    struct dundi_ies r;
    struct dundi_ieb b;
    const char *path[] = {CLIENT_EID};
    const bool direct[] = {true};
    cluster_up(&c, 42, 5, "");
    sim_discover_ies(&b, path, direct, 1, "1021", "priv", 2, false);
    CHECK_INT(sim_request(c.w, CLIENT, c.r[1], DUNDI_CMD_DPDISCOVER, next_strans++, &b, 10000, &r),
              DUNDI_CMD_DPRESPONSE);
    CHECK_INT(r.anscount, 0);
    CHECK(r.hint_flags & DUNDI_HINT_TTL_EXPIRED, "TTL_EXPIRED");
    CHECK_INT(sim_server(c.l)->stats.requests, 1);
    for (int i = 2; i <= NR; i++)
        CHECK_INT(asked(&c, i), 0);
    sim_free(c.w);
}

/* R3 dies while L waits for it: L's autokill (300 ms) ends that request and
 * the answer of R2 comes back well before 2000 + 200 x TTL ms. */
static void server_killed_mid_lookup(void)
{
    struct cluster c;
    struct sim_answer a;
    cluster_up(&c, 43, 5, "");
    sim_down(c.r[3], true);
    if (CHECK(sim_lookup(c.r[1], "1021", "priv", false, 10000, &a), "answered")) {
        CHECK(only_answer_of(&a, 2, "1021"), "R2's answer");
        CHECK(a.ms >= 300 && a.ms < 600, "after %llu ms", (unsigned long long)a.ms);
    }
    CHECK_INT(sim_server(c.l)->eng->stats.autokilled, 1);
    sim_free(c.w);
}

/* L's cache: a second lookup from another server is answered from it (the
 * servers without the number are not asked either: negative entries);
 * bypass asks again; after the lifetime (EXPIRATION 20 - 10 s) L asks again. */
static void cache_hits_expiry_bypass_negative(void)
{
    struct cluster c;
    struct sim_answer a;
    cluster_up(&c, 44, 20, "");
    CHECK(sim_lookup(c.r[1], "1021", "priv", false, 5000, &a) && only_answer_of(&a, 2, "1021"), "from R1");
    for (int i = 2; i <= NR; i++)
        CHECK_INT(asked(&c, i), 1);
    uint64_t hits = cache_stats(sim_server(c.l)->cache)->hits;
    CHECK(sim_lookup(c.r[4], "1021", "priv", false, 5000, &a) && only_answer_of(&a, 2, "1021"), "from R4");
    CHECK_INT(asked(&c, 2), 1);
    CHECK_INT(asked(&c, 3), 1);
    CHECK_INT(asked(&c, 5), 1);
    CHECK(cache_stats(sim_server(c.l)->cache)->hits >= hits + 3, "hits for R2, R3 and R5");
    CHECK(sim_lookup(c.r[5], "1021", "priv", true, 5000, &a) && only_answer_of(&a, 2, "1021"), "bypass from R5");
    CHECK_INT(asked(&c, 2), 2);
    sim_run(c.w, 10500);
    CHECK(sim_lookup(c.r[3], "1021", "priv", false, 5000, &a) && only_answer_of(&a, 2, "1021"), "after expiry");
    CHECK_INT(asked(&c, 2), 3);
    sim_free(c.w);
}

/* cache_size = 16 on L: older entries make way, so an early number is asked
 * again after many others, though its lifetime is far from over. */
static void cache_bound(void)
{
    struct cluster c;
    struct sim_answer a;
    cluster_up(&c, 45, 60, "cache_size = 16\n");
    CHECK(sim_lookup(c.r[1], "1021", "priv", false, 5000, &a) && only_answer_of(&a, 2, "1021"), "1021");
    CHECK(sim_lookup(c.r[4], "1021", "priv", false, 5000, &a), "1021 again");
    CHECK_INT(asked(&c, 2), 1);
    static const char *const more[] = {"1031", "1041", "1051", "1032", "1042", "1052"};
    for (int i = 0; i < 6; i++)
        CHECK(sim_lookup(c.r[1], more[i], "priv", false, 5000, &a) && a.fwd.res.n == 1, "%s", more[i]);
    uint64_t before = asked(&c, 2);
    CHECK(sim_lookup(c.r[5], "1021", "priv", false, 5000, &a) && only_answer_of(&a, 2, "1021"), "1021 at the end");
    CHECK_INT(asked(&c, 2), before + 1); /* evicted: R2 asked again */
    CHECK(cache_stats(sim_server(c.l)->cache)->evictions > 0, "evictions");
    sim_free(c.w);
}

/* X, Y and Z each include the other two: path lists keep a lookup from going round. */
static void triangle(void)
{
    static const char *const host[] = {"127.0.23.21", "127.0.23.22", "127.0.23.23"};
    static const char *const eid[] = {"02:00:00:00:23:21", "02:00:00:00:23:22", "02:00:00:00:23:23"};
    struct sim *w = sim_new(46, keydir);
    struct sim_node *n[3];
    for (int i = 0; i < 3; i++) {
        static char text[4096];
        char addr[32], ctx[128];
        general(text, sizeof(text), host[i], eid[i], 10, 5, "");
        snprintf(ctx, sizeof(ctx), "[mappings]\npriv => regs,0,IAX2,${NUMBER}@%s\n[context regs]\nexten => 300%d\n",
                 host[i], i + 1);
        append(text, sizeof(text), "%s", ctx);
        for (int k = 0; k < 3; k++)
            if (k != i)
                append(text, sizeof(text),
                       "[%s]\nmodel = symmetric\nhost = %s\nport = 4520\ninclude = priv\npermit = priv\n", eid[k],
                       host[k]);
        snprintf(addr, sizeof(addr), "%s:4520", host[i]);
        n[i] = sim_node(w, "T", addr, text);
    }
    struct sim_answer a;
    if (CHECK(sim_lookup(n[0], "3003", "priv", false, 5000, &a), "3003")) {
        CHECK_INT(a.fwd.res.n, 1);
        CHECK_INT(sim_answers_with(&a, "3003@127.0.23.23"), 1);
        CHECK(a.ms < 100, "at once: %llu ms", (unsigned long long)a.ms);
    }
    CHECK(sim_lookup(n[0], "3999", "priv", true, 5000, &a), "3999");
    CHECK_INT(a.fwd.res.n, 0);
    /* Y was told that X also asks Z: it asks nobody, and nobody asks X back. */
    CHECK_INT(sim_server(n[0])->stats.requests, 0);
    CHECK_INT(sim_server(n[1])->stats.requests, 2);
    CHECK_INT(sim_server(n[2])->stats.requests, 2);
    sim_free(w);
}

/* 4.8: order 1 peers are asked only when order 0 produced no transaction
 * (here: its only peer is dynamic and unregistered), not when order 0 gave
 * no answer. */
static void order_escalation(void)
{
    struct sim *w = sim_new(47, keydir);
    static char text[4096];
    general(text, sizeof(text), "127.0.24.1", "02:00:00:00:24:01", 2, 5, "");
    append(text, sizeof(text), "%s%s",
           "[mappings]\npriv =>\n[02:00:00:00:24:02]\nmodel = symmetric\nhost = dynamic\ninclude = priv\npermit = priv\n"
           "[02:00:00:00:24:03]\nmodel = symmetric\nhost = 127.0.24.3\nport = 4520\ninclude = priv\npermit = priv\n"
           "order = secondary\n",
           "");
    struct sim_node *l = sim_node(w, "L", "127.0.24.1:4520", text);
    general(text, sizeof(text), "127.0.24.2", "02:00:00:00:24:02", 2, 5, "");
    append(text, sizeof(text), "%s%s",
           "[mappings]\npriv =>\n[02:00:00:00:24:01]\nmodel = symmetric\nhost = 127.0.24.1\nport = 4520\n"
           "include = priv\npermit = priv\nregister = yes\n",
           "");
    static char ptext[4096];
    snprintf(ptext, sizeof(ptext), "%s", text);
    general(text, sizeof(text), "127.0.24.3", "02:00:00:00:24:03", 2, 5, "");
    append(text, sizeof(text), "%s%s",
           "[mappings]\npriv => regs,0,SIP,${NUMBER}@second\n[context regs]\nexten => 7001\n"
           "[02:00:00:00:24:01]\nmodel = symmetric\nhost = 127.0.24.1\nport = 4520\ninclude = priv\npermit = priv\n",
           "");
    struct sim_node *second = sim_node(w, "S", "127.0.24.3:4520", text);
    sim_run(w, 100);
    struct sim_answer a;
    if (CHECK(sim_lookup(l, "7001", "priv", false, 5000, &a), "lookup, order 0 unusable")) {
        CHECK_INT(sim_answers_with(&a, "7001@second"), 1);
        CHECK_INT(a.fwd.asked, 1);
    }
    CHECK_INT(sim_server(second)->stats.requests, 1);
    /* The primary registers: from now on only it is asked (it has no answer). */
    struct sim_node *primary = sim_node(w, "P", "127.0.24.2:4520", ptext);
    sim_run(w, 3000);
    CHECK(sim_peer_addr(l, "02:00:00:00:24:02")[0], "primary registered");
    if (CHECK(sim_lookup(l, "7001", "priv", true, 5000, &a), "lookup, order 0 usable")) {
        CHECK_INT(a.fwd.res.n, 0);
        CHECK_INT(a.fwd.asked, 1);
    }
    CHECK_INT(sim_server(primary)->stats.requests, 1);
    CHECK_INT(sim_server(second)->stats.requests, 1);
    sim_free(w);
}

/* 4.7: the same destination from two peers is one answer with the lower
 * weight; different destinations are kept, sorted by weight; an answer
 * clears DONT_ASK. */
static void merge_and_dedup(void)
{
    struct sim *w = sim_new(48, keydir);
    static char text[4096];
    general(text, sizeof(text), "127.0.25.1", "02:00:00:00:25:01", 2, 5, "");
    append(text, sizeof(text), "%s%s",
           "[mappings]\npriv =>\n"
           "[02:00:00:00:25:02]\nmodel = symmetric\nhost = 127.0.25.2\nport = 4520\ninclude = priv\npermit = priv\n"
           "[02:00:00:00:25:03]\nmodel = symmetric\nhost = 127.0.25.3\nport = 4520\ninclude = priv\npermit = priv\n",
           "");
    struct sim_node *l = sim_node(w, "L", "127.0.25.1:4520", text);
    general(text, sizeof(text), "127.0.25.2", "02:00:00:00:25:02", 2, 5, "");
    append(text, sizeof(text), "%s%s",
           "[mappings]\npriv => regs,20,SIP,${NUMBER}@shared\npriv => regs2,30,SIP,${NUMBER}@a-only\n"
           "[context regs]\nexten => 8001\nexten => 8002\n[context regs2]\nexten => 8001\nexten => 8002\n"
           "[02:00:00:00:25:01]\nmodel = symmetric\nhost = 127.0.25.1\nport = 4520\ninclude = priv\npermit = priv\n",
           "");
    sim_node(w, "A", "127.0.25.2:4520", text);
    general(text, sizeof(text), "127.0.25.3", "02:00:00:00:25:03", 2, 5, "");
    append(text, sizeof(text), "%s%s",
           "[mappings]\npriv => regs,10,SIP,${NUMBER}@shared\n[context regs]\nexten => 8001\n"
           "[02:00:00:00:25:01]\nmodel = symmetric\nhost = 127.0.25.1\nport = 4520\ninclude = priv\npermit = priv\n",
           "");
    sim_node(w, "B", "127.0.25.3:4520", text);
    sim_run(w, 100);
    struct sim_answer a;
    if (CHECK(sim_lookup(l, "8001", "priv", false, 5000, &a), "8001")) {
        CHECK_INT(a.fwd.res.n, 2);
        CHECK_INT(sim_answers_with(&a, "8001@shared"), 1);
        CHECK_INT(sim_answers_with(&a, "8001@a-only"), 1);
        for (unsigned i = 0; i < a.fwd.res.n; i++)
            if (!strcmp(a.fwd.res.answers[i].dest, "8001@shared"))
                CHECK_INT(a.fwd.res.answers[i].weight, 10);
        CHECK(!(a.fwd.hint_flags & DUNDI_HINT_DONT_ASK), "an answer clears DONT_ASK");
    }
    /* 8002: only A has it; B's DONT_ASK does not survive A's answer. */
    if (CHECK(sim_lookup(l, "8002", "priv", false, 5000, &a), "8002")) {
        CHECK_INT(a.fwd.res.n, 2);
        CHECK(!(a.fwd.hint_flags & DUNDI_HINT_DONT_ASK), "no DONT_ASK");
    }
    sim_free(w);
}

/* 7.7: a stranger registering through [*] becomes a peer of its own, asked
 * like any other; a reload keeps the registration. */
static void registered_stranger(void)
{
    struct sim *w = sim_new(49, keydir);
    static char text[4096];
    general(text, sizeof(text), "127.0.23.24", "02:00:00:00:23:24", 2, 5, "");
    append(text, sizeof(text), "%s%s",
           "[mappings]\npriv =>\n[*]\nhost = dynamic\nmodel = symmetric\ninclude = priv\npermit = priv\n"
           "inkey = dundi\noutkey = dundi\n",
           "");
    static char wtext[4096];
    snprintf(wtext, sizeof(wtext), "%s", text);
    struct sim_node *wn = sim_node(w, "W", "127.0.23.24:4520", wtext);
    general(text, sizeof(text), "127.0.23.25", "02:00:00:00:23:25", 2, 5, "");
    append(text, sizeof(text), "%s%s",
           "[mappings]\npriv => regs,0,IAX2,${NUMBER}@127.0.23.25\n[context regs]\nexten => 5001\n"
           "[02:00:00:00:23:24]\nmodel = symmetric\nhost = 127.0.23.24\nport = 4520\nregister = yes\ninclude = priv\n"
           "permit = priv\ninkey = dundi\noutkey = dundi\n",
           "");
    struct sim_node *s = sim_node(w, "S", "127.0.23.25:4520", text);
    sim_run(w, 3000);
    CHECK(sim_peer_registered(s, "02:00:00:00:23:24"), "S registered with W");
    CHECK_INT(sim_server(wn)->stats.registrations, 1);
    struct sim_answer a;
    if (CHECK(sim_lookup(wn, "5001", "priv", false, 5000, &a), "5001"))
        CHECK_INT(sim_answers_with(&a, "5001@127.0.23.25"), 1);
    CHECK_INT(sim_reload(wn, wtext), 0);
    sim_run(w, 1100); /* past the 1 s cache entry of the first answer */
    if (CHECK(sim_lookup(wn, "5001", "priv", false, 5000, &a), "5001 after the reload"))
        CHECK_INT(sim_answers_with(&a, "5001@127.0.23.25"), 1);
    CHECK_INT(sim_server(s)->stats.requests, 2);
    CHECK_INT(sim_server(wn)->stats.crypto_rejected, 0);
    sim_free(w);
}

int main(int argc, char **argv)
{
    static char kd[4096];
    snprintf(kd, sizeof(kd), "%s/conf/keys", argc > 1 ? argv[1] : "test/data");
    keydir = kd;
    tu_private_keys(argc > 1 ? argv[1] : "test/data");
    any_server_finds_any_other();
    ttl_two_stops_at_the_lookup_server();
    server_killed_mid_lookup();
    cache_hits_expiry_bypass_negative();
    cache_bound();
    triangle();
    order_escalation();
    merge_and_dedup();
    registered_stranger();
    return test_summary("test_sim_cluster");
}
