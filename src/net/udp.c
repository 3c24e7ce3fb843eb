#include "dundid/net.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/ip.h>
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
    ssize_t n;
    do
        n = sendto(fd, pkt, len, 0, (const struct sockaddr *)&to->ss, to->len);
    while (n < 0 && errno == EINTR);
    return n < 0 ? -1 : 0;
}
