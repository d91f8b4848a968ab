/* csi.v1.Controller: volume creation, deletion, inspection and capacity. */
#include "controller/controller-rpc.h"

#include <google/protobuf/wrappers.pb-c.h>
#include <string.h>

#include "common/err.h"
#include "common/silo.h"
#include "common/server/vlock.h"
#include "controller/msg.h"
#include "common/cleanup.h"

#define REQ(type, msg) ((const type *)(const void *)(msg))

/* Node scope: a topology names our node when its only segment is our node's key and id. */
static bool ctl_topology_is_ours(const struct controller *c, const Csi__V1__Topology *t)
{
        if (!t || t->n_segments != 1 || !t->segments[0]->key || !t->segments[0]->value)
                return false;
        return strcmp(t->segments[0]->key, CONTROLLER_TOPOLOGY_KEY) == 0 &&
               strcmp(t->segments[0]->value, c->node_id) == 0;
}

static int ctl_topology(const struct controller *c, const Csi__V1__TopologyRequirement *t)
{
        if (!t || c->scope == CONFIG_SCOPE_SHARED)
                return 0;
        Csi__V1__Topology **list = t->n_requisite ? t->requisite : t->preferred;
        size_t n = t->n_requisite ? t->n_requisite : t->n_preferred;
        for (size_t i = 0; i < n; i++)
                if (ctl_topology_is_ours(c, list[i]))
                        return 0;
        if (n == 0)
                return 0;
        return controller_fail(-SILO_ENOSPACE,
                               "volumes of this pool live on node '%s', which the accessibility "
                               "requirements do not include",
                               c->node_id);
}

static int ctl_source(const Csi__V1__VolumeContentSource *src, struct volume_spec *spec)
{
        const char *field = NULL;
        if (!src)
                return 0;
        if (src->type_case == CSI__V1__VOLUME_CONTENT_SOURCE__TYPE_SNAPSHOT && src->snapshot) {
                spec->source_kind = STORE_SOURCE_SNAPSHOT;
                spec->source_id = src->snapshot->snapshot_id ? src->snapshot->snapshot_id : "";
                field = "volume_content_source.snapshot.snapshot_id";
        } else if (src->type_case == CSI__V1__VOLUME_CONTENT_SOURCE__TYPE_VOLUME && src->volume) {
                spec->source_kind = STORE_SOURCE_VOLUME;
                spec->source_id = src->volume->volume_id ? src->volume->volume_id : "";
                field = "volume_content_source.volume.volume_id";
        } else {
                return controller_fail(-SILO_EINVALID, "volume_content_source has no type");
        }
        return msg_check_id(field, spec->source_id);
}

static int ctl_caps(const struct controller *c, Csi__V1__VolumeCapability **caps, size_t n,
                    bool placeholders, struct volume_spec *spec)
{
        struct params_cap list[CONTROLLER_PARAMS_MAX];
        if (n > CONTROLLER_PARAMS_MAX)
                return controller_fail(-SILO_EINVALID, "too many volume capabilities");
        for (size_t i = 0; i < n; i++) {
                msg_cap(caps[i], &list[i]);
                if (placeholders)
                        params_cap_placeholder(&list[i]);
        }
        return params_caps(c, list, n, &spec->caps, spec->cap_fs_type);
}

static int ctl_spec(const struct controller *c, const Csi__V1__CreateVolumeRequest *req,
                    struct volume_spec *spec)
{
        struct params_kv kv[CONTROLLER_PARAMS_MAX];
        size_t n = 0;
        int r = msg_check_name(req->name);
        if (r < 0)
                return r;
        spec->name = req->name;
        if (req->capacity_range) {
                spec->required_bytes = req->capacity_range->required_bytes;
                spec->limit_bytes = req->capacity_range->limit_bytes;
        }
        r = MSG_KV(req->parameters, req->n_parameters, kv, &n);
        if (r < 0)
                return controller_fail(r, "too many parameters");
        r = params_parse(kv, n, false, &spec->params);
        if (r >= 0 && (r = MSG_KV(req->mutable_parameters, req->n_mutable_parameters, kv, &n)) < 0)
                return controller_fail(r, "too many mutable parameters");
        struct params mut = {0};
        if (r >= 0 && (r = params_parse(kv, n, true, &mut)) >= 0 && mut.has_provisioning)
                spec->params.provisioning = mut.provisioning;
        if (r >= 0)
                r = ctl_caps(c, req->volume_capabilities, req->n_volume_capabilities, false, spec);
        if (r >= 0)
                r = ctl_source(req->volume_content_source, spec);
        if (r >= 0 && (spec->required_bytes < 0 || spec->limit_bytes < 0))
                r = controller_fail(-SILO_EINVALID, "capacity must not be negative");
        if (r >= 0)
                r = ctl_topology(c, req->accessibility_requirements);
        return r;
}

