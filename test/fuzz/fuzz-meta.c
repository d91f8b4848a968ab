/* The store's .meta parser (common/store/store-format.c and its readers): the input's first
 * byte picks the baseline volume, snapshot or group snapshot, the rest replaces its .meta
 * file in the pool. It is then loaded directly, and through the RPCs that read it, with the
 * pool shared (--pool-scope shared: every call reads the file again). A corrupt or hostile
 * .meta must never crash silo. The file is put back afterwards. */
#include <csi.pb-c.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/id.h"
#include "common/store/store.h"
#include "test/fuzz/fuzz-env.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char vol_id[ID_MAX + 1], snap_id[ID_MAX + 1], group_id[ID_MAX + 1];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        (void)argc;
        (void)argv;
        /* A corrupt .meta is silo's own state gone bad: INTERNAL is the right answer here. */
        setenv("SILO_FUZZ_STRICT", "0", 1);
        (void)fuzz_env_shared();
        if (id_from_name("vol", FUZZ_BASE_VOLUME, vol_id, sizeof(vol_id)) < 0 ||
            id_from_name("snap", FUZZ_BASE_SNAPSHOT, snap_id, sizeof(snap_id)) < 0 ||
            id_from_name("grp", FUZZ_BASE_GROUP, group_id, sizeof(group_id)) < 0)
                abort();
        return 0;
}

/* Rewrites path in place (same inode: fuzz-env sees no change to the pool). */
static int fuzz_put(const char *path, const void *data, size_t len)
{
        int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        ssize_t n = write(fd, data, len);
        close(fd);
        return n == (ssize_t)len ? 0 : -EIO;
}

static size_t fuzz_get(const char *path, char *buf, size_t size)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        ssize_t n = read(fd, buf, size);
        close(fd);
        return n > 0 ? (size_t)n : 0;
}

static Csi__V1__VolumeCapability__AccessMode mode = CSI__V1__VOLUME_CAPABILITY__ACCESS_MODE__INIT;
static Csi__V1__VolumeCapability__MountVolume mount =
    CSI__V1__VOLUME_CAPABILITY__MOUNT_VOLUME__INIT;
static Csi__V1__VolumeCapability cap = CSI__V1__VOLUME_CAPABILITY__INIT;
static Csi__V1__VolumeCapability *caps[1] = {&cap};

static void fuzz_volume_calls(void)
{
        mode.mode = CSI__V1__VOLUME_CAPABILITY__ACCESS_MODE__MODE__SINGLE_NODE_WRITER;
        cap.access_mode = &mode;
        cap.access_type_case = CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_MOUNT;
        cap.mount = &mount;
        struct store_volume v;
        if (store_volume_load(fuzz_env_pool(), vol_id, &v) == 0)
                store_volume_release(&v);

        Csi__V1__ControllerGetVolumeRequest get = CSI__V1__CONTROLLER_GET_VOLUME_REQUEST__INIT;
        get.volume_id = vol_id;
        fuzz_env_call_msg("/csi.v1.Controller/ControllerGetVolume", &get.base);
        Csi__V1__ListVolumesRequest list = CSI__V1__LIST_VOLUMES_REQUEST__INIT;
        fuzz_env_call_msg("/csi.v1.Controller/ListVolumes", &list.base);
        Csi__V1__ValidateVolumeCapabilitiesRequest val =
            CSI__V1__VALIDATE_VOLUME_CAPABILITIES_REQUEST__INIT;
        val.volume_id = vol_id;
        val.n_volume_capabilities = 1;
        val.volume_capabilities = caps;
        fuzz_env_call_msg("/csi.v1.Controller/ValidateVolumeCapabilities", &val.base);
        /* Reads the attach records; a node they do not name leaves them unchanged (a change
         * would cost a pool reset per input). */
        Csi__V1__ControllerUnpublishVolumeRequest unpub =
            CSI__V1__CONTROLLER_UNPUBLISH_VOLUME_REQUEST__INIT;
        unpub.volume_id = vol_id;
        unpub.node_id = "fuzz-other-node";
        fuzz_env_call_msg("/csi.v1.Controller/ControllerUnpublishVolume", &unpub.base);
        Csi__V1__NodeStageVolumeRequest stage = CSI__V1__NODE_STAGE_VOLUME_REQUEST__INIT;
        stage.volume_id = vol_id;
        stage.staging_target_path = FUZZ_KUBELET_DIR "/dir"; /* exists: no mkdir, no reset */
        stage.volume_capability = &cap;
        fuzz_env_call_msg("/csi.v1.Node/NodeStageVolume", &stage.base);
}

static void fuzz_snapshot_calls(void)
{
        struct store_snapshot s;
        if (store_snapshot_load(fuzz_env_pool(), snap_id, &s) == 0)
                store_snapshot_release(&s);
        Csi__V1__GetSnapshotRequest get = CSI__V1__GET_SNAPSHOT_REQUEST__INIT;
        get.snapshot_id = snap_id;
        fuzz_env_call_msg("/csi.v1.Controller/GetSnapshot", &get.base);
        Csi__V1__ListSnapshotsRequest list = CSI__V1__LIST_SNAPSHOTS_REQUEST__INIT;
        fuzz_env_call_msg("/csi.v1.Controller/ListSnapshots", &list.base);
}

static void fuzz_group_calls(void)
{
        struct store_group g;
        if (store_group_load(fuzz_env_pool(), group_id, &g) == 0)
                store_group_release(&g);
        Csi__V1__GetVolumeGroupSnapshotRequest get =
            CSI__V1__GET_VOLUME_GROUP_SNAPSHOT_REQUEST__INIT;
        get.group_snapshot_id = group_id;
        fuzz_env_call_msg("/csi.v1.GroupController/GetVolumeGroupSnapshot", &get.base);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char *const dirs[] = {"volumes", "snapshots", "groups"};
        const char *ids[] = {vol_id, snap_id, group_id};
        static char saved[STORE_META_MAX];
        char path[512];
        if (size == 0)
                return 0;
        unsigned kind = data[0] % 3;
        snprintf(path, sizeof(path), "%s/%s/%s.meta", fuzz_env_pool(), dirs[kind], ids[kind]);
        size_t saved_len = fuzz_get(path, saved, sizeof(saved));
        if (fuzz_put(path, data + 1, size - 1) < 0)
                abort();
        if (kind == 0)
                fuzz_volume_calls();
        else if (kind == 1)
                fuzz_snapshot_calls();
        else
                fuzz_group_calls();
        (void)fuzz_put(path, saved, saved_len);
        return 0;
}
