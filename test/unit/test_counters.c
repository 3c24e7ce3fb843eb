/* Unit tests for the counters (src/server/counters.c): one filled set of
 * counters rendered as the stats line, "show stats" (text and JSON) and the
 * Prometheus families; every counter must show in each, with its value.
 * argv[1] is test/data (the man page is looked for next to it). */
#include "dundid/counters.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "dundid/ctl_out.h"
#include "dundid/log.h"
#include "testutil.h"

static struct counters_src src;
static struct counter_row rows[COUNTERS_COUNT];

/* Every member a different value, so that a row showing the wrong member
 * is seen. The structs hold only uint64_t members. */
static void fill(uint64_t base, uint64_t step)
{
    uint64_t v = base;
    uint64_t t[sizeof(src.trans) / 8], s[sizeof(src.server) / 8], c[sizeof(src.cache) / 8];
    _Static_assert(sizeof(src.trans) % 8 == 0 && sizeof(src.server) % 8 == 0 && sizeof(src.cache) % 8 == 0,
                   "counter structs are uint64_t only");
    for (size_t i = 0; i < sizeof(t) / 8; i++, v += step)
        t[i] = v;
    for (size_t i = 0; i < sizeof(s) / 8; i++, v += step)
        s[i] = v;
    for (size_t i = 0; i < sizeof(c) / 8; i++, v += step)
        c[i] = v;
    memcpy(&src.trans, t, sizeof(t));
    memcpy(&src.server, s, sizeof(s));
    memcpy(&src.cache, c, sizeof(c));
    for (size_t i = 0; i < COUNTER_DERIVED_COUNT; i++, v += step)
        src.derived[i] = v;
    counters_rows(&src, rows);
}

static const struct counter_row *by_key(const char *key)
{
    for (size_t i = 0; i < COUNTERS_COUNT; i++)
        if (!strcmp(rows[i].key, key))
            return &rows[i];
    return NULL;
}

static bool name_ok(const char *s)
{
    if (!s || !*s)
        return false;
    for (; *s; s++)
        if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '_')
            return false;
    return true;
}

static void test_lists(void)
{
    fill(1000, 1);
    size_t members = sizeof(src.trans) / 8 + sizeof(src.server) / 8 + sizeof(src.cache) / 8;
    CHECK_INT(COUNTERS_COUNT, members + COUNTER_DERIVED_COUNT);
    for (size_t i = 0; i < COUNTERS_COUNT; i++) {
        const struct counter_row *r = &rows[i];
        CHECK(name_ok(r->key), "key %zu '%s'", i, r->key);
        CHECK(name_ok(r->metric), "metric of %s: '%s'", r->key, r->metric);
        CHECK(r->value == 1000 + i, "%s shows %" PRIu64 ", not member %zu", r->key, r->value, i);
        size_t hl = strlen(r->help);
        CHECK(hl > 1 && r->help[hl - 1] == '.' && !strpbrk(r->help, "\\\n"), "help of %s", r->key);
        CHECK(r->gauge || strlen(r->metric) < 6 || strcmp(r->metric + strlen(r->metric) - 6, "_total"),
              "%s: _total is added, not listed", r->metric);
        for (size_t k = 0; k < i; k++) {
            CHECK(strcmp(r->key, rows[k].key), "key %s twice", r->key);
            if (strcmp(r->metric, rows[k].metric))
                continue;
            /* a shared family: every member labelled, one kind, distinct labels */
            CHECK(r->label && rows[k].label, "%s: shared by %s and %s, not all labelled", r->metric, r->key,
                  rows[k].key);
            CHECK(r->gauge == rows[k].gauge, "%s: counter and gauge", r->metric);
            CHECK(!r->label || !rows[k].label || strcmp(r->label, rows[k].label), "%s{%s} twice", r->metric,
                  r->label);
        }
        if (r->label) {
            CHECK(counters_family_help(r->metric) != NULL, "shared family %s has no HELP", r->metric);
            const char *eq = strchr(r->label, '=');
            CHECK(eq && eq[1] == '"' && r->label[strlen(r->label) - 1] == '"', "label %s", r->label);
        }
    }
    /* the named members are the ones shown */
    CHECK_INT(by_key("rx")->value, src.trans.rx);
    CHECK_INT(by_key("malformed")->value, src.trans.rx_malformed);
    CHECK_INT(by_key("late_acks")->value, src.trans.rx_late_ack);
    CHECK_INT(by_key("lookups_found")->value, src.server.lookups[LOOKUP_FOUND]);
    CHECK_INT(by_key("lookups_refused")->value, src.server.lookups[LOOKUP_REFUSED]);
    CHECK_INT(by_key("encrej")->value, src.server.encrej_sent);
    CHECK_INT(by_key("lag_last_ms")->value, src.server.lag_last_ms);
    CHECK_INT(by_key("cache_expired")->value, src.cache.expired);
    CHECK_INT(by_key("live_trans")->value, src.derived[COUNTER_live_trans]);
    CHECK(by_key("lag_max_ms")->gauge && !by_key("rx")->gauge, "kinds");
}

