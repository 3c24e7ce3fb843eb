/* Precache pushes (protocol 7.5): a queue of (number, context) due times,
 * one PRECACHERQ transaction per peer and push, and the receiving side's
 * cache writes. */
#include "dundid/precache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dundid/clock.h"
#include "dundid/hash.h"
#include "dundid/log.h"
#include "dundid/mapping.h"
#include "dundid/outreq.h"
#include "dundid/server_impl.h"

#define PRECACHE_BATCH 256    /* pushes per turn of the loop, so a long queue never stalls it */
#define PRECACHE_BUCKETS 4096 /* hash buckets of the queue; chains grow beyond */
#define PRECACHE_BACKOFF_MS 100

/* A push waiting for its time: found by (number, context) so a number is
 * queued once, woken by its own timer, then pushed from the ready list in
 * batches. */
struct precache_item {
    struct server *s;
    struct precache_item *next_hash, *next_ready;
    struct timer due;
    bool ready;
    bool withdraw; /* push even without answers (a registration went away) */
    char number[DUNDI_MAX_NUMBER + 1];
    char context[DUNDI_MAX_NUMBER + 1];
};

static bool queue_registered(void *ctx, const struct reg_binding *b);

static unsigned bucket_of(const char *number, const char *context)
{
    uint32_t h = fnv1a32(FNV32_BASIS, number, strlen(number)); /* contexts compare without case */
    h = fnv1a32_byte(h, '@');
    return fnv1a32_lower(h, context, strlen(context)) % PRECACHE_BUCKETS;
}

static void arm_batch(struct server *s, uint64_t when)
{
    if (!timer_armed(&s->precache_timer) || s->precache_timer.when > when)
        timerq_arm(&s->loop.tq, &s->precache_timer, when);
}

static void make_ready(struct precache_item *it)
{
    struct server *s = it->s;
    it->ready = true;
    it->next_ready = NULL;
    if (s->precache_ready_tail)
        s->precache_ready_tail->next_ready = it;
    else
        s->precache_ready = it;
    s->precache_ready_tail = it;
    arm_batch(s, clock_now_ms());
}

static void item_due(void *arg) { make_ready(arg); }

/* Queue number@context for due_ms; one already queued keeps the earlier time.
 * Due now: pushed on the next turn of the loop, so a burst of changes (a
 * state file, a pcap replay) goes out in batches. */
static void enqueue(struct server *s, const char *number, const char *context, uint64_t due_ms, bool withdraw)
{
    if (!s->precache_hash && !(s->precache_hash = calloc(PRECACHE_BUCKETS, sizeof(*s->precache_hash)))) {
        log_warning("precache: out of memory, %s@%s not queued", number, context);
        return;
    }
    struct precache_item **head = &s->precache_hash[bucket_of(number, context)];
    struct precache_item *it = *head;
    while (it && (strcmp(it->number, number) || strcasecmp(it->context, context)))
        it = it->next_hash;
    if (!it) {
        if (!(it = calloc(1, sizeof(*it)))) {
            log_warning("precache: out of memory, %s@%s not queued", number, context);
            return;
        }
        it->s = s;
        snprintf(it->number, sizeof(it->number), "%s", number);
        snprintf(it->context, sizeof(it->context), "%s", context);
        timer_init(&it->due, item_due, it);
        it->next_hash = *head;
        *head = it;
    } else if (it->ready || (timer_armed(&it->due) && it->due.when <= due_ms)) {
        it->withdraw |= withdraw;
        return;
    }
    it->withdraw |= withdraw;
    if (due_ms <= clock_now_ms()) {
        timerq_cancel(&s->loop.tq, &it->due);
        make_ready(it);
    } else {
        timerq_arm(&s->loop.tq, &it->due, due_ms);
    }
}

static void unhash(struct server *s, struct precache_item *it)
{
    for (struct precache_item **pp = &s->precache_hash[bucket_of(it->number, it->context)]; *pp;
         pp = &(*pp)->next_hash)
        if (*pp == it) {
            *pp = it->next_hash;
            return;
        }
}

