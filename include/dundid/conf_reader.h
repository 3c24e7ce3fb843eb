/* Asterisk config lexical rules on top of inih: ';' comments (and '\;'
 * escapes), ';-- --;' block comments, '=>' as '=', indentation ignored,
 * sections reported with their line numbers. Lines are limited by inih's
 * buffer: 198 characters after comments and surrounding blanks are removed. */
#ifndef DUNDID_CONF_READER_H
#define DUNDID_CONF_READER_H

#include <stdio.h>

struct conf_reader_ops {
    /* A [section] header; return 0 to accept. */
    void (*section)(void *user, const char *name, int line);
    /* key = value in the current section. */
    void (*keyval)(void *user, const char *key, const char *value, int line);
    /* A line the reader cannot use: report "reason" at line. */
    void (*error)(void *user, const char *reason, int line);
};

/* Parse f. Returns 0, or -1 if the file could not be read. */
int conf_read(FILE *f, const struct conf_reader_ops *ops, void *user);

#endif
