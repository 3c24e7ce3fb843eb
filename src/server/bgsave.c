/* State files written by a child process (include/dundid/bgsave.h). */
#include "dundid/bgsave.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dundid/statefile.h"

void bgsave_init(struct bgsave *b)
{
    memset(b, 0, sizeof(*b));
    b->fd = -1;
}

bool bgsave_running(const struct bgsave *b) { return b->pid > 0; }

/* In the child: nothing of the parent's but memory and the pipe; the
 * signals that stop the daemon (held or caught by the loop in the parent)
 * kill it. Never returns. */
static void child(int fd, const char *path, long (*writer)(void *ctx, FILE *f), void *ctx)
{
    static const int stop_signals[] = {SIGHUP, SIGTERM, SIGINT, SIGUSR1, SIGUSR2, SIGPIPE};
    sigset_t none;
    for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++)
        signal(stop_signals[i], SIG_DFL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (fd > 3)
        close_range(3, (unsigned)fd - 1, 0);
    close_range((unsigned)fd + 1, ~0u, 0);
    char err[256];
    if (statefile_save(path, writer, ctx, err, sizeof(err)) == 0)
        _exit(0);
    size_t len = strlen(err), off = 0;
    while (off < len) {
        ssize_t n = write(fd, err + off, len - off);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    _exit(1);
}

/* The child has ended (its pipe is closed): reap it, report. */
static void finish(struct bgsave *b)
{
    int status = 0;
    pid_t got;
    while ((got = waitpid(b->pid, &status, 0)) < 0 && errno == EINTR)
        ;
    bool ok = got == b->pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    b->err[b->errlen] = '\0'; /* drain leaves room for it */
    if (got != b->pid)
        snprintf(b->err, sizeof(b->err), "waitpid: %s", strerror(errno));
    else if (!ok && b->errlen == 0)
        snprintf(b->err, sizeof(b->err), "the writing process %s %d",
                 WIFSIGNALED(status) ? "was killed by signal" : "exited with",
                 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    event_free(b->ev);
    close(b->fd);
    b->ev = NULL;
    b->fd = -1;
    b->pid = 0;
    if (b->done)
        b->done(b->arg, ok, ok ? "" : b->err);
}

/* Read what the child says; false at its end. */
static bool drain(struct bgsave *b)
{
    for (;;) {
        char buf[256];
        ssize_t n = read(b->fd, buf, sizeof(buf));
        if (n > 0) {
            size_t room = sizeof(b->err) - 1 - b->errlen, take = (size_t)n < room ? (size_t)n : room;
            memcpy(b->err + b->errlen, buf, take);
            b->errlen += take;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
}

static void on_pipe(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct bgsave *b = arg;
    if (!drain(b))
        finish(b);
}

int bgsave_start(struct bgsave *b, struct event_base *base, const char *path, long (*writer)(void *ctx, FILE *f),
                 void *ctx, void (*done)(void *arg, bool ok, const char *err), void *arg, char *err, size_t errlen)
{
    int p[2];
    if (b->pid > 0) {
        snprintf(err, errlen, "a save is still being written");
        return -1;
    }
    if (pipe2(p, O_CLOEXEC) < 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        return -1;
    }
    struct event *ev = event_new(base, p[0], EV_READ | EV_PERSIST, on_pipe, b);
    if (!ev || evutil_make_socket_nonblocking(p[0]) < 0) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        goto fail;
    }
    if (pid == 0) {
        close(p[0]);
        child(p[1], path, writer, ctx);
    }
    close(p[1]);
    *b = (struct bgsave){pid, p[0], ev, "", 0, done, arg};
    event_add(ev, NULL);
    return 0;
fail:
    if (ev)
        event_free(ev);
    close(p[0]);
    close(p[1]);
    return -1;
}

void bgsave_wait(struct bgsave *b)
{
    if (b->pid <= 0)
        return;
    int fl = fcntl(b->fd, F_GETFL);
    if (fl >= 0)
        fcntl(b->fd, F_SETFL, fl & ~O_NONBLOCK);
    drain(b); /* blocking now: returns at the child's end */
    finish(b);
}
