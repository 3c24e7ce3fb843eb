/* The hashes of the daemon's tables: FNV-1a (32 and 64 bits, with an ASCII
 * case-folding variant), murmur3-style final mixes for when only low bits
 * are used, and a keyed hash for tables indexed by what the network sends. */
#ifndef DUNDID_HASH_H
#define DUNDID_HASH_H

#include <stddef.h>
#include <stdint.h>

#define FNV32_BASIS UINT32_C(2166136261)
#define FNV64_BASIS UINT64_C(0xcbf29ce484222325)

static inline uint32_t fnv1a32_byte(uint32_t h, uint8_t b) { return (h ^ b) * UINT32_C(16777619); }
static inline uint64_t fnv1a64_byte(uint64_t h, uint8_t b) { return (h ^ b) * UINT64_C(0x100000001b3); }

/* Inline, so that fixed lengths (EIDs, address keys) unroll: the cache
 * hashes several per probe, the registration table one per lookup. */

/* Continue hash h over n bytes (start with FNV32_BASIS / FNV64_BASIS). */
static inline uint32_t fnv1a32(uint32_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = fnv1a32_byte(h, b[i]);
    return h;
}

/* The same over the bytes with A-Z taken as a-z: for names compared without case. */
static inline uint32_t fnv1a32_lower(uint32_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = fnv1a32_byte(h, b[i] >= 'A' && b[i] <= 'Z' ? (uint8_t)(b[i] - 'A' + 'a') : b[i]);
    return h;
}

static inline uint64_t fnv1a64(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = fnv1a64_byte(h, b[i]);
    return h;
}

/* Over a NUL-terminated string, the NUL left out. */
static inline uint64_t fnv1a64_str(uint64_t h, const char *s)
{
    for (; *s; s++)
        h = fnv1a64_byte(h, (uint8_t)*s);
    return h;
}

/* murmur3's final mix: every input bit reaches the low bits. */
static inline uint32_t hash_mix32(uint32_t h)
{
    h = (h ^ (h >> 16)) * UINT32_C(0x85ebca6b);
    h = (h ^ (h >> 13)) * UINT32_C(0xc2b2ae35);
    return h ^ (h >> 16);
}

/* The first half of murmur3's 64-bit final mix: enough to bring the high
 * bits into the low ones a table index uses, at one multiply per lookup. */
static inline uint64_t hash_mix64(uint64_t h)
{
    h = (h ^ (h >> 33)) * UINT64_C(0xff51afd7ed558ccd);
    return h ^ (h >> 33);
}

/* Seeded FNV-1a-64 and the 64-bit mix. With a secret seed per table, remote
 * senders cannot aim their keys at one chain. */
uint64_t hash_keyed(uint64_t seed, const void *p, size_t n);
static inline uint64_t hash_keyed_str(uint64_t seed, const char *s)
{
    return hash_mix64(fnv1a64_str(FNV64_BASIS ^ seed, s));
}
/* In steps, for every prefix of a key in one pass:
 * hash_mix64(fnv1a64(hash_keyed_start(seed), p, n)) == hash_keyed(seed, p, n). */
static inline uint64_t hash_keyed_start(uint64_t seed) { return FNV64_BASIS ^ seed; }
#endif
