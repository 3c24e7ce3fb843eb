/* Answer/hint cache: a hash table of keys, an LRU list for the size bound
 * and a min-heap on expiry so expired keys can be dropped without scanning.
 * See include/dundid/cache.h for the model. */
#include "dundid/cache.h"
#include "dundid/hash.h"
#include "dundid/heap.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#define INITIAL_BUCKETS 16
#define REC_HDR 12 /* eid[6] proto destlen flags[2] weight[2], then dest */

/* Value written by one save; shared by its e and r keys and never modified,
 * so sharing needs only a reference count. */
struct cval {
    uint32_t refs;
    uint16_t n;
    uint16_t pad_;
    size_t size; /* bytes allocated, for cache_bytes */
    uint8_t data[];
};

struct cnode {
    struct cnode *hnext;       /* hash chain */
    struct cnode *prev, *next; /* LRU list, head = most recently used */
    struct cval *val;          /* NULL: no answers (negative entry, or a hint) */
    struct heap_node exp; /* keyed by the expiry */
    uint32_t hash;
    uint32_t crc;  /* kind 'e'; 0 for 'r' */
    eid_t peer;
    eid_t root; /* kind 'r'; zero for 'e' */
    uint8_t kind, hint, numlen, ctxlen;
    char str[]; /* number NUL context NUL */
};

struct cache {
    struct cnode **buckets;
    size_t nbuckets; /* power of two */
    struct heap heap; /* every node by expiry */
    struct cnode *head, *tail;
    size_t count, nhints, max;
    size_t bytes;
    uint32_t seed;
    unsigned hint_maxlen; /* longest hint prefix stored since the last flush */
    struct cache_stats st;
};

/* What a key is made of, for probing. */
struct ckey {
    const eid_t *peer;
    const char *num;
    size_t numlen;
    const char *ctx;
    size_t ctxlen;
    uint8_t kind, hint;
    uint32_t crc;
    eid_t root;
    uint32_t hash;
};

static const eid_t zero_eid;

/* glibc-style block size: the figure cache_bytes reports is what the
 * process actually pays, not just the requested bytes. */
static size_t chunk(size_t n)
{
    size_t c = (n + 8 + 15) & ~(size_t)15;
    return c < 32 ? 32 : c;
}

static inline char lc(char ch) { return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch; }

/* ---- hashing: FNV-1a, number first so hint probes can extend it per prefix. */

static uint32_t h_start(const struct cache *c) { return FNV32_BASIS ^ c->seed; }

static uint32_t h_finish(uint32_t h, const struct ckey *k)
{
    h = fnv1a32_byte(h, 0xff);
    h = fnv1a32_lower(h, k->ctx, k->ctxlen);
    h = fnv1a32_byte(h, 0xff);
    h = fnv1a32(h, k->peer->b, EID_LEN);
    h = fnv1a32_byte(h, k->hint);
    h = fnv1a32_byte(h, k->kind);
    h = fnv1a32(h, &k->crc, sizeof k->crc);
    h = fnv1a32(h, k->root.b, EID_LEN);
    return hash_mix32(h); /* the bucket index uses the low bits */
}

static void key_init(struct ckey *k, const eid_t *peer, const char *num, const char *ctx, bool hint)
{
    memset(k, 0, sizeof *k);
    k->peer = peer;
    k->num = num ? num : "";
    k->numlen = strnlen(k->num, DUNDI_MAX_NUMBER);
    k->ctx = ctx ? ctx : "";
    k->ctxlen = strnlen(k->ctx, DUNDI_MAX_NUMBER);
    k->hint = hint;
}

static void key_set_e(struct ckey *k, uint32_t crc)
{
    k->kind = 'e';
    k->crc = crc;
    k->root = zero_eid;
}

static void key_set_r(struct ckey *k, const eid_t *root)
{
    k->kind = 'r';
    k->crc = 0;
    k->root = root ? *root : zero_eid;
}

static void key_hash(const struct cache *c, struct ckey *k)
{
    k->hash = h_finish(fnv1a32(h_start(c), k->num, k->numlen), k);
}

static inline const char *node_ctx(const struct cnode *n) { return n->str + n->numlen + 1; }

