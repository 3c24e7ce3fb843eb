/* The registration table: a seeded hash of extensions, each with a short list
 * of bindings, and one min-heap of every binding by expiry. Each binding is a
 * single allocation holding its strings, so a million of them stay small.
 * What the wire saw leave is kept apart (departures.c). */
#include "dundid/regtable.h"
#include "dundid/hash.h"
#include "dundid/heap.h"

#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

struct bind {
    struct bind *next; /* the extension's list, newest first */
    struct ext *owner;
    struct heap_node exp; /* keyed by the expiry */
    int64_t updated;
    uint32_t seen[REG_FEED_COUNT]; /* epoch seconds each feed last confirmed it (saturated) */
    uint8_t feed;  /* the last to confirm it */
    uint8_t feeds; /* 1 << feed for each feed that vouches for it */
    uint16_t off_registrar, off_source, off_ua; /* into strs, after the contact */
    char strs[];
};

struct ext {
    struct ext *next; /* hash chain */
    struct bind *binds;
    uint16_t nbinds;
    char name[];
};

#define PREFIX_SLOTS (1u << 20) /* counters of extension prefixes: 4 MB */
#define INITIAL_BUCKETS 1024

struct regtable {
    struct ext **buckets;
    /* While the hash grows, the old buckets are moved over a few at a time
     * (MOVE_PER_CHANGE per change), so no single change rehashes a million
     * extensions: buckets old[moved..nold) still hold their chains. */
    struct ext **old;
    size_t nold, moved;
    uint32_t *prefixes; /* per hashed proper prefix: how many extensions have it */
    size_t nbuckets, nexts;
    struct heap heap; /* every binding by expiry */
    uint64_t seed;
    unsigned max_bindings;
    bool keep_other_registrars;
    regtable_change_fn listener;
    void *listener_ctx;
    struct departures *gone;
    struct regtable_stats st;
};

static const char *const feed_names[REG_FEED_COUNT] = {"pcap", "hep", "realtime", "state"};

const char *reg_feed_name(enum reg_feed f) { return (unsigned)f < REG_FEED_COUNT ? feed_names[f] : "?"; }

int reg_feed_parse(const char *name)
{
    for (int i = 0; i < REG_FEED_COUNT; i++)
        if (!strcmp(name, feed_names[i]))
            return i;
    return -1;
}

/* ---- hashing: keyed, since extensions come from the network ---- */

static uint64_t hash_ext(const struct regtable *rt, const char *s) { return hash_keyed_str(rt->seed, s); }

static uint32_t prefix_slot(uint64_t keyed_hash) { return (uint32_t)(keyed_hash & (PREFIX_SLOTS - 1)); }

/* Count every proper prefix of a new (+1) or removed (-1) extension, the
 * hash of each prefix carried on to the next. */
static void count_prefixes(struct regtable *rt, const char *name, int delta)
{
    uint64_t h = hash_keyed_start(rt->seed);
    for (const char *p = name; *p && p[1]; p++) {
        h = fnv1a64_byte(h, (uint8_t)*p);
        rt->prefixes[prefix_slot(hash_mix64(h))] += (uint32_t)delta;
    }
}

#define MOVE_PER_CHANGE 8 /* old buckets moved per change while the hash grows */

/* Where name is, or the end of the chain it would go to (always in the new buckets). */
static struct ext **ext_slot(const struct regtable *rt, const char *name)
{
    uint64_t h = hash_ext(rt, name);
    struct ext **pp;
    if (rt->old && (h & (rt->nold - 1)) >= rt->moved) {
        for (pp = &rt->old[h & (rt->nold - 1)]; *pp; pp = &(*pp)->next)
            if (!strcmp((*pp)->name, name))
                return pp;
    }
    pp = &rt->buckets[h & (rt->nbuckets - 1)];
    while (*pp && strcmp((*pp)->name, name))
        pp = &(*pp)->next;
    return pp;
}

static void drop_old(struct regtable *rt)
{
    free(rt->old);
    rt->st.memory_bytes -= rt->nold * sizeof(*rt->old);
    rt->old = NULL;
    rt->nold = rt->moved = 0;
}

