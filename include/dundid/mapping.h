/* Local answers: evaluate [mappings] against static contexts (protocol 8.4),
 * with ${VARIABLE} templates in destinations and weights. Pure. */
#ifndef DUNDID_MAPPING_H
#define DUNDID_MAPPING_H

#include <stddef.h>
#include <stdint.h>

#include "dundid/config.h"
#include "dundid/regtable.h"
#include "dundid/template_vars.h"
#include "dundid/wire.h"

struct answer_vars {
    const char *number;
    const eid_t *us_eid; /* the EID we present to the requester */
    const char *secret;  /* current rotating ${SECRET} */
    const char *ipaddr;
    /* The registration table behind the regcontext (NULL: none), read at now
     * (epoch seconds). */
    const struct regtable *regs;
    int64_t now;
    /* ${CONTACT}, ${CONTACTURI}, ${REGISTRAR}: set per binding while answering. */
    const struct reg_binding *binding;
};

struct local_result {
    unsigned n;
    struct dundi_answer answers[DUNDI_MAX_ANSWERS];
    uint16_t hint_flags; /* starts DONT_ASK | UNAFFECTED */
    char hint_data[DUNDI_MAX_NUMBER + 1];
    unsigned dropped; /* answers whose destination did not fit an ANSWER IE */
    /* Lowest EXPIRATION the answers allow: seconds until the first binding
     * expires, INT_MAX when nothing limits it. */
    int expiration;
    bool consulted_regs; /* a regcontext mapping was evaluated */
};

/* Expand ${VAR} and ${VAR:offset:length} in tmpl. Returns the length, or -1 if it does not fit outlen
 * (including the NUL) or names an unknown variable. */
int mapping_expand(const char *tmpl, const struct answer_vars *v, char *out, size_t outlen);
/* Wire flags (EXISTS/CANMATCH/MATCHMORE/IGNOREPAT) of number in a context. */
uint16_t context_flags(const struct config *c, const struct local_context *lc, const char *number);
/* Every mapping of dcontext, in the reference's order (last line first). */
void mapping_answer(const struct config *c, const char *dcontext, const struct answer_vars *v,
                    struct local_result *out);

#endif
