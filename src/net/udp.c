#include "dundid/net.h"
#include "dundid/addr.h"
#include "dundid/wire.h"

#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <sys/uio.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int udp_bind(const struct dundi_addr *addr, int tos, char *errbuf, size_t errlen)
{
    char where[64];
    int fam = addr->ss.ss_family;
    int fd = socket(fam, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(errbuf, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    int one = 1;
    if (fam == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)); /* bindaddr2 takes IPv4 */
    /* Learn each datagram's destination so replies leave from that address
     * (a host with several addresses and bindaddr = 0.0.0.0). */
    if (fam == AF_INET)
        setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
    else
        setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
    if (tos) {
        if (fam == AF_INET)
            setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
        else
            setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos));
    }
    /* Room for bursts of lookups while the loop is busy. */
    udp_set_rcvbuf(fd, 4 << 20);
    if (bind(fd, (const struct sockaddr *)&addr->ss, addr->len) < 0) {
        int e = errno;
        snprintf(errbuf, errlen, "cannot bind %s: %s", dundi_addr_str(addr, where, sizeof(where)), strerror(e));
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

union send_ctl {
    char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
    struct cmsghdr align;
};

/* The message header of one datagram to 'to', from to->local when set. */
static void send_msg(struct msghdr *msg, struct iovec *iov, union send_ctl *ctlu, const struct dundi_addr *to)
{
    *msg = (struct msghdr){.msg_name = (void *)&to->ss, .msg_namelen = to->len, .msg_iov = iov, .msg_iovlen = 1};
    if (dundi_addr_has_local(to)) {
        union send_ctl *ctl = ctlu;
        memset(ctl, 0, sizeof(*ctl));
        msg->msg_control = ctl->buf;
        struct cmsghdr *c = (struct cmsghdr *)ctl->buf;
        if (to->ss.ss_family == AF_INET) {
            struct in_pktinfo pi = {0};
            memcpy(&pi.ipi_spec_dst, &to->local, sizeof(pi.ipi_spec_dst));
            c->cmsg_level = IPPROTO_IP;
            c->cmsg_type = IP_PKTINFO;
            c->cmsg_len = CMSG_LEN(sizeof(pi));
            memcpy(CMSG_DATA(c), &pi, sizeof(pi));
            msg->msg_controllen = CMSG_SPACE(sizeof(pi));
        } else {
            struct in6_pktinfo pi = {0};
            pi.ipi6_addr = to->local;
            c->cmsg_level = IPPROTO_IPV6;
            c->cmsg_type = IPV6_PKTINFO;
            c->cmsg_len = CMSG_LEN(sizeof(pi));
            memcpy(CMSG_DATA(c), &pi, sizeof(pi));
            msg->msg_controllen = CMSG_SPACE(sizeof(pi));
        }
    }
}

void udp_set_rcvbuf(int fd, int bytes)
{
    /* FORCE goes past net.core.rmem_max (root or CAP_NET_ADMIN; sockets are
     * opened before privileges are dropped); otherwise as much as allowed. */
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) < 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
}

int udp_send(int fd, const struct dundi_addr *to, const uint8_t *pkt, size_t len)
{
    struct iovec iov = {.iov_base = (void *)pkt, .iov_len = len};
    union send_ctl ctl;
    struct msghdr msg;
    send_msg(&msg, &iov, &ctl, to);
    ssize_t n;
    do
        n = sendmsg(fd, &msg, 0);
    while (n < 0 && errno == EINTR);
    return n < 0 ? -1 : 0;
}

union recv_ctl {
    char buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(struct in_pktinfo))];
    struct cmsghdr align;
};

static void recv_local(struct msghdr *msgp, struct dundi_addr *from);

ssize_t udp_recv(int fd, uint8_t *buf, size_t cap, struct dundi_addr *from)
{
    struct iovec iov = {.iov_base = buf, .iov_len = cap};
    union recv_ctl ctl;
    struct msghdr msg = {.msg_name = &from->ss,
                         .msg_namelen = sizeof(from->ss),
                         .msg_iov = &iov,
                         .msg_iovlen = 1,
                         .msg_control = ctl.buf,
                         .msg_controllen = sizeof(ctl.buf)};
    ssize_t n;
    do
        n = recvmsg(fd, &msg, MSG_TRUNC);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -1;
    recv_local(&msg, from);
    /* MSG_TRUNC: the real length, so an oversize datagram is seen as such. */
    return n;
}