static int ctl_create_volume(struct rpc_call *call, const ProtobufCMessage *msg)
{
        const Csi__V1__CreateVolumeRequest *req = REQ(Csi__V1__CreateVolumeRequest, msg);
        struct silo *silo = rpc_silo(call);
        struct volume_spec spec = {0};
        controller_why_clear();
        int r = ctl_spec(silo->controller, req, &spec);
        if (r < 0)
                return msg_fail(call, r);
        _cleanup_vlock_ struct vlock *l = NULL;
        r = vlock_try(silo->locks, "name", req->name, &l);
        if (r < 0)
                return msg_pending(call, r, "volume", req->name);
        struct store_volume v = {0};
        r = volumes_create(silo->controller, &spec, &v);
        if (r < 0)
                return msg_fail(call, r);
        rpc_set_object(call, "volume_id", v.id);
        struct msg_volume m;
        msg_volume_fill(&v, &m);
        Csi__V1__CreateVolumeResponse resp = CSI__V1__CREATE_VOLUME_RESPONSE__INIT;
        resp.volume = &m.vol;
        r = rpc_reply(call, &resp.base);
        store_volume_release(&v);
        return r;
}

static int ctl_delete_volume(struct rpc_call *call, const ProtobufCMessage *msg)
{
        const Csi__V1__DeleteVolumeRequest *req = REQ(Csi__V1__DeleteVolumeRequest, msg);
        _cleanup_vlock_ struct vlock *l = NULL;
        int r = msg_lock(call, "volume_id", "vol", "volume", req->volume_id, &l);
        if (r < 0)
                return r;
        r = volumes_delete(rpc_silo(call)->controller, req->volume_id);
        if (r < 0)
                return msg_fail(call, r);
        Csi__V1__DeleteVolumeResponse resp = CSI__V1__DELETE_VOLUME_RESPONSE__INIT;
        return rpc_reply(call, &resp.base);
}

/* Mirrors the request's capabilities and context when every capability is supported. */
static int ctl_validate_reply(struct rpc_call *call,
                              const Csi__V1__ValidateVolumeCapabilitiesRequest *req,
                              const char *why)
{
        Csi__V1__ValidateVolumeCapabilitiesResponse resp =
            CSI__V1__VALIDATE_VOLUME_CAPABILITIES_RESPONSE__INIT;
        Csi__V1__ValidateVolumeCapabilitiesResponse__Confirmed conf =
            CSI__V1__VALIDATE_VOLUME_CAPABILITIES_RESPONSE__CONFIRMED__INIT;
        if (why) {
                resp.message = (char *)why;
                return rpc_reply(call, &resp.base);
        }
        conf.n_volume_capabilities = req->n_volume_capabilities;
        conf.volume_capabilities = req->volume_capabilities;
        conf.n_volume_context = req->n_volume_context;
        conf.volume_context = (void *)req->volume_context;
        conf.n_parameters = req->n_parameters;
        conf.parameters = (void *)req->parameters;
        conf.n_mutable_parameters = req->n_mutable_parameters;
        conf.mutable_parameters = (void *)req->mutable_parameters;
        resp.confirmed = &conf;
        return rpc_reply(call, &resp.base);
}

