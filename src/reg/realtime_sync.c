/* RealTime rows into the registration table, and what a pass did not see out of it. */
#include "dundid/realtime_sync.h"
#include "dundid/hash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SYNC_BATCH 256 /* stale bindings removed per table walk */

/* FNV-1a over ext, contact and registrar: the identity of a binding. */
static uint64_t binding_hash(const char *ext, const char *contact, const char *registrar)
{
    uint64_t h = FNV64_BASIS;
    const char *parts[3] = {ext, contact, registrar};
    for (int i = 0; i < 3; i++)
        h = fnv1a64_byte(fnv1a64_str(h, parts[i]), 0xff); /* separator: "ab"+"c" differs from "a"+"bc" */
    return h ? h : 1;
}

static bool probe(const uint64_t *v, size_t cap, uint64_t h)
{
    if (!cap)
        return false;
    for (size_t i = h & (cap - 1);; i = (i + 1) & (cap - 1)) {
        if (v[i] == h)
            return true;
        if (!v[i])
            return false;
    }
}

static bool seen_has(const struct rt_sync *y, uint64_t h)
{
    return probe(y->seen, y->seen_cap, h) || probe(y->old, y->old_cap, h);
}

static void insert(uint64_t *v, size_t cap, uint64_t h)
{
    size_t i = h & (cap - 1);
    while (v[i])
        i = (i + 1) & (cap - 1);
    v[i] = h;
}

/* Growing moves the old set over a few entries per insert, so no single row
 * pays for rehashing a million (a loop turn stays short). */
static void migrate(struct rt_sync *y, size_t slots)
{
    for (; y->old && slots--; y->old_pos++) {
        if (y->old_pos == y->old_cap) {
            free(y->old);
            y->old = NULL;
            y->old_cap = y->old_pos = 0;
            return;
        }
        uint64_t h = y->old[y->old_pos];
        if (h && !probe(y->seen, y->seen_cap, h))
            insert(y->seen, y->seen_cap, h);
    }
}

static void seen_put(struct rt_sync *y, uint64_t h)
{
    migrate(y, 64);
    if (seen_has(y, h))
        return;
    if (y->seen_n >= RT_SYNC_MAX_SEEN) {
        y->seen_overflow = true;
        return;
    }
    if ((y->seen_n + 1) * 2 > y->seen_cap) {
        migrate(y, SIZE_MAX); /* rare: only when the set doubled before the last move finished */
        size_t cap = y->seen_cap ? y->seen_cap * 2 : 1024;
        uint64_t *v = calloc(cap, sizeof(*v));
        if (!v) {
            y->seen_overflow = true; /* without the set, removing would be guessing */
            return;
        }
        y->old = y->seen;
        y->old_cap = y->seen_cap;
        y->old_pos = 0;
        y->seen = v;
        y->seen_cap = cap;
    }
    insert(y->seen, y->seen_cap, h);
    y->seen_n++;
}

void rt_sync_init(struct rt_sync *y) { memset(y, 0, sizeof(*y)); }

void rt_sync_free(struct rt_sync *y)
{
    free(y->seen);
    free(y->old);
    memset(y, 0, sizeof(*y));
}

void rt_sync_reset(struct rt_sync *y) { y->hwm = 0; }

void rt_sync_begin(struct rt_sync *y, enum rt_pass pass, const char *key)
{
    snprintf(y->key, sizeof(y->key), "%s", key ? key : "");
    /* A fresh set sized for the last pass (calloc of a big block is pages
     * zeroed on first touch, not a memset of tens of MB in one turn). */
    if (y->pass == RT_PASS_FULL)
        y->full_n = y->seen_n;
    size_t cap = 1024, want = pass == RT_PASS_FULL ? y->full_n * 5 / 2 : 0;
    while (cap < want && cap < (size_t)RT_SYNC_MAX_SEEN * 4)
        cap *= 2;
    free(y->seen);
    free(y->old);
    y->old = NULL;
    y->old_cap = y->old_pos = 0;
    y->seen = calloc(cap, sizeof(*y->seen));
    y->seen_cap = y->seen ? cap : 0;
    y->seen_n = 0;
    y->seen_overflow = false;
    y->cursor = 0;
    y->pass = pass;
}

