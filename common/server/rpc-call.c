/* One call's life: decode, dispatch (inline or to the workers), reply or status, log. */
#include "common/server/rpc-internal.h"

#include <errno.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/support/time.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "common/silo.h"
#include "common/cleanup.h"

static rpc_observer_fn rpc_observer;
static const struct rpc_call_hooks *rpc_hooks;

void rpc_set_call_hooks(const struct rpc_call_hooks *hooks)
{
        rpc_hooks = hooks;
}

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

void rpc_answer(struct rpc_call *call, int r)
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
        if (rpc_hooks)
                rpc_hooks->begin(call->method_name);
        int r = call->method->handler(call, call->req);
        if (rpc_hooks)
                rpc_hooks->end();
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

int rpc_resolve(struct rpc_server *srv, struct rpc_call *call)
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

void rpc_dispatch(struct rpc_server *srv, struct rpc_call *call)
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
