/* Simulated scenarios: forwarding through a lookup server (4.1-4.8), the
 * cluster paper's topology. L (lookup server) has no local answers; R1 and
 * R2 (registration servers) answer 1001 and 1002; everyone is keyed with
 * the test pair. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/testutil.h"
#include "sim.h"

#define L_ADDR "127.0.15.1:4520"
#define R1_ADDR "127.0.15.2:4520"
#define R2_ADDR "127.0.15.3:4520"

static const char *keydir;

/* [general] of one node, then its peers and contexts. */
static char *conf(const char *addr, const char *eid, int ttl, const char *rest)
{
    static char buf[8][4096];
    static unsigned next;
    char host[64];
    snprintf(host, sizeof(host), "%s", addr);
    *strrchr(host, ':') = '\0';
    char *b = buf[next++ % 8];
    snprintf(b, sizeof(buf[0]),
             "[general]\nbindaddr = %s\nport = 4520\nentityid = %s\ncachetime = 5\nttl = %d\nipaddr = %s\n"
             "keydir = @KEYDIR@\nresolv_conf = /dev/null\n[registrations]\nstatefile = none\n%s",
             host, eid, ttl, host, rest);
    return b;
}

#define PEER(eid, host, extra)                                                                                \
    "[" eid "]\nmodel = symmetric\nhost = " host "\nport = 4520\ninclude = priv\npermit = priv\n"           \
    "inkey = dundi\noutkey = dundi\n" extra

#define L_EID "02:00:00:00:01:00"
#define R1_EID "02:00:00:00:01:01"
#define R2_EID "02:00:00:00:01:02"

struct cluster {
    struct sim *w;
    struct sim_node *l, *r1, *r2;
};

static void cluster_up(struct cluster *c, uint64_t seed, const char *l_extra)
{
    char lrest[2048];
    c->w = sim_new(seed, keydir);
    snprintf(lrest, sizeof(lrest), "[mappings]\npriv =>\n" PEER(R1_EID, "127.0.15.2", "%s") PEER(R2_EID, "127.0.15.3", "%s"),
             l_extra, l_extra);
    c->l = sim_node(c->w, "L", L_ADDR, conf(L_ADDR, L_EID, 1, lrest));
    c->r1 = sim_node(c->w, "R1", R1_ADDR,
                     conf(R1_ADDR, R1_EID, 2,
                          "[mappings]\npriv => regs,0,SIP,${NUMBER}@r1\n[context regs]\nexten => 1001\n"
                          "exten => _20XX\n" PEER(L_EID, "127.0.15.1", "")));
    c->r2 = sim_node(c->w, "R2", R2_ADDR,
                     conf(R2_ADDR, R2_EID, 2,
                          "[mappings]\npriv => regs,0,SIP,${NUMBER}@r2\n[context regs]\nexten => 1002\n"
                          PEER(L_EID, "127.0.15.1", "")));
}

static void cluster_down(struct cluster *c) { sim_free(c->w); }

/* R1 asks for R2's number: R1 -> L -> R2, one answer naming r2; TTL runs
 * out at L (ttl 2 at R1, 1 when L forwards, 0 at R2: R2 does not forward). */
static void forwarded_lookup(void)
{
    struct cluster c;
    struct sim_answer a;
    cluster_up(&c, 1, "");
    sim_run(c.w, 100);
    sim_log_clear(c.w);
    if (CHECK(sim_lookup(c.r1, "1002", "priv", false, 5000, &a), "lookup answered")) {
        CHECK_INT(sim_answers_with(&a, "1002@r2"), 1);
        CHECK(a.ms < 100, "answered in %llu ms", (unsigned long long)a.ms);
    }
    /* One DPDISCOVER hop by hop, inside envelopes (encrypted): ENCRYPT only. */
    CHECK_INT(sim_count(c.w, R1_ADDR, L_ADDR, DUNDI_CMD_DPDISCOVER), 0);
    CHECK(sim_count(c.w, R1_ADDR, L_ADDR, DUNDI_CMD_ENCRYPT) >= 1, "R1 asked L encrypted");
    CHECK(sim_count(c.w, L_ADDR, R2_ADDR, DUNDI_CMD_ENCRYPT) >= 1, "L asked R2 encrypted");
    /* L never asks R1 back (R1 is on the path), and R2, reached with TTL 0,
     * asks nobody: L got the one request, R2 one, R1 none. */
    CHECK_INT(sim_server(c.l)->stats.requests, 1);
    CHECK_INT(sim_server(c.r2)->stats.requests, 1);
    CHECK_INT(sim_server(c.r1)->stats.requests, 0);
    cluster_down(&c);
}

