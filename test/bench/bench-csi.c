/* CSI requests as the sidecars and kubelet send them, built on the stack. */
#include <csi.pb-c.h>
#include <google/protobuf/wrappers.pb-c.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "test/bench/bench.h"
#include "common/cleanup.h"

#define BENCH_CSI_TIMEOUT_MS 120000
#define BENCH_CSI_MAX_LOGGED 20

static atomic_int bench_csi_logged;

const char *bench_access_name(enum bench_access a)
{
        return a == BENCH_EXT4 ? "ext4" : a == BENCH_XFS ? "xfs" : "block";
}

void bench_csi_name(struct bench *b, const char *prefix, char *buf, size_t size)
{
        snprintf(buf, size, "%s-%d-%u", prefix, (int)getpid(), atomic_fetch_add(&b->seq, 1));
}

/* 0 on OK; -SILO_EUNIMPL on UNIMPLEMENTED; -EPROTO on any other status (logged). */
static int bench_csi_call(struct bench *b, struct client *c, const char *path,
                          const ProtobufCMessage *req, const ProtobufCMessageDescriptor *desc,
                          ProtobufCMessage **ret_resp)
{
        struct client_result res;
        int r = client_call(c ? c : b->client, path, req, desc, BENCH_CSI_TIMEOUT_MS, &res);
        if (r < 0)
                return r;
        if (res.status == ERR_OK) {
                if (ret_resp)
                        *ret_resp = TAKE_PTR(res.resp);
                client_result_release(&res);
                return 0;
        }
        r = res.status == ERR_UNIMPLEMENTED ? -SILO_EUNIMPL : -EPROTO;
        if (r == -EPROTO && atomic_fetch_add(&bench_csi_logged, 1) < BENCH_CSI_MAX_LOGGED)
                fprintf(stderr, "silo-bench: %s: %s: %s\n", path, err_status_name(res.status),
                        res.message ? res.message : "");
        client_result_release(&res);
        return r;
}

int bench_csi_probe(struct bench *b, struct client *c, bool *ret_ready)
{
        Csi__V1__ProbeRequest req = CSI__V1__PROBE_REQUEST__INIT;
        ProtobufCMessage *resp = NULL;
        int r = bench_csi_call(b, c, "/csi.v1.Identity/Probe", &req.base,
                               &csi__v1__probe_response__descriptor, &resp);
        if (r < 0)
                return r;
        Csi__V1__ProbeResponse *p = (Csi__V1__ProbeResponse *)resp;
        /* An unset ready field means ready (CSI spec, Probe). */
        *ret_ready = !p->ready || p->ready->value;
        protobuf_c_message_free_unpacked(resp, NULL);
        return 0;
}

struct bench_cap {
        Csi__V1__VolumeCapability cap;
        Csi__V1__VolumeCapability__AccessMode mode;
        Csi__V1__VolumeCapability__MountVolume mount;
        Csi__V1__VolumeCapability__BlockVolume block;
};

static Csi__V1__VolumeCapability *bench_csi_cap(struct bench_cap *c, enum bench_access a)
{
        c->cap = (Csi__V1__VolumeCapability)CSI__V1__VOLUME_CAPABILITY__INIT;
        c->mode =
            (Csi__V1__VolumeCapability__AccessMode)CSI__V1__VOLUME_CAPABILITY__ACCESS_MODE__INIT;
        c->mode.mode = CSI__V1__VOLUME_CAPABILITY__ACCESS_MODE__MODE__SINGLE_NODE_WRITER;
        c->cap.access_mode = &c->mode;
        if (a == BENCH_BLOCK) {
                c->block = (Csi__V1__VolumeCapability__BlockVolume)
                    CSI__V1__VOLUME_CAPABILITY__BLOCK_VOLUME__INIT;
                c->cap.access_type_case = CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_BLOCK;
                c->cap.block = &c->block;
        } else {
                c->mount = (Csi__V1__VolumeCapability__MountVolume)
                    CSI__V1__VOLUME_CAPABILITY__MOUNT_VOLUME__INIT;
                c->mount.fs_type = (char *)bench_access_name(a);
                c->cap.access_type_case = CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_MOUNT;
                c->cap.mount = &c->mount;
        }
        return &c->cap;
}

/* Map fields of every generated message share one layout: base, key, value. */
struct bench_csi_entry {
        ProtobufCMessage base;
        char *key;
        char *value;
};

static void bench_csi_copy_map(struct bench_kv *kv, size_t *n, size_t max, size_t n_src,
                               struct bench_csi_entry **src)
{
        *n = 0;
        for (size_t i = 0; i < n_src && *n < max; i++, (*n)++) {
                snprintf(kv[*n].key, sizeof(kv[*n].key), "%s", src[i]->key);
                snprintf(kv[*n].value, sizeof(kv[*n].value), "%s", src[i]->value);
        }
}

