/* dundi-bench --reflect: a canned DUNDi responder. Every DPDISCOVER gets a
 * final DPRESPONSE with one answer, at once and without state, read and
 * written in batches (recvmmsg/sendmmsg): the machine's ceiling for a
 * DUNDi answer, measured beside the daemon in the same run. */
#include "reflect.h"

#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dundid/net.h"
#include "dundid/wire.h"

#define BATCH 64

static struct dundi_ies ies; /* decode scratch */

/* The response to one datagram into out; 0 when it needs none. */
static size_t reflect_one(const eid_t *us, const uint8_t *in, size_t len, uint8_t *out)
{
    struct dundi_hdr h;
    if (dundi_hdr_decode(in, len, &h) != DUNDI_OK || dundi_hdr_cmd(&h) != DUNDI_CMD_DPDISCOVER ||
        dundi_ies_decode(in + DUNDI_HDR_LEN, len - DUNDI_HDR_LEN, &ies) != DUNDI_OK || !ies.called_number[0])
        return 0; /* ACKs and the rest: nothing to say */
    static struct dundi_ieb b;
    struct dundi_answer a = {.eid = *us, .proto = DUNDI_PROTO_IAX, .flags = DUNDI_FLAG_EXISTS, .weight = 0};
    snprintf(a.dest, sizeof(a.dest), "priv@127.0.0.1/%.60s", ies.called_number);
    dundi_ieb_init(&b, 0);
    dundi_ie_put_answer(&b, &a);
    dundi_ie_put_hint(&b, DUNDI_HINT_UNAFFECTED, "");
    dundi_ie_put_u16(&b, DUNDI_IE_EXPIRATION, 60);
    /* The peer's transaction id, and ours made from it: no state needed. */
    struct dundi_hdr r = {.strans = (uint16_t)(((h.strans ^ 0x2a5a) & DUNDI_TRANS_MASK) | 1),
                          .dtrans = h.strans,
                          .iseqno = (uint8_t)(h.oseqno + 1),
                          .oseqno = 0,
                          .cmdresp = DUNDI_CMD_DPRESPONSE | DUNDI_FLAG_FINAL,
                          .cmdflags = 0};
    dundi_hdr_encode(&r, out);
    memcpy(out + DUNDI_HDR_LEN, b.buf, b.len);
    return DUNDI_HDR_LEN + b.len;
}

int reflect_run(const struct dundi_addr *addr, const eid_t *us, unsigned seconds)
{
    static uint8_t in[BATCH][DUNDI_MAX_PACKET], out[BATCH][DUNDI_MAX_PACKET];
    static struct sockaddr_storage from[BATCH];
    struct mmsghdr rx[BATCH], tx[BATCH];
    struct iovec riov[BATCH], tiov[BATCH];
    char err[128];
    int fd = udp_bind(addr, 0, err, sizeof(err));
    if (fd < 0) {
        fprintf(stderr, "dundi-bench: reflect: %s\n", err);
        return 2;
    }
    for (int i = 0; i < BATCH; i++) {
        riov[i] = (struct iovec){.iov_base = in[i], .iov_len = sizeof(in[i])};
        rx[i] = (struct mmsghdr){.msg_hdr = {.msg_name = &from[i], .msg_iov = &riov[i], .msg_iovlen = 1}};
    }
    time_t end = time(NULL) + seconds;
    unsigned long long answered = 0;
    fprintf(stderr, "dundi-bench: reflecting for %u s\n", seconds);
    while (time(NULL) < end) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 200) <= 0)
            continue;
        for (int i = 0; i < BATCH; i++)
            rx[i].msg_hdr.msg_namelen = sizeof(from[i]);
        int n = recvmmsg(fd, rx, BATCH, MSG_DONTWAIT, NULL);
        int k = 0;
        for (int i = 0; i < n; i++) {
            size_t len = reflect_one(us, in[i], rx[i].msg_len, out[k]);
            if (!len)
                continue;
            tiov[k] = (struct iovec){.iov_base = out[k], .iov_len = len};
            tx[k] = (struct mmsghdr){.msg_hdr = {.msg_name = &from[i], .msg_namelen = rx[i].msg_hdr.msg_namelen,
                                                 .msg_iov = &tiov[k], .msg_iovlen = 1}};
            k++;
        }
        for (int sent = 0; sent < k;) {
            int m = sendmmsg(fd, tx + sent, (unsigned)(k - sent), 0);
            if (m <= 0)
                break;
            sent += m;
        }
        answered += (unsigned long long)k;
    }
    close(fd);
    fprintf(stderr, "dundi-bench: reflected %llu lookups\n", answered);
    return 0;
}
