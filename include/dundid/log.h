/* Logging: stderr in the foreground, syslog otherwise. */
#ifndef DUNDID_LOG_H
#define DUNDID_LOG_H

#include <stdbool.h>

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARNING, LOG_LVL_NOTICE, LOG_LVL_INFO, LOG_LVL_DEBUG };

void log_init(const char *ident, bool to_stderr, enum log_level level);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parse "error|warning|notice|info|debug"; -1 if unknown. */
int log_level_from_name(const char *name);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

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
