/* RealTime sync passes against the real registration table: full loads
 * remove what the database no longer has, incremental passes only add,
 * one-extension passes reconcile one extension, other feeds are untouched. */
#include <stdio.h>
#include <string.h>

#include "dundid/realtime_sync.h"
#include "testutil.h"

#define NOW 1900000000

static struct realtime_conf rc;

static struct rt_row row(const char *ext, const char *contact, const char *regserver, int64_t expires)
{
    struct rt_row r;
    memset(&r, 0, sizeof(r));
    snprintf(r.ext, sizeof(r.ext), "%s", ext);
    snprintf(r.contact, sizeof(r.contact), "%s", contact);
    snprintf(r.regserver, sizeof(r.regserver), "%s", regserver);
    r.expires = expires;
    return r;
}

static int put(struct rt_sync *y, struct regtable *t, enum rt_schema s, const char *ext, const char *contact,
               const char *regserver, int64_t expires)
{
    struct rt_row r = row(ext, contact, regserver, expires);
    return rt_sync_row(y, t, &rc, s, &r, NOW);
}

static size_t count(struct regtable *t, const char *ext)
{
    struct reg_binding b[16];
    return regtable_get(t, ext, NOW, b, 16);
}

static const char *registrar_of(struct regtable *t, const char *ext)
{
    static struct reg_binding b[16];
    return regtable_get(t, ext, NOW, b, 16) ? b[0].registrar : "";
}

static void test_full_pass(void)
{
    struct regtable *t = regtable_new(8);
    struct rt_sync y;
    rt_sync_init(&y);

    rt_sync_begin(&y, RT_PASS_FULL, NULL);
    CHECK_INT(put(&y, t, RT_SCHEMA_CHAN_SIP, "1001", "sip:1001@a", "regpbx1", NOW + 3600), RT_SYNC_APPLIED);
    CHECK_INT(put(&y, t, RT_SCHEMA_CHAN_SIP, "1002", "sip:1002@a", "regpbx2", NOW + 3500), RT_SYNC_APPLIED);
    CHECK_INT(put(&y, t, RT_SCHEMA_CHAN_SIP, "1003", "sip:1003@a", "regpbx1", NOW), RT_SYNC_NOT_LIVE);
    CHECK_INT(put(&y, t, RT_SCHEMA_CHAN_SIP, "1004", "", "regpbx1", NOW + 60), RT_SYNC_NOT_LIVE);
    CHECK_INT(put(&y, t, RT_SCHEMA_CHAN_SIP, "1005", "sip:1005@a", "", NOW + 60), RT_SYNC_NO_REGISTRAR);
    CHECK_INT(rt_sync_end(&y, t, NOW), 0);
    CHECK_INT(y.hwm, NOW + 3600);
    CHECK_STR(registrar_of(t, "1001"), "10.0.0.1");
    CHECK_STR(registrar_of(t, "1002"), "regpbx2");
    CHECK_INT(count(t, "1003"), 0);
    CHECK_INT(count(t, "1005"), 0);

    /* A phone seen by SIP snooping: not the feed's to remove. */
    struct reg_update u = {"1009", "sip:1009@p", "10.0.0.7", "", "", NOW + 600, REG_FEED_PCAP};
    CHECK_INT(regtable_apply(t, &u, NOW), 0);

    /* The next full load lacks 1002: removed; the pcap binding stays. */
    rt_sync_begin(&y, RT_PASS_FULL, NULL);
    CHECK_INT(put(&y, t, RT_SCHEMA_CHAN_SIP, "1001", "sip:1001@a", "regpbx1", NOW + 3600), RT_SYNC_APPLIED);
    CHECK_INT(rt_sync_end(&y, t, NOW), 1);
    CHECK_INT(count(t, "1001"), 1);
    CHECK_INT(count(t, "1002"), 0);
    CHECK_INT(count(t, "1009"), 1);

    /* The feed switched off. */
    CHECK_INT(rt_sync_remove_all(t, NOW), 1);
    CHECK_INT(count(t, "1001"), 0);
    CHECK_INT(count(t, "1009"), 1);
    rt_sync_free(&y);
    regtable_free(t);
}

