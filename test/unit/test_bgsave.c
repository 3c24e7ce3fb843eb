/* bgsave: state files written by a real child process. The child must see
 * the memory as it was at the fork, report its failures through the pipe,
 * keep none of the parent's descriptors, die of SIGTERM even where the
 * parent holds it, and its end must come back through the loop. */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dundid/bgsave.h"
#include "testutil.h"

#define N 200000

static int values[N];
static int parent_fd = -1;

struct result {
    int calls;
    bool ok;
    char err[256];
};

static void on_done(void *arg, bool ok, const char *err)
{
    struct result *r = arg;
    r->calls++;
    r->ok = ok;
    snprintf(r->err, sizeof(r->err), "%s", err);
}

static long write_values(void *ctx, FILE *f)
{
    (void)ctx;
    /* A descriptor of the parent's must be closed here. */
    fprintf(f, "parent_fd %s\n", fcntl(parent_fd, F_GETFD) < 0 && errno == EBADF ? "closed" : "open");
    for (int i = 0; i < N; i++)
        if (fprintf(f, "%d\n", values[i]) < 0)
            return -1;
    return 0;
}

static long write_fails(void *ctx, FILE *f)
{
    (void)ctx;
    (void)f;
    return -1;
}

static long write_slowly(void *ctx, FILE *f)
{
    (void)ctx;
    fprintf(f, "started\n");
    for (int i = 0; i < 100; i++) /* at most 10 s: the test kills it long before */
        usleep(100000);
    return 0;
}

static void run_until_done(struct event_base *base, const struct result *r)
{
    for (int i = 0; i < 2000 && !r->calls; i++) /* bounded: 2000 turns of at most 10 ms */
        event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK), usleep(10000);
}

/* The file holds the values as they were at the fork and the marker line. */
static bool file_has_snapshot(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char line[64];
    bool ok = fgets(line, sizeof(line), f) && strcmp(line, "parent_fd closed\n") == 0;
    for (int i = 0; ok && i < N; i++)
        ok = fgets(line, sizeof(line), f) && atoi(line) == i;
    ok = ok && !fgets(line, sizeof(line), f);
    fclose(f);
    return ok;
}

int main(void)
{
    char dir[] = "/tmp/test_bgsave.XXXXXX", path[256], bad[256];
    if (!mkdtemp(dir))
        return 2;
    snprintf(path, sizeof(path), "%s/state", dir);
    snprintf(bad, sizeof(bad), "%s/no/such/folder/state", dir);
    struct event_base *base = event_base_new();
    parent_fd = open("/dev/null", O_RDONLY);
    for (int i = 0; i < N; i++)
        values[i] = i;

    /* 1. A snapshot: the parent changes everything right after the fork. */
    struct bgsave b;
    struct result r = {0};
    char err[256];
    bgsave_init(&b);
    CHECK(!bgsave_running(&b), "not running before a start");
    CHECK_INT(bgsave_start(&b, base, path, write_values, NULL, on_done, &r, err, sizeof(err)), 0);
    CHECK(bgsave_running(&b), "running after a start");
    CHECK_INT(r.calls, 0); /* never from inside the start */
    for (int i = 0; i < N; i++)
        values[i] = -1;
    CHECK_INT(bgsave_start(&b, base, path, write_values, NULL, on_done, &r, err, sizeof(err)), -1);
    CHECK(strstr(err, "still being written"), "a second start is refused: %s", err);
    run_until_done(base, &r);
    CHECK_INT(r.calls, 1);
    CHECK(r.ok, "saved: %s", r.err);
    CHECK(!bgsave_running(&b), "not running after its end");
    CHECK(file_has_snapshot(path), "the file holds the memory as it was at the fork");
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "mode 0600");

    /* 2. A failure is reported with its reason. */
    r = (struct result){0};
    CHECK_INT(bgsave_start(&b, base, bad, write_values, NULL, on_done, &r, err, sizeof(err)), 0);
    run_until_done(base, &r);
    CHECK(r.calls == 1 && !r.ok, "a missing folder fails");
    CHECK(strstr(r.err, "No such file"), "with the reason: '%s'", r.err);
    r = (struct result){0};
    CHECK_INT(bgsave_start(&b, base, path, write_fails, NULL, on_done, &r, err, sizeof(err)), 0);
    run_until_done(base, &r);
    CHECK(r.calls == 1 && !r.ok && strstr(r.err, "write failed"), "a failing writer: '%s'", r.err);
    CHECK(file_has_snapshot(path), "a failed save leaves the last good file");

    /* 3. bgsave_wait: done has run when it returns. */
    for (int i = 0; i < N; i++)
        values[i] = i;
    r = (struct result){0};
    CHECK_INT(bgsave_start(&b, base, path, write_values, NULL, on_done, &r, err, sizeof(err)), 0);
    bgsave_wait(&b);
    CHECK(r.calls == 1 && r.ok, "waited for: %d %s", r.calls, r.err);
    CHECK(file_has_snapshot(path), "complete after the wait");
    bgsave_wait(&b); /* nothing running: returns at once */
    CHECK_INT(r.calls, 1);

    /* 4. SIGTERM kills the child though the parent holds it (as dundid does). */
    sigset_t held;
    sigemptyset(&held);
    sigaddset(&held, SIGTERM);
    sigprocmask(SIG_BLOCK, &held, NULL);
    r = (struct result){0};
    CHECK_INT(bgsave_start(&b, base, path, write_slowly, NULL, on_done, &r, err, sizeof(err)), 0);
    usleep(200000);
    kill(b.pid, SIGTERM);
    run_until_done(base, &r);
    CHECK(r.calls == 1 && !r.ok && strstr(r.err, "killed by signal 15"), "killed: '%s'", r.err);
    CHECK(file_has_snapshot(path), "a killed save leaves the last good file");

    close(parent_fd);
    event_base_free(base);
    unlink(path);
    char tmp[300];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    unlink(tmp);
    rmdir(dir);
    return test_summary("test_bgsave");
}
