/* Process setup: the pid file and dropping root. */
#ifndef DUNDID_PROCUTIL_H
#define DUNDID_PROCUTIL_H

#include <stddef.h>

#ifndef DUNDID_DEFAULT_PIDFILE
#define DUNDID_DEFAULT_PIDFILE "/run/dundid/dundid.pid"
#endif

/* Create and lock the pid file (no symlinks followed; a second dundid on the
 * same file fails here, naming the pid that holds it) and write our pid.
 * Returns 0 or -1 with a reason in err. */
int pidfile_create(const char *path, char *err, size_t errlen);
/* Write the current pid again (after daemon() changed it; the lock stays). */
int pidfile_update(void);
/* Remove the file if we created it, and close it. */
void pidfile_remove(void);

/* Become user (name or numeric uid): supplementary groups of the user,
 * setgid, setuid, then verify that root cannot be regained.
 * Returns 0 or -1 with a reason in err. */
int privdrop(const char *user, char *err, size_t errlen);

#endif
