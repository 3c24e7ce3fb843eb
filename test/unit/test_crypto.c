/* Unit tests of the DUNDi crypto layer (protocol section 6): the 6.5 envelope
 * test vector, seal/open round trips, session keys with the Asterisk test
 * pair, every rejection path with its error code, and key file loading and
 * generation. argv[1] = test data directory (dundi.key, dundi.pub). */
#include "dundid/crypto.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <zlib.h>

#include "testutil.h"

static char tmpdir[] = "/tmp/test_crypto.XXXXXX";
static const char *datadir;

static const uint8_t key0f[16] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
                                  0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};

/* ---- helpers ---- */

static uint32_t rng_state = 0x12345678u;
static uint8_t rnd8(void) /* deterministic xorshift: reproducible "random" data */
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return (uint8_t)(rng_state >> 11);
}

static void path_of(char *buf, size_t len, const char *name) { snprintf(buf, len, "%s/%s", tmpdir, name); }

static int write_file(const char *name, const void *data, size_t len, mode_t mode)
{
    char p[512];
    path_of(p, sizeof(p), name);
    unlink(p);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0)
        return -1;
    ssize_t w = write(fd, data, len);
    int rc = (w == (ssize_t)len && fchmod(fd, mode) == 0) ? 0 : -1;
    close(fd);
    return rc;
}

/* Read a whole file into a malloc'd buffer (NUL-terminated); NULL on error. */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        size_t r = fread(buf + n, 1, 4096, f);
        n += r;
        if (r == 0)
            break;
    }
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

static int copy_in(const char *src_name, const char *dst_name, mode_t mode)
{
    char p[512];
    size_t n;
    snprintf(p, sizeof(p), "%s/%s", datadir, src_name);
    char *d = read_file(p, &n);
    if (!d)
        return -1;
    int rc = write_file(dst_name, d, n, mode);
    free(d);
    return rc;
}

static int write_pem_key(const char *name, EVP_PKEY *k, bool priv, const EVP_CIPHER *enc, bool traditional)
{
    char p[512];
    path_of(p, sizeof(p), name);
    unlink(p);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    static char pass[] = "secret-passphrase";
    int ok;
    if (!priv) {
        ok = PEM_write_PUBKEY(f, k);
    } else if (traditional) {
        BIO *bio = BIO_new_fp(f, BIO_NOCLOSE);
        ok = bio && PEM_write_bio_PrivateKey_traditional(bio, k, enc, enc ? (unsigned char *)pass : NULL,
                                                          enc ? (int)strlen(pass) : 0, NULL, NULL);
        BIO_free(bio);
    } else {
        ok = PEM_write_PrivateKey(f, k, enc, enc ? (unsigned char *)pass : NULL, enc ? (int)strlen(pass) : 0,
                                  NULL, NULL);
    }
    return fclose(f) == 0 && ok ? 0 : -1;
}