static void push_batch(void *arg)
{
    struct server *s = arg;
    /* Leave room for lookups: pushes wait while half the transactions are in use. */
    for (unsigned n = 0; n < PRECACHE_BATCH && s->precache_ready; n++) {
        if (s->eng->count >= s->eng->max / 2) {
            arm_batch(s, clock_now_ms() + PRECACHE_BACKOFF_MS);
            return;
        }
        struct precache_item *it = s->precache_ready;
        s->precache_ready = it->next_ready;
        if (!s->precache_ready)
            s->precache_ready_tail = NULL;
        unhash(s, it); /* before pushing: a push queues its repetition anew */
        precache_push_context(s, it->number, it->context, s->conf->ttl, NULL, 0, it->withdraw);
        free(it);
    }
    if (s->precache_ready) /* one more batch after the loop has looked at the sockets */
        arm_batch(s, clock_now_ms() + 1);
}

/* ---- the request of one push ---- */

static void push_reply(void *ctx, struct outreq *r, const struct dundi_ies *ie)
{
    char eid[EID_STR_LEN];
    (void)ctx;
    if (ie->cause > 0)
        log_info("precache to peer %s refused: %s", eid_to_str(outreq_peer(r), eid),
                 ie->cause_text[0] ? ie->cause_text : "(no reason)");
}

static const struct outreq_ops push_ops = {push_reply, NULL};

/* ---- pushing ---- */

static bool avoided(const eid_t *avoid, unsigned navoid, const eid_t *e)
{
    for (unsigned i = 0; i < navoid; i++)
        if (eid_equal(&avoid[i], e))
            return true;
    return false;
}

static void build_push(struct dundi_ieb *b, const eid_t *us, const eid_t *avoid, unsigned navoid, const char *number,
                       const char *context, int ttl, const struct local_result *lr, int expiration)
{
    dundi_ieb_init(b, 0);
    dundi_ie_put_u16(b, DUNDI_IE_VERSION, 1);
    if (!eid_is_zero(us))
        dundi_ie_put_eid(b, DUNDI_IE_EID, us);
    for (unsigned i = 0; i < navoid; i++) /* plain EIDs in pushes (4.2) */
        dundi_ie_put_eid(b, DUNDI_IE_EID, &avoid[i]);
    dundi_ie_put_str(b, DUNDI_IE_CALLED_NUMBER, number);
    dundi_ie_put_str(b, DUNDI_IE_CALLED_CONTEXT, context);
    dundi_ie_put_u16(b, DUNDI_IE_TTL, (uint16_t)ttl);
    for (unsigned i = 0; i < lr->n; i++)
        dundi_ie_put_answer(b, &lr->answers[i]);
    /* A push's hint starts empty (7.5), never DONT_ASK or UNAFFECTED. */
    dundi_ie_put_hint(b, 0, "");
    dundi_ie_put_u16(b, DUNDI_IE_EXPIRATION, (uint16_t)expiration);
}

static bool send_push(struct server *s, const struct peer_conf *p, const struct dundi_ieb *b, int ttl)
{
    struct outreq *r = outreq_send(s, p, DUNDI_CMD_PRECACHERQ, b, &push_ops, NULL);
    if (!r)
        return false;
    /* The wait of 7.5: then stop waiting for the PRECACHERP. */
    outreq_set_deadline(r, clock_now_ms() + 2000u + 200u * (unsigned)ttl);
    s->stats.precache_sent++;
    return true;
}

