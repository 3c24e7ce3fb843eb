/* [context NAME]: static local contexts of exten => PATTERN lines. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dundid/conf_values.h"
#include "load.h"

void context_section(struct loader *ld, const char *cname, int line)
{
    struct config *c = ld->c;
    while (isspace((unsigned char)*cname))
        cname++;
    ld->kind = SEC_SKIP;
    if (!*cname || strlen(cname) >= CONF_NAME_MAX) {
        ERR(ld, line, "[context NAME]: the name must be 1..%d characters", CONF_NAME_MAX - 1);
        return;
    }
    const struct local_context *dup = config_find_context(c, cname);
    if (dup) {
        ERR(ld, line, "context '%s' is already defined at line %d", cname, dup->line);
        return;
    }
    struct local_context *lc = conf_grow(c->contexts, c->ncontexts, sizeof(*lc));
    if (!lc)
        return;
    c->contexts = lc;
    lc = &c->contexts[c->ncontexts];
    snprintf(lc->name, sizeof(lc->name), "%s", cname);
    lc->line = line;
    ld->idx = c->ncontexts++;
    ld->kind = SEC_CONTEXT;
}

static bool add_pattern(struct loader *ld, struct pattern **v, size_t *n, const char *text, int line)
{
    char buf[256], err[128], *rest = buf;
    conf_copy(buf, sizeof(buf), text);
    /* Accept both "exten => 1001" and extensions.conf's "exten => 1001,1,NoOp()". */
    char *pat = conf_field(&rest);
    struct pattern *pv = conf_grow(*v, *n, sizeof(**v));
    if (!pv)
        return false;
    *v = pv;
    if (pattern_compile(&pv[*n], pat ? pat : "", err, sizeof(err)) < 0) {
        ERR(ld, line, "bad pattern '%s': %s", pat ? pat : "", err);
        return false;
    }
    (*n)++;
    return true;
}

void context_key(struct loader *ld, const char *k, const char *v, int line)
{
    struct local_context *lc = &ld->c->contexts[ld->idx];
    if (!strcasecmp(k, "exten"))
        add_pattern(ld, &lc->exten, &lc->nexten, v, line);
    else if (!strcasecmp(k, "ignorepat"))
        add_pattern(ld, &lc->ignorepat, &lc->nignorepat, v, line);
    else if (!strcasecmp(k, "same"))
        ; /* extensions.conf continuation: no new extension */
    else
        ERR(ld, line, "unknown key '%s' in a context (expected exten or ignorepat)", k);
}
