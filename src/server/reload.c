/* Reloading the configuration file: SIGHUP and dundictl share this. */
#include <stdio.h>
#include <string.h>

#include "dundid/log.h"
#include "dundid/server_impl.h"

int server_reload_file(struct server *s, struct config_diag *diag)
{
    log_notice("reloading %s", s->conf_path ? s->conf_path : s->conf->asterisk_dir);
    /* Parsed, then probed without blocking the loop: no name lookups. */
    struct config *c = config_reload(s->conf_path, s->conf, diag);
    for (size_t i = 0; i < diag->n; i++) {
        if (diag->is_error[i])
            log_error("%s", diag->msg[i]);
        else /* the message says "warning:" itself */
            log_notice("%s", diag->msg[i]);
    }
    if (!c) {
        log_error("reload failed; still running with the previous configuration");
        s->stats.reloads_failed++;
        return -1;
    }
    if (c->loglevel >= 0 && !s->keep_loglevel)
        log_set_level((enum log_level)c->loglevel);
    if (strcmp(c->pidfile, s->conf->pidfile) || strcmp(c->logfile, s->conf->logfile))
        log_warning("pidfile/logfile changes take effect at the next restart");
    if (strcmp(c->control, s->conf->control) || strcmp(c->control_group, s->conf->control_group))
        log_warning("control socket changes take effect at the next restart");
    server_reload(s, c);
    s->stats.reloads_ok++;
    log_notice("configuration reloaded");
    return 0;
}
