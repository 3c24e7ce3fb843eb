/* What the operator's tools read and switch (include/dundid/server.h):
 * src/ops/ reaches the server only through these. */
#include <stdlib.h>
#include <string.h>

#include "dundid/clock.h"
#include "dundid/server_impl.h"

struct server *server_alloc(void) { return calloc(1, sizeof(struct server)); }
void server_destroy(struct server *s) { free(s); }

const struct config *server_conf(const struct server *s) { return s->conf; }
struct event_base *server_base(const struct server *s) { return s->base; }
struct cache *server_cache(const struct server *s) { return s->cache; }
const struct regtable *server_regtable(const struct server *s) { return s->regtable; }
struct realtime *server_realtime(const struct server *s) { return s->realtime; }
const struct server_stats *server_stats(const struct server *s) { return &s->stats; }
const struct lookup_latency *server_lookup_latency(const struct server *s) { return &s->lookup_latency; }
const struct trans_engine *server_engine(const struct server *s) { return s->eng; }

void server_flush_stats(struct server *s)
{
    memset(&s->stats, 0, sizeof(s->stats));
    memset(&s->lookup_latency, 0, sizeof(s->lookup_latency));
    memset(&s->eng->stats, 0, sizeof(s->eng->stats));
    for (struct peer_state *ps = s->peers.states; ps; ps = ps->next)
        memset(ps->history, 0, sizeof(ps->history));
}

const char *server_secret(struct server *s)
{
    secret_refresh(&s->secret, clock_wall_s());
    return s->secret.current;
}

void server_debug_all(struct server *s, bool on)
{
    s->debug_all = on;
    if (!on)
        s->ndebug = 0;
}

bool server_debugging_all(const struct server *s) { return s->debug_all; }

bool server_debugging_peer(const struct server *s, const eid_t *eid)
{
    for (unsigned i = 0; i < s->ndebug; i++)
        if (eid_equal(&s->debug_peers[i], eid))
            return true;
    return false;
}

unsigned server_debug_peers(const struct server *s, eid_t out[SERVER_DEBUG_PEERS])
{
    memcpy(out, s->debug_peers, s->ndebug * sizeof(*out));
    return s->ndebug;
}

bool server_debug_peer(struct server *s, const eid_t *eid, bool on)
{
    for (unsigned i = 0; i < s->ndebug; i++)
        if (eid_equal(&s->debug_peers[i], eid)) {
            if (!on)
                s->debug_peers[i] = s->debug_peers[--s->ndebug];
            return true;
        }
    if (!on)
        return true;
    if (s->ndebug >= SERVER_DEBUG_PEERS)
        return false;
    s->debug_peers[s->ndebug++] = *eid;
    return true;
}

void server_set_storehistory(struct server *s, bool on) { s->storehistory = on; }
bool server_storehistory(const struct server *s) { return s->storehistory; }

void server_set_reload(struct server *s, const char *conf_path, bool keep_loglevel,
                       int (*reload)(void *ctx, struct config_diag *diag), void *ctx)
{
    s->conf_path = conf_path;
    s->keep_loglevel = keep_loglevel;
    s->reload = reload;
    s->reload_ctx = ctx;
}

const char *server_conf_path(const struct server *s) { return s->conf_path ? s->conf_path : ""; }

int server_run_reload(struct server *s, struct config_diag *diag)
{
    return s->reload ? s->reload(s->reload_ctx, diag) : -1;
}
