/* The command table and the commands that change state (flush, reload,
 * set debug, store history). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dundid/ctl_cmds.h"
#include "dundid/lookup.h"
#include "dundid/server.h"

static enum ctl_status cmd_help(struct ctl_call *c, int argc, char **argv);

static enum ctl_status cmd_flush(struct ctl_call *c, int argc, char **argv)
{
    struct server *s = c->s;
    bool stats = argc == 1 && !strcasecmp(argv[0], "stats");
    if (argc == 1 && !stats && strcasecmp(argv[0], "all")) {
        ctl_fail(c, "usage: flush [all|stats]");
        return CTL_DONE;
    }
    if (stats)
        server_flush_stats(s);
    else
        cache_flush(server_cache(s));
    if (c->out.json) {
        cj_obj(&c->out, NULL);
        cj_str(&c->out, "flushed", stats ? "stats" : "cache");
        cj_end(&c->out);
    } else {
        ctl_printf(&c->out, "%s\n", stats ? "DUNDi statistics cleared" : "DUNDi Cache Flushed");
    }
    return CTL_DONE;
}

static enum ctl_status cmd_reload(struct ctl_call *c, int argc, char **argv)
{
    struct config_diag d = {0};
    (void)argc;
    (void)argv;
    int rc = server_run_reload(c->s, &d);
    if (rc < 0 && !d.n) {
        ctl_fail(c, "no configuration file to reload");
        config_diag_free(&d);
        return CTL_DONE;
    }
    if (c->out.json) {
        cj_obj(&c->out, NULL);
        cj_bool(&c->out, "reloaded", rc == 0);
        cj_str(&c->out, "file", server_conf_path(c->s));
        cj_arr(&c->out, "diagnostics");
        for (size_t i = 0; i < d.n; i++) {
            cj_obj(&c->out, NULL);
            cj_bool(&c->out, "error", d.is_error[i]);
            cj_str(&c->out, "message", d.msg[i]);
            cj_end(&c->out);
        }
        cj_end(&c->out);
        cj_end(&c->out);
    } else {
        for (size_t i = 0; i < d.n; i++)
            ctl_printf(&c->out, "%s\n", d.msg[i]);
        if (rc == 0)
            ctl_printf(&c->out, "%s reloaded\n", server_conf_path(c->s));
    }
    if (rc < 0)
        ctl_fail(c, "reload failed with %zu error(s); still running the previous configuration", d.errors);
    config_diag_free(&d);
    return CTL_DONE;
}

static int on_off(const char *w)
{
    if (!strcasecmp(w, "on"))
        return 1;
    if (!strcasecmp(w, "off"))
        return 0;
    return -1;
}

static enum ctl_status cmd_set_debug(struct ctl_call *c, int argc, char **argv)
{
    struct server *s = c->s;
    int on = on_off(argv[0]);
    eid_t e;
    if (on < 0 || argc == 2 || (argc == 3 && strcasecmp(argv[1], "peer"))) {
        ctl_fail(c, "usage: set debug on|off [peer EID]");
        return CTL_DONE;
    }
    if (argc == 3) {
        if (eid_parse(&e, argv[2]) < 0) {
            ctl_fail(c, "'%s' is not an EID like 00:11:22:33:44:55", argv[2]);
            return CTL_DONE;
        }
        if (!server_debug_peer(s, &e, on)) {
            ctl_fail(c, "debugging is already on for %u peers; turn one off first", SERVER_DEBUG_PEERS);
            return CTL_DONE;
        }
    } else {
        server_debug_all(s, on);
    }
    char es[EID_STR_LEN];
    if (c->out.json) {
        eid_t peers[SERVER_DEBUG_PEERS];
        unsigned n = server_debug_peers(s, peers);
        cj_obj(&c->out, NULL);
        cj_bool(&c->out, "all", server_debugging_all(s));
        cj_arr(&c->out, "peers");
        for (unsigned i = 0; i < n; i++)
            cj_str(&c->out, NULL, eid_to_str(&peers[i], es));
        cj_end(&c->out);
        cj_end(&c->out);
    } else if (argc == 3) {
        ctl_printf(&c->out, "DUNDi Debugging %s for peer %s\n", on ? "Enabled" : "Disabled", eid_to_str(&e, es));
    } else {
        ctl_printf(&c->out, "DUNDi Debugging %s\n", on ? "Enabled" : "Disabled");
    }
    return CTL_DONE;
}

static enum ctl_status cmd_store_history(struct ctl_call *c, int argc, char **argv)
{
    int on = on_off(argv[0]);
    (void)argc;
    if (on < 0) {
        ctl_fail(c, "usage: store history on|off");
        return CTL_DONE;
    }
    server_set_storehistory(c->s, on);
    if (c->out.json) {
        cj_obj(&c->out, NULL);
        cj_bool(&c->out, "storehistory", on);
        cj_end(&c->out);
    } else {
        ctl_printf(&c->out, "DUNDi History Storage %s\n", on ? "Enabled" : "Disabled");
    }
    return CTL_DONE;
}

static const struct ctl_cmd {
    const char *words; /* the command's fixed words */
    const char *args;  /* for usage and help */
    int min, max;      /* how many arguments follow */
    const char *help;
    ctl_fn fn;
} cmds[] = {
    {"help", "", 0, 0, "List the commands", cmd_help},
    {"show peers", "[registered|include TEXT|exclude TEXT|begin TEXT]", 0, 2, "Show defined DUNDi peers",
     show_peers},
    {"show peer", "EID", 1, 1, "Show info on a specific DUNDi peer", show_peer},
    {"show trans", "", 0, 0, "Show active DUNDi transactions", show_trans},
    {"show cache", "", 0, 0, "Show DUNDi cache", show_cache},
    {"show hints", "", 0, 0, "Show DUNDi hints in the cache", show_hints},
    {"show mappings", "", 0, 0, "Show DUNDi mappings", show_mappings},
    {"show precache", "", 0, 0, "Show DUNDi precache", show_precache},
    {"show requests", "", 0, 0, "Show DUNDi requests (running lookups)", show_requests},
    {"show entityid", "", 0, 0, "Display Global Entity ID", show_entityid},
    {"show registrations", "[NUMBER]", 0, 1, "Show where phones are registered", show_registrations},
    {"show realtime", "", 0, 0, "Show the Asterisk RealTime feed", show_realtime},
    {"show stats", "", 0, 0, "Show counters", show_stats},
    {"lookup", "NUMBER[@CONTEXT] [bypass]", 1, 2, "Lookup a number in DUNDi", cmd_lookup},
    {"query", "EID[@CONTEXT]", 1, 1, "Query a DUNDi EID", cmd_query},
    {"precache", "NUMBER[@CONTEXT]", 1, 1, "Precache a number in DUNDi", cmd_precache},
    {"flush", "[all|stats]", 0, 1, "Flush DUNDi cache, or zero the counters", cmd_flush},
    {"reload", "", 0, 0, "Re-read the configuration file", cmd_reload},
    {"set debug", "on|off [peer EID]", 1, 3, "Enable/Disable DUNDi packet debugging", cmd_set_debug},
    {"store history", "on|off", 1, 1, "Enable/Disable DUNDi historic records", cmd_store_history},
};
#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

