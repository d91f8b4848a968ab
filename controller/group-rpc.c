/* csi.v1.GroupController: group snapshots. */
#include "controller/controller-rpc.h"

#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/silo.h"
#include "common/server/vlock.h"
#include "controller/msg.h"
#include "common/cleanup.h"

#define REQ(type, msg) ((const type *)(const void *)(msg))

static int group_rpc_capabilities(struct rpc_call *call, const ProtobufCMessage *msg)
{
        (void)msg;
        Csi__V1__GroupControllerServiceCapability__RPC rpc =
            CSI__V1__GROUP_CONTROLLER_SERVICE_CAPABILITY__RPC__INIT;
        rpc.type =
            CSI__V1__GROUP_CONTROLLER_SERVICE_CAPABILITY__RPC__TYPE__CREATE_DELETE_GET_VOLUME_GROUP_SNAPSHOT;
        Csi__V1__GroupControllerServiceCapability cap =
            CSI__V1__GROUP_CONTROLLER_SERVICE_CAPABILITY__INIT;
        cap.type_case = CSI__V1__GROUP_CONTROLLER_SERVICE_CAPABILITY__TYPE_RPC;
        cap.rpc = &rpc;
        Csi__V1__GroupControllerServiceCapability *list[1] = {&cap};
        Csi__V1__GroupControllerGetCapabilitiesResponse resp =
            CSI__V1__GROUP_CONTROLLER_GET_CAPABILITIES_RESPONSE__INIT;
        resp.n_capabilities = 1;
        resp.capabilities = list;
        return rpc_reply(call, &resp.base);
}

/* The VolumeGroupSnapshot message of g and its member snapshots. */
struct group_rpc_msg {
        Csi__V1__VolumeGroupSnapshot group;
        Google__Protobuf__Timestamp ts;
        struct msg_snapshot snaps[STORE_GROUP_MAX];
        Csi__V1__Snapshot *list[STORE_GROUP_MAX];
};

static void group_rpc_fill(const struct store_group *g, const struct store_snapshot *snaps,
                           struct group_rpc_msg *m)
{
        csi__v1__volume_group_snapshot__init(&m->group);
        google__protobuf__timestamp__init(&m->ts);
        m->ts.seconds = (int64_t)(g->created_ns / 1000000000ull);
        m->ts.nanos = (int32_t)(g->created_ns % 1000000000ull);
        for (size_t i = 0; i < g->n_members && i < STORE_GROUP_MAX; i++) {
                msg_snapshot_fill(&snaps[i], &m->snaps[i]);
                m->list[i] = &m->snaps[i].snap;
        }
        m->group.group_snapshot_id = (char *)g->id;
        m->group.n_snapshots = g->n_members;
        m->group.snapshots = m->list;
        m->group.creation_time = &m->ts;
        m->group.ready_to_use = true;
}

static int group_rpc_reply(struct rpc_call *call, struct store_group *g,
                           struct store_snapshot *snaps, bool create)
{
        struct group_rpc_msg *m = calloc(1, sizeof(*m));
        int r = -ENOMEM;
        if (m) {
                group_rpc_fill(g, snaps, m);
                Csi__V1__CreateVolumeGroupSnapshotResponse cresp =
                    CSI__V1__CREATE_VOLUME_GROUP_SNAPSHOT_RESPONSE__INIT;
                Csi__V1__GetVolumeGroupSnapshotResponse gresp =
                    CSI__V1__GET_VOLUME_GROUP_SNAPSHOT_RESPONSE__INIT;
                cresp.group_snapshot = &m->group;
                gresp.group_snapshot = &m->group;
                r = rpc_reply(call, create ? &cresp.base : &gresp.base);
        }
        free(m);
        groups_snaps_free(snaps, g->n_members);
        store_group_release(g);
        return r;
}

static int group_rpc_check(const Csi__V1__CreateVolumeGroupSnapshotRequest *req)
{
        struct params_kv kv[CONTROLLER_PARAMS_MAX];
        size_t n = 0;
        int r = msg_check_name(req->name);
        if (r < 0)
                return r;
        if (req->n_source_volume_ids == 0)
                return controller_fail(-SILO_EINVALID, "source_volume_ids are required");
        for (size_t i = 0; i < req->n_source_volume_ids; i++) {
                char field[40];
                snprintf(field, sizeof(field), "source_volume_ids[%zu]", i);
                r = msg_check_id(field, req->source_volume_ids[i]);
                if (r < 0)
                        return r;
        }
        if (MSG_KV(req->parameters, req->n_parameters, kv, &n) < 0)
                return controller_fail(-SILO_EINVALID, "too many parameters");
        return msg_sidecar_params_only(kv, n);
}