/* Fills entries[] of the request's own entry type from kv and points ptrs[] at them. */
static void bench_csi_fill_map(const ProtobufCMessageDescriptor *desc,
                               struct bench_csi_entry *entries, struct bench_csi_entry **ptrs,
                               const struct bench_kv *kv, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                entries[i] = (struct bench_csi_entry){.base = PROTOBUF_C_MESSAGE_INIT(desc)};
                entries[i].key = (char *)kv[i].key;
                entries[i].value = (char *)kv[i].value;
                ptrs[i] = &entries[i];
        }
}

static void bench_csi_source(const struct bench_create *q, Csi__V1__VolumeContentSource *src,
                             Csi__V1__VolumeContentSource__SnapshotSource *snap,
                             Csi__V1__VolumeContentSource__VolumeSource *vol)
{
        *src = (Csi__V1__VolumeContentSource)CSI__V1__VOLUME_CONTENT_SOURCE__INIT;
        if (q->source_kind == 's') {
                *snap = (Csi__V1__VolumeContentSource__SnapshotSource)
                    CSI__V1__VOLUME_CONTENT_SOURCE__SNAPSHOT_SOURCE__INIT;
                snap->snapshot_id = (char *)q->source_id;
                src->type_case = CSI__V1__VOLUME_CONTENT_SOURCE__TYPE_SNAPSHOT;
                src->snapshot = snap;
        } else {
                *vol = (Csi__V1__VolumeContentSource__VolumeSource)
                    CSI__V1__VOLUME_CONTENT_SOURCE__VOLUME_SOURCE__INIT;
                vol->volume_id = (char *)q->source_id;
                src->type_case = CSI__V1__VOLUME_CONTENT_SOURCE__TYPE_VOLUME;
                src->volume = vol;
        }
}

int bench_csi_create(struct bench *b, const struct bench_create *q, struct bench_volume *ret)
{
        Csi__V1__CreateVolumeRequest req = CSI__V1__CREATE_VOLUME_REQUEST__INIT;
        struct bench_cap cap;
        Csi__V1__VolumeCapability *caps[1] = {bench_csi_cap(&cap, q->access)};
        Csi__V1__CapacityRange range = CSI__V1__CAPACITY_RANGE__INIT;
        range.required_bytes = (int64_t)q->bytes;
        struct bench_kv kv[2] = {{"provisioning", "thin"}};
        size_t n_kv = 1;
        if (q->thick)
                snprintf(kv[0].value, sizeof(kv[0].value), "thick");
        struct bench_csi_entry entries[2], *params[2];
        bench_csi_fill_map(&csi__v1__create_volume_request__parameters_entry__descriptor, entries,
                           params, kv, n_kv);
        Csi__V1__VolumeContentSource src;
        Csi__V1__VolumeContentSource__SnapshotSource snap;
        Csi__V1__VolumeContentSource__VolumeSource vol;
        req.name = (char *)q->name;
        req.capacity_range = &range;
        req.n_volume_capabilities = 1;
        req.volume_capabilities = caps;
        req.n_parameters = n_kv;
        req.parameters = (Csi__V1__CreateVolumeRequest__ParametersEntry **)params;
        if (q->source_kind) {
                bench_csi_source(q, &src, &snap, &vol);
                req.volume_content_source = &src;
        }

        ProtobufCMessage *resp = NULL;
        int r = bench_csi_call(b, NULL, "/csi.v1.Controller/CreateVolume", &req.base,
                               &csi__v1__create_volume_response__descriptor, &resp);
        if (r < 0)
                return r;
        Csi__V1__Volume *v = ((Csi__V1__CreateVolumeResponse *)resp)->volume;
        *ret = (struct bench_volume){.access = q->access};
        if (v) {
                snprintf(ret->id, sizeof(ret->id), "%s", v->volume_id);
                bench_csi_copy_map(ret->volume_context, &ret->n_volume_context, 8,
                                   v->n_volume_context,
                                   (struct bench_csi_entry **)v->volume_context);
        }
        protobuf_c_message_free_unpacked(resp, NULL);
        return v ? 0 : -EPROTO;
}

int bench_csi_delete(struct bench *b, const char *id)
{
        Csi__V1__DeleteVolumeRequest req = CSI__V1__DELETE_VOLUME_REQUEST__INIT;
        req.volume_id = (char *)id;
        return bench_csi_call(b, NULL, "/csi.v1.Controller/DeleteVolume", &req.base,
                              &csi__v1__delete_volume_response__descriptor, NULL);
}

