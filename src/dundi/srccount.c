/* Per-address transaction counts (see srccount.h). */
#include "dundid/srccount.h"

#include <stdlib.h>
#include <string.h>

#include "dundid/hash.h"

static size_t slot_of(const uint8_t key[DUNDI_ADDR_HOST_KEY_LEN])
{
    return fnv1a32(FNV32_BASIS, key, DUNDI_ADDR_HOST_KEY_LEN) % SRCCOUNT_BUCKETS;
}

static struct src_node **find(struct srccount *sc, const uint8_t key[DUNDI_ADDR_HOST_KEY_LEN])
{
    struct src_node **pp = &sc->bucket[slot_of(key)];
    while (*pp && memcmp((*pp)->key, key, DUNDI_ADDR_HOST_KEY_LEN))
        pp = &(*pp)->next;
    return pp;
}

struct src_node *srccount_get(struct srccount *sc, const struct dundi_addr *a, uint32_t max)
{
    uint8_t key[DUNDI_ADDR_HOST_KEY_LEN];
    dundi_addr_host_key(a, key);
    struct src_node **pp = find(sc, key);
    struct src_node *n = *pp;
    if (!n) {
        if (!(n = calloc(1, sizeof(*n))))
            return NULL;
        memcpy(n->key, key, sizeof(n->key));
        *pp = n;
        sc->nodes++;
    }
    if (max && n->count >= max)
        return NULL;
    n->count++;
    return n;
}

void srccount_put(struct srccount *sc, struct src_node *n)
{
    if (!n || !n->count)
        return;
    if (--n->count)
        return;
    struct src_node **pp = find(sc, n->key);
    if (*pp == n) {
        *pp = n->next;
        sc->nodes--;
        free(n);
    }
}

uint32_t srccount_of(const struct srccount *sc, const struct dundi_addr *a)
{
    uint8_t key[DUNDI_ADDR_HOST_KEY_LEN];
    dundi_addr_host_key(a, key);
    for (const struct src_node *n = sc->bucket[slot_of(key)]; n; n = n->next)
        if (!memcmp(n->key, key, sizeof(key)))
            return n->count;
    return 0;
}

void srccount_clear(struct srccount *sc)
{
    for (size_t i = 0; i < SRCCOUNT_BUCKETS; i++)
        while (sc->bucket[i]) {
            struct src_node *n = sc->bucket[i];
            sc->bucket[i] = n->next;
            free(n);
        }
    sc->nodes = 0;
}
