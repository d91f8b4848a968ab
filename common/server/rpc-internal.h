/* Private to the server core's files (rpc*.c), the only server-side files that include gRPC:
 * rpc.c runs the server (arming calls, the I/O loop, start and stop) -> rpc-call.c runs one
 * call (decode, dispatch to a worker, deadline) -> rpc-stream.c sends a stream's messages ->
 * rpc-reply.c answers (status, log) and counts references. rpc-endpoint.c binds the socket. */
#pragma once

#include <grpc/grpc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/types.h>
#include <sys/un.h>

#include "common/server/rpc.h"
#include "common/server/workq.h"

#define RPC_MSG_MAX 1024

enum rpc_tag_kind { TAG_NEW, TAG_RECV, TAG_SENT, TAG_CLOSED, TAG_STREAM, TAG_SHUTDOWN };

struct rpc_tag {
        enum rpc_tag_kind kind;
        struct rpc_call *call;
};

/* A streaming call's message in flight (rpc-stream.c). */
struct rpc_stream {
        pthread_mutex_t mu;
        pthread_cond_t cv;
        bool pending; /* a message is in flight */
        bool ok;      /* how the last one completed */
        struct rpc_tag tag;
};

struct rpc_call {
        struct workq_item item; /* first: the work queue hands it back */
        struct rpc_server *srv;
        grpc_completion_queue *cq; /* the queue (and I/O thread) that serves this call */
        grpc_call *gcall;
        grpc_call_details details;
        grpc_metadata_array md;
        grpc_byte_buffer *recv_buf;
        int cancelled;
        struct rpc_tag tag_new, tag_recv, tag_sent, tag_closed;
        atomic_int refs;           /* the recv/close/send batches and the work queue */
        atomic_bool answered;      /* a status went out (reply or deadline) */
        atomic_bool metadata_sent; /* initial metadata went out (first message or status) */

        char path[160];
        const char *service, *method_name;
        const struct rpc_method *method;
        ProtobufCMessage *req;
        bool streaming; /* stream below is initialised */
        struct rpc_stream stream;
        uint64_t start_ns, start_ms, budget_ms;

        int result;
        void *reply;
        size_t reply_len;
        char msg[RPC_MSG_MAX];
        char object_key[24];
        char object_id[72];
};

/* I/O threads, each driving its own completion queue: Identity calls run inline on them, so
 * Probe scales with callers instead of queueing behind one thread. */
#define RPC_IO_THREADS 4

#define RPC_LISTEN_BACKLOG 128

/* A connection handed to gRPC, known by its fd and its socket's inode (rpc-accept.c). */
struct rpc_conn {
        int fd;
        ino_t ino;
};

struct rpc_accept {
        pthread_t thread;
        bool running;
        int wake_fd;    /* eventfd: stop */
        int reserve_fd; /* closed to accept-and-close when out of fds */
        struct rpc_conn *conns;
        unsigned n_conns, cap;
        uint64_t last_limit_warn_ms, last_emfile_warn_ms, last_error_warn_ms;
};

struct rpc_server {
        grpc_server *server;
        int listen_fd; /* -1 when closed */
        bool listen_tcp;
        struct rpc_accept accept;
        grpc_completion_queue *cq[RPC_IO_THREADS];
        pthread_t io_thread[RPC_IO_THREADS];
        size_t n_io_threads; /* started */
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

/* rpc-reply.c ------------------------------------------------------------------------- */
/* The one log line of a finished call: method, object, duration, code, message. */
void rpc_log(const struct rpc_call *call, int r, const char *text, const char *note);
/* Drops n references; the last one frees the call. */
void rpc_call_drop(struct rpc_call *call, int n);
/* Answers with r (and the recorded message) and logs the call once. */
void rpc_answer(struct rpc_call *call, int r);
/* The call's one log line (note is appended, may be NULL). */
void rpc_log(const struct rpc_call *call, int r, const char *text, const char *note);
/* Answers with r and text, logs and observes; false when already answered. */
bool rpc_answer_text(struct rpc_call *call, int r, const char *text);
/* Ends the call at once with the status for r (DEADLINE_EXCEEDED, ...) and text, unless it
 * was answered already; messages in flight complete as failed. */
void rpc_cancel(struct rpc_call *call, int r, const char *text);

/* rpc-stream.c ------------------------------------------------------------------------ */
void rpc_stream_init(struct rpc_call *call);
/* The I/O loop's completion of a stream message. */
void rpc_stream_on_sent(struct rpc_call *call, bool ok);

/* rpc-call.c -------------------------------------------------------------------------- */
/* Finds the method for "/<service>/<method>"; unknown and unimplemented are UNIMPLEMENTED. */
int rpc_resolve(struct rpc_server *srv, struct rpc_call *call);
/* Decodes the received request and runs it inline or queues it on the workers. */
void rpc_dispatch(struct rpc_server *srv, struct rpc_call *call);
/* rpc-endpoint.c ---------------------------------------------------------------------- */
/* Creates the listening socket for opts.endpoint (unix socket 0660, or tcp://) into
 * srv->listen_fd; logs why not. */
int rpc_bind(struct rpc_server *srv);

/* rpc-accept.c ------------------------------------------------------------------------ */
/* Starts the thread that accepts on srv->listen_fd (after grpc_server_start). */
int rpc_accept_start(struct rpc_server *srv);
/* Stops accepting and closes the listening socket; idempotent. */
void rpc_accept_stop(struct rpc_server *srv);
