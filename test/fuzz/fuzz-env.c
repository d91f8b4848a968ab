#include "test/fuzz/fuzz-env.h"

#include <csi.pb-c.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/id.h"
#include "common/log.h"
#include "common/server/config.h"
#include "common/server/identity.h"
#include "common/server/vlock.h"
#include "common/silo.h"
#include "common/store/store.h"
#include "controller/controller-rpc.h"
#include "controller/controller.h"
#include "node/loop.h"
#include "node/mount.h"
#include "node/node-rpc.h"
#include "node/node.h"
#include "node/spawn.h"

#define FUZZ_TMPFS_OPTS "size=256m,mode=0700"
#define FUZZ_TIMEOUT_MS 15000

static struct {
        char root[256];
        char pool[300];
        char kubelet[300];
        char base[300]; /* a copy of the baseline pool, restored after an input changed it */
        bool tmpfs;
        struct config cfg;
        struct silo silo;
        const struct rpc_service *services[5];
        uint64_t pool_print, kubelet_print; /* fingerprints after the last reset */
        bool seam_reached;
} env;

static _Noreturn void fuzz_die(const char *what, int r)
{
        fprintf(stderr, "fuzz-env: %s: %s\n", what, strerror(r < 0 ? -r : r));
        abort();
}

/* Fakes of the side effects (common/seam.h): the request got through all of its checks. ---- */

/* Every attach goes through here (loop_attach opens the file, stage passes its checked fd). */
int loop_attach_fd(int ffd, struct loop_dev *ret)
{
        (void)ffd;
        (void)ret;
        env.seam_reached = true;
        return -EPERM;
}

int loop_detach(const struct loop_dev *d)
{
        (void)d;
        env.seam_reached = true;
        return -EPERM;
}

int loop_set_capacity(const struct loop_dev *d, uint64_t *ret_size)
{
        (void)d;
        (void)ret_size;
        env.seam_reached = true;
        return -EPERM;
}

int mount_fs_new(const char *source, const char *fstype, unsigned long flags, const char *options,
                 char *why, size_t why_size, int *ret_mnt)
{
        (void)source, (void)fstype, (void)flags, (void)options, (void)ret_mnt;
        if (why && why_size)
                snprintf(why, why_size, "not mounted in the fuzzer");
        env.seam_reached = true;
        return -EPERM;
}

int mount_clone(int fd, unsigned long flags, int *ret_mnt)
{
        (void)fd, (void)flags, (void)ret_mnt;
        env.seam_reached = true;
        return -EPERM;
}

int mount_attach(int mnt, int target_fd)
{
        (void)mnt, (void)target_fd;
        env.seam_reached = true;
        return -EPERM;
}

int mount_umount_at(int dirfd, const char *name, int id)
{
        (void)dirfd, (void)name, (void)id;
        env.seam_reached = true;
        return -EPERM;
}

int spawn_run(const char *const *argv, char *out, size_t out_size)
{
        (void)argv;
        if (out && out_size)
                snprintf(out, out_size, "not run in the fuzzer");
        env.seam_reached = true;
        return -EPERM;
}

bool fuzz_env_seam_reached(void)
{
        return env.seam_reached;
}

/* The temp root: on a tmpfs of its own in a private mount namespace when allowed (thick
 * volumes then allocate at most FUZZ_TMPFS_OPTS's size, never the host's disk), else a
 * plain temp directory. ------------------------------------------------------------------ */

static int fuzz_write_file(const char *path, const char *text)
{
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        ssize_t n = write(fd, text, strlen(text));
        int r = n == (ssize_t)strlen(text) ? 0 : -EIO;
        close(fd);
        return r;
}

static bool fuzz_private_ns(void)
{
        if (unshare(CLONE_NEWNS) == 0)
                return mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;
        uid_t uid = getuid();
        gid_t gid = getgid();
        char map[64];
        if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
                return false;
        (void)fuzz_write_file("/proc/self/setgroups", "deny");
        snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
        if (fuzz_write_file("/proc/self/uid_map", map) < 0)
                return false;
        snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
        return fuzz_write_file("/proc/self/gid_map", map) == 0 &&
               mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;
}

static int fuzz_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st;
        (void)flag;
        if (ftw->level > 0)
                (void)remove(path);
        return 0;
}

