/* sd_notify by hand against a real unix datagram socket: path and abstract
 * names, WATCHDOG_USEC/WATCHDOG_PID, refused names. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "dundid/notify.h"
#include "testutil.h"

static int listen_on(const char *name, socklen_t *len)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    size_t n = strlen(name);
    memcpy(a.sun_path, name, n);
    if (name[0] == '@')
        a.sun_path[0] = '\0';
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, *len) < 0)
        return -1;
    return fd;
}

static const char *recv_msg(int fd)
{
    static char buf[1024];
    ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    return n > 0 ? buf : "";
}

static void test_socket(const char *name)
{
    char err[256];
    socklen_t len;
    int fd = listen_on(name, &len);
    if (!CHECK(fd >= 0, "listen on %s", name))
        return;
    setenv("NOTIFY_SOCKET", name, 1);
    CHECK(notify_init(err, sizeof(err)) == 0, "init %s: %s", name, err);
    CHECK(notify_enabled(), "enabled for %s", name);
    CHECK(notify_send("READY=1") == 0, "send");
    CHECK_STR(recv_msg(fd), "READY=1");
    CHECK(notify_sendf("STATUS=%d peers\nMONOTONIC_USEC=%llu", 3, 12345ULL) == 0, "sendf");
    CHECK_STR(recv_msg(fd), "STATUS=3 peers\nMONOTONIC_USEC=12345");
    char big[600];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    CHECK(notify_sendf("STATUS=%s", big) < 0, "oversize message refused, not cut");
    CHECK_STR(recv_msg(fd), "");
    notify_close();
    CHECK(!notify_enabled(), "closed");
    CHECK(notify_send("READY=1") == 0, "send without a socket is a no-op");
    close(fd);
}

static void test_watchdog(void)
{
    char err[256], pid[32];
    unsetenv("NOTIFY_SOCKET");
    setenv("WATCHDOG_USEC", "30000000", 1);
    unsetenv("WATCHDOG_PID");
    notify_init(err, sizeof(err));
    CHECK_INT(notify_watchdog_usec(), 30000000);
    snprintf(pid, sizeof(pid), "%ld", (long)getpid());
    setenv("WATCHDOG_PID", pid, 1);
    notify_init(err, sizeof(err));
    CHECK_INT(notify_watchdog_usec(), 30000000);
    setenv("WATCHDOG_PID", "1", 1);
    notify_init(err, sizeof(err));
    CHECK_INT(notify_watchdog_usec(), 0);
    unsetenv("WATCHDOG_PID");
    const char *bad[] = {"", "0", "-5", " -1", " 5", "+5", "12abc", "18446744073709551616", "99999999999999999999999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        setenv("WATCHDOG_USEC", bad[i], 1);
        notify_init(err, sizeof(err));
        CHECK(notify_watchdog_usec() == 0, "WATCHDOG_USEC='%s' ignored", bad[i]);
    }
    unsetenv("WATCHDOG_USEC");
}

static void test_refused_names(void)
{
    char err[256], longname[200];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[0] = '/';
    longname[sizeof(longname) - 1] = '\0';
    const char *bad[] = {"relative/path", "x", longname};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        setenv("NOTIFY_SOCKET", bad[i], 1);
        err[0] = '\0';
        CHECK(notify_init(err, sizeof(err)) < 0 && strstr(err, "NOTIFY_SOCKET"), "'%.20s' refused: %s", bad[i],
              err);
        CHECK(!notify_enabled(), "not enabled");
    }
    unsetenv("NOTIFY_SOCKET");
    CHECK(notify_init(err, sizeof(err)) == 0 && !notify_enabled(), "no socket: fine, disabled");
}

int main(void)
{
    char path[64], abstract[64];
    snprintf(path, sizeof(path), "/tmp/dundid-test-notify-%ld", (long)getpid());
    snprintf(abstract, sizeof(abstract), "@dundid-test-notify-%ld", (long)getpid());
    unlink(path);
    test_socket(path);
    unlink(path);
    test_socket(abstract);
    test_watchdog();
    test_refused_names();
    return test_summary("test_notify");
}
