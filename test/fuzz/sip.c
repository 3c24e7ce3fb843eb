/* libFuzzer target: the SIP REGISTER parser. The input is one message; on
 * success the helpers run over what was parsed and the result's invariants
 * are checked (abort() marks a violation). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dundid/sip.h"

static struct sip_msg msg;

/* A parsed string must be terminated inside its buffer. */
static void check_str(const char *s, size_t cap)
{
    if (!memchr(s, '\0', cap))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Exact-size heap copy so ASan catches any read past the end. */
    char *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    if (size)
        memcpy(buf, data, size);
    int rc = sip_parse(buf, size, &msg);
    free(buf);

    if (rc != SIP_OK) {
        if (rc < SIP_E_TOO_MANY || rc > SIP_E_TRUNCATED || !strcmp(sip_strerror(rc), "unknown error"))
            abort();
        return 0;
    }
    if (msg.ncontacts > SIP_MAX_CONTACTS || !msg.call_id[0] || !msg.to_uri[0] || !msg.from_uri[0] ||
        strcmp(msg.method, "REGISTER") != 0 || strcmp(msg.cseq_method, "REGISTER") != 0)
        abort();
    if (msg.is_request ? (msg.status != 0 || !msg.request_uri[0] || !msg.via_host[0] || msg.via_port == 0)
                       : (msg.status < 100 || msg.status > 699))
        abort();
    check_str(msg.request_uri, sizeof(msg.request_uri));
    check_str(msg.call_id, sizeof(msg.call_id));
    check_str(msg.to_uri, sizeof(msg.to_uri));
    check_str(msg.to_user, sizeof(msg.to_user));
    check_str(msg.from_uri, sizeof(msg.from_uri));
    check_str(msg.via_transport, sizeof(msg.via_transport));
    check_str(msg.via_host, sizeof(msg.via_host));
    check_str(msg.via_branch, sizeof(msg.via_branch));
    check_str(msg.user_agent, sizeof(msg.user_agent));

    char out[SIP_MAX_URI], tiny[8];
    for (unsigned i = 0; i <= msg.ncontacts; i++) { /* one past the end on purpose */
        int e = sip_contact_expires(&msg, i, 3600);
        if (i == msg.ncontacts ? e != -1 : e < 0)
            abort();
        if (i == msg.ncontacts)
            break;
        const struct sip_contact *ct = &msg.contacts[i];
        check_str(ct->uri, sizeof(ct->uri));
        if (ct->star != (ct->uri[0] == '\0') || ct->q < -1 || ct->q > 1000)
            abort();
        if (sip_uri_strip(ct->uri, out, sizeof(out)) == 0) {
            /* the stripped form is never longer than the URI */
            if (strlen(out) >= strlen(ct->uri) || !out[0])
                abort();
        } else if (out[0]) {
            abort(); /* failure leaves an empty string */
        }
        (void)sip_uri_strip(ct->uri, tiny, sizeof(tiny));
    }
    (void)sip_uri_strip(msg.to_uri, out, sizeof(out));
    (void)sip_uri_strip(msg.request_uri, out, sizeof(out));
    return 0;
}
