#include "controller/msg.h"

#include <string.h>

#include "common/err.h"
#include "common/silo.h"
#include "common/server/vlock.h"
#include "common/cleanup.h"

void msg_cap(const Csi__V1__VolumeCapability *in, struct params_cap *ret)
{
        struct params_cap c = {0};
        if (in && in->access_type_case == CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_BLOCK)
                c.access = PARAMS_ACCESS_BLOCK;
        if (in && in->access_type_case == CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_MOUNT) {
                c.access = PARAMS_ACCESS_MOUNT;
                c.fs_type = in->mount ? in->mount->fs_type : NULL;
                if (in->mount) {
                        c.mount_flags = (const char *const *)in->mount->mount_flags;
                        c.n_mount_flags = in->mount->n_mount_flags;
                }
        }
        if (in && in->access_mode)
                c.mode = (int)in->access_mode->mode;
        *ret = c;
}

static const char *const msg_prov[] = {"thin", "thick"};

static void msg_volume_source(const struct store_volume *v, struct msg_volume *m)
{
        csi__v1__volume_content_source__init(&m->src);
        if (v->source_kind == STORE_SOURCE_SNAPSHOT) {
                csi__v1__volume_content_source__snapshot_source__init(&m->src_snap);
                m->src_snap.snapshot_id = (char *)v->source_id;
                m->src.type_case = CSI__V1__VOLUME_CONTENT_SOURCE__TYPE_SNAPSHOT;
                m->src.snapshot = &m->src_snap;
        } else {
                csi__v1__volume_content_source__volume_source__init(&m->src_vol);
                m->src_vol.volume_id = (char *)v->source_id;
                m->src.type_case = CSI__V1__VOLUME_CONTENT_SOURCE__TYPE_VOLUME;
                m->src.volume = &m->src_vol;
        }
        m->vol.content_source = &m->src;
}

void msg_volume_fill(const struct store_volume *v, struct msg_volume *m)
{
        csi__v1__volume__init(&m->vol);
        m->vol.volume_id = (char *)v->id;
        m->vol.capacity_bytes = (int64_t)v->capacity_bytes;
        if (v->node_id[0]) {
                csi__v1__topology__init(&m->topo);
                csi__v1__topology__segments_entry__init(&m->seg);
                m->seg.key = (char *)CONTROLLER_TOPOLOGY_KEY;
                m->seg.value = (char *)v->node_id;
                m->segs[0] = &m->seg;
                m->topo.n_segments = 1;
                m->topo.segments = m->segs;
                m->topos[0] = &m->topo;
                m->vol.n_accessible_topology = 1;
                m->vol.accessible_topology = m->topos;
        }
        if (v->source_kind != STORE_SOURCE_NONE)
                msg_volume_source(v, m);
        for (int i = 0; i < 2; i++) {
                csi__v1__volume__volume_context_entry__init(&m->ctx[i]);
                m->ctxs[i] = &m->ctx[i];
        }
        m->ctx[0].key = (char *)"fsType";
        m->ctx[0].value = (char *)v->fs_type;
        m->ctx[1].key = (char *)"provisioning";
        m->ctx[1].value = (char *)msg_prov[v->provisioning];
        m->vol.n_volume_context = 2;
        m->vol.volume_context = m->ctxs;
}

void msg_status_fill(struct controller *c, const struct store_volume *v, struct msg_status *m)
{
        m->n_nodes = 0;
        for (size_t i = 0; i < v->n_published && i < STORE_PUBLISH_MAX; i++)
                m->nodes[m->n_nodes++] = (char *)v->published[i].node_id;
        csi__v1__volume_condition__init(&m->cond);
        m->cond.abnormal = condition_of(c, v, m->why, sizeof(m->why)) > 0;
        m->cond.message = m->cond.abnormal ? m->why : (char *)"volume is healthy";
}

void msg_snapshot_fill(const struct store_snapshot *s, struct msg_snapshot *m)
{
        csi__v1__snapshot__init(&m->snap);
        google__protobuf__timestamp__init(&m->ts);
        m->ts.seconds = (int64_t)(s->created_ns / 1000000000ull);
        m->ts.nanos = (int32_t)(s->created_ns % 1000000000ull);
        m->snap.snapshot_id = (char *)s->id;
        m->snap.source_volume_id = (char *)s->source_volume_id;
        m->snap.size_bytes = (int64_t)s->size_bytes;
        m->snap.creation_time = &m->ts;
        m->snap.ready_to_use = true;
        m->snap.group_snapshot_id = (char *)s->group_id;
}

int msg_sidecar_params_only(const struct params_kv *kv, size_t n)
{
        static const char prefix[] = "csi.storage.k8s.io/";
        for (size_t i = 0; i < n; i++)
                if (strncmp(kv[i].key, prefix, sizeof(prefix) - 1) != 0)
                        return controller_fail(-SILO_EINVALID, "unknown parameter '%.64s'",
                                               kv[i].key);
        return 0;
}

int msg_fail(struct rpc_call *call, int r)
{
        return rpc_fail(call, r, "%s", controller_why());
}

int msg_pending(struct rpc_call *call, int r, const char *what, const char *id)
{
        if (r == -SILO_EPENDING)
                return rpc_fail(call, r, "an operation on %s '%.128s' is already pending", what,
                                id);
        return rpc_fail(call, r, "cannot lock %s '%.128s'", what, id);
}

int msg_check_name(const char *name)
{
        if (!name || !*name)
                return controller_fail(-SILO_EINVALID, "name is required");
        if (!store_name_is_valid(name))
                return controller_fail(-SILO_EINVALID, "name must be 1..%d printable bytes",
                                       STORE_NAME_MAX);
        return 0;
}

int msg_check_id(const char *field, const char *id)
{
        if (!id || !*id)
                return controller_fail(-SILO_EINVALID, "%s is required", field);
        if (!id_is_valid(id))
                return controller_fail(-SILO_ENOTFOUND, "%s '%.64s%s' not found", field, id,
                                       strlen(id) > 64 ? "..." : "");
        return 0;
}

int msg_id(struct rpc_call *call, const char *field, const char *id)
{
        int r = msg_object(call, field, id);
        if (r == 0 && (r = msg_check_id(field, id)) < 0)
                return msg_fail(call, r);
        return r;
}

int msg_object(struct rpc_call *call, const char *field, const char *id)
{
        if (!id || !*id)
                return rpc_fail(call, -SILO_EINVALID, "%s is required", field);
        rpc_set_object(call, field, id);
        return 0;
}

int msg_lock(struct rpc_call *call, const char *field, const char *lock, const char *what,
             const char *id, struct vlock **ret)
{
        int r = msg_object(call, field, id);
        if (r < 0)
                return r;
        r = vlock_try(rpc_silo(call)->locks, lock, id, ret);
        if (r < 0)
                return msg_pending(call, r, what, id);
        controller_why_clear();
        return 0;
}
