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

#define CLIENT "127.0.15.20:4520"
#define CLIENT_EID "02:00:00:00:00:99"  /* unkeyed inbound clients of L, as dundiq */
#define CLIENT2_EID "02:00:00:00:00:98" /* a second one, another root */
#define CLIENT2 "127.0.15.21:4520"

#define UNKEYED_PEER(eid, host, extra)                                                                        \
    "[" eid "]\nmodel = symmetric\nhost = " host "\nport = 4520\ninclude = priv\npermit = priv\n" extra

/* l_general: more [general] lines of L; l_extra: more lines of L's peers;
 * r2_keyed: whether L <-> R2 is encrypted (unkeyed shows the inner commands). */
static void cluster_up_with(struct cluster *c, uint64_t seed, const char *l_general, const char *l_extra, bool r2_keyed)
{
    char lrest[4096];
    c->w = sim_new(seed, keydir);
    snprintf(lrest, sizeof(lrest),
             "%s[mappings]\npriv =>\n" PEER(R1_EID, "127.0.15.2", "%s") "%s"
             "[" CLIENT_EID "]\nmodel = inbound\npermit = priv\n[" CLIENT2_EID "]\nmodel = inbound\npermit = priv\n",
             l_general, l_extra, "");
    size_t n = strlen(lrest);
    /* R2's section, keyed or not, goes after R1's. */
    char r2[512];
    if (r2_keyed)
        snprintf(r2, sizeof(r2), PEER(R2_EID, "127.0.15.3", "%s"), l_extra);
    else
        snprintf(r2, sizeof(r2), UNKEYED_PEER(R2_EID, "127.0.15.3", "%s"), l_extra);
    snprintf(lrest + n, sizeof(lrest) - n, "%s", r2);
    c->l = sim_node(c->w, "L", L_ADDR, conf(L_ADDR, L_EID, 1, lrest));
    c->r1 = sim_node(c->w, "R1", R1_ADDR,
                     conf(R1_ADDR, R1_EID, 2,
                          "[mappings]\npriv => regs,0,SIP,${NUMBER}@r1\n[context regs]\nexten => 1001\n"
                          "exten => _20XX\n" PEER(L_EID, "127.0.15.1", "")));
    c->r2 = sim_node(c->w, "R2", R2_ADDR,
                     conf(R2_ADDR, R2_EID, 2,
                          r2_keyed ? "[mappings]\npriv => regs,0,SIP,${NUMBER}@r2\n[context regs]\nexten => 1002\n"
                          PEER(L_EID, "127.0.15.1", "")
                                   : "[mappings]\npriv => regs,0,SIP,${NUMBER}@r2\n[context regs]\nexten => 1002\n"
                          UNKEYED_PEER(L_EID, "127.0.15.1", "")));
}

static void cluster_up(struct cluster *c, uint64_t seed, const char *l_extra)
{
    cluster_up_with(c, seed, "", l_extra, true);
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

/* 30 % of all datagrams lost: retransmissions still get every lookup
 * answered; the same seed gives the same run (returns its digest). */
static uint64_t loss_thirty_percent(void)
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
    uint64_t digest = sim_digest(c.w);
    cluster_down(&c);
    return digest;
}

/* A lookup from an unkeyed client of L (as dundiq: its EID alone, direct). */
static uint16_t next_strans = 100;
static int ask_from(struct cluster *c, const char *from, const char *eid, const char *number, int ttl, bool bypass,
                    struct dundi_ies *out)
{
    struct dundi_ieb b;
    const char *path[] = {eid};
    const bool direct[] = {true};
    sim_discover_ies(&b, path, direct, 1, number, "priv", ttl, bypass);
    return sim_request(c->w, from, c->l, DUNDI_CMD_DPDISCOVER, next_strans++, &b, 10000, out);
}

static int ask(struct cluster *c, const char *number, int ttl, bool bypass, struct dundi_ies *out)
{
    return ask_from(c, CLIENT, CLIENT_EID, number, ttl, bypass, out);
}

