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
    void (*around)(void *ctx, bool before); /* optional: told before and after running timers */
    void *around_ctx;
};

int loop_init(struct loop *l, struct event_base *base);
void loop_free(struct loop *l);

/* Bind a UDP socket (non-blocking, close-on-exec, TOS set). Returns fd or -1
 * with errno; errbuf gets a readable reason. */
int udp_bind(const struct dundi_addr *addr, int tos, char *errbuf, size_t errlen);
/* The receive buffer, past net.core.rmem_max when privileged. */
void udp_set_rcvbuf(int fd, int bytes);
/* Send one datagram, from to->local when it is set. Returns 0 or -1 (errno). */
int udp_send(int fd, const struct dundi_addr *to, const uint8_t *pkt, size_t len);
/* Receive one datagram; fills from (and from->local on wildcard sockets).
 * Returns its length or -1 (errno, EAGAIN when drained). */
ssize_t udp_recv(int fd, uint8_t *buf, size_t cap, struct dundi_addr *from);

/* Batched datagram I/O (recvmmsg/sendmmsg): one system call for up to
 * UDP_BATCH datagrams each way. Receive a batch, handle each datagram, and
 * the replies queued meanwhile leave together with udp_batch_flush. */
#define UDP_BATCH 64

struct udp_batch;

struct udp_batch *udp_batch_new(void);
void udp_batch_free(struct udp_batch *b);
/* Read up to UDP_BATCH datagrams; returns how many (0 when drained or on
 * error). A datagram longer than DUNDI_MAX_PACKET shows with the length
 * DUNDI_MAX_PACKET + 1 (dropped as oversize by the engine). */
int udp_recv_batch(int fd, struct udp_batch *b);
/* Datagram i of the last udp_recv_batch: its bytes, length and sender. */
const uint8_t *udp_batch_msg(const struct udp_batch *b, int i, size_t *len, struct dundi_addr *from);
/* Queue one datagram on fd (a copy; sent by udp_batch_flush, or at once when
 * the queue is full or holds another socket's). Returns 0 or -1. */
int udp_batch_send(struct udp_batch *b, int fd, const struct dundi_addr *to, const uint8_t *pkt, size_t len);
/* Send what is queued (sendmmsg). Returns how many could not be sent. */
int udp_batch_flush(struct udp_batch *b);

#endif
