#include "test/integration/harness-node.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "node/mount.h"
#include "common/store/store.h"
#include "node/loop.h"
#include "common/cleanup.h"

static __thread char harness_node_msg[1024]; /* per thread: tests call from several */

const char *harness_node_message(void)
{
        return harness_node_msg;
}

void harness_node_kpath(const struct harness *h, const char *rel, char *buf, size_t size)
{
        snprintf(buf, size, "%s/%s", h->kubelet_dir, rel);
}

static int harness_node_data_file(struct harness *h, const char *id, uint64_t size, bool thick)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -1;
        int r = store_volume_data_path(h->pool, id, &path);

        if (r < 0)
                return r;
        fd = open(path, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        r = thick ? posix_fallocate(fd, 0, (off_t)size) : ftruncate(fd, (off_t)size);
        return r == 0 ? 0 : thick ? -r : -errno;
}

int harness_node_volume(struct harness *h, const char *id, uint64_t size, const char *fs_type,
                        bool thick)
{
        struct store_volume v = {0};
        int r = store_init(h->pool);

        if (r < 0)
                return r;
        snprintf(v.id, sizeof(v.id), "%s", id);
        v.name = (char *)id;
        v.capacity_bytes = size;
        snprintf(v.fs_type, sizeof(v.fs_type), "%s", fs_type);
        v.provisioning = thick ? STORE_THICK : STORE_THIN;
        v.caps = *fs_type ? STORE_CAP_MOUNT : STORE_CAP_BLOCK;
        snprintf(v.node_id, sizeof(v.node_id), "test-node");
        r = harness_node_data_file(h, id, size, thick);
        return r < 0 ? r : store_volume_save(h->pool, &v);
}

int harness_node_grow_file(const struct harness *h, const char *id, uint64_t size)
{
        _cleanup_free_ char *path = NULL;
        int r = store_volume_data_path(h->pool, id, &path);

        if (r < 0)
                return r;
        return truncate(path, (off_t)size) < 0 ? -errno : 0;
}

/* Builds a VolumeCapability on the caller's stack objects. */
struct harness_node_capmsg {
        Csi__V1__VolumeCapability cap;
        Csi__V1__VolumeCapability__AccessMode mode;
        Csi__V1__VolumeCapability__MountVolume mount;
        Csi__V1__VolumeCapability__BlockVolume block;
        char *flags[16];
};

static void harness_node_capmsg(struct harness_node_capmsg *m, const struct harness_node_cap *c)
{
        csi__v1__volume_capability__init(&m->cap);
        csi__v1__volume_capability__access_mode__init(&m->mode);
        csi__v1__volume_capability__mount_volume__init(&m->mount);
        csi__v1__volume_capability__block_volume__init(&m->block);
        m->mode.mode =
            c->mode ? c->mode : CSI__V1__VOLUME_CAPABILITY__ACCESS_MODE__MODE__SINGLE_NODE_WRITER;
        m->cap.access_mode = &m->mode;
        if (c->block) {
                m->cap.access_type_case = CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_BLOCK;
                m->cap.block = &m->block;
                return;
        }
        m->cap.access_type_case = CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_MOUNT;
        m->cap.mount = &m->mount;
        m->mount.fs_type = (char *)(c->fs_type ? c->fs_type : "");
        m->mount.volume_mount_group = (char *)(c->group ? c->group : "");
        for (size_t i = 0; c->flags && c->flags[i] && i < 16; i++)
                m->flags[m->mount.n_mount_flags++] = (char *)c->flags[i];
        m->mount.mount_flags = m->flags;
}

static enum err_status harness_node_call(struct harness *h, const char *method,
                                         const ProtobufCMessage *req,
                                         const ProtobufCMessageDescriptor *desc,
                                         ProtobufCMessage **ret)
{
        struct client_result res = {0};
        char path[128];
        enum err_status st;

        snprintf(path, sizeof(path), "/csi.v1.Node/%s", method);
        if (harness_call(h, path, req, desc, &res) < 0) {
                snprintf(harness_node_msg, sizeof(harness_node_msg), "call failed");
                return ERR_UNAVAILABLE;
        }
        st = res.status;
        snprintf(harness_node_msg, sizeof(harness_node_msg), "%s", res.message ? res.message : "");
        if (ret && st == ERR_OK)
                *ret = TAKE_PTR(res.resp);
        client_result_release(&res);
        return st;
}

