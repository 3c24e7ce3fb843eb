/* The systemd notification protocol (sd_notify(3)) without libsystemd: one
 * datagram of "KEY=VALUE\n" lines to the unix socket named in $NOTIFY_SOCKET
 * (a path, or "@name" for the abstract namespace). */
#ifndef DUNDID_NOTIFY_H
#define DUNDID_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Read $NOTIFY_SOCKET and $WATCHDOG_USEC/$WATCHDOG_PID and open the socket.
 * Returns 0 (also when there is no socket: notify_send then does nothing),
 * or -1 with a reason in err for a socket name that cannot be used. */
int notify_init(char *err, size_t errlen);
void notify_close(void);
bool notify_enabled(void);
/* Send one message. Returns 0, or -1 (errno) when the send failed. */
int notify_send(const char *msg);
int notify_sendf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The watchdog interval systemd asked for, 0 when none (or not for us). */
uint64_t notify_watchdog_usec(void);

#endif
