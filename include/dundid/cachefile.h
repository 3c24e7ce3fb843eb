/* The answer and hint cache on disk, so a restart keeps serving cached
 * answers for the rest of their EXPIRATION instead of asking every number
 * again. A text file closed by a line that counts its keys:
 *   # dundid cache 1
 *   K <peer> <e|r> <crc (8 hex) | root EID> <a|h> <expires> <number> <context> <answers>
 *   A <owner EID> <proto> <flags> <weight> <destination>     (one per answer)
 *   E <count of K lines>
 * fields separated by one TAB; a key with a control character in a string
 * is not written. A file that does not parse whole is not used at all;
 * keys already expired are skipped. */
#ifndef DUNDID_CACHEFILE_H
#define DUNDID_CACHEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dundid/cache.h"
#include "dundid/wire.h"

#define CACHEFILE_MAX_BYTES (512L * 1024 * 1024)

/* One key of the cache, as saved and restored. */
struct cache_record {
    eid_t peer;
    char number[DUNDI_MAX_NUMBER + 1]; /* the prefix for a hint */
    char context[DUNDI_MAX_NUMBER + 1];
    char kind; /* 'e' (by path CRC) or 'r' (by root) */
    uint32_t crc;
    eid_t root;
    bool hint;
    int64_t expires; /* epoch seconds */
    unsigned n;
    struct dundi_answer answers[CACHE_MAX_RESULTS];
};

struct cachefile_result {
    size_t keys, expired, skipped; /* restored; expired at load; written: not writable */
    size_t line;
    char err[96];
};

/* Parse buf; each live record goes to put (which may refuse it: not an
 * error). Returns 0, or -1 with res->line and res->err; records already
 * put then stay (the caller flushes the cache). */
int cachefile_parse(const char *buf, size_t len, int64_t now, bool (*put)(void *ctx, const struct cache_record *r),
                    void *ctx, struct cachefile_result *res);
/* Write every unexpired key of c. Returns the count, or -1 on a write error. */
long cachefile_write(FILE *f, const struct cache *c, int64_t now, struct cachefile_result *res);

#endif
