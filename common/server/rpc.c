/* The gRPC server core: the only file on the server side that includes gRPC.
 *
 * One I/O thread drives a completion queue. For each call it receives the request, decodes
 * it, and either runs the handler inline (Identity) or hands the call to the work queue
 * (Controller/Node). The reply is sent by whichever comes first: the handler finishing or
 * the call's budget expiring; the other outcome is dropped, but the work always completes. */
#include "common/server/rpc.h"

#include <errno.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>

#include "common/err.h"
#include "common/log.h"
#include "common/silo.h"
#include "common/server/testhook.h"
#include "common/server/workq.h"
#include "common/cleanup.h"

#define RPC_ARMED_CALLS 8
#define RPC_MSG_MAX     1024

enum rpc_tag_kind { TAG_NEW, TAG_RECV, TAG_SENT, TAG_CLOSED, TAG_SHUTDOWN };

struct rpc_tag {
        enum rpc_tag_kind kind;
        struct rpc_call *call;
};

struct rpc_call {
        struct workq_item item; /* first: the work queue hands it back */
        struct rpc_server *srv;
        grpc_call *gcall;
        grpc_call_details details;
        grpc_metadata_array md;
        grpc_byte_buffer *recv_buf;
        int cancelled;
        struct rpc_tag tag_new, tag_recv, tag_sent, tag_closed;
        atomic_int refs;      /* the recv/close/send batches and the work queue */
        atomic_bool answered; /* a status went out (reply or deadline) */

        char path[160];
        const char *service, *method_name;
        const struct rpc_method *method;
        ProtobufCMessage *req;
        uint64_t start_ns, start_ms, budget_ms;

        int result;
        void *reply;
        size_t reply_len;
        char msg[RPC_MSG_MAX];
        char object_key[24];
        char object_id[72];
};

struct rpc_server {
        grpc_server *server;
        grpc_completion_queue *cq;
        pthread_t io_thread;
        struct workq *workq;
        struct silo *silo;
        const struct rpc_service *const *services;
        size_t n_services;
        struct rpc_server_opts opts;
        char socket_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
        struct rpc_tag tag_shutdown;
        pthread_mutex_t mu;
        pthread_cond_t cv;
        bool shutdown_done;
        atomic_uint in_flight;
};

static rpc_observer_fn rpc_observer;

void rpc_set_observer(rpc_observer_fn fn)
{
        rpc_observer = fn;
}

/* Drops n references; the last one frees the call. */
static void rpc_call_drop(struct rpc_call *call, int n)
{
        if (atomic_fetch_sub(&call->refs, n) != n)
                return;
        if (call->req)
                protobuf_c_message_free_unpacked(call->req, NULL);
        if (call->recv_buf)
                grpc_byte_buffer_destroy(call->recv_buf);
        grpc_call_details_destroy(&call->details);
        grpc_metadata_array_destroy(&call->md);
        if (call->gcall)
                grpc_call_unref(call->gcall);
        atomic_fetch_sub(&call->srv->in_flight, 1);
        free(call->reply);
        free(call);
}

int rpc_reply(struct rpc_call *call, const ProtobufCMessage *resp)
{
        size_t len = protobuf_c_message_get_packed_size(resp);
        void *buf = malloc(len ? len : 1);
        if (!buf)
                return -ENOMEM;
        protobuf_c_message_pack(resp, buf);
        free(call->reply);
        call->reply = buf;
        call->reply_len = len;
        return 0;
}

int rpc_fail(struct rpc_call *call, int r, const char *fmt, ...)
{
        if (call->msg[0] == '\0') {
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(call->msg, sizeof(call->msg), fmt, ap);
                va_end(ap);
        }
        return r;
}

void rpc_set_object(struct rpc_call *call, const char *key, const char *id)
{
        snprintf(call->object_key, sizeof(call->object_key), "%s", key);
        snprintf(call->object_id, sizeof(call->object_id), "%s", id ? id : "");
}

struct silo *rpc_silo(struct rpc_call *call)
{
        return call->srv->silo;
}

uint64_t rpc_remaining_ms(struct rpc_call *call)
{
        uint64_t end = call->start_ms + call->budget_ms;
        uint64_t now = workq_now_ms();
        return now >= end ? 0 : end - now;
}

