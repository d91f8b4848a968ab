#include "test/integration/harness-ctl.h"

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cleanup.h"

enum err_status harness_ctl_call(struct harness *h, const char *service, const char *method,
                                 const ProtobufCMessage *req,
                                 const ProtobufCMessageDescriptor *desc, void **ret, char *msg,
                                 size_t msg_size)
{
        char path[128];
        snprintf(path, sizeof(path), "/csi.v1.%s/%s", service, method);
        struct client_result res;
        ck_assert_int_eq(harness_call(h, path, req, desc, &res), 0);
        enum err_status st = res.status;
        if (msg)
                snprintf(msg, msg_size, "%s", res.message ? res.message : "");
        if (st == ERR_OK && ret) {
                *ret = res.resp;
                res.resp = NULL;
        }
        client_result_release(&res);
        return st;
}

enum err_status harness_ctl_create(struct harness *h, const char *name,
                                   const struct harness_ctl_vol *o, char *ret_id)
{
        return harness_ctl_create_full(h, name, o, ret_id, NULL, NULL, 0);
}

enum err_status harness_ctl_create_full(struct harness *h, const char *name,
                                        const struct harness_ctl_vol *o, char *ret_id,
                                        int64_t *ret_capacity, char *msg, size_t msg_size)
{
        static const struct harness_ctl_vol none;
        if (!o)
                o = &none;
        Csi__V1__VolumeCapability cap = CSI__V1__VOLUME_CAPABILITY__INIT;
        Csi__V1__VolumeCapability__MountVolume mount =
            CSI__V1__VOLUME_CAPABILITY__MOUNT_VOLUME__INIT;
        Csi__V1__VolumeCapability__BlockVolume block =
            CSI__V1__VOLUME_CAPABILITY__BLOCK_VOLUME__INIT;
        Csi__V1__VolumeCapability__AccessMode am = CSI__V1__VOLUME_CAPABILITY__ACCESS_MODE__INIT;
        am.mode = o->mode ? o->mode : HCTL_SNW;
        cap.access_mode = &am;
        cap.access_type_case = o->block ? CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_BLOCK
                                        : CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_MOUNT;
        if (o->block)
                cap.block = &block;
        else
                cap.mount = &mount;
        mount.fs_type = (char *)(o->fs_type ? o->fs_type : "");
        Csi__V1__VolumeCapability *caps[1] = {&cap};
        Csi__V1__CapacityRange range = CSI__V1__CAPACITY_RANGE__INIT;
        range.required_bytes = o->required;
        range.limit_bytes = o->limit;
        Csi__V1__CreateVolumeRequest__ParametersEntry p =
            CSI__V1__CREATE_VOLUME_REQUEST__PARAMETERS_ENTRY__INIT;
        Csi__V1__CreateVolumeRequest__ParametersEntry *pp[1] = {&p};
        p.key = (char *)"provisioning";
        p.value = (char *)o->provisioning;
        size_t np = o->provisioning ? 1 : 0;
        Csi__V1__VolumeContentSource src = CSI__V1__VOLUME_CONTENT_SOURCE__INIT;
        Csi__V1__VolumeContentSource__SnapshotSource ss =
            CSI__V1__VOLUME_CONTENT_SOURCE__SNAPSHOT_SOURCE__INIT;
        Csi__V1__VolumeContentSource__VolumeSource vs =
            CSI__V1__VOLUME_CONTENT_SOURCE__VOLUME_SOURCE__INIT;
        Csi__V1__CreateVolumeRequest req = CSI__V1__CREATE_VOLUME_REQUEST__INIT;
        if (o->from_snap) {
                ss.snapshot_id = (char *)o->from_snap;
                src.type_case = CSI__V1__VOLUME_CONTENT_SOURCE__TYPE_SNAPSHOT;
                src.snapshot = &ss;
                req.volume_content_source = &src;
        } else if (o->from_vol) {
                vs.volume_id = (char *)o->from_vol;
                src.type_case = CSI__V1__VOLUME_CONTENT_SOURCE__TYPE_VOLUME;
                src.volume = &vs;
                req.volume_content_source = &src;
        }
        req.name = (char *)name;
        req.capacity_range = (o->required || o->limit) ? &range : NULL;
        req.n_volume_capabilities = 1;
        req.volume_capabilities = caps;
        req.n_parameters = np;
        req.parameters = pp;
        Csi__V1__CreateVolumeResponse *resp = NULL;
        enum err_status st = harness_ctl_call(h, "Controller", "CreateVolume", &req.base,
                                              &csi__v1__create_volume_response__descriptor,
                                              (void **)&resp, msg, msg_size);
        if (st == ERR_OK && ret_id)
                snprintf(ret_id, 65, "%s", resp->volume->volume_id);
        if (st == ERR_OK && ret_capacity)
                *ret_capacity = resp->volume->capacity_bytes;
        if (resp)
                protobuf_c_message_free_unpacked(&resp->base, NULL);
        return st;
}

