/* Answers from [mappings] over static [context NAME] sections. */
#include "dundid/mapping.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "dundid/clock.h"

/* ${CONTACT}: the contact URI without its scheme ("sip:1002@h:5060;ob" ->
 * "1002@h:5060;ob"), which is what a Dial(SIP/...) of the contact takes. */
static const char *strip_scheme(const char *uri)
{
    const char *colon = strchr(uri, ':'), *at = strchr(uri, '@');
    if (colon && (!at || colon < at) && colon > uri)
        return colon + 1;
    return uri;
}

static const char *var_value(const char *name, size_t len, const struct answer_vars *v, char *eidbuf)
{
    const struct reg_binding *b = v->binding;
    if (len == 7 && !strncmp(name, "CONTACT", 7))
        return b ? strip_scheme(b->contact) : "";
    if (len == 10 && !strncmp(name, "CONTACTURI", 10))
        return b ? b->contact : "";
    if (len == 9 && !strncmp(name, "REGISTRAR", 9))
        return b ? b->registrar : "";
    if (len == 6 && !strncmp(name, "NUMBER", 6))
        return v->number ? v->number : "";
    if (len == 3 && !strncmp(name, "EID", 3))
        return v->us_eid ? eid_to_str(v->us_eid, eidbuf) : "";
    if (len == 6 && !strncmp(name, "SECRET", 6))
        return v->secret ? v->secret : "";
    if (len == 6 && !strncmp(name, "IPADDR", 6))
        return v->ipaddr ? v->ipaddr : "";
    return NULL;
}

int mapping_expand(const char *tmpl, const struct answer_vars *v, char *out, size_t outlen)
{
    size_t o = 0;
    char eidbuf[EID_STR_LEN];

    if (!outlen)
        return -1;
    for (const char *p = tmpl; *p;) {
        const char *val = NULL;
        size_t vlen;
        if (p[0] == '$' && p[1] == '{') {
            const char *end = strchr(p + 2, '}');
            long off, len;
            size_t start;
            if (!end)
                return -1;
            size_t nlen = var_split(p + 2, (size_t)(end - p - 2), &off, &len);
            if (!(val = var_value(p + 2, nlen, v, eidbuf)))
                return -1;
            vlen = var_substring(strlen(val), off, len, &start);
            val += start;
            p = end + 1;
        } else {
            val = p++;
            vlen = 1;
        }
        if (o + vlen >= outlen)
            return -1;
        memcpy(out + o, val, vlen);
        o += vlen;
    }
    out[o] = '\0';
    return (int)o;
}

struct when {
    bool have;
    struct tm tm; /* local time, read once per search when an include has a condition */
};

static bool include_applies(const struct dp_timing *t, struct when *w)
{
    if (t->always)
        return true;
    if (!w->have) {
        time_t now = (time_t)clock_wall_s();
        if (!localtime_r(&now, &w->tm))
            memset(&w->tm, 0, sizeof(w->tm));
        w->have = true;
    }
    return dp_timing_match(t, &w->tm);
}

/* One search of Asterisk's pbx_find_extension (want: PM_EXISTS, PM_CANMATCH
 * or PM_MATCHMORE) over lc and the contexts it includes, depth-first in
 * include order, each context once, at most CONTEXT_MAX_STACK of them.
 * lc->exten is in Asterisk's order (pattern_order), and for MATCHMORE the
 * first extension that matches at all decides: a '!' pattern whose fixed
 * part is matched (Asterisk's "early match") means nothing more from this
 * context, nor from the contexts it includes, even when it has no priority 1
 * (lc->early). */
static bool find(const struct config *c, const struct local_context *lc, const char *number, unsigned want,
                 const struct local_context **seen, size_t *nseen, struct when *w)
{
    for (size_t i = 0; i < *nseen; i++)
        if (seen[i] == lc)
            return false;
    if (*nseen >= CONTEXT_MAX_STACK)
        return false;
    size_t e = 0; /* lc->early before exten[i] in Asterisk's order are tried first */
    for (size_t i = 0; i <= lc->nexten; i++) {
        for (; want == PM_MATCHMORE && e < lc->nearly &&
               (i == lc->nexten || pattern_order(&lc->early[e], &lc->exten[i]) < 0);
             e++)
            if (pattern_match(&lc->early[e], number) & PM_EXISTS)
                return false;
        if (i == lc->nexten)
            break;
        unsigned r = pattern_match(&lc->exten[i], number);
        if (want == PM_MATCHMORE && lc->exten[i].tail == '!' && (r & PM_EXISTS))
            return false;
        if (r & want)
            return true;
    }
    seen[(*nseen)++] = lc;
    for (size_t i = 0; i < lc->ninclude; i++)
        if (lc->include[i] >= 0 && (size_t)lc->include[i] < c->ncontexts &&
            include_applies(&lc->include_when[i], w) &&
            find(c, &c->contexts[lc->include[i]], number, want, seen, nseen, w))
            return true;
    return false;
}