static bool has_answer(const struct dundi_ies *ie, const char *dest)
{
    for (unsigned i = 0; i < ie->anscount; i++)
        if (strstr(ie->answers[i].dest, dest))
            return true;
    return false;
}

#define HINT_ALL (DUNDI_HINT_TTL_EXPIRED | DUNDI_HINT_DONT_ASK | DUNDI_HINT_UNAFFECTED)

/* 4.4/5.3: DONT_ASK hints combine to the longest prefix, are cached for the
 * full expiration and keep L from asking again; TTL_EXPIRED comes back from
 * servers that could not forward. Everything L <-> R travels encrypted: the
 * first envelope carries the full key, the later ones its CRC (6.3). */
static void hints_and_ttl(void)
{
    struct cluster c;
    struct dundi_ies r;
    cluster_up(&c, 5, "");
    sim_run(c.w, 100);
    sim_log_clear(c.w);

    CHECK_INT(ask(&c, "1001", 2, false, &r), DUNDI_CMD_DPRESPONSE);
    {
        CHECK_INT(r.anscount, 1);
        CHECK(has_answer(&r, "1001@r1"), "1001 answered by R1");
        CHECK_INT(r.hint_flags, DUNDI_HINT_TTL_EXPIRED | DUNDI_HINT_UNAFFECTED);
        CHECK_INT(r.expiration, 5);
    }
    /* Nobody has 2199: R1 (1001, _20XX) says "21", R2 (1002) "2": L keeps the longer. */
    CHECK_INT(ask(&c, "2199", 3, false, &r), DUNDI_CMD_DPRESPONSE);
    CHECK_INT(r.anscount, 0);
    CHECK_INT(r.hint_flags, DUNDI_HINT_DONT_ASK | DUNDI_HINT_UNAFFECTED);
    CHECK_STR(r.hint_data, "21");
    CHECK_INT(r.expiration, 5);
    /* R2's hint "2" is cached: R2 is not asked about 2042, so no TTL_EXPIRED from it. */
    uint64_t r2_asked = sim_server(c.r2)->stats.requests;
    CHECK_INT(ask(&c, "2042", 2, false, &r), DUNDI_CMD_DPRESPONSE);
    CHECK(has_answer(&r, "2042@r1"), "2042 answered by R1");
    CHECK_INT(r.hint_flags, DUNDI_HINT_UNAFFECTED);
    CHECK_INT(sim_server(c.r2)->stats.requests, r2_asked);
    /* TTL 3: R1/R2 get TTL 1, nobody to ask, no TTL_EXPIRED; TTL 2: they get 1... */
    CHECK_INT(ask(&c, "9999", 3, false, &r), DUNDI_CMD_DPRESPONSE);
    CHECK_INT(r.hint_flags, DUNDI_HINT_DONT_ASK | DUNDI_HINT_UNAFFECTED);
    CHECK_STR(r.hint_data, "9");
    CHECK_INT(ask(&c, "8888", 2, false, &r), DUNDI_CMD_DPRESPONSE);
    CHECK_INT(r.hint_flags, HINT_ALL);
    CHECK_STR(r.hint_data, "8");
    /* The cached DONT_ASK "9" answers 9123 without asking anyone. */
    uint64_t r1_asked = sim_server(c.r1)->stats.requests;
    r2_asked = sim_server(c.r2)->stats.requests;
    CHECK_INT(ask(&c, "9123", 3, false, &r), DUNDI_CMD_DPRESPONSE);
    CHECK_INT(r.hint_flags, DUNDI_HINT_DONT_ASK | DUNDI_HINT_UNAFFECTED);
    CHECK_STR(r.hint_data, "9");
    CHECK_INT(sim_server(c.r1)->stats.requests, r1_asked);
    CHECK_INT(sim_server(c.r2)->stats.requests, r2_asked);
    /* TTL 1 to L: its own TTL is 0, nobody is asked, TTL_EXPIRED. */
    CHECK_INT(ask(&c, "1001", 1, true, &r), DUNDI_CMD_DPRESPONSE);
    CHECK_INT(r.anscount, 0);
    CHECK_INT(r.hint_flags, HINT_ALL);
    CHECK_STR(r.hint_data, "");
    CHECK_INT(sim_server(c.r1)->stats.requests, r1_asked);

    CHECK_INT(sim_server(c.r1)->stats.requests, 5);
    CHECK_INT(sim_server(c.r1)->stats.answered, 5);
    CHECK_INT(sim_server(c.r2)->stats.requests, 4);
    CHECK_INT(sim_server(c.l)->stats.requests, 7);
    CHECK_INT(sim_server(c.l)->stats.answered, 7);

    /* L -> R1: no clear command, the first opening envelope with the full key. */
    CHECK_INT(sim_count(c.w, L_ADDR, R1_ADDR, DUNDI_CMD_DPDISCOVER), 0);
    size_t firsts = 0;
    for (size_t i = 0;; i++) {
        const struct sim_pkt *p = sim_find(c.w, L_ADDR, R1_ADDR, DUNDI_CMD_ENCRYPT, i);
        struct dundi_hdr h;
        struct dundi_ies ie;
        if (!p)
            break;
        if (!CHECK(sim_decode(p, &h, &ie), "envelope decodes") || h.dtrans != 0)
            continue;
        if (firsts++ == 0)
            CHECK(ie.sharedkey && ie.signature && !ie.has_keycrc32, "the first envelope carries the key");
        else
            CHECK(!ie.sharedkey && ie.has_keycrc32, "envelope %zu carries the key's CRC", firsts);
    }
    CHECK_INT(firsts, 5);
    for (struct sim_node *const *n = (struct sim_node *const[]){c.l, c.r1, c.r2, NULL}; *n; n++) {
        CHECK_INT(sim_server(*n)->stats.crypto_rejected, 0);
        CHECK_INT(sim_server(*n)->stats.encrej_sent, 0);
    }
    cluster_down(&c);
}

