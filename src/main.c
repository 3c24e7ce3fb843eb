/* dundid: process setup, signals, and the event loop. */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "dundid/clock.h"
#include "dundid/config.h"
#include "dundid/control.h"
#include "dundid/log.h"
#include "dundid/lookup.h"
#include "dundid/metrics.h"
#include "dundid/notify.h"
#include "dundid/procutil.h"
#include "dundid/server.h"
#include "dundid/service.h"

#ifndef DUNDID_DEFAULT_CONF
#define DUNDID_DEFAULT_CONF "/etc/dundid/dundid.conf"
#endif

#define SHUTDOWN_GRACE_MS 1000 /* for the ACKs of our last responses and CANCELs */
#define SHUTDOWN_POLL_MS 20

static void usage(FILE *f)
{
    fprintf(f, "usage: dundid [-f] [-t] [-d] [-c FILE] [-A DIR] [-p PIDFILE] [-u USER]\n"
               "  -c FILE     configuration file (default " DUNDID_DEFAULT_CONF ", none with -A)\n"
               "  -A DIR      serve from an Asterisk configuration folder (asterisk.conf, dundi.conf,\n"
               "              extensions.conf); a -c FILE is read after it\n"
               "  -f          stay in the foreground and log to stderr\n"
               "  -p PIDFILE  pid file (default: [general] pidfile, else " DUNDID_DEFAULT_PIDFILE
               "\n              when detached)\n"
               "  -u USER     run as USER once the sockets are open\n"
               "  -t          check the configuration and exit (0 = valid)\n"
               "  -d          debug logging\n"
               "  -V          print the version\n");
}

/* Print every diagnostic; returns the snapshot or NULL. */
static struct config *load(const char *path, const char *astdir)
{
    struct config_diag d;
    struct config *c = config_load_src(&(struct config_src){.path = path, .astdir = astdir}, &d);
    for (size_t i = 0; i < d.n; i++)
        fprintf(stderr, "%s\n", d.msg[i]);
    config_diag_free(&d);
    return c;
}

struct app {
    struct server *srv; /* set up once server_init ran (it then owns conf) */
    struct service service;
    struct metrics metrics;
    struct control *ctl;
    struct event *drain; /* after SIGTERM: waits for the last transactions */
    uint64_t stop_deadline;
    const char *path;
};

/* Every reload, SIGHUP or dundictl's: the file, then systemd and metrics. */
static int app_reload(void *ctx, struct config_diag *d)
{
    struct app *a = ctx;
    service_reloading();
    int rc = server_reload_file(a->srv, d);
    if (rc == 0)
        metrics_reconfigure(&a->metrics, a->srv, server_conf(a->srv)->metrics_host, server_conf(a->srv)->metrics_port);
    service_ready(&a->service);
    return rc;
}

static void on_hup(evutil_socket_t sig, short what, void *arg)
{
    struct app *a = arg;
    (void)sig;
    (void)what;
    struct config_diag d;
    log_notice("SIGHUP");
    app_reload(a, &d);
    config_diag_free(&d);
}

static void on_usr1(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    (void)arg;
    if (log_reopen() < 0)
        log_error("SIGUSR1: cannot reopen the log file: %s", strerror(errno));
    else
        log_notice("SIGUSR1: log file reopened");
}

static void on_drain(evutil_socket_t fd, short what, void *arg)
{
    struct app *a = arg;
    (void)fd;
    (void)what;
    if (server_engine(a->srv)->count == 0 || clock_now_ms() >= a->stop_deadline)
        event_base_loopbreak(server_base(a->srv));
}

/* SIGUSR2: the stats line now, for operators and tests. */
static void on_usr2(evutil_socket_t sig, short what, void *arg)
{
    struct app *a = arg;
    (void)sig;
    (void)what;
    server_log_stats(a->srv);
}