static bool search(const struct config *c, const struct local_context *lc, const char *number, unsigned want)
{
    const struct local_context *seen[CONTEXT_MAX_STACK];
    size_t n = 0;
    struct when w = {0};
    return find(c, lc, number, want, seen, &n, &w);
}

uint16_t context_flags(const struct config *c, const struct local_context *lc, const char *number)
{
    uint16_t flags = 0;
    if (search(c, lc, number, PM_EXISTS))
        flags |= DUNDI_FLAG_EXISTS;
    if (search(c, lc, number, PM_CANMATCH))
        flags |= DUNDI_FLAG_CANMATCH;
    if (search(c, lc, number, PM_MATCHMORE))
        flags |= DUNDI_FLAG_MATCHMORE;
    /* Asterisk's ast_ignore_pattern: the context itself, not its includes. */
    for (size_t i = 0; i < lc->nignorepat; i++)
        if (pattern_match(&lc->ignorepat[i], number) & PM_EXISTS) {
            flags |= DUNDI_FLAG_IGNOREPAT;
            break;
        }
    return flags;
}

/* Shortest prefix of number that nothing in lc can match (DONT_ASK hint). */
static size_t dont_ask_prefix(const struct config *c, const struct local_context *lc, const char *number)
{
    char prefix[DUNDI_MAX_NUMBER + 1];
    size_t n = strlen(number);
    for (size_t len = 1; len <= n && len <= DUNDI_MAX_NUMBER; len++) {
        memcpy(prefix, number, len);
        prefix[len] = '\0';
        if (!search(c, lc, prefix, PM_CANMATCH))
            return len;
    }
    return 0;
}

static int eval_weight(const struct mapping *m, const struct answer_vars *v)
{
    char buf[64], *end;
    if (!m->weight_expr[0])
        return m->weight;
    if (mapping_expand(m->weight_expr, v, buf, sizeof(buf)) < 0)
        return 59999;
    long w = strtol(buf, &end, 10);
    /* Anything but an integer in range weighs 59999; Asterisk's own
     * dundi.conf (-A) reads the leading integer, as pbx_dundi does. */
    return (end == buf || (*end && !m->asterisk) || w < 0 || w > 59999) ? 59999 : (int)w;
}

/* The next ANSWER slot filled for mapping m (not yet counted in out->n), or
 * NULL when there is no room or the destination does not fit (counted). */
static struct dundi_answer *build_answer(const struct config *c, const struct mapping *m, uint16_t flags,
                                         const struct answer_vars *v, struct local_result *out)
{
    if (out->n >= DUNDI_MAX_ANSWERS) {
        out->dropped++;
        return NULL;
    }
    struct dundi_answer *a = &out->answers[out->n];
    a->eid = *v->us_eid;
    a->proto = (uint8_t)m->proto;
    a->flags = (uint16_t)(flags | (m->options & 0xffffu));
    /* Partial answers: the weight is evaluated without the variables (8.2). */
    static const struct answer_vars no_vars;
    struct answer_vars av = *v;
    if (m->asterisk && c->has_ipaddr_asterisk)
        av.ipaddr = c->ipaddr_asterisk; /* pbx_dundi's ${IPADDR} for Asterisk's own mappings */
    a->weight = (uint16_t)eval_weight(m, (flags & DUNDI_FLAG_EXISTS) ? &av : &no_vars);
    a->dest[0] = '\0';
    if ((flags & DUNDI_FLAG_EXISTS) && mapping_expand(m->dest, &av, a->dest, sizeof(a->dest)) < 0) {
        out->dropped++; /* longer than an ANSWER can carry */
        return NULL;
    }
    return a;
}

