/* libFuzzer target: REGISTER/2xx matching into a registration table.
 *
 * The input is a mode byte (bit 0: keep_other_registrars), then a sequence
 * of messages separated by the 4 bytes "\0MSG". Each starts with a control
 * byte: bits 0-2 pick the hop (the same eight as
 * test/unit/test_sipfeed.c: a phone and two registrars, a NATed phone, an
 * IPv6 pair, each way), bits 3-7 the seconds since the previous message
 * (when time passes, pending REGISTERs and bindings expire); messages 2-3,
 * 6-7, ... come from the HEP feed, the others from pcap. The sequence
 * goes into a table of at most 2 bindings per extension and a matcher of at
 * most 4 pending REGISTERs; the invariants of both are checked after every
 * message. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dundid/regtable.h"
#include "dundid/sipfeed.h"

#define T0 1700000000
#define MAX_BINDINGS 2
#define MAX_PENDING 4

static const struct sip_hop hops[8] = {
    {.src = "10.10.10.63", .dst = "10.0.0.5", .sport = 5060, .dport = 5060},
    {.src = "10.0.0.5", .dst = "10.10.10.63", .sport = 5060, .dport = 5060},
    {.src = "10.10.10.63", .dst = "10.0.0.6", .sport = 5060, .dport = 5060},
    {.src = "10.0.0.6", .dst = "10.10.10.63", .sport = 5060, .dport = 5060},
    {.src = "198.51.100.7", .dst = "10.0.0.5", .sport = 40123, .dport = 5060},
    {.src = "10.0.0.5", .dst = "198.51.100.7", .sport = 5060, .dport = 40123},
    {.src = "2001:db8::63", .dst = "2001:db8::5", .sport = 5062, .dport = 5060},
    {.src = "2001:db8::5", .dst = "2001:db8::63", .sport = 5060, .dport = 5062},
};

struct walk {
    const struct regtable *rt;
    int64_t now;
    uint64_t n, by_feed[REG_FEED_COUNT];
    int64_t min_expires;
};

static void field(const char *s, size_t max, bool may_be_empty)
{
    size_t n = strlen(s);
    if (n > max || (!n && !may_be_empty))
        abort();
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            abort();
}

static bool walk_fn(void *ctx, const struct reg_binding *b)
{
    struct walk *w = ctx;
    w->n++;
    if ((unsigned)b->feed >= REG_FEED_COUNT || !reg_binding_vouched(b, b->feed) || b->feeds >> REG_FEED_COUNT)
        abort();
    for (int f = 0; f < REG_FEED_COUNT; f++)
        w->by_feed[f] += reg_binding_vouched(b, (enum reg_feed)f);
    if (b->expires < w->min_expires)
        w->min_expires = b->expires;
    field(b->ext, REG_EXT_MAX, false);
    field(b->contact, REG_CONTACT_MAX, false);
    field(b->registrar, REG_REGISTRAR_MAX, false);
    field(b->source, REG_SOURCE_MAX, true);
    field(b->user_agent, REG_UA_MAX, true);
    /* the cap holds, and no extension has the same binding twice */
    struct reg_binding all[REG_MAX_BINDINGS_LIMIT];
    size_t n = regtable_get(w->rt, b->ext, INT64_MIN, all, REG_MAX_BINDINGS_LIMIT);
    if (n == 0 || n > MAX_BINDINGS)
        abort();
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (!strcmp(all[i].contact, all[j].contact) && !strcmp(all[i].registrar, all[j].registrar))
                abort();
    return true;
}

static void check(const struct regtable *rt, const struct sipfeed *f, int64_t now, uint64_t offered,
                  const struct sipfeed_stats *base)
{
    /* the walk (most of the check's cost) only when a counter moved: a
     * message that changed nothing must leave the counters as they were */
    static struct regtable_stats walked;
    struct regtable_stats st;
    regtable_get_stats(rt, &st);
    if (memcmp(&st, &walked, sizeof(st))) {
        struct walk w = {.rt = rt, .now = now, .min_expires = INT64_MAX};
        regtable_foreach(rt, walk_fn, &w);
        if (st.bindings != w.n || st.extensions > st.bindings || (st.bindings && !st.extensions))
            abort();
        for (int i = 0; i < REG_FEED_COUNT; i++)
            if (st.by_feed[i] != w.by_feed[i])
                abort();
        if (regtable_next_expiry(rt) != w.min_expires)
            abort();
        walked = st;
    }
    if (st.added - st.removed - st.expired - st.moved - st.dropped_cap != st.bindings)
        abort();
    struct sipfeed_stats fs;
    sipfeed_get_stats(f, &fs);
    uint64_t sorted = fs.not_register + fs.malformed + fs.requests + fs.provisional + fs.refused + fs.committed +
                      fs.unmatched + fs.not_bound;
    uint64_t sorted0 = base->not_register + base->malformed + base->requests + base->provisional + base->refused +
                       base->committed + base->unmatched + base->not_bound;
    if (fs.messages - base->messages != offered || sipfeed_pending(f) > MAX_PENDING ||
        sorted - sorted0 != offered)
        abort();
}

/* One table and one matcher for the whole run, emptied after each input:
 * a new table allocates and clears 4 MB of prefix counters and a new
 * matcher 32 KB of buckets, which cost more than the messages. (Emptied
 * before returning, so that libFuzzer sees no allocation outlive its input
 * and does not rerun it looking for a leak.) */
static struct regtable *table;
static struct sipfeed *matcher;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size)
        return 0;
    if ((!table && !(table = regtable_new(MAX_BINDINGS))) || (!matcher && !(matcher = sipfeed_new(MAX_PENDING))))
        abort();
    struct regtable *rt = table;
    struct sipfeed *f = matcher;
    struct sipfeed_stats base;
    sipfeed_get_stats(f, &base);
    regtable_set_keep_other_registrars(rt, data[0] & 1);
    int64_t now = T0;
    uint64_t offered = 0;
    size_t pos = 1;
    while (pos < size) {
        const uint8_t *end = memmem(data + pos, size - pos, "\0MSG", 4);
        size_t chunk = end ? (size_t)(end - (data + pos)) : size - pos;
        if (chunk) {
            uint8_t ctl = data[pos];
            unsigned dt = ctl >> 3;
            now += dt;
            if (dt) {
                sipfeed_expire(f, now);
                regtable_expire(rt, now);
                if (regtable_next_expiry(rt) <= now)
                    abort();
            }
            /* an exact-size copy so ASan catches any read past the message */
            size_t len = chunk - 1;
            uint8_t *msg = malloc(len ? len : 1);
            if (!msg)
                abort();
            if (len)
                memcpy(msg, data + pos + 1, len);
            /* two feeds: a 2xx only replaces what its own feed said */
            enum reg_feed feed = offered & 2 ? REG_FEED_HEP : REG_FEED_PCAP;
            sipfeed_input(f, rt, feed, msg, len, &hops[ctl & 7], now, 3600);
            free(msg);
            offered++;
            check(rt, f, now, offered, &base);
        }
        pos += chunk + (end ? 4 : 0);
    }
    sipfeed_expire(f, INT64_MAX); /* every pending REGISTER is dropped */
    if (sipfeed_pending(f))
        abort();
    regtable_clear(rt);
    return 0;
}
