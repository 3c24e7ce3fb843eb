/* Dropping root after the sockets (and capture devices) are open. */
#include "dundid/procutil.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int privdrop(const char *user, char *err, size_t errlen)
{
    errno = 0;
    struct passwd *pw = getpwnam(user);
    if (!pw) {
        snprintf(err, errlen, "user '%s': %s", user, errno ? strerror(errno) : "no such user");
        return -1;
    }
    uid_t uid = pw->pw_uid;
    gid_t gid = pw->pw_gid;
    if (getuid() == uid && geteuid() == uid && getgid() == gid)
        return 0; /* already that user (e.g. started by systemd with User=) */
    if (geteuid() != 0) {
        snprintf(err, errlen, "-u %s: only root can change user", user);
        return -1;
    }
    if (initgroups(pw->pw_name, gid) < 0 || setgid(gid) < 0 || setuid(uid) < 0) {
        snprintf(err, errlen, "cannot become user '%s': %s", user, strerror(errno));
        return -1;
    }
    /* Verify: the ids took, and root cannot be regained. */
    if (getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid ||
        (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))) {
        snprintf(err, errlen, "user '%s': the privilege drop did not hold", user);
        return -1;
    }
    return 0;
}
