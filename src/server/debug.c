/* Operator debugging: per-peer packet logs. */
#include <stdio.h>
#include <string.h>

#include "dundid/log.h"
#include "dundid/server_impl.h"

static bool debugged(const struct server *s, const struct dundi_addr *addr)
{
    if (s->debug_all)
        return true;
    for (unsigned i = 0; i < s->ndebug; i++) {
        const struct peer_conf *p = server_find_peer(s, &s->debug_peers[i]);
        const struct dundi_addr *a = p && !p->wildcard ? server_peer_addr(s, p) : NULL;
        if (a && dundi_addr_equal(a, addr))
            return true;
    }
    return false;
}

void server_debug_packet(struct server *s, bool tx, const struct dundi_addr *addr, const uint8_t *pkt, size_t len)
{
    if (!s->debug_all && !s->ndebug)
        return;
    if (!debugged(s, addr))
        return;
    char who[64];
    struct dundi_hdr h;
    dundi_addr_str(addr, who, sizeof(who));
    if (dundi_hdr_decode(pkt, len, &h) < 0) {
        log_notice("packet: %s %s: %zu bytes, not a DUNDi header", tx ? "Tx" : "Rx", who, len);
        return;
    }
    /* Shown whatever the log level: the operator asked for it. */
    log_notice("packet: %s-Frame %s %s (%s) strans %u dtrans %u oseq %u iseq %u%s, %zu bytes", tx ? "Tx" : "Rx", who,
               dundi_cmd_name(dundi_hdr_cmd(&h)), (h.cmdresp & DUNDI_FLAG_RESPONSE) ? "Response" : "Command",
               h.strans, h.dtrans, h.oseqno, h.iseqno, dundi_hdr_final(&h) ? " (Final)" : "", len);
}