/* Sends the reply (r == 0) or the status for r, unless a status already went out. Returns
 * false when the call had been answered before. */
static bool rpc_send(struct rpc_call *call, int r, const char *text)
{
        if (atomic_exchange(&call->answered, true))
                return false;
        grpc_op ops[3];
        memset(ops, 0, sizeof(ops));
        size_t n = 0;
        ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
        grpc_byte_buffer *bb = NULL;
        if (r == 0) {
                grpc_slice s = grpc_slice_from_copied_buffer(call->reply, call->reply_len);
                bb = grpc_raw_byte_buffer_create(&s, 1);
                grpc_slice_unref(s);
                ops[n].op = GRPC_OP_SEND_MESSAGE;
                ops[n++].data.send_message.send_message = bb;
        }
        grpc_slice details = grpc_slice_from_copied_string(r == 0 ? "" : text);
        ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
        ops[n].data.send_status_from_server.status = (grpc_status_code)err_status_of(r);
        ops[n++].data.send_status_from_server.status_details = &details;

        /* The batch's reference; the caller holds another, so dropping it never frees. */
        atomic_fetch_add(&call->refs, 1);
        grpc_call_error e = grpc_call_start_batch(call->gcall, ops, n, &call->tag_sent, NULL);
        if (e != GRPC_CALL_OK) {
                log_error("rpc=%s msg='cannot send reply: %s'", call->method_name,
                          grpc_call_error_to_string(e));
                atomic_fetch_sub(&call->refs, 1);
        }
        /* The batch holds its own references to what it sends. */
        if (bb)
                grpc_byte_buffer_destroy(bb);
        grpc_slice_unref(details);
        return true;
}

static enum log_level rpc_log_level(const struct rpc_call *call, enum err_status status)
{
        if (status == ERR_INTERNAL || status == ERR_UNKNOWN)
                return LOG_ERROR;
        if (status != ERR_OK)
                return LOG_WARN;
        bool quiet = !call->method || call->method->klass == RPC_INLINE;
        return quiet ? LOG_DEBUG : LOG_INFO;
}

static void rpc_log(const struct rpc_call *call, int r, const char *text, const char *note)
{
        enum err_status status = err_status_of(r);
        enum log_level level = rpc_log_level(call, status);
        if (!log_would_log(level))
                return;
        char object[128] = "";
        if (call->object_key[0])
                snprintf(object, sizeof(object), " %s='%s'", call->object_key, call->object_id);
        log_line(level, "rpc=%s%s duration_ms=%llu code=%s%s%s%s%s", call->method_name, object,
                 (unsigned long long)(workq_now_ms() - call->start_ms), err_status_name(status),
                 r ? " msg='" : "", r ? text : "", r ? "'" : "", note ? note : "");
}

static void rpc_observe(const struct rpc_call *call, int r)
{
        if (!rpc_observer)
                return;
        /* Names from the wire are not ours to turn into metric labels. */
        const char *method = call->method ? call->method_name : "unknown";
        rpc_observer(call->service ? call->service : "unknown", method, (int)err_status_of(r),
                     (double)(workq_now_ns() - call->start_ns) / 1e9);
}

/* Answers with r (and the recorded message) and logs the call once. */
static void rpc_answer(struct rpc_call *call, int r)
{
        char text[RPC_MSG_MAX + 128];
        err_format(text, sizeof(text), r, call->msg);
        if (rpc_send(call, r, text)) {
                rpc_log(call, r, text, NULL);
                rpc_observe(call, r);
        } else {
                rpc_log(call, r, text, " completed_after_deadline=true");
        }
}

static void rpc_run_handler(struct rpc_call *call)
{
        testhook_begin_call(call->method_name);
        int r = call->method->handler(call, call->req);
        testhook_end_call();
        if (r == 0 && !call->reply)
                r = rpc_fail(call, -EPROTO, "handler of '%s' produced no reply", call->path);
        call->result = r;
}

static void rpc_item_run(struct workq_item *it)
{
        rpc_run_handler((struct rpc_call *)it);
}

