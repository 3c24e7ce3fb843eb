/* Link, IP and transport headers of a captured frame, every length checked. */
#include "dundid/pktdecode.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* pcap's link-type numbers (pcap/dlt.h), kept here so this file needs no libpcap. */
enum { LT_NULL = 0, LT_EN10MB = 1, LT_RAW_BSD = 12, LT_RAW_OBSD = 14, LT_RAW = 101, LT_LOOP = 108,
       LT_LINUX_SLL = 113, LT_IPV4 = 228, LT_IPV6 = 229, LT_LINUX_SLL2 = 276 };

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static int transport(uint8_t proto, const uint8_t *p, size_t len, struct pkt_info *out)
{
    size_t hl;
    if (proto == 17) {
        if (len < 8)
            return PKT_E_SHORT;
        size_t ulen = be16(p + 4);
        if (ulen < 8 || ulen > len)
            return PKT_E_SHORT;
        hl = 8;
        len = ulen; /* Ethernet padding is not payload */
    } else if (proto == 6) {
        if (len < 20)
            return PKT_E_SHORT;
        hl = (size_t)(p[12] >> 4) * 4;
        if (hl < 20 || hl > len)
            return PKT_E_SHORT;
    } else {
        return PKT_E_PROTO;
    }
    out->proto = proto;
    out->hop.sport = be16(p);
    out->hop.dport = be16(p + 2);
    out->payload = p + hl;
    out->payload_len = len - hl;
    return out->payload_len ? PKT_OK : PKT_E_EMPTY;
}

static int ipv4(const uint8_t *p, size_t len, struct pkt_info *out)
{
    if (len < 20 || (p[0] >> 4) != 4)
        return PKT_E_SHORT;
    size_t ihl = (size_t)(p[0] & 0x0f) * 4, total = be16(p + 2);
    if (ihl < 20 || total < ihl || total > len)
        return PKT_E_SHORT;
    if (be16(p + 6) & 0x3fff) /* more fragments, or an offset */
        return PKT_E_FRAGMENT;
    inet_ntop(AF_INET, p + 12, out->hop.src, sizeof(out->hop.src));
    inet_ntop(AF_INET, p + 16, out->hop.dst, sizeof(out->hop.dst));
    return transport(p[9], p + ihl, total - ihl, out);
}

static int ipv6(const uint8_t *p, size_t len, struct pkt_info *out)
{
    if (len < 40 || (p[0] >> 4) != 6)
        return PKT_E_SHORT;
    size_t plen = be16(p + 4);
    if (plen > len - 40)
        return PKT_E_SHORT;
    inet_ntop(AF_INET6, p + 8, out->hop.src, sizeof(out->hop.src));
    inet_ntop(AF_INET6, p + 24, out->hop.dst, sizeof(out->hop.dst));
    uint8_t next = p[6];
    const uint8_t *q = p + 40;
    size_t left = plen;
    /* Hop-by-hop, routing and destination options may precede the transport. */
    for (int hops = 0; hops < 8 && (next == 0 || next == 43 || next == 60); hops++) {
        if (left < 8)
            return PKT_E_SHORT;
        size_t el = ((size_t)q[1] + 1) * 8;
        if (el > left)
            return PKT_E_SHORT;
        next = q[0];
        q += el;
        left -= el;
    }
    if (next == 44)
        return PKT_E_FRAGMENT;
    return transport(next, q, left, out);
}

static int by_ethertype(uint16_t type, const uint8_t *p, size_t len, struct pkt_info *out)
{
    if (type == 0x0800)
        return ipv4(p, len, out);
    if (type == 0x86dd)
        return ipv6(p, len, out);
    return PKT_E_NOT_IP;
}

static int by_version(const uint8_t *p, size_t len, struct pkt_info *out)
{
    if (!len)
        return PKT_E_SHORT;
    if ((p[0] >> 4) == 4)
        return ipv4(p, len, out);
    if ((p[0] >> 4) == 6)
        return ipv6(p, len, out);
    return PKT_E_NOT_IP;
}

int pkt_decode(int dlt, const uint8_t *f, size_t len, struct pkt_info *out)
{
    memset(out, 0, sizeof(*out));
    switch (dlt) {
    case LT_EN10MB: {
        if (len < 14)
            return PKT_E_SHORT;
        size_t off = 12;
        uint16_t type = be16(f + off);
        for (int tags = 0; tags < 2 && (type == 0x8100 || type == 0x88a8); tags++) { /* VLAN, QinQ */
            off += 4;
            if (len < off + 2)
                return PKT_E_SHORT;
            type = be16(f + off);
        }
        return by_ethertype(type, f + off + 2, len - off - 2, out);
    }
    case LT_LINUX_SLL:
        if (len < 16)
            return PKT_E_SHORT;
        return by_ethertype(be16(f + 14), f + 16, len - 16, out);
    case LT_LINUX_SLL2:
        if (len < 20)
            return PKT_E_SHORT;
        return by_ethertype(be16(f), f + 20, len - 20, out);
    case LT_NULL:
    case LT_LOOP: /* a 4-byte address family, host or network order: go by the IP version */
        if (len < 4)
            return PKT_E_SHORT;
        return by_version(f + 4, len - 4, out);
    case LT_RAW:
    case LT_RAW_BSD:
    case LT_RAW_OBSD:
    case LT_IPV4:
    case LT_IPV6: return by_version(f, len, out);
    }
    return PKT_E_LINKTYPE;
}

const char *pkt_strerror(int err)
{
    switch (err) {
    case PKT_OK: return "ok";
    case PKT_E_SHORT: return "truncated header";
    case PKT_E_LINKTYPE: return "unsupported link type";
    case PKT_E_NOT_IP: return "not IP";
    case PKT_E_FRAGMENT: return "IP fragment";
    case PKT_E_PROTO: return "neither UDP nor TCP";
    case PKT_E_EMPTY: return "no payload";
    }
    return "unknown error";
}
