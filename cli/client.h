/* A blocking unary CSI client over the gRPC C core, shared by siloctl, the integration tests
 * and the benchmarks. client.c is the only client-side file that includes gRPC headers.
 * One struct client may be used from several threads at once. */
#pragma once

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"

struct client;

/* endpoint: unix:///abs/path, a bare path, or tcp://host:port. Does not connect yet. */
int client_new(const char *endpoint, struct client **ret);
void client_free(struct client *c);

/* Adds gRPC metadata (lowercase key) sent with every later call. Not while calls are in
 * flight. -E2BIG beyond 64 entries. */
int client_add_metadata(struct client *c, const char *key, const char *value);

/* With on, later calls wait for a connection until their deadline instead of failing at once
 * (UNAVAILABLE) while the driver cannot be reached, and drive the connection's handshake
 * themselves: for a caller that knows the driver is (re)starting. Default off. Not while
 * calls are in flight. */
void client_set_wait_for_ready(struct client *c, bool on);

struct client_result {
        enum err_status status; /* gRPC status code */
        char *message;          /* status message, owned; may be NULL */
        ProtobufCMessage *resp; /* decoded reply when status == ERR_OK, owned */
};

/* Calls "/<service>/<method>" (e.g. "/csi.v1.Identity/Probe") with a deadline of timeout_ms.
 * Returns 0 when the call completed with any status (see res->status), or a negative errno
 * when it could not be made at all. */
int client_call(struct client *c, const char *path, const ProtobufCMessage *req,
                const ProtobufCMessageDescriptor *resp_desc, uint64_t timeout_ms,
                struct client_result *res);

/* Sends raw bytes as the request (tests of undecodable input). */
int client_call_raw(struct client *c, const char *path, const void *data, size_t len,
                    const ProtobufCMessageDescriptor *resp_desc, uint64_t timeout_ms,
                    struct client_result *res);

/* Receives each message of a server stream (owned by the caller of the callback: freed after
 * it returns). A negative return stops reading and cancels the call. */
typedef int (*client_stream_fn)(void *ctx, const ProtobufCMessage *msg);

/* A server-streaming call: on_message for each reply, then res->status (resp stays NULL).
 * Returns 0 when the call completed with any status, the callback's negative value when it
 * stopped the stream, or a negative errno when the call could not be made. */
int client_call_stream(struct client *c, const char *path, const ProtobufCMessage *req,
                       const ProtobufCMessageDescriptor *resp_desc, uint64_t timeout_ms,
                       client_stream_fn on_message, void *ctx, struct client_result *res);

/* Frees message and resp; leaves res zeroed. */
void client_result_release(struct client_result *res);
