/* Control socket: listener and clients on the event loop. Each client runs
 * one request at a time; its input and output are bounded, nothing blocks. */
#include "dundid/control.h"

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "dundid/log.h"
#include "dundid/server.h"

struct client {
    struct control *ctl;
    struct client *next, **pprev;
    struct bufferevent *bev;
    struct ctl_call *call; /* the request running now */
    bool closing;          /* close once the output has gone */
    bool eof;              /* the client sends no more */
    unsigned id;
};

struct control {
    struct server *s;
    struct evconnlistener *lst;
    char path[CONF_CONTROL_MAX];
    dev_t dev;
    ino_t ino;
    struct client *clients;
    unsigned nclients, next_id;
    struct ctl_request rq; /* the line being parsed and started (one at a time) */
};

static void client_free(struct client *cl)
{
    if (cl->call) {
        if (cl->call->cancel)
            cl->call->cancel(cl->call);
        ctl_out_free(&cl->call->out);
        free(cl->call);
    }
    *cl->pprev = cl->next;
    if (cl->next)
        cl->next->pprev = cl->pprev;
    cl->ctl->nclients--;
    bufferevent_free(cl->bev);
    free(cl);
}

static void send_response(struct client *cl, const char *out, size_t len, bool ok, const char *reason)
{
    size_t n;
    char *f = ctl_frame(out, len, ok, reason, &n);
    if (!f || bufferevent_write(cl->bev, f, n) < 0)
        cl->closing = true;
    free(f);
}

/* Junk or an overlong line: one error, then the connection ends. */
static void reject(struct client *cl, const char *reason)
{
    log_info("control client %u: %s; closing", cl->id, reason);
    send_response(cl, NULL, 0, false, reason);
    cl->closing = true;
    bufferevent_disable(cl->bev, EV_READ);
}

static void finish_call(struct client *cl)
{
    struct ctl_call *c = cl->call;
    /* Half a table, or half a JSON object, is worse than none. */
    if (c->out.full) {
        c->ok = false;
        snprintf(c->reason, sizeof(c->reason), "answer longer than %u bytes; not sent", CTL_OUTPUT_MAX);
        c->out.len = 0;
    }
    send_response(cl, c->out.buf, c->out.len, c->ok, c->reason);
    ctl_out_free(&c->out);
    free(c);
    cl->call = NULL;
}

static void deliver(struct ctl_call *c)
{
    struct client *cl = c->client;
    c->cancel = NULL;
    finish_call(cl);
}

/* Take the next complete line, if no request is running and the last
 * response has been written. May free cl. */
static void process(struct client *cl)
{
    struct evbuffer *in = bufferevent_get_input(cl->bev);
    if (cl->call || cl->closing || evbuffer_get_length(bufferevent_get_output(cl->bev)))
        return;
    size_t len;
    struct evbuffer_ptr eol = evbuffer_search_eol(in, NULL, &len, EVBUFFER_EOL_LF);
    if (eol.pos < 0 && cl->eof) {
        client_free(cl); /* an unterminated last line is dropped */
        return;
    }
    if (eol.pos < 0) {
        if (evbuffer_get_length(in) > CTL_LINE_MAX + 1) {
            char why[64];
            snprintf(why, sizeof(why), "request longer than %d bytes", CTL_LINE_MAX);
            reject(cl, why);
        }
        return;
    }
    if ((size_t)eol.pos > CTL_LINE_MAX + 1) {
        char why[64];
        snprintf(why, sizeof(why), "request longer than %d bytes", CTL_LINE_MAX);
        reject(cl, why);
        return;
    }
    char line[CTL_LINE_MAX + 2];
    size_t n = (size_t)eol.pos;
    evbuffer_remove(in, line, n);
    evbuffer_drain(in, len);

    struct ctl_request *rq = &cl->ctl->rq;
    char err[CTL_REASON_MAX];
    if (ctl_parse(line, n, rq, err, sizeof(err)) < 0) {
        reject(cl, err);
        return;
    }
    struct ctl_call *c = calloc(1, sizeof(*c));
    if (!c) {
        reject(cl, "out of memory");
        return;
    }
    c->s = cl->ctl->s;
    c->ok = true;
    c->client = cl;
    c->deliver = deliver;
    ctl_out_init(&c->out, CTL_OUTPUT_MAX, rq->json);
    cl->call = c;
    if (ctl_execute(c, rq) == CTL_DONE)
        finish_call(cl);
}

static void on_read(struct bufferevent *bev, void *arg)
{
    (void)bev;
    process(arg);
}

/* The response has gone: close, or take the next request. */
static void on_write(struct bufferevent *bev, void *arg)
{
    struct client *cl = arg;
    (void)bev;
    if (cl->closing) {
        client_free(cl);
        return;
    }
    process(cl);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    struct client *cl = arg;
    (void)bev;
    /* End of input while a command runs: the client has gone (dundictl keeps
     * its side open until it has the answer), so the command is abandoned.
     * Otherwise what was asked is still answered, then the connection closes. */
    if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) && !cl->call) {
        cl->eof = true;
        bufferevent_disable(cl->bev, EV_READ);
        process(cl);
        return;
    }
    client_free(cl);
}