static void rpc_item_expire(struct workq_item *it)
{
        struct rpc_call *call = (struct rpc_call *)it;
        char text[256];
        snprintf(text, sizeof(text), "%s did not finish within %llu ms; it %s, retry later",
                 call->method_name, (unsigned long long)call->budget_ms,
                 it->started ? "continues in the background" : "was not started");
        if (rpc_send(call, -SILO_ETIMEOUT, text)) {
                rpc_log(call, -SILO_ETIMEOUT, text, NULL);
                rpc_observe(call, -SILO_ETIMEOUT);
        }
}

static void rpc_item_done(struct workq_item *it)
{
        struct rpc_call *call = (struct rpc_call *)it;
        if (it->started)
                rpc_answer(call, call->result);
        rpc_call_drop(call, 1);
}

static const struct workq_ops rpc_item_ops = {
    .run = rpc_item_run,
    .expire = rpc_item_expire,
    .done = rpc_item_done,
};

/* Finds the method for "/<service>/<method>"; unknown and unimplemented are UNIMPLEMENTED. */
static int rpc_resolve(struct rpc_server *srv, struct rpc_call *call)
{
        char *slash = call->path[0] == '/' ? strchr(call->path + 1, '/') : NULL;
        call->method_name = slash ? slash + 1 : call->path;
        if (!slash)
                return rpc_fail(call, -SILO_EUNIMPL, "unknown method '%s'", call->path);
        size_t slen = (size_t)(slash - call->path - 1);
        for (size_t i = 0; i < srv->n_services; i++) {
                const struct rpc_service *s = srv->services[i];
                if (strlen(s->name) != slen || strncmp(s->name, call->path + 1, slen) != 0)
                        continue;
                call->service = s->name;
                for (size_t j = 0; j < s->n_methods; j++) {
                        if (strcmp(s->methods[j].name, call->method_name) == 0) {
                                call->method = &s->methods[j];
                                return 0;
                        }
                }
        }
        return rpc_fail(call, -SILO_EUNIMPL, "unknown method '%s'", call->path);
}

static int rpc_decode(struct rpc_call *call)
{
        grpc_byte_buffer_reader reader;
        if (!grpc_byte_buffer_reader_init(&reader, call->recv_buf))
                return rpc_fail(call, -SILO_EINVALID, "cannot read request of '%s'", call->path);
        grpc_slice s = grpc_byte_buffer_reader_readall(&reader);
        grpc_byte_buffer_reader_destroy(&reader);
        call->req = protobuf_c_message_unpack(call->method->request, NULL, GRPC_SLICE_LENGTH(s),
                                              GRPC_SLICE_START_PTR(s));
        grpc_slice_unref(s);
        if (!call->req)
                return rpc_fail(call, -SILO_EINVALID, "cannot decode %s request",
                                call->method_name);
        return 0;
}

/* The smaller of --timeout and what is left of the client's deadline. */
static uint64_t rpc_budget_ms(const struct rpc_server *srv, const struct rpc_call *call)
{
        gpr_timespec now = gpr_now(GPR_CLOCK_MONOTONIC);
        gpr_timespec dl = gpr_convert_clock_type(call->details.deadline, GPR_CLOCK_MONOTONIC);
        uint64_t budget = srv->opts.timeout_ms;
        if (gpr_time_cmp(dl, gpr_inf_future(GPR_CLOCK_MONOTONIC)) == 0)
                return budget;
        int64_t left = gpr_time_to_millis(gpr_time_sub(dl, now));
        if (left < 1)
                left = 1;
        return (uint64_t)left < budget ? (uint64_t)left : budget;
}

static int rpc_prepare(struct rpc_server *srv, struct rpc_call *call)
{
        int r = rpc_resolve(srv, call);
        if (r < 0)
                return r;
        if (!call->method->handler)
                return rpc_fail(call, -SILO_EUNIMPL, "%s is not implemented by this driver",
                                call->method_name);
        r = rpc_decode(call);
        if (r < 0)
                return r;
        if (call->method->klass == RPC_WORKER && !atomic_load(&srv->silo->ready))
                return rpc_fail(call, -SILO_EOVERLOAD,
                                "driver is starting: pool scan and reconciliation not finished");
        return 0;
}