/* The second lookup of the same number is answered from L's cache; with
 * bypass it is asked again. */
static void cache_hit_and_bypass(void)
{
    struct cluster c;
    struct sim_answer a;
    cluster_up(&c, 2, "");
    sim_run(c.w, 100);
    CHECK(sim_lookup(c.r1, "1002", "priv", false, 5000, &a), "first lookup");
    uint64_t asked = sim_server(c.r2)->stats.requests;
    /* L cached R2's answer while forwarding R1's lookup. */
    CHECK(sim_lookup(c.l, "1002", "priv", false, 5000, &a), "second lookup, at L");
    CHECK_INT(sim_answers_with(&a, "1002@r2"), 1);
    CHECK_INT(sim_server(c.r2)->stats.requests, asked); /* from the cache: R2 not asked */
    CHECK(sim_lookup(c.l, "1002", "priv", true, 5000, &a), "bypass lookup");
    CHECK_INT(sim_answers_with(&a, "1002@r2"), 1);
    CHECK_INT(sim_server(c.r2)->stats.requests, asked + 1);
    /* After cachetime (5 s) the entry has expired: asked again. */
    sim_run(c.w, 6000);
    CHECK(sim_lookup(c.l, "1002", "priv", false, 5000, &a), "lookup after expiry");
    CHECK_INT(sim_server(c.r2)->stats.requests, asked + 2);
    cluster_down(&c);
}

/* A dead registration server costs a lookup the autokill time (2 s), not
 * the whole 2000 + 200 * TTL wait, and the live one still answers. */
static void dead_peer_bounded_by_autokill(void)
{
    struct cluster c;
    struct sim_answer a;
    cluster_up(&c, 3, "autokill = 2000\n");
    sim_run(c.w, 100);
    sim_down(c.r2, true);
    if (CHECK(sim_lookup(c.l, "1001", "priv", false, 10000, &a), "answered with R2 dead")) {
        CHECK_INT(sim_answers_with(&a, "1001@r1"), 1);
        CHECK(a.ms >= 2000 && a.ms < 2200, "waited the autokill time: %llu ms", (unsigned long long)a.ms);
    }
    cluster_down(&c);
}

/* 30 % of all datagrams lost: retransmissions still get every lookup answered. */
static void loss_thirty_percent(void)
{
    struct cluster c;
    struct sim_answer a;
    unsigned answered = 0, with_answer = 0;
    cluster_up(&c, 4, "");
    sim_set_loss(c.w, 30);
    sim_run(c.w, 100);
    for (int i = 0; i < 50; i++) {
        bool bypass = true;
        if (sim_lookup(c.l, i % 2 ? "1001" : "1002", "priv", bypass, 20000, &a)) {
            answered++;
            with_answer += sim_answers_with(&a, i % 2 ? "1001@r1" : "1002@r2") == 1;
        }
    }
    CHECK_INT(answered, 50);
    CHECK(with_answer >= 45, "%u of 50 lookups carried the peer's answer", with_answer);
    cluster_down(&c);
}

int main(int argc, char **argv)
{
    static char kd[4096];
    snprintf(kd, sizeof(kd), "%s/conf/keys", argc > 1 ? argv[1] : "test/data");
    keydir = kd;
    tu_private_keys(argc > 1 ? argv[1] : "test/data");
    forwarded_lookup();
    cache_hit_and_bypass();
    dead_peer_bounded_by_autokill();
    loss_thirty_percent();
    return test_summary("test_sim_forward");
}
