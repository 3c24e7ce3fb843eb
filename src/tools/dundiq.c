/* dundiq: a "dig" for DUNDi. Sends one DPDISCOVER (or EIDQUERY) through the
 * same transaction engine the daemon uses and prints what comes back. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/crypto.h>

#include "dundid/clock.h"
#include "dundid/crypto.h"
#include "dundid/decimal.h"
#include "dundid/eid.h"
#include "dundid/net.h"
#include "dundid/qline.h"
#include "dundid/trans.h"
#include "dundid/wire.h"

enum { EXIT_ANSWERS = 0, EXIT_NONE = 1, EXIT_ERROR = 2 };

/* A node asked with our session key; whether it has accepted the key in
 * full, so that later queries send only its KEYCRC32 (6.3). */
struct keyed_peer {
    struct dundi_addr addr;
    bool accepted;
};

/* What all queries of one run share. */
struct client {
    struct event_base *base;
    struct loop loop;
    struct trans_engine *eng;
    int fd[2];              /* IPv4, IPv6: made on first use */
    struct event *ev[2];
    struct dundi_addr src;  /* -b: the address we send from */
    bool has_src;
    char port[8];           /* -p: the destination port when HOST has none */
    eid_t eid;
    bool json, short_out, bypass, eidquery, batch;
    int ttl;
    unsigned timeout_ms;
    const char *keydir, *inkey, *outkey; /* encrypted lookups */
    bool keyed;
    struct dundi_session_key key; /* one for the whole run */
    struct keyed_peer *peers;
    size_t npeers;
    uint8_t inner[DUNDI_MAX_INNER];
};

/* One lookup or entity query. */
struct query {
    struct client *c;
    const char *host;
    char number[DUNDI_MAX_NUMBER + 1], context[DUNDI_MAX_NUMBER + 1];
    eid_t reqeid;
    struct dundi_addr to;
    struct trans *t;
    struct keyed_peer *kp;
    bool sent_full; /* the key IEs of this transaction carry the whole key */
    struct timer deadline;
    bool got;
    int exit_code;
    uint8_t resp_cmd;
    struct dundi_ies ies;
};

static void usage(FILE *f)
{
    fprintf(f, "usage: dundiq [options] HOST[:PORT] NUMBER[@CONTEXT]\n"
               "       dundiq [options] --eidquery EID HOST[:PORT] [CONTEXT]\n"
               "       dundiq [options] -f FILE|- [HOST[:PORT]]\n"
               "options:\n"
               "  -e, --eid EID        the EID we present (default: random, locally administered)\n"
               "  -b, --source ADDR[:PORT]  send from this address (and port)\n"
               "  -p, --port PORT      the node's port when HOST has none (default 4520)\n"
               "  -t, --ttl N          hop limit (default 32)\n"
               "      --bypass         ask peers to bypass their caches (CACHEBYPASS)\n"
               "  -T, --timeout MS     give up after MS (default 2000 + 200 x TTL)\n"
               "  -j, --json           machine-readable output\n"
               "  -s, --short, +short  only the destinations, one a line (TECH/DEST)\n"
               "  -f, --file FILE      queries from FILE (- for standard input), one a line:\n"
               "                       [HOST[:PORT]] NUMBER[@CONTEXT]\n"
               "  -K, --keydir DIR     folder of the key files (default /etc/dundid/keys)\n"
               "  -I, --inkey NAME     the peer's public key (DIR/NAME.pub): encrypt the lookup\n"
               "  -O, --outkey NAME    our private key (DIR/NAME.key) that signs our session key\n"
               "exit status: 0 answers, 1 no answers, 2 error or timeout (a batch: the worst)\n");
}

static int send_dgram(void *ctx, const struct dundi_addr *to, const uint8_t *pkt, size_t len)
{
    struct client *c = ctx;
    int fd = c->fd[to->ss.ss_family == AF_INET6];
    return fd < 0 ? -1 : udp_send(fd, to, pkt, len);
}

