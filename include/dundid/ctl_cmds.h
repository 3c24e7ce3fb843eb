/* Control commands: the table and the commands that change state
 * (ctl_cmds.c), the show commands (ctl_peers.c, ctl_cache.c, ctl_regs.c,
 * ctl_show.c), and those that ask the network (ctl_lookup.c). */
#ifndef DUNDID_CTL_CMDS_H
#define DUNDID_CTL_CMDS_H

#include "dundid/control.h"

typedef enum ctl_status (*ctl_fn)(struct ctl_call *c, int argc, char **argv);

enum ctl_status show_peers(struct ctl_call *c, int argc, char **argv);
enum ctl_status show_peer(struct ctl_call *c, int argc, char **argv);
enum ctl_status show_trans(struct ctl_call *c, int argc, char **argv);
enum ctl_status show_cache(struct ctl_call *c, int argc, char **argv);
enum ctl_status show_hints(struct ctl_call *c, int argc, char **argv);
enum ctl_status show_mappings(struct ctl_call *c, int argc, char **argv);
enum ctl_status show_precache(struct ctl_call *c, int argc, char **argv);
enum ctl_status show_requests(struct ctl_call *c, int argc, char **argv);
enum ctl_status show_entityid(struct ctl_call *c, int argc, char **argv);
enum ctl_status show_registrations(struct ctl_call *c, int argc, char **argv);
enum ctl_status show_realtime(struct ctl_call *c, int argc, char **argv);
enum ctl_status show_stats(struct ctl_call *c, int argc, char **argv);
enum ctl_status cmd_lookup(struct ctl_call *c, int argc, char **argv);
enum ctl_status cmd_query(struct ctl_call *c, int argc, char **argv);
enum ctl_status cmd_precache(struct ctl_call *c, int argc, char **argv);

/* "NUMBER[@CONTEXT]" into its parts (context e164 when absent). Returns 0,
 * or -1 after ctl_fail when a part is empty or too long. */
int ctl_split_at(struct ctl_call *c, const char *arg, char *number, char *context, size_t cap);

#endif
