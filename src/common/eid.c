/* Entity identifier text forms and discovery. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "dundid/eid.h"
#include "dundid/decimal.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <netpacket/packet.h>
#include <stdio.h>
#include <string.h>

#include <openssl/rand.h>

int eid_parse(eid_t *out, const char *s)
{
    for (int i = 0; i < EID_LEN; i++) {
        int hi = hex_digit(s[0]), lo = hi < 0 ? -1 : hex_digit(s[1]);
        if (hi < 0 || lo < 0)
            return -1;
        out->b[i] = (uint8_t)(hi << 4 | lo);
        s += 2;
        if (i < EID_LEN - 1) {
            if (*s != ':')
                return -1;
            s++;
        }
    }
    return *s ? -1 : 0;
}

char *eid_to_str(const eid_t *e, char *buf)
{
    snprintf(buf, EID_STR_LEN, "%02x:%02x:%02x:%02x:%02x:%02x", e->b[0], e->b[1], e->b[2], e->b[3], e->b[4],
             e->b[5]);
    return buf;
}

char *eid_to_short(const eid_t *e, char *buf)
{
    snprintf(buf, EID_SHORT_LEN, "%02X%02X%02X%02X%02X%02X", e->b[0], e->b[1], e->b[2], e->b[3], e->b[4], e->b[5]);
    return buf;
}

bool eid_equal(const eid_t *a, const eid_t *b) { return memcmp(a->b, b->b, EID_LEN) == 0; }

bool eid_is_zero(const eid_t *e)
{
    static const eid_t zero;
    return eid_equal(e, &zero);
}

void eid_random(eid_t *out)
{
    if (RAND_bytes(out->b, EID_LEN) != 1)
        memset(out->b, 0x5a, EID_LEN);
    out->b[0] = (uint8_t)((out->b[0] & 0xfc) | 0x02); /* unicast, locally administered */
}

int eid_from_host(eid_t *out)
{
    struct ifaddrs *ifs, *i;
    int rc = -1;

    if (getifaddrs(&ifs) < 0)
        return -1;
    /* Interfaces that are up first: a down helper device (ifb, dummy) is a poor identity. */
    for (int pass = 0; pass < 2 && rc; pass++)
    for (i = ifs; i && rc; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_PACKET || (i->ifa_flags & IFF_LOOPBACK))
            continue;
        if (pass == 0 && !(i->ifa_flags & IFF_UP))
            continue;
        const struct sockaddr_ll *ll = (const struct sockaddr_ll *)(const void *)i->ifa_addr;
        if (ll->sll_halen != EID_LEN)
            continue;
        memcpy(out->b, ll->sll_addr, EID_LEN);
        if (!eid_is_zero(out))
            rc = 0;
    }
    freeifaddrs(ifs);
    return rc;
}