static void json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static int cmp_weight(const void *a, const void *b)
{
    const struct dundi_answer *x = a, *y = b;
    return (int)x->weight - (int)y->weight;
}


/* Why a node refused, when its cause says it: on standard error, so that
 * the answer lines stay what scripts read. */
static void explain_cause(const struct query *q)
{
    const struct dundi_ies *ie = &q->ies;
    const char *why = NULL;
    if (ie->cause == DUNDI_CAUSE_DUPLICATE)
        why = "the node is already looking this up for our EID; ask again when it is done";
    else if (ie->cause != DUNDI_CAUSE_NOAUTH)
        return;
    else if (!ie->cause_text[0])
        why = "the node does not know our EID, or not from this source address (--eid, -b)";
    else if (!strcmp(ie->cause_text, "Unencrypted responses not permitted"))
        why = "the node has keys for our EID: ask encrypted (--inkey, --outkey)";
    else if (!strcmp(ie->cause_text, "Permission to context denied"))
        why = "our EID's peer section does not let us ask in this context (model, permit)";
    else if (!strcmp(ie->cause_text, "Unsupported DUNDI Context"))
        why = "the node has no mapping for this context";
    if (why)
        fprintf(stderr, "dundiq: %s: %s@%s refused: %s\n", q->host, q->number[0] ? q->number : "entity", q->context,
                why);
}

static void print_lookup(struct query *q)
{
    const struct client *c = q->c;
    struct dundi_ies *ie = &q->ies;
    char fl[160], eid[EID_STR_LEN];
    int expires = ie->expiration >= 0 ? ie->expiration : 0;

    qsort(ie->answers, ie->anscount, sizeof(ie->answers[0]), cmp_weight);
    if (c->short_out) {
        for (unsigned i = 0; i < ie->anscount; i++)
            if (ie->answers[i].dest[0])
                printf("%s/%s\n", dundi_proto_name(ie->answers[i].proto), ie->answers[i].dest);
        return;
    }
    if (c->json) {
        printf("{");
        if (c->batch) {
            printf("\"host\": ");
            json_str(q->host);
            printf(", ");
        }
        printf("\"number\": ");
        json_str(q->number);
        printf(", \"context\": ");
        json_str(q->context);
        printf(", \"answers\": [");
        for (unsigned i = 0; i < ie->anscount; i++) {
            const struct dundi_answer *a = &ie->answers[i];
            printf("%s{\"weight\": %u, \"tech\": ", i ? ", " : "", a->weight);
            json_str(dundi_proto_name(a->proto));
            printf(", \"dest\": ");
            json_str(a->dest);
            printf(", \"flags\": ");
            json_str(dundi_flags_str(a->flags, fl, sizeof(fl)));
            printf(", \"eid\": \"%s\", \"expires\": %d}", eid_to_str(&a->eid, eid), expires);
        }
        printf("]");
        if (ie->has_hint) {
            printf(", \"hint\": {\"flags\": ");
            json_str(dundi_hint_str(ie->hint_flags, fl, sizeof(fl)));
            printf(", \"data\": ");
            json_str(ie->hint_data);
            printf("}");
        }
        if (ie->cause >= 0) {
            printf(", \"cause\": {\"code\": %d, \"name\": \"%s\", \"text\": ", ie->cause, dundi_cause_name(ie->cause));
            json_str(ie->cause_text);
            printf("}");
        }
        printf(", \"expiration\": %d}\n", ie->expiration);
        return;
    }
    for (unsigned i = 0; i < ie->anscount; i++) {
        const struct dundi_answer *a = &ie->answers[i];
        printf("%u %s/%s (%s) from %s, expires in %d s\n", a->weight, dundi_proto_name(a->proto), a->dest,
               dundi_flags_str(a->flags, fl, sizeof(fl)), eid_to_str(&a->eid, eid), expires);
    }
    if (!ie->anscount) {
        printf("no answers");
        if (ie->cause > 0)
            printf(": cause %s%s%s", dundi_cause_name(ie->cause), ie->cause_text[0] ? ", " : "", ie->cause_text);
        printf("\n");
    }
    if (ie->has_hint && (ie->hint_flags || ie->hint_data[0]))
        printf("hint: %s%s%s\n", dundi_hint_str(ie->hint_flags, fl, sizeof(fl)), ie->hint_data[0] ? " " : "",
               ie->hint_data);
}

