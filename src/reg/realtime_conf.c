/* [realtime] and [registrars]: values checked one by one, then as a whole. */
#include "dundid/realtime_conf.h"

#include "dundid/conf_values.h"
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>


/* The table name goes into the SQL text (it cannot be a parameter), so only
 * plain identifier characters. */
static bool is_identifier(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '$')
            return false;
    return true;
}

/* Registrar names and addresses end up in dial strings: printable, no
 * separators a dial string or DUNDi destination would split on. */
static bool is_token(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isgraph((unsigned char)*s) || strchr("/@,;&|\"'\\", *s))
            return false;
    return true;
}

void realtime_conf_defaults(struct realtime_conf *rc)
{
    memset(rc, 0, sizeof(*rc));
    rc->schema = RT_SCHEMA_CHAN_SIP;
    rc->poll_s = RT_DEFAULT_POLL_S;
    rc->resync_s = RT_DEFAULT_RESYNC_S;
    rc->ondemand_timeout_ms = RT_DEFAULT_ONDEMAND_TIMEOUT_MS;
}

void realtime_conf_free(struct realtime_conf *rc)
{
    free(rc->registrars);
    rc->registrars = NULL;
    rc->nregistrars = 0;
}

const char *rt_schema_name(enum rt_schema s) { return s == RT_SCHEMA_PJSIP ? "pjsip" : "chan_sip"; }

static int key(struct realtime_conf *rc, const char *k, const char *v, char *err, size_t errlen);

int realtime_conf_key(struct realtime_conf *rc, const char *k, const char *v, char *err, size_t errlen)
{
    int rv = key(rc, k, v, err, errlen);
    if (rv < 0)
        rc->bad_value = true;
    return rv;
}

static int key(struct realtime_conf *rc, const char *k, const char *v, char *err, size_t errlen)
{
    int n;
    if (!strcasecmp(k, "host")) {
        if (!is_token(v) || !conf_copy(rc->host, sizeof(rc->host), v))
            goto bad_host;
    } else if (!strcasecmp(k, "port")) {
        if (!conf_parse_int(v, 1, 65535, &n)) {
            snprintf(err, errlen, "port: '%s' is not a port number (1..65535)", v);
            return -1;
        }
        rc->port = (uint16_t)n;
    } else if (!strcasecmp(k, "socket")) {
        if (v[0] != '/' || !conf_copy(rc->socket, sizeof(rc->socket), v)) {
            snprintf(err, errlen, "socket: '%s' is not an absolute path of at most %d characters", v, RT_STR_MAX - 1);
            return -1;
        }
    } else if (!strcasecmp(k, "user")) {
        if (!*v || !conf_copy(rc->user, sizeof(rc->user), v)) {
            snprintf(err, errlen, "user: must be 1..%zu characters", sizeof(rc->user) - 1);
            return -1;
        }
    } else if (!strcasecmp(k, "password")) {
        if (!conf_copy(rc->password, sizeof(rc->password), v)) {
            snprintf(err, errlen, "password: longer than %d characters", RT_STR_MAX - 1);
            return -1;
        }
    } else if (!strcasecmp(k, "database")) {
        if (!is_identifier(v) || !conf_copy(rc->database, sizeof(rc->database), v)) {
            snprintf(err, errlen, "database: '%s' must be 1..%d letters, digits, _ or $", v, RT_IDENT_MAX - 1);
            return -1;
        }
    } else if (!strcasecmp(k, "schema")) {
        if (!strcasecmp(v, "chan_sip") || !strcasecmp(v, "sip"))
            rc->schema = RT_SCHEMA_CHAN_SIP;
        else if (!strcasecmp(v, "pjsip"))
            rc->schema = RT_SCHEMA_PJSIP;
        else {
            snprintf(err, errlen, "schema: '%s' must be chan_sip or pjsip", v);
            return -1;
        }
    } else if (!strcasecmp(k, "table")) {
        if (!is_identifier(v) || !conf_copy(rc->table, sizeof(rc->table), v)) {
            snprintf(err, errlen, "table: '%s' must be 1..%d letters, digits, _ or $", v, RT_IDENT_MAX - 1);
            return -1;
        }
    } else if (!strcasecmp(k, "poll")) {
        if (!conf_parse_int(v, 1, 3600, &rc->poll_s)) {
            snprintf(err, errlen, "poll: '%s' must be 1..3600 seconds", v);
            return -1;
        }
    } else if (!strcasecmp(k, "resync")) {
        if (!conf_parse_int(v, 1, 86400, &rc->resync_s)) {
            snprintf(err, errlen, "resync: '%s' must be 1..86400 seconds", v);
            return -1;
        }
    } else if (!strcasecmp(k, "ondemand")) {
        if ((n = conf_parse_bool(v)) < 0) {
            snprintf(err, errlen, "ondemand: '%s' must be yes or no", v);
            return -1;
        }
        rc->ondemand = n;
    } else if (!strcasecmp(k, "ondemand_timeout")) {
        if (!conf_parse_int(v, 1, 5000, &rc->ondemand_timeout_ms)) {
            snprintf(err, errlen, "ondemand_timeout: '%s' must be 1..5000 milliseconds", v);
            return -1;
        }
    } else if (!strcasecmp(k, "default_registrar")) {
        if (!is_token(v) || !conf_copy(rc->default_registrar, sizeof(rc->default_registrar), v)) {
            snprintf(err, errlen, "default_registrar: '%s' must be an address of 1..%d characters", v,
                     REG_REGISTRAR_MAX);
            return -1;
        }
    } else {
        snprintf(err, errlen, "unknown option '%s' in [realtime]", k);
        return -1;
    }
    return 0;
bad_host:
    snprintf(err, errlen, "host: '%s' is not a host name or address", v);
    return -1;
}

