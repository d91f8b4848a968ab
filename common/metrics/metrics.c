#include "common/metrics/metrics.h"

#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/metrics/httpd.h"
#include "common/netaddr.h"
#include "common/log.h"
#include "common/metrics/opstats.h"
#include "common/metrics/poolstat.h"
#include "common/metrics/procstat.h"
#include "common/server/config.h"
#include "common/server/rpc.h"
#include "common/silo.h"
#include "common/units.h"
#include "common/cleanup.h"

#define METRICS_MAX_COLLECTORS 16
#define METRICS_CONTENT_TYPE   "text/plain; version=0.0.4; charset=utf-8"

struct metrics {
        struct httpd *httpd;
        struct silo *silo;
        struct rpc_server *srv;
        unsigned port;
};

struct metrics_collector {
        metrics_collect_fn fn;
        void *userdata;
};

static pthread_mutex_t metrics_lock = PTHREAD_MUTEX_INITIALIZER;
static struct metrics_collector metrics_collectors[METRICS_MAX_COLLECTORS];

void metrics_observe(const char *service, const char *method, int status, double seconds)
{
        opstats_observe(service, method, status, seconds);
}

int metrics_add_collector(metrics_collect_fn fn, void *userdata)
{
        int r = -ENOSPC;
        pthread_mutex_lock(&metrics_lock);
        for (size_t i = 0; i < METRICS_MAX_COLLECTORS; i++) {
                if (!metrics_collectors[i].fn) {
                        metrics_collectors[i] = (struct metrics_collector){fn, userdata};
                        r = 0;
                        break;
                }
        }
        pthread_mutex_unlock(&metrics_lock);
        return r;
}

void metrics_remove_collector(metrics_collect_fn fn, void *userdata)
{
        pthread_mutex_lock(&metrics_lock);
        for (size_t i = 0; i < METRICS_MAX_COLLECTORS; i++)
                if (metrics_collectors[i].fn == fn && metrics_collectors[i].userdata == userdata)
                        metrics_collectors[i] = (struct metrics_collector){0};
        pthread_mutex_unlock(&metrics_lock);
}

static void metrics_gauge(struct promtext *w, const char *name, const char *help, double v)
{
        promtext_family(w, name, "gauge", help);
        promtext_sample(w, name, NULL, v);
}

static void metrics_render_rpc(struct promtext *w, struct rpc_server *srv)
{
        if (!srv)
                return;
        struct rpc_stats st = {0};
        rpc_server_stats(srv, &st);
        metrics_gauge(w, "silo_rpc_in_flight", "Calls being handled now.", st.in_flight);
        metrics_gauge(w, "silo_rpc_queued", "Calls waiting for a worker.", st.queued);
        metrics_gauge(w, "silo_rpc_workers", "Size of the worker pool.", st.workers);
}

static void metrics_render_process(struct promtext *w)
{
        struct procstat st;
        if (procstat_read(0, &st) < 0)
                return;
        promtext_family(w, "process_cpu_seconds_total", "counter",
                        "User and system CPU time spent.");
        promtext_sample(w, "process_cpu_seconds_total", NULL, st.cpu_seconds);
        metrics_gauge(w, "process_resident_memory_bytes", "Resident set size (VmRSS).",
                      (double)st.vm_rss_bytes);
        metrics_gauge(w, "silo_process_anon_memory_bytes", "Anonymous resident memory (RssAnon).",
                      (double)st.rss_anon_bytes);
        metrics_gauge(w, "silo_process_peak_memory_bytes", "Peak resident set size (VmHWM).",
                      (double)st.vm_hwm_bytes);
        metrics_gauge(w, "process_open_fds", "Open file descriptors.", (double)st.open_fds);
        metrics_gauge(w, "silo_process_threads", "Threads.", (double)st.threads);
}

static void metrics_render_collectors(struct promtext *w)
{
        /* Held across the calls so that remove_collector can promise fn is not running. */
        pthread_mutex_lock(&metrics_lock);
        for (size_t i = 0; i < METRICS_MAX_COLLECTORS; i++)
                if (metrics_collectors[i].fn)
                        metrics_collectors[i].fn(w, metrics_collectors[i].userdata);
        pthread_mutex_unlock(&metrics_lock);
}