static void print_entity(struct query *q)
{
    struct dundi_ies *ie = &q->ies;
    static const char *const labels[] = {"Department", "Organization", "Locality", "State/Province",
                                         "Country",    "E-mail",       "Phone",    "IP address"};
    const char *vals[] = {ie->department, ie->organization, ie->locality, ie->stateprov,
                          ie->country,    ie->email,        ie->phone,    ie->ipaddr};
    if (q->c->short_out) { /* the one line a script wants: who runs it */
        if (ie->has_organization)
            printf("%s\n", ie->organization);
        return;
    }
    if (q->c->json) {
        static const char *const keys[] = {"department", "organization", "locality", "stateprov",
                                           "country",    "email",        "phone",    "ipaddr"};
        printf("{\"found\": %s", ie->has_organization ? "true" : "false");
        for (int i = 0; i < 8 && ie->has_organization; i++) {
            printf(", \"%s\": ", keys[i]);
            json_str(vals[i]);
        }
        if (ie->cause >= 0)
            printf(", \"cause\": %d", ie->cause);
        printf("}\n");
        return;
    }
    if (!ie->has_organization) {
        printf("not found");
        if (ie->cause > 0)
            printf(": cause %s%s%s", dundi_cause_name(ie->cause), ie->cause_text[0] ? ", " : "", ie->cause_text);
        printf("\n");
        return;
    }
    for (int i = 0; i < 8; i++)
        printf("%-15s %s\n", labels[i], vals[i]);
}

/* EID, then the whole key (SHAREDKEY, SIGNATURE) or only its KEYCRC32. */
static void key_ies(const struct client *c, bool full, struct dundi_ieb *b)
{
    dundi_ieb_init(b, 0);
    dundi_ie_put_eid(b, DUNDI_IE_EID, &c->eid);
    if (full) {
        dundi_ie_put_raw(b, DUNDI_IE_SHAREDKEY, c->key.sharedkey, sizeof(c->key.sharedkey));
        dundi_ie_put_raw(b, DUNDI_IE_SIGNATURE, c->key.signature, sizeof(c->key.signature));
    } else {
        dundi_ie_put_u32(b, DUNDI_IE_KEYCRC32, c->key.crc);
    }
}

/* ENCREJ. After only the KEYCRC32 the node may have lost our key (a
 * restart): once, start over with the whole key, as a peer does (6.7).
 * After the whole key there is nothing left to try: say why. */
static void on_encrej(struct query *q, struct dundi_hdr *h)
{
    struct trans *t = q->t;
    const struct client *c = q->c;

    if (t->encrypted && !q->sent_full && q->kp) {
        if (!dundi_hdr_final(h))
            return; /* the restart waits for the final ENCREJ */
        q->kp->accepted = false;
        struct dundi_ieb b;
        key_ies(c, true, &b);
        trans_send(t, DUNDI_CMD_ACK, true, NULL);
        if (trans_set_crypto(t, c->key.aes, b.buf, b.len) == 0 && trans_restart_with(t, b.buf, b.len) == 0) {
            q->sent_full = true;
            h->cmdresp &= (uint8_t)~DUNDI_FLAG_FINAL; /* the restarted transaction lives on */
            return;
        }
    }
    if (t->encrypted)
        fprintf(stderr, "dundiq: %s: the node refused our session key: wrong keys, or its limit on new keys per "
                        "source (ENCREJ)\n", q->host);
    else
        fprintf(stderr, "dundiq: %s rejected our unencrypted request (ENCREJ)\n", q->host);
    q->exit_code = EXIT_ERROR;
    q->got = true; /* said: the transaction's end is not a second error */
    trans_default_command(t, h);
}

