/* libFuzzer target: the configuration loader. The input is written to a
 * memfd and loaded through /proc/self/fd/N; snapshot and diagnostics are
 * freed (LeakSanitizer checks nothing is lost on any path). */
#include <dlfcn.h>
#include <netdb.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dundid/config.h"

/* No DNS while fuzzing: config_load resolves host = / bindaddr = names with
 * getaddrinfo, and a mutated name sent to an unreachable or half-answering
 * resolver costs seconds per input. This definition takes precedence over
 * libc's (and the sanitizer interceptor's) for the statically linked loader:
 * literals and this machine's own name resolve as usual, any other name fails
 * at once as an unknown host would. */
int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **res)
{
    static int (*real)(const char *, const char *, const struct addrinfo *, struct addrinfo **);
    static char self[256];
    if (!real) {
        real = (int (*)(const char *, const char *, const struct addrinfo *, struct addrinfo **))dlsym(
            RTLD_NEXT, "getaddrinfo");
        if (gethostname(self, sizeof(self) - 1) != 0)
            self[0] = '\0';
        if (!real)
            return EAI_FAIL;
    }
    struct addrinfo h = {0};
    if (hints)
        h = *hints;
    if (node && strcmp(node, "localhost") != 0 && (!self[0] || strcmp(node, self) != 0))
        h.ai_flags |= AI_NUMERICHOST;
    return real(node, service, &h, res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("dundi.conf", MFD_CLOEXEC);
    if (fd < 0)
        return 0;
    size_t off = 0;
    while (off < size) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0) {
            close(fd);
            return 0;
        }
        off += (size_t)w;
    }
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

    struct config_diag diag;
    struct config *c = config_load(path, &diag);
    if (c) {
        /* Exercise the query helpers over what was loaded. */
        for (size_t i = 0; i < c->npeers; i++) {
            const struct peer_conf *p = &c->peers[i];
            (void)config_find_peer(c, &p->eid);
            (void)config_us_eid(c, p);
            (void)config_peer_autokill(c, p);
            (void)rules_allow(&p->include, "e164");
            (void)rules_allow(&p->permit, "priv");
            (void)model_name(p->model);
        }
        for (size_t i = 0; i < c->nmaps; i++)
            (void)config_has_dcontext(c, c->maps[i].dcontext);
        for (size_t i = 0; i < c->ncontexts; i++) {
            const struct local_context *lc = config_find_context(c, c->contexts[i].name);
            for (size_t j = 0; lc && j < lc->nexten; j++)
                (void)pattern_match(&lc->exten[j], "5551212");
        }
        config_free(c);
    }
    for (size_t i = 0; i < diag.n; i++)
        if (!diag.msg[i])
            __builtin_trap();
    config_diag_free(&diag);
    close(fd);
    return 0;
}
