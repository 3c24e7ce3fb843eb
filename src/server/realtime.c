/* The RealTime feed on the event loop: one MariaDB connection driven by
 * libmariadb's non-blocking API (every *_start/_cont step waits on a
 * libevent event for the connection's socket), two prepared statements, a
 * queue of queries run one at a time, reconnection with backoff.
 *
 * Queries (see realtime_sync.h for what each pass does to the table):
 *   poll: SELECT <cols> FROM <table> WHERE <expiry> > ?
 *         full pass with ? = now (at connect and every resync seconds),
 *         incremental pass with ? = the high-water mark of expiries (every
 *         poll seconds): chan_sip has no change column, but every REGISTER
 *         writes now + expiry, so with the usual single expiry a refresh is
 *         always above the highest expiry seen before;
 *   key:  SELECT <cols> FROM <table> WHERE <extension> = ?
 *         for on-demand lookups and for bindings about to expire (a refresh
 *         with a shorter expiry than the mark would otherwise be missed).
 * <cols> are those of ours the table has: after connecting, the columns of
 * "SELECT * FROM <table> LIMIT 0" (prepared, never run) are matched by name
 * (realtime_row.h), so any of Asterisk's schema revisions reads. */
#include "dundid/realtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/event.h>
#include <mysql.h>

#include "dundid/clock.h"
#include "dundid/log.h"
#include "dundid/looplag.h"
#include "dundid/realtime_row.h"
#include "dundid/realtime_sync.h"
#include "dundid/server_impl.h"

#define RT_ROWS_PER_TURN 256      /* then yield to the loop, so answers go out */
#define RT_TURN_US 1000           /* or sooner: the feed's work per loop turn */
#define RT_MAX_JOBS 256           /* queued queries */
#define RT_MAX_WAITERS 128        /* on-demand lookups waiting at once */
#define RT_RECHECK_PER_POLL 32    /* expiring extensions re-asked per poll */
#define RT_RECENT 64              /* on-demand extensions remembered (not asked again within poll) */
#define RT_STALL_MS 15000         /* no progress on a step this long: the connection is dead */
#define RT_BACKOFF_MIN_MS 500
#define RT_BACKOFF_MAX_MS 30000
#define RT_NET_TIMEOUT_S 10       /* libmariadb's own read/write timeout */
#define RT_CONNECT_TIMEOUT_S 5
#define RT_WALK_BUCKETS 1024      /* table buckets per walk step (end of a full pass, rechecks) */

enum job_kind { JOB_FULL, JOB_INCR, JOB_KEY };

struct realtime_wait {
    struct realtime_wait *next;
    struct realtime *rt;
    struct job *job;
    struct timer timeout;
    realtime_done_fn done;
    void *ctx;
};

struct job {
    struct job *next;
    enum job_kind kind;
    char ext[REG_EXT_MAX + 1];
    struct realtime_wait *waiters;
};

/* The step of the connection that is in flight. */
enum op { OP_NONE, OP_CONNECT, OP_PREPARE_COLS, OP_PREPARE_POLL, OP_PREPARE_KEY, OP_EXECUTE, OP_FETCH };

struct realtime {
    struct server *s;
    struct realtime_conf conf; /* copy of the scalar part of the snapshot (registrars: from s->conf) */
    enum realtime_state state;
    MYSQL *db;
    MYSQL_STMT *st_cols, *st_poll, *st_key, *cur; /* cur: the statement of the running job */
    struct rt_columns cols;                       /* of the connected table */
    enum op op;
    struct event *io, *kick;
    struct event *walk_ev;   /* the bounded table walks below, one step a loop turn */
    bool sweeping;           /* the running FULL job is removing what it did not see */
    size_t sweep_removed;
    bool rechecking;         /* looking for bindings about to expire (after a poll) */
    size_t recheck_cursor, recheck_n;
    int64_t recheck_now;
    char recheck[RT_RECHECK_PER_POLL][REG_EXT_MAX + 1];
    struct timer poll_timer, retry_timer, stall_timer;
    unsigned backoff_ms;
    bool quiet_failures; /* the failure was logged once: retries stay quiet until connected */
    struct job *jobs, *running;
    size_t njobs, nwaiters;
    int64_t last_full;
    uint64_t query_started_ms;
    uint64_t pass_rows, pass_applied; /* of the running query */
    struct rt_sync sync;
    struct {
        char ext[REG_EXT_MAX + 1];
        uint64_t at_ms;
    } recent[RT_RECENT];
    unsigned recent_next;
    /* Parameters and result buffers bound to both statements. */
    long long p_after;
    char p_key[REG_EXT_MAX + 1];
    unsigned long p_key_len;
    char buf[RT_MAX_COLS][RT_FIELD_MAX + 1];
    unsigned long len[RT_MAX_COLS];
    my_bool isnull[RT_MAX_COLS], trunc[RT_MAX_COLS];
    MYSQL *ret_db;
    int ret_int;
    struct realtime_status st;
};

static void drive(struct realtime *rt, int ready);

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}
static void run_next(struct realtime *rt);

const char *realtime_state_name(enum realtime_state s)
{
    switch (s) {
    case RT_OFF: return "off";
    case RT_CONNECTING: return "connecting";
    case RT_CONNECTED: return "connected";
    case RT_BACKOFF: return "reconnecting";
    }
    return "?";
}

