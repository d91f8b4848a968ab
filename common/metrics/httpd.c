#include "common/metrics/httpd.h"

#include <dlfcn.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/cleanup.h"

#define HTTPD_LIBRARY "libmicrohttpd.so.12"

/* The entry points we use, typed from the header we compile against. */
struct httpd_lib {
        __typeof__(MHD_start_daemon) *start_daemon;
        __typeof__(MHD_stop_daemon) *stop_daemon;
        __typeof__(MHD_create_response_from_buffer) *create_response;
        __typeof__(MHD_add_response_header) *add_header;
        __typeof__(MHD_queue_response) *queue_response;
        __typeof__(MHD_destroy_response) *destroy_response;
};

struct httpd {
        struct MHD_Daemon *daemon;
        httpd_handler_fn fn;
        void *userdata;
};

static struct httpd_lib httpd_lib;
static int httpd_lib_result = 1; /* 1: not tried yet */
static pthread_once_t httpd_lib_once = PTHREAD_ONCE_INIT;

static void *httpd_sym(void *h, const char *name)
{
        void *p = dlsym(h, name);
        if (!p)
                log_error("msg='symbol missing from " HTTPD_LIBRARY "' symbol='%s'", name);
        return p;
}

static void httpd_lib_load(void)
{
        void *h = dlopen(HTTPD_LIBRARY, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
                log_error("msg='cannot load " HTTPD_LIBRARY " (package libmicrohttpd12)' "
                          "error='%s'",
                          dlerror());
                httpd_lib_result = -ENOENT;
                return;
        }
        httpd_lib.start_daemon = httpd_sym(h, "MHD_start_daemon");
        httpd_lib.stop_daemon = httpd_sym(h, "MHD_stop_daemon");
        httpd_lib.create_response = httpd_sym(h, "MHD_create_response_from_buffer");
        httpd_lib.add_header = httpd_sym(h, "MHD_add_response_header");
        httpd_lib.queue_response = httpd_sym(h, "MHD_queue_response");
        httpd_lib.destroy_response = httpd_sym(h, "MHD_destroy_response");
        bool all = httpd_lib.start_daemon && httpd_lib.stop_daemon && httpd_lib.create_response &&
                   httpd_lib.add_header && httpd_lib.queue_response && httpd_lib.destroy_response;
        /* Stays loaded for the life of the process: its thread may still be running code. */
        httpd_lib_result = all ? 0 : -ENOENT;
}

static enum MHD_Result httpd_send(struct MHD_Connection *conn, const struct httpd_response *r)
{
        enum MHD_ResponseMemoryMode mode =
            r->owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT;
        struct MHD_Response *resp = httpd_lib.create_response(r->len, (void *)r->body, mode);
        if (!resp) {
                if (r->owned)
                        free((void *)r->body);
                return MHD_NO;
        }
        httpd_lib.add_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->type);
        enum MHD_Result ok = httpd_lib.queue_response(conn, r->code, resp);
        httpd_lib.destroy_response(resp);
        return ok;
}

static enum MHD_Result httpd_handle(void *cls, struct MHD_Connection *conn, const char *url,
                                    const char *method, const char *version,
                                    const char *upload_data, size_t *upload_data_size,
                                    void **req_cls)
{
        struct httpd *h = cls;
        (void)version, (void)upload_data, (void)upload_data_size, (void)req_cls;
        static const char not_allowed[] = "only GET and HEAD\n";
        struct httpd_response r = {.code = MHD_HTTP_METHOD_NOT_ALLOWED,
                                   .type = "text/plain; charset=utf-8",
                                   .body = not_allowed,
                                   .len = sizeof(not_allowed) - 1};
        if (strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0)
                h->fn(h->userdata, url, &r);
        return httpd_send(conn, &r);
}

int httpd_start(int listen_fd, bool ipv6, httpd_handler_fn fn, void *userdata, struct httpd **ret)
{
        pthread_once(&httpd_lib_once, httpd_lib_load);
        if (httpd_lib_result < 0) {
                close(listen_fd);
                return httpd_lib_result;
        }
        _cleanup_free_ struct httpd *h = calloc(1, sizeof(*h));
        if (!h) {
                close(listen_fd);
                return -ENOMEM;
        }
        h->fn = fn;
        h->userdata = userdata;
        unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO;
        if (ipv6)
                flags |= MHD_USE_IPv6;
        h->daemon = httpd_lib.start_daemon(
            flags, 0, NULL, NULL, httpd_handle, h, MHD_OPTION_LISTEN_SOCKET, (MHD_socket)listen_fd,
            MHD_OPTION_CONNECTION_LIMIT, 32u, MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
        /* On failure the socket may or may not have been closed by libmicrohttpd; leaking it
         * beats a double close in a threaded daemon that is about to exit anyway. */
        if (!h->daemon)
                return -EIO;
        *ret = TAKE_PTR(h);
        return 0;
}

void httpd_stop(struct httpd *h)
{
        if (!h)
                return;
        httpd_lib.stop_daemon(h->daemon);
        free(h);
}
