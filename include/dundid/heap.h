/* An intrusive binary min-heap. Each entry embeds a struct heap_node that
 * carries its key and its place in the heap, so removing or re-keying an
 * entry is O(log n) without a search. The heap owns only its array of node
 * pointers; entries belong to the caller. Ties leave no defined order. */
#ifndef DUNDID_HEAP_H
#define DUNDID_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct heap_node {
    uint64_t key;
    uint32_t pos; /* index in the array + 1; 0 when not in a heap */
};

struct heap {
    struct heap_node **v;
    size_t n, cap;
};

void heap_init(struct heap *h);
/* Frees the array; the entries still in it are marked as out of any heap. */
void heap_free(struct heap *h);
/* Room for at least n entries. Returns 0, or -1 on memory failure. */
int heap_reserve(struct heap *h, size_t n);
/* Insert x (not in any heap) under key. Returns 0, or -1 on memory failure
 * (x is then left out). */
int heap_push(struct heap *h, struct heap_node *x, uint64_t key);
/* Take x (which must be in h) out of h. */
void heap_remove(struct heap *h, struct heap_node *x);
/* Give x (in h) a new key. */
void heap_update(struct heap *h, struct heap_node *x, uint64_t key);
/* Put fresh (not in any heap) where old is, with old's key; old leaves h. */
void heap_replace(struct heap *h, struct heap_node *old, struct heap_node *fresh);

static inline bool heap_node_queued(const struct heap_node *x) { return x->pos != 0; }
/* The entry with the lowest key, or NULL when empty. */
static inline struct heap_node *heap_top(const struct heap *h) { return h->n ? h->v[0] : NULL; }

/* The entry that embeds node x as its member m. */
#define heap_entry(x, type, m) ((type *)(void *)((char *)(x) - offsetof(type, m)))

/* Signed keys (epoch seconds) in the heap's unsigned order. */
static inline uint64_t heap_key_i64(int64_t v) { return (uint64_t)v ^ (UINT64_C(1) << 63); }
static inline int64_t heap_i64_key(uint64_t k) { return (int64_t)(k ^ (UINT64_C(1) << 63)); }

#endif
