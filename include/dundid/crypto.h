/* DUNDi encryption (protocol section 6): RSA key files as astgenkey writes
 * them, signed RSA-OAEP session keys, and the ENCRYPT envelope (zlib inside
 * AES-128-CBC). Pure apart from reading key files; OpenSSL EVP only. */
#ifndef DUNDID_CRYPTO_H
#define DUNDID_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dundid/wire.h"

#define DUNDI_AES_KEY_LEN 16
#define DUNDI_IV_LEN 16
#define DUNDI_RSA_BITS 1024
/* Inner content of an envelope: the reference's limit (8192 - 6). */
#define DUNDI_MAX_INNER (8192 - 6)

typedef struct evp_pkey_st EVP_PKEY;

enum crypto_err {
    CRYPTO_OK = 0,
    CRYPTO_E_NOFILE = -1,     /* key file missing or unreadable */
    CRYPTO_E_FORMAT = -2,     /* not a PEM RSA key */
    CRYPTO_E_PASSPHRASE = -3, /* encrypted private key */
    CRYPTO_E_SIZE = -4,       /* not 1024-bit RSA */
    CRYPTO_E_MODE = -5,       /* private key readable by group or others */
    CRYPTO_E_SIGNATURE = -6,  /* SIGNATURE does not verify */
    CRYPTO_E_SHAREDKEY = -7,  /* SHAREDKEY does not decrypt to 16 bytes */
    CRYPTO_E_BLOCK = -8,      /* ENCDATA not IV + whole blocks */
    CRYPTO_E_INFLATE = -9,    /* decrypted bytes are not a zlib stream */
    CRYPTO_E_TOO_BIG = -10,   /* inflates past the inner limit / envelope too big */
    CRYPTO_E_INTERNAL = -11,  /* OpenSSL or allocation failure */
};

const char *crypto_strerror(int err);

/* Load NAME.pub or NAME.key from dir. Private keys must be unencrypted and
 * not readable by group/others (as the reference insists). */
EVP_PKEY *crypto_load_public(const char *dir, const char *name, int *err);
EVP_PKEY *crypto_load_private(const char *dir, const char *name, int *err);
void crypto_free_key(EVP_PKEY *k);

/* Write an Asterisk-compatible pair DIR/NAME.key (0600) and DIR/NAME.pub. */
int crypto_generate_pair(const char *dir, const char *name, char *errbuf, size_t errlen);

/* Our session key towards one peer and its signed, encrypted form. */
struct dundi_session_key {
    uint8_t aes[DUNDI_AES_KEY_LEN];
    uint8_t sharedkey[DUNDI_KEY_BYTES]; /* RSA-OAEP(aes) with the peer's public key */
    uint8_t signature[DUNDI_KEY_BYTES]; /* RSA-SHA1 over sharedkey with our private key */
    uint32_t crc;                       /* crc32 of sharedkey: the KEYCRC32 value */
};

/* A fresh random key, encrypted to peer_pub and signed with our_priv. */
int crypto_session_new(struct dundi_session_key *k, EVP_PKEY *peer_pub, EVP_PKEY *our_priv);
/* Receiver side of 6.4 step 5: verify signature with peer_pub, then decrypt
 * sharedkey with our_priv into aes (exactly 16 bytes). */
int crypto_session_accept(uint8_t aes[DUNDI_AES_KEY_LEN], const uint8_t *sharedkey, const uint8_t *signature,
                          EVP_PKEY *peer_pub, EVP_PKEY *our_priv);
uint32_t crypto_keycrc(const uint8_t sharedkey[DUNDI_KEY_BYTES]);

/* Envelope body: compress pkt[6..len) (cmdresp, cmdflags, IEs), zero-pad to
 * 16, AES-128-CBC with a fresh random IV. Writes iv and ct (ctlen bytes). */
int crypto_seal(const uint8_t aes[DUNDI_AES_KEY_LEN], const uint8_t *pkt, size_t len, uint8_t iv[DUNDI_IV_LEN],
                uint8_t *ct, size_t ctcap, size_t *ctlen);
/* Open ENCDATA (IV + ciphertext): decrypt, inflate to end of stream
 * (trailing zero padding ignored) into out (starts with cmdresp). */
int crypto_open(const uint8_t aes[DUNDI_AES_KEY_LEN], const uint8_t *encdata, size_t enclen, uint8_t *out,
                size_t outcap, size_t *outlen);

#endif
