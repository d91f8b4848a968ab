/* Blocking unary calls over the gRPC C core: one pluck completion queue per call, so any
 * number of threads can share one channel. */
#include "cli/client.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>
#include <stdio.h>
#include <string.h>

#include "common/cleanup.h"

#define CLIENT_METADATA_MAX 64

struct client {
        grpc_channel *channel;
        grpc_metadata metadata[CLIENT_METADATA_MAX];
        size_t n_metadata;
        bool wait_for_ready;
};

static int client_target(const char *endpoint, char *buf, size_t size)
{
        if (strncmp(endpoint, "unix://", 7) == 0)
                snprintf(buf, size, "unix:%s", endpoint + 7);
        else if (strncmp(endpoint, "tcp://", 6) == 0)
                snprintf(buf, size, "%s", endpoint + 6);
        else if (endpoint[0] == '/')
                snprintf(buf, size, "unix:%s", endpoint);
        else
                return -EINVAL;
        return 0;
}

int client_new(const char *endpoint, struct client **ret)
{
        char target[512];
        int r = client_target(endpoint, target, sizeof(target));
        if (r < 0)
                return r;
        struct client *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        grpc_init();
        /* Short reconnect backoff: a driver that is (re)starting is retried within 100 ms
         * rather than the default exponential backoff of seconds. Not
         * GRPC_ARG_MIN_RECONNECT_BACKOFF_MS: gRPC takes it as the time a connection attempt
         * gets to finish its handshake, and at 100 ms a busy driver's first answer came too
         * late: the call failed UNAVAILABLE. The default gives it 20 s. */
        grpc_arg args[] = {
            {.type = GRPC_ARG_INTEGER,
             .key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH,
             .value.integer = 64 * 1024 * 1024},
            {.type = GRPC_ARG_INTEGER,
             .key = GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS,
             .value.integer = 100},
            {.type = GRPC_ARG_INTEGER,
             .key = GRPC_ARG_MAX_RECONNECT_BACKOFF_MS,
             .value.integer = 1000},
        };
        grpc_channel_args cargs = {.num_args = ARRAY_SIZE(args), .args = args};
        grpc_channel_credentials *creds = grpc_insecure_credentials_create();
        c->channel = grpc_channel_create(target, creds, &cargs);
        grpc_channel_credentials_release(creds);
        if (!c->channel) {
                free(c);
                grpc_shutdown();
                return -ENOMEM;
        }
        *ret = c;
        return 0;
}

int client_add_metadata(struct client *c, const char *key, const char *value)
{
        if (c->n_metadata >= CLIENT_METADATA_MAX)
                return -E2BIG;
        grpc_metadata *m = &c->metadata[c->n_metadata];
        *m = (grpc_metadata){0};
        m->key = grpc_slice_from_copied_string(key);
        m->value = grpc_slice_from_copied_string(value);
        c->n_metadata++;
        return 0;
}

void client_set_wait_for_ready(struct client *c, bool on)
{
        c->wait_for_ready = on;
}

void client_free(struct client *c)
{
        if (!c)
                return;
        for (size_t i = 0; i < c->n_metadata; i++) {
                grpc_slice_unref(c->metadata[i].key);
                grpc_slice_unref(c->metadata[i].value);
        }
        grpc_channel_destroy(c->channel);
        free(c);
        grpc_shutdown();
}

void client_result_release(struct client_result *res)
{
        free(res->message);
        if (res->resp)
                protobuf_c_message_free_unpacked(res->resp, NULL);
        *res = (struct client_result){0};
}

struct client_batch {
        grpc_metadata_array initial_md, trailing_md;
        grpc_byte_buffer *send, *recv;
        grpc_status_code status;
        grpc_slice details;
};

