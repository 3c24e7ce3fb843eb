/* Per-address transaction counts (see srccount.h). */
#include "dundid/srccount.h"
#include "dundid/trans.h"

#include <stdlib.h>
#include <string.h>

static void key_of(const struct dundi_addr *a, uint8_t key[17])
{
    memset(key, 0, 17);
    if (a->ss.ss_family == AF_INET) {
        key[0] = 4;
        memcpy(key + 1, &((const struct sockaddr_in *)(const void *)&a->ss)->sin_addr, 4);
    } else if (a->ss.ss_family == AF_INET6) {
        key[0] = 6;
        memcpy(key + 1, &((const struct sockaddr_in6 *)(const void *)&a->ss)->sin6_addr, 16);
    }
}

static size_t slot_of(const uint8_t key[17])
{
    uint32_t h = 2166136261u;
    for (int i = 0; i < 17; i++)
        h = (h ^ key[i]) * 16777619u;
    return h % SRCCOUNT_BUCKETS;
}

static struct src_node **find(struct srccount *sc, const uint8_t key[17])
{
    struct src_node **pp = &sc->bucket[slot_of(key)];
    while (*pp && memcmp((*pp)->key, key, 17))
        pp = &(*pp)->next;
    return pp;
}

struct src_node *srccount_get(struct srccount *sc, const struct dundi_addr *a, uint32_t max)
{
    uint8_t key[17];
    key_of(a, key);
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
    uint8_t key[17];
    key_of(a, key);
    for (const struct src_node *n = sc->bucket[slot_of(key)]; n; n = n->next)
        if (!memcmp(n->key, key, 17))
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
