/* The daemon as a systemd service: readiness, reload and stop notices,
 * STATUS lines, and the watchdog ping from a libevent timer (so a stuck
 * event loop stops the pings and systemd restarts us). Without
 * $NOTIFY_SOCKET only the housekeeping timer runs. */
#ifndef DUNDID_SERVICE_H
#define DUNDID_SERVICE_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

struct server;

#define SERVICE_STATUS_EVERY_S 10

struct service {
    struct server *srv;
    struct event *watchdog; /* WATCHDOG=1 at half of $WATCHDOG_USEC */
    struct event *status;   /* STATUS= line, suppressed-log report */
    uint64_t last_lookups, last_ms;
    double lookups_per_s;
};

/* Arm the timers. Returns 0 or -1 (out of memory). */
int service_init(struct service *sv, struct server *srv);
void service_free(struct service *sv);
void service_ready(struct service *sv);  /* READY=1 and a STATUS line */
void service_reloading(void);            /* RELOADING=1 with MONOTONIC_USEC */
void service_stopping(void);             /* STOPPING=1 */
/* "N peers, M registrations, K lookups/s" */
void service_status_line(const struct service *sv, char *buf, size_t len);

#endif
