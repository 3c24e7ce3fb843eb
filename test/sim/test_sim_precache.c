/* Simulated scenarios: precache (7.5). P pushes its answers to U
 * (precache = outbound at P, inbound at U); a client asks U. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/testutil.h"
#include "sim.h"

#define P_ADDR "127.0.23.1:4520"
#define U_ADDR "127.0.23.2:4520"
#define RAW_ADDR "127.0.23.9:4520"
#define CLIENT "127.0.23.20:4520"
#define P_EID "02:00:00:00:23:01"
#define U_EID "02:00:00:00:23:02"
#define RAW_EID "02:00:00:00:23:09"
#define CLIENT_EID "02:00:00:00:00:99"

static const char *keydir;
static uint16_t next_strans = 100;

static char *general(const char *host, const char *eid, int cachetime, const char *rest)
{
    static char buf[8][4096];
    static unsigned next;
    char *b = buf[next++ % 8];
    snprintf(b, sizeof(buf[0]),
             "[general]\nbindaddr = %s\nport = 4520\nentityid = %s\ncachetime = %d\nttl = 2\nipaddr = %s\n"
             "keydir = @KEYDIR@\nresolv_conf = /dev/null\n[registrations]\nstatefile = none\n%s",
             host, eid, cachetime, host, rest);
    return b;
}

#define KEYS "inkey = dundi\noutkey = dundi\n"

/* P answers its extensions (a list of "exten => " lines) and pushes to upstream. */
static char *p_conf(const char *extens, int cachetime, const char *up_host, const char *up_eid, bool keyed,
                    const char *permit)
{
    static char rest[2][2048];
    static unsigned next;
    char *r = rest[next++ % 2];
    snprintf(r, sizeof(rest[0]),
             "[mappings]\npriv => regs,0,IAX2,priv:x@127.0.23.1/${NUMBER},nopartial\n"
             "[%s]\nmodel = outbound\nprecache = outbound\nhost = %s\nport = 4520\ninclude = priv\npermit = %s\n%s"
             "[context regs]\n%s",
             up_eid, up_host, permit, keyed ? KEYS : "", extens);
    return general("127.0.23.1", P_EID, cachetime, r);
}

/* U: cachetime 60 (its own EXPIRATION would cap what it reports of P's pushes). */
static char *u_conf(const char *include, bool keyed, const char *pusher, const char *more)
{
    static char r[2048];
    snprintf(r, sizeof(r),
             "[mappings]\npriv =>\n[%s]\nmodel = inbound\nprecache = inbound\npermit = priv\ninclude = %s\n%s"
             "[" CLIENT_EID "]\nmodel = inbound\npermit = priv\n%s",
             pusher, include, keyed ? KEYS : "", more);
    return general("127.0.23.2", U_EID, 60, r);
}

static int ask(struct sim *w, struct sim_node *u, const char *number, struct dundi_ies *out)
{
    struct dundi_ieb b;
    const char *path[] = {CLIENT_EID};
    const bool direct[] = {true};
    sim_discover_ies(&b, path, direct, 1, number, "priv", 2, false);
    return sim_request(w, CLIENT, u, DUNDI_CMD_DPDISCOVER, next_strans++, &b, 10000, out);
}

static bool pushed_answer(const struct dundi_ies *r, const char *number)
{
    char dest[64];
    eid_t p;
    eid_parse(&p, P_EID);
    snprintf(dest, sizeof(dest), "priv:x@127.0.23.1/%s", number);
    return r->anscount == 1 && !memcmp(&r->answers[0].eid, &p, sizeof(p)) && !strcmp(r->answers[0].dest, dest) &&
           r->answers[0].proto == DUNDI_PROTO_IAX;
}

/* P pushes its literal extensions at start (encrypted); U answers them from
 * its cache without asking P; patterns are not pushed. */
