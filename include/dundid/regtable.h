/* The registration table: where every phone is registered, keyed by
 * extension (the AOR user part). Each extension holds its bindings (contact,
 * registrar, source, expiry, user agent) and, for each, the feeds that vouch
 * for it and when each last confirmed it. Pure: no I/O, no clock; every call
 * that needs the time takes it (wall-clock seconds since the epoch).
 *
 * The feeds are not equal. The wire (capture, HEP) sees the registrar's own
 * 2xx as it happens: its word adds, refreshes and removes a binding whatever
 * feed had it. RealTime rows and the state file are records written earlier:
 * they add and refresh, but taking one back only withdraws that feed's
 * voucher, and a record of a registration the wire saw leave (departures.h)
 * does not bring it back. */
#ifndef DUNDID_REGTABLE_H
#define DUNDID_REGTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dundid/departures.h"

#define REG_EXT_MAX 80        /* extension (AOR user part) */
#define REG_CONTACT_MAX 255   /* contact URI */
#define REG_REGISTRAR_MAX 63  /* registrar address or name, as dialled */
#define REG_SOURCE_MAX 63     /* the phone's source address, "IP:PORT" */
#define REG_UA_MAX 63         /* user agent (longer ones are cut) */
#define REG_DEFAULT_MAX_BINDINGS 8
#define REG_MAX_BINDINGS_LIMIT 64 /* per extension, the most max_bindings may be */

enum reg_feed { REG_FEED_PCAP, REG_FEED_HEP, REG_FEED_REALTIME, REG_FEED_STATE, REG_FEED_COUNT };

/* The feeds that see the registrar's answer itself. */
static inline bool reg_feed_is_wire(enum reg_feed f) { return f == REG_FEED_PCAP || f == REG_FEED_HEP; }
const char *reg_feed_name(enum reg_feed f);
/* Parses a name given by reg_feed_name; -1 when unknown. */
int reg_feed_parse(const char *name);

/* A binding as callers see it (strings point into the table: valid until the
 * next change of the table). */
struct reg_binding {
    const char *ext;
    const char *contact;   /* whole URI, e.g. sip:1002@10.10.10.63:5060 */
    const char *registrar; /* e.g. 10.0.0.5 */
    const char *source;    /* e.g. 10.10.10.63:5060, may be "" */
    const char *user_agent;
    int64_t expires; /* epoch seconds */
    int64_t updated; /* epoch seconds of the last change or refresh */
    enum reg_feed feed;          /* the feed that confirmed it last */
    unsigned feeds;              /* 1 << feed for every feed that vouches for it */
    int64_t seen[REG_FEED_COUNT]; /* when each of those last confirmed it */
};

static inline bool reg_binding_vouched(const struct reg_binding *b, enum reg_feed f) { return b->feeds >> f & 1u; }

/* One REGISTER outcome to apply. expires <= now removes the binding. */
struct reg_update {
    const char *ext;
    const char *contact;
    const char *registrar;
    const char *source;     /* NULL = "" */
    const char *user_agent; /* NULL = "" */
    int64_t expires;
    enum reg_feed feed;
};

struct regtable_stats {
    uint64_t extensions, bindings;
    uint64_t by_feed[REG_FEED_COUNT]; /* live bindings per feed */
    uint64_t added, refreshed, removed, expired;
    uint64_t moved;         /* replaced a binding of the same contact at another registrar */
    uint64_t dropped_cap;   /* oldest binding dropped: max_bindings reached */
    uint64_t rejected;      /* update with an empty or oversize field */
    uint64_t refused;       /* a record feed's update of a registration the wire saw leave */
    uint64_t departures;    /* departures kept (departures.h) */
    uint64_t departures_dropped; /* dropped at REG_DEPARTURES_MAX */
    uint64_t memory_bytes;  /* bytes allocated by the table itself */
};

struct regtable;

/* Called after the bindings of ext changed (added, moved, removed, expired;
 * not on a plain refresh of the same binding). */