int bench_csi_controller_publish(struct bench *b, struct bench_volume *v)
{
        Csi__V1__ControllerPublishVolumeRequest req =
            CSI__V1__CONTROLLER_PUBLISH_VOLUME_REQUEST__INIT;
        struct bench_cap cap;
        struct bench_csi_entry entries[8], *ptrs[8];
        bench_csi_fill_map(
            &csi__v1__controller_publish_volume_request__volume_context_entry__descriptor, entries,
            ptrs, v->volume_context, v->n_volume_context);
        req.volume_id = v->id;
        req.node_id = b->node_id;
        req.volume_capability = bench_csi_cap(&cap, v->access);
        req.n_volume_context = v->n_volume_context;
        req.volume_context = (Csi__V1__ControllerPublishVolumeRequest__VolumeContextEntry **)ptrs;
        ProtobufCMessage *resp = NULL;
        int r = bench_csi_call(b, NULL, "/csi.v1.Controller/ControllerPublishVolume", &req.base,
                               &csi__v1__controller_publish_volume_response__descriptor, &resp);
        if (r < 0)
                return r;
        Csi__V1__ControllerPublishVolumeResponse *p =
            (Csi__V1__ControllerPublishVolumeResponse *)resp;
        bench_csi_copy_map(v->publish_context, &v->n_publish_context, 8, p->n_publish_context,
                           (struct bench_csi_entry **)p->publish_context);
        protobuf_c_message_free_unpacked(resp, NULL);
        return 0;
}

int bench_csi_controller_unpublish(struct bench *b, const struct bench_volume *v)
{
        Csi__V1__ControllerUnpublishVolumeRequest req =
            CSI__V1__CONTROLLER_UNPUBLISH_VOLUME_REQUEST__INIT;
        req.volume_id = (char *)v->id;
        req.node_id = b->node_id;
        return bench_csi_call(b, NULL, "/csi.v1.Controller/ControllerUnpublishVolume", &req.base,
                              &csi__v1__controller_unpublish_volume_response__descriptor, NULL);
}

int bench_csi_stage(struct bench *b, const struct bench_volume *v, const char *staging)
{
        Csi__V1__NodeStageVolumeRequest req = CSI__V1__NODE_STAGE_VOLUME_REQUEST__INIT;
        struct bench_cap cap;
        struct bench_csi_entry pc[8], *pcp[8], vc[8], *vcp[8];
        bench_csi_fill_map(&csi__v1__node_stage_volume_request__publish_context_entry__descriptor,
                           pc, pcp, v->publish_context, v->n_publish_context);
        bench_csi_fill_map(&csi__v1__node_stage_volume_request__volume_context_entry__descriptor,
                           vc, vcp, v->volume_context, v->n_volume_context);
        req.volume_id = (char *)v->id;
        req.staging_target_path = (char *)staging;
        req.volume_capability = bench_csi_cap(&cap, v->access);
        req.n_publish_context = v->n_publish_context;
        req.publish_context = (Csi__V1__NodeStageVolumeRequest__PublishContextEntry **)pcp;
        req.n_volume_context = v->n_volume_context;
        req.volume_context = (Csi__V1__NodeStageVolumeRequest__VolumeContextEntry **)vcp;
        return bench_csi_call(b, NULL, "/csi.v1.Node/NodeStageVolume", &req.base,
                              &csi__v1__node_stage_volume_response__descriptor, NULL);
}

int bench_csi_unstage(struct bench *b, const struct bench_volume *v, const char *staging)
{
        Csi__V1__NodeUnstageVolumeRequest req = CSI__V1__NODE_UNSTAGE_VOLUME_REQUEST__INIT;
        req.volume_id = (char *)v->id;
        req.staging_target_path = (char *)staging;
        return bench_csi_call(b, NULL, "/csi.v1.Node/NodeUnstageVolume", &req.base,
                              &csi__v1__node_unstage_volume_response__descriptor, NULL);
}

int bench_csi_publish(struct bench *b, const struct bench_volume *v, const char *staging,
                      const char *target)
{
        Csi__V1__NodePublishVolumeRequest req = CSI__V1__NODE_PUBLISH_VOLUME_REQUEST__INIT;
        struct bench_cap cap;
        struct bench_csi_entry pc[8], *pcp[8], vc[8], *vcp[8];
        bench_csi_fill_map(&csi__v1__node_publish_volume_request__publish_context_entry__descriptor,
                           pc, pcp, v->publish_context, v->n_publish_context);
        bench_csi_fill_map(&csi__v1__node_publish_volume_request__volume_context_entry__descriptor,
                           vc, vcp, v->volume_context, v->n_volume_context);
        req.volume_id = (char *)v->id;
        req.staging_target_path = (char *)staging;
        req.target_path = (char *)target;
        req.volume_capability = bench_csi_cap(&cap, v->access);
        req.n_publish_context = v->n_publish_context;
        req.publish_context = (Csi__V1__NodePublishVolumeRequest__PublishContextEntry **)pcp;
        req.n_volume_context = v->n_volume_context;
        req.volume_context = (Csi__V1__NodePublishVolumeRequest__VolumeContextEntry **)vcp;
        return bench_csi_call(b, NULL, "/csi.v1.Node/NodePublishVolume", &req.base,
                              &csi__v1__node_publish_volume_response__descriptor, NULL);
}

