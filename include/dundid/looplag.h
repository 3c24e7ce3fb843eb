/* Event-loop lag probe (looplag.c): a periodic timer that records how late
 * it runs, so a stalled loop shows in the stats. */
#ifndef DUNDID_LOOPLAG_H
#define DUNDID_LOOPLAG_H

struct server;

#define LOOPLAG_PERIOD_MS 100
int looplag_start(struct server *s);
void looplag_stop(struct server *s);

#endif
