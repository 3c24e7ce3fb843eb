#include "dundid/secret.h"

#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

static void make_secret(char out[32])
{
    unsigned char raw[16];
    unsigned char b64[32];
    if (RAND_bytes(raw, sizeof(raw)) != 1)
        memset(raw, 0, sizeof(raw)); /* unreachable in practice; never leaves garbage */
    EVP_EncodeBlock(b64, raw, sizeof(raw)); /* 24 characters + NUL */
    for (char *p = (char *)b64; *p; p++)
        if (*p == ';' || *p == '/' || *p == ':' || *p == '@')
            *p = '+';
    memcpy(out, b64, 25);
}

void secret_init(struct secret *s, int64_t now)
{
    memset(s, 0, sizeof(*s));
    make_secret(s->current);
    s->expires = now + SECRET_LIFETIME_S;
}

void secret_refresh(struct secret *s, int64_t now)
{
    if (now < s->expires)
        return;
    memcpy(s->previous, s->current, sizeof(s->previous));
    make_secret(s->current);
    s->expires = now + SECRET_LIFETIME_S;
}