static void cleanup_tmpdir(void)
{
    DIR *d = opendir(tmpdir);
    if (d) {
        struct dirent *e;
        char p[1024];
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            snprintf(p, sizeof(p), "%s/%s", tmpdir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(tmpdir);
}

/* AES-128-CBC without padding, done here independently of crypto.c. */
static int aes_encrypt(const uint8_t key[16], const uint8_t iv[16], const uint8_t *in, uint8_t *out, size_t len)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n1 = 0, n2 = 0;
    int ok = c && EVP_EncryptInit_ex(c, EVP_aes_128_cbc(), NULL, key, iv) > 0 && EVP_CIPHER_CTX_set_padding(c, 0) > 0 &&
             EVP_EncryptUpdate(c, out, &n1, in, (int)len) > 0 && EVP_EncryptFinal_ex(c, out + n1, &n2) > 0 &&
             (size_t)(n1 + n2) == len;
    EVP_CIPHER_CTX_free(c);
    return ok ? 0 : -1;
}

/* Build ENCDATA (IV f0..ff + AES(zlib(inner) zero-padded)) by hand. Returns length or 0. */
static size_t make_encdata(const uint8_t key[16], const uint8_t *inner, size_t innerlen, uint8_t *enc, size_t enccap)
{
    uLongf zlen = compressBound((uLong)innerlen);
    uint8_t *z = calloc(1, zlen + 16);
    if (!z || compress(z, &zlen, inner, (uLong)innerlen) != Z_OK) {
        free(z);
        return 0;
    }
    size_t padded = (zlen + 15) & ~(size_t)15;
    if (padded == 0)
        padded = 16;
    if (16 + padded > enccap) {
        free(z);
        return 0;
    }
    for (int i = 0; i < 16; i++)
        enc[i] = (uint8_t)(0xf0 + i);
    int rc = aes_encrypt(key, enc, z, enc + 16, padded);
    free(z);
    return rc == 0 ? 16 + padded : 0;
}

/* ---- 1. the 6.5 test vector ---- */

static const uint8_t vec_plain[39] = {
    0x12, 0x34, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x0a, 0x02, 0x00, 0x01, 0x04, 0x06, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
    0x03, 0x07, 0x35, 0x35, 0x35, 0x31, 0x32, 0x31, 0x32, 0x02, 0x04, 0x65, 0x31, 0x36, 0x34, 0x06, 0x02, 0x00, 0x20,
};
static const uint8_t vec_zlib[41] = {
    0x78, 0x9c, 0x63, 0x64, 0xe0, 0x62, 0x62, 0x60, 0x64, 0x61, 0x63, 0x10, 0x54, 0x32,
    0x76, 0x09, 0x65, 0x66, 0x37, 0x35, 0x35, 0x35, 0x34, 0x32, 0x34, 0x62, 0x62, 0x49,
    0x35, 0x34, 0x33, 0x61, 0x63, 0x62, 0x50, 0x00, 0x00, 0x33, 0xa6, 0x03, 0xb5,
};
static const uint8_t vec_ct[48] = {
    0xef, 0x84, 0x32, 0x94, 0xe3, 0xcb, 0xe9, 0x05, 0x9e, 0xa8, 0xed, 0xf8, 0x50, 0xa6, 0x74, 0xb4,
    0xfb, 0x3d, 0xcc, 0x67, 0xa5, 0x8c, 0x1c, 0x02, 0x39, 0xa1, 0xa6, 0x8c, 0xb1, 0x02, 0x0c, 0x03,
    0xd6, 0xf7, 0xab, 0x2e, 0xb6, 0xa4, 0x0c, 0xb0, 0x45, 0x3f, 0xa2, 0x08, 0x27, 0x0a, 0x63, 0x56,
};

static void vec_encdata(uint8_t enc[64])
{
    for (int i = 0; i < 16; i++)
        enc[i] = (uint8_t)(0xf0 + i);
    memcpy(enc + 16, vec_ct, sizeof(vec_ct));
}

static void test_vector(void)
{
    uint8_t enc[64], out[DUNDI_MAX_INNER];
    size_t outlen = 0;
    vec_encdata(enc);
    int rc = crypto_open(key0f, enc, sizeof(enc), out, sizeof(out), &outlen);
    CHECK_INT(rc, CRYPTO_OK);
    CHECK_INT(outlen, sizeof(vec_plain) - 6);
    CHECK(outlen == sizeof(vec_plain) - 6 && memcmp(out, vec_plain + 6, outlen) == 0,
          "6.5 vector: inflated bytes differ from plaintext bytes 6..38");
    CHECK_INT(out[0], 0x01); /* DPDISCOVER, F clear */
    CHECK_INT(out[1], 0x00);

    /* Our own AES agrees with the vector (checks the test helper and the vector). */
    uint8_t padded[48] = {0}, ct[48];
    memcpy(padded, vec_zlib, sizeof(vec_zlib));
    CHECK(aes_encrypt(key0f, enc, padded, ct, 48) == 0 && memcmp(ct, vec_ct, 48) == 0,
          "AES-128-CBC of the listed zlib bytes gives the listed ciphertext");

    /* Exactly the inner length as outcap still opens; one less is too big. */
    rc = crypto_open(key0f, enc, sizeof(enc), out, sizeof(vec_plain) - 6, &outlen);
    CHECK_INT(rc, CRYPTO_OK);
    rc = crypto_open(key0f, enc, sizeof(enc), out, sizeof(vec_plain) - 7, &outlen);
    CHECK_INT(rc, CRYPTO_E_TOO_BIG);

    uint8_t sk[DUNDI_KEY_BYTES];
    for (int i = 0; i < DUNDI_KEY_BYTES; i++)
        sk[i] = (uint8_t)i;
    CHECK_INT(crypto_keycrc(sk), 0x24650D57u);
}

/* ---- 2. seal / open round trips ---- */

static int round_trip(const char *what, const uint8_t *pkt, size_t len)
{
    static uint8_t ct[DUNDI_MAX_PACKET + 64], ct2[DUNDI_MAX_PACKET + 64], enc[DUNDI_MAX_PACKET + 128];
    static uint8_t out[DUNDI_MAX_INNER];
    uint8_t iv[DUNDI_IV_LEN], iv2[DUNDI_IV_LEN];
    size_t ctlen = 0, ctlen2 = 0, outlen = 0;

    int rc = crypto_seal(key0f, pkt, len, iv, ct, sizeof(ct), &ctlen);
    if (!CHECK(rc == CRYPTO_OK, "%s: seal: %s", what, crypto_strerror(rc)))
        return 0;
    CHECK(ctlen > 0 && ctlen % 16 == 0, "%s: ciphertext length %zu not a multiple of 16", what, ctlen);
    memcpy(enc, iv, 16);
    memcpy(enc + 16, ct, ctlen);
    rc = crypto_open(key0f, enc, 16 + ctlen, out, sizeof(out), &outlen);
    CHECK(rc == CRYPTO_OK, "%s: open: %s", what, crypto_strerror(rc));
    CHECK(rc == CRYPTO_OK && outlen == len - 6 && memcmp(out, pkt + 6, len - 6) == 0,
          "%s: round trip differs (len %zu, want %zu)", what, outlen, len - 6);

    rc = crypto_seal(key0f, pkt, len, iv2, ct2, sizeof(ct2), &ctlen2);
    CHECK(rc == CRYPTO_OK && memcmp(iv, iv2, 16) != 0, "%s: two seals share an IV", what);
    CHECK(rc == CRYPTO_OK && (ctlen != ctlen2 || memcmp(ct, ct2, ctlen) != 0),
          "%s: two seals give the same ciphertext", what);
    return 1;
}

/* A packet of many IEs (mixed text and raw values) of exactly total bytes. */
static size_t build_many_ies(uint8_t *pkt, size_t total)
{
    static const uint8_t hdr[8] = {0x12, 0x34, 0x56, 0x78, 0x01, 0x02, 0xc2, 0x00};
    memcpy(pkt, hdr, 8);
    size_t off = 8;
    unsigned n = 0;
    while (off < total) {
        size_t room = total - off;
        if (room < 2) { /* a single byte left: pad (crypto does not parse IEs) */
            pkt[off++] = 0;
            continue;
        }
        size_t vlen = (n * 37) % 120 + 10;
        if (vlen > room - 2)
            vlen = room - 2;
        pkt[off] = (n % 3 == 0) ? DUNDI_IE_ANSWER : (n % 3 == 1) ? DUNDI_IE_HINT : DUNDI_IE_CALLED_NUMBER;
        pkt[off + 1] = (uint8_t)vlen;
        for (size_t i = 0; i < vlen; i++)
            pkt[off + 2 + i] = (n % 5 == 0) ? rnd8() : (uint8_t)('0' + (i + n) % 10);
        off += 2 + vlen;
        n++;
    }
    return off;
}

static void test_round_trips(void)
{
    static uint8_t pkt[DUNDI_MAX_PACKET];
    static const uint8_t hdr_only[8] = {0xab, 0xcd, 0x00, 0x01, 0x02, 0x03, 0x80 | DUNDI_CMD_ACK, 0x00};

    round_trip("header only", hdr_only, sizeof(hdr_only));
    round_trip("DPDISCOVER", vec_plain, sizeof(vec_plain));
    round_trip("4000 bytes", pkt, build_many_ies(pkt, 4000));
    round_trip("near max", pkt, build_many_ies(pkt, DUNDI_MAX_PACKET - 3));
    round_trip("max", pkt, build_many_ies(pkt, DUNDI_MAX_PACKET));

    /* The seal bounds: shorter than a header, longer than a packet, tiny ctcap. */
    uint8_t iv[16], ct[64];
    size_t ctlen;
    CHECK_INT(crypto_seal(key0f, hdr_only, 7, iv, ct, sizeof(ct), &ctlen), CRYPTO_E_TOO_BIG);
    CHECK_INT(crypto_seal(key0f, pkt, DUNDI_MAX_PACKET + 1, iv, ct, sizeof(ct), &ctlen), CRYPTO_E_TOO_BIG);
    CHECK_INT(crypto_seal(key0f, vec_plain, sizeof(vec_plain), iv, ct, 16, &ctlen), CRYPTO_E_TOO_BIG);
}

/* ---- 3. session keys ---- */

static EVP_PKEY *pub, *priv, *other_pub, *other_priv;

static void test_sessions(void)
{
    struct dundi_session_key k1, k2;
    uint8_t aes[16];

    if (!CHECK(pub && priv, "test pair loaded"))
        return;
    int rc = crypto_session_new(&k1, pub, priv);
    CHECK_INT(rc, CRYPTO_OK);
    CHECK_INT(crypto_session_new(&k2, pub, priv), CRYPTO_OK);
    memset(aes, 0, sizeof(aes));
    rc = crypto_session_accept(aes, k1.sharedkey, k1.signature, pub, priv);
    CHECK_INT(rc, CRYPTO_OK);
    CHECK(rc == CRYPTO_OK && memcmp(aes, k1.aes, 16) == 0, "accepted AES key differs from the sent one");
    CHECK_INT(k1.crc, crypto_keycrc(k1.sharedkey));
    CHECK_INT(k1.crc, (uint32_t)crc32(0L, k1.sharedkey, DUNDI_KEY_BYTES));
    CHECK(memcmp(k1.aes, k2.aes, 16) != 0, "two sessions share an AES key");
    CHECK(memcmp(k1.sharedkey, k2.sharedkey, DUNDI_KEY_BYTES) != 0, "two sessions share a SHAREDKEY");
    CHECK(k1.crc != k2.crc, "two sessions share a KEYCRC32");
    rc = crypto_session_accept(aes, k2.sharedkey, k2.signature, pub, priv);
    CHECK(rc == CRYPTO_OK && memcmp(aes, k2.aes, 16) == 0, "second session: %s", crypto_strerror(rc));

    /* The session key also works for the envelope. */
    uint8_t iv[16], ct[128], enc[160], out[64];
    size_t ctlen, outlen;
    if (crypto_seal(k1.aes, vec_plain, sizeof(vec_plain), iv, ct, sizeof(ct), &ctlen) == CRYPTO_OK) {
        memcpy(enc, iv, 16);
        memcpy(enc + 16, ct, ctlen);
        CHECK_INT(crypto_open(aes, enc, 16 + ctlen, out, sizeof(out), &outlen), CRYPTO_E_INFLATE); /* k2's key */
        CHECK_INT(crypto_open(k1.aes, enc, 16 + ctlen, out, sizeof(out), &outlen), CRYPTO_OK);
    }

    /* Rejections. */
    uint8_t bad[DUNDI_KEY_BYTES];
    for (int bit = 0; bit < DUNDI_KEY_BYTES * 8; bit += 173) {
        memcpy(bad, k1.sharedkey, sizeof(bad));
        bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        rc = crypto_session_accept(aes, bad, k1.signature, pub, priv);
        CHECK(rc == CRYPTO_E_SIGNATURE, "SHAREDKEY bit %d flipped: %s", bit, crypto_strerror(rc));
        memcpy(bad, k1.signature, sizeof(bad));
        bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        rc = crypto_session_accept(aes, k1.sharedkey, bad, pub, priv);
        CHECK(rc == CRYPTO_E_SIGNATURE, "SIGNATURE bit %d flipped: %s", bit, crypto_strerror(rc));
    }
    /* Swapped signature of another session. */
    CHECK_INT(crypto_session_accept(aes, k1.sharedkey, k2.signature, pub, priv), CRYPTO_E_SIGNATURE);

    /* Correctly signed SHAREDKEYs whose plaintext is not 16 bytes. */
    static const size_t lens[] = {15, 17, 1, 32};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        uint8_t plain[32], sk[DUNDI_KEY_BYTES], sig[DUNDI_KEY_BYTES];
        size_t sklen = sizeof(sk), siglen = sizeof(sig);
        memset(plain, 0x5a, sizeof(plain));
        EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new(pub, NULL);
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        int ok = pc && md && EVP_PKEY_encrypt_init(pc) > 0 &&
                 EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_OAEP_PADDING) > 0 &&
                 EVP_PKEY_encrypt(pc, sk, &sklen, plain, lens[i]) > 0 && sklen == DUNDI_KEY_BYTES &&
                 EVP_DigestSignInit(md, NULL, EVP_sha1(), NULL, priv) > 0 &&
                 EVP_DigestSign(md, sig, &siglen, sk, sizeof(sk)) > 0 && siglen == DUNDI_KEY_BYTES;
        EVP_PKEY_CTX_free(pc);
        EVP_MD_CTX_free(md);
        if (CHECK(ok, "building a %zu-byte SHAREDKEY", lens[i])) {
            rc = crypto_session_accept(aes, sk, sig, pub, priv);
            CHECK(rc == CRYPTO_E_SHAREDKEY, "SHAREDKEY of %zu bytes: %s", lens[i], crypto_strerror(rc));
        }
    }

    /* Another key pair. */
    if (CHECK(other_pub && other_priv, "generated pair loaded")) {
        /* Signed by someone else: the signature check fails. */
        rc = crypto_session_accept(aes, k1.sharedkey, k1.signature, other_pub, priv);
        CHECK_INT(rc, CRYPTO_E_SIGNATURE);
        struct dundi_session_key k3;
        CHECK_INT(crypto_session_new(&k3, pub, other_priv), CRYPTO_OK);
        CHECK_INT(crypto_session_accept(aes, k3.sharedkey, k3.signature, pub, priv), CRYPTO_E_SIGNATURE);
        CHECK_INT(crypto_session_accept(aes, k3.sharedkey, k3.signature, other_pub, priv), CRYPTO_OK);
        CHECK(memcmp(aes, k3.aes, 16) == 0, "cross-pair session key recovered");
        /* Properly signed but encrypted to another key: decryption fails. */
        CHECK_INT(crypto_session_new(&k3, other_pub, priv), CRYPTO_OK);
        CHECK_INT(crypto_session_accept(aes, k3.sharedkey, k3.signature, pub, priv), CRYPTO_E_SHAREDKEY);
        CHECK_INT(crypto_session_accept(aes, k3.sharedkey, k3.signature, pub, other_priv), CRYPTO_OK);
    }
}

