/* libFuzzer target: the HEP decoder. The input is one UDP datagram: decode,
 * auth key check, and for a compressed payload the inflater; a decoded
 * message is re-encoded as HEPv3 and must decode to the same fields. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dundid/hep.h"

static uint8_t enc[HEP3_MAX_LEN];
static uint8_t plain[1 << 16];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hep_msg m, d;
    int rc = hep_decode(data, size, &m);
    (void)hep_strerror(rc);
    if (rc != HEP_OK)
        return 0;

    if (m.payload < data || m.payload_len == 0 || m.payload_len > size ||
        m.payload + m.payload_len > data + size)
        abort(); /* the payload must lie inside the datagram */
    if (m.auth_key && ((const uint8_t *)m.auth_key < data || m.auth_key_len > size ||
                       (const uint8_t *)m.auth_key + m.auth_key_len > data + size))
        abort();
    if (m.family != AF_INET && m.family != AF_INET6)
        abort();
    volatile uint8_t sink = m.payload[0] ^ m.payload[m.payload_len - 1];
    (void)sink;

    (void)hep_auth_ok(&m, "secret");
    (void)hep_auth_ok(&m, "");
    if (m.payload_compressed)
        (void)hep_inflate(m.payload, m.payload_len, plain, sizeof(plain));

    int n = hep3_encode(&m, enc, sizeof(enc));
    if (n < 0)
        return 0; /* v1/v2 messages can be longer than a HEPv3 packet */
    if (hep_decode(enc, (size_t)n, &d) != HEP_OK)
        abort();
    size_t alen = m.family == AF_INET ? 4 : 16;
    if (d.family != m.family || d.sport != m.sport || d.dport != m.dport || d.ts_sec != m.ts_sec ||
        d.ts_usec != m.ts_usec || d.capture_id != m.capture_id || d.ip_proto != m.ip_proto ||
        d.proto_type != m.proto_type || memcmp(d.src, m.src, alen) != 0 || memcmp(d.dst, m.dst, alen) != 0 ||
        d.payload_len != m.payload_len || memcmp(d.payload, m.payload, m.payload_len) != 0 ||
        d.payload_compressed != m.payload_compressed || (d.auth_key == NULL) != (m.auth_key == NULL) ||
        d.auth_key_len != m.auth_key_len || (d.correlation_id == NULL) != (m.correlation_id == NULL) ||
        d.correlation_id_len != m.correlation_id_len)
        abort();
    return 0;
}
