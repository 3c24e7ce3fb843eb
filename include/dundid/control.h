/* The control socket: a unix stream socket on the event loop that runs
 * dundictl's commands (protocol in ctl_proto.h, commands in ctl_cmds.c). */
#ifndef DUNDID_CONTROL_H
#define DUNDID_CONTROL_H

#include <stdbool.h>
#include <stddef.h>

#include "dundid/config.h"
#include "dundid/ctl_out.h"
#include "dundid/ctl_proto.h"

#define CTL_MAX_CLIENTS 128
#define CTL_OUTPUT_MAX (16u << 20) /* one response; a longer one is replaced by an error */
#define CTL_IDLE_S 60              /* a client silent this long is closed */

struct server;
struct control;

/* Open conf's control socket (*out = NULL when there is none). A default
 * path that cannot be used logs one warning and gives no socket; a path
 * given in the file that cannot be bound is an error (-1, reason in err). */
int control_open(struct control **out, struct server *s, const struct config *conf, char *err, size_t errlen);
/* Close every client (running commands are abandoned) and remove the socket. */
void control_close(struct control *ctl);

/* One command being run for a client. */
struct ctl_call {
    struct server *s;
    struct ctl_out out;
    bool ok;
    char reason[CTL_REASON_MAX];
    /* Commands that finish later (lookup) set cancel and pending, and call
     * ctl_call_done once; cancel is called instead if the client goes away. */
    void (*cancel)(struct ctl_call *c);
    void *pending;
    void (*deliver)(struct ctl_call *c); /* control.c's side */
    void *client;
};

enum ctl_status { CTL_DONE, CTL_PENDING };

/* Run rq (ctl_cmds.c). Output goes to c->out; failure sets ok = false and reason. */
enum ctl_status ctl_execute(struct ctl_call *c, const struct ctl_request *rq);
void ctl_fail(struct ctl_call *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* An asynchronous command has its result in c. */
void ctl_call_done(struct ctl_call *c);

#endif
