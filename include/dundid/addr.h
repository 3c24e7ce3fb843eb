/* A UDP peer address (IPv4 or IPv6, with port) and what the daemon asks of
 * one: identity, the host alone (ports ignored), text, hashing. */
#ifndef DUNDID_ADDR_H
#define DUNDID_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

struct dundi_addr {
    struct sockaddr_storage ss;
    socklen_t len;
    /* Our address the datagram arrived on, when the socket is bound to a
     * wildcard: replies must leave from it. Not part of the identity. */
    bool has_local;
    struct in6_addr local; /* IPv4 as a plain in_addr in the first 4 bytes */
};

/* Same family, address and port. */
bool dundi_addr_equal(const struct dundi_addr *a, const struct dundi_addr *b);
/* Same family and address, whatever the ports. False unless IPv4 or IPv6. */
bool dundi_addr_same_host(const struct dundi_addr *a, const struct dundi_addr *b);
/* "1.2.3.4:4520" or "[::1]:4520"; "(none)" for another family. Returns buf. */
char *dundi_addr_str(const struct dundi_addr *a, char *buf, size_t len);
/* The address alone, "1.2.3.4" or "::1". False, with buf "" (when len > 0),
 * for another family or a buffer too small. */
bool dundi_addr_ip_str(const struct dundi_addr *a, char *buf, size_t len);

/* The host as a fixed-size key: family tag (4 or 6, 0 for another family)
 * and the address bytes, zero-padded; ports left out. */
#define DUNDI_ADDR_HOST_KEY_LEN 17
void dundi_addr_host_key(const struct dundi_addr *a, uint8_t key[DUNDI_ADDR_HOST_KEY_LEN]);
/* Continue FNV-1a hash h over the port and the address bytes. */
uint32_t dundi_addr_hash(const struct dundi_addr *a, uint32_t h);

/* Does a name the local address a reply must leave from (not a wildcard)? */
bool dundi_addr_has_local(const struct dundi_addr *a);

#endif