static void client_batch_ops(const struct client *c, struct client_batch *b, grpc_op *ops)
{
        memset(ops, 0, 6 * sizeof(*ops));
        ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
        if (c->wait_for_ready)
                ops[0].flags = GRPC_INITIAL_METADATA_WAIT_FOR_READY |
                               GRPC_INITIAL_METADATA_WAIT_FOR_READY_EXPLICITLY_SET;
        ops[0].data.send_initial_metadata.count = c->n_metadata;
        ops[0].data.send_initial_metadata.metadata =
            c->n_metadata ? (grpc_metadata *)c->metadata : NULL;
        ops[1].op = GRPC_OP_SEND_MESSAGE;
        ops[1].data.send_message.send_message = b->send;
        ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
        ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
        ops[3].data.recv_initial_metadata.recv_initial_metadata = &b->initial_md;
        ops[4].op = GRPC_OP_RECV_MESSAGE;
        ops[4].data.recv_message.recv_message = &b->recv;
        ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
        ops[5].data.recv_status_on_client.trailing_metadata = &b->trailing_md;
        ops[5].data.recv_status_on_client.status = &b->status;
        ops[5].data.recv_status_on_client.status_details = &b->details;
}

static int client_decode(grpc_byte_buffer *bb, const ProtobufCMessageDescriptor *desc,
                         ProtobufCMessage **ret)
{
        grpc_byte_buffer_reader reader;
        if (!bb || !grpc_byte_buffer_reader_init(&reader, bb))
                return -EBADMSG;
        grpc_slice s = grpc_byte_buffer_reader_readall(&reader);
        grpc_byte_buffer_reader_destroy(&reader);
        ProtobufCMessage *m =
            protobuf_c_message_unpack(desc, NULL, GRPC_SLICE_LENGTH(s), GRPC_SLICE_START_PTR(s));
        grpc_slice_unref(s);
        if (!m)
                return -EBADMSG;
        *ret = m;
        return 0;
}

static void client_collect(struct client_batch *b, const ProtobufCMessageDescriptor *resp_desc,
                           struct client_result *res)
{
        res->status = (enum err_status)b->status;
        size_t len = GRPC_SLICE_LENGTH(b->details);
        res->message = strndup((const char *)GRPC_SLICE_START_PTR(b->details), len);
        if (res->status == ERR_OK && resp_desc &&
            client_decode(b->recv, resp_desc, &res->resp) < 0) {
                res->status = ERR_INTERNAL;
                free(res->message);
                res->message = strdup("cannot decode the reply");
        }
}

/* One call on its own completion queue: the request sent, the reply's pieces received. */
struct client_exchange {
        grpc_completion_queue *cq;
        grpc_call *call;
        struct client_batch b;
        grpc_op ops[6];
};

static void client_exchange_open(struct client *c, const char *path, const void *data, size_t len,
                                 uint64_t timeout_ms, struct client_exchange *x)
{
        *x = (struct client_exchange){0};
        x->cq = grpc_completion_queue_create_for_pluck(NULL);
        gpr_timespec deadline = gpr_time_add(
            gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis((int64_t)timeout_ms, GPR_TIMESPAN));
        grpc_slice method = grpc_slice_from_copied_string(path);
        x->call = grpc_channel_create_call(c->channel, NULL, GRPC_PROPAGATE_DEFAULTS, x->cq, method,
                                           NULL, deadline, NULL);
        grpc_slice_unref(method);
        grpc_metadata_array_init(&x->b.initial_md);
        grpc_metadata_array_init(&x->b.trailing_md);
        grpc_slice payload = grpc_slice_from_copied_buffer(data, len);
        x->b.send = grpc_raw_byte_buffer_create(&payload, 1);
        grpc_slice_unref(payload);
        client_batch_ops(c, &x->b, x->ops);
}

static void client_exchange_close(struct client_exchange *x)
{
        grpc_byte_buffer_destroy(x->b.send);
        if (x->b.recv)
                grpc_byte_buffer_destroy(x->b.recv);
        grpc_slice_unref(x->b.details);
        grpc_metadata_array_destroy(&x->b.initial_md);
        grpc_metadata_array_destroy(&x->b.trailing_md);
        grpc_call_unref(x->call);
        grpc_completion_queue_shutdown(x->cq);
        grpc_completion_queue_destroy(x->cq);
}