static bool node_matches(const struct cnode *n, const struct ckey *k)
{
    if (n->hash != k->hash || n->kind != k->kind || n->hint != k->hint || n->numlen != k->numlen ||
        n->ctxlen != k->ctxlen || n->crc != k->crc || !eid_equal(&n->peer, k->peer) || !eid_equal(&n->root, &k->root))
        return false;
    if (memcmp(n->str, k->num, k->numlen) != 0)
        return false;
    const char *nc = node_ctx(n);
    for (size_t i = 0; i < k->ctxlen; i++)
        if (lc(nc[i]) != lc(k->ctx[i]))
            return false;
    return true;
}

/* ---- expiry heap */

static inline int64_t node_expiry(const struct cnode *n) { return heap_i64_key(n->exp.key); }
static inline struct cnode *node_of(struct heap_node *x) { return heap_entry(x, struct cnode, exp); }

/* The earliest expiring key; the cache must not be empty. */
static inline struct cnode *soonest(const struct cache *c) { return node_of(heap_top(&c->heap)); }

/* ---- LRU list */

static void lru_unlink(struct cache *c, struct cnode *n)
{
    if (n->prev)
        n->prev->next = n->next;
    else
        c->head = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else
        c->tail = n->prev;
    n->prev = n->next = NULL;
}

static void lru_push_front(struct cache *c, struct cnode *n)
{
    n->prev = NULL;
    n->next = c->head;
    if (c->head)
        c->head->prev = n;
    else
        c->tail = n;
    c->head = n;
}

static void lru_touch(struct cache *c, struct cnode *n)
{
    if (c->head != n) {
        lru_unlink(c, n);
        lru_push_front(c, n);
    }
}

/* ---- values */

static void val_unref(struct cache *c, struct cval *v)
{
    if (v && --v->refs == 0) {
        c->bytes -= chunk(v->size);
        free(v);
    }
}

/* ---- nodes */

static size_t node_size(const struct cnode *n) { return sizeof *n + n->numlen + n->ctxlen + 2u; }

static void node_remove(struct cache *c, struct cnode *n)
{
    struct cnode **pp = &c->buckets[n->hash & (c->nbuckets - 1)];
    while (*pp != n)
        pp = &(*pp)->hnext;
    *pp = n->hnext;
    lru_unlink(c, n);
    heap_remove(&c->heap, &n->exp);
    c->count--;
    if (n->hint)
        c->nhints--;
    val_unref(c, n->val);
    c->bytes -= chunk(node_size(n));
    free(n);
}

static struct cnode *node_find(const struct cache *c, const struct ckey *k)
{
    for (struct cnode *n = c->buckets[k->hash & (c->nbuckets - 1)]; n; n = n->hnext)
        if (node_matches(n, k))
            return n;
    return NULL;
}

/* An unexpired key, or NULL (an expired one is removed on the way, as the
 * reference's lookup deletes what it finds stale). */
static struct cnode *node_find_live(struct cache *c, const struct ckey *k, int64_t now)
{
    struct cnode *n = node_find(c, k);
    if (n && node_expiry(n) <= now) {
        node_remove(c, n);
        c->st.expired++;
        return NULL;
    }
    return n;
}

static void buckets_grow(struct cache *c)
{
    size_t nb = c->nbuckets * 2;
    struct cnode **b = calloc(nb, sizeof *b);
    if (!b)
        return; /* longer chains, still correct */
    for (size_t i = 0; i < c->nbuckets; i++) {
        struct cnode *n = c->buckets[i];
        while (n) {
            struct cnode *next = n->hnext;
            size_t j = n->hash & (nb - 1);
            n->hnext = b[j];
            b[j] = n;
            n = next;
        }
    }
    free(c->buckets);
    c->bytes += chunk(nb * sizeof *b) - chunk(c->nbuckets * sizeof *b);
    c->buckets = b;
    c->nbuckets = nb;
}

/* Make room for one more key: an expired key goes first, else the LRU one. */
static void make_room(struct cache *c, int64_t now)
{
    while (c->count >= c->max) {
        if (node_expiry(soonest(c)) <= now) {
            node_remove(c, soonest(c));
            c->st.expired++;
        } else {
            node_remove(c, c->tail);
            c->st.evictions++;
        }
    }
}

/* Write one key (replacing any key with the same name). Takes a reference
 * on val. Returns false on allocation failure. */