static void rpc_dispatch(struct rpc_server *srv, struct rpc_call *call)
{
        int r = rpc_prepare(srv, call);
        if (r < 0) {
                rpc_answer(call, r);
                return;
        }
        if (call->method->klass == RPC_INLINE) {
                rpc_run_handler(call);
                rpc_answer(call, call->result);
                return;
        }
        call->budget_ms = rpc_budget_ms(srv, call);
        call->item.ops = &rpc_item_ops;
        call->item.deadline_ms = call->start_ms + call->budget_ms;
        atomic_fetch_add(&call->refs, 1); /* the work queue's, dropped in rpc_item_done */
        r = workq_push(srv->workq, &call->item);
        if (r < 0) {
                atomic_fetch_sub(&call->refs, 1);
                rpc_answer(call, rpc_fail(call, r,
                                          "too many requests in flight (%u running, "
                                          "queue of %u full); retry later",
                                          srv->opts.workers, srv->opts.max_queued));
        }
}

static int rpc_arm(struct rpc_server *srv)
{
        struct rpc_call *call = calloc(1, sizeof(*call));
        if (!call)
                return -ENOMEM;
        call->srv = srv;
        call->tag_new = (struct rpc_tag){TAG_NEW, call};
        call->tag_recv = (struct rpc_tag){TAG_RECV, call};
        call->tag_sent = (struct rpc_tag){TAG_SENT, call};
        call->tag_closed = (struct rpc_tag){TAG_CLOSED, call};
        call->method_name = "?";
        grpc_call_details_init(&call->details);
        grpc_metadata_array_init(&call->md);
        grpc_call_error e = grpc_server_request_call(srv->server, &call->gcall, &call->details,
                                                     &call->md, srv->cq, srv->cq, &call->tag_new);
        if (e != GRPC_CALL_OK) {
                grpc_call_details_destroy(&call->details);
                grpc_metadata_array_destroy(&call->md);
                free(call);
                return -EIO;
        }
        return 0;
}

static void rpc_start_recv(struct rpc_call *call)
{
        grpc_op op;
        memset(&op, 0, sizeof(op));
        op.op = GRPC_OP_RECV_CLOSE_ON_SERVER;
        op.data.recv_close_on_server.cancelled = &call->cancelled;
        atomic_store(&call->refs, 2);
        bool close_ok =
            grpc_call_start_batch(call->gcall, &op, 1, &call->tag_closed, NULL) == GRPC_CALL_OK;
        memset(&op, 0, sizeof(op));
        op.op = GRPC_OP_RECV_MESSAGE;
        op.data.recv_message.recv_message = &call->recv_buf;
        bool recv_ok =
            grpc_call_start_batch(call->gcall, &op, 1, &call->tag_recv, NULL) == GRPC_CALL_OK;
        if (!close_ok || !recv_ok)
                rpc_call_drop(call, !close_ok + !recv_ok);
}

static void rpc_on_new(struct rpc_server *srv, struct rpc_call *call, bool ok)
{
        if (!ok) { /* shutting down: the call never started */
                grpc_call_details_destroy(&call->details);
                grpc_metadata_array_destroy(&call->md);
                free(call);
                return;
        }
        rpc_arm(srv);
        atomic_fetch_add(&srv->in_flight, 1);
        call->start_ns = workq_now_ns();
        call->start_ms = call->start_ns / 1000000;
        size_t len = GRPC_SLICE_LENGTH(call->details.method);
        if (len >= sizeof(call->path))
                len = sizeof(call->path) - 1;
        memcpy(call->path, GRPC_SLICE_START_PTR(call->details.method), len);
        call->path[len] = '\0';
        call->method_name = call->path;
        rpc_start_recv(call);
}

static void rpc_on_recv(struct rpc_server *srv, struct rpc_call *call, bool ok)
{
        if (!ok || !call->recv_buf) {
                (void)rpc_resolve(srv, call); /* names the method in the log */
                call->msg[0] = '\0';
                rpc_answer(call, rpc_fail(call, -SILO_EINVALID, "request message missing"));
        } else {
                rpc_dispatch(srv, call);
        }
        rpc_call_drop(call, 1);
}