static enum ctl_status cmd_help(struct ctl_call *c, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (c->out.json) {
        cj_obj(&c->out, NULL);
        cj_arr(&c->out, "commands");
    }
    for (size_t i = 0; i < NCMDS; i++) {
        char usage[96];
        snprintf(usage, sizeof(usage), "%s%s%s", cmds[i].words, cmds[i].args[0] ? " " : "", cmds[i].args);
        if (c->out.json) {
            cj_obj(&c->out, NULL);
            cj_str(&c->out, "usage", usage);
            cj_str(&c->out, "help", cmds[i].help);
            cj_end(&c->out);
        } else {
            /* A long usage gets a line of its own, the columns stay. */
            if (strlen(usage) > 44)
                ctl_printf(&c->out, "%s\n%-44s %s\n", usage, "", cmds[i].help);
            else
                ctl_printf(&c->out, "%-44s %s\n", usage, cmds[i].help);
        }
    }
    if (c->out.json) {
        cj_end(&c->out);
        cj_end(&c->out);
    }
    return CTL_DONE;
}

/* How many of argv's first words spell words (0 when they do not). */
static int match_words(const char *words, int argc, char *const *argv)
{
    int n = 0;
    const char *w = words;
    while (*w) {
        size_t len = strcspn(w, " ");
        if (n >= argc || strlen(argv[n]) != len || strncasecmp(argv[n], w, len))
            return 0;
        n++;
        w += len;
        while (*w == ' ')
            w++;
    }
    return n;
}

enum ctl_status ctl_execute(struct ctl_call *c, const struct ctl_request *rq)
{
    const struct ctl_cmd *best = NULL;
    int used = 0;
    for (size_t i = 0; i < NCMDS; i++) {
        int n = match_words(cmds[i].words, rq->argc, rq->argv);
        if (n > used) {
            best = &cmds[i];
            used = n;
        }
    }
    if (!best) {
        /* "show foo" names the unknown part of a group; "foo" names itself. */
        bool group = rq->argc > 1 && (!strcasecmp(rq->argv[0], "show") || !strcasecmp(rq->argv[0], "set") ||
                      !strcasecmp(rq->argv[0], "store"));
        ctl_fail(c, "unknown command '%s%s%s' (try 'help')", rq->argv[0], group ? " " : "", group ? rq->argv[1] : "");
        return CTL_DONE;
    }
    int nargs = rq->argc - used;
    if (nargs < best->min || nargs > best->max) {
        ctl_fail(c, "usage: %s%s%s", best->words, best->args[0] ? " " : "", best->args);
        return CTL_DONE;
    }
    return best->fn(c, nargs, (char **)rq->argv + used);
}

void ctl_fail(struct ctl_call *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->reason, sizeof(c->reason), fmt, ap);
    va_end(ap);
    c->ok = false;
}

int ctl_split_at(struct ctl_call *c, const char *arg, char *number, char *context, size_t cap)
{
    const char *at = strchr(arg, '@');
    size_t nlen = at ? (size_t)(at - arg) : strlen(arg);
    const char *ctx = at ? at + 1 : "e164";
    if (!nlen || !*ctx || nlen >= cap || strlen(ctx) >= cap || strchr(ctx, '@')) {
        ctl_fail(c, "'%s' is not NUMBER@CONTEXT (each part 1..%zu characters)", arg, cap - 1);
        return -1;
    }
    memcpy(number, arg, nlen);
    number[nlen] = '\0';
    strcpy(context, ctx);
    return 0;
}
