#include "dundid/net.h"
#include "dundid/addr.h"

#include <errno.h>
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
    int rcvbuf = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    if (bind(fd, (const struct sockaddr *)&addr->ss, addr->len) < 0) {
        int e = errno;
        snprintf(errbuf, errlen, "cannot bind %s: %s", dundi_addr_str(addr, where, sizeof(where)), strerror(e));
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

int udp_send(int fd, const struct dundi_addr *to, const uint8_t *pkt, size_t len)
{
    struct iovec iov = {.iov_base = (void *)pkt, .iov_len = len};
    union {
        char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
        struct cmsghdr align;
    } ctl;
    struct msghdr msg = {.msg_name = (void *)&to->ss, .msg_namelen = to->len, .msg_iov = &iov, .msg_iovlen = 1};

    if (dundi_addr_has_local(to)) {
        memset(&ctl, 0, sizeof(ctl));
        msg.msg_control = ctl.buf;
        struct cmsghdr *c = (struct cmsghdr *)ctl.buf;
        if (to->ss.ss_family == AF_INET) {
            struct in_pktinfo pi = {0};
            memcpy(&pi.ipi_spec_dst, &to->local, sizeof(pi.ipi_spec_dst));
            c->cmsg_level = IPPROTO_IP;
            c->cmsg_type = IP_PKTINFO;
            c->cmsg_len = CMSG_LEN(sizeof(pi));
            memcpy(CMSG_DATA(c), &pi, sizeof(pi));
            msg.msg_controllen = CMSG_SPACE(sizeof(pi));
        } else {
            struct in6_pktinfo pi = {0};
            pi.ipi6_addr = to->local;
            c->cmsg_level = IPPROTO_IPV6;
            c->cmsg_type = IPV6_PKTINFO;
            c->cmsg_len = CMSG_LEN(sizeof(pi));
            memcpy(CMSG_DATA(c), &pi, sizeof(pi));
            msg.msg_controllen = CMSG_SPACE(sizeof(pi));
        }
    }
    ssize_t n;
    do
        n = sendmsg(fd, &msg, 0);
    while (n < 0 && errno == EINTR);
    return n < 0 ? -1 : 0;
}

ssize_t udp_recv(int fd, uint8_t *buf, size_t cap, struct dundi_addr *from)
{
    struct iovec iov = {.iov_base = buf, .iov_len = cap};
    union {
        char buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(struct in_pktinfo))];
        struct cmsghdr align;
    } ctl;
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
    /* MSG_TRUNC: the real length, so an oversize datagram is seen as such. */
    return n;
}
