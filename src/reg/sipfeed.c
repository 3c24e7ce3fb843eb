/* REGISTER/2xx matching: a hash of REGISTERs waiting for their answer, in
 * arrival order (which is also expiry order, the wait being fixed). */
#include "dundid/sipfeed.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dundid/sip.h"

#define NBUCKETS 4096 /* power of two */

struct pending {
    struct pending *hnext;        /* bucket chain */
    struct pending *older, *newer; /* arrival order */
    uint64_t hash;
    int64_t at;
    uint32_t cseq;
    bool binds; /* it asked to bind a contact (expiry > 0) */
    char src[48], dst[48];
    char user_agent[REG_UA_MAX + 1];
    char call_id[];
};

struct sipfeed {
    struct pending *buckets[NBUCKETS];
    struct pending *oldest, *newest;
    size_t n, max;
    struct sipfeed_stats st;
};

struct sipfeed *sipfeed_new(size_t max_pending)
{
    struct sipfeed *f = calloc(1, sizeof(*f));
    if (f)
        f->max = max_pending ? max_pending : SIPFEED_DEFAULT_MAX_PENDING;
    return f;
}

void sipfeed_free(struct sipfeed *f)
{
    if (!f)
        return;
    for (struct pending *p = f->oldest, *n; p; p = n) {
        n = p->newer;
        free(p);
    }
    free(f);
}

static uint64_t key_hash(const char *call_id, uint32_t cseq)
{
    uint64_t h = 0xcbf29ce484222325ull ^ cseq;
    for (const char *s = call_id; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ull;
    }
    return h ^ (h >> 29);
}

static void unlink_pending(struct sipfeed *f, struct pending *p)
{
    struct pending **pp = &f->buckets[p->hash & (NBUCKETS - 1)];
    while (*pp != p)
        pp = &(*pp)->hnext;
    *pp = p->hnext;
    if (p->older)
        p->older->newer = p->newer;
    else
        f->oldest = p->newer;
    if (p->newer)
        p->newer->older = p->older;
    else
        f->newest = p->older;
    f->n--;
    free(p);
}

static void remember(struct sipfeed *f, const struct sip_msg *m, const struct sip_hop *hop, int64_t now,
                     int default_expires)
{
    if (f->n >= f->max) {
        unlink_pending(f, f->oldest);
        f->st.pending_dropped++;
    }
    size_t lc = strlen(m->call_id);
    struct pending *p = malloc(sizeof(*p) + lc + 1);
    if (!p) {
        f->st.pending_dropped++;
        return;
    }
    p->hash = key_hash(m->call_id, m->cseq);
    p->at = now;
    p->cseq = m->cseq;
    p->binds = false;
    for (unsigned c = 0; c < m->ncontacts; c++)
        p->binds |= !m->contacts[c].star && sip_contact_expires(m, c, default_expires) > 0;
    memcpy(p->call_id, m->call_id, lc + 1);
    snprintf(p->src, sizeof(p->src), "%s", hop->src);
    snprintf(p->dst, sizeof(p->dst), "%s", hop->dst);
    size_t lu = strnlen(m->user_agent, REG_UA_MAX); /* cut: informational only */
    memcpy(p->user_agent, m->user_agent, lu);
    p->user_agent[lu] = '\0';
    struct pending **b = &f->buckets[p->hash & (NBUCKETS - 1)];
    p->hnext = *b;
    *b = p;
    p->older = f->newest;
    p->newer = NULL;
    if (f->newest)
        f->newest->newer = p;
    else
        f->oldest = p;
    f->newest = p;
    f->n++;
}

/* A REGISTER with m's Call-ID and CSeq that went from src to dst. */
static struct pending *find_pending(struct sipfeed *f, const struct sip_msg *m, const char *src, const char *dst)
{
    uint64_t h = key_hash(m->call_id, m->cseq);
    for (struct pending *p = f->buckets[h & (NBUCKETS - 1)]; p; p = p->hnext)
        if (p->hash == h && p->cseq == m->cseq && !strcmp(p->call_id, m->call_id) && !strcmp(p->src, src) &&
            !strcmp(p->dst, dst))
            return p;
    return NULL;
}