static void on_command(struct trans *t, struct dundi_hdr *h, const uint8_t *ies, size_t len)
{
    struct query *q = t->owner;
    uint8_t cmd = dundi_hdr_cmd(h);
    struct dundi_hdr ih;
    bool enveloped = false;

    if (cmd == DUNDI_CMD_ENCRYPT) {
        int rc = dundi_ies_decode(ies, len, &q->ies);
        if (rc == DUNDI_OK)
            rc = trans_open_envelope(t, h, &q->ies, q->c->inner, &ih, &ies, &len);
        if (rc != DUNDI_OK) {
            fprintf(stderr, "dundiq: %s: cannot open the encrypted response: %s\n", q->host,
                    t->encrypted ? crypto_strerror(rc) : "we did not ask encrypted");
            return;
        }
        h = &ih;
        cmd = dundi_hdr_cmd(h);
        enveloped = true;
    } else if (t->encrypted && trans_cmd_encrypted(cmd)) {
        fprintf(stderr, "dundiq: %s: unencrypted %s ignored on an encrypted lookup\n", q->host, dundi_cmd_name(cmd));
        return;
    }
    if (cmd == DUNDI_CMD_ENCREJ) {
        on_encrej(q, h);
        return;
    }
    if (cmd != DUNDI_CMD_DPRESPONSE && cmd != DUNDI_CMD_EIDRESPONSE && cmd != DUNDI_CMD_PRECACHERP) {
        trans_default_command(t, h);
        return;
    }
    int rc = dundi_ies_decode(ies, len, &q->ies);
    if (rc < 0) {
        fprintf(stderr, "dundiq: malformed response: %s\n", dundi_strerror(rc));
        q->exit_code = EXIT_ERROR;
    } else {
        if (enveloped && q->kp)
            q->kp->accepted = true; /* it answered under our key: it holds it */
        q->got = true;
        q->resp_cmd = cmd;
        if (q->c->eidquery)
            print_entity(q);
        else
            print_lookup(q);
        explain_cause(q);
        q->exit_code = (q->c->eidquery ? q->ies.has_organization : q->ies.anscount > 0) ? EXIT_ANSWERS : EXIT_NONE;
    }
    if (!dundi_hdr_final(h))
        trans_send(t, DUNDI_CMD_CANCEL, true, NULL);
}

/* One session key for the whole run, signed once: a batch offers each node
 * the full key once, then its KEYCRC32 (a node limits new keys per source). */
static int setup_crypto(struct client *c)
{
    int err;
    const char *dir = c->keydir ? c->keydir : "/etc/dundid/keys";
    EVP_PKEY *pub = crypto_load_public(dir, c->inkey, &err);
    if (!pub) {
        fprintf(stderr, "dundiq: --inkey %s: %s/%s.pub: %s\n", c->inkey, dir, c->inkey, crypto_strerror(err));
        return -1;
    }
    EVP_PKEY *priv = crypto_load_private(dir, c->outkey, &err);
    if (!priv) {
        fprintf(stderr, "dundiq: --outkey %s: %s/%s.key: %s\n", c->outkey, dir, c->outkey, crypto_strerror(err));
        crypto_free_key(pub);
        return -1;
    }
    int rc = crypto_session_new(&c->key, pub, priv);
    crypto_free_key(pub);
    crypto_free_key(priv);
    if (rc != CRYPTO_OK) {
        fprintf(stderr, "dundiq: cannot make a session key: %s\n", crypto_strerror(rc));
        return -1;
    }
    c->keyed = true;
    return 0;
}

static struct keyed_peer *keyed_peer(struct client *c, const struct dundi_addr *a)
{
    for (size_t i = 0; i < c->npeers; i++)
        if (dundi_addr_equal(&c->peers[i].addr, a))
            return &c->peers[i];
    struct keyed_peer *p = realloc(c->peers, (c->npeers + 1) * sizeof(*p));
    if (!p)
        return NULL;
    c->peers = p;
    p[c->npeers] = (struct keyed_peer){.addr = *a};
    return &p[c->npeers++];
}

