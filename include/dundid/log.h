/* Logging: stderr in the foreground (the journal under systemd), syslog
 * otherwise, or a log file.
 * A message repeated identically more than LOG_REPEAT_BURST times within
 * LOG_REPEAT_WINDOW_MS is suppressed; "last message repeated K times" is
 * logged when a different message comes or the window has passed. Debug
 * lines are never folded. */
#ifndef DUNDID_LOG_H
#define DUNDID_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARNING, LOG_LVL_NOTICE, LOG_LVL_INFO, LOG_LVL_DEBUG };

#define LOG_REPEAT_BURST 5
#define LOG_REPEAT_WINDOW_MS 10000
/* Longer messages are cut (the stats line is the longest: test_counters). */
#define LOG_LINE_MAX 4096

/* to_stderr: lines go to stderr; when stderr is the journal (JOURNAL_STREAM
 * names it) each line gets the sd-daemon "<N>" priority prefix instead of a
 * timestamp. Otherwise syslog. */
void log_init(const char *ident, bool to_stderr, enum log_level level);
/* True when env ("DEV:INO", from JOURNAL_STREAM) names the file open on fd. */
bool log_journal_stream_matches(const char *env, int fd);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parse "error|warning|notice|info|debug"; -1 if unknown. */
int log_level_from_name(const char *name);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Log to this file instead (appending). Returns 0 or -1 (errno); on failure
 * the current destination stays. */
int log_open_file(const char *path);
/* Open the log file again (after logrotate moved it; SIGUSR1). 0 when there
 * is no log file; -1 (errno) keeps the old one. */
int log_reopen(void);
void log_close(void);
/* Tunable for tests: burst (identical lines let through), window. */
void log_set_repeat_limit(unsigned burst, unsigned window_ms);
/* Report suppressed repeats now if the window has passed (call from a timer
 * and at exit, with force). */
void log_flush_repeats(bool force);
/* Lines suppressed as repeats since start. */
uint64_t log_suppressed_total(void);

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_LVL_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_LVL_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)                                                                                         \
    do {                                                                                                       \
        if (log_get_level() >= LOG_LVL_DEBUG)                                                                  \
            log_msg(LOG_LVL_DEBUG, __VA_ARGS__);                                                               \
    } while (0)

#endif