static int group_rpc_create(struct rpc_call *call, const ProtobufCMessage *msg)
{
        const Csi__V1__CreateVolumeGroupSnapshotRequest *req =
            REQ(Csi__V1__CreateVolumeGroupSnapshotRequest, msg);
        struct silo *silo = rpc_silo(call);
        controller_why_clear();
        int r = group_rpc_check(req);
        if (r < 0)
                return msg_fail(call, r);
        _cleanup_vlock_ struct vlock *l = NULL;
        r = vlock_try(silo->locks, "groupname", req->name, &l);
        if (r < 0)
                return msg_pending(call, r, "group snapshot", req->name);
        struct store_group g = {0};
        struct store_snapshot *snaps = NULL;
        r = groups_create(silo->controller, req->name, (const char *const *)req->source_volume_ids,
                          req->n_source_volume_ids, &g, &snaps);
        if (r < 0)
                return msg_fail(call, r);
        rpc_set_object(call, "group_snapshot_id", g.id);
        return group_rpc_reply(call, &g, snaps, true);
}

static int group_rpc_lock(struct rpc_call *call, const char *id, size_t n_ids, struct vlock **ret)
{
        /* An empty id is reported first, by msg_lock(). */
        if (id && *id && n_ids > STORE_GROUP_MAX)
                return rpc_fail(call, -SILO_EINVALID, "too many snapshot_ids");
        return msg_lock(call, "group_snapshot_id", "group", "group snapshot", id, ret);
}

static int group_rpc_delete(struct rpc_call *call, const ProtobufCMessage *msg)
{
        const Csi__V1__DeleteVolumeGroupSnapshotRequest *req =
            REQ(Csi__V1__DeleteVolumeGroupSnapshotRequest, msg);
        _cleanup_vlock_ struct vlock *l = NULL;
        int r = group_rpc_lock(call, req->group_snapshot_id, req->n_snapshot_ids, &l);
        if (r < 0)
                return r;
        r = groups_delete(rpc_silo(call)->controller, req->group_snapshot_id,
                          (const char *const *)req->snapshot_ids, req->n_snapshot_ids);
        if (r < 0)
                return msg_fail(call, r);
        Csi__V1__DeleteVolumeGroupSnapshotResponse resp =
            CSI__V1__DELETE_VOLUME_GROUP_SNAPSHOT_RESPONSE__INIT;
        return rpc_reply(call, &resp.base);
}

static int group_rpc_get(struct rpc_call *call, const ProtobufCMessage *msg)
{
        const Csi__V1__GetVolumeGroupSnapshotRequest *req =
            REQ(Csi__V1__GetVolumeGroupSnapshotRequest, msg);
        _cleanup_vlock_ struct vlock *l = NULL;
        int r = group_rpc_lock(call, req->group_snapshot_id, req->n_snapshot_ids, &l);
        if (r < 0)
                return r;
        struct store_group g = {0};
        struct store_snapshot *snaps = NULL;
        r = groups_get(rpc_silo(call)->controller, req->group_snapshot_id,
                       (const char *const *)req->snapshot_ids, req->n_snapshot_ids, &g, &snaps);
        if (r < 0)
                return msg_fail(call, r);
        return group_rpc_reply(call, &g, snaps, false);
}

#define M(name, type, fn, klass)                                                                   \
        {                                                                                          \
                name, &csi__v1__##type##__descriptor, fn, klass                                    \
        }
static const struct rpc_method group_rpc_methods[] = {
    M("GroupControllerGetCapabilities", group_controller_get_capabilities_request,
      group_rpc_capabilities, RPC_INLINE),
    M("CreateVolumeGroupSnapshot", create_volume_group_snapshot_request, group_rpc_create,
      RPC_WORKER),
    M("DeleteVolumeGroupSnapshot", delete_volume_group_snapshot_request, group_rpc_delete,
      RPC_WORKER),
    M("GetVolumeGroupSnapshot", get_volume_group_snapshot_request, group_rpc_get, RPC_WORKER),
};

const struct rpc_service group_controller_service = {"csi.v1.GroupController", group_rpc_methods,
                                                     ARRAY_SIZE(group_rpc_methods)};