/* Answers L pulled are cached for EXPIRATION - 10 s, at least 1 s (5.2):
 * the cached copy goes out with what is left of that and no hint flags. */
static void cache_lifetime(void)
{
    struct cluster c;
    struct dundi_ies r;
    cluster_up(&c, 6, "");
    sim_run(c.w, 100);
    CHECK_INT(ask(&c, "1001", 2, false, &r), DUNDI_CMD_DPRESPONSE);
    CHECK_INT(r.answers[0].weight, 0);
    char dest[sizeof(r.answers[0].dest)];
    snprintf(dest, sizeof(dest), "%s", r.answers[0].dest);
    uint64_t asked = sim_server(c.r1)->stats.requests;
    const struct cache_stats *cs = cache_stats(sim_server(c.l)->cache);
    uint64_t hits = cs->hits;
    CHECK_INT(ask(&c, "1001", 2, false, &r), DUNDI_CMD_DPRESPONSE);
    CHECK_INT(r.anscount, 1);
    CHECK_STR(r.answers[0].dest, dest);
    CHECK_INT(r.expiration, 1);
    CHECK_INT(r.hint_flags, DUNDI_HINT_UNAFFECTED);
    CHECK_INT(sim_server(c.r1)->stats.requests, asked);
    CHECK(cs->hits > hits, "a cache hit at L");
    /* bypass: asked at once, the fresh expiration */
    CHECK_INT(ask(&c, "1001", 2, true, &r), DUNDI_CMD_DPRESPONSE);
    CHECK_INT(r.expiration, 5);
    CHECK_INT(sim_server(c.r1)->stats.requests, asked + 1);
    /* once the 1 s entry is gone, asked again */
    sim_run(c.w, 2100);
    CHECK_INT(ask(&c, "1001", 2, false, &r), DUNDI_CMD_DPRESPONSE);
    CHECK_INT(r.anscount, 1);
    CHECK_INT(sim_server(c.r1)->stats.requests, asked + 2);
    cluster_down(&c);
}

/* 4.2/4.3: the path list L sends (seen in clear on L -> R2), and a path that
 * names R1 keeps L from asking R1. */