int metrics_render(struct metrics *m, char **ret_text, size_t *ret_len)
{
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (!f)
                return neg_errno();
        struct promtext w = {f};

        promtext_family(&w, "silo_build_info", "gauge", "Version and git revision of silo.");
        promtext_sample(&w, "silo_build_info",
                        "version=\"" SILO_VERSION "\",revision=\"" SILO_GIT_REV "\"", 1);
        if (m && m->silo)
                metrics_gauge(&w, "silo_ready", "1 when the driver answers Probe ready.",
                              atomic_load(&m->silo->ready) ? 1 : 0);
        opstats_render(&w);
        metrics_render_rpc(&w, m ? m->srv : NULL);
        metrics_render_process(&w);
        if (m && m->silo && m->silo->cfg)
                poolstat_render(&w, m->silo->cfg->pool);
        metrics_render_collectors(&w);

        bool failed = ferror(f);
        if (fclose(f) != 0 || failed) {
                free(text);
                return -ENOMEM;
        }
        *ret_text = text;
        *ret_len = len;
        return 0;
}

static void metrics_text(struct httpd_response *r, unsigned code, const char *text)
{
        *r = (struct httpd_response){
            .code = code, .type = "text/plain; charset=utf-8", .body = text, .len = strlen(text)};
}

static void metrics_handle(void *userdata, const char *url, struct httpd_response *r)
{
        struct metrics *m = userdata;
        if (strcmp(url, "/metrics") == 0) {
                char *text;
                size_t len;
                if (metrics_render(m, &text, &len) < 0) {
                        metrics_text(r, 500, "cannot render metrics\n");
                        return;
                }
                *r = (struct httpd_response){.code = 200,
                                             .type = METRICS_CONTENT_TYPE,
                                             .body = text,
                                             .len = len,
                                             .owned = true};
        } else if (strcmp(url, "/healthz") == 0) {
                bool ready = m->silo && atomic_load(&m->silo->ready);
                metrics_text(r, ready ? 200 : 503, ready ? "ok\n" : "not ready\n");
        } else {
                metrics_text(r, 404, "see /metrics and /healthz\n");
        }
}

/* Binds ourselves rather than through libmicrohttpd to get a real errno (EADDRINUSE) and CLOEXEC.
 */
static int metrics_listen(const struct sockaddr_storage *sa, socklen_t len, unsigned *ret_port)
{
        _cleanup_close_ int fd = socket(sa->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return neg_errno();
        int one = 1;
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
                return neg_errno();
        if (bind(fd, (const struct sockaddr *)sa, len) < 0 || listen(fd, 16) < 0)
                return neg_errno();
        struct sockaddr_storage bound = {0};
        socklen_t blen = sizeof(bound);
        if (getsockname(fd, (struct sockaddr *)&bound, &blen) < 0)
                return neg_errno();
        struct sockaddr_in6 v6 = {0};
        struct sockaddr_in v4 = {0};
        if (bound.ss_family == AF_INET6)
                memcpy(&v6, &bound, sizeof(v6));
        else
                memcpy(&v4, &bound, sizeof(v4));
        *ret_port = ntohs(bound.ss_family == AF_INET6 ? v6.sin6_port : v4.sin_port);
        return TAKE_FD(fd);
}

int metrics_start(const char *address, struct silo *silo, struct rpc_server *srv,
                  struct metrics **ret)
{
        *ret = NULL;
        if (!address || !address[0])
                return 0;
        struct sockaddr_storage sa;
        socklen_t len;
        int r = netaddr_parse("metrics address", address, &sa, &len);
        if (r < 0)
                return r;

        unsigned port = 0;
        int fd = metrics_listen(&sa, len, &port);
        if (fd < 0) {
                log_error("msg='cannot listen for metrics' address='%s' error='%s'", address,
                          strerror(-fd));
                return fd;
        }
        struct metrics *m = calloc(1, sizeof(*m));
        if (!m) {
                close(fd);
                return -ENOMEM;
        }
        *m = (struct metrics){.silo = silo, .srv = srv, .port = port};
        r = httpd_start(fd, sa.ss_family == AF_INET6, metrics_handle, m, &m->httpd);
        if (r < 0) {
                log_error("msg='cannot start metrics http server' address='%s'", address);
                free(m);
                return r;
        }
        log_info("msg='serving metrics' address='%s' port=%u", address, m->port);
        *ret = m;
        return 0;
}

void metrics_stop(struct metrics *m)
{
        if (!m)
                return;
        httpd_stop(m->httpd);
        free(m);
}

unsigned metrics_port(const struct metrics *m)
{
        return m->port;
}
