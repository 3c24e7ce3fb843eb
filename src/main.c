/* dundid: process setup, signals, and the event loop. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "dundid/config.h"
#include "dundid/log.h"
#include "dundid/server.h"

#ifndef DUNDID_DEFAULT_CONF
#define DUNDID_DEFAULT_CONF "/etc/dundid/dundid.conf"
#endif

static void usage(FILE *f)
{
    fprintf(f, "usage: dundid [-f] [-t] [-d] [-c FILE]\n"
               "  -c FILE  configuration file (default " DUNDID_DEFAULT_CONF ")\n"
               "  -f       stay in the foreground and log to stderr\n"
               "  -t       check the configuration and exit (0 = valid)\n"
               "  -d       debug logging\n"
               "  -V       print the version\n");
}

/* Print every diagnostic; returns the snapshot or NULL. */
static struct config *load(const char *path, bool to_log)
{
    struct config_diag d;
    struct config *c = config_load(path, &d);
    for (size_t i = 0; i < d.n; i++) {
        if (to_log && d.is_error[i])
            log_error("%s", d.msg[i]);
        else if (to_log) /* the message says "warning:" itself */
            log_notice("%s", d.msg[i]);
        else
            fprintf(stderr, "%s\n", d.msg[i]);
    }
    config_diag_free(&d);
    return c;
}

struct app {
    struct server srv;
    const char *path;
    bool debug; /* -d wins over loglevel= on every reload */
};

static void on_hup(evutil_socket_t sig, short what, void *arg)
{
    struct app *a = arg;
    (void)sig;
    (void)what;
    log_notice("SIGHUP: reloading %s", a->path);
    struct config *c = load(a->path, true);
    if (!c) {
        log_error("reload failed; still running with the previous configuration");
        return;
    }
    if (c->loglevel >= 0 && !a->debug)
        log_set_level((enum log_level)c->loglevel);
    server_reload(&a->srv, c);
    log_notice("configuration reloaded");
}

/* SIGUSR1: the stats line now, for operators and tests. */
static void on_usr1(evutil_socket_t sig, short what, void *arg)
{
    struct app *a = arg;
    (void)sig;
    (void)what;
    server_log_stats(&a->srv);
}

static void on_term(evutil_socket_t sig, short what, void *arg)
{
    struct app *a = arg;
    (void)what;
    log_notice("%s: shutting down", strsignal((int)sig));
    server_log_stats(&a->srv);
    event_base_loopbreak(a->srv.base);
}

int main(int argc, char **argv)
{
    const char *path = DUNDID_DEFAULT_CONF;
    bool foreground = false, check = false, debug = false;
    int opt;

    while ((opt = getopt(argc, argv, "c:ftdVh")) != -1) {
        switch (opt) {
        case 'c': path = optarg; break;
        case 'f': foreground = true; break;
        case 't': check = true; break;
        case 'd': debug = true; break;
        case 'V': printf("dundid %s\n", DUNDID_VERSION); return 0;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }

    log_init("dundid", true, debug ? LOG_LVL_DEBUG : LOG_LVL_NOTICE);
    struct config *conf = load(path, false);
    if (!conf)
        return 1;
    if (check) {
        printf("%s: configuration OK\n", path);
        config_free(conf);
        return 0;
    }
    /* Reloads re-read this path after daemon() has moved us to /. */
    char *abspath = realpath(path, NULL);
    if (!abspath) {
        fprintf(stderr, "dundid: %s: %s\n", path, strerror(errno));
        return 1;
    }
    if (conf->loglevel >= 0 && !debug)
        log_set_level((enum log_level)conf->loglevel);
    signal(SIGPIPE, SIG_IGN);

    struct event_base *base = event_base_new();
    static struct app app;
    char err[256];
    app.path = abspath;
    app.debug = debug;
    /* Bind before detaching, so a busy port fails the command that started us. */
    if (!base || server_init(&app.srv, base, conf, err, sizeof(err)) < 0) {
        log_error("cannot start: %s", base ? err : "event_base_new failed");
        return 1;
    }
    if (!foreground) {
        if (daemon(0, 0) < 0 || event_reinit(base) < 0) {
            log_error("cannot daemonize: %s", strerror(errno));
            return 1;
        }
        log_init("dundid", false, log_get_level());
    }
    char eid[EID_STR_LEN];
    log_notice("dundid %s started, entity id %s, %zu peer(s), %zu mapping(s)", DUNDID_VERSION,
               eid_to_str(&conf->eid, eid), conf->npeers, conf->nmaps);

    struct event *sigs[4] = {
        evsignal_new(base, SIGHUP, on_hup, &app),
        evsignal_new(base, SIGTERM, on_term, &app),
        evsignal_new(base, SIGINT, on_term, &app),
        evsignal_new(base, SIGUSR1, on_usr1, &app),
    };
    for (int i = 0; i < 4; i++)
        event_add(sigs[i], NULL);

    event_base_dispatch(base);

    for (int i = 0; i < 4; i++)
        event_free(sigs[i]);
    server_free(&app.srv);
    event_base_free(base);
    free(abspath);
    log_notice("stopped");
    return 0;
}
