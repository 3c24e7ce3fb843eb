/* Configuration snapshot: dundi.conf syntax plus dundid's own sections.
 * Loaded whole, validated, then swapped in; never modified while in use. */
#ifndef DUNDID_CONFIG_H
#define DUNDID_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "dundid/conf_text.h"
#include "dundid/crypto.h"
#include "dundid/dp_timing.h"
#include "dundid/eid.h"
#include "dundid/pattern.h"
#include "dundid/realtime_conf.h"
#include "dundid/trans.h"

#define CONF_NAME_MAX 80 /* contexts, key names: 79 characters as the reference */
#define CONF_STR_MAX 256
#define DUNDID_DEFAULT_KEYDIR "/etc/dundid/keys"
#define DUNDID_DEFAULT_CONTROL "/run/dundid/dundid.ctl"
#define DUNDID_CONTROL_GROUP "dundid" /* the control socket's group, when it exists */
#define CONF_CONTROL_MAX 108 /* sun_path, NUL included */
#define SESSION_KEY_LIFETIME_S 3600 /* fixed in the reference */

enum model { MODEL_NONE = 0, MODEL_INBOUND = 1, MODEL_OUTBOUND = 2, MODEL_SYMMETRIC = 3 };

/* One include/noinclude or permit/deny rule. Last matching rule wins. */
struct rule {
    char name[CONF_NAME_MAX];
    bool allow;
};

struct rulelist {
    struct rule *v;
    size_t n;
};

bool rules_allow(const struct rulelist *l, const char *context);

enum peer_order { ORDER_PRIMARY, ORDER_SECONDARY, ORDER_TERTIARY, ORDER_QUARTIARY };

struct peer_conf {
    eid_t eid;
    bool wildcard; /* the [*] section */
    bool cloned;   /* made from [*] for a stranger that registered */
    bool asterisk; /* from an Asterisk dundi.conf (-A): discarded as Asterisk would */
    int line;
    char host[CONF_STR_MAX];
    int host_line; /* where host = was set, for diagnostics */
    bool dynamic;
    bool has_addr;
    struct dundi_addr addr; /* static host, resolved at load */
    uint16_t port;
    int model;
    int pcmodel; /* precache model */
    struct rulelist include, permit;
    int order;
    char inkey[CONF_NAME_MAX];
    char outkey[CONF_NAME_MAX];
    EVP_PKEY *inkey_pub;   /* loaded from keydir/inkey.pub */
    EVP_PKEY *outkey_priv; /* loaded from keydir/outkey.key */
    int qualify_ms; /* 0 = off */
    bool reg;       /* register = yes */
    bool has_ustothem;
    eid_t us_eid; /* the EID we present to this peer */
    int autokill_ms; /* -1 = the global value */
    int addr_check;  /* peer_address_check: -1 = the global value, 0, 1 */
};

/* Option bits of a mapping beyond the wire flags. */
#define MAP_OPT_NOPARTIAL 0x10000u

struct mapping {
    char dcontext[CONF_NAME_MAX];
    char lcontext[CONF_NAME_MAX]; /* empty: the context is declared without local answers */
    int weight;                   /* when weight_expr is empty */
    char weight_expr[CONF_STR_MAX];
    int proto;
    char dest[CONF_STR_MAX];
    unsigned options; /* DUNDI_FLAG_* option bits | MAP_OPT_NOPARTIAL */
    int line;
    bool asterisk; /* from an Asterisk dundi.conf (-A) */
};

/* A static local context: [context NAME] with exten => PATTERN lines, or
 * a context of an Asterisk extensions.conf (-A). exten holds the
 * extensions that have a priority 1 and no caller ID match: the only ones
 * Asterisk's pbx_dundi can find (it asks for priority 1, without caller ID). */
struct local_context {
    char name[CONF_NAME_MAX];
    int line;
    struct pattern *exten;
    size_t nexten;
    struct pattern *ignorepat;
    size_t nignorepat;
    /* '!' patterns without a priority 1 (-A): Asterisk never answers from
     * them, but one that matches early still ends a MATCHMORE search. */
    struct pattern *early;
    size_t nearly;
    int *include; /* indices in config.contexts, in order (-1: not defined) */
    struct dp_timing *include_when; /* per include: when it applies (all bits: always) */
    size_t ninclude;
};

/* Asterisk's include depth bound (AST_PBX_MAX_STACK): contexts visited in
 * one search. */
#define CONTEXT_MAX_STACK 128

