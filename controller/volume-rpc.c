/* csi.v1.Controller: attach decisions, expansion and modification of existing volumes. */
#include "controller/controller-rpc.h"

#include <string.h>

#include "common/err.h"
#include "common/silo.h"
#include "common/server/vlock.h"
#include "controller/msg.h"
#include "common/cleanup.h"

#define REQ(type, msg) ((const type *)(const void *)(msg))

/* Takes the volume's lock after checking the id is present. */
static int volume_rpc_lock(struct rpc_call *call, const char *id, struct vlock **ret)
{
        return msg_lock(call, "volume_id", "vol", "volume", id, ret);
}

static int volume_rpc_publish_reply(struct rpc_call *call, const struct store_volume *v,
                                    bool readonly)
{
        Csi__V1__ControllerPublishVolumeResponse__PublishContextEntry e[2];
        Csi__V1__ControllerPublishVolumeResponse__PublishContextEntry *list[2] = {&e[0], &e[1]};
        for (int i = 0; i < 2; i++)
                csi__v1__controller_publish_volume_response__publish_context_entry__init(&e[i]);
        e[0].key = (char *)"readonly";
        e[0].value = (char *)(readonly ? "true" : "false");
        e[1].key = (char *)"fsType";
        e[1].value = (char *)v->fs_type;
        Csi__V1__ControllerPublishVolumeResponse resp =
            CSI__V1__CONTROLLER_PUBLISH_VOLUME_RESPONSE__INIT;
        resp.n_publish_context = 2;
        resp.publish_context = list;
        return rpc_reply(call, &resp.base);
}

int volume_rpc_publish(struct rpc_call *call, const ProtobufCMessage *msg)
{
        const Csi__V1__ControllerPublishVolumeRequest *req =
            REQ(Csi__V1__ControllerPublishVolumeRequest, msg);
        if (!req->volume_id || !*req->volume_id)
                return rpc_fail(call, -SILO_EINVALID, "volume_id is required");
        if (!req->node_id || !*req->node_id)
                return rpc_fail(call, -SILO_EINVALID, "node_id is required");
        struct params_cap cap;
        msg_cap(req->volume_capability, &cap);
        if (!req->volume_capability || cap.access == PARAMS_ACCESS_NONE || cap.mode <= 0)
                return rpc_fail(call, -SILO_EINVALID,
                                "volume_capability with access type and mode is required");
        _cleanup_vlock_ struct vlock *l = NULL;
        int r = msg_id(call, "volume_id", req->volume_id);
        if (r == 0)
                r = volume_rpc_lock(call, req->volume_id, &l);
        if (r < 0)
                return r;
        struct store_volume v = {0};
        r = attach_publish(rpc_silo(call)->controller, req->volume_id, req->node_id, &cap,
                           req->readonly, &v);
        if (r < 0)
                return msg_fail(call, r);
        r = volume_rpc_publish_reply(call, &v, req->readonly);
        store_volume_release(&v);
        return r;
}

int volume_rpc_unpublish(struct rpc_call *call, const ProtobufCMessage *msg)
{
        const Csi__V1__ControllerUnpublishVolumeRequest *req =
            REQ(Csi__V1__ControllerUnpublishVolumeRequest, msg);
        _cleanup_vlock_ struct vlock *l = NULL;
        int r = volume_rpc_lock(call, req->volume_id, &l);
        if (r < 0)
                return r;
        r = attach_unpublish(rpc_silo(call)->controller, req->volume_id,
                             req->node_id ? req->node_id : "");
        if (r < 0)
                return msg_fail(call, r);
        Csi__V1__ControllerUnpublishVolumeResponse resp =
            CSI__V1__CONTROLLER_UNPUBLISH_VOLUME_RESPONSE__INIT;
        return rpc_reply(call, &resp.base);
}

int volume_rpc_expand(struct rpc_call *call, const ProtobufCMessage *msg)
{
        const Csi__V1__ControllerExpandVolumeRequest *req =
            REQ(Csi__V1__ControllerExpandVolumeRequest, msg);
        if (!req->volume_id || !*req->volume_id)
                return rpc_fail(call, -SILO_EINVALID, "volume_id is required");
        if (!req->capacity_range)
                return rpc_fail(call, -SILO_EINVALID, "capacity_range is required");
        _cleanup_vlock_ struct vlock *l = NULL;
        int r = msg_id(call, "volume_id", req->volume_id);
        if (r == 0)
                r = volume_rpc_lock(call, req->volume_id, &l);
        if (r < 0)
                return r;
        uint64_t cap = 0;
        r = volumes_expand(rpc_silo(call)->controller, req->volume_id,
                           req->capacity_range->required_bytes, req->capacity_range->limit_bytes,
                           &cap);
        if (r < 0)
                return msg_fail(call, r);
        Csi__V1__ControllerExpandVolumeResponse resp =
            CSI__V1__CONTROLLER_EXPAND_VOLUME_RESPONSE__INIT;
        resp.capacity_bytes = (int64_t)cap;
        /* The node must always act: grow the filesystem, or refresh the loop device's size. */
        resp.node_expansion_required = true;
        return rpc_reply(call, &resp.base);
}

int volume_rpc_modify(struct rpc_call *call, const ProtobufCMessage *msg)
{
        const Csi__V1__ControllerModifyVolumeRequest *req =
            REQ(Csi__V1__ControllerModifyVolumeRequest, msg);
        struct params_kv kv[CONTROLLER_PARAMS_MAX];
        size_t n = 0;
        struct params p = {0};
        if (!req->volume_id || !*req->volume_id)
                return rpc_fail(call, -SILO_EINVALID, "volume_id is required");
        /* REQUIRED by the spec: a modify that asks for nothing is the caller's mistake. */
        if (req->n_mutable_parameters == 0)
                return rpc_fail(call, -SILO_EINVALID, "mutable_parameters is required");
        controller_why_clear();
        int r = MSG_KV(req->mutable_parameters, req->n_mutable_parameters, kv, &n);
        if (r < 0)
                return rpc_fail(call, r, "too many mutable parameters");
        r = params_parse(kv, n, true, &p);
        if (r < 0)
                return msg_fail(call, r);
        _cleanup_vlock_ struct vlock *l = NULL;
        r = msg_id(call, "volume_id", req->volume_id);
        if (r == 0)
                r = volume_rpc_lock(call, req->volume_id, &l);
        if (r < 0)
                return r;
        r = volumes_modify(rpc_silo(call)->controller, req->volume_id, &p);
        if (r < 0)
                return msg_fail(call, r);
        Csi__V1__ControllerModifyVolumeResponse resp =
            CSI__V1__CONTROLLER_MODIFY_VOLUME_RESPONSE__INIT;
        return rpc_reply(call, &resp.base);
}
