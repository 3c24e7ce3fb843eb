/* Values of configuration options, shared by the section parsers. */
#ifndef DUNDID_CONF_VALUES_H
#define DUNDID_CONF_VALUES_H

#include <stdbool.h>
#include <stddef.h>

/* A whole decimal number in min..max. */
bool conf_parse_int(const char *s, long min, long max, int *out);
/* yes/no as Asterisk's ast_true/ast_false read them: 1, 0, or -1. */
int conf_parse_bool(const char *s);
/* Copy src if it fits cap bytes with its NUL. */
bool conf_copy(char *dst, size_t cap, const char *src);

#endif