static void path_lists(void)
{
    struct cluster c;
    struct dundi_ies r, q;
    struct dundi_hdr h;
    eid_t l_eid, r1_eid, client_eid;
    eid_parse(&l_eid, L_EID);
    eid_parse(&r1_eid, R1_EID);
    eid_parse(&client_eid, CLIENT_EID);
    cluster_up_with(&c, 7, "", "", false);
    sim_run(c.w, 100);
    sim_log_clear(c.w);
    CHECK_INT(ask(&c, "1002", 3, false, &r), DUNDI_CMD_DPRESPONSE);
    CHECK(has_answer(&r, "1002@r2"), "R2 answered in clear");
    CHECK_INT(sim_count(c.w, L_ADDR, R2_ADDR, DUNDI_CMD_DPDISCOVER), 1);
    const struct sim_pkt *p = sim_find(c.w, L_ADDR, R2_ADDR, DUNDI_CMD_DPDISCOVER, 0);
    if (CHECK(p && sim_decode(p, &h, &q), "L's request to R2")) {
        /* us (direct), R1 (our peer including priv: direct), then the root (not a peer including priv) */
        CHECK_INT(q.eidcount, 3);
        CHECK(!memcmp(&q.eids[0], &l_eid, sizeof(eid_t)) && q.eid_direct[0], "L first, direct");
        CHECK(!memcmp(&q.eids[1], &r1_eid, sizeof(eid_t)) && q.eid_direct[1], "R1, direct");
        CHECK(!memcmp(&q.eids[2], &client_eid, sizeof(eid_t)) && !q.eid_direct[2], "the root, not direct");
        CHECK_INT(q.ttl, 2);
        CHECK_STR(q.called_number, "1002");
        CHECK(!q.cachebypass, "no bypass");
    }
    uint64_t r1_asked = sim_server(c.r1)->stats.requests;
    CHECK_INT(r1_asked, 1);

    /* The client says it also asks R1 (plain EID): R1 not asked, UNAFFECTED cleared. */
    struct dundi_ieb b;
    const char *path[] = {CLIENT_EID, R1_EID, CLIENT_EID};
    bool direct[] = {true, false, true};
    sim_discover_ies(&b, path, direct, 3, "1001", "priv", 3, true);
    CHECK_INT(sim_request(c.w, CLIENT, c.l, DUNDI_CMD_DPDISCOVER, next_strans++, &b, 10000, &r),
              DUNDI_CMD_DPRESPONSE);
    CHECK_INT(r.anscount, 0);
    CHECK_INT(r.hint_flags, DUNDI_HINT_DONT_ASK);
    CHECK_STR(r.hint_data, "1001");
    CHECK_INT(r.expiration, 5);
    p = sim_find(c.w, L_ADDR, R2_ADDR, DUNDI_CMD_DPDISCOVER, 1);
    if (CHECK(p && sim_decode(p, &h, &q), "second request to R2")) {
        CHECK_INT(q.eidcount, 3);
        CHECK(q.cachebypass, "bypass passed on");
    }
    /* R1 marked direct: still not asked, the answer stays UNAFFECTED. */
    direct[1] = true;
    sim_discover_ies(&b, path, direct, 3, "1001", "priv", 3, true);
    CHECK_INT(sim_request(c.w, CLIENT, c.l, DUNDI_CMD_DPDISCOVER, next_strans++, &b, 10000, &r),
              DUNDI_CMD_DPRESPONSE);
    CHECK_INT(r.hint_flags, DUNDI_HINT_DONT_ASK | DUNDI_HINT_UNAFFECTED);
    CHECK_INT(sim_server(c.r1)->stats.requests, r1_asked);
    CHECK_INT(sim_server(c.r2)->stats.requests, 3);
    cluster_down(&c);
}

/* A dead peer without autokill: the lookup waits 2000 + 200 x TTL ms for it,
 * retransmitting, and still carries the live server's answer. */
