/* csi.v1.SnapshotMetadata: changed-block tracking, streamed. Each message carries up to
 * max_results VARIABLE_LENGTH ranges (at most SMRPC_MAX_RESULTS, SMRPC_DEFAULT_RESULTS when
 * 0); the snapshots stay locked for the whole stream, so a DeleteSnapshot meanwhile is
 * ABORTED. */
#include <csi.pb-c.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "common/server/vlock.h"
#include "common/silo.h"
#include "controller/controller-rpc.h"
#include "controller/controller.h"
#include "controller/msg.h"
#include "controller/snapmeta.h"
#include "common/cleanup.h"

#define SMRPC_DEFAULT_RESULTS 256
#define SMRPC_MAX_RESULTS     1024

/* Batches ranges into messages. */
struct smrpc_out {
        struct rpc_call *call;
        bool delta;
        uint64_t capacity;
        size_t max, n;
        Csi__V1__BlockMetadata items[SMRPC_MAX_RESULTS];
        Csi__V1__BlockMetadata *list[SMRPC_MAX_RESULTS];
};

static int smrpc_flush(struct smrpc_out *o)
{
        if (o->n == 0)
                return 0;
        size_t n = o->n;
        o->n = 0;
        if (o->delta) {
                Csi__V1__GetMetadataDeltaResponse resp = CSI__V1__GET_METADATA_DELTA_RESPONSE__INIT;
                resp.block_metadata_type = CSI__V1__BLOCK_METADATA_TYPE__VARIABLE_LENGTH;
                resp.volume_capacity_bytes = (int64_t)o->capacity;
                resp.n_block_metadata = n;
                resp.block_metadata = o->list;
                return rpc_stream_send(o->call, &resp.base);
        }
        Csi__V1__GetMetadataAllocatedResponse resp = CSI__V1__GET_METADATA_ALLOCATED_RESPONSE__INIT;
        resp.block_metadata_type = CSI__V1__BLOCK_METADATA_TYPE__VARIABLE_LENGTH;
        resp.volume_capacity_bytes = (int64_t)o->capacity;
        resp.n_block_metadata = n;
        resp.block_metadata = o->list;
        return rpc_stream_send(o->call, &resp.base);
}

static int smrpc_emit(void *ctx, uint64_t offset, uint64_t length)
{
        struct smrpc_out *o = ctx;
        if (o->n > 0) {
                Csi__V1__BlockMetadata *last = &o->items[o->n - 1];
                if ((uint64_t)last->byte_offset + (uint64_t)last->size_bytes == offset) {
                        last->size_bytes += (int64_t)length;
                        return 0;
                }
        }
        if (o->n == o->max) {
                int r = smrpc_flush(o);
                if (r < 0)
                        return r;
        }
        Csi__V1__BlockMetadata *b = &o->items[o->n];
        csi__v1__block_metadata__init(b);
        b->byte_offset = (int64_t)offset;
        b->size_bytes = (int64_t)length;
        o->list[o->n++] = b;
        return 0;
}

static int smrpc_check(struct rpc_call *call, int64_t starting_offset, int32_t max_results)
{
        if (starting_offset < 0)
                return rpc_fail(call, -SILO_EINVALID, "starting_offset must not be negative");
        if (max_results < 0)
                return rpc_fail(call, -SILO_EINVALID, "max_results must not be negative");
        return 0;
}

static int smrpc_stream(struct rpc_call *call, struct snapmeta *m, int32_t max_results)
{
        _cleanup_free_ struct smrpc_out *o = calloc(1, sizeof(*o));
        if (!o)
                return rpc_fail(call, -ENOMEM, "cannot stream block metadata");
        o->call = call;
        o->delta = m->base_fd >= 0;
        o->capacity = m->capacity_bytes;
        o->max = max_results == 0                  ? SMRPC_DEFAULT_RESULTS
                 : max_results > SMRPC_MAX_RESULTS ? SMRPC_MAX_RESULTS
                                                   : (size_t)max_results;
        int r = snapmeta_run(m, smrpc_emit, o);
        if (r == 0)
                r = smrpc_flush(o);
        if (o->delta)
                log_debug("msg='delta computed' compared_bytes=%llu fiemap_calls=%llu",
                          (unsigned long long)m->stats.bytes_compared,
                          (unsigned long long)m->stats.fiemap_calls);
        return r < 0 ? msg_fail(call, r) : 0;
}

static int smrpc_allocated(struct rpc_call *call, const ProtobufCMessage *msg)
{
        const Csi__V1__GetMetadataAllocatedRequest *req = (const void *)msg;
        _cleanup_vlock_ struct vlock *l = NULL;
        int r = smrpc_check(call, req->starting_offset, req->max_results);
        if (r == 0)
                r = msg_lock(call, "snapshot_id", "snap", "snapshot", req->snapshot_id, &l);
        if (r < 0)
                return r;
        struct snapmeta m;
        r = snapmeta_open_allocated(rpc_silo(call)->controller, req->snapshot_id,
                                    (uint64_t)req->starting_offset, &m);
        if (r < 0)
                return msg_fail(call, r);
        r = smrpc_stream(call, &m, req->max_results);
        snapmeta_close(&m);
        return r;
}

static int smrpc_delta(struct rpc_call *call, const ProtobufCMessage *msg)
{
        const Csi__V1__GetMetadataDeltaRequest *req = (const void *)msg;
        _cleanup_vlock_ struct vlock *lb = NULL;
        _cleanup_vlock_ struct vlock *lt = NULL;
        int r = smrpc_check(call, req->starting_offset, req->max_results);
        if (r == 0)
                r = msg_object(call, "base_snapshot_id", req->base_snapshot_id);
        if (r == 0)
                r = msg_lock(call, "target_snapshot_id", "snap", "snapshot",
                             req->target_snapshot_id, &lt);
        if (r == 0 && strcmp(req->base_snapshot_id, req->target_snapshot_id) != 0)
                r = msg_lock(call, "base_snapshot_id", "snap", "snapshot", req->base_snapshot_id,
                             &lb);
        if (r < 0)
                return r;
        struct snapmeta m;
        r = snapmeta_open_delta(rpc_silo(call)->controller, req->base_snapshot_id,
                                req->target_snapshot_id, (uint64_t)req->starting_offset, &m);
        if (r < 0)
                return msg_fail(call, r);
        r = smrpc_stream(call, &m, req->max_results);
        snapmeta_close(&m);
        return r;
}

static const struct rpc_method snapshot_metadata_methods[] = {
    {"GetMetadataAllocated", &csi__v1__get_metadata_allocated_request__descriptor, smrpc_allocated,
     RPC_STREAM},
    {"GetMetadataDelta", &csi__v1__get_metadata_delta_request__descriptor, smrpc_delta, RPC_STREAM},
};

const struct rpc_service snapshot_metadata_service = {
    "csi.v1.SnapshotMetadata", snapshot_metadata_methods, ARRAY_SIZE(snapshot_metadata_methods)};
