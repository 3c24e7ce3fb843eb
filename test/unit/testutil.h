/* Tiny assertion helpers shared by the unit tests.
 * CHECK(cond, fmt, ...) counts a pass or a failure; the first TU_MAX_SHOWN
 * failures are printed with file:line and the formatted message.
 * test_summary(name) prints "NAME: N passed, M failed" and returns the exit code. */
#ifndef DUNDID_TESTUTIL_H
#define DUNDID_TESTUTIL_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define TU_MAX_SHOWN 30

static int tu_passed, tu_failed;

__attribute__((format(printf, 4, 5))) static inline int tu_check(int ok, const char *file, int line,
                                                                 const char *fmt, ...)
{
    if (ok) {
        tu_passed++;
        return 1;
    }
    if (++tu_failed <= TU_MAX_SHOWN) {
        va_list ap;
        printf("FAIL %s:%d: ", file, line);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("\n");
    } else if (tu_failed == TU_MAX_SHOWN + 1) {
        printf("(further failures not shown)\n");
    }
    return 0;
}

/* Evaluates to 1 when cond holds, so a check can guard dependent checks. */
#define CHECK(cond, ...) tu_check(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define CHECK_INT(got, want)                                                                            \
    do {                                                                                                \
        long long tu_g_ = (long long)(got), tu_w_ = (long long)(want);                                  \
        CHECK(tu_g_ == tu_w_, "%s = %lld, want %lld", #got, tu_g_, tu_w_);                              \
    } while (0)
#define CHECK_STR(got, want)                                                                            \
    do {                                                                                                \
        const char *tu_g_ = (got), *tu_w_ = (want);                                                     \
        CHECK(strcmp(tu_g_, tu_w_) == 0, "%s = \"%s\", want \"%s\"", #got, tu_g_, tu_w_);               \
    } while (0)

/* Git does not keep file modes, and the key loader (like Asterisk) refuses a
 * private key that group or others can read: tighten the test keys' modes. */
#include <dirent.h>
#include <sys/stat.h>
static inline void tu_private_keys(const char *datadir)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/conf/keys", datadir);
    DIR *d = opendir(path);
    for (struct dirent *e; d && (e = readdir(d));) {
        size_t n = strlen(e->d_name);
        if (n > 4 && !strcmp(e->d_name + n - 4, ".key")) {
            snprintf(path, sizeof(path), "%s/conf/keys/%s", datadir, e->d_name);
            chmod(path, 0600);
        }
    }
    if (d)
        closedir(d);
}

static inline int test_summary(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, tu_passed, tu_failed);
    return tu_failed == 0 && tu_passed > 0 ? 0 : 1;
}

#endif