enum err_status harness_node_stage(struct harness *h, const char *id, const char *staging,
                                   const struct harness_node_cap *cap)
{
        Csi__V1__NodeStageVolumeRequest req = CSI__V1__NODE_STAGE_VOLUME_REQUEST__INIT;
        struct harness_node_capmsg m;

        harness_node_capmsg(&m, cap);
        req.volume_id = (char *)id;
        req.staging_target_path = (char *)staging;
        req.volume_capability = &m.cap;
        return harness_node_call(h, "NodeStageVolume", &req.base,
                                 &csi__v1__node_stage_volume_response__descriptor, NULL);
}

enum err_status harness_node_unstage(struct harness *h, const char *id, const char *staging)
{
        Csi__V1__NodeUnstageVolumeRequest req = CSI__V1__NODE_UNSTAGE_VOLUME_REQUEST__INIT;

        req.volume_id = (char *)id;
        req.staging_target_path = (char *)staging;
        return harness_node_call(h, "NodeUnstageVolume", &req.base,
                                 &csi__v1__node_unstage_volume_response__descriptor, NULL);
}

enum err_status harness_node_publish(struct harness *h, const char *id, const char *staging,
                                     const char *target, const struct harness_node_cap *cap,
                                     bool readonly)
{
        Csi__V1__NodePublishVolumeRequest req = CSI__V1__NODE_PUBLISH_VOLUME_REQUEST__INIT;
        struct harness_node_capmsg m;

        harness_node_capmsg(&m, cap);
        req.volume_id = (char *)id;
        req.staging_target_path = (char *)staging;
        req.target_path = (char *)target;
        req.volume_capability = &m.cap;
        req.readonly = readonly;
        return harness_node_call(h, "NodePublishVolume", &req.base,
                                 &csi__v1__node_publish_volume_response__descriptor, NULL);
}

enum err_status harness_node_publish_ctx(struct harness *h, const char *id, const char *target,
                                         const struct harness_node_cap *cap, bool readonly,
                                         const char *const *ctx)
{
        Csi__V1__NodePublishVolumeRequest req = CSI__V1__NODE_PUBLISH_VOLUME_REQUEST__INIT;
        Csi__V1__NodePublishVolumeRequest__VolumeContextEntry e[16], *list[16];
        struct harness_node_capmsg m;
        size_t n = 0;

        harness_node_capmsg(&m, cap);
        for (; ctx && ctx[2 * n] && n < 16; n++) {
                csi__v1__node_publish_volume_request__volume_context_entry__init(&e[n]);
                e[n].key = (char *)ctx[2 * n];
                e[n].value = (char *)ctx[2 * n + 1];
                list[n] = &e[n];
        }
        req.volume_id = (char *)id;
        req.target_path = (char *)target;
        req.volume_capability = &m.cap;
        req.readonly = readonly;
        req.n_volume_context = n;
        req.volume_context = list;
        return harness_node_call(h, "NodePublishVolume", &req.base,
                                 &csi__v1__node_publish_volume_response__descriptor, NULL);
}

enum err_status harness_node_unpublish(struct harness *h, const char *id, const char *target)
{
        Csi__V1__NodeUnpublishVolumeRequest req = CSI__V1__NODE_UNPUBLISH_VOLUME_REQUEST__INIT;

        req.volume_id = (char *)id;
        req.target_path = (char *)target;
        return harness_node_call(h, "NodeUnpublishVolume", &req.base,
                                 &csi__v1__node_unpublish_volume_response__descriptor, NULL);
}

enum err_status harness_node_stats(struct harness *h, const char *id, const char *path,
                                   Csi__V1__NodeGetVolumeStatsResponse **ret)
{
        Csi__V1__NodeGetVolumeStatsRequest req = CSI__V1__NODE_GET_VOLUME_STATS_REQUEST__INIT;

        req.volume_id = (char *)id;
        req.volume_path = (char *)path;
        return harness_node_call(h, "NodeGetVolumeStats", &req.base,
                                 &csi__v1__node_get_volume_stats_response__descriptor,
                                 (ProtobufCMessage **)ret);
}