/* Names the stats line, show stats and /metrics had before the lists: the
 * integration tests and operators' scripts rely on them. */
static const char *const old_keys[] = {
    "rx", "tx", "malformed", "unknown_trans", "invalid_sent", "duplicates", "out_of_window", "retransmits",
    "timeouts", "autokilled", "idle_ended", "refused_full", "requests", "answered", "refused", "ies_malformed",
    "encrej", "crypto_rejected", "registrations", "precache_sent", "precache_received", "cache_hits",
    "cache_misses", "cache_evictions", "live_trans", "refused_source", "invalid_suppressed", "noauth_suppressed",
    "addr_mismatch", "lag_max_ms", "lag_last_ms", "peer_states", "late_acks", "peers_registered", "regs_refused",
    "key_checks", "key_checks_suppressed", "rx_bytes", "tx_bytes", "cache_keys", "cache_saves", "cache_expired",
};
static const char *const old_samples[] = {
    "dundid_lookups_total{result=\"found\"}",
    "dundid_lookups_total{result=\"not_found\"}",
    "dundid_lookups_total{result=\"refused\"}",
    "dundid_requests_total",
    "dundid_answers_sent_total",
    "dundid_cache_hits_total",
    "dundid_cache_misses_total",
    "dundid_cache_evictions_total",
    "dundid_cache_expired_total",
    "dundid_cache_entries",
    "dundid_cache_max_entries",
    "dundid_cache_bytes",
    "dundid_transactions_live",
    "dundid_transactions_created_total",
    "dundid_transaction_timeouts_total",
    "dundid_retransmissions_total",
    "dundid_packets_received_total",
    "dundid_packets_sent_total",
    "dundid_received_bytes_total",
    "dundid_sent_bytes_total",
    "dundid_packets_duplicate_total",
    "dundid_packets_dropped_total{reason=\"malformed\"}",
    "dundid_packets_dropped_total{reason=\"unknown_transaction\"}",
    "dundid_packets_dropped_total{reason=\"out_of_window\"}",
    "dundid_packets_dropped_total{reason=\"table_full\"}",
    "dundid_packets_dropped_total{reason=\"crypto\"}",
    "dundid_packets_dropped_total{reason=\"bad_ies\"}",
    "dundid_peer_registrations",
    "dundid_registration_extensions",
    "dundid_reloads_total{result=\"ok\"}",
    "dundid_reloads_total{result=\"failed\"}",
    "dundid_log_suppressed_total",
};

static void test_old_names(void)
{
    for (size_t i = 0; i < sizeof(old_keys) / sizeof(old_keys[0]); i++)
        CHECK(by_key(old_keys[i]), "stats key %s is gone", old_keys[i]);
    char name[160];
    for (size_t i = 0; i < sizeof(old_samples) / sizeof(old_samples[0]); i++) {
        bool found = false;
        for (size_t k = 0; k < COUNTERS_COUNT && !found; k++) {
            const struct counter_row *r = &rows[k];
            snprintf(name, sizeof(name), "dundid_%s%s%s%s%s", r->metric, r->gauge ? "" : "_total",
                     r->label ? "{" : "", r->label ? r->label : "", r->label ? "}" : "");
            found = !strcmp(name, old_samples[i]);
        }
        CHECK(found, "metric %s is gone", old_samples[i]);
    }
}

