/* The calls of the random crash test's clients: one request per kind, built from the
 * client's model, and the answer's contents. */
#include "test/integration/harness-crash.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"

#define NODE "test-node"

static enum err_status hc_call(struct hc_model *m, const char *service, const char *method,
                               const ProtobufCMessage *req, const ProtobufCMessageDescriptor *desc,
                               void **ret, struct hc_reply *rep)
{
        return harness_ctl_call(m->h, service, method, req, desc, ret, rep->msg, sizeof(rep->msg));
}

static enum err_status hc_send_create(struct hc_model *m, struct hc_client *cl,
                                      const struct hc_op *op, struct hc_reply *rep)
{
        char name[64];
        hc_name(cl, 'v', op->slot, name, sizeof(name));
        struct harness_ctl_vol o = {
            .required = op->size,
            .provisioning = op->thick ? "thick" : "thin",
            .from_snap = op->src_kind == HC_SRC_SNAP ? op->src_id : NULL,
            .from_vol = op->src_kind == HC_SRC_VOL ? op->src_id : NULL,
        };
        return harness_ctl_create_full(m->h, name, &o, rep->id, &rep->size, rep->msg,
                                       sizeof(rep->msg));
}

static enum err_status hc_call_delete(struct hc_model *m, const char *id, struct hc_reply *rep)
{
        Csi__V1__DeleteVolumeRequest req = CSI__V1__DELETE_VOLUME_REQUEST__INIT;
        req.volume_id = (char *)id;
        return hc_call(m, "Controller", "DeleteVolume", &req.base,
                       &csi__v1__delete_volume_response__descriptor, NULL, rep);
}

static enum err_status hc_send_snapshot(struct hc_model *m, struct hc_client *cl,
                                        const struct hc_op *op, struct hc_reply *rep)
{
        char name[64];
        hc_name(cl, 's', op->slot, name, sizeof(name));
        Csi__V1__CreateSnapshotRequest req = CSI__V1__CREATE_SNAPSHOT_REQUEST__INIT;
        req.name = name;
        req.source_volume_id = cl->vol[op->vols[0]].o.id;
        Csi__V1__CreateSnapshotResponse *resp = NULL;
        enum err_status st =
            hc_call(m, "Controller", "CreateSnapshot", &req.base,
                    &csi__v1__create_snapshot_response__descriptor, (void **)&resp, rep);
        if (st == ERR_OK) {
                snprintf(rep->id, sizeof(rep->id), "%s", resp->snapshot->snapshot_id);
                rep->size = resp->snapshot->size_bytes;
                protobuf_c_message_free_unpacked(&resp->base, NULL);
        }
        return st;
}

static enum err_status hc_send_delete_snapshot(struct hc_model *m, const char *id,
                                               struct hc_reply *rep)
{
        Csi__V1__DeleteSnapshotRequest req = CSI__V1__DELETE_SNAPSHOT_REQUEST__INIT;
        req.snapshot_id = (char *)id;
        return hc_call(m, "Controller", "DeleteSnapshot", &req.base,
                       &csi__v1__delete_snapshot_response__descriptor, NULL, rep);
}

static enum err_status hc_send_group(struct hc_model *m, struct hc_client *cl,
                                     const struct hc_op *op, struct hc_reply *rep)
{
        char name[64];
        hc_name(cl, 'g', 0, name, sizeof(name));
        char *ids[HC_MEMBERS];
        for (int i = 0; i < HC_MEMBERS; i++)
                ids[i] = cl->vol[op->vols[i]].o.id;
        Csi__V1__CreateVolumeGroupSnapshotRequest req =
            CSI__V1__CREATE_VOLUME_GROUP_SNAPSHOT_REQUEST__INIT;
        req.name = name;
        req.n_source_volume_ids = HC_MEMBERS;
        req.source_volume_ids = ids;
        Csi__V1__CreateVolumeGroupSnapshotResponse *resp = NULL;
        enum err_status st = hc_call(m, "GroupController", "CreateVolumeGroupSnapshot", &req.base,
                                     &csi__v1__create_volume_group_snapshot_response__descriptor,
                                     (void **)&resp, rep);
        if (st != ERR_OK)
                return st;
        const Csi__V1__VolumeGroupSnapshot *g = resp->group_snapshot;
        snprintf(rep->id, sizeof(rep->id), "%s", g->group_snapshot_id);
        for (size_t i = 0; i < g->n_snapshots && i < HC_MEMBERS; i++) {
                snprintf(rep->member_id[i], HC_ID, "%s", g->snapshots[i]->snapshot_id);
                snprintf(rep->member_src[i], HC_ID, "%s", g->snapshots[i]->source_volume_id);
                rep->member_size[i] = g->snapshots[i]->size_bytes;
        }
        rep->size = (int64_t)g->n_snapshots;
        protobuf_c_message_free_unpacked(&resp->base, NULL);
        return st;
}