/* Empties dir, keeping dir itself. */
static void fuzz_empty_dir(const char *dir)
{
        (void)nftw(dir, fuzz_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void fuzz_cleanup(void)
{
        fuzz_empty_dir(env.root);
        if (env.tmpfs)
                (void)umount2(env.root, MNT_DETACH);
        (void)rmdir(env.root);
}

static void fuzz_make_root(void)
{
        const char *tmp = getenv("TMPDIR");
        snprintf(env.root, sizeof(env.root), "%s/silo-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(env.root))
                fuzz_die("mkdtemp", errno);
        env.tmpfs = fuzz_private_ns() && mount("silo-fuzz", env.root, "tmpfs", MS_NOSUID | MS_NODEV,
                                               FUZZ_TMPFS_OPTS) == 0;
        if (!env.tmpfs)
                fprintf(stderr, "fuzz-env: no private tmpfs (%s); using %s as it is\n",
                        strerror(errno), env.root);
        atexit(fuzz_cleanup);
        snprintf(env.pool, sizeof(env.pool), "%s/pool", env.root);
        snprintf(env.kubelet, sizeof(env.kubelet), "%s/kubelet", env.root);
        if (mkdir(env.kubelet, 0750) < 0)
                fuzz_die("mkdir kubelet", errno);
        int fd = open(env.kubelet, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || dup2(fd, FUZZ_KUBELET_FD) < 0)
                fuzz_die("kubelet dir descriptor", errno);
        close(fd);
}

/* What requests find beneath the kubelet dir. */
static void fuzz_make_kubelet(void)
{
        char p[400];
        snprintf(p, sizeof(p), "%s/dir", env.kubelet);
        if (mkdir(p, 0750) < 0)
                fuzz_die("mkdir dir", errno);
        snprintf(p, sizeof(p), "%s/file", env.kubelet);
        int fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        if (fd < 0)
                fuzz_die("create file", errno);
        close(fd);
        snprintf(p, sizeof(p), "%s/fifo", env.kubelet);
        if (mkfifo(p, 0600) < 0)
                fuzz_die("mkfifo", errno);
}

/* The baseline pool, made through the same calls a CO would make. ------------------------ */

static void fuzz_call_ok(const char *path, const ProtobufCMessage *req)
{
        size_t len = protobuf_c_message_get_packed_size(req);
        uint8_t *buf = malloc(len + 1);
        if (!buf)
                fuzz_die("malloc", ENOMEM);
        protobuf_c_message_pack(req, buf);
        struct rpc_local_reply reply;
        int r = rpc_local_call(&env.silo, env.services, 5, path, buf, len, FUZZ_TIMEOUT_MS, &reply);
        free(buf);
        if (r < 0)
                fuzz_die(path, r);
        if (reply.code != ERR_OK) {
                fprintf(stderr, "fuzz-env: baseline %s: %s\n", path, reply.message);
                abort();
        }
        rpc_local_reply_release(&reply);
}

static void fuzz_create_volume(const char *name, bool block)
{
        Csi__V1__CreateVolumeRequest req = CSI__V1__CREATE_VOLUME_REQUEST__INIT;
        Csi__V1__CapacityRange range = CSI__V1__CAPACITY_RANGE__INIT;
        Csi__V1__VolumeCapability cap = CSI__V1__VOLUME_CAPABILITY__INIT;
        Csi__V1__VolumeCapability *caps[1] = {&cap};
        Csi__V1__VolumeCapability__AccessMode mode = CSI__V1__VOLUME_CAPABILITY__ACCESS_MODE__INIT;
        Csi__V1__VolumeCapability__MountVolume mount =
            CSI__V1__VOLUME_CAPABILITY__MOUNT_VOLUME__INIT;
        Csi__V1__VolumeCapability__BlockVolume blk = CSI__V1__VOLUME_CAPABILITY__BLOCK_VOLUME__INIT;

        mode.mode = CSI__V1__VOLUME_CAPABILITY__ACCESS_MODE__MODE__SINGLE_NODE_WRITER;
        cap.access_mode = &mode;
        if (block) {
                cap.access_type_case = CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_BLOCK;
                cap.block = &blk;
        } else {
                mount.fs_type = "ext4";
                cap.access_type_case = CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_MOUNT;
                cap.mount = &mount;
        }
        range.required_bytes = 1024 * 1024;
        req.name = (char *)name;
        req.capacity_range = &range;
        req.n_volume_capabilities = 1;
        req.volume_capabilities = caps;
        fuzz_call_ok("/csi.v1.Controller/CreateVolume", &req.base);
}

static void fuzz_create_snapshot(const char *volume_name, const char *name)
{
        Csi__V1__CreateSnapshotRequest req = CSI__V1__CREATE_SNAPSHOT_REQUEST__INIT;
        char id[ID_MAX + 1];
        if (id_from_name("vol", volume_name, id, sizeof(id)) < 0)
                fuzz_die("id_from_name", EINVAL);
        req.source_volume_id = id;
        req.name = (char *)name;
        fuzz_call_ok("/csi.v1.Controller/CreateSnapshot", &req.base);
}

static void fuzz_create_group(const char *volume_name, const char *name)
{
        Csi__V1__CreateVolumeGroupSnapshotRequest req =
            CSI__V1__CREATE_VOLUME_GROUP_SNAPSHOT_REQUEST__INIT;
        char id[ID_MAX + 1];
        char *ids[1] = {id};
        if (id_from_name("vol", volume_name, id, sizeof(id)) < 0)
                fuzz_die("id_from_name", EINVAL);
        req.name = (char *)name;
        req.n_source_volume_ids = 1;
        req.source_volume_ids = ids;
        fuzz_call_ok("/csi.v1.GroupController/CreateVolumeGroupSnapshot", &req.base);
}

/* Writes a 4 KiB block of the volume's data at each offset, so that its snapshots have
 * extents to list and to tell apart (mkfs is faked: the volume would stay a hole). */
static void fuzz_write_blocks(const char *volume_name, const off_t *offsets, size_t n)
{
        static char block[4096];
        char id[ID_MAX + 1];
        char *path = NULL;
        memset(block, 0x5a, sizeof(block));
        if (id_from_name("vol", volume_name, id, sizeof(id)) < 0 ||
            store_volume_data_path(env.pool, id, &path) < 0)
                fuzz_die("volume data path", EINVAL);
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        free(path);
        if (fd < 0)
                fuzz_die("open volume data", errno);
        for (size_t i = 0; i < n; i++)
                if (pwrite(fd, block, sizeof(block), offsets[i]) != (ssize_t)sizeof(block))
                        fuzz_die("write volume data", errno ? errno : EIO);
        close(fd);
}

/* A hash of the names and inode numbers of the watched directories' entries: any create,
 * remove or atomic rewrite (a rename) changes it. */
static uint64_t fuzz_fingerprint(const char *const *dirs, size_t n)
{
        uint64_t h = 1469598103934665603ull;
        for (size_t i = 0; i < n; i++) {
                char p[400];
                snprintf(p, sizeof(p), "%s/%s", env.root, dirs[i]);
                DIR *d = opendir(p);
                if (!d)
                        continue;
                for (struct dirent *e = readdir(d); e; e = readdir(d)) {
                        for (const char *c = e->d_name; *c; c++)
                                h = (h ^ (uint8_t)*c) * 1099511628211ull;
                        h = (h ^ e->d_ino) * 1099511628211ull;
                }
                closedir(d);
        }
        return h;
}

static uint64_t fuzz_pool_print(void)
{
        static const char *const dirs[] = {"pool", "pool/volumes", "pool/snapshots", "pool/groups",
                                           "pool/nodes"};
        return fuzz_fingerprint(dirs, sizeof(dirs) / sizeof(dirs[0]));
}

/* A request can only create or remove entries one level beneath what exists. */
static uint64_t fuzz_kubelet_print(void)
{
        static const char *const dirs[] = {"kubelet", "kubelet/dir"};
        return fuzz_fingerprint(dirs, sizeof(dirs) / sizeof(dirs[0]));
}

/* Copies a file, keeping a file without data blocks (a fresh thin volume) sparse. */
static int fuzz_copy_file(const char *from, const char *to, const struct stat *st)
{
        char buf[65536];
        int r = 0;
        int in = open(from, O_RDONLY | O_CLOEXEC);
        int out = open(to, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, st->st_mode & 07777);
        if (in < 0 || out < 0 || ftruncate(out, st->st_size) < 0)
                r = -errno;
        for (ssize_t n = 1; r == 0 && st->st_blocks > 0 && n > 0;) {
                n = read(in, buf, sizeof(buf));
                if (n < 0 || (n > 0 && write(out, buf, (size_t)n) != n))
                        r = -EIO;
        }
        if (in >= 0)
                close(in);
        if (out >= 0)
                close(out);
        return r;
}

static const char *copy_from, *copy_to;

static int fuzz_copy_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        char to[600];
        (void)ftw;
        snprintf(to, sizeof(to), "%s%s", copy_to, path + strlen(copy_from));
        if (flag == FTW_D)
                return mkdir(to, st->st_mode & 07777) < 0 && errno != EEXIST ? -1 : 0;
        return flag == FTW_F ? fuzz_copy_file(path, to, st) : 0;
}

static void fuzz_copy_tree(const char *from, const char *to)
{
        copy_from = from;
        copy_to = to;
        if (nftw(from, fuzz_copy_entry, 16, FTW_PHYS) != 0)
                fuzz_die("copying the baseline pool", errno);
}

/* Inline ephemeral volumes, wired as main.c wires them: NodePublishVolume with the ephemeral
 * key makes a volume through the controller, so its volume_id and volume_context get fuzzed
 * past the point where a node without a controller refuses them. */
static int fuzz_ephemeral_create(void *ctx, const char *id, uint64_t size,
                                 enum store_provisioning prov, const char *fs_type,
                                 bool *ret_created)
{
        return volumes_create_ephemeral(ctx, id, size, prov, fs_type, ret_created);
}

static int fuzz_ephemeral_remove(void *ctx, const char *id)
{
        return volumes_delete(ctx, id);
}

static struct node_volume_ops fuzz_ephemeral_ops = {
    .create = fuzz_ephemeral_create,
    .remove = fuzz_ephemeral_remove,
    .why = controller_why,
    .why_clear = controller_why_clear,
};

static void fuzz_services_start(void)
{
        int r = controller_new(&env.cfg, &env.silo.controller);
        if (r < 0)
                fuzz_die("controller_new", r);
        r = node_new(&env.cfg, &env.silo.node);
        if (r < 0)
                fuzz_die("node_new", r);
        if (env.cfg.scope == CONFIG_SCOPE_NODE) {
                fuzz_ephemeral_ops.ctx = env.silo.controller;
                r = node_ephemeral_enable(env.silo.node, &fuzz_ephemeral_ops, env.cfg.driver_name);
                if (r < 0)
                        fuzz_die("node_ephemeral_enable", r);
        }
        atomic_store(&env.silo.ready, true);
}

/* The baseline is made once through the RPCs a CO would send, then kept as a copy: making it
 * again costs more than an input (a snapshot looks through every loop device of the host). */
static void fuzz_make_baseline(void)
{
        if (mkdir(env.pool, 0750) < 0)
                fuzz_die("mkdir pool", errno);
        fuzz_services_start();
        fuzz_create_volume(FUZZ_BASE_VOLUME, false);
        fuzz_create_volume(FUZZ_BASE_BLOCK, true);
        static const off_t first[] = {0, 4096, 512 * 1024}, second[] = {4096, 256 * 1024};
        fuzz_write_blocks(FUZZ_BASE_VOLUME, first, 3);
        fuzz_create_snapshot(FUZZ_BASE_VOLUME, FUZZ_BASE_SNAPSHOT);
        fuzz_write_blocks(FUZZ_BASE_VOLUME, second, 2);
        fuzz_create_snapshot(FUZZ_BASE_VOLUME, FUZZ_BASE_SNAPSHOT2);
        fuzz_create_group(FUZZ_BASE_BLOCK, FUZZ_BASE_GROUP);
        snprintf(env.base, sizeof(env.base), "%s/pool.base", env.root);
        fuzz_copy_tree(env.pool, env.base);
        env.pool_print = fuzz_pool_print();
}

static void fuzz_services_stop(void)
{
        node_free(env.silo.node);
        controller_free(env.silo.controller);
        env.silo.node = NULL;
        env.silo.controller = NULL;
}

/* The node keeps nothing of a path it failed on: a changed kubelet dir needs no restart. */
static void fuzz_reset_kubelet(void)
{
        fuzz_empty_dir(env.kubelet);
        fuzz_make_kubelet();
        env.kubelet_print = fuzz_kubelet_print();
}

static void fuzz_reset(void)
{
        fuzz_services_stop();
        fuzz_empty_dir(env.pool);
        (void)rmdir(env.pool);
        fuzz_copy_tree(env.base, env.pool);
        fuzz_reset_kubelet();
        fuzz_services_start();
        env.pool_print = fuzz_pool_print();
}

static struct silo *fuzz_env_init(bool shared)
{
        if (!getenv("SILO_FUZZ_LOG"))
                log_set_level((enum log_level) - 1);
        fuzz_make_root();
        fuzz_reset_kubelet();
        char *argv[] = {"silo",
                        "--mode",
                        "all",
                        "--pool",
                        env.pool,
                        "--nodeid",
                        FUZZ_NODE_ID,
                        "--kubelet-dir",
                        FUZZ_KUBELET_DIR,
                        "--pool-scope",
                        shared ? "shared" : "node",
                        NULL};
        int r = config_parse((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv, &env.cfg);
        if (r != CONFIG_RUN)
                fuzz_die("config_parse", r);
        env.silo.cfg = &env.cfg;
        env.silo.plugin_caps = SILO_CAP_CONTROLLER | SILO_CAP_GROUP_CONTROLLER |
                               SILO_CAP_SNAPSHOT_METADATA | SILO_CAP_EXPAND_ONLINE |
                               (shared ? 0 : SILO_CAP_ACCESSIBILITY);
        r = vlock_table_new(&env.silo.locks);
        if (r < 0)
                fuzz_die("vlock_table_new", r);
        env.services[0] = &identity_service;
        env.services[1] = &controller_service;
        env.services[2] = &group_controller_service;
        env.services[3] = &snapshot_metadata_service;
        env.services[4] = &node_service;
        fuzz_make_baseline();
        return &env.silo;
}

struct silo *fuzz_env(void)
{
        return env.silo.cfg ? &env.silo : fuzz_env_init(false);
}

struct silo *fuzz_env_shared(void)
{
        return env.silo.cfg ? &env.silo : fuzz_env_init(true);
}

const char *fuzz_env_pool(void)
{
        return env.pool;
}

/* INTERNAL is for silo's own faults: before any side effect, a request can only be wrong. */
static bool fuzz_strict(void)
{
        const char *v = getenv("SILO_FUZZ_STRICT");
        return !v || strcmp(v, "0") != 0;
}

static _Noreturn void fuzz_wrong(const char *path, const char *what,
                                 const struct rpc_local_reply *reply)
{
        fprintf(stderr, "fuzz-env: %s %s: code %d, message '%s'\n", path, what, reply->code,
                reply->message);
        abort();
}

void fuzz_env_call(const char *path, const uint8_t *data, size_t len,
                   const ProtobufCMessageDescriptor *out)
{
        struct rpc_local_reply reply;
        env.seam_reached = false;
        if (rpc_local_call(&env.silo, env.services, 5, path, data, len, FUZZ_TIMEOUT_MS, &reply) <
            0)
                fuzz_die(path, ENOMEM);
        if (reply.code == ERR_UNKNOWN)
                fuzz_wrong(path, "answered UNKNOWN", &reply);
        if (reply.code != ERR_OK && !reply.message[0])
                fuzz_wrong(path, "failed without a message", &reply);
        if (reply.code == ERR_INTERNAL && !env.seam_reached && fuzz_strict())
                fuzz_wrong(path, "answered INTERNAL before any side effect", &reply);
        if (reply.code == ERR_OK && out) {
                ProtobufCMessage *m = protobuf_c_message_unpack(out, NULL, reply.len, reply.data);
                if (!m)
                        fuzz_wrong(path, "sent a reply that does not decode", &reply);
                protobuf_c_message_free_unpacked(m, NULL);
        }
        rpc_local_reply_release(&reply);
        if (fuzz_pool_print() != env.pool_print)
                fuzz_reset();
        else if (fuzz_kubelet_print() != env.kubelet_print)
                fuzz_reset_kubelet();
}

void fuzz_env_call_msg(const char *path, const ProtobufCMessage *req)
{
        size_t len = protobuf_c_message_get_packed_size(req);
        uint8_t *buf = malloc(len + 1);
        if (!buf)
                fuzz_die("malloc", ENOMEM);
        protobuf_c_message_pack(req, buf);
        fuzz_env_call(path, buf, len, NULL);
        free(buf);
}
