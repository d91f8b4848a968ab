/* Folder common/server: the process around the services: the gRPC server core (rpc*.c),
 * the worker pool (workq), per-object operation locks (vlock), Identity, flags (config), test
 * hooks, and main.c, the composition root that wires controller/ and node/ in. Files here
 * include only common/ and common/server/ (main.c alone may include any layer). */
/* The gRPC server core. rpc.c is the only file that includes gRPC headers on the server side.
 *
 * A service is a table of methods. The core decodes each request with the method's protobuf-c
 * descriptor, runs the handler (inline for Identity, on the worker pool otherwise), and sends
 * the reply or the status. The decoded request belongs to the core and is freed after the
 * handler returns; handlers borrow it and copy what they keep. */
#pragma once

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stdint.h>

struct rpc_call;
struct rpc_server;
struct silo;

/* Returns 0 after rpc_reply(), or a negative error (usually via rpc_fail()). */
typedef int (*rpc_handler_fn)(struct rpc_call *call, const ProtobufCMessage *req);

enum rpc_class {
        RPC_INLINE, /* cheap, never blocks: answered on the I/O thread (Identity) */
        RPC_WORKER, /* volume work: bounded worker pool, needs the driver ready */
        RPC_STREAM, /* as RPC_WORKER, but server-streaming: replies with rpc_stream_send() */
};

struct rpc_method {
        const char *name; /* "CreateVolume" */
        const ProtobufCMessageDescriptor *request;
        rpc_handler_fn handler; /* NULL: UNIMPLEMENTED */
        enum rpc_class klass;
};

struct rpc_service {
        const char *name; /* "csi.v1.Controller" */
        const struct rpc_method *methods;
        size_t n_methods;
};

/* Packs resp as the call's reply. Call at most once, from the handler. */
int rpc_reply(struct rpc_call *call, const ProtobufCMessage *resp);

/* A server-streaming handler's next message. Blocks until gRPC takes it (the client's flow
 * control paces the handler), at most --timeout. 0, or negative when the stream is over
 * (client gone or cancelled: -ECANCELED; stalled or past its deadline: -SILO_ETIMEOUT): the
 * handler then returns that value. A stream is not bounded by --timeout as a whole, only by
 * the client's deadline. */
int rpc_stream_send(struct rpc_call *call, const ProtobufCMessage *msg);

/* Records the message for an error status and returns r unchanged, so handlers can write
 * `return rpc_fail(call, r, "cannot stage volume '%s'", id);`. The first message wins. For an
 * errno cause the core appends its text; private codes stand alone. */
int rpc_fail(struct rpc_call *call, int r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Names the object the call acts on, for the per-RPC log line (volume_id='...'). */
void rpc_set_object(struct rpc_call *call, const char *key, const char *id);

/* The daemon state handlers work on. */
struct silo *rpc_silo(struct rpc_call *call);

/* Milliseconds left of this call's budget (min of --timeout and the client's deadline);
 * 0 when already past. Work itself is never torn down by the budget. */
uint64_t rpc_remaining_ms(struct rpc_call *call);

struct rpc_server_opts {
        const char *endpoint;
        unsigned workers;    /* --max-concurrent-requests */
        unsigned max_queued; /* waiting calls beyond the workers, then UNAVAILABLE */
        uint64_t timeout_ms; /* per-call budget */
        uint64_t drain_ms;   /* how long shutdown waits for in-flight calls (twice at most) */
        size_t max_message_bytes;
        unsigned max_connections; /* open connections at once (also at most half the fds) */
};

/* Binds (removing a stale unix socket, refusing if a live server answers) and starts serving
 * the given services. */
int rpc_server_start(const struct rpc_server_opts *opts, struct silo *silo,
                     const struct rpc_service *const *services, size_t n_services,
                     struct rpc_server **ret);
/* Stops accepting and waits up to drain_ms for in-flight calls to answer; then cancels the
 * calls that have not (their replies are dropped) and waits up to drain_ms more for their work.
 * Removes the socket. Returns 0 after freeing everything, or -EBUSY when work was still running:
 * then srv stays allocated (workers may still use it and what they borrow from the caller)
 * and the process should exit without freeing either. */
int rpc_server_stop(struct rpc_server *srv);

/* The outcome of rpc_local_call(). */
#define RPC_LOCAL_MSG_MAX 1152 /* a handler's message and the cause appended to it */
struct rpc_local_reply {
        int code;                        /* gRPC status code (enum err_status) */
        char message[RPC_LOCAL_MSG_MAX]; /* status message; "" when code is 0 */
        void *data;                      /* the packed reply when code is 0, else NULL */
        size_t len;
};

/* Runs one call in process, without the transport (fuzzing): path is "/<service>/<method>",
 * data the request's bytes. The call takes the same path as one from the network: method
 * lookup, decode and validation, handler, status and log line; the handler runs on the
 * calling thread, bounded by nothing but its own checks of timeout_ms. Returns 0 with the
 * outcome in *ret (release it with rpc_local_reply_release), or -ENOMEM. */
int rpc_local_call(struct silo *silo, const struct rpc_service *const *services, size_t n_services,
                   const char *path, const void *data, size_t len, uint64_t timeout_ms,
                   struct rpc_local_reply *ret);
void rpc_local_reply_release(struct rpc_local_reply *reply);

/* Load figures for metrics. */
struct rpc_stats {
        unsigned in_flight;
        unsigned queued;
        unsigned workers;
};
void rpc_server_stats(struct rpc_server *srv, struct rpc_stats *ret);

/* Called on the thread that runs a handler, before and after it (test fault injection). Set
 * before rpc_server_start. */
struct rpc_call_hooks {
        void (*begin)(const char *method);
        void (*end)(void);
};
void rpc_set_call_hooks(const struct rpc_call_hooks *hooks);

/* Observer called once per finished call (metrics). Set before rpc_server_start. */
typedef void (*rpc_observer_fn)(const char *service, const char *method, int status,
                                double seconds);
void rpc_set_observer(rpc_observer_fn fn);