/* Starts ops as one batch and waits for it; false when it failed. */
static bool client_run(struct client_exchange *x, grpc_op *ops, size_t n)
{
        if (grpc_call_start_batch(x->call, ops, n, x, NULL) != GRPC_CALL_OK)
                return false;
        return grpc_completion_queue_pluck(x->cq, x, gpr_inf_future(GPR_CLOCK_REALTIME), NULL)
            .success;
}

int client_call_raw(struct client *c, const char *path, const void *data, size_t len,
                    const ProtobufCMessageDescriptor *resp_desc, uint64_t timeout_ms,
                    struct client_result *res)
{
        *res = (struct client_result){0};
        struct client_exchange x;
        client_exchange_open(c, path, data, len, timeout_ms, &x);
        int r = 0;
        if (grpc_call_start_batch(x.call, x.ops, 6, &x, NULL) != GRPC_CALL_OK) {
                r = -EIO;
        } else {
                grpc_completion_queue_pluck(x.cq, &x, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
                client_collect(&x.b, resp_desc, res);
        }
        client_exchange_close(&x);
        return r;
}

/* The packed request, for the caller to free. */
static uint8_t *client_pack(const ProtobufCMessage *req, size_t *ret_len)
{
        size_t len = protobuf_c_message_get_packed_size(req);
        uint8_t *buf = malloc(len ? len : 1);
        if (buf)
                protobuf_c_message_pack(req, buf);
        *ret_len = len;
        return buf;
}

int client_call(struct client *c, const char *path, const ProtobufCMessage *req,
                const ProtobufCMessageDescriptor *resp_desc, uint64_t timeout_ms,
                struct client_result *res)
{
        size_t len;
        uint8_t *buf = client_pack(req, &len);
        if (!buf)
                return -ENOMEM;
        int r = client_call_raw(c, path, buf, len, resp_desc, timeout_ms, res);
        free(buf);
        return r;
}

/* Reads messages until the stream ends or on_message stops it (the call is then cancelled). */
static int client_read_stream(struct client_exchange *x,
                              const ProtobufCMessageDescriptor *resp_desc,
                              client_stream_fn on_message, void *ctx)
{
        for (;;) {
                grpc_byte_buffer *bb = NULL;
                grpc_op op;
                memset(&op, 0, sizeof(op));
                op.op = GRPC_OP_RECV_MESSAGE;
                op.data.recv_message.recv_message = &bb;
                if (!client_run(x, &op, 1) || !bb)
                        return 0;
                ProtobufCMessage *m = NULL;
                int r = client_decode(bb, resp_desc, &m);
                grpc_byte_buffer_destroy(bb);
                if (r == 0) {
                        r = on_message(ctx, m);
                        protobuf_c_message_free_unpacked(m, NULL);
                }
                if (r < 0) {
                        grpc_call_cancel(x->call, NULL);
                        return r;
                }
        }
}

int client_call_stream(struct client *c, const char *path, const ProtobufCMessage *req,
                       const ProtobufCMessageDescriptor *resp_desc, uint64_t timeout_ms,
                       client_stream_fn on_message, void *ctx, struct client_result *res)
{
        *res = (struct client_result){0};
        size_t len;
        uint8_t *buf = client_pack(req, &len);
        if (!buf)
                return -ENOMEM;
        struct client_exchange x;
        client_exchange_open(c, path, buf, len, timeout_ms, &x);
        free(buf);
        /* Send and read the initial metadata first; messages one at a time; the status last. */
        int r = 0;
        if (client_run(&x, x.ops, 4)) /* else the status says why */
                r = client_read_stream(&x, resp_desc, on_message, ctx);
        if (!client_run(&x, &x.ops[5], 1) && r == 0)
                r = -EIO;
        else
                client_collect(&x.b, NULL, res);
        client_exchange_close(&x);
        return r;
}
