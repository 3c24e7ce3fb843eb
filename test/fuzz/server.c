/* libFuzzer target: the server's request handler end to end, through the
 * simulator (test/sim). Every input gets a fresh world: daemon N with a
 * keyed peer K, an unkeyed peer U and a dynamic peer D, none of them
 * running (their replies are logged and dropped: one node keeps it fast,
 * as every server zeroes a 512 KiB transaction table at start). The input is a list of datagrams
 *
 *   c, len_hi, len_lo, len bytes   (the last one may be short)
 *
 * each put on the wire to N according to c & 3: 0 from K's address in
 * clear, 1 from U's, 2 from an unknown address, 3 from K inside an ENCRYPT
 * envelope under a session key made with the test pair (the bytes are the
 * plain packet: its header's first six bytes become the envelope's; c & 4:
 * with the full key, else by KEYCRC32). After each one (c >> 3) x 50 ms
 * pass; at the end 70 s, so that every transaction and timer runs out. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../sim/sim.h"
#include "dundid/crypto.h"

#define N_ADDR "127.0.40.1:4520"
#define K_ADDR "127.0.40.2:4520"
#define U_ADDR "127.0.40.3:4520"
#define X_ADDR "127.0.40.9:4520"
#define N_EID "02:00:00:00:40:01"
#define K_EID "02:00:00:00:40:02"

static char keydir[4096];
static struct dundi_session_key sk; /* K's key towards N (RSA once, not per input) */
static eid_t k_eid;

static const char n_conf[] =
    "[general]\nbindaddr = 127.0.40.1\nport = 4520\nentityid = " N_EID "\nttl = 3\ncachetime = 5\n"
    "ipaddr = 127.0.40.1\nkeydir = @KEYDIR@\nresolv_conf = /dev/null\nautokill = 500\norganization = Org N\n"
    "[registrations]\nstatefile = none\n"
    "[mappings]\npriv => regs,0,SIP,${NUMBER}@n\ne164 => regs,5,IAX2,${NUMBER}@n,nopartial\n"
    "[context regs]\nexten => 1001\nexten => _20XX\n"
    "[" K_EID "]\nmodel = symmetric\nhost = 127.0.40.2\nport = 4520\ninclude = priv\npermit = priv\n"
    "inkey = dundi\noutkey = dundi\n"
    "[02:00:00:00:40:03]\nmodel = symmetric\nhost = 127.0.40.3\nport = 4520\ninclude = priv\npermit = priv\n"
    "permit = e164\nqualify = yes\n"
    "[02:00:00:00:40:04]\nmodel = symmetric\nhost = dynamic\ninclude = priv\npermit = priv\n";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    snprintf(keydir, sizeof(keydir), "%s/conf/keys", DUNDID_TEST_DATA);
    char path[4200];
    snprintf(path, sizeof(path), "%s/dundi.key", keydir);
    chmod(path, 0600); /* git keeps no modes; the loader refuses a readable private key */
    int err;
    EVP_PKEY *pub = crypto_load_public(keydir, "dundi", &err);
    EVP_PKEY *priv = crypto_load_private(keydir, "dundi", &err);
    if (!pub || !priv || crypto_session_new(&sk, pub, priv) != CRYPTO_OK) {
        fprintf(stderr, "fuzz_server: no test key pair in %s\n", keydir);
        abort();
    }
    crypto_free_key(pub);
    crypto_free_key(priv);
    eid_parse(&k_eid, K_EID);
    return 0;
}

/* The plain packet pkt (len >= 8) as K would send it inside an envelope. */
static void send_sealed(struct sim *w, struct sim_node *n, const uint8_t *pkt, size_t len, bool full_key)
{
    static uint8_t ct[DUNDI_MAX_PACKET + 32];
    static struct dundi_ieb b;
    static uint8_t out[DUNDI_MAX_PACKET + 64];
    uint8_t iv[DUNDI_IV_LEN];
    size_t ctlen;
    if (crypto_seal(sk.aes, pkt, len, iv, ct, sizeof(ct), &ctlen) != CRYPTO_OK)
        return;
    dundi_ieb_init(&b, 0);
    dundi_ie_put_eid(&b, DUNDI_IE_EID, &k_eid);
    if (full_key) {
        dundi_ie_put_raw(&b, DUNDI_IE_SHAREDKEY, sk.sharedkey, DUNDI_KEY_BYTES);
        dundi_ie_put_raw(&b, DUNDI_IE_SIGNATURE, sk.signature, DUNDI_KEY_BYTES);
    } else {
        dundi_ie_put_u32(&b, DUNDI_IE_KEYCRC32, sk.crc);
    }
    dundi_ie_put_encdata(&b, iv, ct, ctlen);
    if (dundi_ieb_error(&b))
        return;
    memcpy(out, pkt, 6);
    out[6] = DUNDI_CMD_ENCRYPT;
    out[7] = 0;
    memcpy(out + DUNDI_HDR_LEN, b.buf, b.len);
    sim_inject(w, K_ADDR, n, out, DUNDI_HDR_LEN + b.len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const from[] = {K_ADDR, U_ADDR, X_ADDR};
    struct sim *w = sim_new(1, keydir);
    struct sim_node *n = sim_node(w, "N", N_ADDR, n_conf);
    /* "set debug on": every packet and every opened envelope is formatted
     * (the lines themselves stay below the log level). */
    server_debug_all(sim_server(n), true);
    sim_run(w, 10);
    for (size_t off = 0; off + 3 <= size;) {
        uint8_t c = data[off];
        size_t len = (size_t)data[off + 1] << 8 | data[off + 2];
        off += 3;
        if (len > size - off)
            len = size - off;
        const uint8_t *pkt = data + off;
        off += len;
        if ((c & 3) == 3) {
            uint8_t plain[DUNDI_MAX_PACKET];
            if (len > sizeof(plain))
                len = sizeof(plain);
            memset(plain, 0, DUNDI_HDR_LEN);
            memcpy(plain, pkt, len);
            send_sealed(w, n, plain, len < DUNDI_HDR_LEN ? DUNDI_HDR_LEN : len, c & 4);
        } else {
            sim_inject(w, from[c & 3], n, pkt, len);
        }
        sim_run(w, 1 + (uint64_t)(c >> 3) * 50);
    }
    sim_run(w, 70000);
    sim_free(w);
    return 0;
}