/* An address prefix (hep_allow). */
struct cidr {
    int family;
    uint8_t addr[16];
    unsigned bits;
};

bool cidr_match(const struct cidr *v, size_t n, const struct sockaddr *sa);

/* An address option as written. The parser takes a numeric one at once; a
 * host name is left to config_probe(). */
struct conf_addr_text {
    char text[CONF_STR_MAX]; /* "" = not set */
    int line;
};

#define REG_DEFAULT_CONTEXT "sipregistration"
#define REG_DEFAULT_STATEFILE "/var/lib/dundid/registrations.state"

/* [registrations]: the registration table and its SIP feeds. */
struct reg_conf {
    char regcontext[CONF_NAME_MAX];
    char capture[CONF_STR_MAX]; /* interface; "" = no live capture */
    char capture_filter[CONF_STR_MAX];
    char capture_file[CONF_STR_MAX]; /* a pcap file replayed at start */
    int capture_buffer_kb;           /* pcap_set_buffer_size, in KiB */
    bool capture_immediate;          /* pcap immediate mode; no: TPACKET_V3 blocks, fewer wakeups */
    bool has_hep;
    struct dundi_addr hep;
    struct conf_addr_text hep_text; /* the host part of hep = */
    uint16_t hep_port;
    char hep_password[CONF_STR_MAX];
    struct cidr *hep_allow; /* none = any source */
    size_t nhep_allow;
    char statefile[CONF_STR_MAX]; /* "" = none */
    bool statefile_set;           /* given in the file (else the default, used only with a feed) */
    int state_interval_s;
    int max_bindings;
    bool keep_other_registrars;
    int negative_cachetime; /* EXPIRATION of a lookup that found no binding */
    int default_expires;    /* a 2xx with neither contact nor header expires */
};

struct config {
    char *path; /* the file, as given */
    /* [general] */
    struct dundi_addr bindaddr; /* family 0 until resolved */
    struct dundi_addr bindaddr2;
    bool has_bindaddr2;
    struct conf_addr_text bindaddr_text, bindaddr2_text;
    uint16_t port;
    int tos;
    eid_t eid;
    bool has_eid;
    int ttl;
    int autokill_ms;
    int cachetime;
    bool storehistory;
    bool precache_registrations; /* push a registration change to precache peers at once */
    char department[CONF_NAME_MAX], organization[CONF_NAME_MAX], locality[CONF_NAME_MAX],
        stateprov[CONF_NAME_MAX], country[CONF_NAME_MAX], email[CONF_NAME_MAX], phone[CONF_NAME_MAX];
    char ipaddr[64]; /* ${IPADDR}; dundid: settable, else derived from bindaddr/hostname */
    bool ipaddr_derived; /* by config_probe(), not from the file */
    /* ${IPADDR} of an Asterisk folder's mappings (-A), set by config_probe():
     * ipaddr when the file sets it, else pbx_dundi's rule (see probe.c). */
    char ipaddr_asterisk[64];
    bool has_ipaddr_asterisk;
    int max_transactions;
    int max_per_source;      /* max_transactions_per_source: live ones per remote address */
    bool peer_address_check; /* static peers only from their host address */
    char keydir[CONF_STR_MAX];  /* relative paths are taken from the config file's folder */
    int session_key_lifetime_s; /* our AES session key towards a peer is renewed after this */
    int cache_size;             /* answer/hint cache entries (LRU beyond) */
    int dns_refresh_s;          /* peer host names are resolved again after this */
    char resolv_conf[CONF_STR_MAX]; /* nameservers for peer host names */
    /* State kept across restarts ("" = none): dynamic peers' registrations
     * and the answer cache (server/persist.c). */
    char peer_statefile[CONF_STR_MAX];
    char cache_statefile[CONF_STR_MAX];
    int loglevel; /* -1 = leave as started */
    /* process and operations (dundid's own; read at start, see ops_key()) */
    char pidfile[CONF_STR_MAX]; /* empty: -p or the default */
    char logfile[CONF_STR_MAX]; /* empty: stderr in the foreground, else syslog */
    char metrics_host[64];      /* empty: no metrics endpoint */
    uint16_t metrics_port;
    char control[CONF_CONTROL_MAX]; /* control socket; "" = none */
    bool control_set;               /* given in the file (a failure to bind is then fatal) */
    char control_group[CONF_NAME_MAX]; /* the socket's group; "" = "dundid" if it exists */

