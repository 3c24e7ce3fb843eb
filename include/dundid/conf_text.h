/* Asterisk's configuration file syntax, read whole before any option is
 * looked at: ';' and ';-- --;' comments, '\;', #include, #tryinclude and
 * #exec, [name](!) templates, [name](tpl,...) inheritance, [name](+)
 * additions, "key += more", and where every line came from through the
 * include chain. Files come through a provider: the host's file system
 * (conf_fs_host) or memory (the fuzzer). */
#ifndef DUNDID_CONF_TEXT_H
#define DUNDID_CONF_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONF_FILE_MAX_BYTES (8u << 20) /* one file */
#define CONF_LINE_MAX 4095             /* characters of a line after comments */
#define CONF_INCLUDE_DEPTH 10          /* Asterisk's MAX_INCLUDE_LEVEL */
#define CONF_MAX_FILES 512             /* files of one configuration */
#define CONF_MAX_ITEMS (1u << 20)      /* keys after templates are applied */
#define CONF_MAX_INHERITED 65536       /* keys copied from templates, all sections */
#define CONF_LOC_LINE_BITS 20          /* a location: file index << 20 | line */

struct conf_fs {
    /* The whole file (at most max bytes) into *data (malloc'd, NUL added).
     * 0, or -1 with a reason in err (-2: it does not exist). */
    int (*read)(void *u, const char *path, size_t max, char **data, size_t *len, char *err, size_t errlen);
    /* each(ctx, path) for the files a pattern names, in order; the count,
     * or -1 with a reason in err. */
    int (*glob)(void *u, const char *pattern, void (*each)(void *ctx, const char *path), void *ctx, char *err,
                size_t errlen);
    /* #exec: the command's standard output (at most max bytes); NULL: the
     * provider never runs anything. */
    int (*exec)(void *u, const char *cmd, size_t max, char **data, size_t *len, char *err, size_t errlen);
    void *u;
};

/* The host's file system (glob(3), popen(3) for #exec). */
extern const struct conf_fs conf_fs_host;

/* Every file read for one configuration, to name a location. */
struct conf_srcfile {
    char *path; /* as opened */
    int from;   /* location of the #include line that read it; 0 = a top file */
};

struct conf_srcmap {
    struct conf_srcfile *v;
    size_t n;
};

/* "FILE:LINE" of a location into buf, and the include chain after it
 * (" (included from A:3, from B:7)") into chain. */
void conf_srcmap_where(const struct conf_srcmap *m, int loc, char *file, size_t filelen, int *line, char *chain,
                       size_t chainlen);
void conf_srcmap_free(struct conf_srcmap *m);

enum conf_item_kind { CONF_SECTION, CONF_KEY };

struct conf_item {
    enum conf_item_kind kind;
    int loc;
    const char *name;  /* section name or key */
    const char *value; /* keys only ("=>" and "=" alike) */
};

/* One file (and what it includes) as sections and keys, templates applied,
 * template sections ([name](!)) left out. */
struct conf_doc {
    struct conf_item *items;
    size_t n;
    char *text; /* the strings */
};

struct conf_text_opts {
    const char *basedir; /* relative #include names: Asterisk's astetcdir */
    bool lenient;        /* an Asterisk file: what Asterisk skips is a warning */
    bool exec_ok;        /* asterisk.conf [options] execincludes = yes */
    bool must_exist;     /* a missing top file is an error (else: an empty doc, result 1) */
};

/* Called for every problem: error (the file is refused) or warning. */
typedef void (*conf_text_diag_fn)(void *u, int loc, bool error, const char *msg);

/* Read path through fs into doc, recording files in map. Returns 0, 1 when
 * the file does not exist and need not, -1 when it was refused (diag told
 * why). doc is always left valid to free. */
int conf_text_read(struct conf_doc *doc, struct conf_srcmap *map, const struct conf_fs *fs, const char *path,
                   const struct conf_text_opts *o, conf_text_diag_fn diag, void *u);
void conf_doc_free(struct conf_doc *doc);

/* p without its leading and trailing blanks (the end is cut in place). */
char *conf_trim(char *p);

#endif
