/* "show registrations": the registration table (regtable.h). */
#include <inttypes.h>
#include <stdio.h>

#include "dundid/ctl_cmds.h"
#include "dundid/clock.h"
#include "dundid/regtable.h"
#include "dundid/server.h"

static void binding_out(struct ctl_out *o, const struct reg_binding *b, int64_t now)
{
    if (o->json) {
        cj_obj(o, NULL);
        cj_str(o, "extension", b->ext);
        cj_str(o, "contact", b->contact);
        cj_str(o, "registrar", b->registrar);
        cj_str(o, "source", b->source);
        cj_int(o, "expires_in", b->expires - now);
        cj_int(o, "updated", b->updated);
        cj_str(o, "feed", reg_feed_name(b->feed));
        cj_str(o, "user_agent", b->user_agent);
        cj_obj(o, "vouchers"); /* every feed that has it: when it last confirmed it */
        for (int f = 0; f < REG_FEED_COUNT; f++)
            if (reg_binding_vouched(b, (enum reg_feed)f))
                cj_int(o, reg_feed_name((enum reg_feed)f), b->seen[f]);
        cj_end(o);
        cj_end(o);
        return;
    }
    ctl_printf(o, "%-12.12s %-40.40s %-16.16s %-21.21s %-7" PRId64 " %-8.8s %s\n", b->ext, b->contact, b->registrar,
               b->source, b->expires - now, reg_feed_name(b->feed), b->user_agent);
}

struct reg_walk {
    struct ctl_out *o;
    int64_t now;
    unsigned n;
};

static bool binding_entry(void *ctx, const struct reg_binding *b)
{
    struct reg_walk *w = ctx;
    if (b->expires <= w->now)
        return true;
    binding_out(w->o, b, w->now);
    w->n++;
    return !w->o->full;
}

enum ctl_status show_registrations(struct ctl_call *c, int argc, char **argv)
{
    struct ctl_out *o = &c->out;
    const struct regtable *rt = server_regtable(c->s);
    struct reg_walk w = {o, clock_wall_s(), 0};
    if (!rt) {
        if (o->json) {
            cj_obj(o, NULL);
            cj_bool(o, "configured", false);
            cj_arr(o, "bindings");
            cj_end(o);
            cj_end(o);
        } else {
            ctl_printf(o, "registrations: not configured\n");
        }
        return CTL_DONE;
    }
    if (o->json) {
        cj_obj(o, NULL);
        cj_bool(o, "configured", true);
        cj_arr(o, "bindings");
    } else {
        ctl_printf(o, "%-12.12s %-40.40s %-16.16s %-21.21s %-7.7s %-8.8s %s\n", "Extension", "Contact", "Registrar",
                   "Source", "Expires", "Feed", "User-Agent");
    }
    if (argc == 1) {
        struct reg_binding b[REG_DEFAULT_MAX_BINDINGS * 8];
        size_t n = regtable_get(rt, argv[0], w.now, b, sizeof(b) / sizeof(b[0]));
        for (size_t i = 0; i < n; i++)
            binding_out(o, &b[i], w.now);
        w.n = (unsigned)n;
    } else {
        regtable_foreach(rt, binding_entry, &w);
    }
    struct regtable_stats st;
    regtable_get_stats(rt, &st);
    if (o->json) {
        cj_end(o);
        cj_int(o, "count", w.n);
        cj_int(o, "extensions", (long long)st.extensions);
        cj_int(o, "total_bindings", (long long)st.bindings);
        cj_end(o);
    } else {
        ctl_printf(o, "%u binding(s) shown; %" PRIu64 " extension(s), %" PRIu64 " binding(s) in the table\n", w.n,
                   st.extensions, st.bindings);
    }
    return CTL_DONE;
}
