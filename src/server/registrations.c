/* The registration table's feeds on the event loop: libpcap (live or a file
 * replayed at start), the HEP listener, expiry, and the state file. */
#include "dundid/registrations.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libgen.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sock_diag.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dundid/clock.h"
#include "dundid/hep.h"
#include "dundid/log.h"
#include "dundid/looplag.h"
#include "dundid/pktdecode.h"
#include "dundid/regstate.h"
#include "dundid/sip.h"
#include "dundid/server_impl.h"

#define TICK_MS 1000
#define CAPTURE_BATCH 256  /* frames per readiness event */
#define REPLAY_BATCH 512   /* frames of a capture file per loop turn (about 1 ms) */
#define HEP_BATCH 64
#define HEP_RCVBUF (32 << 20) /* a storm's datagrams wait here while lookups go first (~25 k of them) */
#define CAPTURE_TIMEOUT_MS 10 /* without immediate mode: the longest a captured packet waits */

struct reg_runtime {
    struct server *s;
    struct sipfeed *sip;
    struct feed_stats st;
    struct timer tick, save;
    uint64_t saved_changes; /* the change count at the last save */
    bool save_failing;
    struct bgsave save_bg;  /* the periodic save, written by a child */
    uint64_t bg_changes;    /* the change count when that child was forked */
    /* capture */
    pcap_t *pcap;
    int dlt;
    bool replaying;
    struct event *pcap_ev; /* live: readable; file: the next batch */
    uint64_t capture_drops, capture_ifdrops; /* last pcap_stats (kept after a reload closes it) */
    /* HEP */
    int hep_fd;
    struct event *hep_ev;
    uint8_t hep_buf[HEP3_MAX_LEN + 1]; /* one datagram at a time */
    uint8_t inflated[SIP_MAX_MSG];     /* its SIP, when compressed */
};

static uint64_t change_count(const struct regtable *rt)
{
    struct regtable_stats st;
    regtable_get_stats(rt, &st);
    return st.added + st.refreshed + st.removed + st.expired + st.moved + st.dropped_cap;
}

static void on_tick(void *arg)
{
    struct reg_runtime *rr = arg;
    int64_t now = clock_wall_s();
    regtable_expire(rr->s->regtable, now);
    sipfeed_expire(rr->sip, now);
    timerq_arm(&rr->s->loop.tq, &rr->tick, clock_now_ms() + TICK_MS);
}

/* The default state file only serves a table that a feed fills: a dundid
 * without one has nothing to keep (and often no /var/lib/dundid). A file
 * named in the configuration is always used (a restart without feeds
 * answers from it). */
static const char *state_path(const struct config *c)
{
    const struct reg_conf *rc = &c->reg;
    bool feed = rc->capture[0] || rc->capture_file[0] || rc->has_hep || c->realtime.enabled;
    return rc->statefile_set || feed ? rc->statefile : "";
}

/* What a save came to, wherever it was written. */
static void save_result(struct reg_runtime *rr, const char *path, uint64_t changes, bool ok, const char *err)
{
    if (!ok) {
        rr->st.state_save_errors++;
        if (!rr->save_failing) /* once per failure, not once per interval */
            log_error("cannot write the registration state file: %s", err);
        rr->save_failing = true;
        return;
    }
    if (rr->save_failing)
        log_notice("registration state file %s written again", path);
    rr->save_failing = false;
    rr->saved_changes = changes;
    rr->st.state_saves++;
}

int registrations_save(struct server *s)
{
    struct reg_runtime *rr = s->regrt;
    const char *path = state_path(s->conf);
    char err[256];
    if (!rr || !path[0])
        return 0;
    bgsave_wait(&rr->save_bg); /* never two writers of one file */
    uint64_t changes = change_count(s->regtable);
    bool ok = regstate_save(path, s->regtable, err, sizeof(err)) == 0;
    save_result(rr, path, changes, ok, err);
    return ok ? 0 : -1;
}

static long write_table(void *ctx, FILE *f) { return regstate_write(f, ctx); }

static void saved_in_child(void *arg, bool ok, const char *err)
{
    struct reg_runtime *rr = arg;
    save_result(rr, state_path(rr->s->conf), rr->bg_changes, ok, err);
}

