/* Dynamic peers' registrations on disk (7.4), so that after a restart a
 * registered peer is asked at once instead of after its next REGREQ. A
 * text file closed by a line that counts its entries:
 *   # dundid peers 1
 *   R <eid> <address> <port> <expires, epoch seconds>
 *   E <count>
 * fields separated by one TAB. A file that does not parse whole is not
 * used at all; entries already expired are dropped. */
#ifndef DUNDID_PEERFILE_H
#define DUNDID_PEERFILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dundid/eid.h"
#include "dundid/trans.h"

#define PEERFILE_MAX_ENTRIES 4096 /* REG_MAX_PEERS */
#define PEERFILE_MAX_BYTES (PEERFILE_MAX_ENTRIES * 128L + 64)

struct peerfile_entry {
    eid_t eid;
    struct dundi_addr addr;
    int64_t expires;
};

struct peerfile_result {
    size_t n;       /* live entries in out */
    size_t expired; /* well-formed but expired at now */
    size_t line;    /* first bad line (0: none) */
    char err[96];
};

/* Parse buf into out (room for max entries). Returns 0, or -1 with
 * res->line and res->err (out then means nothing). */
int peerfile_parse(const char *buf, size_t len, int64_t now, struct peerfile_entry *out, size_t max,
                   struct peerfile_result *res);
/* Write n entries. Returns n, or -1 on a write error. */
long peerfile_write(FILE *f, const struct peerfile_entry *v, size_t n);

#endif
