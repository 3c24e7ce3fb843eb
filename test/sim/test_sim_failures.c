/* Simulated scenarios: failures of peers (issue "late starts, dead
 * servers"). L is a lookup server with two registration servers R1 (1001)
 * and R2 (1002), unkeyed, qualify on, autokill 2 s. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/testutil.h"
#include "sim.h"

#define L_ADDR "127.0.15.1:4520"
#define R1_ADDR "127.0.15.2:4520"
#define R2_ADDR "127.0.15.3:4520"
#define L_EID "02:00:00:00:01:00"
#define R1_EID "02:00:00:00:01:01"
#define R2_EID "02:00:00:00:01:02"

#define GENERAL(host, eid, ttl)                                                                                \
    "[general]\nbindaddr = " host "\nport = 4520\nentityid = " eid "\ncachetime = 5\nttl = " ttl "\n"          \
    "ipaddr = " host "\nautokill = 2000\nresolv_conf = /dev/null\n[registrations]\nstatefile = none\n"
#define PEER(eid, host)                                                                                         \
    "[" eid "]\nmodel = symmetric\nhost = " host "\nport = 4520\ninclude = priv\npermit = priv\nqualify = yes\n"

static const char *L_CONF = GENERAL("127.0.15.1", L_EID, "1") "[mappings]\npriv =>\n" PEER(R1_EID, "127.0.15.2")
    PEER(R2_EID, "127.0.15.3");
static const char *R1_CONF = GENERAL("127.0.15.2", R1_EID, "2")
    "[mappings]\npriv => regs,0,SIP,${NUMBER}@r1\n[context regs]\nexten => 1001\n" PEER(L_EID, "127.0.15.1");
static const char *R2_CONF = GENERAL("127.0.15.3", R2_EID, "2")
    "[mappings]\npriv => regs,0,SIP,${NUMBER}@r2\n[context regs]\nexten => 1002\n" PEER(L_EID, "127.0.15.1");

static enum peer_reach reach(struct sim_node *n, const char *eid_text)
{
    eid_t e;
    eid_parse(&e, eid_text);
    const struct peer_conf *p = server_find_peer(sim_server(n), &e);
    return p ? peer_reach(sim_server(n), p, NULL) : PEER_REACH_COUNT;
}

/* The lookup server starts first; R2 comes up 12 s later. A ping that
 * timed out is followed 10 s later (not a minute), and R2's own ping of L
 * makes L ping it at once: 10 s after R2 started, L forwards to it. */
static void late_start(void)
{
    struct sim *w = sim_new(11, NULL);
    struct sim_node *l = sim_node(w, "L", L_ADDR, L_CONF);
    struct sim_node *r1 = sim_node(w, "R1", R1_ADDR, R1_CONF);
    (void)r1;
    sim_run(w, 12000);
    CHECK_INT(reach(l, R2_EID), PEER_UNREACHABLE);
    struct sim_node *r2 = sim_node(w, "R2", R2_ADDR, R2_CONF);
    (void)r2;
    sim_run(w, 10000);
    CHECK_INT(reach(l, R2_EID), PEER_OK);
    struct sim_answer a;
    if (CHECK(sim_lookup(l, "1002", "priv", true, 5000, &a), "answered"))
        CHECK_INT(sim_answers_with(&a, "1002@r2"), 1);
    sim_free(w);
}

/* R2 dies. The first lookup after that waits until its request to R2 ends
 * (retransmissions, or autokill: whichever comes first); R2 is
 * then suspect and the next lookups wait for it only briefly, until the
 * probes find it unreachable. One lookup pays the wait, not every one until
 * the next qualify a minute later. */
