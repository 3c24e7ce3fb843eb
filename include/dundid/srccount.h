/* Live transactions per remote address (ports ignored), for the per-source
 * cap. Nodes exist only while a count is non-zero, so the table never holds
 * more entries than there are live transactions. */
#ifndef DUNDID_SRCCOUNT_H
#define DUNDID_SRCCOUNT_H

#include <stddef.h>
#include <stdint.h>

#include "dundid/addr.h"

#define SRCCOUNT_BUCKETS 4096

struct src_node {
    struct src_node *next;
    uint8_t key[DUNDI_ADDR_HOST_KEY_LEN];
    uint32_t count;
};

struct srccount {
    struct src_node *bucket[SRCCOUNT_BUCKETS];
    size_t nodes;
};

/* One more transaction for this address, unless it already has max (0 = no
 * cap). Returns the node to hand back to srccount_put, or NULL: refused (or
 * out of memory). */
struct src_node *srccount_get(struct srccount *sc, const struct dundi_addr *a, uint32_t max);
void srccount_put(struct srccount *sc, struct src_node *n);
uint32_t srccount_of(const struct srccount *sc, const struct dundi_addr *a);
void srccount_clear(struct srccount *sc);

#endif
