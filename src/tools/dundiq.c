/* dundiq: a "dig" for DUNDi. Sends one DPDISCOVER (or EIDQUERY) through the
 * same transaction engine the daemon uses and prints what comes back. */
#include <arpa/inet.h>
#include <getopt.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "dundid/clock.h"
#include "dundid/crypto.h"
#include "dundid/decimal.h"
#include "dundid/eid.h"
#include "dundid/net.h"
#include "dundid/trans.h"
#include "dundid/wire.h"

enum { EXIT_ANSWERS = 0, EXIT_NONE = 1, EXIT_ERROR = 2 };

struct query {
    struct event_base *base;
    struct loop loop;
    struct trans_engine *eng;
    int fd;
    eid_t eid;
    bool json, bypass, eidquery;
    int ttl;
    unsigned timeout_ms;
    const char *host;
    char number[DUNDI_MAX_NUMBER + 1], context[DUNDI_MAX_NUMBER + 1];
    eid_t reqeid;
    struct dundi_addr to;
    struct trans *t;
    struct timer deadline;
    bool got;
    int exit_code;
    uint8_t resp_cmd;
    struct dundi_ies ies;
    const char *keydir, *inkey, *outkey; /* encrypted lookups */
    uint8_t inner[DUNDI_MAX_INNER];
};

static void usage(FILE *f)
{
    fprintf(f, "usage: dundiq [options] HOST[:PORT] NUMBER[@CONTEXT]\n"
               "       dundiq [options] --eidquery EID HOST[:PORT] [CONTEXT]\n"
               "options:\n"
               "  --eid EID       the EID we present (default: random, locally administered)\n"
               "  --ttl N         hop limit (default 32)\n"
               "  --bypass        ask peers to bypass their caches (CACHEBYPASS)\n"
               "  --timeout MS    give up after MS (default 2000 + 200 x TTL)\n"
               "  --json          machine-readable output\n"
               "  --keydir DIR    folder of the key files (default /etc/dundid/keys)\n"
               "  --inkey NAME    the peer's public key (DIR/NAME.pub): encrypt the lookup\n"
               "  --outkey NAME   our private key (DIR/NAME.key) that signs our session key\n"
               "exit status: 0 answers, 1 no answers, 2 error or timeout\n");
}