int bench_csi_unpublish(struct bench *b, const struct bench_volume *v, const char *target)
{
        Csi__V1__NodeUnpublishVolumeRequest req = CSI__V1__NODE_UNPUBLISH_VOLUME_REQUEST__INIT;
        req.volume_id = (char *)v->id;
        req.target_path = (char *)target;
        return bench_csi_call(b, NULL, "/csi.v1.Node/NodeUnpublishVolume", &req.base,
                              &csi__v1__node_unpublish_volume_response__descriptor, NULL);
}

int bench_csi_list_all(struct bench *b, int max_entries, size_t *ret_count)
{
        char token[256] = "";
        size_t count = 0;
        for (unsigned pages = 0; pages < 1000000; pages++) {
                Csi__V1__ListVolumesRequest req = CSI__V1__LIST_VOLUMES_REQUEST__INIT;
                req.max_entries = max_entries;
                req.starting_token = token;
                ProtobufCMessage *resp = NULL;
                int r = bench_csi_call(b, NULL, "/csi.v1.Controller/ListVolumes", &req.base,
                                       &csi__v1__list_volumes_response__descriptor, &resp);
                if (r < 0)
                        return r;
                Csi__V1__ListVolumesResponse *l = (Csi__V1__ListVolumesResponse *)resp;
                count += l->n_entries;
                snprintf(token, sizeof(token), "%s", l->next_token ? l->next_token : "");
                protobuf_c_message_free_unpacked(resp, NULL);
                if (!token[0]) {
                        *ret_count = count;
                        return 0;
                }
        }
        return -ELOOP;
}

int bench_csi_snapshot(struct bench *b, const char *source_id, const char *name, char *ret_id,
                       size_t size)
{
        Csi__V1__CreateSnapshotRequest req = CSI__V1__CREATE_SNAPSHOT_REQUEST__INIT;
        req.source_volume_id = (char *)source_id;
        req.name = (char *)name;
        ProtobufCMessage *resp = NULL;
        int r = bench_csi_call(b, NULL, "/csi.v1.Controller/CreateSnapshot", &req.base,
                               &csi__v1__create_snapshot_response__descriptor, &resp);
        if (r < 0)
                return r;
        Csi__V1__Snapshot *s = ((Csi__V1__CreateSnapshotResponse *)resp)->snapshot;
        if (s)
                snprintf(ret_id, size, "%s", s->snapshot_id);
        protobuf_c_message_free_unpacked(resp, NULL);
        return s ? 0 : -EPROTO;
}

int bench_csi_delete_snapshot(struct bench *b, const char *id)
{
        Csi__V1__DeleteSnapshotRequest req = CSI__V1__DELETE_SNAPSHOT_REQUEST__INIT;
        req.snapshot_id = (char *)id;
        return bench_csi_call(b, NULL, "/csi.v1.Controller/DeleteSnapshot", &req.base,
                              &csi__v1__delete_snapshot_response__descriptor, NULL);
}

int bench_csi_paths(struct bench *b, const char *name, char *staging, char *target, size_t size)
{
        char dir[512];
        const char *parts[] = {"stage", "pods"};
        for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
                snprintf(dir, sizeof(dir), "%s/%s", b->kubelet, parts[i]);
                if (mkdir(dir, 0750) < 0 && errno != EEXIST)
                        return neg_errno();
                snprintf(dir, sizeof(dir), "%s/%s/%s", b->kubelet, parts[i], name);
                if (mkdir(dir, 0750) < 0 && errno != EEXIST)
                        return neg_errno();
        }
        snprintf(staging, size, "%s/stage/%s", b->kubelet, name);
        snprintf(target, size, "%s/pods/%s/mount", b->kubelet, name);
        return 0;
}

void bench_csi_paths_remove(struct bench *b, const char *name)
{
        char path[512];
        snprintf(path, sizeof(path), "%s/pods/%s/mount", b->kubelet, name);
        if (rmdir(path) < 0 && errno == ENOTDIR)
                unlink(path); /* raw block target is a file */
        snprintf(path, sizeof(path), "%s/pods/%s", b->kubelet, name);
        rmdir(path);
        snprintf(path, sizeof(path), "%s/stage/%s", b->kubelet, name);
        rmdir(path);
}
