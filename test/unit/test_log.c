/* Logging to a file: levels, folding of identical repeats, reopen after a
 * rename (SIGUSR1 with logrotate); stderr to the journal (JOURNAL_STREAM). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dundid/log.h"
#include "testutil.h"

static char dir[] = "/tmp/dundid-test-log-XXXXXX";
static char path[256], rotated[256];

static char *slurp(const char *p)
{
    static char buf[65536];
    FILE *f = fopen(p, "r");
    size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
    return buf;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_levels_and_format(void)
{
    log_set_level(LOG_LVL_NOTICE);
    log_notice("hello %d", 42);
    log_info("not at notice");
    log_debug("nor this");
    log_error("an error");
    const char *t = slurp(path);
    CHECK(count(t, "notice: hello 42\n") == 1, "notice line: %s", t);
    CHECK(count(t, "error: an error\n") == 1, "error line: %s", t);
    CHECK(!strstr(t, "not at notice") && !strstr(t, "nor this"), "filtered lines written: %s", t);
    /* "YYYY-MM-DD HH:MM:SS.mmm level: msg" */
    int y, mo, d, h, mi, s, ms;
    CHECK(sscanf(t, "%4d-%2d-%2d %2d:%2d:%2d.%3d notice:", &y, &mo, &d, &h, &mi, &s, &ms) == 7, "format: %s", t);
}

static void test_repeats(void)
{
    log_set_repeat_limit(3, 60000);
    uint64_t before = log_suppressed_total();
    for (int i = 0; i < 10; i++)
        log_warning("peer 10.0.0.1: bad packet");
    CHECK_INT(count(slurp(path), "warning: peer 10.0.0.1: bad packet\n"), 3);
    CHECK_INT(log_suppressed_total() - before, 7);
    CHECK(!strstr(slurp(path), "repeated"), "reported too early");
    log_warning("something else");
    const char *t = slurp(path);
    const char *rep = strstr(t, "warning: last message repeated 7 times\n");
    const char *next = strstr(t, "warning: something else\n");
    CHECK(rep && next && rep < next, "repeat report before the next line: %s", t);

    /* Debug lines are all written, and do not break a fold in progress. */
    log_set_level(LOG_LVL_DEBUG);
    log_set_repeat_limit(1, 60000);
    log_notice("fold me");
    for (int i = 0; i < 4; i++) {
        log_debug("every one");
        log_notice("fold me");
    }
    log_notice("done folding");
    CHECK_INT(count(slurp(path), "debug: every one\n"), 4);
    CHECK_INT(count(slurp(path), "notice: fold me\n"), 1);
    CHECK_INT(count(slurp(path), "notice: last message repeated 4 times\n"), 1);
    log_set_level(LOG_LVL_NOTICE);
    log_set_repeat_limit(3, 60000);

    /* Same text at another level is another message. */
    log_error("something else");
    CHECK_INT(count(slurp(path), "something else\n"), 2);

    /* The window passes: the report comes from the flush, then the line is let through again. */
    log_set_repeat_limit(2, 100);
    for (int i = 0; i < 5; i++)
        log_notice("tick");
    log_flush_repeats(false);
    CHECK_INT(count(slurp(path), "last message repeated 3 times"), 0); /* window still open */
    sleep_ms(150);
    log_flush_repeats(false);
    CHECK_INT(count(slurp(path), "notice: last message repeated 3 times\n"), 1);
    log_notice("tick");
    CHECK_INT(count(slurp(path), "notice: tick\n"), 3);

    /* At exit, a pending report is forced out. */
    log_set_repeat_limit(1, 60000);
    log_notice("tock");
    log_notice("tock");
    log_flush_repeats(true);
    CHECK_INT(count(slurp(path), "notice: last message repeated 1 times\n"), 1);
    log_set_repeat_limit(LOG_REPEAT_BURST, LOG_REPEAT_WINDOW_MS);
}

static void test_reopen(void)
{
    CHECK(rename(path, rotated) == 0, "rename");
    log_notice("to the old file");
    CHECK(log_reopen() == 0, "reopen");
    log_notice("to the new file");
    CHECK(strstr(slurp(rotated), "to the old file") && !strstr(slurp(rotated), "to the new file"), "old file");
    CHECK(strstr(slurp(path), "to the new file") && !strstr(slurp(path), "to the old file"), "new file");
    /* A file that cannot be opened keeps the current one. */
    CHECK(log_open_file("/nonexistent-dir/x.log") < 0, "bad path refused");
    log_notice("still here");
    CHECK(strstr(slurp(path), "still here") != NULL, "kept the file after a failed open");
}

/* stderr goes to a file; JOURNAL_STREAM names it (or not): the journal gets
 * "<N>level: msg" with no timestamp, anything else today's format. */
static void test_journal_stream(void)
{
    char jpath[300], env[64];
    snprintf(jpath, sizeof(jpath), "%s/stderr", dir);
    int fd = open(jpath, O_WRONLY | O_CREAT | O_TRUNC, 0600), saved = dup(STDERR_FILENO);
    struct stat st;
    if (!CHECK(fd >= 0 && saved >= 0 && fstat(fd, &st) == 0, "stderr file"))
        return;
    dup2(fd, STDERR_FILENO);
    snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
    CHECK(log_journal_stream_matches(env, STDERR_FILENO), "matches %s", env);
    CHECK(!log_journal_stream_matches("1:2", STDERR_FILENO), "another stream");
    CHECK(!log_journal_stream_matches("12", STDERR_FILENO) && !log_journal_stream_matches(NULL, STDERR_FILENO),
          "malformed");
    char trailing[80];
    snprintf(trailing, sizeof(trailing), "%sx", env);
    CHECK(!log_journal_stream_matches(trailing, STDERR_FILENO), "trailing garbage");

    setenv("JOURNAL_STREAM", env, 1);
    log_init("test", true, LOG_LVL_INFO);
    log_error("e1");
    log_warning("w1");
    log_notice("n1");
    log_info("i1");
    setenv("JOURNAL_STREAM", "1:2", 1); /* stderr is no longer the journal */
    log_init("test", true, LOG_LVL_NOTICE);
    log_notice("n2");
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(fd);
    unsetenv("JOURNAL_STREAM");
    const char *t = slurp(jpath);
    CHECK(!strncmp(t, "<3>error: e1\n<4>warning: w1\n<5>notice: n1\n<6>info: i1\n", 54), "journal lines: %s", t);
    int h, mi, s, ms;
    const char *last = strstr(t, "i1\n");
    CHECK(last && sscanf(last + 3, "%2d:%2d:%2d.%3d notice: n2", &h, &mi, &s, &ms) == 4, "terminal format: %s", t);
    unlink(jpath);
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    snprintf(path, sizeof(path), "%s/dundid.log", dir);
    snprintf(rotated, sizeof(rotated), "%s/dundid.log.1", dir);
    test_journal_stream();
    log_init("test", true, LOG_LVL_NOTICE);
    CHECK(log_reopen() == 0, "reopen without a file is a no-op");
    if (!CHECK(log_open_file(path) == 0, "open %s", path))
        return test_summary("test_log");
    test_levels_and_format();
    test_repeats();
    test_reopen();
    log_close();
    unlink(path);
    unlink(rotated);
    rmdir(dir);
    return test_summary("test_log");
}
