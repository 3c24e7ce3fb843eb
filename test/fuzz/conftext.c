/* libFuzzer target: Asterisk's file syntax with include expansion
 * (conftext.c) through an in-memory file provider. The input is up to 8
 * files separated by "\n%%\n": file 0 is /f/0.conf, the others /f/N.conf,
 * which #include, #tryinclude (with globs) and #exec (answered from memory)
 * can reach. The first byte picks lenient (an Asterisk file) and exec_ok. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dundid/conf_text.h"

#define NFILES 8

struct files {
    char name[NFILES][16];
    const uint8_t *data[NFILES];
    size_t len[NFILES];
    size_t n;
};

static int fz_read(void *u, const char *path, size_t max, char **data, size_t *len, char *err, size_t errlen)
{
    const struct files *f = u;
    for (size_t i = 0; i < f->n; i++)
        if (!strcmp(f->name[i], path)) {
            if (f->len[i] > max)
                return -1;
            *data = malloc(f->len[i] + 1);
            if (!*data)
                return -1;
            memcpy(*data, f->data[i], f->len[i]);
            (*data)[f->len[i]] = '\0';
            *len = f->len[i];
            return 0;
        }
    snprintf(err, errlen, "no such file");
    return -2;
}

/* Every file whose name starts like the pattern up to its first magic character. */
static int fz_glob(void *u, const char *pattern, void (*each)(void *, const char *), void *ctx, char *err,
                   size_t errlen)
{
    const struct files *f = u;
    size_t pre = strcspn(pattern, "*?[{");
    int n = 0;
    (void)err;
    (void)errlen;
    for (size_t i = 0; i < f->n; i++)
        if (!strncmp(f->name[i], pattern, pre)) {
            each(ctx, f->name[i]);
            n++;
        }
    return n;
}

static int fz_exec(void *u, const char *cmd, size_t max, char **data, size_t *len, char *err, size_t errlen)
{
    /* The command names a file: its text is the output. */
    char path[64];
    snprintf(path, sizeof(path), "/f/%.40s", cmd);
    return fz_read(u, path, max, data, len, err, errlen);
}

static void on_diag(void *u, int loc, bool error, const char *msg)
{
    (void)error;
    const struct conf_srcmap *m = u;
    char file[256], chain[512];
    int line;
    if (loc >= 0)
        conf_srcmap_where(m, loc, file, sizeof(file), &line, chain, sizeof(chain));
    if (!msg)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct files f = {.n = 0};
    uint8_t mode = data[0];
    const uint8_t *p = data + 1, *end = data + size;
    while (f.n < NFILES) {
        const uint8_t *sep = NULL;
        for (const uint8_t *q = p; q + 4 <= end; q++)
            if (!memcmp(q, "\n%%\n", 4)) {
                sep = q;
                break;
            }
        snprintf(f.name[f.n], sizeof(f.name[f.n]), "/f/%zu.conf", f.n);
        f.data[f.n] = p;
        f.len[f.n] = (size_t)((sep ? sep : end) - p);
        f.n++;
        if (!sep)
            break;
        p = sep + 4;
    }
    struct conf_fs fs = {fz_read, fz_glob, fz_exec, &f};
    struct conf_text_opts o = {.basedir = "/f", .lenient = mode & 1, .exec_ok = mode & 2, .must_exist = true};
    struct conf_srcmap map = {0};
    struct conf_doc doc;
    conf_text_read(&doc, &map, &fs, "/f/0.conf", &o, on_diag, &map);
    for (size_t i = 0; i < doc.n; i++) {
        char file[256], chain[512];
        int line;
        conf_srcmap_where(&map, doc.items[i].loc, file, sizeof(file), &line, chain, sizeof(chain));
        if (!doc.items[i].name || (doc.items[i].kind == CONF_KEY && !doc.items[i].value))
            __builtin_trap();
    }
    conf_doc_free(&doc);
    conf_srcmap_free(&map);
    return 0;
}