/* Move up to k old buckets into the new ones. */
static void move_buckets(struct regtable *rt, size_t k)
{
    for (; rt->old && k--; rt->moved++) {
        if (rt->moved == rt->nold) {
            drop_old(rt);
            return;
        }
        for (struct ext *e = rt->old[rt->moved], *next; e; e = next) {
            next = e->next;
            size_t h = hash_ext(rt, e->name) & (rt->nbuckets - 1);
            e->next = rt->buckets[h];
            rt->buckets[h] = e;
        }
        rt->old[rt->moved] = NULL;
    }
}

static int resize_buckets(struct regtable *rt, size_t n)
{
    struct ext **b = calloc(n, sizeof(*b));
    if (!b)
        return -1;
    move_buckets(rt, SIZE_MAX); /* a growth before the last one finished (rare) */
    rt->old = rt->buckets;
    rt->nold = rt->nbuckets;
    rt->moved = 0;
    rt->st.memory_bytes += n * sizeof(*b);
    rt->buckets = b;
    rt->nbuckets = n;
    return 0;
}

/* ---- bindings ---- */

static int64_t b_expires(const struct bind *b) { return heap_i64_key(b->exp.key); }
static struct bind *b_of(struct heap_node *x) { return heap_entry(x, struct bind, exp); }

/* Grows the heap with the table's byte count in step. */
static int heap_add(struct regtable *rt, struct bind *b, int64_t expires)
{
    size_t cap = rt->heap.cap;
    if (heap_push(&rt->heap, &b->exp, heap_key_i64(expires)) < 0)
        return -1;
    rt->st.memory_bytes += (rt->heap.cap - cap) * sizeof(*rt->heap.v);
    return 0;
}

static const char *b_contact(const struct bind *b) { return b->strs; }
static const char *b_registrar(const struct bind *b) { return b->strs + b->off_registrar; }
static const char *b_source(const struct bind *b) { return b->strs + b->off_source; }
static const char *b_ua(const struct bind *b) { return b->strs + b->off_ua; }

static size_t bind_bytes(const struct bind *b) { return sizeof(*b) + b->off_ua + strlen(b_ua(b)) + 1; }
static size_t ext_bytes(const struct ext *e) { return sizeof(*e) + strlen(e->name) + 1; }

static void fill_binding(const struct bind *b, struct reg_binding *out)
{
    out->ext = b->owner->name;
    out->contact = b_contact(b);
    out->registrar = b_registrar(b);
    out->source = b_source(b);
    out->user_agent = b_ua(b);
    out->expires = b_expires(b);
    out->updated = b->updated;
    out->feed = (enum reg_feed)b->feed;
    out->feeds = b->feeds;
    for (int f = 0; f < REG_FEED_COUNT; f++)
        out->seen[f] = b->seen[f];
}

static uint32_t sat_u32(int64_t t) { return t <= 0 ? 0 : t >= UINT32_MAX ? UINT32_MAX : (uint32_t)t; }

/* Feed f confirms b now; the per-feed counts follow the vouchers. */
static void vouch(struct regtable *rt, struct bind *b, enum reg_feed f, int64_t now)
{
    if (!(b->feeds >> f & 1u))
        rt->st.by_feed[f]++;
    b->feeds |= (uint8_t)(1u << f);
    b->seen[f] = sat_u32(now);
    b->feed = (uint8_t)f;
    b->updated = now;
}

/* An emptied table gives back what it grew (the heap, a bigger hash), so
 * that memory_bytes returns to what regtable_new() started with. */
static void release_if_empty(struct regtable *rt)
{
    if (rt->heap.n || rt->nexts)
        return;
    rt->st.memory_bytes -= rt->heap.cap * sizeof(*rt->heap.v);
    heap_free(&rt->heap);
    drop_old(rt);
    struct ext **b;
    if (rt->nbuckets > INITIAL_BUCKETS && (b = calloc(INITIAL_BUCKETS, sizeof(*b)))) {
        rt->st.memory_bytes -= (rt->nbuckets - INITIAL_BUCKETS) * sizeof(*b);
        free(rt->buckets);
        rt->buckets = b;
        rt->nbuckets = INITIAL_BUCKETS;
    }
}

/* Unlink b from its extension and the heap and free it; frees the extension
 * too when it has no binding left. */
