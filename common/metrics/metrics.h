/* Folder common/metrics: the Prometheus endpoint, latency histograms, process and pool
 * gauges. Includes common/, common/store/ and common/server/ (it reads the server's load);
 * nothing includes it but main.c. */
/* Prometheus metrics and health endpoint (libmicrohttpd, one internal thread, loaded only
 * when an address is given: see common/httpd.h).
 *   GET /metrics  text format 0.0.4: silo_operations_seconds (per method and status), RPC
 *                 load (in flight, queued, workers), pool and volume gauges, process
 *                 resources, silo_build_info, plus whatever registered collectors write.
 *   GET /healthz  200 "ok" while silo->ready, else 503.
 * Wiring in main():
 *   rpc_set_observer(metrics_observe);                   before rpc_server_start
 *   metrics_start(cfg.metrics_address, &silo, srv, &m);  after it; m stays NULL when off
 *   metrics_stop(m);                                      before rpc_server_stop */
#pragma once

#include <sys/socket.h>

#include "common/metrics/promtext.h"

struct metrics;
struct rpc_server;
struct silo;

/* address: "host:port", "[v6]:port" or ":port" (all IPv4 interfaces); port 0 picks a free
 * one (see metrics_port). NULL or "" means off: returns 0 with *ret = NULL. Junk is -EINVAL
 * (logged with the reason); a port in use is -EADDRINUSE. silo and srv are borrowed and must
 * outlive the endpoint; srv may be NULL (no load figures). */
int metrics_start(const char *address, struct silo *silo, struct rpc_server *srv,
                  struct metrics **ret);
/* Stops serving and frees; accepts NULL. */
void metrics_stop(struct metrics *m);

/* The TCP port actually bound. */
unsigned metrics_port(const struct metrics *m);

/* rpc_observer_fn: records one finished call. Lock-free; safe before metrics_start. */
void metrics_observe(const char *service, const char *method, int status, double seconds);

/* A collector writes whole families (promtext_family + samples) at each scrape, from the
 * HTTP thread: it must be quick, thread-safe against its own subsystem, and must not call
 * metrics_add/remove_collector. Names must not clash with the built-in families above. */
typedef void (*metrics_collect_fn)(struct promtext *w, void *userdata);

/* Registers fn (at most 16). Callable before or after metrics_start. -ENOSPC when full. */
int metrics_add_collector(metrics_collect_fn fn, void *userdata);
/* Unregisters; after it returns fn is not running and will not be called again. */
void metrics_remove_collector(metrics_collect_fn fn, void *userdata);

/* The /metrics body; *ret_text is the caller's to free. */
int metrics_render(struct metrics *m, char **ret_text, size_t *ret_len);
