/* The keyed hash (see hash.h); the plain FNV-1a loops are inline there. */
#include "dundid/hash.h"

uint64_t hash_mix64(uint64_t h)
{
    h = (h ^ (h >> 33)) * UINT64_C(0xff51afd7ed558ccd);
    h = (h ^ (h >> 33)) * UINT64_C(0xc4ceb9fe1a85ec53);
    return h ^ (h >> 33);
}

uint64_t hash_keyed(uint64_t seed, const void *p, size_t n) { return hash_mix64(fnv1a64(hash_keyed_start(seed), p, n)); }

uint64_t hash_keyed_str(uint64_t seed, const char *s) { return hash_mix64(fnv1a64_str(hash_keyed_start(seed), s)); }