static void on_term(evutil_socket_t sig, short what, void *arg)
{
    struct app *a = arg;
    (void)what;
    if (a->drain) { /* a second signal: no more waiting */
        event_base_loopbreak(server_base(a->srv));
        return;
    }
    log_notice("%s: shutting down", strsignal((int)sig));
    service_stopping();
    /* Every waiting requester gets what was found so far, every peer still
     * asked a CANCEL; then wait (bounded) for their ACKs. */
    lookup_abandon_all(a->srv);
    a->stop_deadline = clock_now_ms() + SHUTDOWN_GRACE_MS;
    struct timeval tv = {0, SHUTDOWN_POLL_MS * 1000};
    a->drain = event_new(server_base(a->srv), -1, EV_PERSIST, on_drain, a);
    if (!a->drain || event_add(a->drain, &tv) < 0)
        event_base_loopbreak(server_base(a->srv));
}

/* Undo a partial start; the server owns conf once server_init ran. */
static int start_failed(struct app *a, struct config *conf, struct event_base *base, const char *why)
{
    log_error("cannot start: %s", why);
    control_close(a->ctl);
    metrics_stop(&a->metrics);
    if (a->srv) {
        server_free(a->srv);
        server_destroy(a->srv);
    } else {
        config_free(conf);
    }
    if (base)
        event_base_free(base);
    pidfile_remove();
    free((char *)a->path);
    log_close();
    return 1;
}

