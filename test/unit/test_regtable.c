/* Unit tests of the registration table (src/reg/regtable.c): apply, refresh,
 * move, cap, unregister, remove, expiry heap, listener, rejected updates,
 * user agent cleaning, prefix counters, memory accounting, foreach; then
 * thousands of random operations checked against a brute-force model.
 *
 * Usage: test_regtable [DATADIR] (DATADIR unused). */
#include "dundid/regtable.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define T0 1700000000 /* a plausible "now" */

/* CHECK_INT as an expression (true when it holds), to guard dependent checks. */
#define CHECK_INT_RET(got, want) check_int_ret((long long)(got), (long long)(want), #got, __FILE__, __LINE__)
static int check_int_ret(long long g, long long w, const char *expr, const char *file, int line)
{
    return tu_check(g == w, file, line, "%s = %lld, want %lld", expr, g, w);
}
/* For bulk loops: counts only a failure. */
#define CHECK_INT_QUIET(expr)                                                                           \
    do {                                                                                                \
        long long q_ = (long long)(expr);                                                               \
        if (q_ != 0)                                                                                    \
            CHECK(0, "%s = %lld, want 0", #expr, q_);                                                   \
    } while (0)

/* ---- listener: counts calls and remembers the last extension ---- */

static unsigned notified;
static char last_ext[REG_EXT_MAX + 1];

static void on_change(void *ctx, const char *ext)
{
    (void)ctx;
    notified++;
    snprintf(last_ext, sizeof(last_ext), "%s", ext);
}

static struct regtable *fresh(unsigned max)
{
    struct regtable *rt = regtable_new(max);
    if (!rt) {
        fprintf(stderr, "regtable_new failed\n");
        exit(2);
    }
    regtable_set_listener(rt, on_change, NULL);
    notified = 0;
    last_ext[0] = '\0';
    return rt;
}

static struct regtable_stats stats(const struct regtable *rt)
{
    struct regtable_stats st;
    regtable_get_stats(rt, &st);
    return st;
}

static int put(struct regtable *rt, const char *ext, const char *contact, const char *registrar, int64_t expires,
               int64_t now)
{
    struct reg_update u = {.ext = ext, .contact = contact, .registrar = registrar, .source = "10.1.1.1:5060",
                           .user_agent = "TestPhone 1.0", .expires = expires, .feed = REG_FEED_PCAP};
    return regtable_apply(rt, &u, now);
}

static size_t get(const struct regtable *rt, const char *ext, int64_t now, struct reg_binding *out)
{
    return regtable_get(rt, ext, now, out, REG_MAX_BINDINGS_LIMIT);
}

/* ---- fixed cases ---- */

static void test_feed_names(void)
{
    for (int i = 0; i < REG_FEED_COUNT; i++)
        CHECK_INT(reg_feed_parse(reg_feed_name((enum reg_feed)i)), i);
    CHECK_STR(reg_feed_name(REG_FEED_PCAP), "pcap");
    CHECK_STR(reg_feed_name(REG_FEED_HEP), "hep");
    CHECK_STR(reg_feed_name(REG_FEED_REALTIME), "realtime");
    CHECK_STR(reg_feed_name(REG_FEED_STATE), "state");
    CHECK_STR(reg_feed_name(REG_FEED_COUNT), "?");
    CHECK_INT(reg_feed_parse("PCAP"), -1);
    CHECK_INT(reg_feed_parse(""), -1);
    CHECK_INT(reg_feed_parse("pcapx"), -1);
}

static void test_apply_refresh(void)
{
    struct regtable *rt = fresh(0);
    struct reg_binding b[REG_MAX_BINDINGS_LIMIT];
    struct regtable_stats st0 = stats(rt);
    CHECK_INT(st0.bindings, 0);
    CHECK_INT(st0.extensions, 0);
    CHECK(regtable_next_expiry(rt) == INT64_MAX, "empty table has no next expiry");
    CHECK(!regtable_has(rt, "1001", T0), "empty table has nothing");

    struct reg_update u = {.ext = "1001", .contact = "sip:1001@10.10.10.63:5060", .registrar = "10.0.0.5",
                           .source = "10.10.10.63:5060", .user_agent = "Yealink SIP-T46S", .expires = T0 + 60,
                           .feed = REG_FEED_HEP};
    CHECK_INT(regtable_apply(rt, &u, T0), 0);
    CHECK_INT(notified, 1);
    CHECK_STR(last_ext, "1001");
    if (CHECK_INT_RET(get(rt, "1001", T0, b), 1)) {
        CHECK_STR(b[0].ext, "1001");
        CHECK_STR(b[0].contact, "sip:1001@10.10.10.63:5060");
        CHECK_STR(b[0].registrar, "10.0.0.5");
        CHECK_STR(b[0].source, "10.10.10.63:5060");
        CHECK_STR(b[0].user_agent, "Yealink SIP-T46S");
        CHECK_INT(b[0].expires, T0 + 60);
        CHECK_INT(b[0].updated, T0);
        CHECK_INT(b[0].feed, REG_FEED_HEP);
    }
    struct regtable_stats st = stats(rt);
    CHECK_INT(st.bindings, 1);
    CHECK_INT(st.extensions, 1);
    CHECK_INT(st.added, 1);
    CHECK_INT(st.by_feed[REG_FEED_HEP], 1);
    CHECK_INT(regtable_next_expiry(rt), T0 + 60);
    CHECK(regtable_has(rt, "1001", T0), "has 1001");
    CHECK(!regtable_has(rt, "100", T0), "100 is not 1001");
    CHECK(!regtable_has(rt, "10010", T0), "10010 is not 1001");

    /* a second contact: two bindings, newest first */
    CHECK_INT(put(rt, "1001", "sip:1001@10.10.10.64:5060", "10.0.0.5", T0 + 90, T0 + 1), 0);
    CHECK_INT(notified, 2);
    if (CHECK_INT_RET(get(rt, "1001", T0 + 1, b), 2)) {
        CHECK_STR(b[0].contact, "sip:1001@10.10.10.64:5060");
        CHECK_STR(b[1].contact, "sip:1001@10.10.10.63:5060");
    }
    CHECK_INT(stats(rt).bindings, 2);
    CHECK_INT(stats(rt).extensions, 1);
    CHECK_INT(regtable_next_expiry(rt), T0 + 60);

    /* refresh the first: no new binding, expiry and time updated, moved to
     * the front, feed and source/UA taken from the refresh, no notification */
    u.expires = T0 + 3600;
    u.source = "10.10.10.63:5062";
    u.user_agent = "Yealink SIP-T46S 66.86";
    u.feed = REG_FEED_PCAP;
    CHECK_INT(regtable_apply(rt, &u, T0 + 5), 0);
    CHECK_INT(notified, 2);
    if (CHECK_INT_RET(get(rt, "1001", T0 + 5, b), 2)) {
        CHECK_STR(b[0].contact, "sip:1001@10.10.10.63:5060");
        CHECK_INT(b[0].expires, T0 + 3600);
        CHECK_INT(b[0].updated, T0 + 5);
        CHECK_STR(b[0].source, "10.10.10.63:5062");
        CHECK_STR(b[0].user_agent, "Yealink SIP-T46S 66.86");
        CHECK_INT(b[0].feed, REG_FEED_PCAP);
        CHECK_STR(b[1].contact, "sip:1001@10.10.10.64:5060");
        CHECK_INT(b[1].updated, T0 + 1);
    }
    st = stats(rt);
    CHECK_INT(st.bindings, 2);
    CHECK_INT(st.added, 2);
    CHECK_INT(st.refreshed, 1);
    CHECK_INT(st.by_feed[REG_FEED_HEP], 1); /* its voucher stays beside PCAP's */
    CHECK_INT(st.by_feed[REG_FEED_PCAP], 2);
    /* the heap follows the refreshed expiry */
    CHECK_INT(regtable_next_expiry(rt), T0 + 90);

    /* a plain refresh (nothing but the expiry) is silent too, and can lower
     * the expiry below the other binding's */
    CHECK_INT(put(rt, "1001", "sip:1001@10.10.10.64:5060", "10.0.0.5", T0 + 30, T0 + 6), 0);
    CHECK_INT(notified, 2);
    CHECK_INT(regtable_next_expiry(rt), T0 + 30);
    CHECK_INT(stats(rt).refreshed, 2);
    regtable_free(rt);
}

static void test_move_and_keep(void)
{
    struct regtable *rt = fresh(0);
    struct reg_binding b[REG_MAX_BINDINGS_LIMIT];
    CHECK_INT(put(rt, "1002", "sip:1002@10.1.1.2", "10.0.0.1", T0 + 100, T0), 0);
    CHECK_INT(put(rt, "1002", "sip:1002@10.1.1.9", "10.0.0.1", T0 + 100, T0), 0);
    notified = 0;
    /* the same contact answered by another registrar: the phone moved */
    CHECK_INT(put(rt, "1002", "sip:1002@10.1.1.2", "10.0.0.2", T0 + 200, T0 + 10), 0);
    CHECK_INT(notified, 1);
    if (CHECK_INT_RET(get(rt, "1002", T0 + 10, b), 2)) {
        CHECK_STR(b[0].contact, "sip:1002@10.1.1.2");
        CHECK_STR(b[0].registrar, "10.0.0.2");
        CHECK_STR(b[1].contact, "sip:1002@10.1.1.9");
        CHECK_STR(b[1].registrar, "10.0.0.1");
    }
    struct regtable_stats st = stats(rt);
    CHECK_INT(st.moved, 1);
    CHECK_INT(st.added, 3);
    CHECK_INT(st.bindings, 2);
    CHECK_INT(st.removed, 0);
    CHECK_INT(regtable_next_expiry(rt), T0 + 100);
    /* the contact is matched whole: another contact at the new registrar
     * does not move anything */
    CHECK_INT(put(rt, "1002", "sip:1002@10.1.1.99", "10.0.0.2", T0 + 200, T0 + 11), 0);
    CHECK_INT(stats(rt).moved, 1);
    CHECK_INT(stats(rt).bindings, 3);
    /* nor does the same contact under another extension */
    CHECK_INT(put(rt, "1003", "sip:1002@10.1.1.9", "10.0.0.2", T0 + 200, T0 + 11), 0);
    CHECK_INT(stats(rt).moved, 1);
    CHECK_INT(get(rt, "1002", T0 + 11, b), 3);
    regtable_free(rt);

    /* with keep_other_registrars both registrations are kept */
    rt = fresh(0);
    regtable_set_keep_other_registrars(rt, true);
    CHECK_INT(put(rt, "1002", "sip:1002@10.1.1.2", "10.0.0.1", T0 + 100, T0), 0);
    CHECK_INT(put(rt, "1002", "sip:1002@10.1.1.2", "10.0.0.2", T0 + 200, T0 + 10), 0);
    CHECK_INT(notified, 2);
    if (CHECK_INT_RET(get(rt, "1002", T0 + 10, b), 2)) {
        CHECK_STR(b[0].registrar, "10.0.0.2");
        CHECK_STR(b[1].registrar, "10.0.0.1");
        CHECK_STR(b[0].contact, b[1].contact);
    }
    CHECK_INT(stats(rt).moved, 0);
    /* and unregistering at one leaves the other */
    CHECK_INT(put(rt, "1002", "sip:1002@10.1.1.2", "10.0.0.1", T0 + 20, T0 + 20), 0);
    if (CHECK_INT_RET(get(rt, "1002", T0 + 20, b), 1))
        CHECK_STR(b[0].registrar, "10.0.0.2");
    /* switched off again: the next add at a third registrar moves */
    regtable_set_keep_other_registrars(rt, false);
    CHECK_INT(put(rt, "1002", "sip:1002@10.1.1.2", "10.0.0.3", T0 + 300, T0 + 21), 0);
    if (CHECK_INT_RET(get(rt, "1002", T0 + 21, b), 1))
        CHECK_STR(b[0].registrar, "10.0.0.3");
    CHECK_INT(stats(rt).moved, 1);
    regtable_free(rt);
}

static void test_cap(void)
{
    struct regtable *rt = fresh(3);
    struct reg_binding b[REG_MAX_BINDINGS_LIMIT];
    CHECK_INT(put(rt, "2000", "sip:a@h", "r", T0 + 100, T0 + 1), 0);
    CHECK_INT(put(rt, "2000", "sip:b@h", "r", T0 + 100, T0 + 2), 0);
    CHECK_INT(put(rt, "2000", "sip:c@h", "r", T0 + 100, T0 + 3), 0);
    CHECK_INT(stats(rt).dropped_cap, 0);
    /* a refreshed a: b is now the oldest by update time */
    CHECK_INT(put(rt, "2000", "sip:a@h", "r", T0 + 100, T0 + 4), 0);
    notified = 0;
    CHECK_INT(put(rt, "2000", "sip:d@h", "r", T0 + 100, T0 + 5), 0);
    CHECK_INT(notified, 1);
    if (CHECK_INT_RET(get(rt, "2000", T0 + 5, b), 3)) {
        CHECK_STR(b[0].contact, "sip:d@h");
        CHECK_STR(b[1].contact, "sip:a@h");
        CHECK_STR(b[2].contact, "sip:c@h");
    }
    struct regtable_stats st = stats(rt);
    CHECK_INT(st.dropped_cap, 1);
    CHECK_INT(st.bindings, 3);
    CHECK_INT(st.added, 4);
    CHECK_INT(st.removed, 0);
    /* the cap is per extension */
    CHECK_INT(put(rt, "2001", "sip:a@h", "r", T0 + 100, T0 + 6), 0);
    CHECK_INT(stats(rt).bindings, 4);
    CHECK_INT(stats(rt).dropped_cap, 1);
    /* lowering the cap trims on the next add */
    regtable_set_max_bindings(rt, 1);
    CHECK_INT(put(rt, "2000", "sip:e@h", "r", T0 + 100, T0 + 7), 0);
    if (CHECK_INT_RET(get(rt, "2000", T0 + 7, b), 1))
        CHECK_STR(b[0].contact, "sip:e@h");
    CHECK_INT(stats(rt).dropped_cap, 4);
    CHECK_INT(stats(rt).bindings, 2);
    regtable_free(rt);

    /* 0 is the default; more than the limit is the limit */
    rt = fresh(0);
    char c[32];
    for (int i = 0; i < REG_DEFAULT_MAX_BINDINGS + 3; i++) {
        snprintf(c, sizeof(c), "sip:%d@h", i);
        CHECK_INT(put(rt, "3000", c, "r", T0 + 100, T0 + i), 0);
    }
    CHECK_INT(get(rt, "3000", T0, b), REG_DEFAULT_MAX_BINDINGS);
    CHECK_INT(stats(rt).dropped_cap, 3);
    regtable_set_max_bindings(rt, 100000);
    for (int i = 0; i < REG_MAX_BINDINGS_LIMIT + 5; i++) {
        snprintf(c, sizeof(c), "sip:%d@h", 100 + i);
        CHECK_INT(put(rt, "3000", c, "r", T0 + 1000, T0 + 100 + i), 0);
    }
    CHECK_INT(get(rt, "3000", T0, b), REG_MAX_BINDINGS_LIMIT);
    CHECK_INT(stats(rt).bindings, REG_MAX_BINDINGS_LIMIT);
    /* a full extension: the newest is always kept */
    if (CHECK_INT_RET(regtable_get(rt, "3000", T0, b, 1), 1))
        CHECK_STR(b[0].contact, "sip:168@h");
    regtable_free(rt);
}

static void test_unregister(void)
{
    struct regtable *rt = fresh(0);
    struct reg_binding b[REG_MAX_BINDINGS_LIMIT];
    CHECK_INT(put(rt, "4000", "sip:a@h", "r1", T0 + 100, T0), 0);
    CHECK_INT(put(rt, "4000", "sip:b@h", "r1", T0 + 100, T0), 0);
    CHECK_INT(put(rt, "4000", "sip:a@h", "r2", T0 + 100, T0), 0); /* moves a to r2 */
    notified = 0;
    /* expires == now removes */
    CHECK_INT(put(rt, "4000", "sip:a@h", "r2", T0 + 10, T0 + 10), 0);
    CHECK_INT(notified, 1);
    CHECK_STR(last_ext, "4000");
    if (CHECK_INT_RET(get(rt, "4000", T0 + 10, b), 1))
        CHECK_STR(b[0].contact, "sip:b@h");
    CHECK_INT(stats(rt).removed, 1);
    /* unknown binding (wrong registrar): nothing happens */
    CHECK_INT(put(rt, "4000", "sip:b@h", "r2", 0, T0 + 11), 0);
    CHECK_INT(put(rt, "4001", "sip:b@h", "r1", 0, T0 + 11), 0);
    CHECK_INT(notified, 1);
    CHECK_INT(stats(rt).removed, 1);
    CHECK_INT(stats(rt).bindings, 1);
    CHECK_INT(stats(rt).extensions, 1);
    /* expires < now removes too; the extension goes with its last binding */
    CHECK_INT(put(rt, "4000", "sip:b@h", "r1", T0 - 1000, T0 + 12), 0);
    CHECK_INT(notified, 2);
    CHECK_INT(stats(rt).removed, 2);
    CHECK_INT(stats(rt).bindings, 0);
    CHECK_INT(stats(rt).extensions, 0);
    CHECK(regtable_next_expiry(rt) == INT64_MAX, "empty again");
    CHECK(!regtable_may_extend(rt, "400"), "no prefix left");
    regtable_free(rt);
}

static int upd(struct regtable *rt, const char *ext, const char *contact, const char *registrar, enum reg_feed feed,
               int64_t expires, int64_t now)
{
    struct reg_update u = {.ext = ext, .contact = contact, .registrar = registrar, .expires = expires, .feed = feed};
    return regtable_apply(rt, &u, now);
}

/* Every feed that has a binding is recorded with its time; a record feed
 * taking it back only withdraws its own voucher, the wire's word removes it. */
static void test_vouchers(void)
{
    struct regtable *rt = fresh(0);
    struct reg_binding b[REG_MAX_BINDINGS_LIMIT];
    CHECK_INT(upd(rt, "5000", "sip:1@h", "r1", REG_FEED_REALTIME, T0 + 100, T0), 0);
    CHECK_INT(upd(rt, "5000", "sip:1@h", "r1", REG_FEED_HEP, T0 + 120, T0 + 3), 0);
    if (CHECK_INT_RET(get(rt, "5000", T0 + 3, b), 1)) {
        CHECK_INT(b[0].feeds, (1u << REG_FEED_REALTIME) | (1u << REG_FEED_HEP));
        CHECK(reg_binding_vouched(&b[0], REG_FEED_HEP) && !reg_binding_vouched(&b[0], REG_FEED_PCAP), "vouchers");
        CHECK_INT(b[0].seen[REG_FEED_REALTIME], T0);
        CHECK_INT(b[0].seen[REG_FEED_HEP], T0 + 3);
        CHECK_INT(b[0].seen[REG_FEED_PCAP], 0);
        CHECK_INT(b[0].feed, REG_FEED_HEP);
        CHECK_INT(b[0].expires, T0 + 120);
    }
    CHECK_INT(stats(rt).by_feed[REG_FEED_REALTIME], 1);
    CHECK_INT(stats(rt).by_feed[REG_FEED_HEP], 1);
    CHECK_INT(stats(rt).bindings, 1);
    notified = 0;
    /* RealTime no longer has it: its voucher goes, the wire's keeps it */
    CHECK_INT(upd(rt, "5000", "sip:1@h", "r1", REG_FEED_REALTIME, 0, T0 + 4), 0);
    if (CHECK_INT_RET(get(rt, "5000", T0 + 4, b), 1)) {
        CHECK_INT(b[0].feeds, 1u << REG_FEED_HEP);
        CHECK_INT(b[0].seen[REG_FEED_REALTIME], 0);
    }
    CHECK_INT(stats(rt).by_feed[REG_FEED_REALTIME], 0);
    CHECK_INT(stats(rt).removed, 0);
    CHECK_INT(notified, 0);
    /* a feed that does not vouch for it withdraws nothing */
    CHECK_INT(upd(rt, "5000", "sip:1@h", "r1", REG_FEED_STATE, 0, T0 + 5), 0);
    CHECK_INT(get(rt, "5000", T0 + 5, b), 1);
    /* RealTime's last voucher: the binding goes with it (no departure) */
    CHECK_INT(upd(rt, "5001", "sip:2@h", "r1", REG_FEED_REALTIME, T0 + 100, T0), 0);
    CHECK_INT(upd(rt, "5001", "sip:2@h", "r1", REG_FEED_REALTIME, 0, T0 + 5), 0);
    CHECK_INT(get(rt, "5001", T0 + 5, b), 0);
    CHECK_INT(stats(rt).departures, 0);
    CHECK_INT(upd(rt, "5001", "sip:2@h", "r1", REG_FEED_REALTIME, T0 + 100, T0 + 6), 0);
    CHECK_INT(get(rt, "5001", T0 + 6, b), 1);
    /* the wire's unregistration removes it whatever vouched for it */
    CHECK_INT(upd(rt, "5001", "sip:2@h", "r1", REG_FEED_PCAP, 0, T0 + 7), 0);
    CHECK_INT(get(rt, "5001", T0 + 7, b), 0);
    CHECK_INT(stats(rt).departures, 1);
    CHECK_INT(stats(rt).by_feed[REG_FEED_REALTIME], 0);
    CHECK_INT(stats(rt).by_feed[REG_FEED_HEP], 1);
    regtable_free(rt);
}

struct dep_list {
    char line[8][160];
    size_t n;
};

static bool dep_collect(void *ctx, const struct reg_departure *d)
{
    struct dep_list *l = ctx;
    if (l->n < 8)
        snprintf(l->line[l->n++], sizeof(l->line[0]), "%s %s %s %" PRId64 " %" PRId64, d->ext, d->registrar,
                 d->contact, d->until - T0, d->at - T0);
    return true;
}

/* chan_sip's stale row (item 3 of issue 17): after the wire saw the phone
 * leave, a RealTime row of that registration does not bring it back; a
 * newer one (later expiry, or another contact) does. */
static void test_departures(void)
{
    struct regtable *rt = fresh(0);
    struct reg_binding b[REG_MAX_BINDINGS_LIMIT];
    struct dep_list l = {.n = 0};
    /* registered (RealTime row: expiry T0+3600), then unregistered on the wire */
    CHECK_INT(upd(rt, "6000", "sip:6000@p:5060", "r1", REG_FEED_REALTIME, T0 + 3600, T0), 0);
    CHECK_INT(upd(rt, "6000", "sip:6000@p:5060", "r1", REG_FEED_HEP, 0, T0 + 10), 0);
    CHECK_INT(get(rt, "6000", T0 + 10, b), 0);
    regtable_foreach_departure(rt, dep_collect, &l);
    if (CHECK_INT_RET(l.n, 1))
        CHECK_STR(l.line[0], "6000 r1 sip:6000@p:5060 3602 10");
    /* the same row again (next poll, next full read): refused, every time */
    for (int i = 0; i < 3; i++)
        CHECK_INT(upd(rt, "6000", "sip:6000@p:5060", "r1", REG_FEED_REALTIME, T0 + 3600, T0 + 11 + i),
                  REG_APPLY_REFUSED);
    CHECK_INT(get(rt, "6000", T0 + 20, b), 0);
    CHECK_INT(stats(rt).refused, 3);
    /* so is the state file's record of it */
    CHECK_INT(upd(rt, "6000", "sip:6000@p:5060", "r1", REG_FEED_STATE, T0 + 3000, T0 + 20), REG_APPLY_REFUSED);
    /* other registrars and other extensions are not concerned */
    CHECK_INT(upd(rt, "6000", "sip:6000@p:5060", "r2", REG_FEED_REALTIME, T0 + 3600, T0 + 20), 0);
    CHECK_INT(upd(rt, "6001", "sip:6000@p:5060", "r1", REG_FEED_REALTIME, T0 + 3600, T0 + 20), 0);
    /* a real re-registration: a later expiry */
    CHECK_INT(upd(rt, "6000", "sip:6000@p:5060", "r1", REG_FEED_REALTIME, T0 + 3630, T0 + 30), 0);
    CHECK_INT(get(rt, "6000", T0 + 30, b), 1); /* r1; the r2 one moved away */
    CHECK_INT(stats(rt).departures, 0);

    /* a new contact is a new registration even with an older expiry */
    CHECK_INT(upd(rt, "6002", "sip:6002@old:5060", "r1", REG_FEED_REALTIME, T0 + 600, T0), 0);
    CHECK_INT(upd(rt, "6002", "sip:6002@old:5060", "r1", REG_FEED_PCAP, 0, T0 + 5), 0);
    CHECK_INT(upd(rt, "6002", "sip:6002@new:5060", "r1", REG_FEED_REALTIME, T0 + 300, T0 + 6), 0);
    CHECK_INT(upd(rt, "6002", "sip:6002@old:5060", "r1", REG_FEED_REALTIME, T0 + 600, T0 + 6), REG_APPLY_REFUSED);

    /* the wire registering again at that registrar forgets what it said left */
    CHECK_INT(upd(rt, "6002", "sip:6002@old:5060", "r1", REG_FEED_HEP, T0 + 60, T0 + 7), 0);
    CHECK_INT(stats(rt).departures, 0);
    CHECK_INT(upd(rt, "6002", "sip:6002@old:5060", "r1", REG_FEED_REALTIME, T0 + 600, T0 + 8), 0);

    /* a binding the table already has (the wire put it back) takes any
     * feed's voucher, stale or not */
    CHECK_INT(upd(rt, "6003", "sip:6003@p", "r1", REG_FEED_PCAP, T0 + 60, T0), 0);
    CHECK_INT(upd(rt, "6003", "sip:6003@p", "r1", REG_FEED_PCAP, 0, T0 + 1), 0);
    CHECK_INT(upd(rt, "6003", "sip:6003@p", "r1", REG_FEED_PCAP, T0 + 62, T0 + 2), 0);
    CHECK_INT(upd(rt, "6003", "sip:6003@p", "r1", REG_FEED_REALTIME, T0 + 60, T0 + 3), 0);

    /* the wire moving a phone to another registrar: the old one's record is stale */
    CHECK_INT(upd(rt, "6004", "sip:6004@p", "r1", REG_FEED_REALTIME, T0 + 600, T0), 0);
    CHECK_INT(upd(rt, "6004", "sip:6004@p", "r2", REG_FEED_HEP, T0 + 600, T0 + 5), 0);
    CHECK_INT(upd(rt, "6004", "sip:6004@p", "r1", REG_FEED_REALTIME, T0 + 600, T0 + 6), REG_APPLY_REFUSED);
    if (CHECK_INT_RET(get(rt, "6004", T0 + 6, b), 1))
        CHECK_STR(b[0].registrar, "r2");

    /* nothing known at the registrar: the first row offered is learnt as
     * the stale one, a later expiry or another contact is taken */
    regtable_note_departure(rt, "6005", "r1", T0);
    regtable_note_departure(rt, "6003", "r1", T0); /* has a binding there: nothing noted */
    l.n = 0;
    regtable_foreach_departure(rt, dep_collect, &l);
    CHECK_INT(l.n, 2); /* 6004 at r1, 6005 at r1 */
    CHECK_INT(upd(rt, "6005", "sip:6005@p", "r1", REG_FEED_REALTIME, T0 + 500, T0 + 1), REG_APPLY_REFUSED);
    CHECK_INT(upd(rt, "6005", "sip:6005@p", "r1", REG_FEED_REALTIME, T0 + 500, T0 + 2), REG_APPLY_REFUSED);
    CHECK_INT(upd(rt, "6005", "sip:6005@q", "r1", REG_FEED_REALTIME, T0 + 400, T0 + 3), 0);
    CHECK_INT(upd(rt, "6005", "sip:6005@p", "r1", REG_FEED_REALTIME, T0 + 501, T0 + 4), 0);
    CHECK_INT(get(rt, "6005", T0 + 4, b), 2);
    /* departures run out with their until: the expiry pass drops them */
    CHECK_INT(stats(rt).departures, 1); /* 6004 at r1, until T0+602 */
    regtable_expire(rt, T0 + 601);
    CHECK_INT(stats(rt).departures, 1);
    regtable_expire(rt, T0 + 602);
    CHECK_INT(stats(rt).departures, 0);
    /* an unknown one lasts REG_DEPARTURE_UNKNOWN_S */
    regtable_note_departure(rt, "6006", "r1", T0 + 1000);
    regtable_expire(rt, T0 + 1000 + REG_DEPARTURE_UNKNOWN_S - 1);
    CHECK_INT(stats(rt).departures, 1);
    regtable_expire(rt, T0 + 1000 + REG_DEPARTURE_UNKNOWN_S);
    CHECK_INT(stats(rt).departures, 0);
    /* hostile fields are not recorded */
    regtable_note_departure(rt, "", "r1", T0);
    regtable_note_departure(rt, "6007", "r\x01", T0);
    struct reg_departure bad = {"6007", "r1", "sip:a\nb", T0 + 10, T0};
    CHECK_INT(regtable_add_departure(rt, &bad), -1);
    CHECK_INT(stats(rt).departures, 0);
    regtable_free(rt);
}

/* The bound: at REG_DEPARTURES_MAX the one that runs out first goes. */
static void test_departures_cap(void)
{
    struct regtable *rt = fresh(0);
    char ext[16];
    for (int i = 0; i < REG_DEPARTURES_MAX + 10; i++) {
        snprintf(ext, sizeof(ext), "%d", 100000 + i);
        regtable_note_departure(rt, ext, "r1", T0 + i);
    }
    CHECK_INT(stats(rt).departures, REG_DEPARTURES_MAX);
    CHECK_INT(stats(rt).departures_dropped, 10);
    CHECK_INT(upd(rt, "100009", "sip:a@h", "r1", REG_FEED_REALTIME, T0 + 100, T0), 0);    /* dropped: taken */
    CHECK_INT(upd(rt, "100010", "sip:a@h", "r1", REG_FEED_REALTIME, T0 + 100, T0), REG_APPLY_REFUSED);
    struct regtable *empty = fresh(0);
    uint64_t mem0 = stats(empty).memory_bytes;
    regtable_free(empty);
    regtable_clear(rt);
    CHECK_INT(stats(rt).departures, 0);
    CHECK_INT(stats(rt).memory_bytes, mem0);
    regtable_free(rt);
}

static void test_expiry(void)
{
    struct regtable *rt = fresh(0);
    struct reg_binding b[REG_MAX_BINDINGS_LIMIT];
    CHECK_INT(put(rt, "6000", "sip:a@h", "r", T0 + 30, T0), 0);
    CHECK_INT(put(rt, "6000", "sip:b@h", "r", T0 + 10, T0), 0);
    CHECK_INT(put(rt, "6001", "sip:a@h", "r", T0 + 20, T0), 0);
    CHECK_INT(regtable_next_expiry(rt), T0 + 10);
    /* regtable_get never returns an expired binding, expired or not */
    CHECK_INT(get(rt, "6000", T0 + 9, b), 2);
    if (CHECK_INT_RET(get(rt, "6000", T0 + 10, b), 1))
        CHECK_STR(b[0].contact, "sip:a@h");
    CHECK(!regtable_has(rt, "6001", T0 + 20), "6001 expired at +20");
    CHECK(regtable_has(rt, "6001", T0 + 19), "6001 live at +19");
    CHECK_INT(get(rt, "6000", T0 + 1000, b), 0);
    CHECK_INT(stats(rt).bindings, 3);

    notified = 0;
    CHECK_INT(regtable_expire(rt, T0 + 9), 0);
    CHECK_INT(notified, 0);
    CHECK_INT(regtable_expire(rt, T0 + 10), 1);
    CHECK_INT(notified, 1);
    CHECK_STR(last_ext, "6000");
    CHECK_INT(regtable_next_expiry(rt), T0 + 20);
    CHECK_INT(regtable_expire(rt, T0 + 25), 1);
    CHECK_STR(last_ext, "6001");
    CHECK_INT(stats(rt).extensions, 1);
    CHECK_INT(regtable_expire(rt, T0 + 1000), 1);
    CHECK_INT(notified, 3);
    struct regtable_stats st = stats(rt);
    CHECK_INT(st.expired, 3);
    CHECK_INT(st.removed, 0);
    CHECK_INT(st.bindings, 0);
    CHECK_INT(st.extensions, 0);
    CHECK(regtable_next_expiry(rt) == INT64_MAX, "empty");
    CHECK_INT(regtable_expire(rt, T0 + 2000), 0);
    regtable_free(rt);
}

/* Many random expiries, refreshed up and down and removed from the middle:
 * the heap must give them back in order. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}
static unsigned rndn(unsigned n) { return (unsigned)(rnd() % n); }

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void test_heap_order(void)
{
    enum { N = 6000 };
    static int64_t exp[N];
    static bool gone[N];
    struct regtable *rt = fresh(0);
    char ext[16], contact[32];
    for (int i = 0; i < N; i++) {
        exp[i] = T0 + 1 + rndn(5000);
        gone[i] = false;
        snprintf(ext, sizeof(ext), "%d", 10000 + i / 3);
        snprintf(contact, sizeof(contact), "sip:%d@h", i);
        if (put(rt, ext, contact, "r", exp[i], T0) != 0)
            CHECK(0, "put %d", i);
    }
    for (int k = 0; k < 3 * N; k++) { /* refresh to a random expiry, or remove */
        int i = (int)rndn(N);
        snprintf(ext, sizeof(ext), "%d", 10000 + i / 3);
        snprintf(contact, sizeof(contact), "sip:%d@h", i);
        if (rndn(10) == 0) {
            if (put(rt, ext, contact, "r", 0, T0) != 0)
                CHECK(0, "unregister %d", i);
            gone[i] = true;
        } else {
            exp[i] = T0 + 1 + rndn(5000);
            gone[i] = false;
            if (put(rt, ext, contact, "r", exp[i], T0) != 0)
                CHECK(0, "refresh %d", i);
        }
    }
    static int64_t live[N];
    size_t n = 0;
    for (int i = 0; i < N; i++)
        if (!gone[i])
            live[n++] = exp[i];
    qsort(live, n, sizeof(live[0]), cmp_i64);
    CHECK_INT(stats(rt).bindings, n);
    size_t at = 0, bad = 0;
    while (at < n) {
        int64_t next = regtable_next_expiry(rt);
        if (next != live[at])
            bad++;
        size_t same = 0;
        while (at + same < n && live[at + same] == live[at])
            same++;
        if (regtable_expire(rt, live[at]) != same)
            bad++;
        at += same;
    }
    CHECK_INT(bad, 0);
    CHECK_INT(stats(rt).bindings, 0);
    CHECK(regtable_next_expiry(rt) == INT64_MAX, "heap empty");
    regtable_free(rt);
}