/* The stats line: exactly the rows' keys, each once, with its value. */
static void test_line(void)
{
    fill(7, 3);
    char line[LOG_LINE_MAX];
    size_t need = counters_line(rows, line, sizeof(line));
    CHECK_INT(need, strlen(line));
    bool seen[COUNTERS_COUNT] = {false};
    size_t n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(line, " ", &save); tok; tok = strtok_r(NULL, " ", &save), n++) {
        char *eq = strchr(tok, '=');
        if (!CHECK(eq, "token '%s' is not key=value", tok))
            continue;
        *eq = '\0';
        const struct counter_row *r = by_key(tok);
        if (!CHECK(r, "line has %s, not a row", tok))
            continue;
        CHECK(!seen[r - rows], "%s twice in the line", tok);
        seen[r - rows] = true;
        CHECK(strtoull(eq + 1, NULL, 10) == r->value, "line %s=%s, row %" PRIu64, tok, eq + 1, r->value);
    }
    CHECK_INT(n, COUNTERS_COUNT);

    /* cut short: terminated, and the length needed is still told */
    char small[16];
    CHECK_INT(counters_line(rows, small, sizeof(small)), need);
    CHECK_INT(strlen(small), sizeof(small) - 1);

    /* the longest line there can be fits the logger's, with "stats: " and seq= */
    fill(UINT64_MAX, 0);
    need = counters_line(rows, NULL, 0);
    size_t whole = strlen("stats: ") + need + strlen(" seq=") + 20;
    CHECK(whole < LOG_LINE_MAX, "worst stats line %zu bytes, the logger keeps %d", whole, LOG_LINE_MAX - 1);
    printf("stats line: %zu keys, at most %zu bytes\n", (size_t)COUNTERS_COUNT, whole);
}

/* "show stats": one "key value" line per row; JSON: one member per row. */
static void test_ctl(void)
{
    fill(11, 5);
    struct ctl_out o;
    char want[128];
    ctl_out_init(&o, 1 << 20, false);
    counters_ctl(rows, &o);
    size_t lines = 0;
    for (const char *p = o.buf; p && *p; p = strchr(p, '\n') + 1)
        lines++;
    CHECK_INT(lines, COUNTERS_COUNT);
    for (size_t i = 0; i < COUNTERS_COUNT; i++) {
        bool found = false;
        for (const char *p = o.buf; p && *p && !found; p = strchr(p, '\n') + 1) {
            char key[64];
            uint64_t v;
            found = sscanf(p, "%63s %" SCNu64, key, &v) == 2 && !strcmp(key, rows[i].key) && v == rows[i].value;
        }
        CHECK(found, "show stats lacks %s %" PRIu64, rows[i].key, rows[i].value);
    }
    ctl_out_free(&o);

    ctl_out_init(&o, 1 << 20, true);
    counters_ctl(rows, &o);
    CHECK(o.buf && o.buf[0] == '{' && !strcmp(o.buf + o.len - 2, "}\n"), "one JSON object");
    size_t members = 0;
    for (const char *p = o.buf; p && (p = strchr(p, ':')); p++)
        members++;
    CHECK_INT(members, COUNTERS_COUNT);
    for (size_t i = 0; i < COUNTERS_COUNT; i++) {
        snprintf(want, sizeof(want), "\"%s\":%" PRIu64, rows[i].key, rows[i].value);
        const char *at = o.buf ? strstr(o.buf, want) : NULL;
        CHECK(at && (at[strlen(want)] == ',' || at[strlen(want)] == '}'), "JSON lacks %s", want);
    }
    ctl_out_free(&o);
}

/* /metrics: each family announced once (HELP then TYPE) right before its
 * samples, and a sample per row with the row's value. */
