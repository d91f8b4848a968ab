/* The gRPC server core (with rpc-call.c and rpc-endpoint.c, the only server-side files that
 * include gRPC).
 *
 * RPC_IO_THREADS I/O threads each drive a completion queue of their own, with calls armed on
 * it. For each call its thread receives the request, decodes it, and either runs the handler
 * inline (Identity) or hands the call to the work queue (Controller/Node). The reply is sent by
 * whichever comes first: the handler finishing or the call's budget expiring; the other outcome is
 * dropped, but the work always completes. */
#include "common/server/rpc-internal.h"

#include <errno.h>
#include <grpc/support/time.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/silo.h"

#define RPC_ARMED_CALLS 8 /* per completion queue */

static int rpc_arm(struct rpc_server *srv, grpc_completion_queue *cq)
{
        struct rpc_call *call = calloc(1, sizeof(*call));
        if (!call)
                return -ENOMEM;
        call->srv = srv;
        call->cq = cq;
        call->tag_new = (struct rpc_tag){TAG_NEW, call};
        call->tag_recv = (struct rpc_tag){TAG_RECV, call};
        call->tag_sent = (struct rpc_tag){TAG_SENT, call};
        call->tag_closed = (struct rpc_tag){TAG_CLOSED, call};
        call->method_name = "?";
        grpc_call_details_init(&call->details);
        grpc_metadata_array_init(&call->md);
        grpc_call_error e = grpc_server_request_call(srv->server, &call->gcall, &call->details,
                                                     &call->md, cq, cq, &call->tag_new);
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
        rpc_arm(srv, call->cq);
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

struct rpc_io {
        struct rpc_server *srv;
        grpc_completion_queue *cq;
};

static void *rpc_io_loop(void *arg)
{
        struct rpc_io io = *(struct rpc_io *)arg;
        struct rpc_server *srv = io.srv;
        free(arg);
        for (;;) {
                grpc_event ev =
                    grpc_completion_queue_next(io.cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
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
                case TAG_STREAM:
                        rpc_stream_on_sent(tag->call, ev.success);
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
        srv->server = grpc_server_create(&cargs, NULL);
        if (!srv->server)
                return -ENOMEM;
        for (size_t i = 0; i < RPC_IO_THREADS; i++) {
                srv->cq[i] = grpc_completion_queue_create_for_next(NULL);
                if (!srv->cq[i])
                        return -ENOMEM;
                grpc_server_register_completion_queue(srv->server, srv->cq[i], NULL);
        }
        return 0;
}

static void rpc_server_destroy(struct rpc_server *srv)
{
        rpc_accept_stop(srv);
        if (srv->server)
                grpc_server_destroy(srv->server);
        for (size_t i = 0; i < RPC_IO_THREADS && srv->cq[i]; i++) {
                grpc_completion_queue_shutdown(srv->cq[i]);
                if (i < srv->n_io_threads)
                        pthread_join(srv->io_thread[i], NULL);
                else
                        while (grpc_completion_queue_next(srv->cq[i],
                                                          gpr_inf_future(GPR_CLOCK_REALTIME), NULL)
                                   .type != GRPC_QUEUE_SHUTDOWN)
                                ;
                grpc_completion_queue_destroy(srv->cq[i]);
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
        for (size_t i = 0; i < RPC_IO_THREADS; i++)
                for (int j = 0; j < RPC_ARMED_CALLS; j++)
                        if ((r = rpc_arm(srv, srv->cq[i])) < 0)
                                return r;
        for (size_t i = 0; i < RPC_IO_THREADS; i++) {
                struct rpc_io *io = malloc(sizeof(*io));
                if (!io)
                        return -ENOMEM;
                *io = (struct rpc_io){srv, srv->cq[i]};
                r = -pthread_create(&srv->io_thread[i], NULL, rpc_io_loop, io);
                if (r < 0) {
                        free(io);
                        return r;
                }
                srv->n_io_threads++;
        }
        return rpc_accept_start(srv);
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
        srv->listen_fd = srv->accept.wake_fd = srv->accept.reserve_fd = -1;
        pthread_mutex_init(&srv->mu, NULL);
        pthread_cond_init(&srv->cv, NULL);
        int r = rpc_server_launch(srv);
        if (r < 0) {
                if (srv->server && srv->cq[0]) {
                        grpc_server_shutdown_and_notify(srv->server, srv->cq[0],
                                                        &srv->tag_shutdown);
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

/* Milliseconds from now until the monotonic instant until_ms (0 when past). */
static uint64_t rpc_ms_until(uint64_t until_ms)
{
        uint64_t now = workq_now_ms();
        return until_ms > now ? until_ms - now : 0;
}

int rpc_server_stop(struct rpc_server *srv)
{
        if (!srv)
                return 0;
        uint64_t drain = srv->opts.drain_ms;
        uint64_t until = workq_now_ms() + drain;
        rpc_accept_stop(srv);
        grpc_server_shutdown_and_notify(srv->server, srv->cq[0], &srv->tag_shutdown);
        int r = workq_drain(srv->workq, drain);
        if (r == 0)
                r = rpc_wait_shutdown(srv, rpc_ms_until(until));
        if (r < 0) {
                log_warn("msg='in-flight calls or connections did not finish within %llu ms: "
                         "cancelling them; "
                         "their work gets %llu ms more'",
                         (unsigned long long)drain, (unsigned long long)drain);
                grpc_server_cancel_all_calls(srv->server);
                /* The completion queue lives on, so a worker's late reply lands on a cancelled
                 * call and is dropped there instead of on a destroyed queue. */
                until = workq_now_ms() + drain;
                r = workq_drain(srv->workq, drain);
                if (r == 0)
                        r = rpc_wait_shutdown(srv, rpc_ms_until(until));
        }
        if (r < 0) {
                unsigned running, queued;
                workq_stats(srv->workq, &running, &queued);
                log_error("msg='%u operations still running %llu ms after the shutdown request: "
                          "exiting without them; the next start reconciles what they left'",
                          running + queued, (unsigned long long)(2 * drain));
                if (srv->socket_path[0])
                        unlink(srv->socket_path);
                return -EBUSY; /* the server stays allocated: workers may still touch it */
        }
        rpc_server_destroy(srv);
        return 0;
}

void rpc_server_stats(struct rpc_server *srv, struct rpc_stats *ret)
{
        unsigned running, queued;
        workq_stats(srv->workq, &running, &queued);
        *ret = (struct rpc_stats){
            .in_flight = running, .queued = queued, .workers = srv->opts.workers};
}
