/* Entity identifiers: 6 opaque bytes, shown as 00:11:22:33:44:55. */
#ifndef DUNDID_EID_H
#define DUNDID_EID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EID_LEN 6
#define EID_STR_LEN 18   /* "xx:xx:xx:xx:xx:xx" + NUL */
#define EID_SHORT_LEN 13 /* "XXXXXXXXXXXX" + NUL */

typedef struct eid {
    uint8_t b[EID_LEN];
} eid_t;

/* Parse the long form (either case). Returns 0 or -1. */
int eid_parse(eid_t *out, const char *text);
/* Long form, lowercase, into buf (EID_STR_LEN bytes). Returns buf. */
char *eid_to_str(const eid_t *e, char *buf);
/* Short form, 12 uppercase hex digits, into buf (EID_SHORT_LEN bytes). */
char *eid_to_short(const eid_t *e, char *buf);
bool eid_equal(const eid_t *a, const eid_t *b);
bool eid_is_zero(const eid_t *e);
/* A random locally administered unicast EID (for dundiq). */
void eid_random(eid_t *out);
/* MAC address of the first non-loopback interface. Returns 0 or -1. */
int eid_from_host(eid_t *out);

#endif
