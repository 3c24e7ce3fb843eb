/* State files: what dundid keeps across a restart (the registration table,
 * dynamic peers' registrations, the answer cache). Read whole or not at
 * all, bounded in size, never through a symlink; written to a temporary
 * file, synced, renamed over the old one and the folder synced, mode 0600. */
#ifndef DUNDID_STATEFILE_H
#define DUNDID_STATEFILE_H

#include <stddef.h>
#include <stdio.h>

/* Map PATH and hand its bytes to parse. Returns what parse returns (0 or
 * -1), 1 when the file does not exist, or -1 with err when it cannot be
 * read, is not a regular file, is empty or is larger than max_bytes. */
int statefile_load(const char *path, size_t max_bytes, int (*parse)(void *ctx, const char *buf, size_t len), void *ctx,
                   char *err, size_t errlen);
/* Write PATH atomically through write (returning < 0 on failure).
 * Returns 0, or -1 with err. */
int statefile_save(const char *path, long (*write)(void *ctx, FILE *f), void *ctx, char *err, size_t errlen);

#endif
