/* [context NAME]: static local contexts of exten => PATTERN lines. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dundid/conf_values.h"
#include "load.h"

struct local_context *context_add(struct loader *ld, const char *cname, int line)
{
    struct config *c = ld->c;
    char at[4200];
    if (!*cname || strlen(cname) >= CONF_NAME_MAX) {
        ERR(ld, line, "context '%.80s': the name must be 1..%d characters", cname, CONF_NAME_MAX - 1);
        return NULL;
    }
    const struct local_context *dup = config_find_context(c, cname);
    if (dup) {
        ERR(ld, line, "context '%s' is already defined at %s", cname, conf_at(&c->src, line, dup->line, at, sizeof(at)));
        return NULL;
    }
    struct local_context *lc = conf_grow(c->contexts, c->ncontexts, sizeof(*lc));
    if (!lc)
        return NULL;
    c->contexts = lc;
    lc = &c->contexts[c->ncontexts];
    snprintf(lc->name, sizeof(lc->name), "%s", cname);
    lc->line = line;
    ld->idx = c->ncontexts++;
    return lc;
}

void context_section(struct loader *ld, const char *cname, int line)
{
    while (isspace((unsigned char)*cname))
        cname++;
    ld->kind = SEC_SKIP;
    if (!*cname || strlen(cname) >= CONF_NAME_MAX) {
        ERR(ld, line, "[context NAME]: the name must be 1..%d characters", CONF_NAME_MAX - 1);
        return;
    }
    if (context_add(ld, cname, line))
        ld->kind = SEC_CONTEXT;
}

bool context_pattern(struct loader *ld, struct pattern **v, size_t *n, const char *text, int line)
{
    char err[128];
    struct pattern *pv = conf_grow(*v, *n, sizeof(**v));
    if (!pv)
        return false;
    *v = pv;
    if (pattern_compile(&pv[*n], text, err, sizeof(err)) < 0) {
        ERR(ld, line, "bad pattern '%s': %s", text, err);
        return false;
    }
    (*n)++;
    return true;
}

static bool add_pattern(struct loader *ld, struct pattern **v, size_t *n, const char *text, int line)
{
    char buf[256], *rest = buf;
    conf_copy(buf, sizeof(buf), text);
    /* Accept both "exten => 1001" and extensions.conf's "exten => 1001,1,NoOp()". */
    char *pat = conf_field(&rest);
    return context_pattern(ld, v, n, pat ? pat : "", line);
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

static int exten_order(const void *a, const void *b) { return pattern_order(a, b); }

/* An early-only pattern that also has a priority 1 is an ordinary one. */
static void drop_answering(struct local_context *lc)
{
    size_t k = 0;
    for (size_t i = 0; i < lc->nearly; i++) {
        bool answers = false;
        for (size_t j = 0; j < lc->nexten && !answers; j++)
            answers = !pattern_order(&lc->early[i], &lc->exten[j]);
        if (!answers)
            lc->early[k++] = lc->early[i];
    }
    lc->nearly = k;
}

void contexts_finish(struct loader *ld)
{
    /* Asterisk keeps a context's extensions sorted; MATCHMORE depends on it. */
    for (size_t i = 0; i < ld->c->ncontexts; i++) {
        struct local_context *lc = &ld->c->contexts[i];
        drop_answering(lc);
        if (lc->nexten > 1)
            qsort(lc->exten, lc->nexten, sizeof(*lc->exten), exten_order);
        if (lc->nearly > 1)
            qsort(lc->early, lc->nearly, sizeof(*lc->early), exten_order);
    }
}