unsigned precache_push_context(struct server *s, const char *number, const char *context, int ttl,
                               const eid_t *avoid, unsigned navoid, bool withdraw)
{
    const struct config *c = s->conf;
    struct local_result *lr = &s->scratch->lr;
    struct dundi_ieb *b = &s->scratch->req;
    unsigned pushed = 0;

    if (ttl <= 0 || !number[0] || strlen(number) > DUNDI_MAX_NUMBER)
        return 0;
    secret_refresh(&s->secret, clock_wall_s());
    for (size_t i = 0; i < server_peer_count(s); i++) {
        const struct peer_conf *p = server_peer_at(s, i);
        const eid_t *us = config_us_eid(c, p);
        if (p->wildcard || !(p->pcmodel & MODEL_OUTBOUND) || p->order != ORDER_PRIMARY ||
            !rules_allow(&p->permit, context) || avoided(avoid, navoid, &p->eid) || avoided(avoid, navoid, us) ||
            !server_peer_addr(s, p) || !peer_usable(s, p))
            continue;
        /* Answers as this peer would get them (owner EID = our us_eid towards it). */
        struct answer_vars v = {number, us, s->secret.current, c->ipaddr, s->regtable, clock_wall_s(), NULL};
        mapping_answer(c, context, &v, lr);
        if (!lr->n && !withdraw)
            continue;
        /* As a DPRESPONSE would say: no longer than the first binding lives,
         * briefly when the registrations know nothing of the number. */
        int expiration = lr->expiration < c->cachetime ? lr->expiration : c->cachetime;
        if (lr->consulted_regs && !lr->n && c->reg.negative_cachetime < expiration)
            expiration = c->reg.negative_cachetime;
        if (expiration < 1)
            expiration = 1;
        build_push(b, us, avoid, navoid, number, context, ttl, lr, expiration);
        char eid[EID_STR_LEN];
        if (send_push(s, p, b, ttl)) {
            pushed++;
            log_debug("precache %s@%s -> peer %s: %u answer(s)", number, context, eid_to_str(&p->eid, eid), lr->n);
            if (lr->n) /* repeat before the peer's copy goes stale (7.5) */
                enqueue(s, number, context, clock_now_ms() + (uint64_t)expiration * 1000u, false);
        }
    }
    return pushed;
}

static bool any_push_peer(const struct server *s)
{
    for (size_t i = 0; i < server_peer_count(s); i++) {
        const struct peer_conf *p = server_peer_at(s, i);
        if (!p->wildcard && (p->pcmodel & MODEL_OUTBOUND))
            return true;
    }
    return false;
}

/* DUNDi contexts with a mapping to a local context; calls fn for each once. */
static void each_answering_context(const struct config *c, void (*fn)(void *ctx, const struct mapping *m), void *ctx)
{
    for (size_t i = 0; i < c->nmaps; i++) {
        const struct mapping *m = &c->maps[i];
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++)
            seen = c->maps[k].lcontext[0] && !strcasecmp(c->maps[k].dcontext, m->dcontext);
        if (m->lcontext[0] && !seen)
            fn(ctx, m);
    }
}

struct push_all {
    struct server *s;
    const char *number;
};

static void queue_one_context(void *ctx, const struct mapping *m)
{
    struct push_all *pa = ctx;
    enqueue(pa->s, pa->number, m->dcontext, clock_now_ms(), true);
}

void precache_push(struct server *s, const char *number)
{
    struct push_all pa = {s, number};
    if (number[0] && strlen(number) <= DUNDI_MAX_NUMBER && any_push_peer(s))
        each_answering_context(s->conf, queue_one_context, &pa);
}

static void on_registration_change(void *ctx, const char *ext)
{
    struct server *s = ctx;
    if (s->conf->precache_registrations)
        precache_push(s, ext);
}

static bool queue_registered(void *ctx, const struct reg_binding *b)
{
    precache_push(ctx, b->ext);
    return true;
}

void precache_watch_registrations(struct server *s)
{
    if (s->regtable)
        regtable_set_listener(s->regtable, s->conf->precache_registrations ? on_registration_change : NULL, s);
}

/* A literal extension: something a caller can dial as it is written. */
static bool literal(const struct pattern *p) { return p->text[0] && p->text[0] != '_'; }

static bool has_literal(const struct local_context *lc, const char *number)
{
    for (size_t i = 0; lc && i < lc->nexten; i++)
        if (literal(&lc->exten[i]) && !strcmp(lc->exten[i].text, number))
            return true;
    return false;
}

