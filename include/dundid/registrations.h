/* The registration table inside the daemon: its feeds (libpcap capture or a
 * pcap file, HEP listener), expiry, and the state file. */
#ifndef DUNDID_REGISTRATIONS_H
#define DUNDID_REGISTRATIONS_H

#include <stddef.h>
#include <stdint.h>

#include "dundid/sipfeed.h"

struct server;
struct config;

struct feed_stats {
    uint64_t frames;          /* captured frames or HEP datagrams */
    uint64_t undecodable;     /* link/IP/UDP/TCP or HEP errors */
    uint64_t hep_denied;      /* HEP from a source outside hep_allow */
    uint64_t hep_bad_auth;    /* HEP with a missing or wrong password */
    uint64_t not_sip;         /* HEP carrying something else than SIP */
    uint64_t state_saves, state_save_errors;
};

/* Create the table, load the state file, open the capture and the HEP socket
 * (before privileges are dropped). Returns 0, or -1 with err. */
int registrations_start(struct server *s, char *err, size_t errlen);
/* Apply a new snapshot's [registrations] (the table itself is kept). */
void registrations_reload(struct server *s, const struct config *old);
/* Write the state file now (also done periodically and at stop). */
int registrations_save(struct server *s);
void registrations_stop(struct server *s);

/* What the feeds have not handled yet, and what the kernel dropped before
 * they could (read when asked: the counters and metrics). */
struct feed_backlog {
    uint64_t hep_queued_bytes; /* in the HEP socket's receive queue */
    uint64_t hep_drops;        /* datagrams the kernel dropped: the queue was full */
    uint64_t capture_drops;    /* pcap_stats ps_drop: no room in the capture buffer */
    uint64_t capture_ifdrops;  /* pcap_stats ps_ifdrop: dropped by the interface */
};
void registrations_backlog(const struct server *s, struct feed_backlog *out);

const struct feed_stats *registrations_feed_stats(const struct server *s);
void registrations_sip_stats(const struct server *s, struct sipfeed_stats *out);

#endif