/* A binding to take out, copied: the table's strings change under removals. */
struct stale {
    char ext[REG_EXT_MAX + 1], contact[REG_CONTACT_MAX + 1], registrar[REG_REGISTRAR_MAX + 1];
};

static size_t remove_stale(struct regtable *t, const struct stale *v, size_t n, int64_t now)
{
    size_t removed = 0;
    for (size_t i = 0; i < n; i++) {
        struct reg_update u = {.ext = v[i].ext,
                               .contact = v[i].contact,
                               .registrar = v[i].registrar,
                               .expires = 0,
                               .feed = REG_FEED_REALTIME};
        if (regtable_apply(t, &u, now) == 0)
            removed++;
    }
    return removed;
}

static void stale_copy(struct stale *s, const struct reg_binding *b)
{
    snprintf(s->ext, sizeof(s->ext), "%s", b->ext);
    snprintf(s->contact, sizeof(s->contact), "%s", b->contact);
    snprintf(s->registrar, sizeof(s->registrar), "%s", b->registrar);
}

/* chan_sip keeps one contact per peer: the row replaces what the feed said before. */
static void drop_other_contacts(struct regtable *t, const char *ext, const char *contact, const char *registrar,
                                int64_t now)
{
    struct reg_binding b[REG_DEFAULT_MAX_BINDINGS * 4];
    struct stale v[REG_DEFAULT_MAX_BINDINGS * 4];
    size_t n = regtable_get(t, ext, now, b, sizeof(b) / sizeof(b[0])), k = 0;
    for (size_t i = 0; i < n; i++)
        if (reg_binding_vouched(&b[i], REG_FEED_REALTIME) &&
            (strcmp(b[i].contact, contact) || strcmp(b[i].registrar, registrar)))
            stale_copy(&v[k++], &b[i]);
    remove_stale(t, v, k, now);
}

int rt_sync_row(struct rt_sync *y, struct regtable *t, const struct realtime_conf *rc, enum rt_schema schema,
                const struct rt_row *r, int64_t now)
{
    if (y->pass != RT_PASS_KEY && r->expires > y->hwm)
        y->hwm = r->expires;
    if (r->expires <= now || !r->contact[0])
        return RT_SYNC_NOT_LIVE;
    const char *registrar = realtime_conf_registrar_for(rc, r->regserver);
    if (!registrar)
        return RT_SYNC_NO_REGISTRAR;
    if (schema == RT_SCHEMA_CHAN_SIP)
        drop_other_contacts(t, r->ext, r->contact, registrar, now);
    struct reg_update u = {.ext = r->ext,
                           .contact = r->contact,
                           .registrar = registrar,
                           .source = r->source,
                           .user_agent = r->user_agent,
                           .expires = r->expires,
                           .feed = REG_FEED_REALTIME};
    int applied = regtable_apply(t, &u, now);
    if (applied < 0)
        return RT_SYNC_REJECTED;
    if (applied == REG_APPLY_REFUSED)
        return RT_SYNC_DEPARTED;
    if (y->pass != RT_PASS_INCR)
        seen_put(y, binding_hash(r->ext, r->contact, registrar));
    return RT_SYNC_APPLIED;
}

struct collect {
    const struct rt_sync *y;
    struct stale *v;
    size_t n, cap;
    bool more; /* stopped early: walk again */
};

static bool collect_unseen(void *ctx, const struct reg_binding *b)
{
    struct collect *c = ctx;
    if (!reg_binding_vouched(b, REG_FEED_REALTIME) || seen_has(c->y, binding_hash(b->ext, b->contact, b->registrar)))
        return true;
    if (c->n == c->cap) {
        c->more = true;
        return false;
    }
    stale_copy(&c->v[c->n++], b);
    return true;
}