void precache_schedule(struct server *s, const struct config *old)
{
    const struct config *c = s->conf;
    uint64_t now = clock_now_ms();

    if (!any_push_peer(s))
        return;
    /* Patterns are not pushed: a peer caches numbers, and "_1XXX" is none. */
    for (size_t i = 0; i < c->nmaps; i++) {
        const struct local_context *lc = c->maps[i].lcontext[0] ? config_find_context(c, c->maps[i].lcontext) : NULL;
        for (size_t k = 0; lc && k < lc->nexten; k++)
            if (literal(&lc->exten[k]))
                enqueue(s, lc->exten[k].text, c->maps[i].dcontext, now, false);
    }
    /* And every registered extension, as the reference pushes every extension at load. */
    if (c->precache_registrations && s->regtable)
        regtable_foreach(s->regtable, queue_registered, s);
    /* Numbers the reload took away: withdraw them, so peers stop routing to us. */
    for (size_t i = 0; old && i < old->nmaps; i++) {
        const struct local_context *lc =
            old->maps[i].lcontext[0] ? config_find_context(old, old->maps[i].lcontext) : NULL;
        for (size_t k = 0; lc && k < lc->nexten; k++) {
            const char *n = lc->exten[k].text;
            bool still = false;
            for (size_t j = 0; j < c->nmaps && !still; j++)
                still = !strcasecmp(c->maps[j].dcontext, old->maps[i].dcontext) && c->maps[j].lcontext[0] &&
                        has_literal(config_find_context(c, c->maps[j].lcontext), n);
            if (literal(&lc->exten[k]) && !still)
                precache_push_context(s, n, old->maps[i].dcontext, c->ttl, NULL, 0, true);
        }
    }
}

void precache_accept(struct server *s, const eid_t *pusher, const struct dundi_ies *ie)
{
    const struct config *c = s->conf;
    int64_t now = clock_wall_s();

    /* Under crc 0 and the zero root, as the reference keys pushed entries:
     * every lookup, ours or forwarded, finds them. */
    cache_save(s->cache, pusher, ie->called_number, ie->called_context, 0, false, NULL, ie->answers, ie->anscount,
               ie->expiration, c->cachetime, true, now);
    if (ie->has_hint && (ie->hint_flags & DUNDI_HINT_DONT_ASK))
        cache_save_hint(s->cache, pusher, ie->hint_data, ie->called_context, 0, false, NULL, ie->expiration,
                        c->cachetime, now);
    s->stats.precache_received++;
    log_debug("precache from %s: %s@%s, %u answer(s), expiration %d", eid_to_str(pusher, (char[EID_STR_LEN]){0}),
              ie->called_number, ie->called_context, ie->anscount, ie->expiration);
}

void precache_init(struct server *s) { timer_init(&s->precache_timer, push_batch, s); }

void precache_free(struct server *s)
{
    timerq_cancel(&s->loop.tq, &s->precache_timer);
    for (size_t i = 0; s->precache_hash && i < PRECACHE_BUCKETS; i++)
        while (s->precache_hash[i]) {
            struct precache_item *it = s->precache_hash[i];
            s->precache_hash[i] = it->next_hash;
            timerq_cancel(&s->loop.tq, &it->due);
            free(it);
        }
    free(s->precache_hash);
    s->precache_hash = NULL;
    s->precache_ready = s->precache_ready_tail = NULL;
}

void precache_foreach(const struct server *s, void (*fn)(void *ctx, const char *number, const char *context,
                                                         int64_t due_in_ms),
                      void *ctx)
{
    uint64_t now = clock_now_ms();
    for (size_t i = 0; s->precache_hash && i < PRECACHE_BUCKETS; i++)
        for (const struct precache_item *it = s->precache_hash[i]; it; it = it->next_hash) {
            int64_t due = it->ready || !timer_armed(&it->due) || it->due.when <= now ? 0 : (int64_t)(it->due.when - now);
            fn(ctx, it->number, it->context, due);
        }
}
