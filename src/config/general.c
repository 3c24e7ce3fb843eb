/* [general]: the daemon's own options, the process side (pidfile, logfile,
 * metrics, control), and Asterisk's options dundid accepts but ignores. */
#include <arpa/inet.h>
#include <stddef.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dundid/conf_values.h"
#include "dundid/log.h"
#include "load.h"

#define F(field) offsetof(struct config, field)

static const struct opt general_opts[] = {
    {"port", OPT_PORT, 0, 0, NULL, F(port)},
    {"ttl", OPT_INT, 1, 119, NULL, F(ttl)}, /* the reference accepts 1..119 only */
    {"cachetime", OPT_INT, 0, 65535, "seconds", F(cachetime)},
    {"storehistory", OPT_BOOL, 0, 0, NULL, F(storehistory)},
    {"dns_refresh", OPT_INT, 1, 86400, "seconds", F(dns_refresh_s)},
    {"cache_size", OPT_INT, 16, 100000000, "entries", F(cache_size)},
    {"session_key_lifetime", OPT_INT, 10, 86400, "seconds", F(session_key_lifetime_s)},
    {"max_transactions", OPT_INT, 1, TRANS_ID_SPACE - 2, NULL, F(max_transactions)},
    {"max_transactions_per_source", OPT_INT, 1, TRANS_ID_SPACE - 2, NULL, F(max_per_source)},
    {"peer_address_check", OPT_BOOL, 0, 0, NULL, F(peer_address_check)},
    /* contact details, sent in EID answers */
    {"department", OPT_TEXT, 0, CONF_NAME_MAX, NULL, F(department)},
    {"organization", OPT_TEXT, 0, CONF_NAME_MAX, NULL, F(organization)},
    {"locality", OPT_TEXT, 0, CONF_NAME_MAX, NULL, F(locality)},
    {"stateprov", OPT_TEXT, 0, CONF_NAME_MAX, NULL, F(stateprov)},
    {"country", OPT_TEXT, 0, CONF_NAME_MAX, NULL, F(country)},
    {"email", OPT_TEXT, 0, CONF_NAME_MAX, NULL, F(email)},
    {"phone", OPT_TEXT, 0, CONF_NAME_MAX, NULL, F(phone)},
};

static const char *const asterisk_only[] = {"authdebug", "outgoing_sip_tech", "pjsip_outgoing_endpoint",
                                            "secretpath"};

/* DSCP/TOS: a number 0..255 or a DiffServ class name. */
static int parse_tos(const char *s)
{
    static const struct {
        const char *name;
        int dscp;
    } names[] = {
        {"cs0", 0},   {"cs1", 8},   {"cs2", 16},  {"cs3", 24},  {"cs4", 32},  {"cs5", 40},  {"cs6", 48},
        {"cs7", 56},  {"af11", 10}, {"af12", 12}, {"af13", 14}, {"af21", 18}, {"af22", 20}, {"af23", 22},
        {"af31", 26}, {"af32", 28}, {"af33", 30}, {"af41", 34}, {"af42", 36}, {"af43", 38}, {"ef", 46},
    };
    int v;
    if (conf_parse_int(s, 0, 255, &v))
        return v;
    if (!strncasecmp(s, "0x", 2)) {
        char *end;
        long x = strtol(s, &end, 16);
        return (*end || x < 0 || x > 255) ? -1 : (int)x;
    }
    for (size_t i = 0; i < NOPTS(names); i++)
        if (!strcasecmp(s, names[i].name))
            return names[i].dscp << 2;
    return -1;
}

static bool is_ip(const char *s)
{
    struct in6_addr a6;
    struct in_addr a4;
    return inet_pton(AF_INET, s, &a4) == 1 || inet_pton(AF_INET6, s, &a6) == 1;
}

/* "HOST:PORT" or "[V6]:PORT" with a numeric address. */
static bool parse_listen(const char *v, char *host, size_t hostlen, uint16_t *port)
{
    const char *colon = strrchr(v, ':');
    int n;
    if (!colon || !conf_parse_int(colon + 1, 1, 65535, &n))
        return false;
    const char *h = v;
    size_t len = (size_t)(colon - v);
    if (len >= 2 && h[0] == '[' && h[len - 1] == ']') {
        h++;
        len -= 2;
    }
    if (len == 0 || len >= hostlen)
        return false;
    memcpy(host, h, len);
    host[len] = '\0';
    if (!is_ip(host))
        return false;
    *port = (uint16_t)n;
    return true;
}

/* pidfile, logfile, metrics, control, control_group: the process side, read at start. */
static bool ops_key(struct loader *ld, const char *k, const char *v, int line)
{
    struct config *c = ld->c;
    if (!strcasecmp(k, "pidfile") || !strcasecmp(k, "logfile")) {
        char *slot = !strcasecmp(k, "pidfile") ? c->pidfile : c->logfile;
        if (v[0] != '/' || !conf_copy(slot, CONF_STR_MAX, v))
            ERR(ld, line, "%s: '%s' must be an absolute path shorter than %d characters", k, v, CONF_STR_MAX);
    } else if (!strcasecmp(k, "metrics")) {
        if (!parse_listen(v, c->metrics_host, sizeof(c->metrics_host), &c->metrics_port)) {
            c->metrics_host[0] = '\0';
            ERR(ld, line, "metrics: '%s' must be IP:PORT (e.g. 127.0.0.1:9520 or [::1]:9520)", v);
        }
    } else if (!strcasecmp(k, "control")) {
        c->control_set = true;
        if (!strcasecmp(v, "none"))
            c->control[0] = '\0';
        else if (v[0] != '/' || !conf_copy(c->control, sizeof(c->control), v))
            ERR(ld, line, "control: '%s' must be none or an absolute path of at most %d characters", v,
                CONF_CONTROL_MAX - 1);
    } else if (!strcasecmp(k, "control_group")) {
        /* a name or a number; whether it exists is checked at start */
        if (!*v || strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != strlen(v) ||
            v[0] == '-' || !conf_copy(c->control_group, sizeof(c->control_group), v))
            ERR(ld, line, "control_group: '%s' is not a group name", v);
    } else {
        return false;
    }
    return true;
}