/* ---- 4. envelope rejections ---- */

static void test_open_rejections(void)
{
    uint8_t enc[64], out[DUNDI_MAX_INNER];
    size_t outlen;
    uint8_t wrong[16];

    vec_encdata(enc);
    for (int i = 0; i < 16; i++)
        wrong[i] = (uint8_t)(15 - i);
    CHECK_INT(crypto_open(wrong, enc, sizeof(enc), out, sizeof(out), &outlen), CRYPTO_E_INFLATE);
    memcpy(wrong, key0f, 16); /* one bit off the right key */
    wrong[15] ^= 0x80;
    CHECK_INT(crypto_open(wrong, enc, sizeof(enc), out, sizeof(out), &outlen), CRYPTO_E_INFLATE);

    /* Block structure. */
    CHECK_INT(crypto_open(key0f, enc, 0, out, sizeof(out), &outlen), CRYPTO_E_BLOCK);
    CHECK_INT(crypto_open(key0f, enc, 1, out, sizeof(out), &outlen), CRYPTO_E_BLOCK);
    CHECK_INT(crypto_open(key0f, enc, 16, out, sizeof(out), &outlen), CRYPTO_E_BLOCK);
    CHECK_INT(crypto_open(key0f, enc, 17, out, sizeof(out), &outlen), CRYPTO_E_BLOCK);
    CHECK_INT(crypto_open(key0f, enc, 31, out, sizeof(out), &outlen), CRYPTO_E_BLOCK);
    CHECK_INT(crypto_open(key0f, enc, 63, out, sizeof(out), &outlen), CRYPTO_E_BLOCK);
    CHECK_INT(crypto_open(key0f, enc, 40, out, sizeof(out), &outlen), CRYPTO_E_BLOCK);
    /* Truncated to whole blocks: a cut zlib stream. */
    CHECK_INT(crypto_open(key0f, enc, 48, out, sizeof(out), &outlen), CRYPTO_E_INFLATE);
    /* Larger than any packet could carry. */
    static uint8_t huge[16 + DUNDI_MAX_PACKET + 32];
    CHECK_INT(crypto_open(key0f, huge, 16 + ((DUNDI_MAX_PACKET + 16) & ~15), out, sizeof(out), &outlen),
              CRYPTO_E_BLOCK);

    /* Random ciphertext (deterministic), many lengths. */
    int bad = 0;
    for (int t = 0; t < 200; t++) {
        size_t len = 16 + 16 * (size_t)(1 + t % 20);
        for (size_t i = 0; i < len; i++)
            huge[i] = rnd8();
        int rc = crypto_open(key0f, huge, len, out, sizeof(out), &outlen);
        if (rc != CRYPTO_E_INFLATE && !bad++)
            CHECK(0, "random ciphertext #%d (%zu bytes): %s", t, len, crypto_strerror(rc));
    }
    CHECK(bad == 0, "%d of 200 random ciphertexts not rejected as INFLATE", bad);

    /* A correct zlib stream of fewer than 2 bytes (no cmdresp/cmdflags). */
    uint8_t one = 0x01;
    size_t n = make_encdata(key0f, &one, 1, huge, sizeof(huge));
    CHECK(n && crypto_open(key0f, huge, n, out, sizeof(out), &outlen) == CRYPTO_E_INFLATE,
          "1-byte inner content refused");
    n = make_encdata(key0f, &one, 0, huge, sizeof(huge));
    CHECK(n && crypto_open(key0f, huge, n, out, sizeof(out), &outlen) == CRYPTO_E_INFLATE,
          "empty inner content refused");
    /* Our own hand-made envelope of the DPDISCOVER opens (helper sanity). */
    n = make_encdata(key0f, vec_plain + 6, sizeof(vec_plain) - 6, huge, sizeof(huge));
    CHECK(n && crypto_open(key0f, huge, n, out, sizeof(out), &outlen) == CRYPTO_OK &&
              outlen == sizeof(vec_plain) - 6,
          "hand-made envelope opens");

    /* zlib bomb: 100000 zero bytes compress to ~100 bytes. */
    static uint8_t zeros[100000];
    static uint8_t bomb[1024];
    n = make_encdata(key0f, zeros, sizeof(zeros), bomb, sizeof(bomb));
    if (CHECK(n > 16 && n < 1024, "bomb built (%zu bytes)", n)) {
        static const size_t caps[] = {DUNDI_MAX_INNER, DUNDI_MAX_INNER - 1, 4096, 100, 16, 2, 1, 0, 20000};
        for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
            size_t cap = caps[i];
            /* Exactly cap bytes on the heap: ASan flags any write past it. */
            uint8_t *o = malloc(cap ? cap : 1);
            outlen = 12345;
            int rc = crypto_open(key0f, bomb, n, o, cap, &outlen);
            CHECK(rc == CRYPTO_E_TOO_BIG, "bomb, outcap %zu: %s", cap, crypto_strerror(rc));
            free(o);
            /* Canary after cap bytes: checks the bound without ASan too. */
            o = malloc(cap + 64);
            memset(o, 0xa5, cap + 64);
            rc = crypto_open(key0f, bomb, n, o, cap, &outlen);
            int intact = 1;
            for (size_t j = cap; j < cap + 64; j++)
                intact &= o[j] == 0xa5;
            CHECK(intact, "bomb, outcap %zu: wrote past outcap", cap);
            if (cap > DUNDI_MAX_INNER) {
                for (size_t j = DUNDI_MAX_INNER; j < cap; j++)
                    intact &= o[j] == 0xa5;
                CHECK(intact, "bomb, outcap %zu: wrote past DUNDI_MAX_INNER", cap);
            }
            free(o);
        }
    }

    /* Tiny outcap with a normal packet. */
    vec_encdata(enc);
    for (size_t cap = 0; cap < sizeof(vec_plain) - 6; cap++) {
        uint8_t *o = malloc(cap ? cap : 1);
        int rc = crypto_open(key0f, enc, sizeof(enc), o, cap, &outlen);
        if (!CHECK(rc == CRYPTO_E_TOO_BIG, "DPDISCOVER, outcap %zu: %s", cap, crypto_strerror(rc))) {
            free(o);
            break;
        }
        free(o);
    }

    /* Inner content of exactly DUNDI_MAX_INNER bytes opens; one more is too big. */
    static uint8_t inner[DUNDI_MAX_INNER + 1];
    for (size_t i = 0; i < sizeof(inner); i++)
        inner[i] = (uint8_t)(i % 251);
    n = make_encdata(key0f, inner, DUNDI_MAX_INNER, huge, sizeof(huge));
    CHECK(n && crypto_open(key0f, huge, n, out, sizeof(out), &outlen) == CRYPTO_OK && outlen == DUNDI_MAX_INNER,
          "inner of DUNDI_MAX_INNER bytes opens");
    n = make_encdata(key0f, inner, DUNDI_MAX_INNER + 1, huge, sizeof(huge));
    uint8_t *big = malloc(DUNDI_MAX_INNER + 100);
    CHECK(n && crypto_open(key0f, huge, n, big, DUNDI_MAX_INNER + 100, &outlen) == CRYPTO_E_TOO_BIG,
          "inner of DUNDI_MAX_INNER+1 bytes refused");
    free(big);
}

