/* libFuzzer target: the registration state file parser. The input is a
 * whole file. Parsing into a table and checking only (no table) must agree;
 * a refused file gives a line number and holds no binding of that line or
 * after; an accepted one is written back and must parse again to the same
 * bindings (abort() marks a violation). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dundid/regstate.h"
#include "dundid/regtable.h"

#define NOW 1700000000

static bool count_fn(void *ctx, const struct reg_binding *b)
{
    (void)b;
    ++*(uint64_t *)ctx;
    return true;
}

/* Every binding of the first table is in the second, field for field. */
static bool in_other(void *ctx, const struct reg_binding *b)
{
    const struct regtable *other = ctx;
    struct reg_binding got[REG_MAX_BINDINGS_LIMIT];
    size_t n = regtable_get(other, b->ext, NOW, got, REG_MAX_BINDINGS_LIMIT);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(got[i].contact, b->contact) && !strcmp(got[i].registrar, b->registrar) &&
            !strcmp(got[i].source, b->source) && !strcmp(got[i].user_agent, b->user_agent) &&
            got[i].expires == b->expires && got[i].updated == b->updated && got[i].feed == b->feed)
            return true;
    abort();
}

/* Two tables for the whole run, cleared after each input: a new table
 * allocates and clears 4 MB of prefix counters, which cost more than the
 * parse. (Cleared before returning, so that libFuzzer sees no allocation
 * outlive its input and does not rerun it looking for a leak.) */
static struct regtable *rt, *rt2;

static void one(const uint8_t *data, size_t size)
{
    /* Exact-size heap copy so ASan catches any read past the end. */
    char *buf = malloc(size ? size : 1);
    if (!buf)
        abort();
    if (size)
        memcpy(buf, data, size);
    struct regstate_result res, chk;
    int rc = regstate_parse(buf, size, rt, NOW, &res);
    int rc_chk = regstate_parse(buf, size, NULL, NOW, &chk); /* check only: the same verdict */
    free(buf);
    struct regtable_stats st;
    regtable_get_stats(rt, &st);
    if (rc != rc_chk || res.line != chk.line || strcmp(res.err, chk.err))
        abort();
    if (rc != 0) {
        /* one pass: what was before the bad line may be in the table (the
         * caller drops it), nothing of the bad line or after (a missing end
         * line is reported at the last line, which may be a binding) */
        if (rc != -1 || res.line == 0 || !res.err[0] || !memchr(res.err, '\0', sizeof(res.err)))
            abort();
        size_t before = res.line >= 2 ? res.line - 2 : 0;
        if (strstr(res.err, "no end line"))
            before = res.line - 1;
        if (res.loaded > before || st.bindings > res.loaded)
            abort();
        return;
    }
    if (res.line || st.bindings > res.loaded || st.added > res.loaded)
        abort();
    uint64_t visited = 0;
    regtable_foreach(rt, count_fn, &visited);
    if (visited != st.bindings)
        abort();

    char *out = NULL;
    size_t outlen = 0;
    FILE *f = open_memstream(&out, &outlen);
    if (!f)
        abort();
    long n = regstate_write(f, rt);
    fclose(f);
    if (n < 0 || (uint64_t)n != st.bindings)
        abort();
    struct regstate_result res2;
    if (regstate_parse(out, outlen, rt2, NOW, &res2) != 0 || res2.loaded != (size_t)n || res2.expired)
        abort();
    struct regtable_stats st2;
    regtable_get_stats(rt2, &st2);
    if (st2.bindings != st.bindings || st2.extensions != st.extensions)
        abort();
    regtable_foreach(rt, in_other, rt2);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!rt && (!(rt = regtable_new(0)) || !(rt2 = regtable_new(0))))
        abort();
    one(data, size);
    regtable_clear(rt);
    regtable_clear(rt2);
    return 0;
}
