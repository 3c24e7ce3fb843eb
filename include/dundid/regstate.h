/* The registration table on disk, so a restart does not forget where phones
 * are, who vouches for them, and what the wire saw leave. A text file, one
 * binding or departure per line, closed by a line that counts them:
 *   # dundid registrations 2
 *   B <ext> <registrar> <contact> <source> <expires> <updated> <feed> <ua> <vouchers>
 *   D <ext> <registrar> <contact> <until> <at>
 *   E <bindings> <departures>
 * fields separated by one TAB (no field may hold a control character);
 * vouchers are "feed:seen" items separated by commas (e.g.
 * "hep:1700000000,realtime:1700000003"), feed being the one that confirmed
 * the binding last; a departure's contact may be empty (not known).
 * Version 1 files (B lines without vouchers, "E <count>") are still read.
 * A file that does not parse whole is not used at all. */
#ifndef DUNDID_REGSTATE_H
#define DUNDID_REGSTATE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dundid/regtable.h"

#define REGSTATE_MAX_BYTES (1024L * 1024 * 1024) /* a bigger file is refused */

struct regstate_result {
    size_t loaded;  /* bindings put in the table */
    size_t expired; /* well-formed but already expired */
    size_t departures; /* departures restored */
    size_t line;    /* first bad line (0: none) */
    char err[128];
};

/* Apply the live bindings of buf to rt (an empty table) in one pass. Returns
 * 0, or -1 with res->line and res->err saying what is wrong: rt then holds
 * part of the file, and the caller drops it. With rt NULL, only checks. */
int regstate_parse(const char *buf, size_t len, struct regtable *rt, int64_t now, struct regstate_result *res);
/* Write every binding of rt. Returns the count, or -1 on a write error. */
long regstate_write(FILE *f, const struct regtable *rt);

/* File I/O around those: read PATH (a missing file is not an error: 0 loaded),
 * and write it atomically (temporary file, fsync, rename, fsync the folder),
 * mode 0600. Both return 0 or -1 with err set. */
int regstate_load(const char *path, struct regtable *rt, int64_t now, struct regstate_result *res);
int regstate_save(const char *path, const struct regtable *rt, char *err, size_t errlen);

#endif
