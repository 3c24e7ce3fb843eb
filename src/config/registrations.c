/* [registrations]: the registration table and its SIP feeds. */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dundid/conf_values.h"
#include "dundid/regtable.h"
#include "load.h"

#define F(field) offsetof(struct config, field)

static const struct opt reg_opts[] = {
    {"regcontext", OPT_WORD, 0, CONF_NAME_MAX, NULL, F(reg.regcontext)},
    {"capture", OPT_WORD, 0, CONF_STR_MAX, NULL, F(reg.capture)},
    {"capture_filter", OPT_WORD, 0, CONF_STR_MAX, NULL, F(reg.capture_filter)},
    {"capture_file", OPT_WORD, 0, CONF_STR_MAX, NULL, F(reg.capture_file)},
    {"capture_buffer", OPT_INT, 64, 1048576, "KiB", F(reg.capture_buffer_kb)},
    {"capture_immediate", OPT_BOOL, 0, 0, NULL, F(reg.capture_immediate)},
    {"hep_password", OPT_WORD, 0, CONF_STR_MAX, NULL, F(reg.hep_password)},
    {"max_bindings", OPT_INT, 1, REG_MAX_BINDINGS_LIMIT, "bindings", F(reg.max_bindings)},
    {"state_interval", OPT_INT, 1, 86400, "seconds", F(reg.state_interval_s)},
    {"negative_cachetime", OPT_INT, 0, 65535, "seconds", F(reg.negative_cachetime)},
    {"default_expires", OPT_INT, 1, 86400 * 7, "seconds", F(reg.default_expires)},
    {"keep_other_registrars", OPT_BOOL, 0, 0, NULL, F(reg.keep_other_registrars)},
    {"precache_registrations", OPT_BOOL, 0, 0, NULL, F(precache_registrations)},
};

static bool parse_cidr(const char *s, struct cidr *out)
{
    char addr[INET6_ADDRSTRLEN + 1];
    const char *slash = strchr(s, '/');
    size_t alen = slash ? (size_t)(slash - s) : strlen(s);
    if (alen >= sizeof(addr))
        return false;
    memcpy(addr, s, alen);
    addr[alen] = '\0';
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, addr, out->addr) == 1)
        out->family = AF_INET;
    else if (inet_pton(AF_INET6, addr, out->addr) == 1)
        out->family = AF_INET6;
    else
        return false;
    int maxbits = out->family == AF_INET ? 32 : 128, bits = maxbits;
    if (slash && !conf_parse_int(slash + 1, 0, maxbits, &bits))
        return false;
    out->bits = (unsigned)bits;
    return true;
}

void registrations_key(struct loader *ld, const char *k, const char *v, int line)
{
    struct reg_conf *r = &ld->c->reg;

    if (conf_opt_set(ld, reg_opts, NOPTS(reg_opts), ld->c, k, v, line))
        return;
    if (!strcasecmp(k, "statefile")) {
        if (!conf_copy(r->statefile, sizeof(r->statefile), v))
            ERR(ld, line, "statefile: must be 1..%zu characters", sizeof(r->statefile) - 1);
        else if (!strcasecmp(v, "none"))
            r->statefile[0] = '\0';
        r->statefile_set = true;
    } else if (!strcasecmp(k, "hep")) {
        if (!conf_copy(r->hep_text.text, sizeof(r->hep_text.text), v) || !*v)
            ERR(ld, line, "hep: '%s' is not ADDRESS:PORT", v);
        r->hep_text.line = line;
    } else if (!strcasecmp(k, "hep_allow")) {
        struct cidr c;
        struct cidr *nv;
        if (!parse_cidr(v, &c))
            ERR(ld, line, "hep_allow: '%s' is not an address or ADDRESS/BITS", v);
        else if (!(nv = conf_grow(r->hep_allow, r->nhep_allow, sizeof(*nv))))
            ERR(ld, line, "out of memory");
        else {
            r->hep_allow = nv;
            r->hep_allow[r->nhep_allow++] = c;
        }
    } else {
        ERR(ld, line, "unknown option '%s' in [registrations]", k);
    }
}

/* hep = "ADDR:PORT", "[V6]:PORT" or "PORT" (every address): the port and a
 * numeric address now, a host name in config_probe(). hep_text keeps the
 * host part only. */
static void split_hep(struct loader *ld)
{
    struct reg_conf *r = &ld->c->reg;
    char *hep = r->hep_text.text, host[CONF_STR_MAX];
    const char *colon = strrchr(hep, ':'), *portstr = colon ? colon + 1 : hep;
    int port;
    if (!conf_parse_int(portstr, 1, 65535, &port)) {
        ERR(ld, r->hep_text.line, "hep: '%s' needs a port (ADDRESS:PORT)", hep);
        return;
    }
    if (!colon)
        snprintf(host, sizeof(host), "0.0.0.0");
    else if (hep[0] == '[' && colon > hep + 1 && colon[-1] == ']')
        snprintf(host, sizeof(host), "%.*s", (int)(colon - hep - 2), hep + 1);
    else
        snprintf(host, sizeof(host), "%.*s", (int)(colon - hep), hep);
    snprintf(hep, sizeof(r->hep_text.text), "%s", host);
    r->hep_port = (uint16_t)port;
    r->has_hep = conf_numeric_addr(host, r->hep_port, &r->hep);
}

void registrations_finish(struct loader *ld)
{
    struct reg_conf *r = &ld->c->reg;
    if (r->hep_text.text[0])
        split_hep(ld);
    if (r->capture[0] && r->capture_file[0])
        ERR(ld, 1, "[registrations]: capture and capture_file exclude each other");
}