static bool node_put(struct cache *c, const struct ckey *k, struct cval *val, int64_t expiry, int64_t now)
{
    struct cnode *old = node_find(c, k);
    if (old)
        node_remove(c, old);
    make_room(c, now);

    if (c->count >= c->heap.cap) {
        size_t cap = c->heap.cap;
        if (heap_reserve(&c->heap, c->count + 1) < 0)
            return false;
        c->bytes += chunk(c->heap.cap * sizeof *c->heap.v) - (cap ? chunk(cap * sizeof *c->heap.v) : 0);
    }
    struct cnode *n = malloc(sizeof *n + k->numlen + k->ctxlen + 2);
    if (!n)
        return false;
    memset(n, 0, sizeof *n);
    n->val = val;
    if (val)
        val->refs++;
    n->hash = k->hash;
    n->crc = k->crc;
    n->peer = *k->peer;
    n->root = k->root;
    n->kind = k->kind;
    n->hint = k->hint;
    n->numlen = (uint8_t)k->numlen;
    n->ctxlen = (uint8_t)k->ctxlen;
    memcpy(n->str, k->num, k->numlen);
    n->str[k->numlen] = '\0';
    memcpy(n->str + k->numlen + 1, k->ctx, k->ctxlen);
    n->str[k->numlen + 1 + k->ctxlen] = '\0';
    c->bytes += chunk(node_size(n));

    if (c->count >= c->nbuckets)
        buckets_grow(c);
    size_t b = n->hash & (c->nbuckets - 1);
    n->hnext = c->buckets[b];
    c->buckets[b] = n;
    lru_push_front(c, n);
    heap_push(&c->heap, &n->exp, heap_key_i64(expiry)); /* cannot fail: room reserved above */
    c->count++;
    if (n->hint)
        c->nhints++;
    return true;
}

/* ---- public API */

uint32_t cache_path_crc(const eid_t *avoid, unsigned n)
{
    uint32_t crc = 0;
    for (unsigned i = 0; i + 1 < n; i++)
        crc ^= (uint32_t)crc32(0L, avoid[i].b, EID_LEN);
    return crc;
}

struct cache *cache_new(size_t max_entries)
{
    struct cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->buckets = calloc(INITIAL_BUCKETS, sizeof *c->buckets);
    if (!c->buckets) {
        free(c);
        return NULL;
    }
    c->nbuckets = INITIAL_BUCKETS;
    heap_init(&c->heap);
    c->max = max_entries < 2 ? 2 : max_entries;
    if (c->max > UINT32_MAX)
        c->max = UINT32_MAX; /* heap indices are 32-bit */
    /* Per-instance seed from the (ASLR-randomised) address: keys come from
     * remote requests, so do not make chain collisions predictable. */
    uint64_t a = (uint64_t)(uintptr_t)c;
    c->seed = (uint32_t)(a ^ (a >> 32) ^ (a >> 13)) * 0x9e3779b1u;
    c->bytes = chunk(sizeof *c) + chunk(INITIAL_BUCKETS * sizeof *c->buckets);
    return c;
}

static void free_nodes(struct cache *c)
{
    struct cnode *n = c->head;
    while (n) {
        struct cnode *next = n->next;
        val_unref(c, n->val);
        free(n);
        n = next;
    }
    c->head = c->tail = NULL;
    c->count = c->nhints = 0;
}

void cache_free(struct cache *c)
{
    if (!c)
        return;
    heap_free(&c->heap); /* while the nodes it marks are still there */
    free_nodes(c);
    free(c->buckets);
    free(c);
}

void cache_flush(struct cache *c)
{
    if (!c)
        return;
    heap_free(&c->heap);
    free_nodes(c);
    struct cnode **b = calloc(INITIAL_BUCKETS, sizeof *b);
    if (b) {
        free(c->buckets);
        c->buckets = b;
        c->nbuckets = INITIAL_BUCKETS;
    } else {
        memset(c->buckets, 0, c->nbuckets * sizeof *c->buckets);
    }
    c->hint_maxlen = 0;
    c->bytes = chunk(sizeof *c) + chunk(c->nbuckets * sizeof *c->buckets);
}

size_t cache_count(const struct cache *c) { return c ? c->count : 0; }
size_t cache_count_hints(const struct cache *c) { return c ? c->nhints : 0; }
size_t cache_max(const struct cache *c) { return c ? c->max : 0; }
const struct cache_stats *cache_stats(const struct cache *c) { return &c->st; }
size_t cache_bytes(const struct cache *c) { return c ? c->bytes : 0; }

