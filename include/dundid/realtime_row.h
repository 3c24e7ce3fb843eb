/* One Asterisk RealTime row (chan_sip sippeers/sip, or pjsip ps_contacts)
 * turned into a registration. Pure: the fields come as bytes with lengths
 * (database columns may hold anything), every length and number is checked. */
#ifndef DUNDID_REALTIME_ROW_H
#define DUNDID_REALTIME_ROW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dundid/realtime_conf.h"
#include "dundid/regtable.h"

#define RT_MAX_COLS 8
#define RT_FIELD_MAX 1024 /* bytes fetched per column; longer is a bad row */

/* chan_sip: name, fullcontact, regseconds, ipaddr, port, regserver, useragent
 * pjsip:    id, endpoint, uri, expiration_time, reg_server, via_addr, via_port, user_agent
 * The first three of chan_sip's and id, uri and expiration_time of pjsip's
 * are needed; the others are used when the table has them (Asterisk's older
 * schema revisions lack some of pjsip's). */
size_t rt_row_ncols(enum rt_schema s);
const char *rt_row_column(enum rt_schema s, size_t i);
bool rt_row_column_needed(enum rt_schema s, size_t i);

/* The columns of ours a table has, found by name. */
struct rt_columns {
    size_t n;                 /* how many are selected */
    uint8_t col[RT_MAX_COLS]; /* our index (rt_row_column) of each, in select order */
};

/* Match the table's column names (any order, any case; columns of its own
 * are ignored) with ours. Returns 0, or -1 with err naming the first needed
 * column the table lacks. */
int rt_columns_resolve(enum rt_schema s, const char *const *names, size_t n, struct rt_columns *out, char *err,
                       size_t errlen);
/* The select list of the resolved columns ("`a`, `b`"). Returns 0, or -1
 * when it does not fit. */
int rt_columns_select(enum rt_schema s, const struct rt_columns *c, char *buf, size_t len);
/* The column holding the extension (for the one-extension query) and the
 * absolute expiry (for the incremental poll). */
const char *rt_row_key_column(enum rt_schema s);
const char *rt_row_expiry_column(enum rt_schema s);

struct rt_field {
    const char *data; /* not NUL-terminated */
    size_t len;
    bool null;
};

struct rt_row {
    char ext[REG_EXT_MAX + 1];
    char contact[REG_CONTACT_MAX + 1];
    char regserver[REG_REGISTRAR_MAX + 1];
    char source[REG_SOURCE_MAX + 1];
    char user_agent[REG_UA_MAX + 1];
    int64_t expires; /* epoch seconds; 0 = not registered */
};

enum rt_row_result {
    RT_ROW_OK = 0,
    RT_ROW_UNREGISTERED = 1, /* empty contact or expiry 0: nothing to add (not an error) */
    RT_ROW_BAD_EXT = -1,
    RT_ROW_BAD_CONTACT = -2,
    RT_ROW_BAD_EXPIRY = -3,
    RT_ROW_BAD_SOURCE = -4,
    RT_ROW_BAD_REGSERVER = -5,
    RT_ROW_BAD_COLUMNS = -6,
};

/* Undo the "^XX" (two hex digits) escapes Asterisk's RealTime drivers
 * write for ';' and '^' (res_config_odbc, res_config_mysql): len bytes of in
 * to out (room for len bytes); returns the length written (<= len). */
size_t rt_field_unescape(const char *in, size_t len, char *out);

/* Decode rt_row_ncols(s) fields (their "^XX" escapes undone). Returns RT_ROW_OK, RT_ROW_UNREGISTERED or a
 * negative RT_ROW_BAD_* (out is then unspecified). */
int rt_row_decode(enum rt_schema s, const struct rt_field *f, size_t nf, struct rt_row *out);
/* The same for a row of c's columns (nf == c->n); the columns the table
 * lacks are NULL. */
int rt_row_decode_cols(enum rt_schema s, const struct rt_columns *c, const struct rt_field *f, size_t nf,
                       struct rt_row *out);
const char *rt_row_strerror(int rc);

#endif
