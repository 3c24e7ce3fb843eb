/* DUNDi keys and envelope with OpenSSL 3 EVP and zlib. */
#include "dundid/crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <zlib.h>

const char *crypto_strerror(int err)
{
    switch (err) {
    case CRYPTO_OK: return "ok";
    case CRYPTO_E_NOFILE: return "key file missing or unreadable";
    case CRYPTO_E_FORMAT: return "not a PEM RSA key";
    case CRYPTO_E_PASSPHRASE: return "private key is passphrase-protected (dundid needs an unencrypted key)";
    case CRYPTO_E_SIZE: return "not a 1024-bit RSA key";
    case CRYPTO_E_MODE: return "private key is readable by group or others (chmod 600)";
    case CRYPTO_E_SIGNATURE: return "signature does not verify";
    case CRYPTO_E_SHAREDKEY: return "shared key does not decrypt";
    case CRYPTO_E_BLOCK: return "encrypted data is not an IV plus whole AES blocks";
    case CRYPTO_E_INFLATE: return "decrypted data is not a zlib stream";
    case CRYPTO_E_TOO_BIG: return "content exceeds the packet limit";
    case CRYPTO_E_INTERNAL: return "internal crypto failure";
    }
    return "unknown crypto error";
}

static FILE *open_key(const char *dir, const char *name, const char *ext, bool private_key, int *err)
{
    char path[4096];
    struct stat st;
    snprintf(path, sizeof(path), "%s/%s.%s", dir, name, ext);
    FILE *f = fopen(path, "r");
    if (!f) {
        *err = CRYPTO_E_NOFILE;
        return NULL;
    }
    if (private_key && fstat(fileno(f), &st) == 0 && (st.st_mode & 077)) {
        fclose(f);
        *err = CRYPTO_E_MODE;
        return NULL;
    }
    return f;
}

/* Passphrase callback: never prompt; an encrypted key is an error. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    *(bool *)u = true;
    return -1;
}

static EVP_PKEY *check_rsa1024(EVP_PKEY *k, int *err)
{
    if (!k) {
        *err = CRYPTO_E_FORMAT;
        return NULL;
    }
    if (EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA || EVP_PKEY_get_bits(k) != DUNDI_RSA_BITS) {
        EVP_PKEY_free(k);
        *err = CRYPTO_E_SIZE;
        return NULL;
    }
    *err = CRYPTO_OK;
    return k;
}

EVP_PKEY *crypto_load_public(const char *dir, const char *name, int *err)
{
    FILE *f = open_key(dir, name, "pub", false, err);
    if (!f)
        return NULL;
    EVP_PKEY *k = PEM_read_PUBKEY(f, NULL, NULL, NULL);
    fclose(f);
    return check_rsa1024(k, err);
}

EVP_PKEY *crypto_load_private(const char *dir, const char *name, int *err)
{
    bool asked = false;
    FILE *f = open_key(dir, name, "key", true, err);
    if (!f)
        return NULL;
    EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, no_passphrase, &asked);
    fclose(f);
    if (!k && asked) {
        *err = CRYPTO_E_PASSPHRASE;
        return NULL;
    }
    return check_rsa1024(k, err);
}

void crypto_free_key(EVP_PKEY *k) { EVP_PKEY_free(k); }

int crypto_generate_pair(const char *dir, const char *name, char *errbuf, size_t errlen)
{
    char path[4096];
    /* Refuse before writing anything: never leave half a pair behind. */
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof(path), "%s/%s.%s", dir, name, i ? "pub" : "key");
        if (access(path, F_OK) == 0) {
            snprintf(errbuf, errlen, "%s: %s", path, strerror(EEXIST));
            return -1;
        }
    }
    EVP_PKEY *k = EVP_RSA_gen(DUNDI_RSA_BITS);
    int rc = -1;
    if (!k) {
        snprintf(errbuf, errlen, "RSA key generation failed");
        return -1;
    }
    snprintf(path, sizeof(path), "%s/%s.key", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        goto out;
    }
    /* Traditional "BEGIN RSA PRIVATE KEY", as astgenkey writes it. */
    BIO *bio = BIO_new_fp(f, BIO_NOCLOSE);
    int wrote = bio && PEM_write_bio_PrivateKey_traditional(bio, k, NULL, NULL, 0, NULL, NULL);
    BIO_free(bio);
    if (!wrote || fclose(f)) {
        snprintf(errbuf, errlen, "%s: write failed", path);
        goto out;
    }
    snprintf(path, sizeof(path), "%s/%s.pub", dir, name);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        goto out;
    }
    if (!PEM_write_PUBKEY(f, k) || fclose(f)) {
        snprintf(errbuf, errlen, "%s: write failed", path);
        goto out;
    }
    rc = 0;
out:
    EVP_PKEY_free(k);
    return rc;
}

uint32_t crypto_keycrc(const uint8_t sharedkey[DUNDI_KEY_BYTES])
{
    return (uint32_t)crc32(0L, sharedkey, DUNDI_KEY_BYTES);
}

