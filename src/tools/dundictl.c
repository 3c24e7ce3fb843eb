/* dundictl: send one command to dundid's control socket and print the answer. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "dundid/config.h"
#include "dundid/ctl_proto.h"

#define RESPONSE_MAX (64u << 20) /* more than the daemon ever sends */

static void usage(FILE *f)
{
    fprintf(f, "usage: dundictl [-s SOCKET] [-t SECONDS] [--json] COMMAND...\n"
               "  -s SOCKET  control socket (default " DUNDID_DEFAULT_CONTROL ")\n"
               "  -t SECONDS give up after this long (default 60)\n"
               "  --json     print the answer as one JSON object\n"
               "'dundictl help' lists the commands.\n");
}

__attribute__((format(printf, 2, 3))) static int fail(int code, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "dundictl: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return code;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
    const char *path = DUNDID_DEFAULT_CONTROL;
    bool json = false;
    double timeout_s = 60;
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'}, {"socket", required_argument, NULL, 's'}, {"help", no_argument, NULL, 'h'}, {0}};
    int opt;
    /* '+': stop at the first command word, so "set debug on" needs no "--". */
    while ((opt = getopt_long(argc, argv, "+s:t:jh", longopts, NULL)) != -1) {
        switch (opt) {
        case 's': path = optarg; break;
        case 't': timeout_s = atof(optarg); break;
        case 'j': json = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind == argc || timeout_s <= 0) {
        usage(stderr);
        return 2;
    }

    char line[CTL_LINE_MAX + 2];
    size_t n = 0;
    if (json)
        n = (size_t)snprintf(line, sizeof(line), "--json");
    for (int i = optind; i < argc; i++) {
        size_t w = strlen(argv[i]);
        if (!w || strpbrk(argv[i], " \t\r\n"))
            return fail(2, "bad argument '%s': words cannot be empty or contain blanks", argv[i]);
        if (n + 1 + w + 1 > CTL_LINE_MAX + 1)
            return fail(2, "command longer than %d bytes", CTL_LINE_MAX);
        if (n)
            line[n++] = ' ';
        memcpy(line + n, argv[i], w);
        n += w;
    }
    line[n++] = '\n';

    signal(SIGPIPE, SIG_IGN);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sun.sun_path))
        return fail(2, "socket path too long: %s", path);
    strcpy(sun.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
        return fail(2, "cannot connect to %s: %s (is dundid running?)", path, strerror(errno));
    for (size_t off = 0; off < n;) {
        ssize_t w = write(fd, line + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EPIPE || errno == ECONNRESET))
            break; /* dundid closed early: its answer (an error) may be waiting */
        if (w < 0)
            return fail(2, "%s: %s", path, strerror(errno));
        off += (size_t)w;
    }

    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    long long deadline = now_ms() + (long long)(timeout_s * 1000);
    while (buf && !ctl_response_complete(buf, len)) {
        long long left = deadline - now_ms();
        struct pollfd p = {fd, POLLIN, 0};
        if (left <= 0)
            return fail(2, "no answer from dundid within %g s", timeout_s);
        int pr = poll(&p, 1, (int)(left > 1000 ? 1000 : left));
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            continue;
        if (len == cap) {
            if (cap >= RESPONSE_MAX)
                return fail(2, "answer longer than %u bytes", RESPONSE_MAX);
            cap *= 2;
            char *nb = realloc(buf, cap);
            if (!nb)
                break;
            buf = nb;
        }
        ssize_t got = read(fd, buf + len, cap - len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return fail(2, "dundid closed the connection before answering");
        len += (size_t)got;
    }
    close(fd);
    if (!buf)
        return fail(2, "out of memory");

    struct ctl_response r;
    if (ctl_parse_response(buf, len, &r) < 0)
        return fail(2, "malformed answer from dundid");
    free(buf);
    fwrite(r.out, 1, r.outlen, stdout);
    int rc = 0;
    if (!r.ok) {
        fprintf(stderr, "dundictl: %s\n", r.reason);
        rc = 1;
    }
    ctl_response_free(&r);
    return rc;
}
