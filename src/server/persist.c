/* State kept across restarts (include/dundid/persist.h). */
#include "dundid/persist.h"

#include <stdlib.h>
#include <string.h>

#include "dundid/cachefile.h"
#include "dundid/clock.h"
#include "dundid/log.h"
#include "dundid/peerfile.h"
#include "dundid/qualify.h"
#include "dundid/server_impl.h"
#include "dundid/statefile.h"

#define PEERS_SAVE_DELAY_MS 1000
#define CACHE_SAVE_EVERY_MS 60000 /* the whole cache, by a child process (bgsave.h) */

/* ---- dynamic peers ---- */

struct peer_list {
    struct peerfile_entry *v;
    size_t n;
};

static long write_peers(void *ctx, FILE *f)
{
    struct peer_list *l = ctx;
    return peerfile_write(f, l->v, l->n);
}

static void save_peers(struct server *s)
{
    const char *path = s->conf->peer_statefile;
    char err[256];
    if (!path[0])
        return;
    size_t n = server_registration_count(s);
    struct peer_list l = {calloc(n ? n : 1, sizeof(*l.v)), 0};
    if (!l.v)
        return;
    uint64_t now = clock_now_ms();
    int64_t wall = clock_wall_s();
    for (const struct registration *r = s->peers.regs; r && l.n < n; r = r->next) {
        int64_t left_ms = timer_armed(&r->expiry) && r->expiry.when > now ? (int64_t)(r->expiry.when - now) : 0;
        l.v[l.n++] = (struct peerfile_entry){r->eid, r->addr, wall + (left_ms + 999) / 1000};
    }
    if (statefile_save(path, write_peers, &l, err, sizeof(err)) < 0)
        log_warning("cannot write the peer state file: %s", err);
    free(l.v);
}

static void on_peers_timer(void *arg) { save_peers(arg); }

void persist_peers_changed(struct server *s)
{
    if (s->conf->peer_statefile[0] && !timer_armed(&s->persist.peers_timer))
        timerq_arm(&s->loop.tq, &s->persist.peers_timer, clock_now_ms() + PEERS_SAVE_DELAY_MS);
}

struct peer_load {
    struct server *s;
    struct peerfile_entry v[PEERFILE_MAX_ENTRIES];
    struct peerfile_result res;
};

static int parse_peers(void *ctx, const char *buf, size_t len)
{
    struct peer_load *l = ctx;
    return peerfile_parse(buf, len, clock_wall_s(), l->v, PEERFILE_MAX_ENTRIES, &l->res);
}

static void load_peers(struct server *s)
{
    const char *path = s->conf->peer_statefile;
    char err[128] = "";
    struct peer_load *l = path[0] ? calloc(1, sizeof(*l)) : NULL;
    if (!l)
        return;
    l->s = s;
    int rc = statefile_load(path, PEERFILE_MAX_BYTES, parse_peers, l, err, sizeof(err));
    if (rc < 0) {
        log_warning("peer state file %s not used: %s (line %zu)", path, l->res.err[0] ? l->res.err : err,
                    l->res.line);
        free(l);
        return;
    }
    size_t used = 0;
    int64_t wall = clock_wall_s();
    for (size_t i = 0; rc == 0 && i < l->res.n; i++) {
        const struct peerfile_entry *e = &l->v[i];
        const struct peer_conf *p = server_find_peer(s, &e->eid);
        if (p && p->wildcard && p->dynamic)
            p = server_clone_wildcard(s, &e->eid);
        if (!p || !p->dynamic)
            continue; /* no longer a dynamic peer of ours */
        /* A registration never lasts longer than the reference grants. */
        int64_t left = e->expires - wall;
        if (left > REG_EXPIRATION_S + 10)
            left = REG_EXPIRATION_S + 10;
        server_register_until(s, &e->eid, &e->addr, (uint64_t)(left > 0 ? left : 1) * 1000u);
        qualify_soon(s, &e->eid);
        used++;
    }
    if (rc == 0)
        log_notice("peer state file %s: %zu dynamic peer(s) registered again, %zu expired", path, used,
                   l->res.expired);
    free(l);
}

/* ---- the cache ---- */