int crypto_session_new(struct dundi_session_key *k, EVP_PKEY *peer_pub, EVP_PKEY *our_priv)
{
    int rc = CRYPTO_E_INTERNAL;
    size_t outlen = sizeof(k->sharedkey);
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new(peer_pub, NULL);
    EVP_MD_CTX *md = EVP_MD_CTX_new();

    if (!pc || !md || RAND_bytes(k->aes, sizeof(k->aes)) != 1)
        goto out;
    if (EVP_PKEY_encrypt_init(pc) <= 0 || EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_OAEP_PADDING) <= 0 ||
        EVP_PKEY_encrypt(pc, k->sharedkey, &outlen, k->aes, sizeof(k->aes)) <= 0 || outlen != DUNDI_KEY_BYTES)
        goto out;
    size_t siglen = sizeof(k->signature);
    if (EVP_DigestSignInit(md, NULL, EVP_sha1(), NULL, our_priv) <= 0 ||
        EVP_DigestSign(md, k->signature, &siglen, k->sharedkey, sizeof(k->sharedkey)) <= 0 ||
        siglen != DUNDI_KEY_BYTES)
        goto out;
    k->crc = crypto_keycrc(k->sharedkey);
    rc = CRYPTO_OK;
out:
    EVP_PKEY_CTX_free(pc);
    EVP_MD_CTX_free(md);
    return rc;
}

int crypto_session_accept(uint8_t aes[DUNDI_AES_KEY_LEN], const uint8_t *sharedkey, const uint8_t *signature,
                          EVP_PKEY *peer_pub, EVP_PKEY *our_priv)
{
    int rc = CRYPTO_E_INTERNAL;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new(our_priv, NULL);
    uint8_t plain[DUNDI_KEY_BYTES];
    size_t plainlen = sizeof(plain);

    if (!md || !pc)
        goto out;
    /* Signature first: nothing is decrypted for an unauthenticated sender. */
    if (EVP_DigestVerifyInit(md, NULL, EVP_sha1(), NULL, peer_pub) <= 0 ||
        EVP_DigestVerify(md, signature, DUNDI_KEY_BYTES, sharedkey, DUNDI_KEY_BYTES) != 1) {
        rc = CRYPTO_E_SIGNATURE;
        goto out;
    }
    if (EVP_PKEY_decrypt_init(pc) <= 0 || EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_OAEP_PADDING) <= 0 ||
        EVP_PKEY_decrypt(pc, plain, &plainlen, sharedkey, DUNDI_KEY_BYTES) <= 0 || plainlen != DUNDI_AES_KEY_LEN) {
        rc = CRYPTO_E_SHAREDKEY;
        goto out;
    }
    memcpy(aes, plain, DUNDI_AES_KEY_LEN);
    rc = CRYPTO_OK;
out:
    OPENSSL_cleanse(plain, sizeof(plain));
    EVP_MD_CTX_free(md);
    EVP_PKEY_CTX_free(pc);
    return rc;
}

/* Per-thread contexts, reset per packet instead of built per packet: a
 * zlib state costs hundreds of KB to set up, far more than one envelope. */
struct aes_ctx {
    EVP_CIPHER_CTX *ctx;
    bool keyed;
    uint8_t key[16];
};
static _Thread_local struct aes_ctx aes_enc, aes_dec;
static _Thread_local z_stream zdef, zinf;
static _Thread_local bool zdef_ready, zinf_ready;

/* AES-128-CBC without cipher padding over len bytes (a multiple of 16). The
 * key schedule is kept while the key stays the same (one peer's session
 * key for many packets): then only the IV is set. */
static int aes_cbc(const uint8_t key[16], const uint8_t iv[16], const uint8_t *in, uint8_t *out, size_t len,
                   int enc)
{
    struct aes_ctx *a = enc ? &aes_enc : &aes_dec;
    if (!a->ctx && !(a->ctx = EVP_CIPHER_CTX_new()))
        return CRYPTO_E_INTERNAL;
    bool same = a->keyed && !CRYPTO_memcmp(a->key, key, 16);
    int n1 = 0, n2 = 0;
    int ok = (same ? EVP_CipherInit_ex(a->ctx, NULL, NULL, NULL, iv, enc)
                   : EVP_CipherInit_ex(a->ctx, EVP_aes_128_cbc(), NULL, key, iv, enc)) > 0 &&
             EVP_CIPHER_CTX_set_padding(a->ctx, 0) > 0 && EVP_CipherUpdate(a->ctx, out, &n1, in, (int)len) > 0 &&
             EVP_CipherFinal_ex(a->ctx, out + n1, &n2) > 0 && (size_t)(n1 + n2) == len;
    a->keyed = ok;
    if (ok && !same)
        memcpy(a->key, key, 16);
    return ok ? CRYPTO_OK : CRYPTO_E_INTERNAL;
}

/* A zlib stream, as the reference's compress() makes, with a window and hash
 * sized for one packet (8 KB at most): deflateReset then clears 1 KB of hash
 * instead of 64 KB. Small contents (most answers) go in a stored block:
 * compressing a few hundred bytes saves little and costs more than the rest
 * of the envelope. Any zlib inflater reads both. */
