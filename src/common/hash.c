/* The keyed hash over a buffer (see hash.h; the hot forms are inline there). */
#include "dundid/hash.h"

uint64_t hash_keyed(uint64_t seed, const void *p, size_t n) { return hash_mix64(fnv1a64(hash_keyed_start(seed), p, n)); }
