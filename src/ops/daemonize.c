/* Detaching with a readiness report to the parent (include/dundid/procutil.h). */
#include "dundid/procutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

static int report_fd = -1;

int daemonize_begin(void)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid > 0) { /* the parent: wait for the verdict, never run our cleanup */
        close(p[1]);
        unsigned char status = 1;
        ssize_t n;
        do
            n = read(p[0], &status, 1);
        while (n < 0 && errno == EINTR);
        _exit(n == 1 ? status : 1);
    }
    close(p[0]);
    report_fd = p[1];
    if (setsid() < 0 || chdir("/") < 0)
        return -1;
    return 0;
}

void daemonize_done(int status)
{
    if (report_fd < 0)
        return;
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        dup2(null, STDERR_FILENO);
        if (null > STDERR_FILENO)
            close(null);
    }
    unsigned char b = (unsigned char)status;
    ssize_t n;
    do
        n = write(report_fd, &b, 1);
    while (n < 0 && errno == EINTR);
    close(report_fd);
    report_fd = -1;
}