#define ZDEF_WINDOW_BITS 13
#define ZDEF_MEM_LEVEL 2
#define ZDEF_STORE_BELOW 512

static _Thread_local z_stream zstore;
static _Thread_local bool zstore_ready;

static int deflate_once(const uint8_t *in, size_t len, uint8_t *out, size_t cap, size_t *outlen)
{
    bool store = len < ZDEF_STORE_BELOW;
    z_stream *z = store ? &zstore : &zdef;
    bool *ready = store ? &zstore_ready : &zdef_ready;
    if (!*ready) {
        if (deflateInit2(z, store ? Z_NO_COMPRESSION : Z_DEFAULT_COMPRESSION, Z_DEFLATED, ZDEF_WINDOW_BITS,
                         ZDEF_MEM_LEVEL, Z_DEFAULT_STRATEGY) != Z_OK)
            return CRYPTO_E_INTERNAL;
        *ready = true;
    } else if (deflateReset(z) != Z_OK) {
        return CRYPTO_E_INTERNAL;
    }
    z->next_in = (Bytef *)in;
    z->avail_in = (uInt)len;
    z->next_out = out;
    z->avail_out = (uInt)cap;
    if (deflate(z, Z_FINISH) != Z_STREAM_END)
        return CRYPTO_E_TOO_BIG;
    *outlen = cap - z->avail_out;
    return CRYPTO_OK;
}

/* IVs from a pool of random bytes refilled 4 KB at a time: one RAND_bytes
 * call per packet costs more than the AES of that packet. */
static _Thread_local uint8_t iv_pool[4096];
static _Thread_local size_t iv_left;

static int next_iv(uint8_t iv[DUNDI_IV_LEN])
{
    if (iv_left < DUNDI_IV_LEN) {
        if (RAND_bytes(iv_pool, sizeof(iv_pool)) != 1)
            return -1;
        iv_left = sizeof(iv_pool);
    }
    iv_left -= DUNDI_IV_LEN;
    memcpy(iv, iv_pool + iv_left, DUNDI_IV_LEN);
    OPENSSL_cleanse(iv_pool + iv_left, DUNDI_IV_LEN); /* each IV is used once */
    return 0;
}

int crypto_seal(const uint8_t aes[DUNDI_AES_KEY_LEN], const uint8_t *pkt, size_t len, uint8_t iv[DUNDI_IV_LEN],
                uint8_t *ct, size_t ctcap, size_t *ctlen)
{
    uint8_t z[DUNDI_MAX_PACKET + 64];
    size_t zlen;

    if (len < DUNDI_HDR_LEN || len > DUNDI_MAX_PACKET)
        return CRYPTO_E_TOO_BIG;
    int rc = deflate_once(pkt + 6, len - 6, z, sizeof(z), &zlen);
    if (rc != CRYPTO_OK)
        return rc;
    size_t padded = (zlen + 15) & ~(size_t)15;
    if (padded > ctcap || padded > sizeof(z))
        return CRYPTO_E_TOO_BIG;
    memset(z + zlen, 0, padded - zlen); /* zero padding, not PKCS#7 */
    if (next_iv(iv) < 0)
        return CRYPTO_E_INTERNAL;
    *ctlen = padded;
    return aes_cbc(aes, iv, z, ct, padded, 1);
}

int crypto_open(const uint8_t aes[DUNDI_AES_KEY_LEN], const uint8_t *encdata, size_t enclen, uint8_t *out,
                size_t outcap, size_t *outlen)
{
    uint8_t plain[DUNDI_MAX_PACKET];

    if (enclen <= DUNDI_IV_LEN || (enclen - DUNDI_IV_LEN) % 16 || enclen - DUNDI_IV_LEN > sizeof(plain))
        return CRYPTO_E_BLOCK;
    size_t clen = enclen - DUNDI_IV_LEN;
    if (aes_cbc(aes, encdata, encdata + DUNDI_IV_LEN, plain, clen, 0) != CRYPTO_OK)
        return CRYPTO_E_INTERNAL;

    /* Inflate to the end of the stream; the zero padding after it is ignored. */
    if (!zinf_ready) {
        if (inflateInit(&zinf) != Z_OK)
            return CRYPTO_E_INTERNAL;
        zinf_ready = true;
    } else if (inflateReset(&zinf) != Z_OK) {
        return CRYPTO_E_INTERNAL;
    }
    z_stream *zs = &zinf;
    size_t cap = outcap < DUNDI_MAX_INNER ? outcap : DUNDI_MAX_INNER;
    zs->next_in = plain;
    zs->avail_in = (uInt)clen;
    zs->next_out = out;
    zs->avail_out = (uInt)cap;
    int zr = inflate(zs, Z_FINISH);
    size_t produced = cap - zs->avail_out;
    if (zr == Z_STREAM_END) {
        *outlen = produced;
        return produced >= 2 ? CRYPTO_OK : CRYPTO_E_INFLATE; /* at least cmdresp + cmdflags */
    }
    if ((zr == Z_BUF_ERROR || zr == Z_OK) && zs->avail_out == 0)
        return CRYPTO_E_TOO_BIG;
    return CRYPTO_E_INFLATE;
}