static int send_dgram(void *ctx, const struct dundi_addr *to, const uint8_t *pkt, size_t len)
{
    struct query *q = ctx;
    return udp_send(q->fd, to, pkt, len);
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

static void print_lookup(struct query *q)
{
    struct dundi_ies *ie = &q->ies;
    char fl[160], eid[EID_STR_LEN];
    int expires = ie->expiration >= 0 ? ie->expiration : 0;

    qsort(ie->answers, ie->anscount, sizeof(ie->answers[0]), cmp_weight);
    if (q->json) {
        printf("{\"number\": ");
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
    if (q->json) {
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

static void on_command(struct trans *t, struct dundi_hdr *h, const uint8_t *ies, size_t len)
{
    struct query *q = t->owner;
    uint8_t cmd = dundi_hdr_cmd(h);
    struct dundi_hdr ih;

    if (cmd == DUNDI_CMD_ENCRYPT) {
        int rc = dundi_ies_decode(ies, len, &q->ies);
        if (rc == DUNDI_OK)
            rc = trans_open_envelope(t, h, &q->ies, q->inner, &ih, &ies, &len);
        if (rc != DUNDI_OK) {
            fprintf(stderr, "dundiq: %s: cannot open the encrypted response: %s\n", q->host,
                    t->encrypted ? crypto_strerror(rc) : "we did not ask encrypted");
            return;
        }
        h = &ih;
        cmd = dundi_hdr_cmd(h);
    } else if (t->encrypted && trans_cmd_encrypted(cmd)) {
        fprintf(stderr, "dundiq: %s: unencrypted %s ignored on an encrypted lookup\n", q->host, dundi_cmd_name(cmd));
        return;
    }
    if (cmd != DUNDI_CMD_DPRESPONSE && cmd != DUNDI_CMD_EIDRESPONSE && cmd != DUNDI_CMD_PRECACHERP) {
        if (cmd == DUNDI_CMD_ENCREJ)
            fprintf(stderr, "dundiq: %s rejected our %s request (ENCREJ)\n", q->host,
                    t->encrypted ? "encrypted" : "unencrypted");
        trans_default_command(t, h);
        return;
    }
    int rc = dundi_ies_decode(ies, len, &q->ies);
    if (rc < 0) {
        fprintf(stderr, "dundiq: malformed response: %s\n", dundi_strerror(rc));
        q->exit_code = EXIT_ERROR;
    } else {
        q->got = true;
        q->resp_cmd = cmd;
        if (q->eidquery)
            print_entity(q);
        else
            print_lookup(q);
        q->exit_code = (q->eidquery ? q->ies.has_organization : q->ies.anscount > 0) ? EXIT_ANSWERS : EXIT_NONE;
    }
    if (!dundi_hdr_final(h))
        trans_send(t, DUNDI_CMD_CANCEL, true, NULL);
}

/* A fresh session key for this one lookup: always sent in full, signed. */
static int setup_crypto(struct query *q)
{
    int err;
    const char *dir = q->keydir ? q->keydir : "/etc/dundid/keys";
    EVP_PKEY *pub = crypto_load_public(dir, q->inkey, &err);
    if (!pub) {
        fprintf(stderr, "dundiq: --inkey %s: %s/%s.pub: %s\n", q->inkey, dir, q->inkey, crypto_strerror(err));
        return -1;
    }
    EVP_PKEY *priv = crypto_load_private(dir, q->outkey, &err);
    if (!priv) {
        fprintf(stderr, "dundiq: --outkey %s: %s/%s.key: %s\n", q->outkey, dir, q->outkey, crypto_strerror(err));
        crypto_free_key(pub);
        return -1;
    }
    struct dundi_session_key k;
    int rc = crypto_session_new(&k, pub, priv);
    crypto_free_key(pub);
    crypto_free_key(priv);
    if (rc != CRYPTO_OK) {
        fprintf(stderr, "dundiq: cannot make a session key: %s\n", crypto_strerror(rc));
        return -1;
    }
    static struct dundi_ieb b;
    dundi_ieb_init(&b, 0);
    dundi_ie_put_eid(&b, DUNDI_IE_EID, &q->eid);
    dundi_ie_put_raw(&b, DUNDI_IE_SHAREDKEY, k.sharedkey, sizeof(k.sharedkey));
    dundi_ie_put_raw(&b, DUNDI_IE_SIGNATURE, k.signature, sizeof(k.signature));
    rc = trans_set_crypto(q->t, k.aes, b.buf, b.len);
    memset(&k, 0, sizeof(k));
    return rc;
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
    event_base_loopbreak(q->base);
}

static const struct trans_handler client_handler = {on_command, on_end};

static void on_deadline(void *arg)
{
    struct query *q = arg;
    fprintf(stderr, "dundiq: %s: no answer within %u ms\n", q->host, q->timeout_ms);
    q->exit_code = EXIT_ERROR;
    if (q->t) {
        trans_send(q->t, DUNDI_CMD_CANCEL, true, NULL);
        q->got = true; /* the CANCEL's own end is not a second error */
    }
    event_base_loopbreak(q->base);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    struct query *q = arg;
    uint8_t buf[DUNDI_MAX_PACKET + 1];
    (void)what;
    for (;;) {
        struct dundi_addr from;
        ssize_t n = udp_recv(fd, buf, sizeof(buf), &from);
        if (n < 0)
            break;
        trans_engine_input(q->eng, &from, buf, (size_t)n > sizeof(buf) ? sizeof(buf) : (size_t)n);
    }
}

/* HOST, HOST:PORT, [V6]:PORT or bare V6. */
static int parse_target(const char *arg, struct dundi_addr *out)
{
    char host[256], port[8] = "4520";
    const char *colon = strrchr(arg, ':');

    if (arg[0] == '[') {
        const char *end = strchr(arg, ']');
        if (!end || (size_t)(end - arg - 1) >= sizeof(host))
            return -1;
        memcpy(host, arg + 1, (size_t)(end - arg - 1));
        host[end - arg - 1] = '\0';
        if (end[1] == ':')
            snprintf(port, sizeof(port), "%s", end + 2);
    } else if (colon && strchr(arg, ':') == colon) {
        if ((size_t)(colon - arg) >= sizeof(host))
            return -1;
        memcpy(host, arg, (size_t)(colon - arg));
        host[colon - arg] = '\0';
        snprintf(port, sizeof(port), "%s", colon + 1);
    } else {
        snprintf(host, sizeof(host), "%s", arg);
    }
    struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *res;
    if (getaddrinfo(host, port, &hints, &res))
        return -1;
    memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
    out->len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

static void build_request(struct query *q, struct dundi_ieb *b)
{
    dundi_ieb_init(b, 0);
    dundi_ie_put_u16(b, DUNDI_IE_VERSION, 1);
    if (q->eidquery) {
        dundi_ie_put_eid(b, DUNDI_IE_EID, &q->eid);
        dundi_ie_put_eid(b, DUNDI_IE_REQEID, &q->reqeid);
        dundi_ie_put_str(b, DUNDI_IE_CALLED_CONTEXT, q->context);
        dundi_ie_put_u16(b, DUNDI_IE_TTL, (uint16_t)q->ttl);
        return;
    }
    dundi_ie_put_eid(b, DUNDI_IE_EID_DIRECT, &q->eid);
    dundi_ie_put_str(b, DUNDI_IE_CALLED_NUMBER, q->number);
    dundi_ie_put_str(b, DUNDI_IE_CALLED_CONTEXT, q->context);
    dundi_ie_put_u16(b, DUNDI_IE_TTL, (uint16_t)q->ttl);
    if (q->bypass)
        dundi_ie_put_empty(b, DUNDI_IE_CACHEBYPASS);
}

static bool split_number(const char *arg, char *number, char *context)
{
    const char *at = strchr(arg, '@');
    size_t nlen = at ? (size_t)(at - arg) : strlen(arg);
    const char *ctx = at ? at + 1 : "e164";
    if (!nlen || nlen > DUNDI_MAX_NUMBER || !*ctx || strlen(ctx) > DUNDI_MAX_NUMBER)
        return false;
    memcpy(number, arg, nlen);
    number[nlen] = '\0';
    strcpy(context, ctx);
    return true;
}

int main(int argc, char **argv)
{
    static struct query q;
    static const struct option longopts[] = {
        {"eid", required_argument, NULL, 'e'},     {"ttl", required_argument, NULL, 't'},
        {"bypass", no_argument, NULL, 'b'},         {"timeout", required_argument, NULL, 'T'},
        {"json", no_argument, NULL, 'j'},           {"eidquery", required_argument, NULL, 'Q'},
        {"keydir", required_argument, NULL, 'K'},  {"inkey", required_argument, NULL, 'I'},
        {"outkey", required_argument, NULL, 'O'},  {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    uint64_t num;

    eid_random(&q.eid);
    q.ttl = 32;
    while ((opt = getopt_long(argc, argv, "e:t:bT:jQ:K:I:O:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'e':
            if (eid_parse(&q.eid, optarg) < 0) {
                fprintf(stderr, "dundiq: --eid: '%s' is not an EID\n", optarg);
                return EXIT_ERROR;
            }
            break;
        case 't':
            if (!dec_parse_u64(optarg, strlen(optarg), 255, &num) || num < 1) {
                fprintf(stderr, "dundiq: --ttl must be 1..255\n");
                return EXIT_ERROR;
            }
            q.ttl = (int)num;
            break;
        case 'b': q.bypass = true; break;
        case 'T':
            if (!dec_parse_u64(optarg, strlen(optarg), 3600000, &num) || !num) {
                fprintf(stderr, "dundiq: --timeout must be 1..3600000 milliseconds\n");
                return EXIT_ERROR;
            }
            q.timeout_ms = (unsigned)num;
            break;
        case 'j': q.json = true; break;
        case 'Q':
            if (eid_parse(&q.reqeid, optarg) < 0) {
                fprintf(stderr, "dundiq: --eidquery: '%s' is not an EID\n", optarg);
                return EXIT_ERROR;
            }
            q.eidquery = true;
            break;
        case 'K': q.keydir = optarg; break;
        case 'I': q.inkey = optarg; break;
        case 'O': q.outkey = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return EXIT_ERROR;
        }
    }
    if (!q.inkey != !q.outkey) {
        fprintf(stderr, "dundiq: --inkey and --outkey go together\n");
        return EXIT_ERROR;
    }
    int nargs = argc - optind;
    if (q.eidquery ? (nargs < 1 || nargs > 2) : nargs != 2) {
        usage(stderr);
        return EXIT_ERROR;
    }
    q.host = argv[optind];
    if (parse_target(q.host, &q.to) < 0) {
        fprintf(stderr, "dundiq: cannot resolve '%s'\n", q.host);
        return EXIT_ERROR;
    }
    if (q.eidquery) {
        snprintf(q.context, sizeof(q.context), "%s", nargs == 2 ? argv[optind + 1] : "e164");
    } else if (!split_number(argv[optind + 1], q.number, q.context)) {
        fprintf(stderr, "dundiq: '%s' is not NUMBER@CONTEXT (each 1..%d characters)\n", argv[optind + 1],
                DUNDI_MAX_NUMBER);
        return EXIT_ERROR;
    }
    if (!q.timeout_ms)
        q.timeout_ms = 2000u + 200u * (unsigned)q.ttl;

    struct dundi_addr any = {.len = q.to.len};
    any.ss.ss_family = q.to.ss.ss_family;
    char err[128];
    q.fd = udp_bind(&any, 0, err, sizeof(err));
    q.base = event_base_new();
    if (q.fd < 0 || !q.base || loop_init(&q.loop, q.base) < 0) {
        fprintf(stderr, "dundiq: %s\n", q.fd < 0 ? err : "out of memory");
        return EXIT_ERROR;
    }
    q.eng = trans_engine_new(&q.loop.tq, &client_handler, 16);
    q.eng->send = send_dgram;
    q.eng->send_ctx = &q;
    struct event *ev = event_new(q.base, q.fd, EV_READ | EV_PERSIST, on_readable, &q);
    event_add(ev, NULL);

    q.t = trans_open(q.eng, &q.to, &client_handler, &q);
    if (q.inkey && setup_crypto(&q) < 0)
        return EXIT_ERROR;
    static struct dundi_ieb req;
    build_request(&q, &req);
    q.exit_code = EXIT_ERROR;
    trans_send(q.t, q.eidquery ? DUNDI_CMD_EIDQUERY : DUNDI_CMD_DPDISCOVER, false, &req);
    timer_init(&q.deadline, on_deadline, &q);
    timerq_arm(&q.loop.tq, &q.deadline, clock_now_ms() + q.timeout_ms);

    event_base_dispatch(q.base);

    /* Let a final ACK or CANCEL leave before we go. */
    trans_engine_free(q.eng);
    event_free(ev);
    loop_free(&q.loop);
    event_base_free(q.base);
    close(q.fd);
    return q.exit_code;
}