static void push_at_load(void)
{
    struct sim *w = sim_new(31, keydir);
    struct dundi_ies r;
    struct sim_node *u = sim_node(w, "U", U_ADDR, u_conf("priv", true, P_EID, ""));
    struct sim_node *p =
        sim_node(w, "P", P_ADDR, p_conf("exten => 1001\nexten => 1002\nexten => _20XX\n", 30, "127.0.23.2", U_EID, true, "priv"));
    sim_run(w, 500);
    CHECK_INT(sim_server(u)->stats.precache_received, 2);
    CHECK_INT(sim_count(w, P_ADDR, U_ADDR, DUNDI_CMD_PRECACHERQ), 0); /* inside envelopes */
    CHECK_INT(ask(w, u, "1001", &r), DUNDI_CMD_DPRESPONSE);
    CHECK(pushed_answer(&r, "1001"), "1001 from the push");
    /* pushed answers live 10 s longer than the push's EXPIRATION (5.2) */
    CHECK(r.expiration > 30 && r.expiration <= 40, "expiration %d", r.expiration);
    CHECK_INT(ask(w, u, "1002", &r), DUNDI_CMD_DPRESPONSE);
    CHECK(pushed_answer(&r, "1002"), "1002 from the push");
    CHECK_INT(ask(w, u, "2042", &r), DUNDI_CMD_DPRESPONSE);
    CHECK_INT(r.anscount, 0);
    CHECK_INT(sim_server(p)->stats.precache_sent, 2);
    CHECK_INT(sim_server(p)->stats.requests, 0);
    CHECK_INT(sim_count(w, U_ADDR, P_ADDR, DUNDI_CMD_DPDISCOVER), 0);
    for (struct sim_node *const *n = (struct sim_node *const[]){p, u, NULL}; *n; n++) {
        CHECK_INT(sim_server(*n)->stats.crypto_rejected, 0);
        CHECK_INT(sim_server(*n)->stats.encrej_sent, 0);
    }
    sim_free(w);
}

/* A raw receiver of pushes: answers PRECACHERP(F), remembers them. */
struct raw {
    struct sim_node *to;
    unsigned n;
    uint64_t at[8];
    struct dundi_ies ie[2];
    struct dundi_hdr h[2];
};

static void raw_react(void *ctx, struct sim *w, const struct sim_pkt *p)
{
    struct raw *r = ctx;
    struct dundi_hdr h;
    static struct dundi_ies ie;
    if (p->cmd != DUNDI_CMD_PRECACHERQ || !sim_decode(p, &h, &ie) || h.dtrans)
        return;
    if (r->n < 2) {
        r->ie[r->n] = ie;
        r->h[r->n] = h;
    }
    if (r->n < 8)
        r->at[r->n] = p->sent_ms;
    r->n++;
    uint8_t pkt[DUNDI_HDR_LEN];
    struct dundi_hdr rp = {77, h.strans, 1, 0, DUNDI_CMD_PRECACHERP | DUNDI_FLAG_FINAL, 0};
    dundi_hdr_encode(&rp, pkt);
    sim_inject(w, RAW_ADDR, r->to, pkt, sizeof(pkt));
}

/* The PRECACHERQ as it leaves P in clear: the IEs of 2.2, HINT flags 0,
 * EXPIRATION = cachetime; repeated when that expires. */