static const char *where(const struct realtime_conf *c, char *buf, size_t len)
{
    if (c->socket[0])
        snprintf(buf, len, "%s (socket %s)", c->database, c->socket);
    else
        snprintf(buf, len, "%s on %s:%u", c->database, c->host, c->port ? c->port : 3306);
    return buf;
}

/* ---- on-demand waiters and jobs ---- */

static void waiter_finish(struct realtime_wait *w, bool answered)
{
    struct realtime *rt = w->rt;
    timerq_cancel(&rt->s->loop.tq, &w->timeout);
    rt->nwaiters--;
    if (answered)
        rt->st.ondemand_answered++;
    else
        rt->st.ondemand_timeouts++;
    realtime_done_fn done = w->done;
    void *ctx = w->ctx;
    free(w);
    done(ctx);
}

static void unlink_waiter(struct realtime_wait *w)
{
    for (struct realtime_wait **pp = &w->job->waiters; *pp; pp = &(*pp)->next)
        if (*pp == w) {
            *pp = w->next;
            break;
        }
    w->job = NULL;
}

static void on_waiter_timeout(void *arg)
{
    struct realtime_wait *w = arg;
    unlink_waiter(w); /* the query goes on; its rows still land in the table */
    waiter_finish(w, false);
}

void realtime_ondemand_cancel(struct realtime_wait *w)
{
    if (!w)
        return;
    unlink_waiter(w);
    timerq_cancel(&w->rt->s->loop.tq, &w->timeout);
    w->rt->nwaiters--;
    free(w);
}

/* Every waiter of a job is told, also when the job failed (it waited enough). */
static void job_free(struct realtime *rt, struct job *j, bool answered)
{
    while (j->waiters) {
        struct realtime_wait *w = j->waiters;
        j->waiters = w->next;
        w->job = NULL;
        waiter_finish(w, answered);
    }
    (void)rt;
    free(j);
}

static struct job *find_job(struct realtime *rt, enum job_kind kind, const char *ext)
{
    if (rt->running && rt->running->kind == kind && (!ext || !strcmp(rt->running->ext, ext)))
        return rt->running;
    for (struct job *j = rt->jobs; j; j = j->next)
        if (j->kind == kind && (!ext || !strcmp(j->ext, ext)))
            return j;
    return NULL;
}

/* Queue a job (at the front for on-demand ones: someone is waiting). */
static struct job *add_job(struct realtime *rt, enum job_kind kind, const char *ext, bool front)
{
    if (rt->njobs >= RT_MAX_JOBS) {
        rt->st.jobs_dropped++;
        return NULL;
    }
    struct job *j = calloc(1, sizeof(*j));
    if (!j) {
        rt->st.jobs_dropped++;
        return NULL;
    }
    j->kind = kind;
    if (ext)
        snprintf(j->ext, sizeof(j->ext), "%s", ext);
    struct job **pp = &rt->jobs;
    if (!front)
        while (*pp)
            pp = &(*pp)->next;
    j->next = *pp;
    *pp = j;
    rt->njobs++;
    if (rt->state == RT_CONNECTED && !rt->running && rt->op == OP_NONE)
        server_yield(rt->s, rt->kick);
    return j;
}

static void drop_jobs(struct realtime *rt)
{
    rt->sweeping = false;
    if (rt->running) {
        job_free(rt, rt->running, false);
        rt->running = NULL;
    }
    while (rt->jobs) {
        struct job *j = rt->jobs;
        rt->jobs = j->next;
        job_free(rt, j, false);
    }
    rt->njobs = 0;
}

/* ---- connection ---- */

static void close_db(struct realtime *rt)
{
    if (rt->io) {
        event_free(rt->io);
        rt->io = NULL;
    }
    timerq_cancel(&rt->s->loop.tq, &rt->stall_timer);
    if (rt->db) {
        /* The goodbye packets of the close calls must not block on a dead
         * peer: shut the socket first, so they fail at once. */
        my_socket fd = mysql_get_socket(rt->db);
        if (fd != (my_socket)-1)
            shutdown(fd, SHUT_RDWR);
        if (rt->st_cols)
            mysql_stmt_close(rt->st_cols);
        if (rt->st_poll)
            mysql_stmt_close(rt->st_poll);
        if (rt->st_key)
            mysql_stmt_close(rt->st_key);
        mysql_close(rt->db);
    }
    rt->db = NULL;
    rt->st_cols = rt->st_poll = rt->st_key = rt->cur = NULL;
    rt->op = OP_NONE;
    rt->st.connected = false;
    rt->st.connected_since = 0;
}

static void set_error(struct realtime *rt, const char *what, const char *detail)
{
    snprintf(rt->st.last_error, sizeof(rt->st.last_error), "%s: %s", what, detail && *detail ? detail : "unknown");
}

/* Something failed: drop the connection and try again later (one log line
 * per change of state, not per attempt). */