int main(int argc, char **argv)
{
    /* Held until the loop handles them: a SIGHUP or SIGTERM during start-up
     * must not kill the daemon with the default action. */
    sigset_t held, before;
    sigemptyset(&held);
    sigaddset(&held, SIGHUP);
    sigaddset(&held, SIGTERM);
    sigaddset(&held, SIGINT);
    sigaddset(&held, SIGUSR1);
    sigaddset(&held, SIGUSR2);
    sigprocmask(SIG_BLOCK, &held, &before);
    const char *path = DUNDID_DEFAULT_CONF, *pidpath = NULL, *user = NULL, *astdir = NULL;
    bool foreground = false, check = false, debug = false, path_set = false;
    int opt;

    while ((opt = getopt(argc, argv, "c:A:ftdp:u:Vh")) != -1) {
        switch (opt) {
        case 'c': path = optarg; path_set = true; break;
        case 'A': astdir = optarg; break;
        case 'f': foreground = true; break;
        case 't': check = true; break;
        case 'd': debug = true; break;
        case 'p': pidpath = optarg; break;
        case 'u': user = optarg; break;
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
    /* With -A alone no dundid file is read; reloads read the folder again
     * after daemon() has moved us to /, so it is kept as an absolute path. */
    if (astdir && !path_set)
        path = NULL;
    char *absast = astdir ? realpath(astdir, NULL) : NULL;
    if (astdir && !absast) {
        fprintf(stderr, "dundid: %s: %s\n", astdir, strerror(errno));
        return 1;
    }
    const char *shown = path ? path : astdir;
    struct config *conf = load(path, absast);
    free(absast);
    if (!conf)
        return 1;
    if (check) {
        /* The daemon resolves peer names later, without blocking; here we may wait. */
        for (size_t i = 0; i < conf->npeers; i++) {
            const struct peer_conf *p = &conf->peers[i];
            struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *res;
            if (!p->host[0] || p->has_addr || p->dynamic)
                continue;
            int rc = getaddrinfo(p->host, NULL, &hints, &res);
            if (rc) {
                char file[4096], chain[1024];
                int line;
                conf_srcmap_where(&conf->src, p->host_line, file, sizeof(file), &line, chain, sizeof(chain));
                fprintf(stderr, "%s:%d: warning: peer host '%s' does not resolve now (%s); dundid retries it%s\n", file,
                        line, p->host, gai_strerror(rc), chain);
            } else
                freeaddrinfo(res);
        }
        printf("%s: configuration OK\n", shown);
        config_free(conf);
        return 0;
    }
    /* Reloads re-read this path after daemon() has moved us to /. */
    char *abspath = path ? realpath(path, NULL) : NULL;
    if (path && !abspath) {
        fprintf(stderr, "dundid: %s: %s\n", path, strerror(errno));
        config_free(conf);
        return 1;
    }
    if (conf->loglevel >= 0 && !debug)
        log_set_level((enum log_level)conf->loglevel);
    signal(SIGPIPE, SIG_IGN);

    static struct app app;
    char err[512];
    app.path = abspath;
    /* The pid file first: a second dundid on it stops here, before binding. */
    if (!pidpath)
        pidpath = conf->pidfile[0] ? conf->pidfile : foreground ? NULL : DUNDID_DEFAULT_PIDFILE;
    if (pidpath && pidfile_create(pidpath, err, sizeof(err)) < 0)
        return start_failed(&app, conf, NULL, err);
    /* Bind before detaching, so a busy port fails the command that started us. */
    struct event_base *base = event_base_new();
    if (!base)
        return start_failed(&app, conf, NULL, "event_base_new failed");
    struct server *srv = server_alloc();
    if (!srv)
        return start_failed(&app, conf, base, "out of memory");
    if (server_init(srv, base, conf, NULL, err, sizeof(err)) < 0) {
        app.srv = srv; /* it owns conf now, and frees what it set up */
        return start_failed(&app, conf, base, err);
    }
    app.srv = srv;
    /* -d wins over loglevel= on every reload */
    server_set_reload(srv, abspath, debug, app_reload, &app);
    /* server_init opened the feeds that need root (the capture device,
     * the HEP socket) with the DUNDi sockets; anything else that needs
     * privileges opens here, before the drop below. */
    if (conf->metrics_host[0] &&
        metrics_start(&app.metrics, app.srv, conf->metrics_host, conf->metrics_port, err, sizeof(err)) < 0)
        return start_failed(&app, conf, base, err);
    if (conf->logfile[0] && log_open_file(conf->logfile) < 0) {
        snprintf(err, sizeof(err), "log file %s: %s", conf->logfile, strerror(errno));
        return start_failed(&app, conf, base, err);
    }
    if (user && privdrop(user, err, sizeof(err)) < 0)
        return start_failed(&app, conf, base, err);
    /* After the drop: the socket belongs to the user dundid runs as. */
    if (control_open(&app.ctl, app.srv, conf, err, sizeof(err)) < 0)
        return start_failed(&app, conf, base, err);
    if (!foreground) {
        if (daemonize_begin() < 0 || event_reinit(base) < 0 || pidfile_update() < 0) {
            snprintf(err, sizeof(err), "cannot daemonize: %s", strerror(errno));
            return start_failed(&app, conf, base, err);
        }
    }
    if (notify_init(err, sizeof(err)) < 0)
        log_warning("%s", err);
    if (service_init(&app.service, app.srv) < 0) {
        service_free(&app.service);
        return start_failed(&app, conf, base, "out of memory");
    }
    char eid[EID_STR_LEN];
    log_notice("dundid %s started, entity id %s, %zu peer(s), %zu mapping(s)%s%s", DUNDID_VERSION,
               eid_to_str(&conf->eid, eid), conf->npeers, conf->nmaps, user ? ", running as " : "",
               user ? user : "");

    struct event *sigs[5] = {
        evsignal_new(base, SIGHUP, on_hup, &app),
        evsignal_new(base, SIGTERM, on_term, &app),
        evsignal_new(base, SIGINT, on_term, &app),
        evsignal_new(base, SIGUSR1, on_usr1, &app),
        evsignal_new(base, SIGUSR2, on_usr2, &app),
    };
    for (int i = 0; i < 5; i++)
        event_add(sigs[i], NULL);
    sigprocmask(SIG_SETMASK, &before, NULL); /* what arrived meanwhile is handled now */
    service_ready(&app.service);
    if (!foreground) {
        daemonize_done(0); /* the starting command exits 0 now */
        if (!conf->logfile[0])
            log_init("dundid", false, log_get_level());
    }

    event_base_dispatch(base);

    server_log_stats(app.srv);
    for (int i = 0; i < 5; i++)
        event_free(sigs[i]);
    if (app.drain)
        event_free(app.drain);
    control_close(app.ctl);
    service_free(&app.service);
    metrics_stop(&app.metrics);
    /* The shutdown hook: after the last transaction, server_free() writes
     * the registration state file (registrations_stop). */
    server_free(app.srv);
    server_destroy(app.srv);
    event_base_free(base);
    free(abspath);
    pidfile_remove();
    notify_close();
    log_notice("stopped");
    log_flush_repeats(true);
    log_close();
    return 0;
}
