/* "show cache", "show hints", "show precache" and "show requests". */
#include <inttypes.h>
#include <stdio.h>

#include "dundid/clock.h"
#include "dundid/ctl_cmds.h"
#include "dundid/lookup.h"
#include "dundid/precache.h"
#include "dundid/server.h"

struct cache_walk {
    struct ctl_out *o;
    unsigned n;
};

static void cache_entry(void *ctx, const struct cache_view *v)
{
    struct cache_walk *w = ctx;
    struct ctl_out *o = w->o;
    char eid[EID_STR_LEN], fl[160], key[256];
    struct dundi_answer a;
    if (v->kind != 'e' || !v->n_answers) /* as the reference: e keys, entries with answers */
        return;
    w->n++;
    if (o->json) {
        cj_obj(o, NULL);
        cj_str(o, "number", v->number);
        cj_str(o, "context", v->context);
        cj_int(o, "expires_in", v->expires_in);
        cj_str(o, "peer", eid_to_str(&v->peer, eid));
        cj_str(o, "key", cache_view_key(v, key, sizeof(key)));
        cj_arr(o, "answers");
        for (unsigned i = 0; i < v->n_answers; i++) {
            cache_view_answer(v, i, &a);
            cj_obj(o, NULL);
            cj_str(o, "eid", eid_to_str(&a.eid, eid));
            cj_int(o, "weight", a.weight);
            cj_str(o, "tech", dundi_proto_name(a.proto));
            cj_str(o, "dest", a.dest);
            cj_str(o, "flags", dundi_flags_str(a.flags, fl, sizeof(fl)));
            cj_end(o);
        }
        cj_end(o);
        cj_end(o);
        return;
    }
    cache_view_answer(v, 0, &a);
    ctl_printf(o, "%-20.20s %-12.12s %-10" PRId64 " %-18s %-7u %s/%s (%s)\n", v->number, v->context, v->expires_in,
               eid_to_str(&a.eid, eid), a.weight, dundi_proto_name(a.proto), a.dest,
               dundi_flags_str(a.flags, fl, sizeof(fl)));
}

enum ctl_status show_cache(struct ctl_call *c, int argc, char **argv)
{
    struct ctl_out *o = &c->out;
    struct cache_walk w = {o, 0};
    (void)argc;
    (void)argv;
    if (o->json) {
        cj_obj(o, NULL);
        cj_arr(o, "entries");
    } else {
        ctl_printf(o, "%-20.20s %-12.12s %-10.10s %-18s %-7s %s\n", "Number", "Context", "Expiration", "From",
                   "Weight", "Destination (Flags)");
    }
    cache_foreach(server_cache(c->s), clock_wall_s(), cache_entry, &w);
    if (o->json) {
        cj_end(o);
        cj_int(o, "count", w.n);
        cj_int(o, "keys", (long long)cache_count(server_cache(c->s)));
        cj_int(o, "max", (long long)cache_max(server_cache(c->s)));
        cj_end(o);
    } else {
        ctl_printf(o, "Number of entries: %u\n", w.n);
    }
    return CTL_DONE;
}

static void hint_entry(void *ctx, const struct cache_view *v)
{
    struct cache_walk *w = ctx;
    struct ctl_out *o = w->o;
    char eid[EID_STR_LEN];
    if (v->kind != 'e')
        return;
    w->n++;
    if (o->json) {
        cj_obj(o, NULL);
        cj_str(o, "prefix", v->number);
        cj_str(o, "context", v->context);
        cj_int(o, "expires_in", v->expires_in);
        cj_str(o, "peer", eid_to_str(&v->peer, eid));
        cj_end(o);
        return;
    }
    ctl_printf(o, "%-20.20s %-12.12s %-10" PRId64 " %s\n", v->number, v->context, v->expires_in,
               eid_to_str(&v->peer, eid));
}

enum ctl_status show_hints(struct ctl_call *c, int argc, char **argv)
{
    struct ctl_out *o = &c->out;
    struct cache_walk w = {o, 0};
    (void)argc;
    (void)argv;
    if (o->json) {
        cj_obj(o, NULL);
        cj_arr(o, "hints");
    } else {
        ctl_printf(o, "%-20.20s %-12.12s %-10.10s %s\n", "Prefix", "Context", "Expiration", "From");
    }
    cache_foreach_hint(server_cache(c->s), clock_wall_s(), hint_entry, &w);
    if (o->json) {
        cj_end(o);
        cj_int(o, "count", w.n);
        cj_end(o);
    } else {
        ctl_printf(o, "Number of entries: %u\n", w.n);
    }
    return CTL_DONE;
}

static void precache_entry(void *ctx, const char *number, const char *context, int64_t due_in_ms)
{
    struct cache_walk *w = ctx;
    struct ctl_out *o = w->o;
    int64_t sec = (due_in_ms + 999) / 1000;
    w->n++;
    if (o->json) {
        cj_obj(o, NULL);
        cj_str(o, "number", number);
        cj_str(o, "context", context);
        cj_int(o, "due_in_ms", due_in_ms);
        cj_end(o);
        return;
    }
    ctl_printf(o, "%-12.12s %-12.12s %02d:%02d:%02d\n", number, context, (int)(sec / 3600), (int)(sec / 60 % 60),
               (int)(sec % 60));
}

enum ctl_status show_precache(struct ctl_call *c, int argc, char **argv)
{
    struct ctl_out *o = &c->out;
    struct cache_walk w = {o, 0};
    (void)argc;
    (void)argv;
    if (o->json) {
        cj_obj(o, NULL);
        cj_arr(o, "precache");
    } else {
        ctl_printf(o, "%-12.12s %-12.12s %-10.10s\n", "Number", "Context", "Expiration");
    }
    precache_foreach(c->s, precache_entry, &w);
    if (o->json) {
        cj_end(o);
        cj_int(o, "count", w.n);
        cj_end(o);
    }
    return CTL_DONE;
}

static void request_entry(void *ctx, const struct lookup_view *v)
{
    struct cache_walk *w = ctx;
    struct ctl_out *o = w->o;
    char eid[EID_STR_LEN];
    w->n++;
    if (o->json) {
        cj_obj(o, NULL);
        cj_str(o, "number", v->number);
        cj_str(o, "context", v->context);
        if (v->has_root)
            cj_str(o, "root", eid_to_str(&v->root, eid));
        else
            cj_null(o, "root");
        cj_int(o, "max", v->max);
        cj_int(o, "answers", v->answers);
        cj_int(o, "asked", v->asked);
        cj_int(o, "waiting", v->waiting);
        cj_end(o);
        return;
    }
    ctl_printf(o, "%-15s %-15s %-18s %-3u %-3u\n", v->number, v->context,
               v->has_root ? eid_to_str(&v->root, eid) : "<unspecified>", v->max, v->answers);
}

enum ctl_status show_requests(struct ctl_call *c, int argc, char **argv)
{
    struct ctl_out *o = &c->out;
    struct cache_walk w = {o, 0};
    (void)argc;
    (void)argv;
    if (o->json) {
        cj_obj(o, NULL);
        cj_arr(o, "requests");
    } else {
        ctl_printf(o, "%-15s %-15s %-18s %-3.3s %-3.3s\n", "Number", "Context", "Root", "Max", "Rsp");
    }
    lookup_foreach(c->s, request_entry, &w);
    if (o->json) {
        cj_end(o);
        cj_int(o, "count", w.n);
        cj_end(o);
    }
    return CTL_DONE;
}