static void test_rejected(void)
{
    struct regtable *rt = fresh(0);
    CHECK_INT(put(rt, "7000", "sip:a@h", "r", T0 + 100, T0), 0);
    struct regtable_stats before = stats(rt);
    notified = 0;
    char big[400];
    memset(big, 'x', sizeof(big));
    big[sizeof(big) - 1] = '\0';
    char ext81[REG_EXT_MAX + 2], con256[REG_CONTACT_MAX + 2], reg64[REG_REGISTRAR_MAX + 2], src64[REG_SOURCE_MAX + 2];
    memset(ext81, '1', sizeof(ext81) - 1), ext81[sizeof(ext81) - 1] = '\0';
    memset(con256, 'c', sizeof(con256) - 1), con256[sizeof(con256) - 1] = '\0';
    memset(reg64, 'r', sizeof(reg64) - 1), reg64[sizeof(reg64) - 1] = '\0';
    memset(src64, 's', sizeof(src64) - 1), src64[sizeof(src64) - 1] = '\0';
    const struct reg_update base = {.ext = "7000", .contact = "sip:b@h", .registrar = "r", .source = "s",
                                    .user_agent = "ua", .expires = T0 + 100, .feed = REG_FEED_PCAP};
    struct reg_update bad[20];
    int nbad = 0;
    bad[nbad] = base, bad[nbad++].ext = "";
    bad[nbad] = base, bad[nbad++].ext = NULL;
    bad[nbad] = base, bad[nbad++].ext = ext81;
    bad[nbad] = base, bad[nbad++].ext = "70\t00";
    bad[nbad] = base, bad[nbad++].ext = "7000\x7f";
    bad[nbad] = base, bad[nbad++].contact = "";
    bad[nbad] = base, bad[nbad++].contact = NULL;
    bad[nbad] = base, bad[nbad++].contact = con256;
    bad[nbad] = base, bad[nbad++].contact = "sip:b@h\r\nX: y";
    bad[nbad] = base, bad[nbad++].registrar = "";
    bad[nbad] = base, bad[nbad++].registrar = NULL;
    bad[nbad] = base, bad[nbad++].registrar = reg64;
    bad[nbad] = base, bad[nbad++].registrar = "r\n";
    bad[nbad] = base, bad[nbad++].source = src64;
    bad[nbad] = base, bad[nbad++].source = "1.2.3.4:5\x01";
    bad[nbad] = base, bad[nbad++].feed = REG_FEED_COUNT;
    bad[nbad] = base, bad[nbad++].feed = (enum reg_feed)-1;
    bad[nbad] = base, bad[nbad].ext = "7000", bad[nbad].contact = "sip:a@h", bad[nbad++].registrar = big;
    for (int i = 0; i < nbad; i++) {
        if (regtable_apply(rt, &bad[i], T0) != -1)
            CHECK(0, "bad update %d accepted", i);
        /* an unregister of a bad update is rejected too */
        struct reg_update un = bad[i];
        un.expires = 0;
        if (regtable_apply(rt, &un, T0) != -1)
            CHECK(0, "bad unregister %d accepted", i);
    }
    struct regtable_stats after = stats(rt);
    CHECK_INT(after.rejected, before.rejected + 2 * (uint64_t)nbad);
    CHECK_INT(after.bindings, 1);
    CHECK_INT(after.extensions, 1);
    CHECK_INT(after.added, before.added);
    CHECK_INT(after.removed, 0);
    CHECK_INT(after.memory_bytes, before.memory_bytes);
    CHECK_INT(notified, 0);
    struct reg_binding b[REG_MAX_BINDINGS_LIMIT];
    if (CHECK_INT_RET(get(rt, "7000", T0, b), 1))
        CHECK_STR(b[0].contact, "sip:a@h");

    /* the longest accepted fields */
    ext81[REG_EXT_MAX] = '\0';
    con256[REG_CONTACT_MAX] = '\0';
    reg64[REG_REGISTRAR_MAX] = '\0';
    src64[REG_SOURCE_MAX] = '\0';
    struct reg_update ok = {.ext = ext81, .contact = con256, .registrar = reg64, .source = src64,
                            .expires = T0 + 100, .feed = REG_FEED_STATE};
    CHECK_INT(regtable_apply(rt, &ok, T0), 0);
    if (CHECK_INT_RET(get(rt, ext81, T0, b), 1)) {
        CHECK_STR(b[0].contact, con256);
        CHECK_STR(b[0].registrar, reg64);
        CHECK_STR(b[0].source, src64);
        CHECK_STR(b[0].user_agent, "");
    }
    CHECK_INT(stats(rt).rejected, after.rejected);
    /* NULL source and user agent are "" */
    struct reg_update nul = {.ext = "7001", .contact = "sip:z@h", .registrar = "r", .expires = T0 + 5};
    CHECK_INT(regtable_apply(rt, &nul, T0), 0);
    if (CHECK_INT_RET(get(rt, "7001", T0, b), 1)) {
        CHECK_STR(b[0].source, "");
        CHECK_STR(b[0].user_agent, "");
    }
    /* regtable_get with an oversize name finds nothing, harmlessly */
    CHECK_INT(get(rt, big, T0, b), 0);
    CHECK(!regtable_has(rt, big, T0), "oversize name");
    regtable_note_departure(rt, big, "r1", T0);
    CHECK_INT(stats(rt).departures, 0);
    regtable_free(rt);
}

