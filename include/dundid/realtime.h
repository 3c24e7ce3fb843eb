/* The Asterisk RealTime feed: reads chan_sip (sippeers/sip) or pjsip
 * (ps_contacts) rows from MariaDB/MySQL into the registration table.
 * Everything runs on the event loop through libmariadb's non-blocking API,
 * so a slow or dead database never delays an answer from memory. */
#ifndef DUNDID_REALTIME_H
#define DUNDID_REALTIME_H

#include <stdbool.h>
#include <stdint.h>

#include "dundid/realtime_conf.h"

struct server;
struct config;
struct realtime;
struct realtime_wait;

enum realtime_state { RT_OFF, RT_CONNECTING, RT_CONNECTED, RT_BACKOFF };

struct realtime_status {
    enum realtime_state state;
    bool connected;
    char last_error[256];
    int64_t connected_since;  /* epoch seconds, 0 when not connected */
    uint64_t connects, losses;
    uint64_t polls, full_loads, rechecks; /* finished queries by kind */
    uint64_t rows, rows_applied;
    /* Rows that are no live registration: regseconds/expiration_time 0 or
     * past, or an empty contact (what chan_sip writes on unregistration).
     * Only the one-extension query returns those; the polls ask for live
     * expiries. */
    uint64_t rows_not_live;
    uint64_t rows_departed;     /* a registration the wire saw leave (regtable.h): not taken */
    uint64_t rows_bad;          /* undecodable rows (counted, skipped) */
    uint64_t rows_no_registrar; /* empty regserver and no default_registrar */
    uint64_t stale_removed;     /* bindings the database no longer has */
    uint64_t jobs_dropped;      /* queue full */
    uint64_t ondemand_asked, ondemand_answered, ondemand_timeouts, ondemand_skipped;
    uint64_t last_query_ms, max_query_ms; /* query latency: execute to last row */
    int64_t last_poll;                    /* epoch seconds of the last finished poll */
    uint64_t walk_steps;                  /* bounded table-walk steps (end of full passes, rechecks) */
    uint64_t backlog;                     /* queries queued or running, and walks under way */
};

const char *realtime_state_name(enum realtime_state s);

struct realtime *realtime_new(struct server *s);
void realtime_free(struct realtime *rt);
/* Take a configuration snapshot (old is NULL at start). An unchanged
 * database keeps its connection; a changed one reconnects and reloads. */
void realtime_configure(struct realtime *rt, const struct config *old, const struct config *conf);
void realtime_get_status(const struct realtime *rt, struct realtime_status *out);
/* Configured but not connected: the table may miss what the database has. */
bool realtime_behind(const struct realtime *rt);
void realtime_log_stats(const struct realtime *rt);

/* On-demand lookup of a number asked in DUNDi context dcontext, when a
 * mapping of that context answers from the registration table and the table
 * has no live binding for it. Returns NULL when there is nothing to wait for
 * (off, not that kind of lookup, not connected, asked within the last poll
 * period, too many waiting); otherwise done(ctx) is called exactly once:
 * when the database answered (its rows already applied) or after
 * ondemand_timeout, whichever comes first. */
typedef void (*realtime_done_fn)(void *ctx);
struct realtime_wait *realtime_ondemand(struct realtime *rt, const struct config *c, const char *dcontext,
                                        const char *ext, realtime_done_fn done, void *ctx);
/* The waiter went away: done will not be called. */
void realtime_ondemand_cancel(struct realtime_wait *w);

#endif