static void fail(struct realtime *rt, const char *what, const char *detail)
{
    char w[600];
    bool was_connected = rt->state == RT_CONNECTED;
    set_error(rt, what, detail);
    close_db(rt);
    drop_jobs(rt);
    timerq_cancel(&rt->s->loop.tq, &rt->poll_timer);
    rt->state = RT_BACKOFF;
    if (was_connected) {
        rt->st.losses++;
        rt->backoff_ms = RT_BACKOFF_MIN_MS;
        log_warning("realtime: connection to %s lost: %s; reconnecting", where(&rt->conf, w, sizeof(w)),
                    rt->st.last_error);
        rt->quiet_failures = true;
    } else if (!rt->quiet_failures) {
        log_warning("realtime: cannot connect to %s: %s; retrying with backoff", where(&rt->conf, w, sizeof(w)),
                    rt->st.last_error);
        rt->quiet_failures = true;
    } else {
        log_debug("realtime: still no connection: %s", rt->st.last_error);
    }
    timerq_arm(&rt->s->loop.tq, &rt->retry_timer, clock_now_ms() + rt->backoff_ms);
    rt->backoff_ms = rt->backoff_ms * 2 > RT_BACKOFF_MAX_MS ? RT_BACKOFF_MAX_MS : rt->backoff_ms * 2;
}

static void on_io_work(evutil_socket_t fd, short what, void *arg);

/* CPU time of each piece of feed work goes into work_max_us. */
static void on_io(evutil_socket_t fd, short what, void *arg)
{
    struct server *s = ((struct realtime *)arg)->s;
    looplag_work_begin(s);
    on_io_work(fd, what, arg);
    looplag_work_end(s);
}

static void on_io_work(evutil_socket_t fd, short what, void *arg)
{
    struct realtime *rt = arg;
    int ready = 0;
    (void)fd;
    if (what & EV_READ)
        ready |= MYSQL_WAIT_READ;
    if (what & EV_WRITE)
        ready |= MYSQL_WAIT_WRITE;
    if (what & EV_TIMEOUT)
        ready |= MYSQL_WAIT_TIMEOUT;
    drive(rt, ready);
}

static void on_stall(void *arg)
{
    struct realtime *rt = arg;
    fail(rt, "no reply", "the server stopped answering");
}

/* Wait for what libmariadb asked for. */
static void wait_for(struct realtime *rt, int status)
{
    short ev = 0;
    if (status & (MYSQL_WAIT_READ | MYSQL_WAIT_EXCEPT))
        ev |= EV_READ;
    if (status & MYSQL_WAIT_WRITE)
        ev |= EV_WRITE;
    if (rt->io)
        event_free(rt->io);
    rt->io = event_new(rt->s->base, mysql_get_socket(rt->db), ev, on_io, rt);
    struct timeval tv = {0, 0}, *tvp = NULL;
    if (status & MYSQL_WAIT_TIMEOUT) {
        unsigned ms = mysql_get_timeout_value_ms(rt->db);
        tv.tv_sec = ms / 1000;
        tv.tv_usec = (ms % 1000) * 1000;
        tvp = &tv;
    }
    if (!rt->io || event_add(rt->io, tvp) < 0) {
        fail(rt, "event loop", "cannot watch the database socket");
        return;
    }
    timerq_arm(&rt->s->loop.tq, &rt->stall_timer, clock_now_ms() + RT_STALL_MS);
}