static void dead_peer_no_autokill(void)
{
    struct cluster c;
    struct dundi_ies r;
    cluster_up(&c, 8, "");
    sim_run(c.w, 100);
    sim_down(c.r2, true);
    uint64_t t0 = sim_now(c.w);
    CHECK_INT(ask(&c, "1001", 2, false, &r), DUNDI_CMD_DPRESPONSE);
    uint64_t took = sim_now(c.w) - t0;
    CHECK(has_answer(&r, "1001@r1"), "R1's answer");
    CHECK_INT(r.hint_flags, DUNDI_HINT_UNAFFECTED);
    CHECK(took >= 2000 && took < 2300, "waited %llu ms", (unsigned long long)took);
    CHECK(sim_server(c.l)->eng->stats.tx_retransmit >= 1, "L retransmitted to R2");
    CHECK_INT(sim_server(c.l)->eng->stats.autokilled, 0);
    cluster_down(&c);

    /* With autokill: the transaction is killed, counted. */
    cluster_up(&c, 9, "autokill = yes\n");
    sim_run(c.w, 100);
    sim_down(c.r2, true);
    CHECK_INT(ask(&c, "1002", 2, false, &r), DUNDI_CMD_DPRESPONSE);
    CHECK_INT(r.anscount, 0);
    CHECK_INT(r.hint_flags, HINT_ALL);
    CHECK_STR(r.hint_data, "1002");
    CHECK_INT(sim_server(c.l)->eng->stats.autokilled, 1);
    cluster_down(&c);
}

/* The first full key of an envelope from L to R1, as bytes (NULL: none). */
static bool full_key_to_r1(struct cluster *c, size_t nth, uint8_t key[DUNDI_KEY_BYTES])
{
    for (size_t i = 0, seen = 0;; i++) {
        const struct sim_pkt *p = sim_find(c->w, L_ADDR, R1_ADDR, DUNDI_CMD_ENCRYPT, i);
        struct dundi_hdr h;
        struct dundi_ies ie;
        if (!p)
            return false;
        if (sim_decode(p, &h, &ie) && ie.sharedkey && seen++ == nth) {
            memcpy(key, ie.sharedkey, DUNDI_KEY_BYTES);
            return true;
        }
    }
}

/* session_key_lifetime = 10: the same key by CRC before it, a new full key after it. */
static void session_key_rotation(void)
{
    struct cluster c;
    struct dundi_ies r;
    uint8_t k1[DUNDI_KEY_BYTES], k2[DUNDI_KEY_BYTES];
    cluster_up_with(&c, 10, "[general]\nsession_key_lifetime = 10\n", "", true);
    sim_run(c.w, 100);
    sim_log_clear(c.w);
    CHECK_INT(ask(&c, "1001", 2, false, &r), DUNDI_CMD_DPRESPONSE);
    CHECK_INT(ask(&c, "1001", 2, true, &r), DUNDI_CMD_DPRESPONSE);
    CHECK(full_key_to_r1(&c, 0, k1), "a full key");
    CHECK(!full_key_to_r1(&c, 1, k2), "only one full key within the lifetime");
    sim_run(c.w, 10000);
    CHECK_INT(ask(&c, "1001", 2, true, &r), DUNDI_CMD_DPRESPONSE);
    CHECK(has_answer(&r, "1001@r1"), "answered with the new key");
    if (CHECK(full_key_to_r1(&c, 1, k2), "a second full key after the lifetime"))
        CHECK(memcmp(k1, k2, sizeof(k1)) != 0, "a new key");
    CHECK_INT(sim_server(c.r1)->stats.requests, 3);
    CHECK_INT(sim_server(c.r1)->stats.crypto_rejected, 0);
    cluster_down(&c);
}

/* R1 restarts (kill -9) and forgets L's key: L's KEYCRC32 is refused with
 * ENCREJ and L resends the same key in full (6.7). */