static const char *ctl_unsupported(const struct controller *c, const struct store_volume *v,
                                   const Csi__V1__ValidateVolumeCapabilitiesRequest *req)
{
        struct params_kv kv[CONTROLLER_PARAMS_MAX];
        size_t n = 0;
        struct params p = {0};
        if (MSG_KV(req->parameters, req->n_parameters, kv, &n) < 0 ||
            params_parse(kv, n, false, &p) < 0)
                return "parameters are not supported";
        for (size_t i = 0; i < req->n_volume_capabilities; i++) {
                struct params_cap cap;
                msg_cap(req->volume_capabilities[i], &cap);
                controller_why_clear();
                if (!params_cap_is_supported(c, v, &cap))
                        return *controller_why() ? controller_why()
                                                 : "a volume capability is not supported";
        }
        return NULL;
}

static int ctl_validate(struct rpc_call *call, const ProtobufCMessage *msg)
{
        const Csi__V1__ValidateVolumeCapabilitiesRequest *req =
            REQ(Csi__V1__ValidateVolumeCapabilitiesRequest, msg);
        struct controller *c = rpc_silo(call)->controller;
        int r = msg_id(call, "volume_id", req->volume_id);
        if (r < 0)
                return r;
        if (req->n_volume_capabilities == 0)
                return rpc_fail(call, -SILO_EINVALID, "volume_capabilities are required");
        for (size_t i = 0; i < req->n_volume_capabilities; i++) {
                struct params_cap cap;
                msg_cap(req->volume_capabilities[i], &cap);
                if (cap.access == PARAMS_ACCESS_NONE || cap.mode <= 0)
                        return rpc_fail(call, -SILO_EINVALID,
                                        "volume capability without access type or mode");
        }
        controller_why_clear();
        struct store_volume v = {0};
        r = volumes_get(c, req->volume_id, &v);
        if (r < 0)
                return msg_fail(call, r);
        r = ctl_validate_reply(call, req, ctl_unsupported(c, &v, req));
        store_volume_release(&v);
        return r;
}

/* One ListVolumes entry and the storage it points into. */
struct ctl_entry {
        Csi__V1__ListVolumesResponse__Entry entry;
        Csi__V1__ListVolumesResponse__VolumeStatus status;
        struct msg_volume vol;
        struct msg_status st;
};

static int ctl_list_reply(struct rpc_call *call, struct ctl_entry *e, size_t n, const char *next)
{
        Csi__V1__ListVolumesResponse__Entry **list =
            calloc(n + 1, sizeof(Csi__V1__ListVolumesResponse__Entry *));
        if (!list)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                list[i] = &e[i].entry;
        Csi__V1__ListVolumesResponse resp = CSI__V1__LIST_VOLUMES_RESPONSE__INIT;
        resp.n_entries = n;
        resp.entries = list;
        resp.next_token = (char *)next;
        int r = rpc_reply(call, &resp.base);
        free(list);
        return r;
}

static void ctl_list_fill(struct controller *c, const struct store_volume *v, struct ctl_entry *x)
{
        msg_volume_fill(v, &x->vol);
        msg_status_fill(c, v, &x->st);
        csi__v1__list_volumes_response__volume_status__init(&x->status);
        x->status.n_published_node_ids = x->st.n_nodes;
        x->status.published_node_ids = x->st.nodes;
        x->status.volume_condition = &x->st.cond;
        csi__v1__list_volumes_response__entry__init(&x->entry);
        x->entry.volume = &x->vol.vol;
        x->entry.status = &x->status;
}

static int ctl_list_volumes(struct rpc_call *call, const ProtobufCMessage *msg)
{
        const Csi__V1__ListVolumesRequest *req = REQ(Csi__V1__ListVolumesRequest, msg);
        struct controller *c = rpc_silo(call)->controller;
        struct store_volume *vols = NULL;
        size_t n = 0;
        char next[STORE_ID_MAX + 1] = "";
        controller_why_clear();
        int r = volumes_list(c, req->starting_token, req->max_entries, &vols, &n, next);
        if (r < 0)
                return msg_fail(call, r);
        struct ctl_entry *e = calloc(n + 1, sizeof(*e));
        for (size_t i = 0; e && i < n; i++)
                ctl_list_fill(c, &vols[i], &e[i]);
        r = e ? ctl_list_reply(call, e, n, next) : -ENOMEM;
        free(e);
        volumes_list_free(vols, n);
        return r;
}