static void start_connect(struct realtime *rt)
{
    rt->db = mysql_init(NULL);
    if (!rt->db) {
        fail(rt, "connect", "out of memory");
        return;
    }
    unsigned ct = RT_CONNECT_TIMEOUT_S, nt = RT_NET_TIMEOUT_S;
    mysql_options(rt->db, MYSQL_OPT_NONBLOCK, 0);
    mysql_options(rt->db, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
    mysql_options(rt->db, MYSQL_OPT_READ_TIMEOUT, &nt);
    mysql_options(rt->db, MYSQL_OPT_WRITE_TIMEOUT, &nt);
    rt->state = RT_CONNECTING;
    rt->op = OP_CONNECT;
    drive(rt, -1);
}

static void on_retry(void *arg)
{
    struct realtime *rt = arg;
    if (rt->state == RT_BACKOFF)
        start_connect(rt);
}

/* ---- statements ---- */

static char *build_sql(const struct realtime_conf *c, const struct rt_columns *tc, bool by_key)
{
    char cols[512];
    if (rt_columns_select(c->schema, tc, cols, sizeof(cols)) < 0)
        return NULL;
    char *sql;
    int rc = by_key ? asprintf(&sql, "SELECT %s FROM `%s` WHERE %s = ?", cols, c->table, rt_row_key_column(c->schema))
                    : asprintf(&sql, "SELECT %s FROM `%s` WHERE `%s` > ?", cols, c->table,
                               rt_row_expiry_column(c->schema));
    return rc < 0 ? NULL : sql;
}

static int bind_results(struct realtime *rt, MYSQL_STMT *st)
{
    MYSQL_BIND b[RT_MAX_COLS];
    size_t n = rt->cols.n;
    memset(b, 0, sizeof(b));
    for (size_t i = 0; i < n; i++) {
        b[i].buffer_type = MYSQL_TYPE_STRING; /* numbers as text: one checked parser for every column type */
        b[i].buffer = rt->buf[i];
        b[i].buffer_length = sizeof(rt->buf[i]);
        b[i].length = &rt->len[i];
        b[i].is_null = &rt->isnull[i];
        b[i].error = &rt->trunc[i];
    }
    if (mysql_stmt_field_count(st) != n)
        return -1;
    return mysql_stmt_bind_result(st, b) ? -1 : 0;
}

static int bind_params(struct realtime *rt, const struct job *j)
{
    MYSQL_BIND p;
    memset(&p, 0, sizeof(p));
    if (j->kind == JOB_KEY) {
        rt->p_key_len = (unsigned long)strlen(j->ext);
        memcpy(rt->p_key, j->ext, rt->p_key_len + 1);
        p.buffer_type = MYSQL_TYPE_STRING;
        p.buffer = rt->p_key;
        p.buffer_length = rt->p_key_len;
        p.length = &rt->p_key_len;
        rt->cur = rt->st_key;
    } else {
        int64_t now = clock_wall_s();
        rt->p_after = j->kind == JOB_FULL ? now : rt_sync_incr_after(&rt->sync, now);
        p.buffer_type = MYSQL_TYPE_LONGLONG;
        p.buffer = &rt->p_after;
        rt->cur = rt->st_poll;
    }
    return mysql_stmt_bind_param(rt->cur, &p) ? -1 : 0;
}

/* ---- rows ---- */

static void take_row(struct realtime *rt, int fetch_rc)
{
    struct rt_field f[RT_MAX_COLS];
    struct rt_row r;
    size_t n = rt->cols.n;
    int64_t now = clock_wall_s();

    rt->st.rows++;
    rt->pass_rows++;
    /* Bad rows come back every poll: say so only when a full load meets them. */
    bool say = rt->running && rt->running->kind != JOB_INCR;
    for (size_t i = 0; i < n; i++) {
        /* A truncated column was longer than any field we accept. */
        if (fetch_rc == MYSQL_DATA_TRUNCATED && rt->trunc[i]) {
            rt->st.rows_bad++;
            if (say)
                log_debug("realtime: row skipped: column %s longer than %d bytes",
                          rt_row_column(rt->conf.schema, rt->cols.col[i]), RT_FIELD_MAX);
            return;
        }
        f[i].data = rt->buf[i];
        f[i].len = rt->len[i] > RT_FIELD_MAX ? RT_FIELD_MAX : rt->len[i];
        f[i].null = rt->isnull[i];
    }
    int rc = rt_row_decode_cols(rt->conf.schema, &rt->cols, f, n, &r);
    if (rc < 0) {
        rt->st.rows_bad++;
        if (say)
            log_debug("realtime: row skipped: %s", rt_row_strerror(rc));
        return;
    }
    switch (rt_sync_row(&rt->sync, rt->s->regtable, &rt->s->conf->realtime, rt->conf.schema, &r, now)) {
    case RT_SYNC_APPLIED:
        rt->st.rows_applied++;
        rt->pass_applied++;
        break;
    case RT_SYNC_NOT_LIVE: rt->st.rows_not_live++; break;
    case RT_SYNC_DEPARTED: rt->st.rows_departed++; break;
    case RT_SYNC_NO_REGISTRAR:
        rt->st.rows_no_registrar++;
        if (say)
            log_debug("realtime: %s skipped: empty regserver and no default_registrar", r.ext);
        break;
    case RT_SYNC_REJECTED: rt->st.rows_bad++; break;
    }
}

static void job_done(struct realtime *rt)
{
    struct job *j = rt->running;
    int64_t now = clock_wall_s();
    uint64_t ms = clock_now_ms() - rt->query_started_ms;
    size_t removed = rt->sweep_removed;

    rt->st.stale_removed += removed;
    rt->st.last_query_ms = ms;
    if (ms > rt->st.max_query_ms)
        rt->st.max_query_ms = ms;
    if (j->kind == JOB_KEY) {
        rt->st.rechecks++;
    } else {
        rt->st.polls++;
        rt->st.last_poll = now;
        if (j->kind == JOB_FULL) {
            /* The first load after connecting is news; later resyncs are routine. */
            if (!rt->last_full)
                log_notice("realtime: loaded %llu registration(s) from %llu row(s) in %llu ms%s",
                           (unsigned long long)rt->pass_applied, (unsigned long long)rt->pass_rows,
                           (unsigned long long)ms, removed ? "; bindings no longer in the database removed" : "");
            else
                log_debug("realtime: resync: %llu registration(s), %zu removed, %llu ms",
                          (unsigned long long)rt->pass_applied, removed, (unsigned long long)ms);
            rt->st.full_loads++;
            rt->last_full = now;
        }
    }
    rt->running = NULL;
    rt->cur = NULL;
    job_free(rt, j, true);
}

/* ---- the driver ---- */

/* Start (ready < 0) or continue the step in flight. Returns libmariadb's
 * wait status: 0 when the step finished. */
static int step(struct realtime *rt, int ready)
{
    const struct realtime_conf *c = &rt->conf;
    bool start = ready < 0;
    switch (rt->op) {
    case OP_CONNECT:
        return start ? mysql_real_connect_start(&rt->ret_db, rt->db, c->socket[0] ? NULL : c->host, c->user,
                                                c->password, c->database, c->port, c->socket[0] ? c->socket : NULL,
                                                0)
                     : mysql_real_connect_cont(&rt->ret_db, rt->db, ready);
    case OP_PREPARE_COLS:
    case OP_PREPARE_POLL:
    case OP_PREPARE_KEY: {
        MYSQL_STMT *st = rt->op == OP_PREPARE_COLS ? rt->st_cols : rt->op == OP_PREPARE_POLL ? rt->st_poll : rt->st_key;
        if (!start)
            return mysql_stmt_prepare_cont(&rt->ret_int, st, ready);
        char *sql = NULL;
        if (rt->op == OP_PREPARE_COLS) {
            if (asprintf(&sql, "SELECT * FROM `%s` LIMIT 0", c->table) < 0)
                sql = NULL;
        } else {
            sql = build_sql(c, &rt->cols, rt->op == OP_PREPARE_KEY);
        }
        if (!sql) {
            rt->ret_int = -1;
            return 0;
        }
        int rc = mysql_stmt_prepare_start(&rt->ret_int, st, sql, (unsigned long)strlen(sql));
        free(sql); /* the statement keeps its own copy of the text */
        return rc;
    }
    case OP_EXECUTE:
        return start ? mysql_stmt_execute_start(&rt->ret_int, rt->cur) : mysql_stmt_execute_cont(&rt->ret_int, rt->cur, ready);
    case OP_FETCH:
        return start ? mysql_stmt_fetch_start(&rt->ret_int, rt->cur) : mysql_stmt_fetch_cont(&rt->ret_int, rt->cur, ready);
    case OP_NONE: break;
    }
    return 0;
}

static bool prepare_next(struct realtime *rt, MYSQL_STMT **slot, enum op next)
{
    *slot = mysql_stmt_init(rt->db);
    if (!*slot) {
        fail(rt, "prepare", mysql_error(rt->db));
        return false;
    }
    rt->op = next;
    return true;
}

static void on_connected(struct realtime *rt)
{
    char w[600];
    rt->state = RT_CONNECTED;
    rt->quiet_failures = false;
    rt->backoff_ms = RT_BACKOFF_MIN_MS;
    rt->st.connected = true;
    rt->st.connects++;
    rt->st.connected_since = clock_wall_s();
    rt->st.last_error[0] = '\0';
    rt->last_full = 0;
    log_notice("realtime: connected to %s (%s, table %s, poll %d s)", where(&rt->conf, w, sizeof(w)),
               rt_schema_name(rt->conf.schema), rt->conf.table, rt->conf.poll_s);
    /* The first poll is the full load. */
    if (!find_job(rt, JOB_FULL, NULL))
        add_job(rt, JOB_FULL, NULL, false);
    timerq_arm(&rt->s->loop.tq, &rt->poll_timer, clock_now_ms() + (uint64_t)rt->conf.poll_s * 1000u);
}

/* The table's columns are known: match ours by name. */
static bool columns_found(struct realtime *rt)
{
    const char *names[256];
    size_t n = 0;
    char err[200];
    MYSQL_RES *meta = rt->ret_int ? NULL : mysql_stmt_result_metadata(rt->st_cols);
    if (!meta) {
        fail(rt, "columns", rt->ret_int ? mysql_stmt_error(rt->st_cols) : "the table gives no columns");
        return false;
    }
    MYSQL_FIELD *fields = mysql_fetch_fields(meta);
    for (unsigned i = 0; i < mysql_num_fields(meta) && n < sizeof(names) / sizeof(names[0]); i++)
        names[n++] = fields[i].name;
    int rc = rt_columns_resolve(rt->conf.schema, names, n, &rt->cols, err, sizeof(err));
    mysql_free_result(meta);
    if (rc < 0) {
        char detail[300];
        snprintf(detail, sizeof(detail), "table %s: %s", rt->conf.table, err);
        fail(rt, "columns", detail);
        return false;
    }
    return prepare_next(rt, &rt->st_poll, OP_PREPARE_POLL);
}

static bool prepared(struct realtime *rt)
{
    MYSQL_STMT *st = rt->op == OP_PREPARE_POLL ? rt->st_poll : rt->st_key;
    if (rt->ret_int || bind_results(rt, st) < 0) {
        /* Most likely a wrong table or column: say which statement. */
        char *sql = build_sql(&rt->conf, &rt->cols, rt->op == OP_PREPARE_KEY);
        char detail[512];
        snprintf(detail, sizeof(detail), "%s (%s)", mysql_stmt_error(st)[0] ? mysql_stmt_error(st) : "bad columns",
                 sql ? sql : "");
        free(sql);
        fail(rt, "prepare", detail);
        return false;
    }
    if (rt->op == OP_PREPARE_POLL)
        return prepare_next(rt, &rt->st_key, OP_PREPARE_KEY);
    rt->op = OP_NONE;
    on_connected(rt);
    run_next(rt);
    return rt->op != OP_NONE;
}

/* The result is in: a KEY pass ends at once; a FULL pass walks the table
 * for what it did not see in steps (on_walk), the job still running. */
static void result_done(struct realtime *rt)
{
    rt->sweep_removed = 0;
    if (rt->running->kind == JOB_FULL && rt_sync_end_step(&rt->sync, rt->s->regtable, clock_wall_s(),
                                                         RT_WALK_BUCKETS, &rt->sweep_removed)) {
        rt->sweeping = true;
        server_yield(rt->s, rt->walk_ev);
        return;
    }
    if (rt->running->kind != JOB_FULL)
        rt->sweep_removed = rt_sync_end(&rt->sync, rt->s->regtable, clock_wall_s());
    job_done(rt);
    run_next(rt);
}

static bool fetched(struct realtime *rt)
{
    if (rt->ret_int == 0 || rt->ret_int == MYSQL_DATA_TRUNCATED) {
        take_row(rt, rt->ret_int);
        return true;
    }
    if (rt->ret_int != MYSQL_NO_DATA) {
        fail(rt, "fetch", mysql_stmt_error(rt->cur));
        return false;
    }
    rt->op = OP_NONE;
    result_done(rt);
    return rt->op != OP_NONE;
}

/* The step in flight finished: set up what comes next. false = nothing to
 * do now (idle, waiting for a timer, or failed). */
static bool advance(struct realtime *rt)
{
    switch (rt->op) {
    case OP_CONNECT:
        if (!rt->ret_db) {
            fail(rt, "connect", mysql_error(rt->db));
            return false;
        }
        return prepare_next(rt, &rt->st_cols, OP_PREPARE_COLS);
    case OP_PREPARE_COLS: return columns_found(rt);
    case OP_PREPARE_POLL:
    case OP_PREPARE_KEY: return prepared(rt);
    case OP_EXECUTE:
        if (rt->ret_int) {
            fail(rt, "query", mysql_stmt_error(rt->cur));
            return false;
        }
        rt->op = OP_FETCH;
        return true;
    case OP_FETCH: return fetched(rt);
    case OP_NONE: break;
    }
    return false;
}

/* Take the next queued job, if any, and set up its first step. */
static void run_next(struct realtime *rt)
{
    if (rt->state != RT_CONNECTED || rt->running || rt->op != OP_NONE || !rt->jobs)
        return;
    struct job *j = rt->jobs;
    rt->jobs = j->next;
    rt->njobs--;
    rt->running = j;
    if (bind_params(rt, j) < 0) {
        fail(rt, "bind", mysql_stmt_error(rt->cur));
        return;
    }
    rt_sync_begin(&rt->sync, j->kind == JOB_FULL ? RT_PASS_FULL : j->kind == JOB_INCR ? RT_PASS_INCR : RT_PASS_KEY,
                  j->ext);
    rt->query_started_ms = clock_now_ms();
    rt->pass_rows = rt->pass_applied = 0;
    rt->op = OP_EXECUTE;
}

/* Run steps until one has to wait; after RT_ROWS_PER_TURN steps yield to
 * the event loop (kick) so that a big result never holds up answers. */
static void drive(struct realtime *rt, int ready)
{
    uint64_t until = mono_us() + RT_TURN_US;
    for (unsigned n = 0; n < RT_ROWS_PER_TURN && (n % 16 || !n || mono_us() < until); n++) {
        if (rt->op == OP_NONE)
            return;
        int status = step(rt, ready);
        if (status) {
            wait_for(rt, status);
            return;
        }
        timerq_cancel(&rt->s->loop.tq, &rt->stall_timer);
        ready = -1;
        if (!advance(rt))
            return;
    }
    server_yield(rt->s, rt->kick);
}

static void on_kick_work(evutil_socket_t fd, short what, void *arg);

/* CPU time of each piece of feed work goes into work_max_us. */
static void on_kick(evutil_socket_t fd, short what, void *arg)
{
    struct server *s = ((struct realtime *)arg)->s;
    looplag_work_begin(s);
    on_kick_work(fd, what, arg);
    looplag_work_end(s);
}

static void on_kick_work(evutil_socket_t fd, short what, void *arg)
{
    struct realtime *rt = arg;
    (void)fd;
    (void)what;
    if (rt->op == OP_NONE)
        run_next(rt);
    /* A step waiting on the socket is resumed by on_io, not here. */
    if (rt->op != OP_NONE && !(rt->io && event_pending(rt->io, EV_READ | EV_WRITE | EV_TIMEOUT, NULL)))
        drive(rt, -1);
}

/* ---- polling ---- */

static void on_poll(void *arg)
{
    struct realtime *rt = arg;
    int64_t now = clock_wall_s();
    if (rt->state != RT_CONNECTED)
        return;
    timerq_arm(&rt->s->loop.tq, &rt->poll_timer, clock_now_ms() + (uint64_t)rt->conf.poll_s * 1000u);
    /* One poll at a time: a slow server gets fewer polls, not a queue of them. */
    if (!find_job(rt, JOB_FULL, NULL) && !find_job(rt, JOB_INCR, NULL))
        add_job(rt, now - rt->last_full >= rt->conf.resync_s ? JOB_FULL : JOB_INCR, NULL, false);
    /* Bindings about to expire: found by a walk in steps (on_walk). */
    if (!rt->rechecking) {
        rt->rechecking = true;
        rt->recheck_cursor = rt->recheck_n = 0;
        rt->recheck_now = now;
        server_yield(rt->s, rt->walk_ev);
    }
}

/* One bounded step of the table walks, then back to the loop. */
static void on_walk_work(evutil_socket_t fd, short what, void *arg);

/* CPU time of each piece of feed work goes into work_max_us. */
static void on_walk(evutil_socket_t fd, short what, void *arg)
{
    struct server *s = ((struct realtime *)arg)->s;
    looplag_work_begin(s);
    on_walk_work(fd, what, arg);
    looplag_work_end(s);
}

static void on_walk_work(evutil_socket_t fd, short what, void *arg)
{
    struct realtime *rt = arg;
    (void)fd;
    (void)what;
    uint64_t until = mono_us() + RT_TURN_US;
    if (rt->sweeping && rt->running) {
        bool more;
        do
            rt->st.walk_steps++;
        while ((more = rt_sync_end_step(&rt->sync, rt->s->regtable, clock_wall_s(), RT_WALK_BUCKETS,
                                        &rt->sweep_removed)) &&
               mono_us() < until);
        if (more) {
            server_yield(rt->s, rt->walk_ev);
            return;
        }
        rt->sweeping = false;
        job_done(rt);
        run_next(rt);
        if (rt->op != OP_NONE)
            drive(rt, -1);
    }
    if (!rt->rechecking)
        return;
    int64_t now = rt->recheck_now;
    bool more;
    do
        rt->st.walk_steps++;
    while ((more = rt_sync_expiring_step(rt->s->regtable, now, now + 2 * rt->conf.poll_s + 1, &rt->recheck_cursor,
                                         RT_WALK_BUCKETS, rt->recheck, &rt->recheck_n, RT_RECHECK_PER_POLL)) &&
           mono_us() < until);
    if (more) {
        server_yield(rt->s, rt->walk_ev);
        return;
    }
    rt->rechecking = false;
    if (rt->state != RT_CONNECTED)
        return;
    for (size_t i = 0; i < rt->recheck_n; i++)
        if (!find_job(rt, JOB_KEY, rt->recheck[i]))
            add_job(rt, JOB_KEY, rt->recheck[i], false);
}

/* ---- on-demand ---- */

static bool asked_recently(struct realtime *rt, const char *ext)
{
    uint64_t now = clock_now_ms(), window = (uint64_t)rt->conf.poll_s * 1000u;
    for (unsigned i = 0; i < RT_RECENT; i++)
        if (rt->recent[i].at_ms && now - rt->recent[i].at_ms < window && !strcmp(rt->recent[i].ext, ext))
            return true;
    snprintf(rt->recent[rt->recent_next].ext, sizeof(rt->recent[0].ext), "%s", ext);
    rt->recent[rt->recent_next].at_ms = now;
    rt->recent_next = (rt->recent_next + 1) % RT_RECENT;
    return false;
}

/* Would a binding for ext be used to answer in dcontext? */
static bool answers_from_table(const struct config *c, const char *dcontext)
{
    for (size_t i = 0; i < c->nmaps; i++)
        if (!strcasecmp(c->maps[i].dcontext, dcontext) && config_is_regcontext(c, c->maps[i].lcontext))
            return true;
    return false;
}

struct realtime_wait *realtime_ondemand(struct realtime *rt, const struct config *c, const char *dcontext,
                                        const char *ext, realtime_done_fn done, void *ctx)
{
    if (!rt || !rt->conf.ondemand || !ext[0] || strlen(ext) > REG_EXT_MAX || !answers_from_table(c, dcontext) ||
        regtable_has(rt->s->regtable, ext, clock_wall_s()))
        return NULL;
    if (rt->state != RT_CONNECTED || rt->nwaiters >= RT_MAX_WAITERS || asked_recently(rt, ext)) {
        rt->st.ondemand_skipped++;
        return NULL;
    }
    struct job *j = find_job(rt, JOB_KEY, ext);
    if (!j && !(j = add_job(rt, JOB_KEY, ext, true))) {
        rt->st.ondemand_skipped++;
        return NULL;
    }
    struct realtime_wait *w = calloc(1, sizeof(*w));
    if (!w) {
        rt->st.ondemand_skipped++;
        return NULL;
    }
    w->rt = rt;
    w->job = j;
    w->done = done;
    w->ctx = ctx;
    w->next = j->waiters;
    j->waiters = w;
    timer_init(&w->timeout, on_waiter_timeout, w);
    timerq_arm(&rt->s->loop.tq, &w->timeout, clock_now_ms() + (uint64_t)rt->conf.ondemand_timeout_ms);
    rt->nwaiters++;
    rt->st.ondemand_asked++;
    return w;
}

/* ---- lifecycle ---- */

struct realtime *realtime_new(struct server *s)
{
    struct realtime *rt = calloc(1, sizeof(*rt));
    if (!rt)
        return NULL;
    rt->s = s;
    rt->kick = event_new(s->base, -1, 0, on_kick, rt);
    rt->walk_ev = event_new(s->base, -1, 0, on_walk, rt);
    if (!rt->kick || !rt->walk_ev) {
        if (rt->kick)
            event_free(rt->kick);
        free(rt);
        return NULL;
    }
    server_feed_event(s, rt->kick);
    server_feed_event(s, rt->walk_ev);
    timer_init(&rt->poll_timer, on_poll, rt);
    timer_init(&rt->retry_timer, on_retry, rt);
    timer_init(&rt->stall_timer, on_stall, rt);
    rt_sync_init(&rt->sync);
    rt->backoff_ms = RT_BACKOFF_MIN_MS;
    return rt;
}

static void stop(struct realtime *rt)
{
    close_db(rt);
    drop_jobs(rt);
    timerq_cancel(&rt->s->loop.tq, &rt->poll_timer);
    timerq_cancel(&rt->s->loop.tq, &rt->retry_timer);
    event_del(rt->kick);
    event_del(rt->walk_ev);
    rt->rechecking = false;
    rt->state = RT_OFF;
}

void realtime_free(struct realtime *rt)
{
    if (!rt)
        return;
    stop(rt);
    rt_sync_free(&rt->sync);
    event_free(rt->kick);
    event_free(rt->walk_ev);
    free(rt);
}

static bool same_registrars(const struct realtime_conf *a, const struct realtime_conf *b)
{
    if (a->nregistrars != b->nregistrars || strcmp(a->default_registrar, b->default_registrar))
        return false;
    for (size_t i = 0; i < a->nregistrars; i++)
        if (strcmp(a->registrars[i].name, b->registrars[i].name) || strcmp(a->registrars[i].addr, b->registrars[i].addr))
            return false;
    return true;
}

void realtime_configure(struct realtime *rt, const struct config *old, const struct config *conf)
{
    const struct realtime_conf *nc = &conf->realtime;
    bool keep = old && rt->state != RT_OFF && realtime_conf_same_connection(&old->realtime, nc);

    if (!keep) {
        char w[600];
        if (rt->state != RT_OFF) {
            log_notice("realtime: database settings changed; disconnecting from %s", where(&rt->conf, w, sizeof(w)));
            stop(rt);
        }
        rt->conf = *nc;
        rt->conf.registrars = NULL; /* owned by the snapshot; read through s->conf */
        rt->conf.nregistrars = 0;
        rt_sync_reset(&rt->sync);
        if (!nc->enabled) {
            size_t n = rt->s->regtable ? rt_sync_remove_all(rt->s->regtable, clock_wall_s()) : 0;
            if (n)
                log_notice("realtime: off; %zu binding(s) it had added removed", n);
            return;
        }
        rt->quiet_failures = false;
        rt->backoff_ms = RT_BACKOFF_MIN_MS;
        start_connect(rt);
        return;
    }
    /* Same database: keep the connection, take the new timings. */
    bool poll_changed = rt->conf.poll_s != nc->poll_s;
    rt->conf.poll_s = nc->poll_s;
    rt->conf.resync_s = nc->resync_s;
    rt->conf.ondemand = nc->ondemand;
    rt->conf.ondemand_timeout_ms = nc->ondemand_timeout_ms;
    snprintf(rt->conf.default_registrar, sizeof(rt->conf.default_registrar), "%s", nc->default_registrar);
    if (poll_changed && rt->state == RT_CONNECTED)
        timerq_arm(&rt->s->loop.tq, &rt->poll_timer, clock_now_ms() + (uint64_t)rt->conf.poll_s * 1000u);
    /* Other registrar names: every binding's registrar may change. */
    if (!same_registrars(&old->realtime, nc) && rt->state == RT_CONNECTED && !find_job(rt, JOB_FULL, NULL))
        add_job(rt, JOB_FULL, NULL, false);
}

void realtime_get_status(const struct realtime *rt, struct realtime_status *out)
{
    *out = rt->st;
    out->state = rt->state;
    out->backlog = rt->njobs + (rt->running != NULL) + rt->rechecking;
}

bool realtime_behind(const struct realtime *rt) { return rt && rt->state != RT_OFF && rt->state != RT_CONNECTED; }

void realtime_log_stats(const struct realtime *rt)
{
    const struct realtime_status *v = &rt->st;
    if (!rt->conf.enabled)
        return;
    log_notice("realtime counters: state=%s connects=%llu losses=%llu polls=%llu full_loads=%llu rechecks=%llu "
               "rows=%llu applied=%llu not_live=%llu departed=%llu bad=%llu no_registrar=%llu stale_removed=%llu "
               "jobs_dropped=%llu ondemand_asked=%llu ondemand_answered=%llu ondemand_timeouts=%llu "
               "ondemand_skipped=%llu last_query_ms=%llu max_query_ms=%llu",
               realtime_state_name(rt->state), (unsigned long long)v->connects, (unsigned long long)v->losses,
               (unsigned long long)v->polls, (unsigned long long)v->full_loads, (unsigned long long)v->rechecks,
               (unsigned long long)v->rows, (unsigned long long)v->rows_applied,
               (unsigned long long)v->rows_not_live, (unsigned long long)v->rows_departed,
               (unsigned long long)v->rows_bad,
               (unsigned long long)v->rows_no_registrar, (unsigned long long)v->stale_removed,
               (unsigned long long)v->jobs_dropped, (unsigned long long)v->ondemand_asked,
               (unsigned long long)v->ondemand_answered, (unsigned long long)v->ondemand_timeouts,
               (unsigned long long)v->ondemand_skipped, (unsigned long long)v->last_query_ms,
               (unsigned long long)v->max_query_ms);
}
