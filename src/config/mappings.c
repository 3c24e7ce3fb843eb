/* [mappings]: DCONTEXT => LCONTEXT,WEIGHT,TECH,DEST[,OPTIONS]. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dundid/conf_values.h"
#include "dundid/template_vars.h"
#include "dundid/wire.h"
#include "load.h"

static const struct {
    const char *name;
    unsigned bits;
} map_options[] = {
    {"nounsolicited", DUNDI_FLAG_NOUNSOLICITED},
    {"nocomunsolicit", DUNDI_FLAG_NOCOMUNSOLICIT},
    {"residential", DUNDI_FLAG_RESIDENTIAL},
    {"commercial", DUNDI_FLAG_COMMERCIAL},
    {"mobile", DUNDI_FLAG_MOBILE},
    {"nopartial", MAP_OPT_NOPARTIAL},
};

/* The fields after the context; false when an error was reported. */
static bool parse_fields(struct loader *ld, struct mapping *m, const char *k, const char *v, int line)
{
    char buf[1024], *rest = buf, *f;
    conf_copy(buf, sizeof(buf), v);
    char *lctx = conf_field(&rest), *weight = conf_field(&rest), *tech = conf_field(&rest),
         *dest = conf_field(&rest);
    if (!lctx || !weight || !tech || !dest) {
        ERR(ld, line, "mapping '%s': expected 'local_context,weight,tech,destination[,options]'", k);
        return false;
    }
    if (!*lctx || !conf_copy(m->lcontext, sizeof(m->lcontext), lctx)) {
        ERR(ld, line, "mapping '%s': bad local context '%s'", k, lctx);
        return false;
    }
    char *wend;
    long lw = ld->lenient ? strtol(weight, &wend, 10) : -1;
    if (ld->lenient && wend != weight && lw >= 0 && lw <= 59999) {
        /* Asterisk reads the leading number ("10x" is 10). */
        if (*wend)
            WARN(ld, line, "mapping '%s': weight '%s' is read as %ld, as Asterisk does", k, weight, lw);
        m->weight = (int)lw;
    } else if (!strncmp(weight, "${", 2)) {
        conf_copy(m->weight_expr, sizeof(m->weight_expr), weight);
    } else if (!conf_parse_int(weight, 0, 59999, &m->weight)) {
        ERR(ld, line, "mapping '%s': weight '%s' must be 0..59999 or ${VARIABLE}", k, weight);
        return false;
    }
    if ((m->proto = dundi_proto_from_name(tech)) < 0) {
        ERR(ld, line, "mapping '%s': unknown technology '%s' (IAX2, SIP, PJSIP, H323)", k, tech);
        return false;
    }
    if (!conf_copy(m->dest, sizeof(m->dest), dest)) {
        ERR(ld, line, "mapping '%s': destination too long", k);
        return false;
    }
    while ((f = conf_field(&rest))) {
        size_t i;
        for (i = 0; i < NOPTS(map_options); i++)
            if (!strcasecmp(f, map_options[i].name)) {
                m->options |= map_options[i].bits;
                break;
            }
        if (i == NOPTS(map_options) && *f)
            WARN(ld, line, "mapping '%s': unknown option '%s' ignored", k, f);
    }
    return true;
}

void mapping_key(struct loader *ld, const char *k, const char *v, int line)
{
    struct config *c = ld->c;
    struct mapping m = {.line = line, .asterisk = ld->lenient};
    char at[4200];

    if (!conf_copy(m.dcontext, sizeof(m.dcontext), k) || !*k) {
        ERR(ld, line, "mapping: DUNDi context name must be 1..%d characters", CONF_NAME_MAX - 1);
        return;
    }
    if (*v && !parse_fields(ld, &m, k, v, line))
        return;
    /* The reference keeps one mapping per (dcontext, lcontext): the last wins. */
    for (size_t i = 0; i < c->nmaps; i++)
        if (!strcasecmp(c->maps[i].dcontext, m.dcontext) && !strcasecmp(c->maps[i].lcontext, m.lcontext)) {
            WARN(ld, line, "mapping '%s' to '%s' replaces the one at %s (as Asterisk does)", m.dcontext,
                 m.lcontext[0] ? m.lcontext : "(none)", conf_at(&c->src, line, c->maps[i].line, at, sizeof(at)));
            c->maps[i] = m;
            return;
        }
    struct mapping *mm = conf_grow(c->maps, c->nmaps, sizeof(*mm));
    if (!mm)
        return;
    c->maps = mm;
    c->maps[c->nmaps++] = m;
}

/* Every ${NAME} (or ${NAME:offset:length}) in a template must be one dundid can fill in. */
static void check_template(struct loader *ld, const struct mapping *m, const char *what, const char *tmpl)
{
    for (const char *p = strstr(tmpl, "${"); p; p = strstr(p + 2, "${")) {
        const char *end = strchr(p + 2, '}');
        if (!end) {
            ERR(ld, m->line, "mapping '%s': unterminated ${ in %s", m->dcontext, what);
            return;
        }
        long off, len;
        size_t nlen = var_split(p + 2, (size_t)(end - p - 2), &off, &len);
        if (!mapping_var_known(p + 2, nlen))
            ERR(ld, m->line,
                "mapping '%s': unknown variable ${%.*s} in %s (known: NUMBER, EID, SECRET, IPADDR, CONTACT, "
                "CONTACTURI, REGISTRAR)",
                m->dcontext, (int)nlen, p + 2, what);
    }
}

void mappings_finish(struct loader *ld)
{
    struct config *c = ld->c;
    for (size_t i = 0; i < c->nmaps; i++) {
        struct mapping *m = &c->maps[i];
        bool known = !m->lcontext[0] || config_find_context(c, m->lcontext) || config_is_regcontext(c, m->lcontext);
        ld->lenient = m->asterisk;
        if (!known && m->asterisk)
            WARN(ld, m->line,
                 "mapping '%s': context '%s' is not in extensions.conf: Asterisk answers nothing from it, nor does dundid",
                 m->dcontext, m->lcontext);
        else if (!known)
            ERR(ld, m->line, "mapping '%s': unknown local context '%s' (define it as [context %s])", m->dcontext,
                m->lcontext, m->lcontext);
        check_template(ld, m, "destination", m->dest);
        check_template(ld, m, "weight", m->weight_expr);
        ld->lenient = false;
    }
}