/* The periodic save: a child writes the table as it is now (bgsave.h), so a
 * million bindings never stop the loop; inline in the simulator. */
static void save_periodic(struct reg_runtime *rr)
{
    struct server *s = rr->s;
    const char *path = state_path(s->conf);
    char err[256];
    if (!path[0] || bgsave_running(&rr->save_bg))
        return; /* the next interval takes what changed since */
    if (s->persist.save_in_child) {
        rr->bg_changes = change_count(s->regtable);
        if (bgsave_start(&rr->save_bg, s->base, path, write_table, s->regtable, saved_in_child, rr, err,
                         sizeof(err)) == 0)
            return;
        log_warning("registration state file: %s; writing it on the loop", err);
    }
    registrations_save(s);
}

static void on_save(void *arg)
{
    struct reg_runtime *rr = arg;
    if (change_count(rr->s->regtable) != rr->saved_changes)
        save_periodic(rr);
    timerq_arm(&rr->s->loop.tq, &rr->save, clock_now_ms() + (uint64_t)rr->s->conf->reg.state_interval_s * 1000u);
}

static void feed_sip(struct reg_runtime *rr, enum reg_feed feed, const uint8_t *msg, size_t len,
                     const struct sip_hop *hop)
{
    const struct config *c = rr->s->conf;
    sipfeed_input(rr->sip, rr->s->regtable, feed, msg, len, hop, clock_wall_s(), c->reg.default_expires);
}

/* ---- libpcap ---- */

static void on_frame(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    struct reg_runtime *rr = (struct reg_runtime *)user;
    struct pkt_info pi;
    rr->st.frames++;
    if (pkt_decode(rr->dlt, bytes, h->caplen, &pi) != PKT_OK) {
        rr->st.undecodable++;
        return;
    }
    feed_sip(rr, REG_FEED_PCAP, pi.payload, pi.payload_len, &pi.hop);
}

static void close_capture(struct reg_runtime *rr)
{
    if (rr->pcap_ev)
        event_free(rr->pcap_ev);
    if (rr->pcap)
        pcap_close(rr->pcap);
    rr->pcap_ev = NULL;
    rr->pcap = NULL;
    rr->replaying = false;
}

static void capture_work(struct reg_runtime *rr);

static void on_capture(evutil_socket_t fd, short what, void *arg)
{
    struct reg_runtime *rr = arg;
    struct server *s = rr->s;
    (void)fd;
    (void)what;
    looplag_work_begin(s);
    capture_work(rr); /* may close the capture (rr stays) */
    looplag_work_end(s);
}

static void capture_work(struct reg_runtime *rr)
{
    if (!rr->replaying) {
        if (pcap_dispatch(rr->pcap, CAPTURE_BATCH, on_frame, (u_char *)rr) < 0)
            log_warning("capture: %s", pcap_geterr(rr->pcap));
        return;
    }
    int n = pcap_dispatch(rr->pcap, REPLAY_BATCH, on_frame, (u_char *)rr);
    if (n > 0) { /* more to come: let the loop answer lookups between batches */
        server_yield(rr->s, rr->pcap_ev);
        return;
    }
    if (n < 0)
        log_warning("capture file %s: %s", rr->s->conf->reg.capture_file, pcap_geterr(rr->pcap));
    struct sipfeed_stats st;
    sipfeed_get_stats(rr->sip, &st);
    log_notice("capture file %s replayed: %llu frames, %llu SIP messages, %llu registrations committed",
               rr->s->conf->reg.capture_file, (unsigned long long)rr->st.frames, (unsigned long long)st.messages,
               (unsigned long long)(st.committed + st.unmatched));
    close_capture(rr);
}

