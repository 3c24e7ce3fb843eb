/* The ${VARIABLE} names a mapping's destination and weight may use: known
 * to the config checks and to the answer side that fills them in. */
#ifndef DUNDID_TEMPLATE_VARS_H
#define DUNDID_TEMPLATE_VARS_H

#include <stdbool.h>
#include <stddef.h>

/* Is NAME (len characters, case-sensitive) one of them? */
bool mapping_var_known(const char *name, size_t len);

#endif
