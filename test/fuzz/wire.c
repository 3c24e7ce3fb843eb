/* libFuzzer target: the DUNDi wire decoder. The input is one UDP payload:
 * header decode, IE decode, the listing formatter and the raw IE iterator. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dundid/wire.h"

static struct dundi_ies ies; /* large: keep it off the stack */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dundi_hdr h;
    char text[4096];
    char small[16];

    if (dundi_hdr_decode(data, size, &h) != DUNDI_OK)
        return 0;
    (void)dundi_cmd_name(dundi_hdr_cmd(&h));
    const uint8_t *p = data + DUNDI_HDR_LEN;
    size_t len = size - DUNDI_HDR_LEN;

    if (dundi_ies_decode(p, len, &ies) == DUNDI_OK) {
        char fb[128];
        for (unsigned i = 0; i < ies.anscount && i < DUNDI_MAX_ANSWERS; i++) {
            (void)dundi_flags_str(ies.answers[i].flags, fb, sizeof(fb));
            (void)dundi_proto_name(ies.answers[i].proto);
        }
        if (ies.has_hint)
            (void)dundi_hint_str(ies.hint_flags, fb, sizeof(fb));
        if (ies.cause >= 0)
            (void)dundi_cause_name(ies.cause);
        if (ies.encdata && ies.encdata_len) {
            volatile uint8_t sink = ies.encdata[ies.encdata_len - 1]; /* pointer must stay in the input */
            (void)sink;
        }
    }
    (void)dundi_ies_format(p, len, text, sizeof(text));
    (void)dundi_ies_format(p, len, small, sizeof(small)); /* truncation path */
    (void)dundi_ies_format_opt(p, len, text, sizeof(text), true); /* the debug log's */

    struct dundi_ie_iter it;
    struct dundi_ie_raw ie;
    int rc;
    dundi_ie_iter_init(&it, p, len);
    while ((rc = dundi_ie_next(&it, &ie)) == 1) {
        (void)dundi_ie_name(ie.type);
        if (ie.len) {
            volatile uint8_t sink = ie.val[0] ^ ie.val[ie.len - 1]; /* value must stay in the input */
            (void)sink;
        }
    }
    return 0;
}
