/* "show mappings", "show entityid", "show realtime" and "show stats". */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "dundid/clock.h"
#include "dundid/counters.h"
#include "dundid/ctl_cmds.h"
#include "dundid/realtime.h"
#include "dundid/server.h"

static char *options_str(unsigned opts, char *buf, size_t len)
{
    uint16_t wire = (uint16_t)(opts & 0xffffu);
    if (wire)
        dundi_flags_str(wire, buf, len);
    else
        snprintf(buf, len, "%s", opts & MAP_OPT_NOPARTIAL ? "" : "NONE");
    if (opts & MAP_OPT_NOPARTIAL) {
        size_t n = strlen(buf);
        snprintf(buf + n, len - n, "%sNOPARTIAL", n ? "|" : "");
    }
    return buf;
}

enum ctl_status show_mappings(struct ctl_call *c, int argc, char **argv)
{
    const struct config *conf = server_conf(c->s);
    struct ctl_out *o = &c->out;
    (void)argc;
    (void)argv;
    if (o->json) {
        cj_obj(o, NULL);
        cj_arr(o, "mappings");
    } else {
        ctl_printf(o, "%-12.12s %-7.7s %-12.12s %-10.10s %-5.5s %-25.25s\n", "DUNDi Cntxt", "Weight", "Local Cntxt",
                   "Options", "Tech", "Destination");
    }
    for (size_t i = 0; i < conf->nmaps; i++) {
        const struct mapping *m = &conf->maps[i];
        char w[CONF_STR_MAX], opts[200];
        if (m->weight_expr[0])
            snprintf(w, sizeof(w), "%s", m->weight_expr);
        else
            snprintf(w, sizeof(w), "%d", m->weight);
        options_str(m->options, opts, sizeof(opts));
        if (o->json) {
            cj_obj(o, NULL);
            cj_str(o, "context", m->dcontext);
            if (m->weight_expr[0])
                cj_str(o, "weight", m->weight_expr);
            else
                cj_int(o, "weight", m->weight);
            if (m->lcontext[0])
                cj_str(o, "local_context", m->lcontext);
            else
                cj_null(o, "local_context");
            cj_str(o, "options", opts);
            cj_str(o, "tech", dundi_proto_name((uint8_t)m->proto));
            cj_str(o, "dest", m->dest);
            cj_end(o);
        } else {
            ctl_printf(o, "%-12.12s %-7s %-12.12s %-10.10s %-5.5s %-25.25s\n", m->dcontext, w,
                       m->lcontext[0] ? m->lcontext : "<none>", opts, dundi_proto_name((uint8_t)m->proto), m->dest);
        }
    }
    if (o->json) {
        cj_end(o);
        cj_end(o);
    }
    return CTL_DONE;
}

enum ctl_status show_entityid(struct ctl_call *c, int argc, char **argv)
{
    char eid[EID_STR_LEN];
    (void)argc;
    (void)argv;
    eid_to_str(&server_conf(c->s)->eid, eid);
    if (c->out.json) {
        cj_obj(&c->out, NULL);
        cj_str(&c->out, "eid", eid);
        cj_end(&c->out);
    } else {
        ctl_printf(&c->out, "Global EID for this system is '%s'\n", eid);
    }
    return CTL_DONE;
}

enum ctl_status show_realtime(struct ctl_call *c, int argc, char **argv)
{
    struct ctl_out *o = &c->out;
    struct realtime_status st = {.state = RT_OFF};
    (void)argc;
    (void)argv;
    if (server_realtime(c->s))
        realtime_get_status(server_realtime(c->s), &st);
    if (st.state == RT_OFF) {
        if (o->json) {
            cj_obj(o, NULL);
            cj_bool(o, "configured", false);
            cj_end(o);
        } else {
            ctl_printf(o, "realtime: not configured\n");
        }
        return CTL_DONE;
    }
    int64_t now = clock_wall_s();
    const struct {
        const char *name;
        uint64_t val;
    } rows[] = {
        {"connects", st.connects},           {"losses", st.losses},
        {"polls", st.polls},                 {"full_loads", st.full_loads},
        {"rechecks", st.rechecks},           {"rows", st.rows},
        {"rows_applied", st.rows_applied},   {"rows_not_live", st.rows_not_live},
        {"rows_departed", st.rows_departed},
        {"rows_bad", st.rows_bad},           {"rows_no_registrar", st.rows_no_registrar},
        {"stale_removed", st.stale_removed}, {"jobs_dropped", st.jobs_dropped},
        {"ondemand_asked", st.ondemand_asked}, {"ondemand_answered", st.ondemand_answered},
        {"ondemand_timeouts", st.ondemand_timeouts}, {"ondemand_skipped", st.ondemand_skipped},
        {"last_query_ms", st.last_query_ms}, {"max_query_ms", st.max_query_ms},
    };
    if (o->json) {
        cj_obj(o, NULL);
        cj_bool(o, "configured", true);
        cj_str(o, "state", realtime_state_name(st.state));
        cj_bool(o, "connected", st.connected);
        cj_str(o, "last_error", st.last_error);
        if (st.connected_since)
            cj_int(o, "connected_for_s", now - st.connected_since);
        else
            cj_null(o, "connected_for_s");
        if (st.last_poll)
            cj_int(o, "last_poll_s_ago", now - st.last_poll);
        else
            cj_null(o, "last_poll_s_ago");
        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
            cj_int(o, rows[i].name, (long long)rows[i].val);
        cj_end(o);
        return CTL_DONE;
    }
    ctl_printf(o, "realtime: %s", realtime_state_name(st.state));
    if (st.connected_since)
        ctl_printf(o, " for %" PRId64 " s", now - st.connected_since);
    ctl_printf(o, "\n");
    if (st.last_error[0])
        ctl_printf(o, "last error: %s\n", st.last_error);
    if (st.last_poll)
        ctl_printf(o, "last poll: %" PRId64 " s ago\n", now - st.last_poll);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        ctl_printf(o, "%-18s %" PRIu64 "\n", rows[i].name, rows[i].val);
    return CTL_DONE;
}

enum ctl_status show_stats(struct ctl_call *c, int argc, char **argv)
{
    struct counters_src src;
    struct counter_row rows[COUNTERS_COUNT];
    (void)argc;
    (void)argv;
    counters_snapshot(c->s, &src);
    counters_rows(&src, rows);
    counters_ctl(rows, &c->out);
    return CTL_DONE;
}
