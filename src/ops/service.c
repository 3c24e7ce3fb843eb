/* systemd notifications and the housekeeping timer (include/dundid/service.h). */
#include "dundid/service.h"

#include <stdio.h>
#include <time.h>

#include "dundid/clock.h"
#include "dundid/log.h"
#include "dundid/notify.h"
#include "dundid/server.h"

static uint64_t lookups_total(const struct server *s)
{
    uint64_t n = 0;
    for (int i = 0; i < LOOKUP_OUTCOME_COUNT; i++)
        n += server_stats(s)->lookups[i];
    return n;
}

void service_status_line(const struct service *sv, char *buf, size_t len)
{
    const struct server *s = sv->srv;
    size_t peers = 0;
    for (size_t i = 0; i < server_peer_count(s); i++)
        peers += !server_peer_at(s, i)->wildcard;
    struct regtable_stats rs = {0};
    if (server_regtable(s))
        regtable_get_stats(server_regtable(s), &rs);
    snprintf(buf, len, "%zu peers, %llu registrations, %.1f lookups/s", peers, (unsigned long long)rs.bindings,
             sv->lookups_per_s);
}

static void send_status(const struct service *sv)
{
    char line[160];
    service_status_line(sv, line, sizeof(line));
    notify_sendf("STATUS=%s", line);
}

static void on_status(evutil_socket_t fd, short what, void *arg)
{
    struct service *sv = arg;
    (void)fd;
    (void)what;
    uint64_t now = clock_now_ms(), n = lookups_total(sv->srv);
    if (now > sv->last_ms)
        sv->lookups_per_s = (double)(n - sv->last_lookups) * 1000.0 / (double)(now - sv->last_ms);
    sv->last_lookups = n;
    sv->last_ms = now;
    send_status(sv);
    log_flush_repeats(false);
}

static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    notify_send("WATCHDOG=1"); /* a failed ping is simply tried again next time */
}

static struct event *periodic(struct event_base *base, uint64_t usec, event_callback_fn fn, void *arg)
{
    struct event *ev = event_new(base, -1, EV_PERSIST, fn, arg);
    struct timeval tv = {.tv_sec = (time_t)(usec / 1000000u), .tv_usec = (suseconds_t)(usec % 1000000u)};
    if (ev && event_add(ev, &tv) < 0) {
        event_free(ev);
        ev = NULL;
    }
    return ev;
}

int service_init(struct service *sv, struct server *srv)
{
    sv->srv = srv;
    sv->last_ms = clock_now_ms();
    sv->last_lookups = lookups_total(srv);
    sv->lookups_per_s = 0;
    sv->status = periodic(server_base(srv), SERVICE_STATUS_EVERY_S * 1000000u, on_status, sv);
    uint64_t wd = notify_watchdog_usec();
    sv->watchdog = wd && notify_enabled() ? periodic(server_base(srv), wd / 2 ? wd / 2 : 1, on_watchdog, sv) : NULL;
    if (!sv->status || (wd && notify_enabled() && !sv->watchdog))
        return -1;
    if (sv->watchdog)
        log_info("systemd watchdog: pinging every %llu ms", (unsigned long long)(wd / 2000u));
    return 0;
}

void service_free(struct service *sv)
{
    if (sv->status)
        event_free(sv->status);
    if (sv->watchdog)
        event_free(sv->watchdog);
    sv->status = sv->watchdog = NULL;
}

void service_ready(struct service *sv)
{
    char line[160];
    service_status_line(sv, line, sizeof(line));
    if (notify_sendf("READY=1\nSTATUS=%s", line) < 0)
        log_warning("systemd notification failed");
}

void service_reloading(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    unsigned long long usec = (unsigned long long)ts.tv_sec * 1000000u + (unsigned long long)ts.tv_nsec / 1000u;
    notify_sendf("RELOADING=1\nSTATUS=reloading the configuration\nMONOTONIC_USEC=%llu", usec);
}

void service_stopping(void) { notify_send("STOPPING=1\nSTATUS=shutting down"); }
