/* Departures: a seeded hash by (extension, registrar) and a min-heap by
 * until, each entry one allocation with its strings. */
#include "dundid/departures.h"
#include "dundid/hash.h"
#include "dundid/heap.h"
#include "dundid/regtable.h"

#include <stdlib.h>
#include <string.h>

#define BUCKETS 1024 /* power of two; departures are few (recent unregistrations) */

struct dep {
    struct dep *next; /* hash chain */
    struct heap_node exp; /* keyed by until */
    uint64_t hash;
    int64_t at;
    uint16_t off_registrar, off_contact;
    char strs[]; /* ext, registrar, contact */
};

struct departures {
    struct dep *buckets[BUCKETS];
    struct heap heap;
    uint64_t seed, dropped, bytes;
    size_t n;
};

static const char *d_registrar(const struct dep *x) { return x->strs + x->off_registrar; }
static const char *d_contact(const struct dep *x) { return x->strs + x->off_contact; }
static int64_t d_until(const struct dep *x) { return heap_i64_key(x->exp.key); }
static size_t d_bytes(const struct dep *x) { return sizeof(*x) + x->off_contact + strlen(d_contact(x)) + 1; }

static uint64_t key_hash(const struct departures *d, const char *ext, const char *registrar)
{
    uint64_t h = fnv1a64_byte(fnv1a64_str(hash_keyed_start(d->seed), ext), 0xff);
    return hash_mix64(fnv1a64_str(h, registrar));
}

static struct dep **bucket(struct departures *d, uint64_t h) { return &d->buckets[h & (BUCKETS - 1)]; }

static bool same_key(const struct dep *x, uint64_t h, const char *ext, const char *registrar)
{
    return x->hash == h && !strcmp(x->strs, ext) && !strcmp(d_registrar(x), registrar);
}

struct departures *departures_new(uint64_t seed)
{
    struct departures *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    heap_init(&d->heap);
    d->seed = seed;
    d->bytes = sizeof(*d);
    return d;
}

static void drop(struct departures *d, struct dep *x)
{
    struct dep **pp = bucket(d, x->hash);
    while (*pp != x)
        pp = &(*pp)->next;
    *pp = x->next;
    heap_remove(&d->heap, &x->exp);
    d->bytes -= d_bytes(x);
    d->n--;
    free(x);
    if (!d->n) { /* give back what the heap grew */
        d->bytes -= d->heap.cap * sizeof(*d->heap.v);
        heap_free(&d->heap);
    }
}

void departures_clear(struct departures *d)
{
    while (d->n)
        drop(d, heap_entry(heap_top(&d->heap), struct dep, exp));
}

void departures_free(struct departures *d)
{
    if (!d)
        return;
    departures_clear(d);
    heap_free(&d->heap);
    free(d);
}

static bool field_ok(const char *s, size_t max, bool may_be_empty)
{
    if (!s)
        return false;
    size_t n = strnlen(s, max + 1);
    if (n > max || (!n && !may_be_empty))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

int departures_add(struct departures *d, const char *ext, const char *registrar, const char *contact,
                   int64_t until, int64_t at)
{
    if (!field_ok(ext, REG_EXT_MAX, false) || !field_ok(registrar, REG_REGISTRAR_MAX, false) ||
        !field_ok(contact, REG_CONTACT_MAX, true))
        return -1;
    uint64_t h = key_hash(d, ext, registrar);
    for (struct dep *x = *bucket(d, h); x; x = x->next)
        if (same_key(x, h, ext, registrar) && !strcmp(d_contact(x), contact)) {
            drop(d, x);
            break;
        }
    if (d->n >= REG_DEPARTURES_MAX) {
        drop(d, heap_entry(heap_top(&d->heap), struct dep, exp));
        d->dropped++;
    }
    size_t le = strlen(ext), lr = strlen(registrar), lc = strlen(contact);
    struct dep *x = malloc(sizeof(*x) + le + lr + lc + 3);
    if (!x)
        return -1;
    x->hash = h;
    x->at = at;
    x->off_registrar = (uint16_t)(le + 1);
    x->off_contact = (uint16_t)(le + lr + 2);
    memcpy(x->strs, ext, le + 1);
    memcpy(x->strs + x->off_registrar, registrar, lr + 1);
    memcpy(x->strs + x->off_contact, contact, lc + 1);
    size_t cap = d->heap.cap;
    if (heap_push(&d->heap, &x->exp, heap_key_i64(until)) < 0) {
        free(x);
        return -1;
    }
    d->bytes += (d->heap.cap - cap) * sizeof(*d->heap.v) + d_bytes(x);
    x->next = *bucket(d, h);
    *bucket(d, h) = x;
    d->n++;
    return 0;
}

bool departures_any(const struct departures *d, const char *ext, const char *registrar)
{
    if (!d->n)
        return false;
    uint64_t h = key_hash(d, ext, registrar);
    for (const struct dep *x = d->buckets[h & (BUCKETS - 1)]; x; x = x->next)
        if (same_key(x, h, ext, registrar))
            return true;
    return false;
}

enum departure_verdict departures_check(struct departures *d, const char *ext, const char *registrar,
                                        const char *contact, int64_t expires)
{
    if (!d->n)
        return DEPARTURE_NONE;
    uint64_t h = key_hash(d, ext, registrar);
    struct dep *known = NULL, *unknown = NULL;
    for (struct dep *x = *bucket(d, h); x; x = x->next)
        if (same_key(x, h, ext, registrar)) {
            if (!strcmp(d_contact(x), contact))
                known = x;
            else if (!d_contact(x)[0])
                unknown = x;
        }
    if (known) {
        if (expires <= d_until(known))
            return DEPARTURE_STALE;
        drop(d, known);
        return DEPARTURE_NEWER;
    }
    if (unknown) {
        /* The first row after a departure of unknown contact is the one the
         * registrar left behind: learn it, so a newer one is told apart. */
        int64_t at = unknown->at;
        drop(d, unknown);
        departures_add(d, ext, registrar, contact, expires, at);
        return DEPARTURE_STALE;
    }
    return DEPARTURE_NONE; /* only other contacts left: this one is new */
}

size_t departures_forget(struct departures *d, const char *ext, const char *registrar)
{
    if (!d->n)
        return 0;
    uint64_t h = key_hash(d, ext, registrar);
    size_t n = 0;
    for (struct dep *x = *bucket(d, h), *next; x; x = next) {
        next = x->next;
        if (same_key(x, h, ext, registrar)) {
            drop(d, x);
            n++;
        }
    }
    return n;
}

size_t departures_expire(struct departures *d, int64_t now)
{
    size_t n = 0;
    struct heap_node *top;
    while ((top = heap_top(&d->heap)) && heap_i64_key(top->key) <= now) {
        drop(d, heap_entry(top, struct dep, exp));
        n++;
    }
    return n;
}

void departures_foreach(const struct departures *d, bool (*fn)(void *ctx, const struct reg_departure *x), void *ctx)
{
    for (size_t i = 0; i < d->heap.n; i++) {
        const struct dep *x = heap_entry(d->heap.v[i], struct dep, exp);
        struct reg_departure r = {x->strs, d_registrar(x), d_contact(x), d_until(x), x->at};
        if (!fn(ctx, &r))
            return;
    }
}

size_t departures_count(const struct departures *d) { return d->n; }
uint64_t departures_dropped(const struct departures *d) { return d->dropped; }
uint64_t departures_bytes(const struct departures *d) { return d->bytes; }