static void set_addr_text(struct conf_addr_text *t, const char *v, int line)
{
    conf_copy(t->text, sizeof(t->text), v);
    t->line = line;
}

void general_key(struct loader *ld, const char *k, const char *v, int line)
{
    struct config *c = ld->c;
    int n;

    if (conf_opt_set(ld, general_opts, NOPTS(general_opts), c, k, v, line) || ops_key(ld, k, v, line))
        return;
    if (!strcasecmp(k, "bindaddr")) {
        set_addr_text(&c->bindaddr_text, v, line);
    } else if (!strcasecmp(k, "bindaddr2")) {
        set_addr_text(&c->bindaddr2_text, v, line);
    } else if (!strcasecmp(k, "tos")) {
        if ((n = parse_tos(v)) < 0)
            ERR(ld, line, "tos: '%s' is not a number 0..255 or a DSCP name (cs0..cs7, af11..af43, ef)", v);
        else
            c->tos = n;
    } else if (!strcasecmp(k, "entityid")) {
        if (eid_parse(&c->eid, v) < 0 || eid_is_zero(&c->eid))
            ERR(ld, line, "entityid: '%s' is not an EID like 00:11:22:33:44:55 (and not all zero)", v);
        else
            c->has_eid = true;
    } else if (!strcasecmp(k, "autokill")) {
        int b = conf_parse_bool(v);
        if (b == 1)
            c->autokill_ms = 2000;
        else if (b == 0)
            c->autokill_ms = 0;
        else if (!conf_parse_int(v, 0, 3600000, &n))
            ERR(ld, line, "autokill: '%s' must be yes, no or milliseconds", v);
        else
            c->autokill_ms = n;
    } else if (!strcasecmp(k, "peer_statefile") || !strcasecmp(k, "cache_statefile")) {
        char *dst = tolower((unsigned char)k[0]) == 'p' ? c->peer_statefile : c->cache_statefile;
        if (!*v || !conf_copy(dst, CONF_STR_MAX, v))
            ERR(ld, line, "%s: '%s' is not a file name (or none)", k, v);
        else if (!strcasecmp(v, "none"))
            dst[0] = '\0';
    } else if (!strcasecmp(k, "resolv_conf")) {
        if (!*v || !conf_copy(c->resolv_conf, sizeof(c->resolv_conf), v))
            ERR(ld, line, "resolv_conf: '%s' is not a file name", v);
    } else if (!strcasecmp(k, "asterisk_dir") && !ld->lenient) {
        /* Read before anything else (load.c); recorded for show. */
        if (!*v || !conf_copy(c->asterisk_dir, sizeof(c->asterisk_dir), v))
            ERR(ld, line, "asterisk_dir: '%s' is not a folder name", v);
    } else if (!strcasecmp(k, "keydir")) {
        if (!*v || !conf_copy(c->keydir, sizeof(c->keydir), v))
            ERR(ld, line, "keydir: '%s' is not a folder name", v);
    } else if (!strcasecmp(k, "ipaddr")) {
        if (!is_ip(v))
            ERR(ld, line, "ipaddr: '%s' is not an IP address", v);
        else
            conf_copy(c->ipaddr, sizeof(c->ipaddr), v);
    } else if (!strcasecmp(k, "loglevel")) {
        if ((n = log_level_from_name(v)) < 0)
            ERR(ld, line, "loglevel: '%s' must be error, warning, notice, info or debug", v);
        else
            c->loglevel = n;
    } else {
        for (size_t i = 0; i < NOPTS(asterisk_only); i++)
            if (!strcasecmp(k, asterisk_only[i])) {
                WARN(ld, line, "%s: Asterisk option with no effect in dundid; ignored", k);
                return;
            }
        ERR(ld, line, "unknown option '%s' in [general]", k);
    }
}

void general_check_bindaddr2(struct config_diag *d, struct config *c)
{
    if (c->bindaddr2.ss.ss_family == c->bindaddr.ss.ss_family)
        conf_diag_add(d, &c->src, true, c->bindaddr2_text.line,
                      "bindaddr2 must be of the other address family than bindaddr");
    else
        c->has_bindaddr2 = true;
}

/* Numeric addresses now (the port may come after them); names are left to
 * config_probe(). */
void general_finish(struct loader *ld)
{
    struct config *c = ld->c;
    conf_numeric_addr(c->bindaddr_text.text[0] ? c->bindaddr_text.text : "0.0.0.0", c->port, &c->bindaddr);
    if (c->bindaddr2_text.text[0] && conf_numeric_addr(c->bindaddr2_text.text, c->port, &c->bindaddr2) &&
        c->bindaddr.ss.ss_family)
        general_check_bindaddr2(ld->d, c);
}