static void on_end(struct trans *t, enum trans_end why)
{
    struct query *q = t->owner;
    q->t = NULL;
    if (!q->got) {
        fprintf(stderr, "dundiq: %s: %s\n", q->host,
                why == TRANS_END_TIMEOUT ? "no response (timed out)" : "transaction ended without a response");
        q->exit_code = EXIT_ERROR;
    }
    event_base_loopbreak(q->c->base);
}

static const struct trans_handler client_handler = {on_command, on_end};

/* A transaction that outlives its query (its CANCEL still awaits an ACK). */
static void orphan_command(struct trans *t, struct dundi_hdr *h, const uint8_t *ies, size_t len)
{
    (void)ies;
    (void)len;
    trans_default_command(t, h);
}
static void orphan_end(struct trans *t, enum trans_end why)
{
    (void)t;
    (void)why;
}
static const struct trans_handler orphan_handler = {orphan_command, orphan_end};

static void on_deadline(void *arg)
{
    struct query *q = arg;
    fprintf(stderr, "dundiq: %s: no answer within %u ms\n", q->host, q->c->timeout_ms);
    q->exit_code = EXIT_ERROR;
    if (q->t) {
        trans_send(q->t, DUNDI_CMD_CANCEL, true, NULL);
        q->got = true; /* the CANCEL's own end is not a second error */
    }
    event_base_loopbreak(q->c->base);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    struct client *c = arg;
    uint8_t buf[DUNDI_MAX_PACKET + 1];
    (void)what;
    for (;;) {
        struct dundi_addr from;
        ssize_t n = udp_recv(fd, buf, sizeof(buf), &from);
        if (n < 0)
            break;
        trans_engine_input(c->eng, &from, buf, (size_t)n > sizeof(buf) ? sizeof(buf) : (size_t)n);
    }
}