static void test_incremental_and_mark(void)
{
    struct regtable *t = regtable_new(8);
    struct rt_sync y;
    rt_sync_init(&y);
    CHECK_INT(rt_sync_incr_after(&y, NOW), NOW); /* nothing seen: every live row */
    rt_sync_begin(&y, RT_PASS_FULL, NULL);
    put(&y, t, RT_SCHEMA_CHAN_SIP, "1001", "sip:1001@a", "regpbx1", NOW + 3600);
    rt_sync_end(&y, t, NOW);
    CHECK_INT(rt_sync_incr_after(&y, NOW), NOW + 3598);
    CHECK_INT(rt_sync_incr_after(&y, NOW + 4000), NOW + 4000);

    /* Incremental: adds, never removes, raises the mark. */
    rt_sync_begin(&y, RT_PASS_INCR, NULL);
    put(&y, t, RT_SCHEMA_CHAN_SIP, "1002", "sip:1002@a", "regpbx1", NOW + 3700);
    CHECK_INT(rt_sync_end(&y, t, NOW), 0);
    CHECK_INT(count(t, "1001"), 1);
    CHECK_INT(count(t, "1002"), 1);
    CHECK_INT(y.hwm, NOW + 3700);
    /* A one-extension pass does not move the mark. */
    rt_sync_begin(&y, RT_PASS_KEY, "1003");
    put(&y, t, RT_SCHEMA_CHAN_SIP, "1003", "sip:1003@a", "regpbx1", NOW + 9000);
    rt_sync_end(&y, t, NOW);
    CHECK_INT(y.hwm, NOW + 3700);
    rt_sync_reset(&y);
    CHECK_INT(y.hwm, 0);
    rt_sync_free(&y);
    regtable_free(t);
}

static void test_chan_sip_replaces_contact(void)
{
    struct regtable *t = regtable_new(8);
    struct rt_sync y;
    rt_sync_init(&y);
    rt_sync_begin(&y, RT_PASS_INCR, NULL);
    put(&y, t, RT_SCHEMA_CHAN_SIP, "1001", "sip:1001@old", "regpbx1", NOW + 3600);
    struct reg_update u = {"1001", "sip:1001@snooped", "10.0.0.7", "", "", NOW + 600, REG_FEED_HEP};
    regtable_apply(t, &u, NOW);
    /* One row per chan_sip peer: a new contact replaces the feed's old one. */
    put(&y, t, RT_SCHEMA_CHAN_SIP, "1001", "sip:1001@new", "regpbx1", NOW + 3601);
    struct reg_binding b[8];
    size_t n = regtable_get(t, "1001", NOW, b, 8);
    CHECK_INT(n, 2);
    bool old = false, fresh = false, hep = false;
    for (size_t i = 0; i < n; i++) {
        old |= !strcmp(b[i].contact, "sip:1001@old");
        fresh |= !strcmp(b[i].contact, "sip:1001@new");
        hep |= b[i].feed == REG_FEED_HEP;
    }
    CHECK(!old && fresh && hep, "old %d new %d hep %d", old, fresh, hep);
    /* A move to another registrar, same contact. */
    put(&y, t, RT_SCHEMA_CHAN_SIP, "1001", "sip:1001@new", "regpbx2", NOW + 3602);
    n = regtable_get(t, "1001", NOW, b, 8);
    size_t rt_n = 0;
    for (size_t i = 0; i < n; i++)
        if (b[i].feed == REG_FEED_REALTIME) {
            rt_n++;
            CHECK_STR(b[i].registrar, "regpbx2");
        }
    CHECK_INT(rt_n, 1);
    rt_sync_free(&y);
    regtable_free(t);
}