static void test_prometheus(void)
{
    fill(5, 7);
    struct evbuffer *b = evbuffer_new();
    counters_prometheus(rows, b);
    size_t len = evbuffer_get_length(b);
    char *text = calloc(1, len + 1);
    evbuffer_remove(b, text, len);
    evbuffer_free(b);
    CHECK(len && text[len - 1] == '\n', "ends with a newline");

    bool seen[COUNTERS_COUNT] = {false};
    char family[128] = "", type[16] = "";
    size_t families = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char name[128], kind[16];
        if (!strncmp(line, "# HELP ", 7)) {
            CHECK(sscanf(line + 7, "%127s", name) == 1 && strlen(line) > 8 + strlen(name), "HELP '%s'", line);
            CHECK(strcmp(name, family), "%s announced twice in a row", name);
            snprintf(family, sizeof(family), "%s", name);
            type[0] = '\0';
            families++;
            continue;
        }
        if (!strncmp(line, "# TYPE ", 7)) {
            CHECK(sscanf(line + 7, "%127s %15s", name, kind) == 2 && !strcmp(name, family) && !type[0],
                  "TYPE '%s' not right after its HELP", line);
            snprintf(type, sizeof(type), "%s", kind);
            size_t n = strlen(family);
            bool total = n > 6 && !strcmp(family + n - 6, "_total");
            CHECK(total == !strcmp(type, "counter"), "%s: counters and only counters end in _total", family);
            CHECK(!strcmp(type, "counter") || !strcmp(type, "gauge"), "type %s", type);
            continue;
        }
        const char *sp = strrchr(line, ' ');
        if (!CHECK(sp && type[0], "sample '%s' outside a family", line))
            continue;
        size_t fl = strlen(family);
        CHECK(!strncmp(line, family, fl) && (line[fl] == ' ' || line[fl] == '{'), "%s not in %s", line, family);
        bool found = false;
        for (size_t i = 0; i < COUNTERS_COUNT && !found; i++) {
            char want[200];
            snprintf(want, sizeof(want), "dundid_%s%s%s%s%s %" PRIu64, rows[i].metric, rows[i].gauge ? "" : "_total",
                     rows[i].label ? "{" : "", rows[i].label ? rows[i].label : "", rows[i].label ? "}" : "",
                     rows[i].value);
            if (!strcmp(line, want)) {
                found = true;
                CHECK(!seen[i], "%s twice", line);
                seen[i] = true;
            }
        }
        CHECK(found, "sample '%s' is no row", line);
    }
    for (size_t i = 0; i < COUNTERS_COUNT; i++)
        CHECK(seen[i], "/metrics lacks %s (dundid_%s)", rows[i].key, rows[i].metric);
    /* one family per distinct metric */
    size_t distinct = 0;
    for (size_t i = 0; i < COUNTERS_COUNT; i++) {
        size_t k = 0;
        while (strcmp(rows[k].metric, rows[i].metric))
            k++;
        distinct += k == i;
    }
    CHECK_INT(families, distinct);
    free(text);
}

/* dundid(8) describes every key of the stats line. */
static void test_man_page(const char *datadir)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/../../man/dundid.8", datadir);
    FILE *f = fopen(path, "r");
    if (!CHECK(f, "cannot open %s", path))
        return;
    static char man[256 * 1024];
    size_t n = fread(man, 1, sizeof(man) - 1, f);
    man[n] = '\0';
    fclose(f);
    for (size_t i = 0; i < COUNTERS_COUNT; i++) {
        char want[80];
        snprintf(want, sizeof(want), "%s=", rows[i].key);
        bool found = false;
        for (const char *p = man; (p = strstr(p, want)) && !found; p++)
            found = p == man || !(islower((unsigned char)p[-1]) || p[-1] == '_');
        CHECK(found, "man/dundid.8 does not list %s", want);
    }
}

int main(int argc, char **argv)
{
    test_lists();
    test_old_names();
    test_line();
    test_ctl();
    test_prometheus();
    fill(1, 1);
    test_man_page(argc > 1 ? argv[1] : "test/data");
    return test_summary("test_counters");
}
