/* Process setup: the pid file and dropping root. */
#ifndef DUNDID_PROCUTIL_H
#define DUNDID_PROCUTIL_H

#include <stddef.h>

#ifndef DUNDID_DEFAULT_PIDFILE
#define DUNDID_DEFAULT_PIDFILE "/run/dundid/dundid.pid"
/* Detach: fork; the parent waits until the child calls daemonize_done()
 * and exits with that status (1 if the child dies first), so the command
 * that started us fails when startup does, and the pid file names the
 * daemon when the command returns. Returns 0 in the child, -1 (errno). */
int daemonize_begin(void);
/* In the child, startup finished: tell the parent, drop the terminal
 * (stdin, stdout, stderr to /dev/null). */
void daemonize_done(int status);

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

/* Detach: fork; the parent waits until the child calls daemonize_done()
 * and exits with that status (1 if the child dies first), so the command
 * that started us fails when startup does, and the pid file names the
 * daemon when the command returns. Returns 0 in the child, -1 (errno). */
int daemonize_begin(void);
/* In the child, startup finished: tell the parent, drop the terminal
 * (stdin, stdout, stderr to /dev/null). */
void daemonize_done(int status);

#endif