static void test_user_agent(void)
{
    struct regtable *rt = fresh(0);
    struct reg_binding b[REG_MAX_BINDINGS_LIMIT];
    char ua[200], want[REG_UA_MAX + 1];
    for (int i = 0; i < 199; i++)
        ua[i] = (char)('A' + i % 26);
    ua[199] = '\0';
    memcpy(want, ua, REG_UA_MAX);
    want[REG_UA_MAX] = '\0';
    struct reg_update u = {.ext = "8000", .contact = "sip:a@h", .registrar = "r", .user_agent = ua,
                           .expires = T0 + 100};
    CHECK_INT(regtable_apply(rt, &u, T0), 0);
    if (CHECK_INT_RET(get(rt, "8000", T0, b), 1)) {
        CHECK_INT(strlen(b[0].user_agent), REG_UA_MAX);
        CHECK_STR(b[0].user_agent, want);
    }
    /* control characters become '?' (TAB, CR, LF, ESC, DEL) */
    u.user_agent = "Phone\t1.0\r\n\x1b[31m\x7fx";
    CHECK_INT(regtable_apply(rt, &u, T0 + 1), 0);
    if (CHECK_INT_RET(get(rt, "8000", T0, b), 1))
        CHECK_STR(b[0].user_agent, "Phone?1.0???[31m?x");
    /* UTF-8 and other high bytes are kept */
    u.user_agent = "T\xc3\xa9l\xc3\xa9phone";
    CHECK_INT(regtable_apply(rt, &u, T0 + 2), 0);
    if (CHECK_INT_RET(get(rt, "8000", T0, b), 1))
        CHECK_STR(b[0].user_agent, "T\xc3\xa9l\xc3\xa9phone");
    /* a new binding cuts too, and a refresh with the same long UA keeps it */
    u.contact = "sip:b@h";
    u.user_agent = ua;
    CHECK_INT(regtable_apply(rt, &u, T0 + 3), 0);
    CHECK_INT(regtable_apply(rt, &u, T0 + 4), 0);
    if (CHECK_INT_RET(get(rt, "8000", T0, b), 2)) {
        CHECK_STR(b[0].user_agent, want);
        CHECK_STR(b[1].user_agent, "T\xc3\xa9l\xc3\xa9phone");
    }
    CHECK_INT(stats(rt).refreshed, 3);
    regtable_free(rt);
}

