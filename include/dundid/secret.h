/* The rotating ${SECRET} (protocol 7.9): 16 random bytes in base64 with
 * ';' '/' ':' '@' replaced by '+', renewed every hour; the previous value
 * stays valid for one more period on the IAX2 side. */
#ifndef DUNDID_SECRET_H
#define DUNDID_SECRET_H

#include <stdint.h>

#define SECRET_LIFETIME_S 3600

struct secret {
    char current[32];
    char previous[32];
    int64_t expires; /* wall-clock seconds */
};

void secret_init(struct secret *s, int64_t now);
/* Rotate if the current value has expired. */
void secret_refresh(struct secret *s, int64_t now);

#endif