static int ctl_get_volume(struct rpc_call *call, const ProtobufCMessage *msg)
{
        const Csi__V1__ControllerGetVolumeRequest *req =
            REQ(Csi__V1__ControllerGetVolumeRequest, msg);
        struct controller *c = rpc_silo(call)->controller;
        int r = msg_id(call, "volume_id", req->volume_id);
        if (r < 0)
                return r;
        controller_why_clear();
        struct store_volume v = {0};
        r = volumes_get(c, req->volume_id, &v);
        if (r < 0)
                return msg_fail(call, r);
        struct msg_volume m;
        struct msg_status st;
        msg_volume_fill(&v, &m);
        msg_status_fill(c, &v, &st);
        Csi__V1__ControllerGetVolumeResponse__VolumeStatus status =
            CSI__V1__CONTROLLER_GET_VOLUME_RESPONSE__VOLUME_STATUS__INIT;
        status.n_published_node_ids = st.n_nodes;
        status.published_node_ids = st.nodes;
        status.volume_condition = &st.cond;
        Csi__V1__ControllerGetVolumeResponse resp = CSI__V1__CONTROLLER_GET_VOLUME_RESPONSE__INIT;
        resp.volume = &m.vol;
        resp.status = &status;
        r = rpc_reply(call, &resp.base);
        store_volume_release(&v);
        return r;
}

/* 0 when the request's parameters, capabilities or topology rule this pool out. */
static int ctl_capacity_for(struct controller *c, const Csi__V1__GetCapacityRequest *req,
                            uint64_t *ret, uint64_t *ret_min)
{
        struct params_kv kv[CONTROLLER_PARAMS_MAX];
        size_t n = 0;
        struct params p = {0};
        int r = MSG_KV(req->parameters, req->n_parameters, kv, &n);
        if (r >= 0)
                r = params_parse(kv, n, false, &p);
        if (r < 0)
                return r;
        struct volume_spec spec = {0};
        *ret = 0;
        if (req->n_volume_capabilities &&
            ctl_caps(c, req->volume_capabilities, req->n_volume_capabilities, true, &spec) < 0)
                return 0;
        *ret_min = volumes_min_size(
            *spec.cap_fs_type ? spec.cap_fs_type : params_class_fs_type(kv, n), spec.caps);
        if (c->scope == CONFIG_SCOPE_NODE && req->accessible_topology &&
            !ctl_topology_is_ours(c, req->accessible_topology))
                return 0;
        return pool_available(c, p.provisioning, ret);
}

static int ctl_get_capacity(struct rpc_call *call, const ProtobufCMessage *msg)
{
        const Csi__V1__GetCapacityRequest *req = REQ(Csi__V1__GetCapacityRequest, msg);
        controller_why_clear();
        uint64_t avail = 0, min_size = CONTROLLER_MIN_SIZE;
        int r = ctl_capacity_for(rpc_silo(call)->controller, req, &avail, &min_size);
        if (r < 0)
                return msg_fail(call, r);
        if (avail > INT64_MAX)
                avail = INT64_MAX;
        Google__Protobuf__Int64Value max = GOOGLE__PROTOBUF__INT64_VALUE__INIT;
        Google__Protobuf__Int64Value min = GOOGLE__PROTOBUF__INT64_VALUE__INIT;
        max.value = (int64_t)(avail < CONTROLLER_MAX_SIZE ? avail : CONTROLLER_MAX_SIZE);
        min.value = (int64_t)min_size;
        Csi__V1__GetCapacityResponse resp = CSI__V1__GET_CAPACITY_RESPONSE__INIT;
        resp.available_capacity = (int64_t)avail;
        resp.maximum_volume_size = &max;
        resp.minimum_volume_size = &min;
        return rpc_reply(call, &resp.base);
}

