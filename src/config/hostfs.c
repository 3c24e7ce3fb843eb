/* conf_text's files from the host: whole files read with a size bound,
 * glob(3) for #include patterns, popen(3) for #exec (only ever called when
 * asterisk.conf allows it). */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dundid/conf_text.h"

static int read_all(int fd, FILE *f, size_t max, char **data, size_t *len, char *err, size_t errlen)
{
    size_t cap = 4096, n = 0;
    char *b = malloc(cap + 1);
    for (;;) {
        if (!b) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        if (n == cap) {
            if (cap > max) {
                free(b);
                snprintf(err, errlen, "larger than %zu bytes", max);
                return -1;
            }
            char *nb = realloc(b, cap * 2 + 1);
            if (!nb)
                free(b);
            b = nb;
            cap *= 2;
            continue;
        }
        ssize_t got = f ? (ssize_t)fread(b + n, 1, cap - n, f) : read(fd, b + n, cap - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0 || (f && got == 0 && ferror(f))) {
            snprintf(err, errlen, "cannot read: %s", strerror(errno));
            free(b);
            return -1;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    if (n > max) {
        free(b);
        snprintf(err, errlen, "larger than %zu bytes", max);
        return -1;
    }
    b[n] = '\0';
    *data = b;
    *len = n;
    return 0;
}

static int host_read(void *u, const char *path, size_t max, char **data, size_t *len, char *err, size_t errlen)
{
    (void)u;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open: %s", strerror(errno));
        return errno == ENOENT ? -2 : -1;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "not a regular file");
        close(fd);
        return -1;
    }
    int rc = read_all(fd, NULL, max, data, len, err, errlen);
    close(fd);
    return rc;
}

static int host_glob(void *u, const char *pattern, void (*each)(void *ctx, const char *path), void *ctx, char *err,
                     size_t errlen)
{
    (void)u;
    glob_t g;
    int rc = glob(pattern, GLOB_BRACE, NULL, &g);
    if (rc == GLOB_NOMATCH)
        return 0;
    if (rc) {
        snprintf(err, errlen, "%s", rc == GLOB_NOSPACE ? "out of memory" : "cannot read a folder");
        return -1;
    }
    for (size_t i = 0; i < g.gl_pathc; i++)
        each(ctx, g.gl_pathv[i]);
    int n = (int)g.gl_pathc;
    globfree(&g);
    return n;
}

static int host_exec(void *u, const char *cmd, size_t max, char **data, size_t *len, char *err, size_t errlen)
{
    (void)u;
    fflush(NULL);
    FILE *f = popen(cmd, "re");
    if (!f) {
        snprintf(err, errlen, "cannot run: %s", strerror(errno));
        return -1;
    }
    int rc = read_all(-1, f, max, data, len, err, errlen);
    int st = pclose(f);
    if (rc == 0 && st != 0) {
        free(*data);
        snprintf(err, errlen, "exited with status %d", st);
        return -1;
    }
    return rc;
}

const struct conf_fs conf_fs_host = {host_read, host_glob, host_exec, NULL};
