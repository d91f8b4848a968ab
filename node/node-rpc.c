#include "node/node-rpc.h"

#include <csi.pb-c.h>
#include <string.h>

#include "common/err.h"
#include "common/id.h"
#include "common/log.h"
#include "common/server/vlock.h"
#include "common/silo.h"
#include "node/node.h"
#include "common/cleanup.h"

static int node_rpc_fail(struct rpc_call *call, int r, const char *what, const char *id)
{
        const char *why = node_why();

        if (why[0])
                return rpc_fail(call, r, "%s", why);
        return rpc_fail(call, r, "cannot %s volume '%s'", what, id);
}

/* Checks the volume id and the daemon state, takes the volume's lock. */
static int node_rpc_begin(struct rpc_call *call, const char *id, struct node **ret_node,
                          struct vlock **ret_lock)
{
        struct silo *silo = rpc_silo(call);
        int r;

        node_why_clear();
        if (!id || !*id)
                return rpc_fail(call, -SILO_EINVALID, "volume_id is required");
        if (!id_is_valid(id))
                return rpc_fail(call, -SILO_ENOTFOUND, "volume_id is not one of ours");
        rpc_set_object(call, "volume_id", id);
        if (!silo->node)
                return rpc_fail(call, -SILO_EOVERLOAD, "the node service is not running");
        r = vlock_try(silo->locks, "vol", id, ret_lock);
        if (r < 0)
                return rpc_fail(call, r, "an operation on volume '%s' is already pending", id);
        *ret_node = silo->node;
        return 0;
}

static int node_rpc_require(struct rpc_call *call, const char *value, const char *field)
{
        if (!value || !*value)
                return rpc_fail(call, -SILO_EINVALID, "%s is required", field);
        return 0;
}

static bool node_rpc_mode_is_read_only(int mode)
{
        return mode == CSI__V1__VOLUME_CAPABILITY__ACCESS_MODE__MODE__SINGLE_NODE_READER_ONLY ||
               mode == CSI__V1__VOLUME_CAPABILITY__ACCESS_MODE__MODE__MULTI_NODE_READER_ONLY;
}

/* Validates a capability and turns it into a node_cap borrowing the request's strings. */
static int node_rpc_cap(struct rpc_call *call, const Csi__V1__VolumeCapability *c,
                        struct node_cap *ret)
{
        struct node_cap cap = {.fs_type = "", .mount_group = ""};
        int mode;

        if (!c)
                return rpc_fail(call, -SILO_EINVALID, "volume_capability is required");
        mode = c->access_mode ? (int)c->access_mode->mode : 0;
        if (mode < 1 ||
            mode > CSI__V1__VOLUME_CAPABILITY__ACCESS_MODE__MODE__SINGLE_NODE_MULTI_WRITER)
                return rpc_fail(call, -SILO_EINVALID, "access mode is missing or unknown");
        if (c->access_type_case == CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_BLOCK) {
                cap.block = true;
        } else if (c->access_type_case == CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_MOUNT &&
                   c->mount) {
                cap.fs_type = c->mount->fs_type ? c->mount->fs_type : "";
                cap.mount_flags = (const char *const *)c->mount->mount_flags;
                cap.n_mount_flags = c->mount->n_mount_flags;
                cap.mount_group = c->mount->volume_mount_group ? c->mount->volume_mount_group : "";
        } else {
                return rpc_fail(call, -SILO_EINVALID, "access type (block or mount) is required");
        }
        cap.single_writer =
            mode == CSI__V1__VOLUME_CAPABILITY__ACCESS_MODE__MODE__SINGLE_NODE_SINGLE_WRITER;
        *ret = cap;
        return 0;
}

static int node_rpc_stage(struct rpc_call *call, const ProtobufCMessage *msg)
{
        const Csi__V1__NodeStageVolumeRequest *req = (const void *)msg;
        _cleanup_vlock_ struct vlock *l = NULL;
        Csi__V1__NodeStageVolumeResponse resp = CSI__V1__NODE_STAGE_VOLUME_RESPONSE__INIT;
        struct node_cap cap = {0};
        struct node *n = NULL;
        int r;

        r = node_rpc_begin(call, req->volume_id, &n, &l);
        if (r == 0)
                r = node_rpc_require(call, req->staging_target_path, "staging_target_path");
        if (r == 0)
                r = node_rpc_cap(call, req->volume_capability, &cap);
        if (r < 0)
                return r;
        r = node_stage(n, req->volume_id, req->staging_target_path, &cap);
        if (r < 0)
                return node_rpc_fail(call, r, "stage", req->volume_id);
        return rpc_reply(call, &resp.base);
}

