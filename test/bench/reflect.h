/* The canned responder of dundi-bench --reflect. */
#ifndef DUNDI_BENCH_REFLECT_H
#define DUNDI_BENCH_REFLECT_H

#include "dundid/eid.h"
#include "dundid/trans.h"

/* Answer every DPDISCOVER on addr for the given number of seconds. */
int reflect_run(const struct dundi_addr *addr, const eid_t *us, unsigned seconds);

#endif
