/* State files written by a child process (bgsave.c). fork() gives the child
 * the memory as it was at that instant, kept for it by copy-on-write: a
 * consistent snapshot that it formats, writes, fsyncs and renames into
 * place (statefile_save) while the parent's loop goes on answering. The
 * loop pays only for the fork (page tables: about 1 ms per 100 MB of RSS)
 * instead of the whole write (about 120 ms per 100 000 cache keys).
 *
 * The child keeps none of the parent's descriptors but its result pipe, and
 * dies of the signals that stop the daemon. Its end is seen on the pipe and
 * reported from the loop through done. */
#ifndef DUNDID_BGSAVE_H
#define DUNDID_BGSAVE_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

struct event;
struct event_base;

struct bgsave {
    pid_t pid;           /* the child while it runs, else 0 */
    int fd;              /* its result pipe */
    struct event *ev;
    char err[256];       /* what the child reported */
    size_t errlen;
    void (*done)(void *arg, bool ok, const char *err);
    void *arg;
};

void bgsave_init(struct bgsave *b);
/* Save PATH through write (as statefile_save) in a child. Returns 0, or -1
 * with err when no child could be started (the caller may save inline).
 * done runs from the loop when the child has ended. One child at a time:
 * -1 while one runs. */
int bgsave_start(struct bgsave *b, struct event_base *base, const char *path, long (*write)(void *ctx, FILE *f),
                 void *ctx, void (*done)(void *arg, bool ok, const char *err), void *arg, char *err, size_t errlen);
bool bgsave_running(const struct bgsave *b);
/* Block until a running child has ended; done runs before this returns
 * (at stop, before the last save, which is made inline). */
void bgsave_wait(struct bgsave *b);

#endif