static void dead_peer_costs_one_wait(void)
{
    struct sim *w = sim_new(12, NULL);
    struct sim_node *l = sim_node(w, "L", L_ADDR, L_CONF);
    sim_node(w, "R1", R1_ADDR, R1_CONF);
    struct sim_node *r2 = sim_node(w, "R2", R2_ADDR, R2_CONF);
    sim_run(w, 6000); /* first pings answered: both OK */
    CHECK_INT(reach(l, R2_EID), PEER_OK);
    sim_down(r2, true);
    unsigned slow = 0, answered = 0;
    for (int i = 0; i < 20; i++) {
        struct sim_answer a;
        if (sim_lookup(l, "1001", "priv", true, 5000, &a)) {
            answered += sim_answers_with(&a, "1001@r1") == 1;
            slow += a.ms >= 400; /* the first one waits out the retransmissions (5 x 150 ms) */
            if (getenv("SIM_TRACE"))
                printf("lookup %d: %llu ms\n", i, (unsigned long long)a.ms);
        }
        sim_run(w, 100);
    }
    CHECK_INT(answered, 20);
    CHECK_INT(slow, 1);
    CHECK_INT(sim_server(l)->stats.peer_suspects, 1);
    CHECK_INT(sim_server(l)->stats.peer_suspects_cleared, 0);
    sim_run(w, 20000);
    CHECK_INT(reach(l, R2_EID), PEER_UNREACHABLE);
    /* R2 comes back: its ping of L makes L ping it, and it is asked again. */
    sim_down(r2, false);
    sim_run(w, 61000);
    CHECK_INT(reach(l, R2_EID), PEER_OK);
    sim_free(w);
}

/* One lost request is not a dead peer: the probe 1 s later clears the
 * suspicion, and the peer's answers come back (counted as a cleared suspect). */
static void lost_packet_is_not_death(void)
{
    struct sim *w = sim_new(13, NULL);
    struct sim_node *l = sim_node(w, "L", L_ADDR, L_CONF);
    sim_node(w, "R1", R1_ADDR, R1_CONF);
    struct sim_node *r2 = sim_node(w, "R2", R2_ADDR, R2_CONF);
    sim_run(w, 6000);
    struct sim_answer a;
    /* Everything to and from R2 is lost for 2.5 s: one lookup's request
     * and its retransmissions, so autokill ends it. */
    sim_down(r2, true);
    CHECK(sim_lookup(l, "1002", "priv", true, 5000, &a), "answered");
    CHECK_INT(sim_answers_with(&a, "1002@r2"), 0);
    CHECK_INT(reach(l, R2_EID), PEER_SUSPECT);
    sim_run(w, 500);
    sim_down(r2, false);
    sim_run(w, 2000); /* the 1 s probe answers */
    CHECK_INT(reach(l, R2_EID), PEER_OK);
    CHECK_INT(sim_server(l)->stats.peer_suspects_cleared, 1);
    if (CHECK(sim_lookup(l, "1002", "priv", true, 5000, &a), "answered again"))
        CHECK_INT(sim_answers_with(&a, "1002@r2"), 1);
    sim_free(w);
}

/* R2 comes back at any moment of L's ping rhythm (some while a ping of it
 * is in flight): L never holds it LAGGED (an answer to a ping sent while it
 * was down is no measure of its lag; pings end at the qualify limit), and
 * holds it OK within the 10 s unreachable interval. */
static void comes_back_ok_not_lagged(void)
{
    for (int offset = 0; offset < 3000; offset += 250) {
        struct sim *w = sim_new(14, NULL);
        struct sim_node *l = sim_node(w, "L", L_ADDR, L_CONF);
        sim_node(w, "R1", R1_ADDR, R1_CONF);
        struct sim_node *r2 = sim_node(w, "R2", R2_ADDR, R2_CONF);
        sim_run(w, 6000);
        sim_down(r2, true);
        sim_run(w, 70000 + (uint64_t)offset); /* the next minute's ping finds it dead */
        CHECK_INT(reach(l, R2_EID), PEER_UNREACHABLE);
        sim_down(r2, false);
        bool lagged = false, ok = false;
        for (int i = 0; i < 240 && !ok; i++) {
            sim_run(w, 50);
            lagged |= reach(l, R2_EID) == PEER_LAGGED;
            ok = reach(l, R2_EID) == PEER_OK;
        }
        CHECK(!lagged, "never LAGGED");
        CHECK(ok, "OK within 12 s of coming back");
        sim_free(w);
    }
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    late_start();
    dead_peer_costs_one_wait();
    lost_packet_is_not_death();
    comes_back_ok_not_lagged();
    return test_summary("test_sim_failures");
}
