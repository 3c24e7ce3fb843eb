/* libFuzzer target: the configuration parser (pure: no DNS, interfaces or
 * key files), reading the input from memory; snapshot and diagnostics are
 * freed (LeakSanitizer checks nothing is lost on any path). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "dundid/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* From memory: no file to create, open and close for every input. */
    FILE *f = fmemopen((void *)data, size, "r");
    if (!f)
        return 0;
    struct config_diag diag;
    struct config *c = config_parse_stream(f, "dundi.conf", &diag);
    if (c) {
        /* Exercise the query helpers over what was loaded. */
        for (size_t i = 0; i < c->npeers; i++) {
            const struct peer_conf *p = &c->peers[i];
            (void)config_find_peer(c, &p->eid);
            (void)config_us_eid(c, p);
            (void)config_peer_autokill(c, p);
            (void)rules_allow(&p->include, "e164");
            (void)rules_allow(&p->permit, "priv");
            (void)model_name(p->model);
        }
        for (size_t i = 0; i < c->nmaps; i++)
            (void)config_has_dcontext(c, c->maps[i].dcontext);
        for (size_t i = 0; i < c->ncontexts; i++) {
            const struct local_context *lc = config_find_context(c, c->contexts[i].name);
            for (size_t j = 0; lc && j < lc->nexten; j++)
                (void)pattern_match(&lc->exten[j], "5551212");
        }
        config_free(c);
    }
    for (size_t i = 0; i < diag.n; i++)
        if (!diag.msg[i])
            __builtin_trap();
    config_diag_free(&diag);
    fclose(f);
    return 0;
}