static void *rpc_io_loop(void *arg)
{
        struct rpc_server *srv = arg;
        for (;;) {
                grpc_event ev =
                    grpc_completion_queue_next(srv->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
                if (ev.type == GRPC_QUEUE_SHUTDOWN)
                        break;
                if (ev.type != GRPC_OP_COMPLETE)
                        continue;
                struct rpc_tag *tag = ev.tag;
                switch (tag->kind) {
                case TAG_NEW:
                        rpc_on_new(srv, tag->call, ev.success);
                        break;
                case TAG_RECV:
                        rpc_on_recv(srv, tag->call, ev.success);
                        break;
                case TAG_SENT:
                case TAG_CLOSED:
                        rpc_call_drop(tag->call, 1);
                        break;
                case TAG_SHUTDOWN:
                        pthread_mutex_lock(&srv->mu);
                        srv->shutdown_done = true;
                        pthread_cond_broadcast(&srv->cv);
                        pthread_mutex_unlock(&srv->mu);
                        break;
                }
        }
        return NULL;
}

/* A socket left by a crashed instance is removed; one a live server answers on is not. */
static int rpc_prepare_socket(const char *path)
{
        struct stat st;
        if (lstat(path, &st) < 0)
                return errno == ENOENT ? 0 : neg_errno();
        if (!S_ISSOCK(st.st_mode)) {
                log_error("msg='endpoint path exists and is not a socket' path='%s'", path);
                return -EEXIST;
        }
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return neg_errno();
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
                log_error("msg='another instance is serving on the endpoint' path='%s'", path);
                return -EADDRINUSE;
        }
        log_info("msg='removing stale socket' path='%s'", path);
        if (unlink(path) < 0 && errno != ENOENT)
                return neg_errno();
        return 0;
}

static int rpc_bind(struct rpc_server *srv)
{
        const char *ep = srv->opts.endpoint;
        char addr[256];
        if (strncmp(ep, "tcp://", 6) == 0) {
                snprintf(addr, sizeof(addr), "%s", ep + 6);
        } else {
                const char *path = strncmp(ep, "unix://", 7) == 0 ? ep + 7 : ep;
                if (strlen(path) >= sizeof(srv->socket_path))
                        return -ENAMETOOLONG;
                snprintf(srv->socket_path, sizeof(srv->socket_path), "%s", path);
                int r = rpc_prepare_socket(path);
                if (r < 0)
                        return r;
                snprintf(addr, sizeof(addr), "unix:%s", path);
        }
        grpc_server_credentials *creds = grpc_insecure_server_credentials_create();
        mode_t old = umask(0117); /* the socket is created 0660 */
        int port = grpc_server_add_http2_port(srv->server, addr, creds);
        umask(old);
        grpc_server_credentials_release(creds);
        if (port == 0) {
                log_error("msg='cannot listen' endpoint='%s'", ep);
                return -EADDRNOTAVAIL;
        }
        if (srv->socket_path[0] && chmod(srv->socket_path, 0660) < 0)
                return neg_errno();
        return 0;
}

static int rpc_server_create(struct rpc_server *srv)
{
        grpc_arg args[2] = {
            {.type = GRPC_ARG_INTEGER,
             .key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH,
             .value.integer = (int)srv->opts.max_message_bytes},
            {.type = GRPC_ARG_INTEGER,
             .key = GRPC_ARG_MAX_SEND_MESSAGE_LENGTH,
             .value.integer = (int)srv->opts.max_message_bytes},
        };
        grpc_channel_args cargs = {.num_args = 2, .args = args};
        srv->cq = grpc_completion_queue_create_for_next(NULL);
        srv->server = grpc_server_create(&cargs, NULL);
        if (!srv->cq || !srv->server)
                return -ENOMEM;
        grpc_server_register_completion_queue(srv->server, srv->cq, NULL);
        return 0;
}

