/* Private to src/config/: the state of one parse and the helpers the section
 * files share. Nothing here touches the host; see probe.c for that. */
#ifndef DUNDID_CONFIG_LOAD_H
#define DUNDID_CONFIG_LOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "dundid/config.h"

enum section_kind {
    SEC_NONE,
    SEC_GENERAL,
    SEC_MAPPINGS,
    SEC_PEER,
    SEC_CONTEXT,
    SEC_REGISTRATIONS,
    SEC_REALTIME,
    SEC_REGISTRARS,
    SEC_SKIP
};

struct loader {
    struct config *c;
    struct config_diag *d;
    enum section_kind kind;
    size_t idx; /* peer or context index */
    bool seen_general, seen_mappings;
    /* Reading an Asterisk file (-A): what Asterisk accepts with a warning or
     * silently is a warning saying so; dundid's own file is strict. */
    bool lenient;
};

/* Locations ("loc") are a file index << 20 | line in c->src; a file of the
 * configuration without includes is file 0, so a loc is then its line. */
void conf_diag_add(struct config_diag *d, const struct conf_srcmap *src, bool error, int loc, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* "FILE: [warning: ]reason": about a file, not one of its lines. */
void conf_diag_file(struct config_diag *d, const char *file, bool error, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* "line N" of the same file as loc, else "FILE:N". */
const char *conf_at(const struct conf_srcmap *src, int loc, int other, char *buf, size_t len);

/* An error in dundid's file; in an Asterisk file a warning that says the
 * line is ignored, as Asterisk does. */
void conf_err(struct loader *ld, int loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#define ERR(ld, line, ...) conf_err(ld, line, __VA_ARGS__)
#define WARN(ld, line, ...) conf_diag_add((ld)->d, &(ld)->c->src, false, line, __VA_ARGS__)

/* One row per option whose value is checked the same way as others. */
enum opt_type {
    OPT_INT,  /* int in min..max: "NAME: 'V' must be MIN..MAX[ UNIT]" */
    OPT_PORT, /* uint16_t 1..65535 */
    OPT_BOOL, /* bool: yes/no */
    OPT_TEXT, /* char[max]: may be empty */
    OPT_WORD, /* char[max]: 1..max-1 characters */
};

struct opt {
    const char *name;
    enum opt_type type;
    long min, max; /* OPT_INT: the range; OPT_TEXT/OPT_WORD: max is the buffer size */
    const char *unit;
    size_t off; /* of the field in the section's struct */
};

#define NOPTS(t) (sizeof(t) / sizeof((t)[0]))

/* If k is in the table, check v and store it at base + off. Messages name
 * the option as the table spells it, text options as the file does. */
bool conf_opt_set(struct loader *ld, const struct opt *t, size_t n, void *base, const char *k, const char *v,
                  int line);

/* Make room for one more zeroed element v[n] (the capacity doubles at powers
 * of two); NULL when out of memory (v is kept). */
void *conf_grow(void *v, size_t n, size_t size);
/* The next comma-separated field of *s, trimmed; NULL after the last. */
char *conf_field(char **s);
/* A numeric address (no name lookup) with port into out. */
bool conf_numeric_addr(const char *host, uint16_t port, struct dundi_addr *out);

/* One file (and its includes) into doc, its problems into ld's diagnostics;
 * conf_text_read's result. */
int conf_read_doc(struct loader *ld, const struct conf_fs *fs, const char *path, const struct conf_text_opts *o,
                  struct conf_doc *doc);
/* Sections and keys of doc through the section handlers below. */
void conf_apply_doc(struct loader *ld, const struct conf_doc *doc);

/* An Asterisk folder (asterisk.c): asterisk.conf, then dundi.conf through
 * the handlers, then extensions.conf's contexts (extensions.c). */
void asterisk_read(struct loader *ld, const struct conf_fs *fs, const char *dir);
/* extensions.conf's contexts into ld->c, then [globals] into dundi.conf's mappings. */
void extensions_read(struct loader *ld, const struct conf_doc *doc);

/* The sections (general.c, mappings.c, peers.c, contexts.c, registrations.c). */
void general_key(struct loader *ld, const char *k, const char *v, int line);
void general_finish(struct loader *ld);
/* Once both addresses are known: bindaddr2 must be of the other family. */
void general_check_bindaddr2(struct config_diag *d, struct config *c);
void mapping_key(struct loader *ld, const char *k, const char *v, int line);
void mappings_finish(struct loader *ld);
void peer_section(struct loader *ld, const char *name, const eid_t *e, int line);
void peer_key(struct loader *ld, const char *k, const char *v, int line);
void peers_finish(struct loader *ld);
void context_section(struct loader *ld, const char *name, int line);
void context_key(struct loader *ld, const char *k, const char *v, int line);
/* Sorts every context's extensions in Asterisk's order (pattern_order). */
void contexts_finish(struct loader *ld);
/* A new context named name (1..79 characters, not defined yet); NULL after
 * an error was reported. */
struct local_context *context_add(struct loader *ld, const char *name, int line);
/* Add a pattern to v; false after an error was reported. */
bool context_pattern(struct loader *ld, struct pattern **v, size_t *n, const char *text, int line);
void registrations_key(struct loader *ld, const char *k, const char *v, int line);
void registrations_finish(struct loader *ld);

#endif
