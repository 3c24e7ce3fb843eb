#include "dundid/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static bool use_stderr = true;
static bool stderr_is_journal; /* lines get "<N>" and no timestamp */
static enum log_level cur_level = LOG_LVL_NOTICE;
static FILE *log_file;
static char *log_path;

static const char *const names[] = {"error", "warning", "notice", "info", "debug"};
static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG};

/* The last line written, to fold identical repeats. */
static struct {
    char line[LOG_LINE_MAX];
    enum log_level level;
    unsigned count;      /* occurrences in this window, the first included */
    unsigned suppressed; /* not written since the last report */
    uint64_t window_start_ms;
    unsigned burst, window_ms;
    uint64_t total_suppressed;
} rep = {.burst = LOG_REPEAT_BURST, .window_ms = LOG_REPEAT_WINDOW_MS};

bool log_journal_stream_matches(const char *env, int fd)
{
    struct stat st;
    unsigned long long dev, ino;
    int end = 0;
    if (!env || sscanf(env, "%llu:%llu%n", &dev, &ino, &end) != 2 || env[end] != '\0')
        return false;
    return fstat(fd, &st) == 0 && (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_init(const char *ident, bool to_stderr, enum log_level level)
{
    use_stderr = to_stderr;
    /* systemd sets JOURNAL_STREAM to the dev:ino of the stream it connected;
     * a stderr redirected elsewhere by the user does not match it. */
    stderr_is_journal = to_stderr && log_journal_stream_matches(getenv("JOURNAL_STREAM"), STDERR_FILENO);
    cur_level = level;
    if (!to_stderr)
        openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_set_level(enum log_level level) { cur_level = level; }

enum log_level log_get_level(void) { return cur_level; }

int log_level_from_name(const char *name)
{
    for (int i = 0; i < (int)(sizeof(names) / sizeof(names[0])); i++)
        if (!strcasecmp(name, names[i]))
            return i;
    return -1;
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void emit(enum log_level level, const char *line)
{
    FILE *f = log_file ? log_file : use_stderr ? stderr : NULL;
    if (f == stderr && stderr_is_journal) {
        /* sd-daemon(3) prefix: the journal takes the priority from it and
         * stamps the time itself. */
        fprintf(f, "<%d>%s: %s\n", prio[level], names[level], line);
        fflush(f);
    } else if (f) {
        struct timespec ts;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &ts);
        localtime_r(&ts.tv_sec, &tm);
        if (log_file) /* a file outlives days: give the date too */
            fprintf(f, "%04d-%02d-%02d ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
        fprintf(f, "%02d:%02d:%02d.%03ld %s: %s\n", tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
                names[level], line);
        fflush(f);
    } else {
        syslog(prio[level], "%s", line);
    }
}

static void report_repeats(void)
{
    if (rep.suppressed) {
        char msg[64];
        snprintf(msg, sizeof(msg), "last message repeated %u times", rep.suppressed);
        emit(rep.level, msg);
    }
    rep.suppressed = 0;
}

void log_flush_repeats(bool force)
{
    if (rep.suppressed && (force || mono_ms() - rep.window_start_ms >= rep.window_ms)) {
        report_repeats();
        rep.count = 0; /* a new window starts with the next line */
    }
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    char line[sizeof(rep.line)];
    va_list ap;

    if (level > cur_level)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);

    /* Debug output is asked for line by line: never folded, and it does
     * not interrupt the folding of the lines around it. */
    if (level == LOG_LVL_DEBUG) {
        emit(level, line);
        return;
    }
    uint64_t now = mono_ms();
    bool same = rep.count && level == rep.level && !strcmp(line, rep.line);
    if (same && now - rep.window_start_ms < rep.window_ms) {
        if (++rep.count > rep.burst) {
            rep.suppressed++;
            rep.total_suppressed++;
            return;
        }
    } else {
        report_repeats();
        memcpy(rep.line, line, sizeof(rep.line));
        rep.level = level;
        rep.count = 1;
        rep.window_start_ms = now;
    }
    emit(level, line);
}

void log_set_repeat_limit(unsigned burst, unsigned window_ms)
{
    rep.burst = burst;
    rep.window_ms = window_ms;
}

uint64_t log_suppressed_total(void) { return rep.total_suppressed; }

static FILE *open_append(const char *path)
{
    /* Logs name peers and numbers: not world-readable, and never through a
     * symlink someone planted (fopen would create it 0666 & ~umask). */
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0640);
    FILE *f = fd >= 0 ? fdopen(fd, "a") : NULL;
    if (!f && fd >= 0)
        close(fd);
    if (f)
        setvbuf(f, NULL, _IOLBF, 0);
    return f;
}

int log_open_file(const char *path)
{
    FILE *f = open_append(path);
    char *p = f ? strdup(path) : NULL;
    if (!p) {
        int e = errno;
        if (f)
            fclose(f);
        errno = e;
        return -1;
    }
    log_close();
    log_file = f;
    log_path = p;
    return 0;
}

int log_reopen(void)
{
    if (!log_file)
        return 0;
    FILE *f = open_append(log_path);
    if (!f)
        return -1;
    fclose(log_file);
    log_file = f;
    return 0;
}

void log_close(void)
{
    if (log_file)
        fclose(log_file);
    log_file = NULL;
    free(log_path);
    log_path = NULL;
}