struct cache_load {
    struct server *s;
    struct cachefile_result res;
};

static bool put_key(void *ctx, const struct cache_record *r)
{
    struct cache_load *l = ctx;
    /* No key lives longer than the longest EXPIRATION (a 16-bit field) allows. */
    int64_t now = clock_wall_s(), latest = now + UINT16_MAX + 10;
    return cache_restore(l->s->cache, &r->peer, r->number, r->context, r->kind, r->crc, &r->root, r->hint,
                         r->answers, r->n, r->expires < latest ? r->expires : latest, now);
}

static int parse_cache(void *ctx, const char *buf, size_t len)
{
    struct cache_load *l = ctx;
    return cachefile_parse(buf, len, clock_wall_s(), put_key, l, &l->res);
}

static void load_cache(struct server *s)
{
    const char *path = s->conf->cache_statefile;
    struct cache_load l = {s, {0}};
    char err[128] = "";
    if (!path[0])
        return;
    int rc = statefile_load(path, CACHEFILE_MAX_BYTES, parse_cache, &l, err, sizeof(err));
    if (rc < 0) {
        cache_flush(s->cache); /* never half a file */
        log_warning("cache state file %s not used: %s (line %zu)", path, l.res.err[0] ? l.res.err : err, l.res.line);
    } else if (rc == 0) {
        log_notice("cache state file %s: %zu key(s) restored, %zu expired", path, l.res.keys, l.res.expired);
    }
}

static long write_cache(void *ctx, FILE *f)
{
    struct server *s = ctx;
    struct cachefile_result res;
    return cachefile_write(f, s->cache, clock_wall_s(), &res);
}

static uint64_t cache_changes(const struct server *s)
{
    const struct cache_stats *st = cache_stats(s->cache);
    return st->saves + st->evictions + st->expired;
}

static void cache_saved(void *arg, bool ok, const char *err)
{
    (void)arg;
    if (!ok)
        log_warning("cannot write the cache state file: %s", err);
}

/* in_child: while the loop runs, the child writes the cache as it is now;
 * at stop, inline. */
static void save_cache(struct server *s, bool in_child)
{
    char err[256];
    const char *path = s->conf->cache_statefile;
    if (!path[0])
        return;
    if (in_child && s->persist.save_in_child && bgsave_running(&s->persist.cache_save))
        return; /* the next round takes what changed since */
    s->persist.cache_saved_changes = cache_changes(s);
    if (in_child && s->persist.save_in_child) {
        if (bgsave_start(&s->persist.cache_save, s->base, path, write_cache, s, cache_saved, s, err, sizeof(err)) == 0)
            return;
        log_warning("cache state file: %s; writing it on the loop", err);
    }
    bgsave_wait(&s->persist.cache_save); /* never two writers of one file */
    if (statefile_save(path, write_cache, s, err, sizeof(err)) < 0)
        log_warning("cannot write the cache state file: %s", err);
}

static void on_cache_timer(void *arg)
{
    struct server *s = arg;
    if (cache_changes(s) != s->persist.cache_saved_changes)
        save_cache(s, true);
    timerq_arm(&s->loop.tq, &s->persist.cache_timer, clock_now_ms() + CACHE_SAVE_EVERY_MS);
}

/* ---- lifecycle ---- */

void persist_start(struct server *s)
{
    timer_init(&s->persist.peers_timer, on_peers_timer, s);
    timer_init(&s->persist.cache_timer, on_cache_timer, s);
    bgsave_init(&s->persist.cache_save);
    load_peers(s);
    load_cache(s);
    s->persist.cache_saved_changes = cache_changes(s);
    timerq_arm(&s->loop.tq, &s->persist.cache_timer, clock_now_ms() + CACHE_SAVE_EVERY_MS);
    s->persist.started = true;
}

void persist_save_all(struct server *s)
{
    save_peers(s);
    save_cache(s, false);
}

void persist_stop(struct server *s)
{
    timerq_cancel(&s->loop.tq, &s->persist.peers_timer);
    timerq_cancel(&s->loop.tq, &s->persist.cache_timer);
    bgsave_wait(&s->persist.cache_save);
}
