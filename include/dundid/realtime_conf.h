/* The [realtime] and [registrars] sections: where the Asterisk RealTime
 * database is and how its registrar names map to dialable addresses.
 * Pure: parses key/value pairs, the caller reports errors as FILE:LINE. */
#ifndef DUNDID_REALTIME_CONF_H
#define DUNDID_REALTIME_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dundid/regtable.h"

#define RT_STR_MAX 256
#define RT_IDENT_MAX 65 /* MariaDB identifiers: 64 characters */

enum rt_schema { RT_SCHEMA_CHAN_SIP, RT_SCHEMA_PJSIP };

struct registrar_map {
    char name[REG_REGISTRAR_MAX + 1]; /* the regserver/reg_server value */
    char addr[REG_REGISTRAR_MAX + 1]; /* what ${REGISTRAR} becomes */
    int line;
};

struct realtime_conf {
    bool enabled;   /* a [realtime] section exists */
    bool bad_value; /* a key was refused: no "is required" on top of that */
    int line;
    char host[RT_STR_MAX]; /* "" with socket set */
    uint16_t port;         /* 0 = the client library's default (3306) */
    char socket[RT_STR_MAX];
    char user[RT_IDENT_MAX * 2], password[RT_STR_MAX], database[RT_IDENT_MAX];
    enum rt_schema schema;
    char table[RT_IDENT_MAX]; /* "" = the schema's default */
    int poll_s;               /* incremental poll period */
    int resync_s;             /* full reload period (finds deleted and unregistered rows) */
    bool ondemand;
    int ondemand_timeout_ms;
    char default_registrar[REG_REGISTRAR_MAX + 1]; /* for rows with an empty regserver */
    struct registrar_map *registrars;
    size_t nregistrars;
};

#define RT_DEFAULT_POLL_S 5
#define RT_DEFAULT_RESYNC_S 60
#define RT_DEFAULT_ONDEMAND_TIMEOUT_MS 200

void realtime_conf_defaults(struct realtime_conf *rc);
void realtime_conf_free(struct realtime_conf *rc);
/* One key of [realtime]. Returns 0, or -1 with the reason in err. */
int realtime_conf_key(struct realtime_conf *rc, const char *key, const char *value, char *err, size_t errlen);
/* One "name = address" line of [registrars]. Returns 0 or -1 with err. */
int realtime_conf_registrar(struct realtime_conf *rc, const char *name, const char *addr, int line, char *err,
                            size_t errlen);
/* After the whole file: required keys and defaults. 0 or -1 with err. */
int realtime_conf_finish(struct realtime_conf *rc, char *err, size_t errlen);
/* Do two configurations need a new database connection? */
bool realtime_conf_same_connection(const struct realtime_conf *a, const struct realtime_conf *b);

const char *rt_schema_name(enum rt_schema s);
/* The registrar for a row's regserver: a [registrars] entry, the name
 * itself, or default_registrar for an empty one (NULL: none, drop the row). */
const char *realtime_conf_registrar_for(const struct realtime_conf *rc, const char *regserver);

#endif
