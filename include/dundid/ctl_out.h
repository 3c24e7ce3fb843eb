/* Output of control commands: text with a size limit, and a small JSON
 * writer on the same buffer. Pure. */
#ifndef DUNDID_CTL_OUT_H
#define DUNDID_CTL_OUT_H

#include <stdbool.h>
#include <stddef.h>

#define CTL_JSON_DEPTH 16

struct ctl_out {
    char *buf;
    size_t len, cap, limit;
    bool full; /* the limit (or memory) was reached: later output is dropped */
    bool json;
    unsigned depth;
    char closer[CTL_JSON_DEPTH];
    bool comma[CTL_JSON_DEPTH];
};

void ctl_out_init(struct ctl_out *o, size_t limit, bool json);
void ctl_out_free(struct ctl_out *o);
void ctl_write(struct ctl_out *o, const char *s, size_t n);
void ctl_printf(struct ctl_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* JSON values; key is NULL inside arrays and for the top-level object. */
void cj_obj(struct ctl_out *o, const char *key);
void cj_arr(struct ctl_out *o, const char *key);
void cj_end(struct ctl_out *o); /* closes the innermost object or array */
void cj_str(struct ctl_out *o, const char *key, const char *val);
void cj_int(struct ctl_out *o, const char *key, long long val);
void cj_bool(struct ctl_out *o, const char *key, bool val);
void cj_null(struct ctl_out *o, const char *key);

#endif
