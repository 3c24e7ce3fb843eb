/* Prometheus metrics over HTTP ([general] metrics = IP:PORT): GET /metrics
 * returns the text exposition format (version 0.0.4); anything else is 404. */
#ifndef DUNDID_METRICS_H
#define DUNDID_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include <event2/buffer.h>
#include <event2/http.h>

struct server;

struct metrics {
    struct evhttp *http; /* NULL: not listening */
    struct server *srv;
    char host[64];
    uint16_t port;
    int64_t start_time; /* epoch seconds */
    uint64_t scrapes;
};

/* Listen on host:port (m zeroed before the first start). Returns 0 or -1
 * with a reason in err. */
int metrics_start(struct metrics *m, struct server *srv, const char *host, uint16_t port, char *err, size_t errlen);
void metrics_stop(struct metrics *m);
/* Follow a reload: start, stop or move the listener when the address changed. */
void metrics_reconfigure(struct metrics *m, struct server *srv, const char *host, uint16_t port);
/* The whole exposition into out. */
void metrics_render(const struct metrics *m, struct evbuffer *out);

#endif