static int node_rpc_unstage(struct rpc_call *call, const ProtobufCMessage *msg)
{
        const Csi__V1__NodeUnstageVolumeRequest *req = (const void *)msg;
        _cleanup_vlock_ struct vlock *l = NULL;
        Csi__V1__NodeUnstageVolumeResponse resp = CSI__V1__NODE_UNSTAGE_VOLUME_RESPONSE__INIT;
        struct node *n = NULL;
        int r;

        r = node_rpc_begin(call, req->volume_id, &n, &l);
        if (r == 0)
                r = node_rpc_require(call, req->staging_target_path, "staging_target_path");
        if (r < 0)
                return r;
        r = node_unstage(n, req->volume_id, req->staging_target_path);
        if (r < 0)
                return node_rpc_fail(call, r, "unstage", req->volume_id);
        return rpc_reply(call, &resp.base);
}

/* kubelet marks an inline ephemeral volume so (with podInfoOnMount: true). */
static bool node_rpc_is_ephemeral(const Csi__V1__NodePublishVolumeRequest *req)
{
        for (size_t i = 0; i < req->n_volume_context; i++) {
                const Csi__V1__NodePublishVolumeRequest__VolumeContextEntry *e =
                    req->volume_context[i];
                if (e->key && strcmp(e->key, "csi.storage.k8s.io/ephemeral") == 0)
                        return e->value && strcmp(e->value, "true") == 0;
        }
        return false;
}

static int node_rpc_publish_ephemeral(struct node *n, const Csi__V1__NodePublishVolumeRequest *req,
                                      const struct node_cap *cap, bool ro)
{
        struct node_kv attrs[65];
        size_t count = req->n_volume_context < 65 ? req->n_volume_context : 65;

        for (size_t i = 0; i < count; i++) {
                attrs[i].key = req->volume_context[i]->key ? req->volume_context[i]->key : "";
                attrs[i].value = req->volume_context[i]->value ? req->volume_context[i]->value : "";
        }
        return node_ephemeral_publish(n, req->volume_id, req->target_path, cap, ro, attrs, count);
}

static int node_rpc_publish(struct rpc_call *call, const ProtobufCMessage *msg)
{
        const Csi__V1__NodePublishVolumeRequest *req = (const void *)msg;
        _cleanup_vlock_ struct vlock *l = NULL;
        Csi__V1__NodePublishVolumeResponse resp = CSI__V1__NODE_PUBLISH_VOLUME_RESPONSE__INIT;
        struct node_cap cap = {0};
        struct node *n = NULL;
        bool ro;
        int r;

        bool ephemeral = node_rpc_is_ephemeral(req);

        r = node_rpc_begin(call, req->volume_id, &n, &l);
        if (r == 0)
                r = node_rpc_require(call, req->target_path, "target_path");
        if (r == 0 && !ephemeral) /* no stage call comes for an inline volume */
                r = node_rpc_require(call, req->staging_target_path, "staging_target_path");
        if (r == 0)
                r = node_rpc_cap(call, req->volume_capability, &cap);
        if (r < 0)
                return r;
        ro = req->readonly || node_rpc_mode_is_read_only(req->volume_capability->access_mode->mode);
        if (ephemeral)
                r = node_rpc_publish_ephemeral(n, req, &cap, ro);
        else
                r = node_publish(n, req->volume_id, req->staging_target_path, req->target_path,
                                 &cap, ro);
        if (r < 0)
                return node_rpc_fail(call, r, "publish", req->volume_id);
        return rpc_reply(call, &resp.base);
}

static int node_rpc_unpublish(struct rpc_call *call, const ProtobufCMessage *msg)
{
        const Csi__V1__NodeUnpublishVolumeRequest *req = (const void *)msg;
        _cleanup_vlock_ struct vlock *l = NULL;
        Csi__V1__NodeUnpublishVolumeResponse resp = CSI__V1__NODE_UNPUBLISH_VOLUME_RESPONSE__INIT;
        struct node *n = NULL;
        int r;

        r = node_rpc_begin(call, req->volume_id, &n, &l);
        if (r == 0)
                r = node_rpc_require(call, req->target_path, "target_path");
        if (r < 0)
                return r;
        r = node_ephemeral_unpublish(n, req->volume_id, req->target_path);
        if (r == 0)
                r = node_unpublish(n, req->volume_id, req->target_path);
        if (r < 0)
                return node_rpc_fail(call, r, "unpublish", req->volume_id);
        return rpc_reply(call, &resp.base);
}