static enum err_status hc_send_delete_group(struct hc_model *m, struct hc_client *cl,
                                            struct hc_reply *rep)
{
        char *ids[HC_MEMBERS];
        for (int i = 0; i < HC_MEMBERS; i++)
                ids[i] = cl->group.member[i].id;
        Csi__V1__DeleteVolumeGroupSnapshotRequest req =
            CSI__V1__DELETE_VOLUME_GROUP_SNAPSHOT_REQUEST__INIT;
        req.group_snapshot_id = cl->group.id;
        req.n_snapshot_ids = HC_MEMBERS;
        req.snapshot_ids = ids;
        return hc_call(m, "GroupController", "DeleteVolumeGroupSnapshot", &req.base,
                       &csi__v1__delete_volume_group_snapshot_response__descriptor, NULL, rep);
}

static enum err_status hc_send_expand(struct hc_model *m, const char *id, int64_t size,
                                      struct hc_reply *rep)
{
        Csi__V1__CapacityRange range = CSI__V1__CAPACITY_RANGE__INIT;
        range.required_bytes = size;
        Csi__V1__ControllerExpandVolumeRequest req =
            CSI__V1__CONTROLLER_EXPAND_VOLUME_REQUEST__INIT;
        req.volume_id = (char *)id;
        req.capacity_range = &range;
        Csi__V1__ControllerExpandVolumeResponse *resp = NULL;
        enum err_status st =
            hc_call(m, "Controller", "ControllerExpandVolume", &req.base,
                    &csi__v1__controller_expand_volume_response__descriptor, (void **)&resp, rep);
        if (st == ERR_OK) {
                rep->size = resp->capacity_bytes;
                protobuf_c_message_free_unpacked(&resp->base, NULL);
        }
        return st;
}

static enum err_status hc_send_modify(struct hc_model *m, const char *id, struct hc_reply *rep)
{
        Csi__V1__ControllerModifyVolumeRequest__MutableParametersEntry p =
            CSI__V1__CONTROLLER_MODIFY_VOLUME_REQUEST__MUTABLE_PARAMETERS_ENTRY__INIT;
        Csi__V1__ControllerModifyVolumeRequest__MutableParametersEntry *pp[1] = {&p};
        p.key = (char *)"provisioning";
        p.value = (char *)"thick";
        Csi__V1__ControllerModifyVolumeRequest req =
            CSI__V1__CONTROLLER_MODIFY_VOLUME_REQUEST__INIT;
        req.volume_id = (char *)id;
        req.n_mutable_parameters = 1;
        req.mutable_parameters = pp;
        return hc_call(m, "Controller", "ControllerModifyVolume", &req.base,
                       &csi__v1__controller_modify_volume_response__descriptor, NULL, rep);
}

/* Byte i of a write with seed s; the same formula fills the model. */
static void hc_pattern(unsigned char *buf, size_t len, unsigned s)
{
        for (size_t i = 0; i < len; i++)
                buf[i] = (unsigned char)(i * 31 + s);
}

/* What a pod does: writes into the volume (the daemon is not involved). */
static enum err_status hc_write(struct hc_model *m, struct hc_client *cl, const struct hc_op *op,
                                struct hc_reply *rep)
{
        struct hc_obj *o = &cl->vol[op->slot].o;
        size_t off = hc_below(cl, HC_IMG), len = 1 + hc_below(cl, 64 * 1024);
        unsigned s = 1 + hc_below(cl, 255);
        if (len > HC_IMG - off)
                len = HC_IMG - off;
        char path[512];
        harness_ctl_data(m->h, "volumes", o->id, path, sizeof(path));
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        hc_pattern(o->img + off, len, s);
        if (fd < 0 || pwrite(fd, o->img + off, len, (off_t)off) != (ssize_t)len) {
                snprintf(rep->msg, sizeof(rep->msg), "cannot write '%.400s': %m", path);
                return ERR_INTERNAL;
        }
        return ERR_OK;
}

enum err_status hc_send(struct hc_model *m, struct hc_client *cl, const struct hc_op *op,
                        struct hc_reply *rep)
{
        const char *vid = cl->vol[op->slot].o.id;
        memset(rep, 0, sizeof(*rep));
        switch (op->kind) {
        case HC_CREATE:
        case HC_RECREATE:
        case HC_CONFLICT:
                return hc_send_create(m, cl, op, rep);
        case HC_DELETE:
                return hc_call_delete(m, vid, rep);
        case HC_SNAP:
                return hc_send_snapshot(m, cl, op, rep);
        case HC_DELSNAP:
                return hc_send_delete_snapshot(m, cl->snap[op->slot].id, rep);
        case HC_DELMEMBER:
                return hc_send_delete_snapshot(m, cl->group.member[op->slot].id, rep);
        case HC_PUBLISH:
                return harness_ctl_publish(m->h, vid, NODE, false, 0);
        case HC_UNPUBLISH:
                return harness_ctl_unpublish(m->h, vid, NODE);
        case HC_EXPAND:
                return hc_send_expand(m, vid, op->size, rep);
        case HC_MODIFY:
                return hc_send_modify(m, vid, rep);
        case HC_GROUP:
                return hc_send_group(m, cl, op, rep);
        case HC_DELGROUP:
                return hc_send_delete_group(m, cl, rep);
        default:
                return hc_write(m, cl, op, rep);
        }
}