static void test_pjsip_contacts_and_key_pass(void)
{
    struct regtable *t = regtable_new(8);
    struct rt_sync y;
    rt_sync_init(&y);
    rt_sync_begin(&y, RT_PASS_FULL, NULL);
    put(&y, t, RT_SCHEMA_PJSIP, "2001", "sip:2001@desk", "regpbx1", NOW + 3600);
    put(&y, t, RT_SCHEMA_PJSIP, "2001", "sip:2001@soft", "regpbx1", NOW + 3600);
    put(&y, t, RT_SCHEMA_PJSIP, "2002", "sip:2002@desk", "regpbx1", NOW + 3600);
    rt_sync_end(&y, t, NOW);
    CHECK_INT(count(t, "2001"), 2); /* pjsip: several contacts per AOR */

    /* The database now has only the desk phone of 2001. */
    rt_sync_begin(&y, RT_PASS_KEY, "2001");
    put(&y, t, RT_SCHEMA_PJSIP, "2001", "sip:2001@desk", "regpbx1", NOW + 3600);
    CHECK_INT(rt_sync_end(&y, t, NOW), 1);
    struct reg_binding b[8];
    CHECK_INT(regtable_get(t, "2001", NOW, b, 8), 1);
    CHECK_STR(b[0].contact, "sip:2001@desk");
    CHECK_INT(count(t, "2002"), 1); /* another extension: untouched */

    /* An extension the database has no row for at all. */
    rt_sync_begin(&y, RT_PASS_KEY, "2002");
    CHECK_INT(rt_sync_end(&y, t, NOW), 1);
    CHECK_INT(count(t, "2002"), 0);
    rt_sync_free(&y);
    regtable_free(t);
}

static void test_expiring(void)
{
    struct regtable *t = regtable_new(8);
    struct rt_sync y;
    char out[4][REG_EXT_MAX + 1];
    rt_sync_init(&y);
    rt_sync_begin(&y, RT_PASS_FULL, NULL);
    put(&y, t, RT_SCHEMA_PJSIP, "3001", "sip:3001@a", "regpbx1", NOW + 5);
    put(&y, t, RT_SCHEMA_PJSIP, "3001", "sip:3001@b", "regpbx1", NOW + 6);
    put(&y, t, RT_SCHEMA_PJSIP, "3002", "sip:3002@a", "regpbx1", NOW + 3600);
    put(&y, t, RT_SCHEMA_PJSIP, "3003", "sip:3003@a", "regpbx1", NOW + 8);
    rt_sync_end(&y, t, NOW);
    struct reg_update u = {"3004", "sip:3004@p", "10.0.0.7", "", "", NOW + 3, REG_FEED_PCAP};
    regtable_apply(t, &u, NOW);
    size_t n = rt_sync_expiring(t, NOW, NOW + 10, out, 4);
    CHECK_INT(n, 2); /* 3001 once, 3003; not 3002 (later), not 3004 (another feed) */
    bool a = false, c = false;
    for (size_t i = 0; i < n; i++) {
        a |= !strcmp(out[i], "3001");
        c |= !strcmp(out[i], "3003");
    }
    CHECK(a && c, "3001 %d 3003 %d", a, c);
    CHECK_INT(rt_sync_expiring(t, NOW, NOW + 10, out, 1), 1);
    CHECK_INT(rt_sync_expiring(t, NOW, NOW + 10, out, 0), 0);
    rt_sync_free(&y);
    regtable_free(t);
}

/* More stale bindings than one removal batch: the walk repeats until done. */
static void test_many(void)
{
    struct regtable *t = regtable_new(8);
    struct rt_sync y;
    char ext[16], contact[32];
    rt_sync_init(&y);
    rt_sync_begin(&y, RT_PASS_FULL, NULL);
    for (int i = 0; i < 5000; i++) {
        snprintf(ext, sizeof(ext), "%d", 100000 + i);
        snprintf(contact, sizeof(contact), "sip:%s@h", ext);
        put(&y, t, RT_SCHEMA_CHAN_SIP, ext, contact, "regpbx1", NOW + 100 + i);
    }
    CHECK_INT(rt_sync_end(&y, t, NOW), 0);
    rt_sync_begin(&y, RT_PASS_FULL, NULL);
    for (int i = 0; i < 5000; i += 2) {
        snprintf(ext, sizeof(ext), "%d", 100000 + i);
        snprintf(contact, sizeof(contact), "sip:%s@h", ext);
        put(&y, t, RT_SCHEMA_CHAN_SIP, ext, contact, "regpbx1", NOW + 100 + i);
    }
    CHECK_INT(rt_sync_end(&y, t, NOW), 2500);
    struct regtable_stats st;
    regtable_get_stats(t, &st);
    CHECK_INT(st.bindings, 2500);
    CHECK_INT(count(t, "100000"), 1);
    CHECK_INT(count(t, "100001"), 0);
    rt_sync_free(&y);
    regtable_free(t);
}

