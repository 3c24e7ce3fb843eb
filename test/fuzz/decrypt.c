/* libFuzzer target: the ENCRYPT envelope. The input is ENCDATA (IV +
 * ciphertext) under the fixed key 00 01 .. 0f; when it opens, the inner
 * message's IEs are decoded as the daemon would. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dundid/crypto.h"
#include "dundid/wire.h"

static const uint8_t key[DUNDI_AES_KEY_LEN] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
                                               0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};
static struct dundi_ies ies;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Output buffer of exactly outcap bytes on the heap, so ASan sees overruns.
     * The outcap varies with the input to exercise the bound. */
    size_t outcap = DUNDI_MAX_INNER;
    if (size && (data[0] & 0x0f) == 0x0f)
        outcap = data[size - 1]; /* tiny buffers too */
    uint8_t *out = malloc(outcap ? outcap : 1);
    size_t outlen = 0;
    if (!out)
        return 0;
    int rc = crypto_open(key, data, size, out, outcap, &outlen);
    if (rc == CRYPTO_OK) {
        if (outlen < 2 || outlen > outcap)
            abort();
        /* Reassemble as the receiver does: outer header bytes 0..5 + inner. */
        uint8_t pkt[6 + DUNDI_MAX_INNER];
        struct dundi_hdr h;
        memset(pkt, 0, 6);
        memcpy(pkt + 6, out, outlen);
        if (dundi_hdr_decode(pkt, 6 + outlen, &h) == DUNDI_OK) {
            char text[1024];
            (void)dundi_ies_decode(pkt + DUNDI_HDR_LEN, 6 + outlen - DUNDI_HDR_LEN, &ies);
            (void)dundi_ies_format(pkt + DUNDI_HDR_LEN, 6 + outlen - DUNDI_HDR_LEN, text, sizeof(text));
        }
    } else if (rc != CRYPTO_E_BLOCK && rc != CRYPTO_E_INFLATE && rc != CRYPTO_E_TOO_BIG) {
        abort(); /* INTERNAL or anything else is a bug for any input */
    }
    free(out);
    return 0;
}