static void commit(struct sipfeed *f, struct regtable *rt, enum reg_feed feed, const struct sip_msg *m,
                   const struct sip_hop *hop, const char *ua, int64_t now, int default_expires)
{
    const char *ext = m->to_user;
    char source[REG_SOURCE_MAX + 1];
    if (strchr(hop->dst, ':'))
        snprintf(source, sizeof(source), "[%s]:%u", hop->dst, hop->dport);
    else
        snprintf(source, sizeof(source), "%s:%u", hop->dst, hop->dport);

    /* The 2xx lists every contact the registrar now holds for ext: what it
     * does not list is gone, whichever feed brought it (chan_sip answers an
     * unregistration with a 200 OK that lists nothing). Listed bindings are
     * set below. */
    struct reg_binding mine[REG_MAX_BINDINGS_LIMIT];
    size_t nmine = regtable_get(rt, ext, now, mine, REG_MAX_BINDINGS_LIMIT);
    char gone[REG_MAX_BINDINGS_LIMIT][REG_CONTACT_MAX + 1];
    size_t ngone = 0;
    bool held = false, holds = false;
    for (size_t i = 0; i < nmine; i++) {
        if (strcmp(mine[i].registrar, hop->src))
            continue;
        held = true;
        bool listed = false;
        for (unsigned c = 0; c < m->ncontacts && !listed; c++)
            listed = !strcmp(m->contacts[c].uri, mine[i].contact);
        if (!listed)
            snprintf(gone[ngone++], sizeof(gone[0]), "%s", mine[i].contact);
    }
    for (size_t i = 0; i < ngone; i++) {
        struct reg_update u = {ext, gone[i], hop->src, source, ua, 0, feed};
        regtable_apply(rt, &u, now);
        f->st.bindings_removed++;
    }
    for (unsigned c = 0; c < m->ncontacts; c++) {
        if (m->contacts[c].star)
            continue;
        int exp = sip_contact_expires(m, c, default_expires);
        struct reg_update u = {ext, m->contacts[c].uri, hop->src, source, ua, now + (exp > 0 ? exp : 0), feed};
        holds |= exp > 0;
        if (regtable_apply(rt, &u, now) == 0) {
            if (exp > 0)
                f->st.bindings_set++;
            else
                f->st.bindings_removed++;
        }
    }
    /* Nothing held there before or now: a row the registrar left behind
     * must not bring a phone back that the wire saw leave. */
    if (!held && !holds)
        regtable_note_departure(rt, ext, hop->src, now);
}

void sipfeed_input(struct sipfeed *f, struct regtable *rt, enum reg_feed feed, const uint8_t *msg, size_t len,
                   const struct sip_hop *hop, int64_t now, int default_expires)
{
    static struct sip_msg m; /* ~6 KB: one message at a time, like the rest of the loop */
    f->st.messages++;
    int rc = sip_parse((const char *)msg, len, &m);
    if (rc == SIP_E_NOT_REGISTER) {
        f->st.not_register++;
        return;
    }
    if (rc != SIP_OK || !m.to_user[0]) {
        f->st.malformed++;
        return;
    }
    if (m.is_request) {
        f->st.requests++;
        struct pending *again = find_pending(f, &m, hop->src, hop->dst);
        if (again) /* a retransmission: keep waiting from the first copy */
            return;
        remember(f, &m, hop, now, default_expires);
        return;
    }
    if (m.status < 200) {
        f->st.provisional++;
        return;
    }
    struct pending *p = find_pending(f, &m, hop->dst, hop->src); /* the response goes back */
    if (m.status >= 300) {
        f->st.refused++;
        if (p)
            unlink_pending(f, p);
        return;
    }
    /* A 2xx listing nothing for a REGISTER that asked to bind a contact is
     * a registrar that failed to store it, not an unregistration: res_pjsip
     * with its RealTime database down answers so ("Unable to bind
     * contact"), and its rows are back when the database is. Nothing
     * changes. */
    if (p && p->binds && m.ncontacts == 0) {
        f->st.not_bound++;
        unlink_pending(f, p);
        return;
    }
    if (p)
        f->st.committed++;
    else
        f->st.unmatched++;
    commit(f, rt, feed, &m, hop, p ? p->user_agent : "", now, default_expires);
    if (p)
        unlink_pending(f, p);
}

void sipfeed_expire(struct sipfeed *f, int64_t now)
{
    while (f->oldest && now - f->oldest->at > SIPFEED_PENDING_S)
        unlink_pending(f, f->oldest);
}

size_t sipfeed_pending(const struct sipfeed *f) { return f->n; }

void sipfeed_get_stats(const struct sipfeed *f, struct sipfeed_stats *out) { *out = f->st; }
