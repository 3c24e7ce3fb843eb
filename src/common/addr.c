#include "dundid/addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "dundid/hash.h"

/* The address bytes and port of an IPv4 or IPv6 address; NULL otherwise. */
static const void *host_of(const struct dundi_addr *a, size_t *n, uint16_t *port)
{
    if (a->ss.ss_family == AF_INET) {
        const struct sockaddr_in *s = (const void *)&a->ss;
        *n = sizeof(s->sin_addr);
        *port = s->sin_port;
        return &s->sin_addr;
    }
    if (a->ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const void *)&a->ss;
        *n = sizeof(s->sin6_addr);
        *port = s->sin6_port;
        return &s->sin6_addr;
    }
    *n = 0;
    *port = 0;
    return NULL;
}

static bool same(const struct dundi_addr *a, const struct dundi_addr *b, bool ports)
{
    size_t na, nb;
    uint16_t pa, pb;
    const void *ha = host_of(a, &na, &pa), *hb = host_of(b, &nb, &pb);
    return ha && hb && a->ss.ss_family == b->ss.ss_family && (!ports || pa == pb) && !memcmp(ha, hb, na);
}

bool dundi_addr_equal(const struct dundi_addr *a, const struct dundi_addr *b) { return same(a, b, true); }

bool dundi_addr_same_host(const struct dundi_addr *a, const struct dundi_addr *b) { return same(a, b, false); }

bool dundi_addr_ip_str(const struct dundi_addr *a, char *buf, size_t len)
{
    size_t n;
    uint16_t port;
    const void *h = host_of(a, &n, &port);
    if (h && len <= (size_t)INT32_MAX && inet_ntop(a->ss.ss_family, h, buf, (socklen_t)len))
        return true;
    if (len)
        buf[0] = '\0';
    return false;
}

char *dundi_addr_str(const struct dundi_addr *a, char *buf, size_t len)
{
    char host[INET6_ADDRSTRLEN] = "?";
    size_t n;
    uint16_t port;
    if (!host_of(a, &n, &port)) {
        snprintf(buf, len, "(none)");
        return buf;
    }
    if (!dundi_addr_ip_str(a, host, sizeof(host)))
        strcpy(host, "?");
    snprintf(buf, len, a->ss.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", host, ntohs(port));
    return buf;
}

void dundi_addr_host_key(const struct dundi_addr *a, uint8_t key[DUNDI_ADDR_HOST_KEY_LEN])
{
    size_t n;
    uint16_t port;
    const void *h = host_of(a, &n, &port);
    memset(key, 0, DUNDI_ADDR_HOST_KEY_LEN);
    if (h) {
        key[0] = a->ss.ss_family == AF_INET ? 4 : 6;
        memcpy(key + 1, h, n);
    }
}

uint32_t dundi_addr_hash(const struct dundi_addr *a, uint32_t h)
{
    size_t n;
    uint16_t port;
    const void *host = host_of(a, &n, &port);
    h = fnv1a32(h, &port, sizeof(port));
    return host ? fnv1a32(h, host, n) : h;
}

bool dundi_addr_has_local(const struct dundi_addr *a)
{
    static const struct in6_addr any6;
    return a->has_local && memcmp(&a->local, &any6, sizeof(any6)) != 0;
}