static void bind_drop(struct regtable *rt, struct bind *b)
{
    struct ext *e = b->owner;
    struct bind **pp = &e->binds;
    while (*pp != b)
        pp = &(*pp)->next;
    *pp = b->next;
    e->nbinds--;
    heap_remove(&rt->heap, &b->exp);
    rt->st.bindings--;
    for (int f = 0; f < REG_FEED_COUNT; f++)
        rt->st.by_feed[f] -= b->feeds >> f & 1u;
    rt->st.memory_bytes -= bind_bytes(b);
    free(b);
    if (!e->nbinds) {
        struct ext **ep = ext_slot(rt, e->name);
        *ep = e->next;
        rt->nexts--;
        rt->st.extensions--;
        rt->st.memory_bytes -= ext_bytes(e);
        count_prefixes(rt, e->name, -1);
        free(e);
        release_if_empty(rt);
    }
}

/* Oversize or control characters make a field unusable (and would break the
 * state file); the user agent is informational and is cut and cleaned instead. */
static bool field_ok(const char *s, size_t max, bool may_be_empty)
{
    if (!s)
        return may_be_empty;
    size_t n = 0;
    for (; s[n]; n++)
        if ((unsigned char)s[n] < 0x20 || s[n] == 0x7f || n >= max)
            return false;
    return n > 0 || may_be_empty;
}