enum err_status harness_ctl_delete(struct harness *h, const char *id)
{
        Csi__V1__DeleteVolumeRequest req = CSI__V1__DELETE_VOLUME_REQUEST__INIT;
        req.volume_id = (char *)id;
        return harness_ctl_call(h, "Controller", "DeleteVolume", &req.base,
                                &csi__v1__delete_volume_response__descriptor, NULL, NULL, 0);
}

enum err_status harness_ctl_publish(struct harness *h, const char *id, const char *node,
                                    bool readonly, int mode)
{
        Csi__V1__VolumeCapability cap = CSI__V1__VOLUME_CAPABILITY__INIT;
        Csi__V1__VolumeCapability__MountVolume mount =
            CSI__V1__VOLUME_CAPABILITY__MOUNT_VOLUME__INIT;
        Csi__V1__VolumeCapability__AccessMode am = CSI__V1__VOLUME_CAPABILITY__ACCESS_MODE__INIT;
        am.mode = mode ? mode : HCTL_SNW;
        cap.access_mode = &am;
        cap.access_type_case = CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_MOUNT;
        cap.mount = &mount;
        Csi__V1__ControllerPublishVolumeRequest req =
            CSI__V1__CONTROLLER_PUBLISH_VOLUME_REQUEST__INIT;
        req.volume_id = (char *)id;
        req.node_id = (char *)node;
        req.readonly = readonly;
        req.volume_capability = &cap;
        return harness_ctl_call(h, "Controller", "ControllerPublishVolume", &req.base,
                                &csi__v1__controller_publish_volume_response__descriptor, NULL,
                                NULL, 0);
}

enum err_status harness_ctl_unpublish(struct harness *h, const char *id, const char *node)
{
        Csi__V1__ControllerUnpublishVolumeRequest req =
            CSI__V1__CONTROLLER_UNPUBLISH_VOLUME_REQUEST__INIT;
        req.volume_id = (char *)id;
        req.node_id = (char *)node;
        return harness_ctl_call(h, "Controller", "ControllerUnpublishVolume", &req.base,
                                &csi__v1__controller_unpublish_volume_response__descriptor, NULL,
                                NULL, 0);
}

enum err_status harness_ctl_snapshot(struct harness *h, const char *name, const char *vol,
                                     char *ret_id)
{
        Csi__V1__CreateSnapshotRequest req = CSI__V1__CREATE_SNAPSHOT_REQUEST__INIT;
        req.name = (char *)name;
        req.source_volume_id = (char *)vol;
        Csi__V1__CreateSnapshotResponse *resp = NULL;
        enum err_status st = harness_ctl_call(h, "Controller", "CreateSnapshot", &req.base,
                                              &csi__v1__create_snapshot_response__descriptor,
                                              (void **)&resp, NULL, 0);
        if (st == ERR_OK && ret_id)
                snprintf(ret_id, 65, "%s", resp->snapshot->snapshot_id);
        if (resp)
                protobuf_c_message_free_unpacked(&resp->base, NULL);
        return st;
}

void harness_ctl_stop(struct harness *h)
{
        client_free(h->client);
        h->client = NULL;
        harness_stop(h);
}

void harness_ctl_data(const struct harness *h, const char *dir, const char *id, char *buf,
                      size_t size)
{
        snprintf(buf, size, "%s/%s/%s.img", h->pool, dir, id);
}

struct stat harness_ctl_data_stat(const struct harness *h, const char *dir, const char *id)
{
        char path[512];
        struct stat st;
        harness_ctl_data(h, dir, id, path, sizeof(path));
        ck_assert_int_eq(stat(path, &st), 0);
        return st;
}

void harness_ctl_write_pattern(const char *path, off_t off, size_t len, unsigned seed)
{
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        char buf[4096];
        for (size_t done = 0; done < len; done += sizeof(buf)) {
                for (size_t i = 0; i < sizeof(buf); i++)
                        buf[i] = (char)((done + i) * 31 + seed);
                size_t n = len - done < sizeof(buf) ? len - done : sizeof(buf);
                ck_assert_int_eq(pwrite(fd, buf, n, off + (off_t)done), (ssize_t)n);
        }
        ck_assert_int_eq(fsync(fd), 0);
        close(fd);
}

bool harness_ctl_same_content(const char *a, const char *b)
{
        FILE *fa = fopen(a, "re"), *fb = fopen(b, "re");
        ck_assert_ptr_nonnull(fa);
        ck_assert_ptr_nonnull(fb);
        bool same = true;
        char ba[65536], bb[65536];
        for (;;) {
                size_t na = fread(ba, 1, sizeof(ba), fa), nb = fread(bb, 1, sizeof(bb), fb);
                if (na != nb || memcmp(ba, bb, na) != 0) {
                        same = false;
                        break;
                }
                if (na == 0)
                        break;
        }
        fclose(fa);
        fclose(fb);
        return same;
}
