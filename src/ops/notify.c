/* sd_notify(3) by hand: see include/dundid/notify.h. */
#include "dundid/notify.h"

#include "dundid/decimal.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int notify_fd = -1;
static struct sockaddr_un notify_addr;
static socklen_t notify_addrlen;
static uint64_t watchdog_usec;

/* Digits only: " -1" or "1x" in the environment is not a number. */
static bool parse_u64(const char *s, uint64_t *out) { return s && dec_parse_u64(s, strlen(s), UINT64_MAX, out); }

static void read_watchdog(void)
{
    uint64_t usec, pid;
    watchdog_usec = 0;
    if (!parse_u64(getenv("WATCHDOG_USEC"), &usec) || usec == 0)
        return;
    /* WATCHDOG_PID, when set, says which process the interval is meant for. */
    const char *p = getenv("WATCHDOG_PID");
    if (p && (!parse_u64(p, &pid) || pid != (uint64_t)getpid()))
        return;
    watchdog_usec = usec;
}

int notify_init(char *err, size_t errlen)
{
    notify_close();
    read_watchdog();
    const char *name = getenv("NOTIFY_SOCKET");
    if (!name || !*name)
        return 0;
    size_t len = strlen(name);
    if ((name[0] != '/' && name[0] != '@') || len >= sizeof(notify_addr.sun_path)) {
        snprintf(err, errlen, "NOTIFY_SOCKET '%s' is not an absolute path or @name of at most %zu bytes", name,
                 sizeof(notify_addr.sun_path) - 1);
        return -1;
    }
    memset(&notify_addr, 0, sizeof(notify_addr));
    notify_addr.sun_family = AF_UNIX;
    memcpy(notify_addr.sun_path, name, len);
    if (name[0] == '@')
        notify_addr.sun_path[0] = '\0'; /* abstract: the length, not a NUL, ends the name */
    notify_addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (name[0] == '/'));
    notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (notify_fd < 0) {
        snprintf(err, errlen, "NOTIFY_SOCKET: socket: %s", strerror(errno));
        return -1;
    }
    return 0;
}

void notify_close(void)
{
    if (notify_fd >= 0)
        close(notify_fd);
    notify_fd = -1;
}

bool notify_enabled(void) { return notify_fd >= 0; }

uint64_t notify_watchdog_usec(void) { return watchdog_usec; }

int notify_send(const char *msg)
{
    if (notify_fd < 0)
        return 0;
    ssize_t n = sendto(notify_fd, msg, strlen(msg), MSG_NOSIGNAL, (const struct sockaddr *)&notify_addr,
                       notify_addrlen);
    return n < 0 ? -1 : 0;
}

int notify_sendf(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(msg)) {
        errno = EMSGSIZE;
        return -1;
    }
    return notify_send(msg);
}
