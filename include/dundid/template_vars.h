/* The ${VARIABLE} names a mapping's destination and weight may use: known
 * to the config checks and to the answer side that fills them in; and
 * Asterisk's ${NAME:offset:length} substring form. */
#ifndef DUNDID_TEMPLATE_VARS_H
#define DUNDID_TEMPLATE_VARS_H

#include <stdbool.h>
#include <stddef.h>

/* Is NAME (len characters, case-sensitive) one of them? */
bool mapping_var_known(const char *name, size_t len);

/* The inside of ${...} (len characters): returns the length of the name,
 * the part before the first ':'; *offset and *length are what follows it
 * (absent or unreadable: 0 and "to the end", as Asterisk reads them). */
size_t var_split(const char *in, size_t len, long *offset, long *length);

/* Asterisk's substring of a value of vlen characters: a negative offset
 * counts from the end, a negative length leaves that many off the end.
 * Sets *start and returns the length of the part taken. */
size_t var_substring(size_t vlen, long offset, long length, size_t *start);

#endif