#define CAP(x) CSI__V1__CONTROLLER_SERVICE_CAPABILITY__RPC__TYPE__##x
static const int ctl_caps_list[] = {
    CAP(CREATE_DELETE_VOLUME),
    CAP(LIST_VOLUMES),
    CAP(GET_CAPACITY),
    CAP(CREATE_DELETE_SNAPSHOT),
    CAP(LIST_SNAPSHOTS),
    CAP(CLONE_VOLUME),
    CAP(EXPAND_VOLUME),
    CAP(LIST_VOLUMES_PUBLISHED_NODES),
    CAP(VOLUME_CONDITION),
    CAP(GET_VOLUME),
    CAP(SINGLE_NODE_MULTI_WRITER),
    CAP(MODIFY_VOLUME),
    CAP(GET_SNAPSHOT),
    CAP(PUBLISH_UNPUBLISH_VOLUME), /* these two last: dropped with --skip-attach */
    CAP(PUBLISH_READONLY),
};

static int ctl_get_capabilities(struct rpc_call *call, const ProtobufCMessage *msg)
{
        (void)msg;
        size_t n = ARRAY_SIZE(ctl_caps_list);
        if (rpc_silo(call)->cfg->skip_attach)
                n -= 2;
        Csi__V1__ControllerServiceCapability caps[ARRAY_SIZE(ctl_caps_list)];
        Csi__V1__ControllerServiceCapability__RPC rpcs[ARRAY_SIZE(ctl_caps_list)];
        Csi__V1__ControllerServiceCapability *list[ARRAY_SIZE(ctl_caps_list)];
        for (size_t i = 0; i < n; i++) {
                csi__v1__controller_service_capability__init(&caps[i]);
                csi__v1__controller_service_capability__rpc__init(&rpcs[i]);
                rpcs[i].type = ctl_caps_list[i];
                caps[i].type_case = CSI__V1__CONTROLLER_SERVICE_CAPABILITY__TYPE_RPC;
                caps[i].rpc = &rpcs[i];
                list[i] = &caps[i];
        }
        Csi__V1__ControllerGetCapabilitiesResponse resp =
            CSI__V1__CONTROLLER_GET_CAPABILITIES_RESPONSE__INIT;
        resp.n_capabilities = n;
        resp.capabilities = list;
        return rpc_reply(call, &resp.base);
}

#define M(name, type, fn, klass)                                                                   \
        {                                                                                          \
                name, &csi__v1__##type##__descriptor, fn, klass                                    \
        }
static const struct rpc_method ctl_methods[] = {
    M("CreateVolume", create_volume_request, ctl_create_volume, RPC_WORKER),
    M("DeleteVolume", delete_volume_request, ctl_delete_volume, RPC_WORKER),
    M("ControllerPublishVolume", controller_publish_volume_request, volume_rpc_publish, RPC_WORKER),
    M("ControllerUnpublishVolume", controller_unpublish_volume_request, volume_rpc_unpublish,
      RPC_WORKER),
    M("ValidateVolumeCapabilities", validate_volume_capabilities_request, ctl_validate, RPC_WORKER),
    M("ListVolumes", list_volumes_request, ctl_list_volumes, RPC_WORKER),
    M("GetCapacity", get_capacity_request, ctl_get_capacity, RPC_WORKER),
    M("ControllerGetCapabilities", controller_get_capabilities_request, ctl_get_capabilities,
      RPC_INLINE),
    M("CreateSnapshot", create_snapshot_request, snapshot_rpc_create, RPC_WORKER),
    M("DeleteSnapshot", delete_snapshot_request, snapshot_rpc_delete, RPC_WORKER),
    M("ListSnapshots", list_snapshots_request, snapshot_rpc_list, RPC_WORKER),
    M("GetSnapshot", get_snapshot_request, snapshot_rpc_get, RPC_WORKER),
    M("ControllerExpandVolume", controller_expand_volume_request, volume_rpc_expand, RPC_WORKER),
    M("ControllerGetVolume", controller_get_volume_request, ctl_get_volume, RPC_WORKER),
    M("ControllerModifyVolume", controller_modify_volume_request, volume_rpc_modify, RPC_WORKER),
};

const struct rpc_service controller_service = {"csi.v1.Controller", ctl_methods,
                                               ARRAY_SIZE(ctl_methods)};
