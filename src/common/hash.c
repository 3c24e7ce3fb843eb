#include "dundid/hash.h"

uint32_t fnv1a32(uint32_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = fnv1a32_byte(h, b[i]);
    return h;
}

uint32_t fnv1a32_lower(uint32_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = fnv1a32_byte(h, b[i] >= 'A' && b[i] <= 'Z' ? (uint8_t)(b[i] - 'A' + 'a') : b[i]);
    return h;
}

uint64_t fnv1a64(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = fnv1a64_byte(h, b[i]);
    return h;
}

uint64_t fnv1a64_str(uint64_t h, const char *s)
{
    for (; *s; s++)
        h = fnv1a64_byte(h, (uint8_t)*s);
    return h;
}

uint32_t hash_mix32(uint32_t h)
{
    h = (h ^ (h >> 16)) * UINT32_C(0x85ebca6b);
    h = (h ^ (h >> 13)) * UINT32_C(0xc2b2ae35);
    return h ^ (h >> 16);
}

static uint64_t mix64(uint64_t h)
{
    h = (h ^ (h >> 33)) * UINT64_C(0xff51afd7ed558ccd);
    h = (h ^ (h >> 33)) * UINT64_C(0xc4ceb9fe1a85ec53);
    return h ^ (h >> 33);
}

uint64_t hash_keyed(uint64_t seed, const void *p, size_t n) { return mix64(fnv1a64(FNV64_BASIS ^ seed, p, n)); }

uint64_t hash_keyed_str(uint64_t seed, const char *s) { return mix64(fnv1a64_str(FNV64_BASIS ^ seed, s)); }
