/* libFuzzer target: an extensions.conf read as answer sources (-A:
 * extensions.c, with [globals] into dundi.conf's mappings), then every
 * context searched as pbx_dundi would (includes, '!', ignorepat, Asterisk's
 * extension order) and every mapping answered (${VAR:offset:length} from
 * the input's [globals] and the number). The input is extensions.conf; asterisk.conf and
 * dundi.conf are fixed, with mappings to contexts the input may define. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dundid/config.h"
#include "dundid/mapping.h"

static const char dundi_conf[] = "[general]\nentityid = 02:00:00:00:00:01\n[mappings]\n"
                                 "e164 => a,${W},IAX2,x:${SECRET}@${IPADDR}/${NUMBER}${G}\n"
                                 "e164 => b,10,SIP,${NUMBER}@h,nopartial\n"
                                 "priv => default,${SHELL(x)},SIP,y\n"
                                 "priv => a,${NUMBER:-3:2}${G:1},SIP,${NUMBER:1:-1}/${H:-2}/${I}\n"
                                 "priv => b,${G},SIP,${NUMBER:99:-99}\n";

struct input {
    const uint8_t *data;
    size_t len;
};

static int fz_read(void *u, const char *path, size_t max, char **data, size_t *len, char *err, size_t errlen)
{
    const struct input *in = u;
    const char *text = NULL;
    size_t n = 0;
    if (!strcmp(path, "/a/dundi.conf")) {
        text = dundi_conf;
        n = sizeof(dundi_conf) - 1;
    } else if (!strcmp(path, "/a/extensions.conf")) {
        text = (const char *)in->data;
        n = in->len;
    } else {
        snprintf(err, errlen, "no such file");
        return -2;
    }
    if (n > max || !(*data = malloc(n + 1)))
        return -1;
    memcpy(*data, text, n);
    (*data)[n] = '\0';
    *len = n;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = {data, size};
    struct conf_fs fs = {fz_read, NULL, NULL, &in};
    struct config_diag diag;
    struct config *c = config_parse_src(&(struct config_src){.astdir = "/a", .fs = &fs}, &diag);
    if (c) {
        static const char *const numbers[] = {"", "1", "100", "5551212", "4", "412", "s", "i", "_X."};
        for (size_t i = 0; i < c->ncontexts && i < 64; i++)
            for (size_t j = 0; j < sizeof(numbers) / sizeof(numbers[0]); j++)
                (void)context_flags(c, &c->contexts[i], numbers[j]);
        eid_t us = c->eid;
        struct answer_vars v = {.number = "5551212", .us_eid = &us, .secret = "s", .ipaddr = "192.0.2.1"};
        struct local_result out;
        mapping_answer(c, "e164", &v, &out);
        mapping_answer(c, "priv", &v, &out);
        for (unsigned i = 0; i < out.n; i++)
            if (out.answers[i].weight > 59999)
                abort();
        /* Asterisk's extension order must be a consistent one (qsort needs it). */
        for (size_t i = 0; i < c->ncontexts && i < 8; i++) {
            const struct local_context *lc = &c->contexts[i];
            for (size_t j = 0; j + 1 < lc->nexten && j < 64; j++)
                if (pattern_order(&lc->exten[j], &lc->exten[j + 1]) > 0 ||
                    pattern_order(&lc->exten[j + 1], &lc->exten[j]) < 0)
                    abort();
        }
        config_free(c);
    }
    config_diag_free(&diag);
    return 0;
}
