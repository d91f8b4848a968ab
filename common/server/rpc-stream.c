/* Server-streaming replies. The handler runs on a worker and sends one message at a time:
 * each send waits until gRPC has taken the message (so the client's flow-control window
 * paces the handler and nothing queues up in silo), for at most --timeout; a client that
 * reads nothing for that long, cancels, or passes its deadline ends the stream. */
#include "common/server/rpc-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"

void rpc_stream_init(struct rpc_call *call)
{
        struct rpc_stream *s = &call->stream;
        pthread_mutex_init(&s->mu, NULL);
        pthread_cond_init(&s->cv, NULL);
        s->tag = (struct rpc_tag){TAG_STREAM, call};
        call->streaming = true;
}

void rpc_stream_on_sent(struct rpc_call *call, bool ok)
{
        struct rpc_stream *s = &call->stream;
        pthread_mutex_lock(&s->mu);
        s->ok = ok;
        s->pending = false;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        rpc_call_drop(call, 1);
}

/* Waits for the message in flight; after timeout_ms cancels the call and returns at once:
 * the batch keeps its reference to the call, and gRPC may complete a send stuck on flow
 * control only when its poller next wakes, which must not hold the handler's locks.
 * Returns whether it was sent, false on timeout too. */
static bool rpc_stream_wait(struct rpc_call *call, uint64_t timeout_ms, bool *ret_timed_out)
{
        struct rpc_stream *s = &call->stream;
        struct timespec until;
        workq_abstime(timeout_ms, &until);
        *ret_timed_out = false;
        pthread_mutex_lock(&s->mu);
        while (s->pending && !*ret_timed_out)
                *ret_timed_out =
                    pthread_cond_timedwait(&s->cv, &s->mu, &until) == ETIMEDOUT && s->pending;
        bool ok = s->ok && !*ret_timed_out;
        pthread_mutex_unlock(&s->mu);
        if (*ret_timed_out)
                rpc_cancel(call, -SILO_ETIMEOUT, "the client read nothing in time");
        return ok;
}

int rpc_stream_send(struct rpc_call *call, const ProtobufCMessage *msg)
{
        struct rpc_stream *s = &call->stream;
        size_t len = protobuf_c_message_get_packed_size(msg);
        if (!call->streaming) /* an in-process call: nothing to carry the message */
                return 0;
        if (atomic_load(&call->answered))
                return rpc_fail(call, -ECANCELED, "the call ended before the stream did");
        void *buf = malloc(len ? len : 1);
        if (!buf)
                return -ENOMEM;
        protobuf_c_message_pack(msg, buf);
        grpc_slice slice = grpc_slice_new(buf, len, free);
        grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&slice, 1);
        grpc_slice_unref(slice);

        grpc_op ops[2];
        memset(ops, 0, sizeof(ops));
        size_t n = 0;
        if (!atomic_exchange(&call->metadata_sent, true))
                ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
        ops[n].op = GRPC_OP_SEND_MESSAGE;
        ops[n++].data.send_message.send_message = bb;

        pthread_mutex_lock(&s->mu);
        s->pending = true;
        pthread_mutex_unlock(&s->mu);
        atomic_fetch_add(&call->refs, 1); /* the batch's, dropped in rpc_stream_on_sent */
        grpc_call_error e = grpc_call_start_batch(call->gcall, ops, n, &s->tag, NULL);
        grpc_byte_buffer_destroy(bb);
        if (e != GRPC_CALL_OK) {
                atomic_fetch_sub(&call->refs, 1);
                pthread_mutex_lock(&s->mu);
                s->pending = false;
                pthread_mutex_unlock(&s->mu);
                return rpc_fail(call, -EPROTO, "cannot send a stream message: %s",
                                grpc_call_error_to_string(e));
        }
        bool timed_out;
        if (rpc_stream_wait(call, call->srv->opts.timeout_ms, &timed_out))
                return 0;
        if (timed_out)
                return rpc_fail(call, -SILO_ETIMEOUT,
                                "the client read no message for %llu ms; stream ended",
                                (unsigned long long)call->srv->opts.timeout_ms);
        return rpc_fail(call, -ECANCELED, "the client cancelled the stream or its deadline passed");
}