/* HOST, HOST:PORT, [V6]:PORT or bare V6; defport when none is given. */
static int parse_addr(const char *arg, const char *defport, int flags, struct dundi_addr *out)
{
    char host[256], port[8];
    const char *colon = strrchr(arg, ':');

    snprintf(port, sizeof(port), "%s", defport);
    if (arg[0] == '[') {
        const char *end = strchr(arg, ']');
        if (!end || (size_t)(end - arg - 1) >= sizeof(host))
            return -1;
        memcpy(host, arg + 1, (size_t)(end - arg - 1));
        host[end - arg - 1] = '\0';
        if (end[1] == ':') {
            if (strlen(end + 2) >= sizeof(port))
                return -1;
            snprintf(port, sizeof(port), "%s", end + 2);
        } else if (end[1]) {
            return -1;
        }
    } else if (colon && strchr(arg, ':') == colon) {
        if ((size_t)(colon - arg) >= sizeof(host) || strlen(colon + 1) >= sizeof(port))
            return -1;
        memcpy(host, arg, (size_t)(colon - arg));
        host[colon - arg] = '\0';
        snprintf(port, sizeof(port), "%s", colon + 1);
    } else {
        if (strlen(arg) >= sizeof(host))
            return -1;
        snprintf(host, sizeof(host), "%s", arg);
    }
    uint64_t num;
    if (!dec_parse_u64(port, strlen(port), 65535, &num))
        return -1;
    struct addrinfo hints = {.ai_socktype = SOCK_DGRAM, .ai_flags = flags}, *res;
    if (getaddrinfo(host, port, &hints, &res))
        return -1;
    memset(out, 0, sizeof(*out));
    memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
    out->len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

/* The socket of the destination's family: from -b's address, or any. */
static int socket_for(struct client *c, const struct dundi_addr *to)
{
    int fam = to->ss.ss_family, i = fam == AF_INET6;
    if (c->fd[i] >= 0)
        return 0;
    if (c->has_src && c->src.ss.ss_family != fam) {
        fprintf(stderr, "dundiq: -b: the source address is not of the destination's family\n");
        return -1;
    }
    struct dundi_addr any = {.len = to->len};
    any.ss.ss_family = (sa_family_t)fam;
    char err[128];
    c->fd[i] = udp_bind(c->has_src ? &c->src : &any, 0, err, sizeof(err));
    if (c->fd[i] < 0) {
        fprintf(stderr, "dundiq: %s\n", err);
        return -1;
    }
    c->ev[i] = event_new(c->base, c->fd[i], EV_READ | EV_PERSIST, on_readable, c);
    if (!c->ev[i] || event_add(c->ev[i], NULL) < 0) {
        fprintf(stderr, "dundiq: out of memory\n");
        return -1;
    }
    return 0;
}

static void build_request(const struct query *q, struct dundi_ieb *b)
{
    const struct client *c = q->c;
    dundi_ieb_init(b, 0);
    dundi_ie_put_u16(b, DUNDI_IE_VERSION, 1);
    if (c->eidquery) {
        dundi_ie_put_eid(b, DUNDI_IE_EID, &c->eid);
        dundi_ie_put_eid(b, DUNDI_IE_REQEID, &q->reqeid);
        dundi_ie_put_str(b, DUNDI_IE_CALLED_CONTEXT, q->context);
        dundi_ie_put_u16(b, DUNDI_IE_TTL, (uint16_t)c->ttl);
        return;
    }
    dundi_ie_put_eid(b, DUNDI_IE_EID_DIRECT, &c->eid);
    dundi_ie_put_str(b, DUNDI_IE_CALLED_NUMBER, q->number);
    dundi_ie_put_str(b, DUNDI_IE_CALLED_CONTEXT, q->context);
    dundi_ie_put_u16(b, DUNDI_IE_TTL, (uint16_t)c->ttl);
    if (c->bypass)
        dundi_ie_put_empty(b, DUNDI_IE_CACHEBYPASS);
}

/* Send one query and wait for its end. Returns its exit code. */
static int run_query(struct client *c, struct query *q)
{
    if (parse_addr(q->host, c->port, 0, &q->to) < 0) {
        fprintf(stderr, "dundiq: cannot resolve '%s'\n", q->host);
        return EXIT_ERROR;
    }
    if (socket_for(c, &q->to) < 0)
        return EXIT_ERROR;
    q->c = c;
    if (c->keyed && !(q->kp = keyed_peer(c, &q->to)))
        return EXIT_ERROR;
    q->t = trans_open(c->eng, &q->to, &client_handler, q);
    if (!q->t) {
        fprintf(stderr, "dundiq: too many transactions\n");
        return EXIT_ERROR;
    }
    if (c->keyed) {
        struct dundi_ieb b;
        q->sent_full = !q->kp->accepted;
        key_ies(c, q->sent_full, &b);
        if (trans_set_crypto(q->t, c->key.aes, b.buf, b.len) < 0) {
            trans_destroy(q->t, TRANS_END_ABORT);
            return EXIT_ERROR;
        }
    }
    static struct dundi_ieb req;
    build_request(q, &req);
    q->exit_code = EXIT_ERROR;
    trans_send(q->t, c->eidquery ? DUNDI_CMD_EIDQUERY : DUNDI_CMD_DPDISCOVER, false, &req);
    timer_init(&q->deadline, on_deadline, q);
    timerq_arm(&c->loop.tq, &q->deadline, clock_now_ms() + c->timeout_ms);

    event_base_dispatch(c->base);

    timerq_cancel(&c->loop.tq, &q->deadline);
    if (q->t) { /* a CANCEL on its way: the transaction ends without us */
        q->t->owner = NULL;
        q->t->handler = &orphan_handler;
    }
    return q->exit_code;
}

/* The worse of two exit codes: an error over no answers over answers. */
static int worse(int a, int b) { return a > b ? a : b; }

/* -f: one query a line, "[HOST[:PORT]] NUMBER[@CONTEXT]"; "#" comments. */
static int run_batch(struct client *c, FILE *f, const char *name, const char *host)
{
    char line[1024];
    unsigned lineno = 0, n = 0;
    int rc = EXIT_ANSWERS;

    while (fgets(line, sizeof(line), f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            fprintf(stderr, "dundiq: %s:%u: line too long\n", name, lineno);
            return EXIT_ERROR;
        }
        struct query *q = calloc(1, sizeof(*q));
        if (!q)
            return EXIT_ERROR;
        const char *lhost, *word;
        int prc = qline_parse(line, &lhost, &word, q->number, q->context);
        q->c = c;
        q->host = lhost ? lhost : host;
        if (prc == QLINE_EMPTY) {
            /* nothing to ask */
        } else if (prc == QLINE_E_WORDS || !q->host) {
            fprintf(stderr, "dundiq: %s:%u: not [HOST[:PORT]] NUMBER[@CONTEXT]%s\n", name, lineno,
                    q->host ? "" : " (no HOST on the line or the command line)");
            rc = EXIT_ERROR;
        } else if (prc == QLINE_E_NUMBER) {
            fprintf(stderr, "dundiq: %s:%u: '%s' is not NUMBER@CONTEXT (each 1..%d characters)\n", name, lineno,
                    word, DUNDI_MAX_NUMBER);
            rc = EXIT_ERROR;
        } else {
            if (!c->json && !c->short_out)
                printf("%s; %s@%s at %s\n", n ? "\n" : "", q->number, q->context, q->host);
            n++;
            char hostbuf[256];
            snprintf(hostbuf, sizeof(hostbuf), "%s", q->host); /* the line buffer is reused */
            q->host = hostbuf;
            rc = worse(rc, run_query(c, q));
            fflush(stdout);
            q->host = NULL;
        }
        free(q);
    }
    if (ferror(f)) {
        fprintf(stderr, "dundiq: %s: read error\n", name);
        return EXIT_ERROR;
    }
    if (!n && rc == EXIT_ANSWERS) {
        fprintf(stderr, "dundiq: %s: no queries\n", name);
        return EXIT_ERROR;
    }
    return rc;
}

int main(int argc, char **argv)
{
    static struct client c = {.fd = {-1, -1}};
    static struct query one;
    static const struct option longopts[] = {
        {"eid", required_argument, NULL, 'e'},     {"ttl", required_argument, NULL, 't'},
        {"bypass", no_argument, NULL, 'B'},         {"timeout", required_argument, NULL, 'T'},
        {"json", no_argument, NULL, 'j'},           {"eidquery", required_argument, NULL, 'Q'},
        {"keydir", required_argument, NULL, 'K'},  {"inkey", required_argument, NULL, 'I'},
        {"outkey", required_argument, NULL, 'O'},  {"source", required_argument, NULL, 'b'},
        {"port", required_argument, NULL, 'p'},    {"short", no_argument, NULL, 's'},
        {"file", required_argument, NULL, 'f'},    {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *srcarg = NULL, *file = NULL;
    int opt;
    uint64_t num;

    /* dig's "+short" among the arguments, wherever it is. */
    int kept = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "+short"))
            c.short_out = true;
        else
            argv[kept++] = argv[i];
    }
    argc = kept;
    argv[argc] = NULL;

    eid_random(&c.eid);
    c.ttl = 32;
    strcpy(c.port, "4520");
    while ((opt = getopt_long(argc, argv, "e:t:T:jQ:K:I:O:b:p:sf:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'e':
            if (eid_parse(&c.eid, optarg) < 0) {
                fprintf(stderr, "dundiq: --eid: '%s' is not an EID\n", optarg);
                return EXIT_ERROR;
            }
            break;
        case 't':
            if (!dec_parse_u64(optarg, strlen(optarg), 255, &num) || num < 1) {
                fprintf(stderr, "dundiq: --ttl must be 1..255\n");
                return EXIT_ERROR;
            }
            c.ttl = (int)num;
            break;
        case 'B': c.bypass = true; break;
        case 'T':
            if (!dec_parse_u64(optarg, strlen(optarg), 3600000, &num) || !num) {
                fprintf(stderr, "dundiq: --timeout must be 1..3600000 milliseconds\n");
                return EXIT_ERROR;
            }
            c.timeout_ms = (unsigned)num;
            break;
        case 'j': c.json = true; break;
        case 's': c.short_out = true; break;
        case 'Q':
            if (eid_parse(&one.reqeid, optarg) < 0) {
                fprintf(stderr, "dundiq: --eidquery: '%s' is not an EID\n", optarg);
                return EXIT_ERROR;
            }
            c.eidquery = true;
            break;
        case 'K': c.keydir = optarg; break;
        case 'I': c.inkey = optarg; break;
        case 'O': c.outkey = optarg; break;
        case 'b': srcarg = optarg; break;
        case 'p':
            if (!dec_parse_u64(optarg, strlen(optarg), 65535, &num) || !num) {
                fprintf(stderr, "dundiq: -p must be a port, 1..65535\n");
                return EXIT_ERROR;
            }
            snprintf(c.port, sizeof(c.port), "%u", (unsigned)num);
            break;
        case 'f': file = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return EXIT_ERROR;
        }
    }
    if (!c.inkey != !c.outkey) {
        fprintf(stderr, "dundiq: --inkey and --outkey go together\n");
        return EXIT_ERROR;
    }
    if (c.json && c.short_out) {
        fprintf(stderr, "dundiq: --json and --short exclude each other\n");
        return EXIT_ERROR;
    }
    if (file && c.eidquery) {
        fprintf(stderr, "dundiq: -f reads lookups; --eidquery asks one entity\n");
        return EXIT_ERROR;
    }
    int nargs = argc - optind;
    if (file ? nargs > 1 : c.eidquery ? (nargs < 1 || nargs > 2) : nargs != 2) {
        usage(stderr);
        return EXIT_ERROR;
    }
    if (srcarg && parse_addr(srcarg, "0", AI_PASSIVE | AI_NUMERICHOST, &c.src) < 0) {
        fprintf(stderr, "dundiq: -b: '%s' is not ADDR[:PORT] (a numeric address)\n", srcarg);
        return EXIT_ERROR;
    }
    c.has_src = srcarg != NULL;
    if (!c.timeout_ms)
        c.timeout_ms = 2000u + 200u * (unsigned)c.ttl;
    if (c.inkey && setup_crypto(&c) < 0)
        return EXIT_ERROR;

    c.base = event_base_new();
    if (!c.base || loop_init(&c.loop, c.base) < 0) {
        fprintf(stderr, "dundiq: out of memory\n");
        return EXIT_ERROR;
    }
    c.eng = trans_engine_new(&c.loop.tq, &client_handler, 64);
    if (!c.eng) {
        fprintf(stderr, "dundiq: out of memory\n");
        return EXIT_ERROR;
    }
    c.eng->send = send_dgram;
    c.eng->send_ctx = &c;

    int rc;
    if (file) {
        c.batch = true;
        FILE *f = strcmp(file, "-") ? fopen(file, "r") : stdin;
        if (!f) {
            fprintf(stderr, "dundiq: -f %s: %s\n", file, strerror(errno));
            return EXIT_ERROR;
        }
        rc = run_batch(&c, f, strcmp(file, "-") ? file : "(stdin)", nargs ? argv[optind] : NULL);
        if (f != stdin)
            fclose(f);
    } else {
        one.host = argv[optind];
        if (c.eidquery) {
            snprintf(one.context, sizeof(one.context), "%s", nargs == 2 ? argv[optind + 1] : "e164");
        } else if (!qline_split_number(argv[optind + 1], one.number, one.context)) {
            fprintf(stderr, "dundiq: '%s' is not NUMBER@CONTEXT (each 1..%d characters)\n", argv[optind + 1],
                    DUNDI_MAX_NUMBER);
            return EXIT_ERROR;
        }
        rc = run_query(&c, &one);
    }

    OPENSSL_cleanse(&c.key, sizeof(c.key));
    trans_engine_free(c.eng);
    for (int i = 0; i < 2; i++) {
        if (c.ev[i])
            event_free(c.ev[i]);
        if (c.fd[i] >= 0)
            close(c.fd[i]);
    }
    free(c.peers);
    loop_free(&c.loop);
    event_base_free(c.base);
    return rc;
}