typedef void (*regtable_change_fn)(void *ctx, const char *ext);

struct regtable *regtable_new(unsigned max_bindings_per_ext);
void regtable_free(struct regtable *rt);
/* Drop every binding and zero the counters, without telling the listener:
 * the table is as regtable_new left it, with the same settings and hash
 * seed (cheaper than free and new: no 4 MB prefix table to allocate). */
void regtable_clear(struct regtable *rt);
/* Size the hash for about n extensions at once (loading a state file). */
void regtable_reserve(struct regtable *rt, size_t n);
void regtable_set_max_bindings(struct regtable *rt, unsigned max_bindings_per_ext);
/* Two registrars may hold the same contact at once (phones with a backup
 * registration). Off: a 2xx at another registrar moves the binding. */
void regtable_set_keep_other_registrars(struct regtable *rt, bool keep);
void regtable_set_listener(struct regtable *rt, regtable_change_fn fn, void *ctx);

#define REG_APPLY_REFUSED 1 /* regtable_apply: a departure refused it */

/* Add, refresh, move or remove one binding. A binding is identified by
 * (ext, contact, registrar). expires > now: the feed vouches for it until
 * then (the binding's expiry is the latest update's). expires <= now: from a
 * wire feed the binding goes, whatever vouched for it, and its departure is
 * recorded; from a record feed only that feed's voucher goes (the binding with
 * it when no other feed vouches for it). Returns 0, REG_APPLY_REFUSED for a
 * record feed's binding the wire saw leave (a departure, not newer), or -1
 * for a rejected update (empty or oversize ext/contact/registrar) or memory
 * failure. */
int regtable_apply(struct regtable *rt, const struct reg_update *u, int64_t now);
/* The wire saw registrar answer that it holds nothing for ext, and the table
 * had nothing there either: record a departure of unknown contact (unless
 * one is already recorded there). */
void regtable_note_departure(struct regtable *rt, const char *ext, const char *registrar, int64_t now);
/* Restore a departure (the state file). Returns 0 or -1. */
int regtable_add_departure(struct regtable *rt, const struct reg_departure *d);
void regtable_foreach_departure(const struct regtable *rt, bool (*fn)(void *ctx, const struct reg_departure *d),
                                void *ctx);

/* Live bindings of ext (expires > now), newest first, at most max. */
size_t regtable_get(const struct regtable *rt, const char *ext, int64_t now, struct reg_binding *out, size_t max);
bool regtable_has(const struct regtable *rt, const char *ext, int64_t now);
/* Might a longer extension starting with prefix be in the table? Never a
 * false "no"; a false "yes" is possible (hashed counters), which only makes
 * DONT_ASK hints less eager. */
bool regtable_may_extend(const struct regtable *rt, const char *prefix);

/* Drop every binding with expires <= now (and departures past their until).
 * Returns how many bindings. */
size_t regtable_expire(struct regtable *rt, int64_t now);
/* Earliest expiry in the table, INT64_MAX when empty. */
int64_t regtable_next_expiry(const struct regtable *rt);

/* Every binding, in no particular order. Stop early by returning false. */
void regtable_foreach(const struct regtable *rt, bool (*fn)(void *ctx, const struct reg_binding *b), void *ctx);

/* A walk in bounded steps (a loop turn each): the bindings of at most
 * max_buckets hash buckets from *cursor (0 to begin). Returns true while
 * there is more (call again with the same cursor), false when the walk is
 * over (*cursor back to 0). fn returning false ends the step early; the next
 * step starts again at that bucket. Changes between steps are allowed: a
 * binding added or moved by a growing table may be missed or seen twice. */
bool regtable_walk(const struct regtable *rt, size_t *cursor, size_t max_buckets,
                   bool (*fn)(void *ctx, const struct reg_binding *b), void *ctx);

void regtable_get_stats(const struct regtable *rt, struct regtable_stats *out);

#endif