enum err_status harness_node_expand(struct harness *h, const char *id, const char *path,
                                    int64_t required, bool block, int64_t *ret_capacity)
{
        Csi__V1__NodeExpandVolumeRequest req = CSI__V1__NODE_EXPAND_VOLUME_REQUEST__INIT;
        Csi__V1__CapacityRange range = CSI__V1__CAPACITY_RANGE__INIT;
        Csi__V1__NodeExpandVolumeResponse *resp = NULL;
        struct harness_node_capmsg m;
        struct harness_node_cap c = {.block = block};
        enum err_status st;

        harness_node_capmsg(&m, &c);
        range.required_bytes = required;
        req.volume_id = (char *)id;
        req.volume_path = (char *)path;
        req.capacity_range = &range;
        req.volume_capability = &m.cap;
        st = harness_node_call(h, "NodeExpandVolume", &req.base,
                               &csi__v1__node_expand_volume_response__descriptor,
                               (ProtobufCMessage **)&resp);
        if (st == ERR_OK) {
                *ret_capacity = resp->capacity_bytes;
                protobuf_c_message_free_unpacked(&resp->base, NULL);
        }
        return st;
}

static const struct mount_info *harness_node_find(struct mount_table **t, const char *path)
{
        if (mount_table_load(t) < 0)
                return NULL;
        return mount_table_find_target(*t, path);
}

bool harness_node_is_mountpoint(const char *path)
{
        _cleanup_mount_table_ struct mount_table *t = NULL;

        return harness_node_find(&t, path) != NULL;
}

bool harness_node_mount_has_flag(const char *path, unsigned long ms_flag)
{
        _cleanup_mount_table_ struct mount_table *t = NULL;
        const struct mount_info *m = harness_node_find(&t, path);

        return m && (m->flags & ms_flag);
}