    struct mapping *maps; /* in file order */
    size_t nmaps;
    struct peer_conf *peers; /* in file order */
    size_t npeers;
    struct local_context *contexts;
    size_t ncontexts;
    struct reg_conf reg;
    struct realtime_conf realtime; /* [realtime] and [registrars] */

    struct conf_srcmap src; /* every file read, to name a location (see conf_text.h) */
    /* An Asterisk folder (-A DIR or [general] asterisk_dir): asterisk.conf,
     * dundi.conf and extensions.conf are read first, dundid's file after. */
    char *astdir_arg;                /* -A as given at start: reloads read it again */
    char asterisk_dir[CONF_STR_MAX]; /* the folder read ("" = none) */
    bool exec_includes;              /* asterisk.conf [options] execincludes */
    char systemname[CONF_NAME_MAX];  /* asterisk.conf [options] systemname */
};

/* What a configuration is read from. */
struct config_src {
    const char *path;         /* dundid's own file; NULL: none */
    const char *astdir;       /* an Asterisk folder (-A); NULL: none, or asterisk_dir = in path */
    const struct conf_fs *fs; /* NULL: the host's files */
};

/* Diagnostics collected while loading, each "FILE:LINE: reason". */
struct config_diag {
    char **msg; /* n messages, pointing into text */
    bool *is_error;
    size_t n;
    size_t errors, warnings;
    char *text; /* the messages' storage */
    size_t len, cap;
};

void config_diag_free(struct config_diag *d);

/* Read and validate FILE: no system call but reading it. Returns the
 * snapshot, or NULL when any error was found (every one of them is in diag).
 * Warnings never fail a load. What the text leaves to the host (the default
 * EID and ${IPADDR}, bindaddr/bindaddr2/hep host names, key files) is not
 * filled in yet: config_probe() does that. */
struct config *config_parse(const char *path, struct config_diag *diag);
/* The same from an open stream, called name in diagnostics (the fuzzer). */
struct config *config_parse_stream(FILE *f, const char *name, struct config_diag *diag);
/* Any of the sources: dundid's file, an Asterisk folder, or both. */
struct config *config_parse_src(const struct config_src *src, struct config_diag *diag);
/* config_parse_src, then config_probe(c, NULL): the start with -A. */
struct config *config_load_src(const struct config_src *src, struct config_diag *diag);
/* Probe the host for what config_parse() left open, adding any problem to
 * diag. prev: the running snapshot on a reload, NULL at start. With prev
 * nothing blocks: host names are not looked up (an unchanged one keeps its
 * address, a changed one is a warning: it takes effect at restart). Returns
 * 0, or -1 when it found an error (c must then be freed). */
int config_probe(struct config *c, const struct config *prev, struct config_diag *diag);
/* config_parse, then config_probe(c, running): a reload. The probe also
 * runs over a file with errors, so that every problem is reported at once.
 * The Asterisk folder the running snapshot was started with (-A) is read
 * again with it; path may then be NULL. */
struct config *config_reload(const char *path, const struct config *running, struct config_diag *diag);
/* The same at start (running = NULL): dundid -t, the start, tools, tests. */
struct config *config_load(const char *path, struct config_diag *diag);
void config_free(struct config *c);

const struct peer_conf *config_find_peer(const struct config *c, const eid_t *eid);
/* A stranger registered through [*] (7.7): append a copy of [*] as a real
 * peer with this EID, kept until the next load. The one change made to a
 * snapshot in use; it moves c->peers, so pointers into it must be looked up
 * again. NULL without [*], for a known EID, beyond CONF_MAX_CLONES, or when
 * out of memory. */
#define CONF_MAX_CLONES 1024
const struct peer_conf *config_clone_wildcard(struct config *c, const eid_t *eid);
const struct local_context *config_find_context(const struct config *c, const char *name);
/* Does any mapping exist for this DUNDi context (case-insensitive)? */
bool config_has_dcontext(const struct config *c, const char *dcontext);
/* The EID we present to a peer (ustothem or the global one). */
const eid_t *config_us_eid(const struct config *c, const struct peer_conf *p);
int config_peer_autokill(const struct config *c, const struct peer_conf *p);
/* Must a request naming peer p come from p's host address? */
bool config_peer_addr_check(const struct config *c, const struct peer_conf *p);

const char *model_name(int model);
/* Is name the registration context (answers come from the registration table)? */
bool config_is_regcontext(const struct config *c, const char *name);

#endif