/* The sender's address length and the local address a datagram came to. */
static void recv_local(struct msghdr *msgp, struct dundi_addr *from)
{
    struct msghdr msg = *msgp;
    from->len = msg.msg_namelen;
    from->has_local = false;
    memset(&from->local, 0, sizeof(from->local));
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof(pi));
            memcpy(&from->local, &pi.ipi_addr, sizeof(pi.ipi_addr));
            from->has_local = true;
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
            struct in6_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof(pi));
            from->local = pi.ipi6_addr;
            from->has_local = true;
        }
    }
}

/* ---- batches ---- */

struct udp_batch {
    /* receiving */
    struct mmsghdr rx[UDP_BATCH];
    struct iovec riov[UDP_BATCH];
    union recv_ctl rctl[UDP_BATCH];
    struct dundi_addr from[UDP_BATCH];
    uint8_t in[UDP_BATCH][DUNDI_MAX_PACKET + 1];
    /* sending */
    int fd, nq;
    struct mmsghdr tx[UDP_BATCH];
    struct iovec tiov[UDP_BATCH];
    union send_ctl tctl[UDP_BATCH];
    struct dundi_addr to[UDP_BATCH];
    uint8_t out[UDP_BATCH][DUNDI_MAX_PACKET];
};

struct udp_batch *udp_batch_new(void)
{
    struct udp_batch *b = calloc(1, sizeof(*b));
    if (b)
        b->fd = -1;
    return b;
}

void udp_batch_free(struct udp_batch *b) { free(b); }

int udp_recv_batch(int fd, struct udp_batch *b)
{
    for (int i = 0; i < UDP_BATCH; i++) {
        b->riov[i] = (struct iovec){.iov_base = b->in[i], .iov_len = sizeof(b->in[i])};
        b->rx[i].msg_hdr = (struct msghdr){.msg_name = &b->from[i].ss,
                                           .msg_namelen = sizeof(b->from[i].ss),
                                           .msg_iov = &b->riov[i],
                                           .msg_iovlen = 1,
                                           .msg_control = b->rctl[i].buf,
                                           .msg_controllen = sizeof(b->rctl[i].buf)};
        b->rx[i].msg_len = 0;
    }
    int n;
    do
        n = recvmmsg(fd, b->rx, UDP_BATCH, MSG_TRUNC, NULL);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        return 0;
    for (int i = 0; i < n; i++)
        recv_local(&b->rx[i].msg_hdr, &b->from[i]);
    return n;
}

const uint8_t *udp_batch_msg(const struct udp_batch *b, int i, size_t *len, struct dundi_addr *from)
{
    /* MSG_TRUNC makes msg_len the real length; anything longer than a DUNDi
     * packet shows as one byte too many (the buffer holds no more). */
    *len = b->rx[i].msg_len;
    if (*len > DUNDI_MAX_PACKET || b->rx[i].msg_hdr.msg_flags & MSG_TRUNC)
        *len = DUNDI_MAX_PACKET + 1;
    *from = b->from[i];
    return b->in[i];
}

int udp_batch_flush(struct udp_batch *b)
{
    int sent = 0;
    while (sent < b->nq) {
        int m;
        do
            m = sendmmsg(b->fd, b->tx + sent, (unsigned)(b->nq - sent), 0);
        while (m < 0 && errno == EINTR);
        if (m <= 0) {
            /* This one failed (unreachable, full buffer): the others still go. */
            sent++;
            continue;
        }
        sent += m;
    }
    int failed = 0;
    for (int i = 0; i < b->nq; i++)
        failed += b->tx[i].msg_len == 0;
    b->nq = 0;
    b->fd = -1;
    return failed;
}

int udp_batch_send(struct udp_batch *b, int fd, const struct dundi_addr *to, const uint8_t *pkt, size_t len)
{
    if (len > sizeof(b->out[0]))
        return udp_send(fd, to, pkt, len);
    if (b->nq && (b->nq == UDP_BATCH || b->fd != fd))
        udp_batch_flush(b);
    int i = b->nq++;
    b->fd = fd;
    b->to[i] = *to;
    memcpy(b->out[i], pkt, len);
    b->tiov[i] = (struct iovec){.iov_base = b->out[i], .iov_len = len};
    send_msg(&b->tx[i].msg_hdr, &b->tiov[i], &b->tctl[i], &b->to[i]);
    b->tx[i].msg_len = 0;
    return 0;
}
