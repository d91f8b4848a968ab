/* Answering a call: its reply or status, sent once, logged once, observed once; and the
 * call's references. Below rpc-stream.c and rpc-call.c. */
#include "common/server/rpc-internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"

static rpc_observer_fn rpc_observer;

void rpc_set_observer(rpc_observer_fn fn)
{
        rpc_observer = fn;
}

void rpc_call_drop(struct rpc_call *call, int n)
{
        if (atomic_fetch_sub(&call->refs, n) != n)
                return;
        if (call->req)
                protobuf_c_message_free_unpacked(call->req, NULL);
        if (call->recv_buf)
                grpc_byte_buffer_destroy(call->recv_buf);
        if (call->streaming) {
                pthread_mutex_destroy(&call->stream.mu);
                pthread_cond_destroy(&call->stream.cv);
        }
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

/* Only the first answer of a call goes out. */
static bool rpc_claim(struct rpc_call *call)
{
        return !atomic_exchange(&call->answered, true);
}

/* Sends the reply (r == 0) or the status for r; the caller holds the claim. */
static void rpc_send(struct rpc_call *call, int r, const char *text)
{
        grpc_op ops[3];
        memset(ops, 0, sizeof(ops));
        size_t n = 0;
        if (!atomic_exchange(&call->metadata_sent, true))
                ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
        grpc_byte_buffer *bb = NULL;
        if (r == 0 && call->reply) {
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

void rpc_log(const struct rpc_call *call, int r, const char *text, const char *note)
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

/* Logged and counted before it goes out: a client that has its answer finds it in the
 * metrics and the log. */
bool rpc_answer_text(struct rpc_call *call, int r, const char *text)
{
        if (!rpc_claim(call))
                return false;
        rpc_log(call, r, text, NULL);
        rpc_observe(call, r);
        rpc_send(call, r, text);
        return true;
}

void rpc_answer(struct rpc_call *call, int r)
{
        char text[RPC_MSG_MAX + 128];
        err_format(text, sizeof(text), r, call->msg);
        if (!rpc_answer_text(call, r, text))
                rpc_log(call, r, text, " completed_after_deadline=true");
}

void rpc_cancel(struct rpc_call *call, int r, const char *text)
{
        if (!rpc_claim(call))
                return;
        rpc_log(call, r, text, NULL);
        rpc_observe(call, r);
        grpc_call_cancel_with_status(call->gcall, (grpc_status_code)err_status_of(r), text, NULL);
}
