/* Intrusive binary min-heap (see heap.h). Sifting moves a hole rather than
 * swapping, so each level costs one store of a pointer and one of an index. */
#include "dundid/heap.h"

#include <stdlib.h>

void heap_init(struct heap *h)
{
    h->v = NULL;
    h->n = h->cap = 0;
}

void heap_free(struct heap *h)
{
    for (size_t i = 0; i < h->n; i++)
        h->v[i]->pos = 0;
    free(h->v);
    heap_init(h);
}

int heap_reserve(struct heap *h, size_t n)
{
    if (n <= h->cap)
        return 0;
    if (n > UINT32_MAX) /* positions are 32-bit */
        return -1;
    size_t cap = h->cap ? h->cap : 16;
    while (cap < n)
        cap *= 2;
    struct heap_node **v = realloc(h->v, cap * sizeof(*v));
    if (!v)
        return -1;
    h->v = v;
    h->cap = cap;
    return 0;
}

static inline void place(struct heap *h, size_t i, struct heap_node *x)
{
    h->v[i] = x;
    x->pos = (uint32_t)(i + 1);
}

static void sift_up(struct heap *h, size_t i, struct heap_node *x)
{
    const uint64_t k = x->key;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (h->v[parent]->key <= k)
            break;
        place(h, i, h->v[parent]);
        i = parent;
    }
    place(h, i, x);
}

static void sift_down(struct heap *h, size_t i, struct heap_node *x)
{
    const uint64_t k = x->key;
    const size_t n = h->n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && h->v[c + 1]->key < h->v[c]->key)
            c++;
        if (k <= h->v[c]->key)
            break;
        place(h, i, h->v[c]);
        i = c;
    }
    place(h, i, x);
}

/* x sits (or is to sit) at i: move it whichever way its key calls for. */
static void settle(struct heap *h, size_t i, struct heap_node *x)
{
    if (i > 0 && x->key < h->v[(i - 1) / 2]->key)
        sift_up(h, i, x);
    else
        sift_down(h, i, x);
}

int heap_push(struct heap *h, struct heap_node *x, uint64_t key)
{
    if (h->n == h->cap && heap_reserve(h, h->n + 1) < 0)
        return -1;
    x->key = key;
    sift_up(h, h->n++, x);
    return 0;
}

void heap_remove(struct heap *h, struct heap_node *x)
{
    size_t i = x->pos - 1;
    x->pos = 0;
    struct heap_node *last = h->v[--h->n];
    if (last != x)
        settle(h, i, last);
}

void heap_update(struct heap *h, struct heap_node *x, uint64_t key)
{
    x->key = key;
    settle(h, x->pos - 1, x);
}

void heap_replace(struct heap *h, struct heap_node *old, struct heap_node *fresh)
{
    fresh->key = old->key;
    place(h, old->pos - 1, fresh);
    old->pos = 0;
}
