/* The pid file: created safely, locked for the life of the process. */
#include "dundid/procutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static int pid_fd = -1;
static char *pid_path;

static int write_pid(int fd)
{
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n)
        return -1;
    return 0;
}

int pidfile_create(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "pid file %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "pid file %s: not a regular file", path);
        close(fd);
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        char held[32] = "";
        ssize_t n = pread(fd, held, sizeof(held) - 1, 0);
        held[n > 0 ? n : 0] = '\0';
        held[strcspn(held, "\n")] = '\0';
        snprintf(err, errlen, "pid file %s: locked, dundid is already running (pid %s)", path,
                 held[0] ? held : "unknown");
        close(fd);
        return -1;
    }
    pid_path = strdup(path);
    if (!pid_path || write_pid(fd) < 0) {
        snprintf(err, errlen, "pid file %s: cannot write: %s", path, strerror(errno));
        free(pid_path);
        pid_path = NULL;
        unlink(path);
        close(fd);
        return -1;
    }
    pid_fd = fd;
    return 0;
}

int pidfile_update(void) { return pid_fd < 0 ? 0 : write_pid(pid_fd); }

void pidfile_remove(void)
{
    if (pid_fd < 0)
        return;
    /* After dropping root this needs write access to the folder
     * (RuntimeDirectory= gives it); the lock ends with the close anyway. */
    unlink(pid_path);
    close(pid_fd);
    pid_fd = -1;
    free(pid_path);
    pid_path = NULL;
}
