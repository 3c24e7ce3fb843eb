/* Operator debugging ("set debug on"): every packet to and from the peers
 * asked for, its header and its IEs, and what travels inside an envelope
 * once opened. Never key material nor ${SECRET}s: the log outlives the
 * session. */
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

static bool secret_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* A ${SECRET} is 16 bytes in base64: 22 characters and "==". Ours and any
 * other node's (forwarded answers carry theirs) are masked in place. */
static void mask_secrets(char *text)
{
    for (char *p = text; *p; p++) {
        if (p[0] != '=' || p[1] != '=')
            continue;
        char *start = p;
        while (start > text && secret_char(start[-1]))
            start--;
        if (p - start == 22 && (start == text || !secret_char(start[-1])))
            memset(start, '*', 24);
        p++;
    }
}

/* " {IE=..., ...}", or "" without IEs: on the frame's own line, so that
 * every line names the peer. */
static void ies_text(const uint8_t *ies, size_t len, char *text, size_t cap)
{
    text[0] = '\0';
    if (!len || cap < 16)
        return;
    text[0] = ' ';
    int rc = dundi_ies_format_opt(ies, len, text + 1, cap - 1 - 12, true);
    mask_secrets(text);
    if (rc < 0)
        strcat(text, " (malformed)");
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
    char text[LOG_LINE_MAX];
    ies_text(pkt + DUNDI_HDR_LEN, len - DUNDI_HDR_LEN, text, sizeof(text) - 160);
    /* Shown whatever the log level: the operator asked for it. */
    log_notice("packet: %s-Frame %s %s (%s) strans %u dtrans %u oseq %u iseq %u%s, %zu bytes%s", tx ? "Tx" : "Rx",
               who, dundi_cmd_name(dundi_hdr_cmd(&h)), (h.cmdresp & DUNDI_FLAG_RESPONSE) ? "Response" : "Command",
               h.strans, h.dtrans, h.oseqno, h.iseqno, dundi_hdr_final(&h) ? " (Final)" : "", len, text);
}

void server_debug_inner(void *ctx, bool tx, const struct trans *t, const struct dundi_hdr *h, const uint8_t *ies,
                        size_t len)
{
    struct server *s = ctx;
    if ((!s->debug_all && !s->ndebug) || !debugged(s, &t->addr))
        return;
    char who[64];
    dundi_addr_str(&t->addr, who, sizeof(who));
    char text[LOG_LINE_MAX];
    ies_text(ies, len, text, sizeof(text) - 160);
    log_notice("packet: %s-Frame %s decrypted: %s (%s)%s%s", tx ? "Tx" : "Rx", who, dundi_cmd_name(dundi_hdr_cmd(h)),
               (h->cmdresp & DUNDI_FLAG_RESPONSE) ? "Response" : "Command", dundi_hdr_final(h) ? " (Final)" : "",
               text);
}
