/* Simulated scenarios: forwarded EID queries (7.6) along a chain
 * A - B - C, with D configured at B but dead; B <-> C keyed, A <-> B in
 * clear (so B's inner commands show). A client asks A. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/testutil.h"
#include "sim.h"

#define CLIENT "127.0.23.99:4520"
#define CLIENT_EID "02:00:00:00:00:99"

static const char *keydir;
static uint16_t next_strans = 100;

static const char *host(char n)
{
    static char h[4][16];
    snprintf(h[n - 'A'], sizeof(h[0]), "127.0.23.%d", 11 + n - 'A');
    return h[n - 'A'];
}

static const char *eid(char n)
{
    static char e[4][24];
    snprintf(e[n - 'A'], sizeof(e[0]), "02:00:00:00:23:%d", 11 + n - 'A');
    return e[n - 'A'];
}

static const char *addr(char n)
{
    static char a[4][24];
    snprintf(a[n - 'A'], sizeof(a[0]), "%s:4520", host(n));
    return a[n - 'A'];
}

static const char *node_conf(char name, const char *peers, const char *keyed)
{
    static char b[4096];
    int len = snprintf(b, sizeof(b),
                       "[general]\nbindaddr = %s\nport = 4520\nentityid = %s\nttl = 4\nautokill = 500\n"
                       "keydir = @KEYDIR@\nresolv_conf = /dev/null\ndepartment = Dept %c\norganization = Org %c\n"
                       "locality = City %c\nstateprov = State %c\ncountry = ZZ\nemail = %c@example.invalid\n"
                       "phone = +1 555 01%02d\n[registrations]\nstatefile = none\n[mappings]\npriv =>\n"
                       "[" CLIENT_EID "]\nmodel = inbound\npermit = priv\n",
                       host(name), eid(name), name, name, name, name, name + 32, name);
    for (const char *p = peers; *p; p++)
        len += snprintf(b + len, sizeof(b) - (size_t)len,
                        "[%s]\nmodel = symmetric\nhost = %s\nport = 4520\ninclude = priv\npermit = priv\n%s", eid(*p),
                        host(*p), strchr(keyed, *p) ? "inkey = dundi\noutkey = dundi\n" : "");
    return b;
}

struct chain {
    struct sim *w;
    struct sim_node *a, *b, *c;
};

static void chain_up(struct chain *ch, uint64_t seed)
{
    ch->w = sim_new(seed, keydir);
    ch->c = sim_node(ch->w, "C", addr('C'), node_conf('C', "B", "B"));
    ch->b = sim_node(ch->w, "B", addr('B'), node_conf('B', "ACD", "C"));
    ch->a = sim_node(ch->w, "A", addr('A'), node_conf('A', "B", ""));
    sim_run(ch->w, 100);
}

/* An EIDQUERY from the client to A, as dundiq --eidquery sends it. */
static int query(struct chain *ch, char target, int ttl, struct dundi_ies *out, uint64_t *took)
{
    struct dundi_ieb b;
    eid_t me, t;
    eid_parse(&me, CLIENT_EID);
    eid_parse(&t, eid(target));
    dundi_ieb_init(&b, DUNDI_MAX_IES);
    dundi_ie_put_u16(&b, DUNDI_IE_VERSION, 1);
    dundi_ie_put_eid(&b, DUNDI_IE_EID, &me);
    dundi_ie_put_eid(&b, DUNDI_IE_REQEID, &t);
    dundi_ie_put_str(&b, DUNDI_IE_CALLED_CONTEXT, "priv");
    dundi_ie_put_u16(&b, DUNDI_IE_TTL, (uint16_t)ttl);
    uint64_t t0 = sim_now(ch->w);
    int cmd = sim_request(ch->w, CLIENT, ch->a, DUNDI_CMD_EIDQUERY, next_strans++, &b, 10000, out);
    if (took)
        *took = sim_now(ch->w) - t0;
    return cmd;
}

