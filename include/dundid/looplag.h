/* Event-loop lag probe (looplag.c): a periodic timer that records how late
 * it runs, so a stalled loop shows in the stats. */
#ifndef DUNDID_LOOPLAG_H
#define DUNDID_LOOPLAG_H

struct server;

#define LOOPLAG_PERIOD_MS 100
int looplag_start(struct server *s);
void looplag_stop(struct server *s);
/* Around one callback of the loop: its CPU time (thread clock, so time spent
 * waiting for a CPU on a busy host does not count) feeds work_max_us. */
void looplag_work_begin(struct server *s);
void looplag_work_end(struct server *s);

#endif