static void wire_format_of_a_push(void)
{
    struct sim *w = sim_new(32, keydir);
    static struct raw r;
    memset(&r, 0, sizeof(r));
    sim_agent(w, RAW_ADDR, raw_react, &r);
    struct sim_node *p = sim_node(w, "P", P_ADDR, p_conf("exten => 1001\n", 2, "127.0.23.9", RAW_EID, false, "priv"));
    r.to = p;
    sim_run(w, 3500);
    CHECK(r.n >= 2, "a push and its repetition after cachetime (%u)", r.n);
    if (r.n >= 2) {
        const struct dundi_ies *ie = &r.ie[0];
        eid_t pe;
        eid_parse(&pe, P_EID);
        CHECK(!(r.h[0].cmdresp & DUNDI_FLAG_FINAL), "not final");
        CHECK_INT(ie->version, 1);
        CHECK(ie->eidcount == 1 && !memcmp(&ie->eids[0], &pe, sizeof(pe)), "P's EID");
        CHECK_STR(ie->called_number, "1001");
        CHECK_STR(ie->called_context, "priv");
        CHECK_INT(ie->ttl, 2);
        CHECK(ie->has_hint && ie->hint_flags == 0 && !ie->hint_data[0], "HINT 0");
        CHECK_INT(ie->expiration, 2);
        CHECK_INT(ie->anscount, 1);
        CHECK(!memcmp(&ie->answers[0].eid, &pe, sizeof(pe)) && ie->answers[0].proto == DUNDI_PROTO_IAX &&
                  ie->answers[0].flags == DUNDI_FLAG_EXISTS && ie->answers[0].weight == 0,
              "the answer");
        CHECK_STR(ie->answers[0].dest, "priv:x@127.0.23.1/1001");
        /* IEs in the order of 2.2 */
        const struct sim_pkt *pk = sim_find(w, P_ADDR, RAW_ADDR, DUNDI_CMD_PRECACHERQ, 0);
        static const uint8_t order[] = {DUNDI_IE_VERSION, DUNDI_IE_EID, DUNDI_IE_CALLED_NUMBER, DUNDI_IE_CALLED_CONTEXT,
                                        DUNDI_IE_TTL, DUNDI_IE_ANSWER, DUNDI_IE_HINT, DUNDI_IE_EXPIRATION};
        struct dundi_ie_iter it;
        struct dundi_ie_raw raw;
        unsigned k = 0;
        bool in_order = true;
        dundi_ie_iter_init(&it, pk->data + DUNDI_HDR_LEN, pk->len - DUNDI_HDR_LEN);
        while (dundi_ie_next(&it, &raw) == 1)
            in_order &= k < sizeof(order) && raw.type == order[k++];
        CHECK(in_order && k == sizeof(order), "IEs in order");
        CHECK(r.at[1] - r.at[0] > 1000, "repeated after %llu ms", (unsigned long long)(r.at[1] - r.at[0]));
    }
    CHECK(sim_server(p)->stats.precache_sent >= 2, "precache_sent");
    sim_free(w);
}

/* U accepts pushes only from a precache-inbound peer whose include allows
 * the context; P pushes only to peers whose permit allows it. */
static void permissions(void)
{
    struct sim *w = sim_new(33, keydir);
    struct dundi_ies r;
    struct sim_node *u = sim_node(w, "U", U_ADDR, u_conf("other", true, P_EID, ""));
    sim_node(w, "P", P_ADDR, p_conf("exten => 1001\n", 30, "127.0.23.2", U_EID, true, "priv"));
    sim_run(w, 500);
    CHECK_INT(sim_server(u)->stats.precache_received, 0);
    CHECK_INT(sim_server(u)->stats.refused, 1);
    CHECK_INT(ask(w, u, "1001", &r), DUNDI_CMD_DPRESPONSE);
    CHECK_INT(r.anscount, 0);
    sim_free(w);

    w = sim_new(34, keydir);
    u = sim_node(w, "U", U_ADDR, u_conf("priv", true, P_EID, ""));
    struct sim_node *p = sim_node(w, "P", P_ADDR, p_conf("exten => 1001\n", 30, "127.0.23.2", U_EID, true, "other"));
    sim_run(w, 2500);
    CHECK_INT(sim_server(p)->stats.precache_sent, 0);
    CHECK_INT(sim_server(u)->stats.precache_received, 0);
    sim_free(w);
}