/* ---- 5. key files ---- */

static void test_key_files(void)
{
    int err = 12345;
    EVP_PKEY *k;

    /* The Asterisk test pair, private key copied with mode 0600. */
    CHECK(copy_in("dundi.key", "dundi.key", 0600) == 0 && copy_in("dundi.pub", "dundi.pub", 0644) == 0,
          "copying the test pair");
    pub = crypto_load_public(tmpdir, "dundi", &err);
    CHECK(pub && err == CRYPTO_OK, "load dundi.pub: %s", crypto_strerror(err));
    err = 12345;
    priv = crypto_load_private(tmpdir, "dundi", &err);
    CHECK(priv && err == CRYPTO_OK, "load dundi.key: %s", crypto_strerror(err));
    err = 12345;
    k = crypto_load_public(datadir, "dundi", &err);
    CHECK(k && err == CRYPTO_OK, "load dundi.pub from the data dir: %s", crypto_strerror(err));
    if (k && pub)
        CHECK(EVP_PKEY_eq(k, pub) == 1, "same public key");
    if (priv && pub)
        CHECK(EVP_PKEY_eq(priv, pub) == 1, "dundi.key and dundi.pub are a pair");
    crypto_free_key(k);

    /* Mode: group/other readable private keys are refused. */
    static const mode_t bad_modes[] = {0644, 0640, 0604, 0660, 0602, 0610};
    for (size_t i = 0; i < sizeof(bad_modes) / sizeof(bad_modes[0]); i++) {
        copy_in("dundi.key", "open.key", bad_modes[i]);
        k = crypto_load_private(tmpdir, "open", &err);
        CHECK(!k && err == CRYPTO_E_MODE, "mode %04o: %s", (unsigned)bad_modes[i], crypto_strerror(err));
        crypto_free_key(k);
    }
    copy_in("dundi.key", "ro.key", 0400);
    k = crypto_load_private(tmpdir, "ro", &err);
    CHECK(k && err == CRYPTO_OK, "mode 0400: %s", crypto_strerror(err));
    crypto_free_key(k);

    /* Passphrase-protected: PKCS#8 and traditional (genrsa -des3 style). */
    if (priv) {
        CHECK(write_pem_key("pkcs8enc.key", priv, true, EVP_aes_128_cbc(), false) == 0, "writing pkcs8enc.key");
        k = crypto_load_private(tmpdir, "pkcs8enc", &err);
        CHECK(!k && err == CRYPTO_E_PASSPHRASE, "PKCS#8 encrypted key: %s", crypto_strerror(err));
        crypto_free_key(k);
        CHECK(write_pem_key("tradenc.key", priv, true, EVP_des_ede3_cbc(), true) == 0, "writing tradenc.key");
        k = crypto_load_private(tmpdir, "tradenc", &err);
        CHECK(!k && err == CRYPTO_E_PASSPHRASE, "traditional encrypted key: %s", crypto_strerror(err));
        crypto_free_key(k);
        /* Unencrypted PKCS#8 is fine. */
        CHECK(write_pem_key("pkcs8.key", priv, true, NULL, false) == 0, "writing pkcs8.key");
        k = crypto_load_private(tmpdir, "pkcs8", &err);
        CHECK(k && err == CRYPTO_OK, "PKCS#8 key: %s", crypto_strerror(err));
        crypto_free_key(k);
    }

    /* Wrong size: 2048-bit and 512-bit RSA. */
    static const unsigned sizes[] = {2048, 512};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        EVP_PKEY *g = EVP_RSA_gen(sizes[i]);
        if (!CHECK(g != NULL, "generating RSA-%u", sizes[i]))
            continue;
        char kn[32], pn[32];
        snprintf(kn, sizeof(kn), "rsa%u.key", sizes[i]);
        snprintf(pn, sizeof(pn), "rsa%u.pub", sizes[i]);
        write_pem_key(kn, g, true, NULL, true);
        write_pem_key(pn, g, false, NULL, false);
        snprintf(kn, sizeof(kn), "rsa%u", sizes[i]);
        k = crypto_load_private(tmpdir, kn, &err);
        CHECK(!k && err == CRYPTO_E_SIZE, "RSA-%u private: %s", sizes[i], crypto_strerror(err));
        crypto_free_key(k);
        k = crypto_load_public(tmpdir, kn, &err);
        CHECK(!k && err == CRYPTO_E_SIZE, "RSA-%u public: %s", sizes[i], crypto_strerror(err));
        crypto_free_key(k);
        EVP_PKEY_free(g);
    }
    /* Not RSA at all. */
    EVP_PKEY *ec = EVP_EC_gen("P-256");
    if (CHECK(ec != NULL, "generating an EC key")) {
        write_pem_key("ec.key", ec, true, NULL, false);
        write_pem_key("ec.pub", ec, false, NULL, false);
        k = crypto_load_private(tmpdir, "ec", &err);
        CHECK(!k && (err == CRYPTO_E_SIZE || err == CRYPTO_E_FORMAT), "EC private: %s", crypto_strerror(err));
        crypto_free_key(k);
        k = crypto_load_public(tmpdir, "ec", &err);
        CHECK(!k && (err == CRYPTO_E_SIZE || err == CRYPTO_E_FORMAT), "EC public: %s", crypto_strerror(err));
        crypto_free_key(k);
        EVP_PKEY_free(ec);
    }

    /* Missing files. */
    k = crypto_load_public(tmpdir, "nosuch", &err);
    CHECK(!k && err == CRYPTO_E_NOFILE, "missing .pub: %s", crypto_strerror(err));
    k = crypto_load_private(tmpdir, "nosuch", &err);
    CHECK(!k && err == CRYPTO_E_NOFILE, "missing .key: %s", crypto_strerror(err));
    k = crypto_load_public("/nonexistent-dir-for-test", "dundi", &err);
    CHECK(!k && err == CRYPTO_E_NOFILE, "missing dir: %s", crypto_strerror(err));

    /* Garbage and near-garbage. */
    static const char garbage[] = "this is not a key\n\x01\x02\x03\xff\n";
    static const char badpem[] = "-----BEGIN PUBLIC KEY-----\nAAAAnotbase64!!!\n-----END PUBLIC KEY-----\n";
    static const char badpriv[] = "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAK\n-----END RSA PRIVATE KEY-----\n";
    write_file("garbage.key", garbage, sizeof(garbage) - 1, 0600);
    write_file("garbage.pub", garbage, sizeof(garbage) - 1, 0644);
    write_file("empty.key", "", 0, 0600);
    write_file("empty.pub", "", 0, 0644);
    write_file("badpem.pub", badpem, sizeof(badpem) - 1, 0644);
    write_file("badpem.key", badpriv, sizeof(badpriv) - 1, 0600);
    static const char *const gnames[] = {"garbage", "empty", "badpem"};
    for (size_t i = 0; i < 3; i++) {
        k = crypto_load_public(tmpdir, gnames[i], &err);
        CHECK(!k && err == CRYPTO_E_FORMAT, "%s.pub: %s", gnames[i], crypto_strerror(err));
        crypto_free_key(k);
        k = crypto_load_private(tmpdir, gnames[i], &err);
        CHECK(!k && err == CRYPTO_E_FORMAT, "%s.key: %s", gnames[i], crypto_strerror(err));
        crypto_free_key(k);
    }
    /* A public key where a private key is expected, and vice versa. */
    copy_in("dundi.pub", "swapped.key", 0600);
    k = crypto_load_private(tmpdir, "swapped", &err);
    CHECK(!k && err == CRYPTO_E_FORMAT, "public key as .key: %s", crypto_strerror(err));
    crypto_free_key(k);

    /* Generation. */
    char eb[256] = "";
    char p[512];
    struct stat st;
    int rc = crypto_generate_pair(tmpdir, "other", eb, sizeof(eb));
    CHECK(rc == 0, "crypto_generate_pair: %s", eb);
    path_of(p, sizeof(p), "other.key");
    CHECK(stat(p, &st) == 0 && (st.st_mode & 0777) == 0600, "other.key mode %04o, want 0600",
          (unsigned)(st.st_mode & 0777));
    char *keytext = read_file(p, NULL);
    CHECK(keytext && !strncmp(keytext, "-----BEGIN RSA PRIVATE KEY-----", 31), "other.key is a traditional RSA key");
    path_of(p, sizeof(p), "other.pub");
    char *pubtext = read_file(p, NULL);
    CHECK(pubtext && !strncmp(pubtext, "-----BEGIN PUBLIC KEY-----", 26), "other.pub is SubjectPublicKeyInfo");
    other_pub = crypto_load_public(tmpdir, "other", &err);
    CHECK(other_pub && err == CRYPTO_OK, "load other.pub: %s", crypto_strerror(err));
    other_priv = crypto_load_private(tmpdir, "other", &err);
    CHECK(other_priv && err == CRYPTO_OK, "load other.key: %s", crypto_strerror(err));
    if (other_pub && other_priv) {
        CHECK(EVP_PKEY_eq(other_pub, other_priv) == 1, "generated files are a pair");
        CHECK(!pub || EVP_PKEY_eq(other_pub, pub) != 1, "generated key differs from the test pair");
    }

    /* Refuses to overwrite: both files present, and only the .key present. */
    eb[0] = '\0';
    rc = crypto_generate_pair(tmpdir, "other", eb, sizeof(eb));
    CHECK(rc != 0 && eb[0], "generate over an existing pair refused (rc %d, \"%s\")", rc, eb);
    path_of(p, sizeof(p), "other.key");
    char *after = read_file(p, NULL);
    CHECK(keytext && after && !strcmp(keytext, after), "other.key unchanged");
    free(after);
    path_of(p, sizeof(p), "other.pub");
    after = read_file(p, NULL);
    CHECK(pubtext && after && !strcmp(pubtext, after), "other.pub unchanged");
    free(after);
    free(keytext);
    free(pubtext);

    write_file("half.pub", "keep me\n", 8, 0644);
    eb[0] = '\0';
    rc = crypto_generate_pair(tmpdir, "half", eb, sizeof(eb));
    CHECK(rc != 0 && eb[0], "generate over an existing .pub refused (rc %d)", rc);
    path_of(p, sizeof(p), "half.pub");
    after = read_file(p, NULL);
    CHECK(after && !strcmp(after, "keep me\n"), "half.pub unchanged");
    free(after);

    eb[0] = '\0';
    rc = crypto_generate_pair("/nonexistent-dir-for-test", "x", eb, sizeof(eb));
    CHECK(rc != 0 && eb[0], "generate into a missing directory fails with a message");
}

static void test_strerror(void)
{
    for (int e = CRYPTO_E_INTERNAL; e <= CRYPTO_OK; e++)
        CHECK(crypto_strerror(e) && strcmp(crypto_strerror(e), "unknown crypto error") != 0, "strerror(%d)", e);
    CHECK_STR(crypto_strerror(-99), "unknown crypto error");
}

int main(int argc, char **argv)
{
    datadir = argc > 1 ? argv[1] : "test/data";
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_vector();
    test_round_trips();
    test_key_files(); /* loads pub/priv and the generated pair for the session tests */
    test_sessions();
    test_open_rejections();
    test_strerror();
    crypto_free_key(pub);
    crypto_free_key(priv);
    crypto_free_key(other_pub);
    crypto_free_key(other_priv);
    cleanup_tmpdir();
    return test_summary("crypto");
}
