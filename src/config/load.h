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
    const char *file;
    enum section_kind kind;
    size_t idx; /* peer or context index */
    bool seen_general, seen_mappings;
};

void conf_diag_add(struct config_diag *d, const char *file, bool error, int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#define ERR(ld, line, ...) conf_diag_add((ld)->d, (ld)->file, true, line, __VA_ARGS__)
#define WARN(ld, line, ...) conf_diag_add((ld)->d, (ld)->file, false, line, __VA_ARGS__)

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
void registrations_key(struct loader *ld, const char *k, const char *v, int line);
void registrations_finish(struct loader *ld);

#endif