static void test_may_extend(void)
{
    struct regtable *rt = fresh(0);
    CHECK_INT(put(rt, "12345", "sip:a@h", "r", T0 + 100, T0), 0);
    CHECK_INT(put(rt, "12399", "sip:a@h", "r", T0 + 100, T0), 0);
    const char *yes[] = {"1", "12", "123", "1234", "1239"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        CHECK(regtable_may_extend(rt, yes[i]), "may_extend(%s)", yes[i]);
    /* the extension itself is not a longer one (false "yes" possible in
     * theory; with two names and 2^20 slots these are certain) */
    CHECK(!regtable_may_extend(rt, "12345"), "12345 is not extended");
    CHECK(!regtable_may_extend(rt, "2"), "nothing starts with 2");
    /* one of two names gone: its own prefixes go, the shared ones stay */
    CHECK_INT(put(rt, "12345", "sip:a@h", "r", 0, T0), 0);
    CHECK(regtable_may_extend(rt, "123"), "123 still (12399)");
    CHECK(!regtable_may_extend(rt, "1234"), "1234 gone with 12345");
    CHECK_INT(regtable_expire(rt, T0 + 100), 1);
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        CHECK(!regtable_may_extend(rt, yes[i]), "may_extend(%s) after emptying", yes[i]);
    regtable_free(rt);
}

/* Every extension is longer than "": the empty prefix may be extended as
 * soon as the table holds anything. */
static void test_may_extend_empty(void)
{
    struct regtable *rt = fresh(0);
    CHECK(!regtable_may_extend(rt, ""), "empty table");
    CHECK_INT(put(rt, "1", "sip:a@h", "r", T0 + 100, T0), 0);
    CHECK(regtable_may_extend(rt, ""), "\"\" is a prefix of 1");
    regtable_free(rt);
}

struct visit {
    unsigned n, stop_after;
    char seen[64][48];
};

static bool visit_fn(void *ctx, const struct reg_binding *b)
{
    struct visit *v = ctx;
    if (v->n < 64)
        snprintf(v->seen[v->n], sizeof(v->seen[0]), "%s|%s|%s", b->ext, b->contact, b->registrar);
    v->n++;
    return !v->stop_after || v->n < v->stop_after;
}

static void test_foreach_memory(void)
{
    struct regtable *rt = fresh(0);
    uint64_t mem0 = stats(rt).memory_bytes;
    CHECK(mem0 >= (1u << 20) * 4, "prefix counters are counted (%" PRIu64 ")", mem0);
    struct visit v = {.n = 0};
    regtable_foreach(rt, visit_fn, &v);
    CHECK_INT(v.n, 0);

    char ext[16], contact[32];
    for (int i = 0; i < 40; i++) {
        snprintf(ext, sizeof(ext), "9%03d", i % 13);
        snprintf(contact, sizeof(contact), "sip:%d@10.0.0.%d", i, i);
        CHECK_INT(put(rt, ext, contact, i % 2 ? "r1" : "r2", T0 + 10 + i, T0), 0);
    }
    uint64_t mem1 = stats(rt).memory_bytes;
    CHECK(mem1 > mem0 + 40 * 40, "bindings are counted (%" PRIu64 " -> %" PRIu64 ")", mem0, mem1);
    memset(&v, 0, sizeof(v));
    regtable_foreach(rt, visit_fn, &v);
    CHECK_INT(v.n, 40);
    size_t dups = 0;
    for (unsigned i = 0; i < 40; i++)
        for (unsigned j = i + 1; j < 40; j++)
            dups += !strcmp(v.seen[i], v.seen[j]);
    CHECK_INT(dups, 0);
    memset(&v, 0, sizeof(v));
    v.stop_after = 7;
    regtable_foreach(rt, visit_fn, &v);
    CHECK_INT(v.n, 7);

    /* a refresh that changes the strings keeps the accounting exact */
    struct reg_update u = {.ext = "9000", .contact = "sip:0@10.0.0.0", .registrar = "r2",
                           .source = "a much longer source than before:5060", .user_agent = "and a UA",
                           .expires = T0 + 99};
    CHECK_INT(regtable_apply(rt, &u, T0), 0);
    CHECK(stats(rt).memory_bytes > mem1, "longer strings, more bytes");
    u.source = "";
    u.user_agent = "";
    CHECK_INT(regtable_apply(rt, &u, T0), 0);
    CHECK(stats(rt).memory_bytes < mem1, "shorter strings, fewer bytes");

    CHECK_INT(regtable_expire(rt, T0 + 1000), 40);
    CHECK_INT(stats(rt).memory_bytes, mem0);

    /* the same after growing the hash and the heap well past their start */
    for (int i = 0; i < 5000; i++) {
        snprintf(ext, sizeof(ext), "%d", 50000 + i);
        CHECK_INT_QUIET(put(rt, ext, "sip:x@h", "r", T0 + 10 + i % 7, T0));
    }
    CHECK(stats(rt).memory_bytes > mem0, "grown");
    for (int i = 0; i < 5000; i += 2) {
        snprintf(ext, sizeof(ext), "%d", 50000 + i);
        CHECK_INT_QUIET(put(rt, ext, "sip:x@h", "r", 0, T0));
    }
    CHECK_INT(regtable_expire(rt, T0 + 1000), 2500);
    CHECK_INT(stats(rt).memory_bytes, mem0);
    CHECK_INT(stats(rt).bindings, 0);

    /* a hash sized ahead (loading a state file) is counted, still finds
     * everything, and goes when the table is emptied */
    regtable_reserve(rt, 100000);
    uint64_t mem_r = stats(rt).memory_bytes;
    CHECK(mem_r >= mem0 + (131072 - 1024) * sizeof(void *), "reserve counted (%" PRIu64 ")", mem_r);
    regtable_reserve(rt, 10); /* never shrinks */
    CHECK_INT(stats(rt).memory_bytes, mem_r);
    for (int i = 0; i < 3000; i++) {
        snprintf(ext, sizeof(ext), "%d", 70000 + i);
        CHECK_INT_QUIET(put(rt, ext, "sip:x@h", "r", T0 + 10, T0));
    }
    regtable_reserve(rt, 1 << 18); /* with entries: rehashed */
    size_t found = 0;
    struct reg_binding b;
    for (int i = 0; i < 3000; i++) {
        snprintf(ext, sizeof(ext), "%d", 70000 + i);
        found += regtable_get(rt, ext, T0, &b, 1);
    }
    CHECK_INT(found, 3000);
    CHECK_INT(regtable_expire(rt, T0 + 10), 3000);
    CHECK_INT(stats(rt).memory_bytes, mem0);
    regtable_free(rt);
}

/* ---- brute-force model ---- */

#define M_EXTS 30
#define M_CONTACTS 6
#define M_REGS 3
#define M_MAXB REG_MAX_BINDINGS_LIMIT

struct mbind {
    int contact, reg, src, ua, feed;
    unsigned feeds;
    int64_t expires, updated, seen[REG_FEED_COUNT];
};

#define M_DEPS 512

struct mdep {
    int e, r, c; /* c -1: contact not known */
    int64_t until;
};

struct model {
    struct mbind b[M_EXTS][M_MAXB]; /* newest first */
    int n[M_EXTS];
    struct mdep d[M_DEPS];
    int nd;
    unsigned max;
    bool keep;
    struct regtable_stats st; /* counters only */
    unsigned notified;
};

static char m_ext[M_EXTS][8];
static const char *m_contact[M_CONTACTS] = {"sip:p@10.1.1.1:5060", "sip:p@10.1.1.2:5060", "sip:p@10.1.1.3",
                                            "sips:p@[2001:db8::1]:5061", "sip:q@10.1.1.1:5060",
                                            "sip:p@10.1.1.1:5060;transport=tcp"};
static const char *m_reg[M_REGS] = {"10.0.0.1", "10.0.0.2", "[2001:db8::5]"};
static const char *m_src[3] = {"", "10.1.1.1:5060", "10.1.1.2:1024"};
static const char *m_ua[3] = {"", "Yealink", "Linphone/5.0 (belle-sip)"};

static void m_names(void)
{
    /* all digit strings of length 1..4 over {1,2}, and a few others: many
     * names are prefixes of others */
    int k = 0;
    for (int len = 1; len <= 4 && k < M_EXTS; len++)
        for (int v = 0; v < (1 << len) && k < M_EXTS; v++) {
            for (int i = 0; i < len; i++)
                m_ext[k][i] = (char)('1' + ((v >> (len - 1 - i)) & 1));
            m_ext[k][len] = '\0';
            k++;
        }
    for (; k < M_EXTS; k++)
        snprintf(m_ext[k], sizeof(m_ext[k]), "3%d", k);
}

static void m_drop(struct model *m, int e, int i)
{
    for (int f = 0; f < REG_FEED_COUNT; f++)
        m->st.by_feed[f] -= m->b[e][i].feeds >> f & 1u;
    memmove(&m->b[e][i], &m->b[e][i + 1], (size_t)(m->n[e] - i - 1) * sizeof(m->b[e][0]));
    m->n[e]--;
}

static int m_find(const struct model *m, int e, int c, int r)
{
    for (int i = 0; i < m->n[e]; i++)
        if (m->b[e][i].contact == c && m->b[e][i].reg == r)
            return i;
    return -1;
}

static int m_dep_find(const struct model *m, int e, int r, int c)
{
    for (int i = 0; i < m->nd; i++)
        if (m->d[i].e == e && m->d[i].r == r && m->d[i].c == c)
            return i;
    return -1;
}

static void m_dep_drop(struct model *m, int i) { m->d[i] = m->d[--m->nd]; }

static void m_dep_add(struct model *m, int e, int r, int c, int64_t until)
{
    int i = m_dep_find(m, e, r, c);
    if (i >= 0)
        m_dep_drop(m, i);
    if (m->nd < M_DEPS)
        m->d[m->nd++] = (struct mdep){e, r, c, until};
}

static void m_dep_forget(struct model *m, int e, int r)
{
    for (int i = 0; i < m->nd;)
        if (m->d[i].e == e && m->d[i].r == r)
            m_dep_drop(m, i);
        else
            i++;
}

/* The verdict on a record feed's new binding: true = refused. */
static bool m_dep_refuses(struct model *m, int e, int r, int c, int64_t expires)
{
    int k = m_dep_find(m, e, r, c), u = m_dep_find(m, e, r, -1);
    if (k >= 0) {
        if (expires <= m->d[k].until)
            return true;
        m_dep_drop(m, k);
        return false;
    }
    if (u >= 0) {
        m_dep_drop(m, u);
        m_dep_add(m, e, r, c, expires);
        return true;
    }
    return false;
}

static void m_vouch(struct model *m, struct mbind *b, int feed, int64_t now)
{
    if (!(b->feeds >> feed & 1u))
        m->st.by_feed[feed]++;
    b->feeds |= 1u << feed;
    b->seen[feed] = now;
    b->feed = feed;
    b->updated = now;
}

static bool m_wire(int feed) { return feed == REG_FEED_PCAP || feed == REG_FEED_HEP; }

/* Returns what regtable_apply should. */
static int m_apply(struct model *m, int e, int c, int r, int src, int ua, int feed, int64_t expires, int64_t now)
{
    int i = m_find(m, e, c, r);
    if (expires <= now) {
        if (i < 0)
            return 0;
        struct mbind *b = &m->b[e][i];
        if (!m_wire(feed)) {
            if (!(b->feeds >> feed & 1u))
                return 0;
            if (b->feeds != 1u << feed) {
                b->feeds &= ~(1u << feed);
                b->seen[feed] = 0;
                m->st.by_feed[feed]--;
                return 0;
            }
        } else {
            m_dep_add(m, e, r, c, b->expires + REG_DEPARTURE_SLACK_S);
        }
        m_drop(m, e, i);
        m->st.removed++;
        m->notified++;
        return 0;
    }
    if (m_wire(feed))
        m_dep_forget(m, e, r);
    if (i >= 0) {
        struct mbind b = m->b[e][i];
        b.src = src, b.ua = ua, b.expires = expires;
        m_vouch(m, &b, feed, now);
        memmove(&m->b[e][1], &m->b[e][0], (size_t)i * sizeof(m->b[e][0]));
        m->b[e][0] = b;
        m->st.refreshed++;
        return 0;
    }
    if (!m_wire(feed) && m_dep_refuses(m, e, r, c, expires)) {
        m->st.refused++;
        return REG_APPLY_REFUSED;
    }
    memmove(&m->b[e][1], &m->b[e][0], (size_t)m->n[e] * sizeof(m->b[e][0]));
    m->b[e][0] = (struct mbind){.contact = c, .reg = r, .src = src, .ua = ua, .expires = expires};
    m_vouch(m, &m->b[e][0], feed, now);
    m->n[e]++;
    m->st.added++;
    for (int j = 1; !m->keep && j < m->n[e];) {
        if (m->b[e][j].contact == c) {
            if (m_wire(feed))
                m_dep_add(m, e, m->b[e][j].reg, c, m->b[e][j].expires + REG_DEPARTURE_SLACK_S);
            m_drop(m, e, j);
            m->st.moved++;
        } else {
            j++;
        }
    }
    while ((unsigned)m->n[e] > m->max) { /* the oldest update; of equals, the last */
        int o = 0;
        for (int j = 0; j < m->n[e]; j++)
            if (m->b[e][j].updated <= m->b[e][o].updated)
                o = j;
        m_drop(m, e, o);
        m->st.dropped_cap++;
    }
    m->notified++;
    return 0;
}

static void m_note_departure(struct model *m, int e, int r, int64_t now)
{
    for (int i = 0; i < m->nd; i++)
        if (m->d[i].e == e && m->d[i].r == r)
            return;
    for (int i = 0; i < m->n[e]; i++)
        if (m->b[e][i].reg == r)
            return;
    m_dep_add(m, e, r, -1, now + REG_DEPARTURE_UNKNOWN_S);
}

static size_t m_expire(struct model *m, int64_t now)
{
    size_t n = 0;
    for (int e = 0; e < M_EXTS; e++)
        for (int i = 0; i < m->n[e];)
            if (m->b[e][i].expires <= now) {
                m_drop(m, e, i);
                n++;
                m->notified++;
            } else {
                i++;
            }
    m->st.expired += n;
    for (int i = 0; i < m->nd;)
        if (m->d[i].until <= now)
            m_dep_drop(m, i);
        else
            i++;
    return n;
}

static int64_t m_next_expiry(const struct model *m)
{
    int64_t t = INT64_MAX;
    for (int e = 0; e < M_EXTS; e++)
        for (int i = 0; i < m->n[e]; i++)
            if (m->b[e][i].expires < t)
                t = m->b[e][i].expires;
    return t;
}

static unsigned long m_bad; /* mismatches (each reported once, up to a few) */

#define M_CHECK(cond, ...)                                                                              \
    do {                                                                                                \
        if (!(cond)) {                                                                                  \
            if (m_bad++ < 10)                                                                           \
                CHECK(0, __VA_ARGS__);                                                                  \
        }                                                                                               \
    } while (0)

static bool count_fn(void *ctx, const struct reg_binding *b)
{
    (void)b;
    ++*(uint64_t *)ctx;
    return true;
}

static void m_compare(const struct regtable *rt, const struct model *m, int64_t now, unsigned step)
{
    struct reg_binding out[M_MAXB];
    uint64_t bindings = 0, exts = 0;
    for (int e = 0; e < M_EXTS; e++) {
        bindings += (uint64_t)m->n[e];
        exts += m->n[e] > 0;
        /* at now and later: regtable_get filters out the expired ones */
        for (int64_t at = now; at <= now + 40; at += 20) {
            size_t got = regtable_get(rt, m_ext[e], at, out, M_MAXB);
            size_t want = 0;
            for (int i = 0; i < m->n[e]; i++) {
                const struct mbind *b = &m->b[e][i];
                if (b->expires <= at)
                    continue;
                if (want < got) {
                    const struct reg_binding *g = &out[want];
                    M_CHECK(!strcmp(g->ext, m_ext[e]) && !strcmp(g->contact, m_contact[b->contact]) &&
                                !strcmp(g->registrar, m_reg[b->reg]) && !strcmp(g->source, m_src[b->src]) &&
                                !strcmp(g->user_agent, m_ua[b->ua]) && g->expires == b->expires &&
                                g->updated == b->updated && (int)g->feed == b->feed && g->feeds == b->feeds &&
                                !memcmp(g->seen, b->seen, sizeof(g->seen)),
                            "step %u ext %s binding %zu: got %s %s %" PRId64 ", want %s %s %" PRId64, step,
                            m_ext[e], want, g->contact, g->registrar, g->expires, m_contact[b->contact],
                            m_reg[b->reg], b->expires);
                    M_CHECK(g->expires > at, "step %u: expired binding returned", step);
                }
                want++;
            }
            M_CHECK(got == want, "step %u ext %s at +%" PRId64 ": %zu bindings, want %zu", step, m_ext[e],
                    at - now, got, want);
            M_CHECK(regtable_has(rt, m_ext[e], at) == (want > 0), "step %u: has(%s)", step, m_ext[e]);
        }
        /* never a false "no": every proper prefix of a name in the table */
        if (m->n[e])
            for (size_t len = 0; len < strlen(m_ext[e]); len++) {
                char p[8];
                memcpy(p, m_ext[e], len);
                p[len] = '\0';
                M_CHECK(regtable_may_extend(rt, p), "step %u: may_extend(\"%s\") false with %s in the table",
                        step, p, m_ext[e]);
            }
    }
    struct regtable_stats st;
    regtable_get_stats(rt, &st);
    M_CHECK(st.bindings == bindings, "step %u: bindings %" PRIu64 ", want %" PRIu64, step, st.bindings, bindings);
    M_CHECK(st.extensions == exts, "step %u: extensions %" PRIu64 ", want %" PRIu64, step, st.extensions, exts);
    for (int f = 0; f < REG_FEED_COUNT; f++)
        M_CHECK(st.by_feed[f] == m->st.by_feed[f], "step %u: by_feed[%d] %" PRIu64 ", want %" PRIu64, step, f,
                st.by_feed[f], m->st.by_feed[f]);
#define M_STAT(field)                                                                                   \
    M_CHECK(st.field == m->st.field, "step %u: " #field " %" PRIu64 ", want %" PRIu64, step, st.field, m->st.field)
    M_STAT(added);
    M_STAT(refreshed);
    M_STAT(removed);
    M_STAT(expired);
    M_STAT(moved);
    M_STAT(dropped_cap);
    M_STAT(rejected);
    M_STAT(refused);
    M_CHECK(st.departures == (uint64_t)m->nd, "step %u: departures %" PRIu64 ", want %d", step, st.departures, m->nd);
    M_CHECK(notified == m->notified, "step %u: %u notifications, want %u", step, notified, m->notified);
    M_CHECK(regtable_next_expiry(rt) == m_next_expiry(m), "step %u: next expiry %" PRId64 ", want %" PRId64, step,
            regtable_next_expiry(rt), m_next_expiry(m));
    uint64_t visited = 0;
    regtable_foreach(rt, count_fn, &visited);
    M_CHECK(visited == bindings, "step %u: foreach visited %" PRIu64 ", want %" PRIu64, step, visited, bindings);
}

/* mode 0: keep off, 1: keep on, 2: toggled at random */
static void test_model(int mode, unsigned steps, uint64_t seed)
{
    rng_state = seed;
    m_names();
    static struct model m;
    memset(&m, 0, sizeof(m));
    m.max = 1 + rndn(5);
    m.keep = mode == 1;
    struct regtable *rt = fresh(m.max);
    regtable_set_keep_other_registrars(rt, m.keep);
    uint64_t mem0 = stats(rt).memory_bytes;
    int64_t now = T0;
    m_bad = 0;

    for (unsigned step = 0; step < steps; step++) {
        unsigned op = rndn(100);
        int e = (int)rndn(M_EXTS);
        if (op < 55) { /* register or refresh */
            int c = (int)rndn(M_CONTACTS), r = (int)rndn(M_REGS), src = (int)rndn(3), ua = (int)rndn(3),
                feed = (int)rndn(REG_FEED_COUNT);
            int64_t exp = now + 1 + rndn(60);
            struct reg_update u = {.ext = m_ext[e], .contact = m_contact[c], .registrar = m_reg[r],
                                   .source = m_src[src], .user_agent = m_ua[ua], .expires = exp,
                                   .feed = (enum reg_feed)feed};
            int want = m_apply(&m, e, c, r, src, ua, feed, exp, now), got = regtable_apply(rt, &u, now);
            M_CHECK(got == want, "step %u: apply %d, want %d", step, got, want);
        } else if (op < 65) { /* unregister (often of something there) */
            int c = (int)rndn(M_CONTACTS), r = (int)rndn(M_REGS);
            if (m.n[e] && rndn(2)) {
                int i = (int)rndn((unsigned)m.n[e]);
                c = m.b[e][i].contact, r = m.b[e][i].reg;
            }
            int64_t exp = now - (int64_t)rndn(3);
            int feed = (int)rndn(REG_FEED_COUNT);
            struct reg_update u = {.ext = m_ext[e], .contact = m_contact[c], .registrar = m_reg[r],
                                   .expires = exp, .feed = (enum reg_feed)feed};
            if (regtable_apply(rt, &u, now) != 0)
                M_CHECK(0, "step %u: unregister failed", step);
            m_apply(&m, e, c, r, 0, 0, feed, exp, now);
        } else if (op < 73) { /* the wire: the registrar holds nothing there */
            int r = (int)rndn(M_REGS);
            regtable_note_departure(rt, m_ext[e], m_reg[r], now);
            m_note_departure(&m, e, r, now);
        } else if (op < 80) { /* expire */
            size_t got = regtable_expire(rt, now), want = m_expire(&m, now);
            M_CHECK(got == want, "step %u: expired %zu, want %zu", step, got, want);
        } else if (op < 92) { /* time passes */
            now += rndn(12);
        } else if (op < 96) { /* a rejected update */
            struct reg_update u = {.ext = m_ext[e], .contact = m_contact[0], .registrar = m_reg[0],
                                   .expires = now + 10};
            switch (rndn(4)) {
            case 0: u.ext = ""; break;
            case 1: u.contact = "sip:a\x01@h"; break;
            case 2: u.registrar = NULL; break;
            default: u.feed = (enum reg_feed)(REG_FEED_COUNT + rndn(3)); break;
            }
            if (regtable_apply(rt, &u, now) != -1)
                M_CHECK(0, "step %u: bad update accepted", step);
            m.st.rejected++;
        } else if (op < 98) { /* the cap changes */
            m.max = 1 + rndn(6);
            regtable_set_max_bindings(rt, m.max);
        } else if (mode == 2) {
            m.keep = !m.keep;
            regtable_set_keep_other_registrars(rt, m.keep);
        }
        m_compare(rt, &m, now, step);
        if (m_bad > 10)
            break;
    }
    /* empty it: the memory goes back to where it started */
    now += 1000 + REG_DEPARTURE_UNKNOWN_S;
    CHECK_INT(regtable_expire(rt, now), m_expire(&m, now));
    m_compare(rt, &m, now, steps);
    CHECK_INT(stats(rt).bindings, 0);
    CHECK_INT(stats(rt).memory_bytes, mem0);
    for (int e = 0; e < M_EXTS; e++)
        if (!CHECK(!regtable_may_extend(rt, m_ext[e]), "may_extend(%s) on an empty table", m_ext[e]))
            break;
    CHECK(m_bad == 0, "model mode %d seed %" PRIx64 ": %lu mismatches", mode, seed, m_bad);
    /* the run did exercise every path */
    CHECK(m.st.added > 500 && m.st.refreshed > 100 && m.st.removed > 50 && m.st.expired > 100 &&
              m.st.dropped_cap > 10 && m.st.rejected > 50 && m.st.refused > 10,
          "model mode %d: added %" PRIu64 " refreshed %" PRIu64 " removed %" PRIu64 " expired %" PRIu64
          " dropped_cap %" PRIu64 " rejected %" PRIu64 " refused %" PRIu64,
          mode, m.st.added, m.st.refreshed, m.st.removed, m.st.expired, m.st.dropped_cap, m.st.rejected,
          m.st.refused);
    CHECK(mode == 1 ? m.st.moved == 0 : m.st.moved > 10, "model mode %d: moved %" PRIu64, mode, m.st.moved);
    regtable_free(rt);
}

/* regtable_clear: the table is as new (empty, counters zero, no prefix
 * left), the listener is not told, and the settings stay. Both ways of
 * zeroing the prefix counters: a few extensions, and many. */
static void test_clear(void)
{
    for (int many = 0; many < 2; many++) {
        struct regtable *rt = fresh(2);
        uint64_t mem0 = stats(rt).memory_bytes;
        regtable_set_keep_other_registrars(rt, true);
        int n = many ? 20000 : 30;
        char ext[16];
        for (int i = 0; i < n; i++) {
            snprintf(ext, sizeof(ext), "7%06d", i);
            CHECK_INT_QUIET(put(rt, ext, "sip:a@h", "r1", T0 + 10 + i % 50, T0));
            CHECK_INT_QUIET(put(rt, ext, "sip:a@h", "r2", T0 + 10 + i % 50, T0));
        }
        CHECK_INT(stats(rt).bindings, 2 * n);
        CHECK(regtable_may_extend(rt, "70"), "70 extended before the clear");
        unsigned told = notified;
        regtable_clear(rt);
        struct regtable_stats st = stats(rt), zero;
        memset(&zero, 0, sizeof(zero));
        zero.memory_bytes = mem0;
        CHECK(!memcmp(&st, &zero, sizeof(st)), "all counters zero, memory as new (%" PRIu64 " vs %" PRIu64 ")",
              st.memory_bytes, mem0);
        CHECK_INT(notified, told);
        CHECK_INT(regtable_next_expiry(rt), INT64_MAX);
        struct visit v = {.n = 0};
        regtable_foreach(rt, visit_fn, &v);
        CHECK_INT(v.n, 0);
        CHECK(!regtable_has(rt, "7000001", T0), "gone");
        const char *pre[] = {"", "7", "70", "700", "7000", "70000", "700000"};
        for (size_t i = 0; i < sizeof(pre) / sizeof(pre[0]); i++)
            CHECK(!regtable_may_extend(rt, pre[i]), "may_extend(%s) after clear", pre[i]);
        /* still keeps other registrars, still caps at 2 */
        CHECK_INT(put(rt, "1", "sip:a@h", "r1", T0 + 100, T0), 0);
        CHECK_INT(put(rt, "1", "sip:a@h", "r2", T0 + 100, T0), 0);
        CHECK_INT(put(rt, "1", "sip:b@h", "r1", T0 + 100, T0), 0);
        struct reg_binding b[REG_MAX_BINDINGS_LIMIT];
        CHECK_INT(get(rt, "1", T0, b), 2);
        CHECK_INT(stats(rt).dropped_cap, 1);
        CHECK_INT(stats(rt).moved, 0);
        CHECK(notified > told, "the listener still hears of changes");
        regtable_free(rt);
    }
}

static bool count_walk(void *ctx, const struct reg_binding *b)
{
    (void)b;
    (*(size_t *)ctx)++;
    return true;
}

/* The hash grows a few buckets per change (issue 16): every extension stays
 * findable mid-move, and a walk in small steps with no change between them
 * sees every binding once. */
static void test_growth_and_walk(void)
{
    struct regtable *rt = regtable_new(8);
    char ext[16], contact[48];
    size_t n = 50000, missing = 0;
    for (size_t i = 0; i < n; i++) {
        snprintf(ext, sizeof(ext), "%zu", 100000 + i);
        snprintf(contact, sizeof(contact), "sip:%s@10.0.0.1", ext);
        struct reg_update u = {.ext = ext, .contact = contact, .registrar = "r", .expires = T0 + 60, .feed = REG_FEED_HEP};
        CHECK_INT(regtable_apply(rt, &u, T0), 0);
        if (i % 997 == 0)
            for (size_t k = 0; k <= i; k += 7) {
                snprintf(ext, sizeof(ext), "%zu", 100000 + k);
                missing += !regtable_has(rt, ext, T0);
            }
    }
    CHECK_INT(missing, 0);
    size_t seen = 0, cursor = 0, steps = 0;
    while (regtable_walk(rt, &cursor, 100, count_walk, &seen) && steps < 1000000)
        steps++;
    CHECK_INT(seen, n);
    CHECK_INT(cursor, 0);
    seen = 0;
    regtable_foreach(rt, count_walk, &seen);
    CHECK_INT(seen, n);
    for (size_t i = 0; i < n; i++) { /* each one leaves, as the wire says */
        snprintf(ext, sizeof(ext), "%zu", 100000 + i);
        snprintf(contact, sizeof(contact), "sip:%s@10.0.0.1", ext);
        struct reg_update u = {.ext = ext, .contact = contact, .registrar = "r", .expires = 0, .feed = REG_FEED_HEP};
        CHECK_INT(regtable_apply(rt, &u, T0), 0);
    }
    struct regtable_stats st;
    regtable_get_stats(rt, &st);
    CHECK_INT(st.bindings, 0);
    regtable_free(rt);
}

int main(int argc, char **argv)
{
    (void)argc, (void)argv;
    test_feed_names();
    test_apply_refresh();
    test_move_and_keep();
    test_cap();
    test_unregister();
    test_vouchers();
    test_departures();
    test_departures_cap();
    test_expiry();
    test_heap_order();
    test_rejected();
    test_user_agent();
    test_may_extend();
    test_may_extend_empty();
    test_foreach_memory();
    test_clear();
    test_growth_and_walk();
    for (int mode = 0; mode < 3; mode++)
        for (uint64_t s = 1; s <= 4; s++)
            test_model(mode, 5000, 0x5eed0000ull + (uint64_t)mode * 16 + s);
    return test_summary("test_regtable");
}