static void node_rpc_usage(Csi__V1__VolumeUsage *u, int unit, uint64_t avail, uint64_t total,
                           uint64_t used)
{
        csi__v1__volume_usage__init(u);
        u->unit = unit;
        u->available = (int64_t)avail;
        u->total = (int64_t)total;
        u->used = (int64_t)used;
}

static int node_rpc_stats_reply(struct rpc_call *call, const struct node_stats *s)
{
        Csi__V1__NodeGetVolumeStatsResponse resp = CSI__V1__NODE_GET_VOLUME_STATS_RESPONSE__INIT;
        Csi__V1__VolumeCondition cond = CSI__V1__VOLUME_CONDITION__INIT;
        Csi__V1__VolumeUsage usage[2], *list[2] = {&usage[0], &usage[1]};

        if (s->block) {
                node_rpc_usage(&usage[0], CSI__V1__VOLUME_USAGE__UNIT__BYTES, 0, s->bytes_total, 0);
        } else {
                node_rpc_usage(&usage[0], CSI__V1__VOLUME_USAGE__UNIT__BYTES, s->bytes_available,
                               s->bytes_total, s->bytes_used);
                node_rpc_usage(&usage[1], CSI__V1__VOLUME_USAGE__UNIT__INODES, s->inodes_free,
                               s->inodes_total, s->inodes_used);
        }
        resp.n_usage = s->block ? 1 : 2;
        resp.usage = list;
        cond.abnormal = s->abnormal;
        cond.message = (char *)(s->abnormal ? s->condition : "volume is healthy");
        resp.volume_condition = &cond;
        return rpc_reply(call, &resp.base);
}

static int node_rpc_stats(struct rpc_call *call, const ProtobufCMessage *msg)
{
        const Csi__V1__NodeGetVolumeStatsRequest *req = (const void *)msg;
        _cleanup_vlock_ struct vlock *l = NULL;
        struct node_stats s = {0};
        struct node *n = NULL;
        int r;

        r = node_rpc_begin(call, req->volume_id, &n, &l);
        if (r == 0)
                r = node_rpc_require(call, req->volume_path, "volume_path");
        if (r < 0)
                return r;
        r = node_stats(n, req->volume_id, req->volume_path, &s);
        if (r < 0)
                return node_rpc_fail(call, r, "get stats of", req->volume_id);
        return node_rpc_stats_reply(call, &s);
}

static int node_rpc_expand_range(struct rpc_call *call, const Csi__V1__CapacityRange *range,
                                 uint64_t *ret)
{
        *ret = 0;
        if (!range)
                return 0;
        if (range->required_bytes < 0 || range->limit_bytes < 0)
                return rpc_fail(call, -SILO_EINVALID, "capacity_range must not be negative");
        if (range->limit_bytes && range->required_bytes > range->limit_bytes)
                return rpc_fail(call, -SILO_EOUTOFRANGE, "required_bytes exceeds limit_bytes");
        *ret = (uint64_t)range->required_bytes;
        return 0;
}

static int node_rpc_expand(struct rpc_call *call, const ProtobufCMessage *msg)
{
        const Csi__V1__NodeExpandVolumeRequest *req = (const void *)msg;
        _cleanup_vlock_ struct vlock *l = NULL;
        Csi__V1__NodeExpandVolumeResponse resp = CSI__V1__NODE_EXPAND_VOLUME_RESPONSE__INIT;
        const Csi__V1__VolumeCapability *c = req->volume_capability;
        struct node_expansion e = {0};
        uint64_t required = 0;
        struct node *n = NULL;
        bool block = c && c->access_type_case == CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_BLOCK;
        int r;

        r = node_rpc_begin(call, req->volume_id, &n, &l);
        if (r == 0)
                r = node_rpc_require(call, req->volume_path, "volume_path");
        if (r == 0)
                r = node_rpc_expand_range(call, req->capacity_range, &required);
        if (r < 0)
                return r;
        r = node_expand(n, req->volume_id, req->volume_path, block, required, &e);
        if (r < 0)
                return node_rpc_fail(call, r, "expand", req->volume_id);
        if (e.fs_deferred)
                log_warn("msg='online filesystem grow refused (needs CAP_SYS_RESOURCE); the "
                         "filesystem grows at the next NodeStageVolume' volume_id='%s'",
                         req->volume_id);
        resp.capacity_bytes = (int64_t)e.capacity_bytes;
        return rpc_reply(call, &resp.base);
}