/* NULL with *oom false: nothing storable (a negative entry). */
static struct cval *val_build(struct cache *c, const struct dundi_answer *answers, unsigned n, bool *oom)
{
    *oom = false;
    size_t size = sizeof(struct cval);
    unsigned keep = 0;
    if (n > DUNDI_MAX_ANSWERS)
        n = DUNDI_MAX_ANSWERS;
    for (unsigned i = 0; i < n; i++) {
        size_t len = strnlen(answers[i].dest, DUNDI_MAX_DEST);
        if (memchr(answers[i].dest, '|', len))
            continue; /* the reference's value format cannot hold it */
        size += REC_HDR + len;
        keep++;
    }
    if (!keep)
        return NULL;
    struct cval *v = malloc(size);
    if (!v) {
        *oom = true;
        return NULL;
    }
    v->refs = 1;
    v->n = (uint16_t)keep;
    v->pad_ = 0;
    v->size = size;
    uint8_t *p = v->data;
    for (unsigned i = 0; i < n; i++) {
        const struct dundi_answer *a = &answers[i];
        size_t len = strnlen(a->dest, DUNDI_MAX_DEST);
        if (memchr(a->dest, '|', len))
            continue;
        memcpy(p, a->eid.b, EID_LEN);
        p[6] = a->proto;
        p[7] = (uint8_t)len;
        memcpy(p + 8, &a->flags, 2);
        memcpy(p + 10, &a->weight, 2);
        memcpy(p + REC_HDR, a->dest, len);
        p += REC_HDR + len;
    }
    c->bytes += chunk(size);
    return v;
}

void cache_save(struct cache *c, const eid_t *peer, const char *number, const char *context, uint32_t path_crc,
                bool unaffected, const eid_t *root, const struct dundi_answer *answers, unsigned n,
                int expiration, int cachetime, bool pushed, int64_t now)
{
    if (!c || !peer)
        return;
    int64_t life = expiration >= 1 ? expiration : cachetime;
    life += pushed ? CACHE_PULL_ADJUST : -CACHE_PULL_ADJUST;
    if (life < 1)
        life = 1;

    struct cval *v = NULL;
    bool oom = false;
    if (answers && n)
        v = val_build(c, answers, n, &oom); /* holds one reference, dropped below */
    if (oom)
        return;

    struct ckey k;
    bool stored = false;
    key_init(&k, peer, number, context, false);
    key_set_e(&k, unaffected ? 0 : path_crc);
    key_hash(c, &k);
    stored |= node_put(c, &k, v, now + life, now);
    key_set_r(&k, root);
    key_hash(c, &k);
    stored |= node_put(c, &k, v, now + life, now);
    val_unref(c, v);
    if (stored)
        c->st.saves++;
}

bool cache_restore(struct cache *c, const eid_t *peer, const char *number, const char *context, char kind,
                   uint32_t crc, const eid_t *root, bool hint, const struct dundi_answer *answers, unsigned n,
                   int64_t expires, int64_t now)
{
    size_t nlen = strnlen(number, DUNDI_MAX_NUMBER + 1), clen = strnlen(context, DUNDI_MAX_NUMBER + 1);
    if (!c || expires <= now || !nlen || nlen > DUNDI_MAX_NUMBER || clen > DUNDI_MAX_NUMBER ||
        (kind != 'e' && kind != 'r') || (hint && n))
        return false;
    struct cval *v = NULL;
    bool oom = false;
    if (answers && n)
        v = val_build(c, answers, n, &oom);
    if (oom)
        return false;
    struct ckey k;
    key_init(&k, peer, number, context, hint);
    if (kind == 'e')
        key_set_e(&k, crc);
    else
        key_set_r(&k, root);
    key_hash(c, &k);
    bool stored = node_put(c, &k, v, expires, now);
    val_unref(c, v);
    if (stored && hint && nlen > c->hint_maxlen)
        c->hint_maxlen = (unsigned)nlen; /* lookups probe prefixes up to it */
    return stored;
}

