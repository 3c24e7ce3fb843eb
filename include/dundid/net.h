/* libevent glue: UDP sockets and the timer queue driven by one event. */
#ifndef DUNDID_NET_H
#define DUNDID_NET_H

#include <event2/event.h>

#include "dundid/timerq.h"
#include "dundid/trans.h"

/* The timer queue on an event_base: one libevent timer armed for the
 * earliest deadline; the queue tells the loop when that moves earlier. */
struct loop {
    struct event_base *base;
    struct event *tick;
    struct timerq tq;
    uint64_t armed_for;
};

int loop_init(struct loop *l, struct event_base *base);
void loop_free(struct loop *l);

/* Bind a UDP socket (non-blocking, close-on-exec, TOS set). Returns fd or -1
 * with errno; errbuf gets a readable reason. */
int udp_bind(const struct dundi_addr *addr, int tos, char *errbuf, size_t errlen);
/* Send one datagram, from to->local when it is set. Returns 0 or -1 (errno). */
int udp_send(int fd, const struct dundi_addr *to, const uint8_t *pkt, size_t len);
/* Receive one datagram; fills from (and from->local on wildcard sockets).
 * Returns its length or -1 (errno, EAGAIN when drained). */
ssize_t udp_recv(int fd, uint8_t *buf, size_t cap, struct dundi_addr *from);

#endif
