/* Departures: what the wire (a registrar's own 2xx, seen by capture or HEP)
 * said has left, kept so that a database row that is not newer cannot bring
 * it back. chan_sip leaves the row of a peer that had not registered since it
 * was loaded untouched when it unregisters (fullcontact and a future
 * regseconds stay), so RealTime keeps returning a phone the wire saw leave.
 *
 * A departure is (extension, registrar, contact, until, at): at `at` the
 * registrar stopped holding the contact; a row of that registration says an
 * expiry of at most `until`. An empty contact is a departure whose contact
 * was not known (the 2xx listed nothing and the table had nothing there): the
 * first row offered for it is taken as the stale one and learnt.
 * Pure: no I/O, no clock. */
#ifndef DUNDID_DEPARTURES_H
#define DUNDID_DEPARTURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REG_DEPARTURES_MAX 65536 /* beyond, the one that runs out first is dropped */
/* How long a departure of unknown contact is kept: a stale row's expiry is
 * at most a registration's lifetime after the wire event (chan_sip's default
 * maxexpiry is 3600 s). */
#define REG_DEPARTURE_UNKNOWN_S 3600
/* Clock difference allowed between the registrar writing regseconds and
 * dundid timing the 2xx. */
#define REG_DEPARTURE_SLACK_S 2

struct reg_departure {
    const char *ext, *registrar, *contact; /* contact "" = not known */
    int64_t until, at;
};

enum departure_verdict {
    DEPARTURE_NONE,  /* nothing recorded for it: take the row */
    DEPARTURE_STALE, /* the row is the registration that left: refuse it */
    DEPARTURE_NEWER, /* a newer registration (later expiry): take it, the departure is forgotten */
};

struct departures;

struct departures *departures_new(uint64_t seed);
void departures_free(struct departures *d);
void departures_clear(struct departures *d);

/* Record one, replacing one of the same (ext, registrar, contact). Returns 0
 * or -1 (bad field, memory). */
int departures_add(struct departures *d, const char *ext, const char *registrar, const char *contact,
                   int64_t until, int64_t at);
/* Is anything recorded at (ext, registrar)? */
bool departures_any(const struct departures *d, const char *ext, const char *registrar);
/* A record feed offers (ext, registrar, contact) with an expiry: the verdict
 * (an unknown departure learns the row as the stale one). */
enum departure_verdict departures_check(struct departures *d, const char *ext, const char *registrar,
                                        const char *contact, int64_t expires);
/* The registrar registered something for ext again (on the wire): forget
 * what it said left. Returns how many were forgotten. */
size_t departures_forget(struct departures *d, const char *ext, const char *registrar);
/* Forget those whose until has passed. Returns how many. */
size_t departures_expire(struct departures *d, int64_t now);
void departures_foreach(const struct departures *d, bool (*fn)(void *ctx, const struct reg_departure *x), void *ctx);

size_t departures_count(const struct departures *d);
uint64_t departures_dropped(const struct departures *d); /* dropped at REG_DEPARTURES_MAX */
uint64_t departures_bytes(const struct departures *d);

#endif