static struct bind *bind_new(const struct reg_update *u, const char *source, const char *ua)
{
    size_t lc = strlen(u->contact), lr = strlen(u->registrar), ls = strlen(source), lu = strnlen(ua, REG_UA_MAX);
    struct bind *b = malloc(sizeof(*b) + lc + lr + ls + lu + 4);
    if (!b)
        return NULL;
    memset(b, 0, sizeof(*b));
    b->off_registrar = (uint16_t)(lc + 1);
    b->off_source = (uint16_t)(b->off_registrar + lr + 1);
    b->off_ua = (uint16_t)(b->off_source + ls + 1);
    memcpy(b->strs, u->contact, lc + 1);
    memcpy(b->strs + b->off_registrar, u->registrar, lr + 1);
    memcpy(b->strs + b->off_source, source, ls + 1);
    char *dst = b->strs + b->off_ua;
    for (size_t i = 0; i < lu; i++) {
        unsigned char c = (unsigned char)ua[i];
        dst[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    dst[lu] = '\0';
    return b;
}

static size_t base_bytes(const struct regtable *rt)
{
    return sizeof(*rt) + rt->nbuckets * sizeof(*rt->buckets) + PREFIX_SLOTS * sizeof(*rt->prefixes);
}

struct regtable *regtable_new(unsigned max_bindings_per_ext)
{
    struct regtable *rt = calloc(1, sizeof(*rt));
    if (!rt)
        return NULL;
    heap_init(&rt->heap);
    rt->nbuckets = INITIAL_BUCKETS;
    rt->buckets = calloc(rt->nbuckets, sizeof(*rt->buckets));
    rt->prefixes = calloc(PREFIX_SLOTS, sizeof(*rt->prefixes));
    if (!rt->buckets || !rt->prefixes || RAND_bytes((unsigned char *)&rt->seed, sizeof(rt->seed)) != 1 ||
        !(rt->gone = departures_new(rt->seed ^ 0x9e3779b97f4a7c15ull))) {
        free(rt->buckets);
        free(rt->prefixes);
        free(rt);
        return NULL;
    }
    rt->st.memory_bytes = base_bytes(rt);
    regtable_set_max_bindings(rt, max_bindings_per_ext);
    return rt;
}

/* Free every extension and binding, leaving the buckets dangling. Every
 * binding is in the heap, so this is O(bindings), not O(buckets) (a small
 * table is mostly empty buckets). recount: take each extension off the
 * prefix counters, which brings them back to zero. */
static void free_all(struct regtable *rt, bool recount)
{
    for (size_t i = 0; i < rt->heap.n; i++) {
        struct bind *b = b_of(rt->heap.v[i]);
        struct ext *e = b->owner;
        free(b);
        if (--e->nbinds)
            continue;
        if (recount)
            count_prefixes(rt, e->name, -1);
        free(e);
    }
    rt->heap.n = 0; /* its nodes are gone: nothing to unmark */
    rt->nexts = 0;
}

void regtable_clear(struct regtable *rt)
{
    /* many extensions: zeroing all 4 MB at once is cheaper than one by one */
    bool many = rt->nexts >= 4096;
    if (many)
        memset(rt->prefixes, 0, PREFIX_SLOTS * sizeof(*rt->prefixes));
    free_all(rt, !many);
    memset(rt->buckets, 0, rt->nbuckets * sizeof(*rt->buckets));
    drop_old(rt);
    release_if_empty(rt);
    memset(&rt->st, 0, sizeof(rt->st));
    rt->st.memory_bytes = base_bytes(rt);
    departures_clear(rt->gone);
}

void regtable_free(struct regtable *rt)
{
    if (!rt)
        return;
    free_all(rt, false);
    heap_free(&rt->heap);
    departures_free(rt->gone);
    free(rt->old);
    free(rt->buckets);
    free(rt->prefixes);
    free(rt);
}

void regtable_reserve(struct regtable *rt, size_t n)
{
    size_t want = rt->nbuckets;
    while (want < n && want < ((size_t)1 << 26))
        want *= 2;
    if (want > rt->nbuckets && resize_buckets(rt, want) == 0) /* on failure the table just grows later */
        move_buckets(rt, SIZE_MAX);
}

void regtable_set_max_bindings(struct regtable *rt, unsigned max)
{
    rt->max_bindings = max ? (max > REG_MAX_BINDINGS_LIMIT ? REG_MAX_BINDINGS_LIMIT : max) : REG_DEFAULT_MAX_BINDINGS;
}

void regtable_set_keep_other_registrars(struct regtable *rt, bool keep) { rt->keep_other_registrars = keep; }

void regtable_set_listener(struct regtable *rt, regtable_change_fn fn, void *ctx)
{
    rt->listener = fn;
    rt->listener_ctx = ctx;
}

/* The extension's name may be freed by the change, so the listener gets a copy. */
static void notify(struct regtable *rt, const char *ext)
{
    if (rt->listener)
        rt->listener(rt->listener_ctx, ext);
}

static struct bind *find_bind(struct ext *e, const char *contact, const char *registrar)
{
    for (struct bind *b = e->binds; b; b = b->next)
        if (!strcmp(b_contact(b), contact) && !strcmp(b_registrar(b), registrar))
            return b;
    return NULL;
}

static struct bind *oldest(struct ext *e)
{
    struct bind *o = e->binds;
    for (struct bind *b = e->binds; b; b = b->next)
        if (b->updated <= o->updated)
            o = b;
    return o;
}

static void move_to_front(struct ext *e, struct bind *b)
{
    struct bind **pp = &e->binds;
    while (*pp != b)
        pp = &(*pp)->next;
    *pp = b->next;
    b->next = e->binds;
    e->binds = b;
}

/* Replace b (same identity) with a fresh copy carrying new source/UA strings. */
static struct bind *rebuild(struct regtable *rt, struct bind *b, const struct reg_update *u, const char *source,
                            const char *ua)
{
    struct bind *nb = bind_new(u, source, ua);
    if (!nb)
        return NULL;
    struct ext *e = b->owner;
    struct bind **pp = &e->binds;
    while (*pp != b)
        pp = &(*pp)->next;
    nb->next = b->next;
    *pp = nb;
    nb->owner = e;
    nb->updated = b->updated;
    nb->feed = b->feed;
    nb->feeds = b->feeds;
    memcpy(nb->seen, b->seen, sizeof(nb->seen));
    heap_replace(&rt->heap, &b->exp, &nb->exp);
    rt->st.memory_bytes += bind_bytes(nb) - bind_bytes(b);
    free(b);
    return nb;
}

/* The wire says the registrar no longer holds b: a record of that
 * registration says at most b's expiry. */
static void depart(struct regtable *rt, const struct bind *b, int64_t now)
{
    departures_add(rt->gone, b->owner->name, b_registrar(b), b_contact(b), b_expires(b) + REG_DEPARTURE_SLACK_S, now);
}

/* Take the binding away: all of it on the wire's word, else only the feed's
 * voucher (the binding with it when no other feed vouches for it). */
static void unregister(struct regtable *rt, struct bind *b, const struct reg_update *u, int64_t now, const char *name)
{
    if (!reg_feed_is_wire(u->feed)) {
        if (!(b->feeds >> u->feed & 1u))
            return;
        if (b->feeds != 1u << u->feed) {
            b->feeds &= (uint8_t) ~(1u << u->feed);
            b->seen[u->feed] = 0;
            rt->st.by_feed[u->feed]--;
            return;
        }
    } else {
        depart(rt, b, now);
    }
    bind_drop(rt, b);
    rt->st.removed++;
    notify(rt, name);
}

int regtable_apply(struct regtable *rt, const struct reg_update *u, int64_t now)
{
    const char *source = u->source ? u->source : "";
    const char *ua = u->user_agent ? u->user_agent : "";
    if (!field_ok(u->ext, REG_EXT_MAX, false) || !field_ok(u->contact, REG_CONTACT_MAX, false) ||
        !field_ok(u->registrar, REG_REGISTRAR_MAX, false) || !field_ok(source, REG_SOURCE_MAX, true) ||
        (unsigned)u->feed >= REG_FEED_COUNT) {
        rt->st.rejected++;
        return -1;
    }
    char name[REG_EXT_MAX + 1];
    strcpy(name, u->ext);
    move_buckets(rt, MOVE_PER_CHANGE);
    struct ext **ep = ext_slot(rt, name);
    struct ext *e = *ep;
    struct bind *b = e ? find_bind(e, u->contact, u->registrar) : NULL;
    bool wire = reg_feed_is_wire(u->feed);

    if (u->expires <= now) {
        if (b)
            unregister(rt, b, u, now, name);
        return 0;
    }
    if (wire) /* the registrar holds it again */
        departures_forget(rt->gone, name, u->registrar);
    if (b) { /* refresh */
        bool changed = strcmp(b_source(b), source) || strncmp(b_ua(b), ua, REG_UA_MAX);
        if (changed && !(b = rebuild(rt, b, u, source, ua)))
            return -1;
        vouch(rt, b, u->feed, now);
        heap_update(&rt->heap, &b->exp, heap_key_i64(u->expires));
        move_to_front(e, b);
        rt->st.refreshed++;
        return 0;
    }
    if (!wire) {
        enum departure_verdict v = departures_check(rt->gone, name, u->registrar, u->contact, u->expires);
        if (v == DEPARTURE_STALE) {
            rt->st.refused++;
            return REG_APPLY_REFUSED;
        }
    }

    if (!e) {
        if (rt->nexts >= rt->nbuckets && !rt->old && resize_buckets(rt, rt->nbuckets * 2) == 0)
            ep = ext_slot(rt, name);
        size_t ln = strlen(name);
        e = malloc(sizeof(*e) + ln + 1);
        if (!e)
            return -1;
        e->binds = NULL;
        e->nbinds = 0;
        memcpy(e->name, name, ln + 1);
        e->next = NULL;
        *ep = e;
        rt->nexts++;
        rt->st.extensions++;
        rt->st.memory_bytes += ext_bytes(e);
        count_prefixes(rt, name, +1);
    }
    struct bind *nb = bind_new(u, source, ua);
    if (!nb || heap_add(rt, nb, u->expires) < 0) {
        free(nb);
        if (!e->nbinds) {
            *ext_slot(rt, name) = e->next;
            rt->nexts--;
            rt->st.extensions--;
            rt->st.memory_bytes -= ext_bytes(e);
            count_prefixes(rt, name, -1);
            free(e);
        }
        return -1;
    }
    nb->owner = e;
    vouch(rt, nb, u->feed, now);
    nb->next = e->binds;
    e->binds = nb;
    e->nbinds++;
    rt->st.bindings++;
    rt->st.added++;
    rt->st.memory_bytes += bind_bytes(nb);

    /* The same contact at another registrar: the phone moved here. Dropped
     * after the add so the extension itself stays. On the wire's word the
     * old registrar's record of it is stale too. */
    if (!rt->keep_other_registrars)
        for (struct bind *o = nb->next, *on; o; o = on) {
            on = o->next;
            if (!strcmp(b_contact(o), u->contact)) {
                if (wire)
                    depart(rt, o, now);
                bind_drop(rt, o);
                rt->st.moved++;
            }
        }
    while (e->nbinds > rt->max_bindings) {
        bind_drop(rt, oldest(e));
        rt->st.dropped_cap++;
    }
    notify(rt, name);
    return 0;
}

void regtable_note_departure(struct regtable *rt, const char *ext, const char *registrar, int64_t now)
{
    if (!field_ok(ext, REG_EXT_MAX, false) || !field_ok(registrar, REG_REGISTRAR_MAX, false) ||
        departures_any(rt->gone, ext, registrar))
        return;
    struct ext *e = *ext_slot(rt, ext);
    for (const struct bind *b = e ? e->binds : NULL; b; b = b->next)
        if (!strcmp(b_registrar(b), registrar))
            return;
    departures_add(rt->gone, ext, registrar, "", now + REG_DEPARTURE_UNKNOWN_S, now);
}

int regtable_add_departure(struct regtable *rt, const struct reg_departure *d)
{
    return departures_add(rt->gone, d->ext, d->registrar, d->contact, d->until, d->at);
}

void regtable_foreach_departure(const struct regtable *rt, bool (*fn)(void *ctx, const struct reg_departure *d),
                                void *ctx)
{
    departures_foreach(rt->gone, fn, ctx);
}

size_t regtable_get(const struct regtable *rt, const char *ext, int64_t now, struct reg_binding *out, size_t max)
{
    if (!ext || strlen(ext) > REG_EXT_MAX)
        return 0;
    const struct ext *e = *ext_slot(rt, ext);
    size_t n = 0;
    for (const struct bind *b = e ? e->binds : NULL; b && n < max; b = b->next)
        if (b_expires(b) > now)
            fill_binding(b, &out[n++]);
    return n;
}

bool regtable_has(const struct regtable *rt, const char *ext, int64_t now)
{
    struct reg_binding b;
    return regtable_get(rt, ext, now, &b, 1) == 1;
}

bool regtable_may_extend(const struct regtable *rt, const char *prefix)
{
    size_t n = strlen(prefix);
    if (!n) /* every extension is longer than "" */
        return rt->nexts > 0;
    return rt->prefixes[prefix_slot(hash_keyed(rt->seed, prefix, n))] != 0;
}

size_t regtable_expire(struct regtable *rt, int64_t now)
{
    size_t n = 0;
    struct heap_node *top;
    while ((top = heap_top(&rt->heap)) && b_expires(b_of(top)) <= now) {
        char name[REG_EXT_MAX + 1];
        strcpy(name, b_of(top)->owner->name);
        bind_drop(rt, b_of(top));
        n++;
        notify(rt, name);
    }
    rt->st.expired += n;
    departures_expire(rt->gone, now);
    return n;
}

int64_t regtable_next_expiry(const struct regtable *rt)
{
    const struct heap_node *top = heap_top(&rt->heap);
    return top ? heap_i64_key(top->key) : INT64_MAX;
}

void regtable_foreach(const struct regtable *rt, bool (*fn)(void *ctx, const struct reg_binding *b), void *ctx)
{
    struct reg_binding rb;
    size_t left = rt->nexts; /* stop at the last extension, not the last bucket */
    for (size_t i = 0; left && i < rt->nbuckets + rt->nold; i++)
        for (const struct ext *e = i < rt->nbuckets ? rt->buckets[i] : rt->old[i - rt->nbuckets]; e;
             e = e->next, left--)
            for (const struct bind *b = e->binds; b; b = b->next) {
                fill_binding(b, &rb);
                if (!fn(ctx, &rb))
                    return;
            }
}

void regtable_get_stats(const struct regtable *rt, struct regtable_stats *out)
{
    *out = rt->st;
    out->departures = departures_count(rt->gone);
    out->departures_dropped = departures_dropped(rt->gone);
    out->memory_bytes += departures_bytes(rt->gone);
}
bool regtable_walk(const struct regtable *rt, size_t *cursor, size_t max_buckets,
                   bool (*fn)(void *ctx, const struct reg_binding *b), void *ctx)
{
    struct reg_binding rb;
    size_t all = rt->nbuckets + rt->nold; /* the new buckets, then the old ones not moved yet */
    size_t i = *cursor, end = max_buckets < all - (i < all ? i : all) ? i + max_buckets : all;
    for (; i < end; i++)
        for (const struct ext *e = i < rt->nbuckets ? rt->buckets[i] : rt->old[i - rt->nbuckets]; e; e = e->next)
            for (const struct bind *b = e->binds; b; b = b->next) {
                fill_binding(b, &rb);
                if (!fn(ctx, &rb)) {
                    *cursor = i; /* this bucket again next time */
                    return true;
                }
            }
    *cursor = i;
    if (i < all)
        return true;
    *cursor = 0;
    return false;
}