/* A asks B, B asks C (encrypted): C's contact fields come back, with C's address. */
static void forwarded_two_hops(void)
{
    struct chain ch;
    struct dundi_ies r;
    chain_up(&ch, 51);
    CHECK_INT(query(&ch, 'C', 4, &r, NULL), DUNDI_CMD_EIDRESPONSE);
    CHECK(r.has_organization, "found");
    CHECK_STR(r.department, "Dept C");
    CHECK_STR(r.organization, "Org C");
    CHECK_STR(r.locality, "City C");
    CHECK_STR(r.stateprov, "State C");
    CHECK_STR(r.country, "ZZ");
    CHECK_STR(r.email, "c@example.invalid");
    CHECK_STR(r.phone, "+1 555 0167");
    CHECK_STR(r.ipaddr, host('C'));
    CHECK_INT(query(&ch, 'B', 4, &r, NULL), DUNDI_CMD_EIDRESPONSE);
    CHECK_STR(r.organization, "Org B");
    CHECK_STR(r.ipaddr, host('B'));
    /* A -> B in clear: the query forwarded; B -> C only in envelopes. */
    CHECK(sim_count(ch.w, addr('A'), addr('B'), DUNDI_CMD_EIDQUERY) >= 1, "A forwarded to B");
    CHECK_INT(sim_count(ch.w, addr('B'), addr('C'), DUNDI_CMD_EIDQUERY), 0);
    CHECK(sim_count(ch.w, addr('B'), addr('C'), DUNDI_CMD_ENCRYPT) >= 1, "B asked C encrypted");
    /* B's CANCEL to dead D ends with D's autokill. */
    sim_run(ch.w, 800);
    CHECK_INT(sim_server(ch.a)->stats.requests, 2);
    CHECK_INT(sim_server(ch.b)->stats.requests, 2);
    CHECK_INT(sim_server(ch.c)->stats.requests, 1);
    CHECK_INT(sim_server(ch.c)->stats.crypto_rejected, 0);
    sim_free(ch.w);
}

/* TTL 2 reaches B only (not found); an EID nobody has is not found once
 * every peer answered, the dead D bounded by B's autokill (500 ms). */
static void ttl_and_unknown(void)
{
    struct chain ch;
    struct dundi_ies r;
    uint64_t took;
    chain_up(&ch, 52);
    CHECK_INT(query(&ch, 'C', 2, &r, NULL), DUNDI_CMD_EIDRESPONSE);
    CHECK(!r.has_organization, "not found with TTL 2");
    CHECK_INT(query(&ch, 'D', 4, &r, &took), DUNDI_CMD_EIDRESPONSE);
    CHECK(!r.has_organization, "D not found");
    CHECK(took >= 500 && took < 1000, "answered after %llu ms", (unsigned long long)took);
    sim_run(ch.w, 1000);
    CHECK_INT(sim_server(ch.c)->stats.requests, 1);
    CHECK(sim_server(ch.b)->eng->stats.autokilled >= 1, "B autokilled its request to D");
    sim_free(ch.w);
}

/* The same query started by A itself (dundictl eidquery). */
static void query_from_a_node(void)
{
    struct chain ch;
    struct eid_info info;
    chain_up(&ch, 53);
    if (CHECK(sim_eid_query(ch.a, eid('C'), "priv", 3, 5000, &info), "answered")) {
        CHECK(info.found, "found");
        CHECK_STR(info.organization, "Org C");
        CHECK_INT(info.asked, 1);
    }
    CHECK(sim_eid_query(ch.a, eid('C'), "priv", 1, 5000, &info) && !info.found, "TTL 1: B cannot forward");
    sim_free(ch.w);
}

int main(int argc, char **argv)
{
    static char kd[4096];
    snprintf(kd, sizeof(kd), "%s/conf/keys", argc > 1 ? argv[1] : "test/data");
    keydir = kd;
    tu_private_keys(argc > 1 ? argv[1] : "test/data");
    forwarded_two_hops();
    ttl_and_unknown();
    query_from_a_node();
    return test_summary("test_sim_eidquery");
}