static int open_capture(struct reg_runtime *rr, const struct reg_conf *rc, char *err, size_t errlen)
{
    char pe[PCAP_ERRBUF_SIZE] = "";
    struct bpf_program prog;
    bool live = rc->capture[0];
    const char *what = live ? rc->capture : rc->capture_file;

    if (!live && !rc->capture_file[0])
        return 0;
    if (live) {
        rr->pcap = pcap_create(rc->capture, pe);
        /* Immediate mode hands over each packet at once (TPACKET_V2); without
         * it the kernel fills blocks (TPACKET_V3) handed over when full or
         * after CAPTURE_TIMEOUT_MS: fewer wakeups at high rates. */
        if (rr->pcap && (pcap_set_snaplen(rr->pcap, 65535) || pcap_set_promisc(rr->pcap, 1) ||
                         pcap_set_immediate_mode(rr->pcap, rc->capture_immediate) ||
                         pcap_set_timeout(rr->pcap, CAPTURE_TIMEOUT_MS) ||
                         pcap_set_buffer_size(rr->pcap, rc->capture_buffer_kb * 1024))) {
            snprintf(pe, sizeof(pe), "cannot set capture options");
        } else if (rr->pcap) {
            int rc2 = pcap_activate(rr->pcap);
            if (rc2 < 0)
                snprintf(pe, sizeof(pe), "%s%s", pcap_geterr(rr->pcap),
                         rc2 == PCAP_ERROR_PERM_DENIED ? " (needs root or CAP_NET_RAW)" : "");
        }
    } else {
        rr->pcap = pcap_open_offline(rc->capture_file, pe);
    }
    if (!rr->pcap || pe[0]) {
        snprintf(err, errlen, "capture %s: %s", what, pe);
        close_capture(rr);
        return -1;
    }
    if (pcap_compile(rr->pcap, &prog, rc->capture_filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
        snprintf(err, errlen, "capture_filter '%s': %s", rc->capture_filter, pcap_geterr(rr->pcap));
        close_capture(rr);
        return -1;
    }
    int frc = pcap_setfilter(rr->pcap, &prog);
    pcap_freecode(&prog);
    rr->dlt = pcap_datalink(rr->pcap);
    if (frc < 0) {
        snprintf(err, errlen, "capture %s: %s", what, pcap_geterr(rr->pcap));
        close_capture(rr);
        return -1;
    }
    if (live) {
        int fd;
        if (pcap_setnonblock(rr->pcap, 1, pe) < 0 || (fd = pcap_get_selectable_fd(rr->pcap)) < 0) {
            snprintf(err, errlen, "capture %s: cannot poll it", what);
            close_capture(rr);
            return -1;
        }
        rr->pcap_ev = event_new(rr->s->base, fd, EV_READ | EV_PERSIST, on_capture, rr);
    } else {
        rr->replaying = true;
        rr->pcap_ev = event_new(rr->s->base, -1, 0, on_capture, rr);
    }
    if (!rr->pcap_ev || (live ? event_add(rr->pcap_ev, NULL) : (server_yield(rr->s, rr->pcap_ev), 0)) < 0) {
        snprintf(err, errlen, "capture %s: cannot watch it", what);
        close_capture(rr);
        return -1;
    }
    if (live)
        log_notice("capturing SIP on %s (filter '%s', link type %s, buffer %d KiB%s)", what, rc->capture_filter,
                   pcap_datalink_val_to_name(rr->dlt), rc->capture_buffer_kb,
                   rc->capture_immediate ? ", immediate" : "");
    else
        log_notice("replaying capture file %s (filter '%s', link type %s)", what, rc->capture_filter,
                   pcap_datalink_val_to_name(rr->dlt));
    return 0;
}

/* ---- HEP ---- */

static void hep_hop(const struct hep_msg *m, struct sip_hop *hop)
{
    inet_ntop(m->family, m->src, hop->src, sizeof(hop->src));
    inet_ntop(m->family, m->dst, hop->dst, sizeof(hop->dst));
    hop->sport = m->sport;
    hop->dport = m->dport;
}

static void hep_datagram(struct reg_runtime *rr, const uint8_t *buf, size_t len, const struct dundi_addr *from)
{
    const struct reg_conf *rc = &rr->s->conf->reg;
    struct hep_msg m;
    struct sip_hop hop;

    rr->st.frames++;
    if (rc->nhep_allow && !cidr_match(rc->hep_allow, rc->nhep_allow, (const struct sockaddr *)&from->ss)) {
        rr->st.hep_denied++;
        return;
    }
    if (hep_decode(buf, len, &m) != HEP_OK) {
        rr->st.undecodable++;
        return;
    }
    if (rc->hep_password[0] && !hep_auth_ok(&m, rc->hep_password)) {
        rr->st.hep_bad_auth++;
        return;
    }
    if (m.proto_type != HEP_PROTO_SIP && m.proto_type != 0) {
        rr->st.not_sip++;
        return;
    }
    const uint8_t *sip = m.payload;
    size_t siplen = m.payload_len;
    if (m.payload_compressed) {
        long n = hep_inflate(m.payload, m.payload_len, rr->inflated, sizeof(rr->inflated));
        if (n < 0) {
            rr->st.undecodable++;
            return;
        }
        sip = rr->inflated;
        siplen = (size_t)n;
    }
    hep_hop(&m, &hop);
    feed_sip(rr, REG_FEED_HEP, sip, siplen, &hop);
}

static void on_hep(evutil_socket_t fd, short what, void *arg)
{
    struct reg_runtime *rr = arg;
    uint8_t *buf = rr->hep_buf;
    (void)what;
    looplag_work_begin(rr->s);
    for (int i = 0; i < HEP_BATCH; i++) {
        struct dundi_addr from;
        ssize_t n = udp_recv(fd, buf, sizeof(rr->hep_buf), &from);
        if (n < 0)
            break;
        hep_datagram(rr, buf, (size_t)n, &from);
    }
    looplag_work_end(rr->s);
}

static void close_hep(struct reg_runtime *rr)
{
    if (rr->hep_ev)
        event_free(rr->hep_ev);
    if (rr->hep_fd >= 0)
        close(rr->hep_fd);
    rr->hep_ev = NULL;
    rr->hep_fd = -1;
}

static int open_hep(struct reg_runtime *rr, const struct reg_conf *rc, char *err, size_t errlen)
{
    char where[64], why[128];
    if (!rc->has_hep)
        return 0;
    dundi_addr_str(&rc->hep, where, sizeof(where));
    rr->hep_fd = udp_bind(&rc->hep, 0, why, sizeof(why));
    if (rr->hep_fd < 0) {
        snprintf(err, errlen, "hep %s: %s", where, why);
        return -1;
    }
    udp_set_rcvbuf(rr->hep_fd, HEP_RCVBUF);
    rr->hep_ev = event_new(rr->s->base, rr->hep_fd, EV_READ | EV_PERSIST, on_hep, rr);
    if (!rr->hep_ev || event_add(rr->hep_ev, NULL) < 0) {
        snprintf(err, errlen, "hep %s: cannot watch the socket", where);
        close_hep(rr);
        return -1;
    }
    log_notice("listening for HEP on %s%s", where, rc->hep_password[0] ? " (password required)" : "");
    return 0;
}

/* ---- lifecycle ---- */

static void load_state(struct server *s)
{
    const char *path = state_path(s->conf);
    struct regstate_result res;
    if (!path[0])
        return;
    char dir[CONF_STR_MAX];
    snprintf(dir, sizeof(dir), "%s", path);
    const char *folder = dirname(dir);
    if (access(folder, W_OK) < 0) {
        /* Said once, now: saving at stop would only fail again. */
        log_error("registration state file %s: its folder %s cannot be written (%s); registrations will not "
                  "survive a restart", path, folder, strerror(errno));
        s->regrt->save_failing = true;
    }
    uint64_t t0 = clock_now_ms();
    if (regstate_load(path, s->regtable, clock_wall_s(), &res) < 0) {
        log_warning("registration state file %s not used: %s; starting with an empty table", path, res.err);
        /* What was read before the damage goes too: never half a table. */
        regtable_free(s->regtable);
        s->regtable = regtable_new((unsigned)s->conf->reg.max_bindings);
        return;
    }
    if (res.loaded || res.expired)
        log_notice("registration state file %s: %zu binding(s) restored, %zu expired, in %llu ms", path,
                   res.loaded, res.expired, (unsigned long long)(clock_now_ms() - t0));
}

int registrations_start(struct server *s, char *err, size_t errlen)
{
    const struct reg_conf *rc = &s->conf->reg;
    struct reg_runtime *rr = calloc(1, sizeof(*rr));
    s->regtable = regtable_new((unsigned)rc->max_bindings);
    if (!rr || !s->regtable || !(rr->sip = sipfeed_new(0))) {
        free(rr);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    rr->s = s;
    rr->hep_fd = -1;
    bgsave_init(&rr->save_bg);
    s->regrt = rr;
    /* before loading: else a backup registration (the same contact at a
     * second registrar) in the state file moves the first one */
    regtable_set_keep_other_registrars(s->regtable, rc->keep_other_registrars);
    load_state(s);
    if (!s->regtable) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    regtable_set_keep_other_registrars(s->regtable, rc->keep_other_registrars);
    rr->saved_changes = change_count(s->regtable);
    timer_init(&rr->tick, on_tick, rr);
    timer_init(&rr->save, on_save, rr);
    timerq_arm(&s->loop.tq, &rr->tick, clock_now_ms() + TICK_MS);
    timerq_arm(&s->loop.tq, &rr->save, clock_now_ms() + (uint64_t)rc->state_interval_s * 1000u);
    if (open_capture(rr, rc, err, errlen) < 0 || open_hep(rr, rc, err, errlen) < 0)
        return -1;
    return 0;
}

void registrations_reload(struct server *s, const struct config *old)
{
    struct reg_runtime *rr = s->regrt;
    const struct reg_conf *rc = &s->conf->reg, *oc = &old->reg;
    char err[256];
    if (!rr)
        return;
    regtable_set_max_bindings(s->regtable, (unsigned)rc->max_bindings);
    regtable_set_keep_other_registrars(s->regtable, rc->keep_other_registrars);
    if (strcmp(rc->capture, oc->capture) || strcmp(rc->capture_filter, oc->capture_filter) ||
        rc->capture_buffer_kb != oc->capture_buffer_kb || rc->capture_immediate != oc->capture_immediate ||
        (strcmp(rc->capture_file, oc->capture_file) && rc->capture_file[0])) {
        close_capture(rr);
        if (open_capture(rr, rc, err, sizeof(err)) < 0)
            log_error("reload: %s; SIP capture is off", err);
    }
    if (rc->has_hep != oc->has_hep || (rc->has_hep && !dundi_addr_equal(&rc->hep, &oc->hep))) {
        close_hep(rr);
        if (open_hep(rr, rc, err, sizeof(err)) < 0)
            log_error("reload: %s; HEP is off", err);
    }
    if (rc->state_interval_s != oc->state_interval_s)
        timerq_arm(&s->loop.tq, &rr->save, clock_now_ms() + (uint64_t)rc->state_interval_s * 1000u);
}

void registrations_stop(struct server *s)
{
    struct reg_runtime *rr = s->regrt;
    if (rr) {
        registrations_save(s);
        close_capture(rr);
        close_hep(rr);
        timerq_cancel(&s->loop.tq, &rr->tick);
        timerq_cancel(&s->loop.tq, &rr->save);
        sipfeed_free(rr->sip);
        free(rr);
        s->regrt = NULL;
    }
    regtable_free(s->regtable);
    s->regtable = NULL;
}

void registrations_backlog(const struct server *s, struct feed_backlog *out)
{
    struct reg_runtime *rr = s->regrt;
    memset(out, 0, sizeof(*out));
    if (!rr)
        return;
    uint32_t mem[SK_MEMINFO_VARS] = {0};
    socklen_t len = sizeof(mem);
    if (rr->hep_fd >= 0 && getsockopt(rr->hep_fd, SOL_SOCKET, SO_MEMINFO, mem, &len) == 0) {
        out->hep_queued_bytes = mem[SK_MEMINFO_RMEM_ALLOC];
        out->hep_drops = mem[SK_MEMINFO_DROPS];
    }
    struct pcap_stat ps;
    if (rr->pcap && !rr->replaying && pcap_stats(rr->pcap, &ps) == 0) {
        rr->capture_drops = ps.ps_drop;
        rr->capture_ifdrops = ps.ps_ifdrop;
    }
    out->capture_drops = rr->capture_drops;
    out->capture_ifdrops = rr->capture_ifdrops;
}

const struct feed_stats *registrations_feed_stats(const struct server *s)
{
    static const struct feed_stats none;
    return s->regrt ? &s->regrt->st : &none;
}

void registrations_sip_stats(const struct server *s, struct sipfeed_stats *out)
{
    if (s->regrt)
        sipfeed_get_stats(s->regrt->sip, out);
    else
        memset(out, 0, sizeof(*out));
}
