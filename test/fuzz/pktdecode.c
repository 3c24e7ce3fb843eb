/* libFuzzer target: the frame decoder. The input is a 2-byte link type
 * (big-endian) and a frame; the frame is decoded under that link type and
 * under every one the decoder knows. A decoded payload must lie inside the
 * frame (abort() marks a violation). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dundid/pktdecode.h"

static const int dlts[] = {0 /* NULL */,  1 /* EN10MB */,  12 /* RAW */,      14 /* RAW (OpenBSD) */,
                           101 /* RAW */, 108 /* LOOP */,  113 /* LINUX_SLL */, 228 /* IPV4 */,
                           229 /* IPV6 */, 276 /* LINUX_SLL2 */};

static void check_str(const char *s, size_t cap)
{
    if (!memchr(s, '\0', cap))
        abort();
}

static void one(int dlt, const uint8_t *frame, size_t len)
{
    struct pkt_info pi;
    int rc = pkt_decode(dlt, frame, len, &pi);
    if (!strcmp(pkt_strerror(rc), "unknown error"))
        abort();
    if (rc != PKT_OK)
        return;
    if (pi.payload < frame || pi.payload_len == 0 || pi.payload_len > len || pi.payload + pi.payload_len > frame + len)
        abort(); /* the payload must lie inside the frame */
    if (pi.proto != 6 && pi.proto != 17)
        abort();
    check_str(pi.hop.src, sizeof(pi.hop.src));
    check_str(pi.hop.dst, sizeof(pi.hop.dst));
    if (!pi.hop.src[0] || !pi.hop.dst[0])
        abort();
    volatile uint8_t sink = pi.payload[0] ^ pi.payload[pi.payload_len - 1];
    (void)sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    int chosen = data[0] << 8 | data[1];
    size_t len = size - 2;
    /* Exact-size heap copy so ASan catches any read past the end. */
    uint8_t *frame = malloc(len ? len : 1);
    if (!frame)
        return 0;
    if (len)
        memcpy(frame, data + 2, len);
    one(chosen, frame, len);
    for (size_t i = 0; i < sizeof(dlts) / sizeof(dlts[0]); i++)
        one(dlts[i], frame, len);
    free(frame);
    return 0;
}
