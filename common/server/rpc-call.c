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
#include "common/wirecheck.h"
#include "common/cleanup.h"

/* A stream without a client deadline: a day, so that a forgotten stream still ends. */
#define RPC_STREAM_BUDGET_MS (24ull * 3600 * 1000)

static const struct rpc_call_hooks *rpc_hooks;

void rpc_set_call_hooks(const struct rpc_call_hooks *hooks)
{
        rpc_hooks = hooks;
}

static void rpc_run_handler(struct rpc_call *call)
{
        if (rpc_hooks)
                rpc_hooks->begin(call->method_name);
        int r = call->method->handler(call, call->req);
        if (rpc_hooks)
                rpc_hooks->end();
        if (r == 0 && !call->reply && call->method->klass != RPC_STREAM)
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
        if (call->method->klass == RPC_STREAM && it->started) {
                rpc_cancel(call, -SILO_ETIMEOUT, "the client's deadline passed mid-stream");
                return;
        }
        snprintf(text, sizeof(text), "%s did not finish within %llu ms; it %s, retry later",
                 call->method_name, (unsigned long long)call->budget_ms,
                 it->started ? "continues in the background" : "was not started");
        rpc_answer_text(call, -SILO_ETIMEOUT, text);
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

/* Reads the received message into *ret (the caller unrefs it). */
static int rpc_read(struct rpc_call *call, grpc_slice *ret)
{
        grpc_byte_buffer_reader reader;
        if (!grpc_byte_buffer_reader_init(&reader, call->recv_buf))
                return rpc_fail(call, -SILO_EINVALID, "cannot read request of '%s'", call->path);
        *ret = grpc_byte_buffer_reader_readall(&reader);
        grpc_byte_buffer_reader_destroy(&reader);
        return 0;
}

/* Decodes the request's bytes, whether they came from the network or rpc_local_call(), and
 * checks every string in them on the wire: protobuf-c cuts strings at a NUL and accepts any
 * bytes (common/wirecheck.h). */
static int rpc_decode(struct rpc_call *call, const uint8_t *data, size_t len)
{
        char why[RPC_MSG_MAX];
        call->req = protobuf_c_message_unpack(call->method->request, NULL, len, data);
        if (!call->req)
                return rpc_fail(call, -SILO_EINVALID, "cannot decode %s request",
                                call->method_name);
        int r = wirecheck_strings(call->method->request, data, len, why, sizeof(why));
        if (r < 0)
                return rpc_fail(call, r, "%s", why);
        return 0;
}

/* The smaller of --timeout and what is left of the client's deadline. A stream has only the
 * client's deadline: --timeout bounds each of its messages instead (rpc-stream.c). */
static uint64_t rpc_budget_ms(const struct rpc_server *srv, const struct rpc_call *call)
{
        gpr_timespec now = gpr_now(GPR_CLOCK_MONOTONIC);
        gpr_timespec dl = gpr_convert_clock_type(call->details.deadline, GPR_CLOCK_MONOTONIC);
        uint64_t budget =
            call->method->klass == RPC_STREAM ? RPC_STREAM_BUDGET_MS : srv->opts.timeout_ms;
        if (gpr_time_cmp(dl, gpr_inf_future(GPR_CLOCK_MONOTONIC)) == 0)
                return budget;
        int64_t left = gpr_time_to_millis(gpr_time_sub(dl, now));
        if (left < 1)
                left = 1;
        return (uint64_t)left < budget ? (uint64_t)left : budget;
}

/* Resolves, decodes and checks that the driver can take the call. */
static int rpc_prepare(struct rpc_server *srv, struct rpc_call *call, const uint8_t *data,
                       size_t len)
{
        int r = rpc_resolve(srv, call);
        if (r < 0)
                return r;
        if (!call->method->handler)
                return rpc_fail(call, -SILO_EUNIMPL, "%s is not implemented by this driver",
                                call->method_name);
        r = rpc_decode(call, data, len);
        if (r < 0)
                return r;
        if (call->method->klass != RPC_INLINE && !atomic_load(&srv->silo->ready))
                return rpc_fail(call, -SILO_EOVERLOAD,
                                "driver is starting: pool scan and reconciliation not finished");
        return 0;
}

void rpc_dispatch(struct rpc_server *srv, struct rpc_call *call)
{
        grpc_slice s = grpc_empty_slice();
        int r = rpc_read(call, &s);
        if (r == 0)
                r = rpc_prepare(srv, call, GRPC_SLICE_START_PTR(s), GRPC_SLICE_LENGTH(s));
        grpc_slice_unref(s);
        if (r < 0) {
                rpc_answer(call, r);
                return;
        }
        if (call->method->klass == RPC_INLINE) {
                rpc_run_handler(call);
                rpc_answer(call, call->result);
                return;
        }
        if (call->method->klass == RPC_STREAM)
                rpc_stream_init(call);
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

int rpc_local_call(struct silo *silo, const struct rpc_service *const *services, size_t n_services,
                   const char *path, const void *data, size_t len, uint64_t timeout_ms,
                   struct rpc_local_reply *ret)
{
        struct rpc_server srv = {
            .silo = silo,
            .services = services,
            .n_services = n_services,
            .opts = {.timeout_ms = timeout_ms},
        };
        struct rpc_call *call = calloc(1, sizeof(*call));
        if (!call)
                return -ENOMEM;
        call->srv = &srv;
        call->start_ns = workq_now_ns();
        call->start_ms = call->start_ns / 1000000;
        call->budget_ms = timeout_ms;
        snprintf(call->path, sizeof(call->path), "%s", path);
        call->method_name = call->path;
        int r = rpc_prepare(&srv, call, data, len);
        if (r == 0) {
                rpc_run_handler(call);
                r = call->result;
        }
        char text[RPC_MSG_MAX + 128];
        err_format(text, sizeof(text), r, call->msg);
        rpc_log(call, r, text, NULL);
        *ret = (struct rpc_local_reply){.code = (int)err_status_of(r)};
        snprintf(ret->message, sizeof(ret->message), "%s", r ? text : "");
        if (r == 0) {
                ret->data = TAKE_PTR(call->reply);
                ret->len = call->reply_len;
        }
        if (call->req)
                protobuf_c_message_free_unpacked(call->req, NULL);
        free(call->reply);
        free(call);
        return 0;
}

void rpc_local_reply_release(struct rpc_local_reply *reply)
{
        free(reply->data);
        reply->data = NULL;
        reply->len = 0;
}