int realtime_conf_registrar(struct realtime_conf *rc, const char *name, const char *addr, int line, char *err,
                            size_t errlen)
{
    struct registrar_map m = {.line = line};
    if (!is_token(name) || !conf_copy(m.name, sizeof(m.name), name)) {
        snprintf(err, errlen, "registrar name '%s' must be 1..%d characters without spaces or /@,;", name,
                 REG_REGISTRAR_MAX);
        return -1;
    }
    if (!is_token(addr) || !conf_copy(m.addr, sizeof(m.addr), addr)) {
        snprintf(err, errlen, "registrar '%s': address '%s' must be 1..%d characters without spaces or /@,;", name,
                 addr, REG_REGISTRAR_MAX);
        return -1;
    }
    for (size_t i = 0; i < rc->nregistrars; i++)
        if (!strcasecmp(rc->registrars[i].name, name)) {
            snprintf(err, errlen, "registrar '%s' is already mapped at line %d", name, rc->registrars[i].line);
            return -1;
        }
    struct registrar_map *v = realloc(rc->registrars, (rc->nregistrars + 1) * sizeof(*v));
    if (!v) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    rc->registrars = v;
    v[rc->nregistrars++] = m;
    return 0;
}

int realtime_conf_finish(struct realtime_conf *rc, char *err, size_t errlen)
{
    if (!rc->enabled)
        return 0;
    if (!rc->database[0] && !rc->bad_value) {
        snprintf(err, errlen, "[realtime]: 'database' is required");
        return -1;
    }
    if (!rc->user[0] && !rc->bad_value) {
        snprintf(err, errlen, "[realtime]: 'user' is required");
        return -1;
    }
    if (rc->socket[0] && (rc->host[0] || rc->port)) {
        snprintf(err, errlen, "[realtime]: 'socket' excludes 'host' and 'port'");
        return -1;
    }
    if (!rc->socket[0] && !rc->host[0])
        strcpy(rc->host, "localhost");
    if (!rc->table[0])
        strcpy(rc->table, rc->schema == RT_SCHEMA_PJSIP ? "ps_contacts" : "sippeers");
    if (rc->ondemand && rc->ondemand_timeout_ms >= 2000) {
        /* The requester gives up after 2000 ms + 200 ms per TTL (protocol 4.5). */
        snprintf(err, errlen, "[realtime]: ondemand_timeout %d ms leaves peers no time for the answer (< 2000)",
                 rc->ondemand_timeout_ms);
        return -1;
    }
    return 0;
}

bool realtime_conf_same_connection(const struct realtime_conf *a, const struct realtime_conf *b)
{
    return a->enabled == b->enabled && !strcmp(a->host, b->host) && a->port == b->port &&
           !strcmp(a->socket, b->socket) && !strcmp(a->user, b->user) && !strcmp(a->password, b->password) &&
           !strcmp(a->database, b->database) && a->schema == b->schema && !strcmp(a->table, b->table);
}

const char *realtime_conf_registrar_for(const struct realtime_conf *rc, const char *regserver)
{
    if (!regserver[0])
        return rc->default_registrar[0] ? rc->default_registrar : NULL;
    for (size_t i = 0; i < rc->nregistrars; i++)
        if (!strcasecmp(rc->registrars[i].name, regserver))
            return rc->registrars[i].addr;
    return regserver;
}