static void rpc_server_destroy(struct rpc_server *srv)
{
        if (srv->server)
                grpc_server_destroy(srv->server);
        if (srv->cq) {
                grpc_completion_queue_shutdown(srv->cq);
                if (srv->io_thread)
                        pthread_join(srv->io_thread, NULL);
                else
                        while (grpc_completion_queue_next(srv->cq,
                                                          gpr_inf_future(GPR_CLOCK_REALTIME), NULL)
                                   .type != GRPC_QUEUE_SHUTDOWN)
                                ;
                grpc_completion_queue_destroy(srv->cq);
        }
        workq_free(srv->workq);
        if (srv->socket_path[0])
                unlink(srv->socket_path);
        pthread_mutex_destroy(&srv->mu);
        pthread_cond_destroy(&srv->cv);
        free(srv);
        /* Blocking: the asynchronous variant leaves a thread that delays exit by seconds. */
        grpc_shutdown_blocking();
}

static int rpc_server_launch(struct rpc_server *srv)
{
        int r = rpc_server_create(srv);
        if (r < 0)
                return r;
        r = rpc_bind(srv);
        if (r < 0) {
                srv->socket_path[0] = '\0'; /* not ours to remove */
                return r;
        }
        r = workq_new(srv->opts.workers, srv->opts.max_queued, &srv->workq);
        if (r < 0)
                return r;
        grpc_server_start(srv->server);
        for (int i = 0; i < RPC_ARMED_CALLS; i++) {
                r = rpc_arm(srv);
                if (r < 0)
                        return r;
        }
        r = -pthread_create(&srv->io_thread, NULL, rpc_io_loop, srv);
        return r;
}

int rpc_server_start(const struct rpc_server_opts *opts, struct silo *silo,
                     const struct rpc_service *const *services, size_t n_services,
                     struct rpc_server **ret)
{
        grpc_init();
        struct rpc_server *srv = calloc(1, sizeof(*srv));
        if (!srv) {
                grpc_shutdown();
                return -ENOMEM;
        }
        srv->opts = *opts;
        srv->silo = silo;
        srv->services = services;
        srv->n_services = n_services;
        srv->tag_shutdown = (struct rpc_tag){TAG_SHUTDOWN, NULL};
        pthread_mutex_init(&srv->mu, NULL);
        pthread_cond_init(&srv->cv, NULL);
        int r = rpc_server_launch(srv);
        if (r < 0) {
                if (srv->server && srv->io_thread == 0) {
                        grpc_server_shutdown_and_notify(srv->server, srv->cq, &srv->tag_shutdown);
                        grpc_server_cancel_all_calls(srv->server);
                }
                rpc_server_destroy(srv);
                return r;
        }
        *ret = srv;
        return 0;
}

/* Waits for the server's shutdown notification (every call finished, replies flushed) up to
 * timeout_ms; 0 or -ETIMEDOUT. */
static int rpc_wait_shutdown(struct rpc_server *srv, uint64_t timeout_ms)
{
        struct timespec ts;
        workq_abstime(timeout_ms, &ts);
        int r = 0;
        pthread_mutex_lock(&srv->mu);
        while (!srv->shutdown_done && r == 0)
                r = pthread_cond_timedwait(&srv->cv, &srv->mu, &ts);
        bool done = srv->shutdown_done;
        pthread_mutex_unlock(&srv->mu);
        return done ? 0 : -ETIMEDOUT;
}

void rpc_server_stop(struct rpc_server *srv)
{
        if (!srv)
                return;
        uint64_t until = workq_now_ms() + srv->opts.drain_ms;
        grpc_server_shutdown_and_notify(srv->server, srv->cq, &srv->tag_shutdown);
        int r = workq_drain(srv->workq, srv->opts.drain_ms);
        if (r == 0) {
                uint64_t now = workq_now_ms();
                r = rpc_wait_shutdown(srv, until > now ? until - now : 0);
        }
        if (r < 0) {
                log_warn("msg='in-flight calls did not finish within %llu ms; cancelling them'",
                         (unsigned long long)srv->opts.drain_ms);
                grpc_server_cancel_all_calls(srv->server);
                rpc_wait_shutdown(srv, UINT64_MAX / 4);
        }
        rpc_server_destroy(srv);
}

void rpc_server_stats(struct rpc_server *srv, struct rpc_stats *ret)
{
        unsigned running, queued;
        workq_stats(srv->workq, &running, &queued);
        *ret = (struct rpc_stats){
            .in_flight = running, .queued = queued, .workers = srv->opts.workers};
}