static int push(struct sim *w, struct sim_node *u, const char *sender, const char *number,
                const struct dundi_answer *a, unsigned na, struct dundi_ies *out)
{
    struct dundi_ieb b;
    eid_t e;
    eid_parse(&e, sender);
    dundi_ieb_init(&b, DUNDI_MAX_IES);
    dundi_ie_put_u16(&b, DUNDI_IE_VERSION, 1);
    dundi_ie_put_eid(&b, DUNDI_IE_EID, &e);
    dundi_ie_put_str(&b, DUNDI_IE_CALLED_NUMBER, number);
    dundi_ie_put_str(&b, DUNDI_IE_CALLED_CONTEXT, "priv");
    dundi_ie_put_u16(&b, DUNDI_IE_TTL, 1);
    for (unsigned i = 0; i < na; i++)
        dundi_ie_put_answer(&b, &a[i]);
    dundi_ie_put_hint(&b, 0, "");
    dundi_ie_put_u16(&b, DUNDI_IE_EXPIRATION, 20);
    return sim_request(w, RAW_ADDR, u, DUNDI_CMD_PRECACHERQ, next_strans++, &b, 5000, out);
}

/* A clear push from an unkeyed pusher is cached under its EID and answered
 * from; an unknown EID gets NOAUTH; an empty push replaces the entry. */
static void raw_push_in_clear(void)
{
    struct sim *w = sim_new(35, keydir);
    struct dundi_ies r;
    struct sim_node *u = sim_node(w, "U", U_ADDR, u_conf("priv", false, RAW_EID, ""));
    struct dundi_answer a = {.proto = DUNDI_PROTO_SIP, .flags = DUNDI_FLAG_EXISTS, .weight = 7};
    eid_parse(&a.eid, RAW_EID);
    snprintf(a.dest, sizeof(a.dest), "5551@10.0.0.9");
    sim_run(w, 100);
    CHECK_INT(push(w, u, RAW_EID, "5551", &a, 1, &r), DUNDI_CMD_PRECACHERP);
    CHECK_INT(r.anscount, 0);
    CHECK_INT(r.cause, -1);
    snprintf(a.dest, sizeof(a.dest), "x@y");
    CHECK_INT(push(w, u, "02:00:00:00:23:77", "5552", &a, 1, &r), DUNDI_CMD_PRECACHERP);
    CHECK_INT(r.cause, DUNDI_CAUSE_NOAUTH);
    CHECK_INT(ask(w, u, "5551", &r), DUNDI_CMD_DPRESPONSE);
    CHECK_INT(r.anscount, 1);
    if (r.anscount == 1) {
        CHECK_STR(r.answers[0].dest, "5551@10.0.0.9");
        CHECK_INT(r.answers[0].weight, 7);
        CHECK_INT(r.answers[0].proto, DUNDI_PROTO_SIP);
        CHECK(r.expiration > 20, "20 + 10 s (5.2): %d", r.expiration);
    }
    CHECK_INT(ask(w, u, "5552", &r), DUNDI_CMD_DPRESPONSE);
    CHECK_INT(r.anscount, 0);
    push(w, u, RAW_EID, "5551", NULL, 0, &r);
    CHECK_INT(ask(w, u, "5551", &r), DUNDI_CMD_DPRESPONSE);
    CHECK_INT(r.anscount, 0);
    CHECK_INT(sim_server(u)->stats.precache_received, 2);
    sim_free(w);
}

/* A reload that moves 1001 away from P withdraws it from U at once (an
 * empty push) and pushes the new 1003; U never asks P. */
