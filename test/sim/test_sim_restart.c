/* Simulated scenarios: dundid restarted (kill -9) keeps what it knew. L is
 * a lookup server; R registers with it (host = dynamic) and answers 1001
 * with a long cachetime. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../unit/testutil.h"
#include "sim.h"

#define L_ADDR "127.0.17.1:4520"
#define R_ADDR "127.0.17.2:4520"
#define L_EID "02:00:00:00:07:00"
#define R_EID "02:00:00:00:07:01"

static char l_conf[2048], peers_path[64], cache_path[64];

static const char *R_CONF =
    "[general]\nbindaddr = 127.0.17.2\nport = 4520\nentityid = " R_EID "\ncachetime = 600\nttl = 2\n"
    "resolv_conf = /dev/null\n[registrations]\nstatefile = none\n"
    "[mappings]\npriv => regs,0,SIP,${NUMBER}@r\n[context regs]\nexten => 1001\n"
    "[" L_EID "]\nmodel = symmetric\nhost = 127.0.17.1\nport = 4520\ninclude = priv\npermit = priv\nregister = yes\n";

static void make_conf(void)
{
    snprintf(peers_path, sizeof(peers_path), "/tmp/dundid-sim-%d-peers.state", (int)getpid());
    snprintf(cache_path, sizeof(cache_path), "/tmp/dundid-sim-%d-cache.state", (int)getpid());
    snprintf(l_conf, sizeof(l_conf),
             "[general]\nbindaddr = 127.0.17.1\nport = 4520\nentityid = " L_EID "\ncachetime = 5\nttl = 1\n"
             "resolv_conf = /dev/null\npeer_statefile = %s\ncache_statefile = %s\n"
             "[registrations]\nstatefile = none\n[mappings]\npriv =>\n"
             "[" R_EID "]\nmodel = symmetric\nhost = dynamic\ninclude = priv\npermit = priv\n",
             peers_path, cache_path);
}

static bool registered(struct sim_node *n, const char *eid_text)
{
    eid_t e;
    eid_parse(&e, eid_text);
    return server_find_registration(sim_server(n), &e) != NULL;
}

static void kill_and_restart(void)
{
    struct sim *w = sim_new(21, NULL);
    struct sim_node *l = sim_node(w, "L", L_ADDR, l_conf);
    struct sim_node *r = sim_node(w, "R", R_ADDR, R_CONF);
    sim_run(w, 3000); /* R's first REGREQ goes 2 s after start */
    CHECK(registered(l, R_EID), "R registered with L");
    struct sim_answer a;
    if (CHECK(sim_lookup(l, "1001", "priv", false, 3000, &a), "first lookup"))
        CHECK_INT(sim_answers_with(&a, "1001@r"), 1);
    sim_run(w, 61000); /* the cache is written every 60 s, the peers a second after a change */
    sim_down(r, true); /* from now on only what L kept can answer */
    sim_restart(l);    /* kill -9: nothing written at the stop */
    CHECK(registered(l, R_EID), "R's registration survived the restart");
    sim_log_clear(w);
    if (CHECK(sim_lookup(l, "1001", "priv", false, 3000, &a), "lookup after the restart")) {
        CHECK_INT(sim_answers_with(&a, "1001@r"), 1);
        CHECK(a.ms <= 2, "from the cache: %llu ms", (unsigned long long)a.ms);
    }
    CHECK_INT(sim_count(w, L_ADDR, R_ADDR, DUNDI_CMD_DPDISCOVER), 0);
    /* A damaged cache file is reported and ignored, never half-loaded. */
    FILE *f = fopen(cache_path, "r+");
    if (CHECK(f != NULL, "cache file exists")) {
        fseek(f, -3, SEEK_END);
        fputs("x\n", f);
        fclose(f);
    }
    sim_restart(l);
    CHECK_INT(cache_count(sim_server(l)->cache), 0);
    CHECK(registered(l, R_EID), "the peers file is still good");
    sim_free(w);
    unlink(peers_path);
    unlink(cache_path);
}

int main(void)
{
    make_conf();
    unlink(peers_path);
    unlink(cache_path);
    kill_and_restart();
    return test_summary("test_sim_restart");
}