static void encrej_after_restart(void)
{
    struct cluster c;
    struct dundi_ies r;
    uint8_t k1[DUNDI_KEY_BYTES], k2[DUNDI_KEY_BYTES];
    cluster_up(&c, 11, "");
    sim_run(c.w, 100);
    sim_log_clear(c.w);
    CHECK_INT(ask(&c, "1001", 2, false, &r), DUNDI_CMD_DPRESPONSE);
    sim_restart(c.r1);
    sim_run(c.w, 100);
    CHECK_INT(ask(&c, "1001", 2, true, &r), DUNDI_CMD_DPRESPONSE);
    CHECK(has_answer(&r, "1001@r1"), "answered after the restart");
    CHECK_INT(sim_server(c.r1)->stats.encrej_sent, 1);
    CHECK_INT(sim_server(c.r1)->stats.requests, 1);
    CHECK_INT(sim_server(c.r1)->stats.answered, 1);
    CHECK_INT(sim_count(c.w, R1_ADDR, L_ADDR, DUNDI_CMD_ENCREJ), 1);
    if (CHECK(full_key_to_r1(&c, 0, k1) && full_key_to_r1(&c, 1, k2), "the key sent in full twice"))
        CHECK(!memcmp(k1, k2, sizeof(k1)), "the same key resent");
    CHECK(!full_key_to_r1(&c, 2, k2), "no third full key");
    CHECK_INT(sim_server(c.r2)->stats.encrej_sent, 0);
    cluster_down(&c);
}

/* 4.1 step 3: a lookup from another root joins the one running (R1 asked
 * once, both answered); the same root twice is a duplicate (CAUSE DUPLICATE). */
static void duplicate_and_join(void)
{
    struct cluster c;
    struct dundi_ies r1, r2;
    struct dundi_ieb b;
    cluster_up(&c, 12, "");
    sim_run(c.w, 100);
    const char *p1[] = {CLIENT_EID}, *p2[] = {CLIENT2_EID};
    const bool d[] = {true};
    sim_discover_ies(&b, p1, d, 1, "1001", "priv", 2, false);
    sim_request_send(c.w, CLIENT, c.l, DUNDI_CMD_DPDISCOVER, 500, &b);
    sim_discover_ies(&b, p2, d, 1, "1001", "priv", 2, false);
    sim_request_send(c.w, CLIENT2, c.l, DUNDI_CMD_DPDISCOVER, 501, &b);
    sim_run(c.w, 3000);
    CHECK_INT(sim_response(c.w, CLIENT, c.l, 500, &r1), DUNDI_CMD_DPRESPONSE);
    CHECK_INT(sim_response(c.w, CLIENT2, c.l, 501, &r2), DUNDI_CMD_DPRESPONSE);
    CHECK(has_answer(&r1, "1001@r1") && has_answer(&r2, "1001@r1"), "both answered");
    CHECK_INT(sim_server(c.r1)->stats.requests, 1);
    CHECK_INT(sim_server(c.r2)->stats.requests, 1);

    sim_discover_ies(&b, p1, d, 1, "2042", "priv", 2, false);
    sim_request_send(c.w, CLIENT, c.l, DUNDI_CMD_DPDISCOVER, 502, &b);
    sim_request_send(c.w, CLIENT2, c.l, DUNDI_CMD_DPDISCOVER, 503, &b);
    sim_run(c.w, 3000);
    CHECK_INT(sim_response(c.w, CLIENT, c.l, 502, &r1), DUNDI_CMD_DPRESPONSE);
    CHECK_INT(sim_response(c.w, CLIENT2, c.l, 503, &r2), DUNDI_CMD_DPRESPONSE);
    CHECK(has_answer(&r1, "2042@r1"), "the first answered");
    CHECK_INT(r2.anscount, 0);
    CHECK_INT(r2.cause, DUNDI_CAUSE_DUPLICATE);
    CHECK_INT(sim_server(c.r1)->stats.requests, 2);
    sim_run(c.w, 100);
    CHECK_INT(sim_server(c.l)->stats.answered, 4);
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
    uint64_t d1 = loss_thirty_percent();
    CHECK(d1 == loss_thirty_percent(), "the same seed, the same run");
    hints_and_ttl();
    cache_lifetime();
    path_lists();
    dead_peer_no_autokill();
    session_key_rotation();
    encrej_after_restart();
    duplicate_and_join();
    return test_summary("test_sim_forward");
}