static bool harness_node_under(const struct harness *h, const char *path)
{
        size_t n = strlen(h->root);

        return strncmp(path, h->root, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

int harness_node_count_mounts(const struct harness *h)
{
        _cleanup_mount_table_ struct mount_table *t = NULL;
        int n = 0;

        if (mount_table_load(&t) < 0)
                return -1;
        for (size_t i = 0; i < t->n; i++)
                n += harness_node_under(h, t->entries[i].target);
        return n;
}

static int harness_node_count_visit(const struct loop_dev *d, const char *backing, bool deleted,
                                    void *userdata)
{
        void **ctx = userdata;
        const struct harness *h = ctx[0];

        (void)d;
        (void)deleted;
        if (harness_node_under(h, backing))
                (*(int *)ctx[1])++;
        return 0;
}

int harness_node_count_loops(const struct harness *h)
{
        int n = 0;
        void *ctx[2] = {(void *)h, &n};

        return loop_foreach(harness_node_count_visit, ctx) < 0 ? -1 : n;
}

bool harness_node_loop_of(const struct harness *h, const char *id, char *buf, size_t size)
{
        _cleanup_free_ char *path = NULL;
        struct loop_dev d;

        if (store_volume_data_path(h->pool, id, &path) < 0 || loop_find_scan(path, &d) < 0)
                return false;
        snprintf(buf, size, "%s", d.node);
        return true;
}

void harness_node_assert_clean(const struct harness *h)
{
        ck_assert_int_eq(harness_node_count_mounts(h), 0);
        ck_assert_int_eq(harness_node_count_loops(h), 0);
}

void harness_node_mkdir(const struct harness *h, const char *rel, char *buf, size_t size)
{
        for (const char *p = strchr(rel, '/'); p; p = strchr(p + 1, '/')) {
                snprintf(buf, size, "%s/%.*s", h->kubelet_dir, (int)(p - rel), rel);
                ck_assert_int_eq(mkdir(buf, 0750), 0);
        }
        harness_node_kpath(h, rel, buf, size);
        ck_assert_int_eq(mkdir(buf, 0750), 0);
}

void harness_node_start(struct harness *h, const char *const *env, const char *staging_rel,
                        char *staging, char *target, size_t size)
{
        ck_assert_int_eq(harness_start(h, NULL, env), 0);
        harness_node_track(h);
        harness_node_mkdir(h, staging_rel, staging, size);
        harness_node_mkdir(h, "pods", target, size);
        harness_node_kpath(h, "pods/mount", target, size);
}

void harness_node_up(struct harness *h, const char *id, const char *staging, const char *target,
                     const struct harness_node_cap *cap)
{
        ASSERT_STATUS(harness_node_stage(h, id, staging, cap), ERR_OK);
        ASSERT_STATUS(harness_node_publish(h, id, staging, target, cap, false), ERR_OK);
}

void harness_node_down(struct harness *h, const char *id, const char *staging, const char *target)
{
        ASSERT_STATUS(harness_node_unpublish(h, id, target), ERR_OK);
        ASSERT_STATUS(harness_node_unstage(h, id, staging), ERR_OK);
        harness_node_assert_clean(h);
}

int harness_node_run(Suite *s)
{
        SRunner *sr = srunner_create(s);
        int failed;

        harness_node_track_init();
        srunner_run_all(sr, CK_NORMAL);
        harness_node_release_tracked();
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

int harness_node_write_file(const char *path, const char *content)
{
        _cleanup_close_ int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
        size_t n = strlen(content);

        if (fd < 0)
                return -errno;
        if (write(fd, content, n) != (ssize_t)n || fsync(fd) < 0)
                return -EIO;
        return 0;
}

int harness_node_read_file(const char *path, char *buf, size_t size)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return -errno;
        n = read(fd, buf, size - 1);
        if (n < 0)
                return -errno;
        buf[n] = '\0';
        return (int)n;
}

#define HARNESS_NODE_ROOTS 64

struct harness_node_roots {
        int n;
        char root[HARNESS_NODE_ROOTS][256];
};

static struct harness_node_roots *harness_node_roots;

void harness_node_track_init(void)
{
        void *p = mmap(NULL, sizeof(*harness_node_roots), PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

        harness_node_roots = p == MAP_FAILED ? NULL : p;
}

void harness_node_track(const struct harness *h)
{
        struct harness_node_roots *r = harness_node_roots;

        if (!r || r->n >= HARNESS_NODE_ROOTS)
                return;
        snprintf(r->root[r->n], sizeof(r->root[0]), "%s", h->root);
        r->n++;
}

static int harness_node_detach_visit(const struct loop_dev *d, const char *backing, bool deleted,
                                     void *userdata)
{
        const char *root = userdata;
        size_t n = strlen(root);

        (void)deleted;
        if (strncmp(backing, root, n) == 0 && backing[n] == '/')
                (void)loop_detach(d);
        return 0;
}

static void harness_node_unmount_under(const char *root)
{
        size_t n = strlen(root);

        for (int pass = 0; pass < 256; pass++) {
                _cleanup_mount_table_ struct mount_table *t = NULL;
                const char *last = NULL;

                if (mount_table_load(&t) < 0)
                        return;
                for (size_t i = 0; i < t->n; i++)
                        if (strncmp(t->entries[i].target, root, n) == 0 &&
                            (t->entries[i].target[n] == '/' || t->entries[i].target[n] == '\0'))
                                last = t->entries[i].target;
                if (!last)
                        return;
                (void)umount2(last, MNT_DETACH);
        }
}

void harness_node_release_tracked(void)
{
        struct harness_node_roots *r = harness_node_roots;
        char cmd[300];

        for (int i = 0; r && i < r->n; i++) {
                if (access(r->root[i], F_OK) < 0)
                        continue;
                harness_node_unmount_under(r->root[i]);
                (void)loop_foreach(harness_node_detach_visit, r->root[i]);
                snprintf(cmd, sizeof(cmd), "rm -rf '%s'", r->root[i]);
                if (system(cmd) != 0)
                        fprintf(stderr, "cannot remove '%s'\n", r->root[i]);
        }
}