void cache_save_hint(struct cache *c, const eid_t *peer, const char *prefix, const char *context, uint32_t path_crc,
                     bool unaffected, const eid_t *root, int expiration, int cachetime, int64_t now)
{
    if (!c || !peer || !prefix)
        return;
    size_t plen = strnlen(prefix, DUNDI_MAX_NUMBER + 1);
    if (plen == 0 || plen > DUNDI_MAX_NUMBER)
        return; /* no lookup can ever probe it */
    int64_t life = expiration >= 0 ? expiration : cachetime;

    struct ckey k[2];
    for (int i = 0; i < 2; i++) {
        key_init(&k[i], peer, prefix, context, true);
        if (i == 0)
            key_set_e(&k[i], unaffected ? 0 : path_crc);
        else
            key_set_r(&k[i], root);
        key_hash(c, &k[i]);
    }
    if (life <= 0) {
        for (int i = 0; i < 2; i++) {
            struct cnode *old = node_find(c, &k[i]);
            if (old)
                node_remove(c, old);
        }
        return;
    }
    bool stored = false;
    for (int i = 0; i < 2; i++)
        stored |= node_put(c, &k[i], NULL, now + life, now);
    if (stored) {
        c->st.saves++;
        if (plen > c->hint_maxlen)
            c->hint_maxlen = (unsigned)plen;
    }
}

void cache_result_init(struct cache_result *res)
{
    res->n = 0;
    res->expiration = INT_MAX;
    res->hint_data[0] = '\0';
    res->hint_hit = false;
}

static int remaining(int64_t expiry, int64_t now)
{
    int64_t r = expiry - now;
    return r > INT_MAX ? INT_MAX : (int)r;
}

/* Merge one value into res (4.7 dedup: same proto + identical dest). */
bool cache_result_add(struct cache_result *res, const struct dundi_answer *a, int expiration)
{
    for (unsigned i = 0; i < res->n; i++)
        if (res->answers[i].proto == a->proto && !strcmp(res->answers[i].dest, a->dest)) {
            if (a->weight < res->answers[i].weight)
                res->answers[i].weight = a->weight;
            return false;
        }
    if (res->n >= CACHE_MAX_RESULTS)
        return false;
    res->answers[res->n] = *a;
    res->expirations[res->n++] = expiration;
    return true;
}

static void merge(const struct cval *v, int left, struct cache_result *res)
{
    const uint8_t *p = v->data;
    struct dundi_answer a;
    for (unsigned i = 0; i < v->n; i++) {
        size_t len = p[7];
        memcpy(a.eid.b, p, EID_LEN);
        a.proto = p[6];
        memcpy(&a.flags, p + 8, 2);
        memcpy(&a.weight, p + 10, 2);
        memcpy(a.dest, p + REC_HDR, len);
        a.dest[len] = '\0';
        cache_result_add(res, &a, left);
        p += REC_HDR + len;
    }
}

/* A found key: refresh it and lower the result's expiration. */
static int found(struct cache *c, struct cnode *n, int64_t now, struct cache_result *res)
{
    int left = remaining(node_expiry(n), now);
    lru_touch(c, n);
    if (left < res->expiration)
        res->expiration = left;
    return left;
}

