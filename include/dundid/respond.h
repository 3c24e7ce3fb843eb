/* Answering what peers ask us (respond.c): DPDISCOVER, EIDQUERY,
 * PRECACHERQ and REGREQ, in clear or in envelopes (protocol 2.3, 4.3, 6, 7). */
#ifndef DUNDID_RESPOND_H
#define DUNDID_RESPOND_H

#include "dundid/trans.h"

/* The handler of every transaction a peer opens. */
extern const struct trans_handler respond_handler;

#endif