static void reload_withdraws_and_pushes(void)
{
    struct sim *w = sim_new(36, keydir);
    struct dundi_ies r;
    struct sim_node *u = sim_node(w, "U", U_ADDR, u_conf("priv", true, P_EID, ""));
    struct sim_node *p = sim_node(w, "P", P_ADDR, p_conf("exten => 1001\n", 30, "127.0.23.2", U_EID, true, "priv"));
    sim_run(w, 500);
    CHECK_INT(ask(w, u, "1001", &r), DUNDI_CMD_DPRESPONSE);
    CHECK(pushed_answer(&r, "1001"), "1001 pushed");
    CHECK_INT(sim_reload(p, p_conf("exten => 1003\n", 30, "127.0.23.2", U_EID, true, "priv")), 0);
    sim_run(w, 500);
    CHECK_INT(sim_server(u)->stats.precache_received, 3);
    CHECK_INT(ask(w, u, "1001", &r), DUNDI_CMD_DPRESPONSE);
    CHECK_INT(r.anscount, 0);
    CHECK_INT(ask(w, u, "1003", &r), DUNDI_CMD_DPRESPONSE);
    CHECK(pushed_answer(&r, "1003"), "1003 pushed");
    CHECK_INT(sim_server(p)->stats.requests, 0);
    sim_free(w);
}

/* A push U accepts goes on to U's own precache peer with TTL - 1 and the
 * pusher on the path, carrying U's answers (7.5). */
static void propagation(void)
{
    struct sim *w = sim_new(37, keydir);
    static struct raw r;
    memset(&r, 0, sizeof(r));
    sim_agent(w, RAW_ADDR, raw_react, &r);
    char u_text[4096];
    snprintf(u_text, sizeof(u_text), "%s",
             u_conf("priv", true, P_EID,
                    "[" RAW_EID "]\nprecache = outbound\nhost = 127.0.23.9\nport = 4520\npermit = priv\n"
                    "[context local]\nexten => 1001\n"));
    /* U answers 1001 itself */
    char *m = strstr(u_text, "priv =>\n");
    char fixed[4096];
    snprintf(fixed, sizeof(fixed), "%.*spriv => local,0,SIP,u-${NUMBER}@127.0.23.2,nopartial\n%s", (int)(m - u_text),
             u_text, m + strlen("priv =>\n"));
    struct sim_node *u = sim_node(w, "U", U_ADDR, fixed);
    r.to = u;
    sim_run(w, 300);
    eid_t ue, pe;
    eid_parse(&ue, U_EID);
    eid_parse(&pe, P_EID);
    CHECK_INT(r.n, 1);
    if (r.n == 1) { /* U's own, at load */
        CHECK(r.ie[0].eidcount == 1 && !memcmp(&r.ie[0].eids[0], &ue, sizeof(ue)), "U's own push");
        CHECK_INT(r.ie[0].ttl, 2);
    }
    sim_node(w, "P", P_ADDR, p_conf("exten => 1001\n", 30, "127.0.23.2", U_EID, true, "priv"));
    sim_run(w, 300);
    CHECK_INT(r.n, 2);
    if (r.n == 2) {
        const struct dundi_ies *ie = &r.ie[1];
        CHECK(ie->eidcount == 2 && !memcmp(&ie->eids[0], &ue, sizeof(ue)) && !memcmp(&ie->eids[1], &pe, sizeof(pe)),
              "U, then the pusher, on the path");
        CHECK_INT(ie->ttl, 1);
        CHECK_STR(ie->called_number, "1001");
        CHECK(ie->anscount == 1 && !memcmp(&ie->answers[0].eid, &ue, sizeof(ue)), "U's answer");
        CHECK_STR(ie->answers[0].dest, "u-1001@127.0.23.2");
    }
    CHECK_INT(sim_server(u)->stats.precache_received, 1);
    CHECK_INT(sim_server(u)->stats.precache_sent, 2);
    sim_free(w);
}

int main(int argc, char **argv)
{
    static char kd[4096];
    snprintf(kd, sizeof(kd), "%s/conf/keys", argc > 1 ? argv[1] : "test/data");
    keydir = kd;
    tu_private_keys(argc > 1 ? argv[1] : "test/data");
    push_at_load();
    wire_format_of_a_push();
    permissions();
    raw_push_in_clear();
    reload_withdraws_and_pushes();
    propagation();
    return test_summary("test_sim_precache");
}