bool cache_lookup(struct cache *c, const eid_t *peer, const char *number, const char *context, uint32_t path_crc,
                  const eid_t *root, int64_t now, struct cache_result *res)
{
    if (!c || !peer || !res)
        return false;
    bool hit = false;
    struct ckey k;
    const struct cval *seen[3];
    unsigned nseen = 0;

    key_init(&k, peer, number, context, false);
    uint32_t hnum = fnv1a32(h_start(c), k.num, k.numlen);
    for (int probe = 0; probe < 3; probe++) {
        if (probe == 0)
            key_set_e(&k, path_crc);
        else if (probe == 1) {
            if (path_crc == 0)
                continue; /* same key as probe 0 */
            key_set_e(&k, 0);
        } else
            key_set_r(&k, root);
        k.hash = h_finish(hnum, &k);
        struct cnode *n = node_find_live(c, &k, now);
        if (!n)
            continue;
        hit = true;
        int left = found(c, n, now, res);
        if (!n->val)
            continue;
        /* e and r keys of one save share their value: merge it once */
        bool dup = false;
        for (unsigned i = 0; i < nseen; i++)
            dup |= seen[i] == n->val;
        if (!dup) {
            seen[nseen++] = n->val;
            merge(n->val, left, res);
        }
    }

    if (res->n == 0 && c->nhints > 0) {
        size_t maxp = k.numlen < c->hint_maxlen ? k.numlen : c->hint_maxlen;
        uint32_t h = h_start(c);
        key_init(&k, peer, number, context, true);
        for (size_t x = 1; x <= maxp; x++) {
            h = fnv1a32_byte(h, (uint8_t)k.num[x - 1]);
            k.numlen = x;
            bool hint_hit = false;
            for (int probe = 0; probe < 3; probe++) {
                if (probe == 0)
                    key_set_e(&k, path_crc);
                else if (probe == 1) {
                    if (path_crc == 0)
                        continue;
                    key_set_e(&k, 0);
                } else
                    key_set_r(&k, root);
                k.hash = h_finish(h, &k);
                struct cnode *n = node_find_live(c, &k, now);
                if (n) {
                    hint_hit = true;
                    found(c, n, now, res);
                }
            }
            if (hint_hit) {
                hit = true;
                res->hint_hit = true;
                if (x > strlen(res->hint_data)) {
                    memcpy(res->hint_data, k.num, x);
                    res->hint_data[x] = '\0';
                }
                break;
            }
        }
    }

    if (hit)
        c->st.hits++;
    else
        c->st.misses++;
    return hit;
}

size_t cache_expire(struct cache *c, int64_t now, size_t budget)
{
    size_t done = 0;
    if (!c)
        return 0;
    while (done < budget && c->count > 0 && node_expiry(soonest(c)) <= now) {
        node_remove(c, soonest(c));
        done++;
    }
    c->st.expired += done;
    return done;
}

int64_t cache_next_expiry(const struct cache *c, int64_t now)
{
    if (!c || c->count == 0)
        return INT64_MAX;
    return node_expiry(soonest(c)) - now;
}

static void view_fill(const struct cnode *n, int64_t now, struct cache_view *v)
{
    v->peer = n->peer;
    v->number = n->str;
    v->context = node_ctx(n);
    v->kind = (char)n->kind;
    v->crc = n->crc;
    v->root = n->root;
    v->expires_in = node_expiry(n) - now;
    v->hint = n->hint;
    v->n_answers = n->val ? n->val->n : 0;
    v->priv_ = n;
}

static void foreach(const struct cache *c, int64_t now, bool hints, void (*fn)(void *, const struct cache_view *),
                    void *ctx)
{
    if (!c || !fn)
        return;
    for (const struct cnode *n = c->head; n; n = n->next) {
        if (n->hint != hints || node_expiry(n) <= now)
            continue;
        struct cache_view v;
        view_fill(n, now, &v);
        fn(ctx, &v);
    }
}

void cache_foreach(const struct cache *c, int64_t now, void (*fn)(void *ctx, const struct cache_view *v), void *ctx)
{
    foreach(c, now, false, fn, ctx);
}

void cache_foreach_hint(const struct cache *c, int64_t now, void (*fn)(void *ctx, const struct cache_view *v),
                        void *ctx)
{
    foreach(c, now, true, fn, ctx);
}

void cache_view_answer(const struct cache_view *v, unsigned i, struct dundi_answer *out)
{
    const struct cnode *n = v->priv_;
    memset(out, 0, sizeof *out);
    if (!n || !n->val || i >= n->val->n)
        return;
    const uint8_t *p = n->val->data;
    while (i--)
        p += REC_HDR + p[7];
    memcpy(out->eid.b, p, EID_LEN);
    out->proto = p[6];
    memcpy(&out->flags, p + 8, 2);
    memcpy(&out->weight, p + 10, 2);
    memcpy(out->dest, p + REC_HDR, p[7]);
    out->dest[p[7]] = '\0';
}

char *cache_view_key(const struct cache_view *v, char *buf, size_t len)
{
    char peer[EID_SHORT_LEN], root[EID_SHORT_LEN];
    eid_to_short(&v->peer, peer);
    if (v->kind == 'e')
        snprintf(buf, len, "%s%s/%s/%s/e%08x", v->hint ? "hint/" : "", peer, v->number, v->context, (unsigned)v->crc);
    else
        snprintf(buf, len, "%s%s/%s/%s/r%s", v->hint ? "hint/" : "", peer, v->number, v->context,
                 eid_to_short(&v->root, root));
    return buf;
}