static void on_accept(struct evconnlistener *lst, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg)
{
    struct control *ctl = arg;
    (void)lst;
    (void)sa;
    (void)salen;
    if (ctl->nclients >= CTL_MAX_CLIENTS) {
        static const char busy[] = "ERR too many control clients\n.\n";
        ssize_t w = write(fd, busy, sizeof(busy) - 1); /* a fresh socket's buffer has room */
        (void)w;
        close(fd);
        log_info("control: %u clients already; one refused", ctl->nclients); /* no log flood */
        return;
    }
    struct client *cl = calloc(1, sizeof(*cl));
    struct bufferevent *bev = bufferevent_socket_new(server_base(ctl->s), fd, BEV_OPT_CLOSE_ON_FREE);
    if (!cl || !bev) {
        free(cl);
        if (bev)
            bufferevent_free(bev);
        else
            close(fd);
        return;
    }
    cl->ctl = ctl;
    cl->bev = bev;
    cl->id = ++ctl->next_id;
    cl->next = ctl->clients;
    if (ctl->clients)
        ctl->clients->pprev = &cl->next;
    ctl->clients = cl;
    cl->pprev = &ctl->clients;
    ctl->nclients++;
    /* Reading stops once a line's worth waits unprocessed: input stays bounded. */
    bufferevent_setwatermark(bev, EV_READ, 0, CTL_LINE_MAX + 2);
    bufferevent_setcb(bev, on_read, on_write, on_event, cl);
    struct timeval idle = {CTL_IDLE_S, 0};
    bufferevent_set_timeouts(bev, &idle, &idle);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
}

/* Is something answering on path? (A leftover socket of a dead dundid is not.) */
static bool socket_alive(const char *path)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    bool alive = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
    close(fd);
    return alive;
}

static int bind_socket(const char *path, char *err, size_t errlen)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    struct stat st;
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            snprintf(err, errlen, "%s exists and is not a socket", path);
            return -1;
        }
        if (socket_alive(path)) {
            snprintf(err, errlen, "%s is in use (another dundid running?)", path);
            return -1;
        }
        unlink(path);
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    mode_t old = umask(0117); /* 0660 from the start: no moment of wider access */
    int rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
    int e = errno;
    umask(old);
    if (rc < 0 || listen(fd, 64) < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(rc < 0 ? e : errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* The socket's group: control_group, else "dundid" when that group exists,
 * else left as created (our own group). Members of the group may connect. */
static int set_group(const char *path, const struct config *conf, char *note, size_t notelen, char *err,
                     size_t errlen)
{
    const char *name = conf->control_group[0] ? conf->control_group : DUNDID_CONTROL_GROUP;
    struct group *gr = getgrnam(name);
    char *end;
    unsigned long num = strtoul(name, &end, 10);
    gid_t gid = gr ? gr->gr_gid : (gid_t)num;
    if (!gr && (*end || !conf->control_group[0])) {
        if (conf->control_group[0]) {
            snprintf(err, errlen, "control_group: no group named %s", name);
            return -1;
        }
        gr = getgrgid(getegid());
        snprintf(note, notelen, "group %s: there is no group %s (set control_group)",
                 gr ? gr->gr_name : "of the daemon", name);
        return 0;
    }
    /* Under the unit (Group=dundid) it is ours already: no chown, which its
     * system call filter (~@privileged) forbids. */
    struct stat st;
    if (stat(path, &st) == 0 && st.st_gid == gid) {
        snprintf(note, notelen, "group %s", name);
        return 0;
    }
    if (chown(path, (uid_t)-1, gid) < 0) {
        snprintf(err, errlen, "control socket %s: cannot give it to group %s: %s", path, name, strerror(errno));
        return -1;
    }
    snprintf(note, notelen, "group %s", name);
    return 0;
}

int control_open(struct control **out, struct server *s, const struct config *conf, char *err, size_t errlen)
{
    *out = NULL;
    if (!conf->control[0])
        return 0;
    char why[256];
    int fd = bind_socket(conf->control, why, sizeof(why));
    if (fd < 0) {
        if (conf->control_set) {
            snprintf(err, errlen, "control socket: %s", why);
            return -1;
        }
        log_warning("control socket: %s; running without it (set control = PATH or none)", why);
        return 0;
    }
    struct control *ctl = calloc(1, sizeof(*ctl));
    struct stat st;
    if (!ctl || stat(conf->control, &st) < 0) {
        free(ctl);
        close(fd);
        snprintf(err, errlen, "control socket: %s", strerror(errno ? errno : ENOMEM));
        return -1;
    }
    char note[256];
    if (set_group(conf->control, conf, note, sizeof(note), why, sizeof(why)) < 0) {
        free(ctl);
        close(fd);
        unlink(conf->control);
        snprintf(err, errlen, "%s", why);
        return -1;
    }
    ctl->s = s;
    ctl->dev = st.st_dev;
    ctl->ino = st.st_ino;
    snprintf(ctl->path, sizeof(ctl->path), "%s", conf->control);
    ctl->lst = evconnlistener_new(server_base(s), on_accept, ctl, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
    if (!ctl->lst) {
        close(fd);
        unlink(ctl->path);
        free(ctl);
        snprintf(err, errlen, "control socket: cannot watch it");
        return -1;
    }
    log_notice("control socket %s (%s)", ctl->path, note);
    *out = ctl;
    return 0;
}

void control_close(struct control *ctl)
{
    if (!ctl)
        return;
    while (ctl->clients)
        client_free(ctl->clients);
    evconnlistener_free(ctl->lst);
    /* Only our own socket: a newer dundid may have taken the path over. */
    struct stat st;
    if (stat(ctl->path, &st) == 0 && st.st_dev == ctl->dev && st.st_ino == ctl->ino)
        unlink(ctl->path);
    free(ctl);
}

void ctl_call_done(struct ctl_call *c) { c->deliver(c); }