bool rt_sync_end_step(struct rt_sync *y, struct regtable *t, int64_t now, size_t max_buckets, size_t *removed)
{
    if (y->pass == RT_PASS_INCR || y->seen_overflow)
        return false;
    struct stale *v = malloc(SYNC_BATCH * sizeof(*v));
    if (!v)
        return false;
    bool more = false;
    if (y->pass == RT_PASS_KEY) {
        struct reg_binding b[SYNC_BATCH];
        size_t n = regtable_get(t, y->key, now, b, SYNC_BATCH), k = 0;
        for (size_t i = 0; i < n; i++)
            if (reg_binding_vouched(&b[i], REG_FEED_REALTIME) &&
                !seen_has(y, binding_hash(b[i].ext, b[i].contact, b[i].registrar)))
                stale_copy(&v[k++], &b[i]);
        *removed += remove_stale(t, v, k, now);
    } else {
        /* Removing while walking is not allowed: collect a batch, remove, go on from that bucket. */
        struct collect c = {y, v, 0, SYNC_BATCH, false};
        more = regtable_walk(t, &y->cursor, max_buckets, collect_unseen, &c);
        *removed += remove_stale(t, v, c.n, now);
    }
    free(v);
    return more;
}

size_t rt_sync_end(struct rt_sync *y, struct regtable *t, int64_t now)
{
    size_t removed = 0;
    y->cursor = 0;
    while (rt_sync_end_step(y, t, now, SIZE_MAX, &removed))
        ;
    return removed;
}

static bool collect_all(void *ctx, const struct reg_binding *b)
{
    struct collect *c = ctx;
    if (!reg_binding_vouched(b, REG_FEED_REALTIME))
        return true;
    if (c->n == c->cap) {
        c->more = true;
        return false;
    }
    stale_copy(&c->v[c->n++], b);
    return true;
}

size_t rt_sync_remove_all(struct regtable *t, int64_t now)
{
    size_t removed = 0;
    struct stale *v = malloc(SYNC_BATCH * sizeof(*v));
    if (!v)
        return 0;
    for (unsigned rounds = 0; rounds < 100000; rounds++) {
        struct collect c = {NULL, v, 0, SYNC_BATCH, false};
        regtable_foreach(t, collect_all, &c);
        removed += remove_stale(t, v, c.n, now);
        if (!c.more)
            break;
    }
    free(v);
    return removed;
}

int64_t rt_sync_incr_after(const struct rt_sync *y, int64_t now)
{
    /* Rows at the mark itself again (written in the same second as the
     * last one seen): a plain refresh when nothing changed. */
    int64_t after = y->hwm - 2;
    return after > now ? after : now;
}

struct expiring {
    int64_t now, before;
    char (*out)[REG_EXT_MAX + 1];
    size_t n, max;
};

static bool collect_expiring(void *ctx, const struct reg_binding *b)
{
    struct expiring *e = ctx;
    if (!reg_binding_vouched(b, REG_FEED_REALTIME) || b->expires <= e->now || b->expires >= e->before)
        return true;
    for (size_t i = 0; i < e->n; i++)
        if (!strcmp(e->out[i], b->ext))
            return true;
    snprintf(e->out[e->n++], REG_EXT_MAX + 1, "%s", b->ext);
    return e->n < e->max;
}

size_t rt_sync_expiring(const struct regtable *t, int64_t now, int64_t before, char (*out)[REG_EXT_MAX + 1],
                        size_t max)
{
    struct expiring e = {now, before, out, 0, max};
    if (max)
        regtable_foreach(t, collect_expiring, &e);
    return e.n;
}

bool rt_sync_expiring_step(const struct regtable *t, int64_t now, int64_t before, size_t *cursor, size_t max_buckets,
                           char (*out)[REG_EXT_MAX + 1], size_t *n, size_t max)
{
    if (*n >= max) {
        *cursor = 0;
        return false;
    }
    struct expiring e = {now, before, out, *n, max};
    bool more = regtable_walk(t, cursor, max_buckets, collect_expiring, &e);
    *n = e.n;
    if (more && e.n >= max) { /* full: this walk is over */
        *cursor = 0;
        more = false;
    }
    return more;
}