/* Issue 17: a binding the wire also vouches for loses only RealTime's
 * voucher when the rows lose it; a row of a registration the wire saw leave
 * is not taken (RT_SYNC_DEPARTED), and is no row "seen" by the pass. */
static void test_vouchers_and_departures(void)
{
    struct regtable *t = regtable_new(8);
    struct rt_sync y;
    rt_sync_init(&y);
    rt_sync_begin(&y, RT_PASS_FULL, NULL);
    CHECK_INT(put(&y, t, RT_SCHEMA_CHAN_SIP, "1101", "sip:1101@a", "regpbx1", NOW + 3600), RT_SYNC_APPLIED);
    CHECK_INT(put(&y, t, RT_SCHEMA_CHAN_SIP, "1102", "sip:1102@a", "regpbx1", NOW + 3600), RT_SYNC_APPLIED);
    CHECK_INT(rt_sync_end(&y, t, NOW), 0);
    /* the wire confirms 1101 at the same registrar */
    struct reg_update u = {"1101", "sip:1101@a", "10.0.0.1", "", "", NOW + 3600, REG_FEED_HEP};
    CHECK_INT(regtable_apply(t, &u, NOW), 0);
    /* the rows lose both: 1101 stays (the wire's), 1102 goes */
    rt_sync_begin(&y, RT_PASS_FULL, NULL);
    CHECK_INT(rt_sync_end(&y, t, NOW), 2);
    CHECK_INT(count(t, "1101"), 1);
    CHECK_INT(count(t, "1102"), 0);
    struct reg_binding b[4];
    if (CHECK(regtable_get(t, "1101", NOW, b, 4) == 1, "1101 kept"))
        CHECK_INT(b[0].feeds, 1u << REG_FEED_HEP);
    /* a chan_sip peer's unregistration on the wire; its row stays as it was */
    CHECK_INT(put(&y, t, RT_SCHEMA_CHAN_SIP, "1102", "sip:1102@a", "regpbx1", NOW + 3600), RT_SYNC_APPLIED);
    u.ext = "1102", u.contact = "sip:1102@a", u.expires = 0;
    CHECK_INT(regtable_apply(t, &u, NOW), 0);
    CHECK_INT(count(t, "1102"), 0);
    rt_sync_begin(&y, RT_PASS_FULL, NULL);
    CHECK_INT(put(&y, t, RT_SCHEMA_CHAN_SIP, "1102", "sip:1102@a", "regpbx1", NOW + 3600), RT_SYNC_DEPARTED);
    CHECK_INT(rt_sync_end(&y, t, NOW), 0); /* nothing of RealTime's left to withdraw */
    CHECK_INT(count(t, "1102"), 0);
    rt_sync_begin(&y, RT_PASS_KEY, "1102");
    CHECK_INT(put(&y, t, RT_SCHEMA_CHAN_SIP, "1102", "sip:1102@a", "regpbx1", NOW + 3600), RT_SYNC_DEPARTED);
    CHECK_INT(rt_sync_end(&y, t, NOW), 0);
    /* it registers again: a later regseconds is taken */
    rt_sync_begin(&y, RT_PASS_INCR, NULL);
    CHECK_INT(put(&y, t, RT_SCHEMA_CHAN_SIP, "1102", "sip:1102@a", "regpbx1", NOW + 3700), RT_SYNC_APPLIED);
    CHECK_INT(count(t, "1102"), 1);
    rt_sync_free(&y);
    regtable_free(t);
}

int main(void)
{
    char err[256];
    realtime_conf_defaults(&rc);
    realtime_conf_registrar(&rc, "regpbx1", "10.0.0.1", 1, err, sizeof(err));
    test_full_pass();
    test_incremental_and_mark();
    test_chan_sip_replaces_contact();
    test_pjsip_contacts_and_key_pass();
    test_expiring();
    test_many();
    test_vouchers_and_departures();
    realtime_conf_free(&rc);
    return test_summary("test_realtime_sync");
}