static const int node_rpc_caps[] = {
    CSI__V1__NODE_SERVICE_CAPABILITY__RPC__TYPE__STAGE_UNSTAGE_VOLUME,
    CSI__V1__NODE_SERVICE_CAPABILITY__RPC__TYPE__GET_VOLUME_STATS,
    CSI__V1__NODE_SERVICE_CAPABILITY__RPC__TYPE__EXPAND_VOLUME,
    CSI__V1__NODE_SERVICE_CAPABILITY__RPC__TYPE__VOLUME_CONDITION,
    CSI__V1__NODE_SERVICE_CAPABILITY__RPC__TYPE__SINGLE_NODE_MULTI_WRITER,
    CSI__V1__NODE_SERVICE_CAPABILITY__RPC__TYPE__VOLUME_MOUNT_GROUP,
};

static int node_rpc_capabilities(struct rpc_call *call, const ProtobufCMessage *msg)
{
        Csi__V1__NodeGetCapabilitiesResponse resp = CSI__V1__NODE_GET_CAPABILITIES_RESPONSE__INIT;
        Csi__V1__NodeServiceCapability caps[ARRAY_SIZE(node_rpc_caps)];
        Csi__V1__NodeServiceCapability__RPC rpcs[ARRAY_SIZE(node_rpc_caps)];
        Csi__V1__NodeServiceCapability *list[ARRAY_SIZE(node_rpc_caps)];

        (void)msg;
        for (size_t i = 0; i < ARRAY_SIZE(node_rpc_caps); i++) {
                csi__v1__node_service_capability__init(&caps[i]);
                csi__v1__node_service_capability__rpc__init(&rpcs[i]);
                rpcs[i].type = node_rpc_caps[i];
                caps[i].type_case = CSI__V1__NODE_SERVICE_CAPABILITY__TYPE_RPC;
                caps[i].rpc = &rpcs[i];
                list[i] = &caps[i];
        }
        resp.n_capabilities = ARRAY_SIZE(node_rpc_caps);
        resp.capabilities = list;
        return rpc_reply(call, &resp.base);
}

static int node_rpc_info(struct rpc_call *call, const ProtobufCMessage *msg)
{
        const struct config *cfg = rpc_silo(call)->cfg;
        Csi__V1__NodeGetInfoResponse resp = CSI__V1__NODE_GET_INFO_RESPONSE__INIT;
        Csi__V1__Topology topo = CSI__V1__TOPOLOGY__INIT;
        Csi__V1__Topology__SegmentsEntry seg = CSI__V1__TOPOLOGY__SEGMENTS_ENTRY__INIT;
        Csi__V1__Topology__SegmentsEntry *segs[1] = {&seg};

        (void)msg;
        resp.node_id = cfg->node_id;
        resp.max_volumes_per_node = (int64_t)cfg->max_volumes_per_node;
        if (cfg->scope == CONFIG_SCOPE_NODE) {
                seg.key = (char *)NODE_TOPOLOGY_KEY;
                seg.value = cfg->node_id;
                topo.n_segments = 1;
                topo.segments = segs;
                resp.accessible_topology = &topo;
        }
        return rpc_reply(call, &resp.base);
}

static const struct rpc_method node_methods[] = {
    {"NodeStageVolume", &csi__v1__node_stage_volume_request__descriptor, node_rpc_stage,
     RPC_WORKER},
    {"NodeUnstageVolume", &csi__v1__node_unstage_volume_request__descriptor, node_rpc_unstage,
     RPC_WORKER},
    {"NodePublishVolume", &csi__v1__node_publish_volume_request__descriptor, node_rpc_publish,
     RPC_WORKER},
    {"NodeUnpublishVolume", &csi__v1__node_unpublish_volume_request__descriptor, node_rpc_unpublish,
     RPC_WORKER},
    {"NodeGetVolumeStats", &csi__v1__node_get_volume_stats_request__descriptor, node_rpc_stats,
     RPC_WORKER},
    {"NodeExpandVolume", &csi__v1__node_expand_volume_request__descriptor, node_rpc_expand,
     RPC_WORKER},
    {"NodeGetCapabilities", &csi__v1__node_get_capabilities_request__descriptor,
     node_rpc_capabilities, RPC_INLINE},
    {"NodeGetInfo", &csi__v1__node_get_info_request__descriptor, node_rpc_info, RPC_INLINE},
};

const struct rpc_service node_service = {"csi.v1.Node", node_methods, ARRAY_SIZE(node_methods)};