/* A DONT_ASK prefix of len characters, if longer than the one so far. */
static void widen_hint(struct local_result *out, const char *number, size_t len)
{
    if (len > strlen(out->hint_data)) {
        memcpy(out->hint_data, number, len);
        out->hint_data[len] = '\0';
    }
}

static bool same_answer(const struct dundi_answer *a, const struct dundi_answer *b)
{
    return a->proto == b->proto && a->flags == b->flags && !strcmp(a->dest, b->dest);
}

/* One answer per live binding of the number (identical destinations once). */
static void registration_answers(const struct config *c, const struct mapping *m, const struct answer_vars *v, struct local_result *out)
{
    struct reg_binding binds[DUNDI_MAX_ANSWERS];
    size_t nb = regtable_get(v->regs, v->number, v->now, binds, DUNDI_MAX_ANSWERS);

    out->consulted_regs = true;
    /* Like a dialplan context holding one exact extension per registered
     * phone: the number, or one that extends it, is there (no DONT_ASK)... */
    if (nb || regtable_may_extend(v->regs, v->number))
        out->hint_flags &= (uint16_t)~DUNDI_HINT_DONT_ASK;
    else if (out->hint_flags & DUNDI_HINT_DONT_ASK) {
        /* ...or the shortest prefix that nothing registered starts with. */
        char prefix[DUNDI_MAX_NUMBER + 1];
        size_t n = strlen(v->number), len = 1;
        for (; len < n && len <= DUNDI_MAX_NUMBER; len++) {
            memcpy(prefix, v->number, len);
            prefix[len] = '\0';
            if (!regtable_has(v->regs, prefix, v->now) && !regtable_may_extend(v->regs, prefix))
                break;
        }
        if (len <= DUNDI_MAX_NUMBER)
            widen_hint(out, v->number, len);
    }
    for (size_t i = 0; i < nb; i++) {
        struct answer_vars bv = *v;
        bv.binding = &binds[i];
        struct dundi_answer *a = build_answer(c, m, DUNDI_FLAG_EXISTS, &bv, out);
        if (!a)
            continue;
        bool dup = false;
        for (unsigned j = 0; j < out->n && !dup; j++)
            dup = same_answer(&out->answers[j], a);
        int64_t left = binds[i].expires - v->now;
        if (left < out->expiration)
            out->expiration = (int)left;
        if (!dup)
            out->n++;
    }
}

void mapping_answer(const struct config *c, const char *dcontext, const struct answer_vars *v,
                    struct local_result *out)
{
    out->n = 0;
    out->dropped = 0;
    out->expiration = INT_MAX;
    out->consulted_regs = false;
    out->hint_flags = DUNDI_HINT_DONT_ASK | DUNDI_HINT_UNAFFECTED;
    out->hint_data[0] = '\0';

    for (size_t i = c->nmaps; i-- > 0;) {
        const struct mapping *m = &c->maps[i];
        if (strcasecmp(m->dcontext, dcontext) || !m->lcontext[0])
            continue;
        if (v->regs && config_is_regcontext(c, m->lcontext))
            registration_answers(c, m, v, out);
        const struct local_context *lc = config_find_context(c, m->lcontext);
        if (!lc) {
            /* Asterisk: a context that does not exist cannot match even
             * the number's first character, which becomes the hint. */
            if (!config_is_regcontext(c, m->lcontext) && (out->hint_flags & DUNDI_HINT_DONT_ASK))
                widen_hint(out, v->number, v->number[0] ? 1 : 0);
            continue;
        }
        uint16_t flags = context_flags(c, lc, v->number);
        if (flags)
            out->hint_flags &= (uint16_t)~DUNDI_HINT_DONT_ASK;
        if (m->options & MAP_OPT_NOPARTIAL)
            flags &= (uint16_t)~(DUNDI_FLAG_MATCHMORE | DUNDI_FLAG_CANMATCH);
        if (!flags) {
            widen_hint(out, v->number, (out->hint_flags & DUNDI_HINT_DONT_ASK) ? dont_ask_prefix(c, lc, v->number) : 0);
            continue;
        }
        if (build_answer(c, m, flags, v, out))
            out->n++;
    }
    if (!(out->hint_flags & DUNDI_HINT_DONT_ASK))
        out->hint_data[0] = '\0';
}
