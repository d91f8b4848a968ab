#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/blkdev.h"
#include "common/err.h"
#include "common/log.h"
#include "node/mount.h"
#include "node/fs.h"
#include "node/health.h"
#include "node/node.h"
#include "node/place.h"
#include "node/volstate.h"
#include "common/cleanup.h"

/* What a mount-volume stage will do, decided before anything is touched. */
struct stage_plan {
        const char *fs_type;
        struct mntflags opt;
        char data[64 + MNTCONTEXT_MAX + 16]; /* filesystem options for mount(2) */
        long gid;                            /* volume_mount_group, -1 when none */
};

static int stage_parse_gid(const char *s, long *ret)
{
        char *end;
        long v;

        if (!s || !*s) {
                *ret = -1;
                return 0;
        }
        errno = 0;
        v = strtol(s, &end, 10);
        if (s[0] < '0' || s[0] > '9' || *end || errno || v < 0 || v > 0x7fffffff)
                return node_fail(-SILO_EINVALID,
                                 "volume_mount_group '%s' is not a numeric "
                                 "group id",
                                 s);
        *ret = v;
        return 0;
}

static int stage_fs_type(const struct volstate *v, const struct node_cap *cap, const char **ret)
{
        const char *asked = cap->fs_type ? cap->fs_type : "";
        const char *created = v->meta.fs_type;

        if (*asked && !fs_type_is_supported(asked))
                return node_fail(-SILO_EINVALID, "fs_type '%s' is not supported (ext4, xfs)",
                                 asked);
        if (*asked && *created && strcmp(asked, created) != 0)
                return node_fail(-SILO_EPRECOND, "volume '%s' was created for '%s', not '%s'",
                                 v->meta.id, created, asked);
        *ret = *asked ? asked : *created ? created : "ext4";
        if (!fs_type_is_supported(*ret))
                return node_fail(-SILO_EPRECOND, "volume '%s' has unsupported fs type '%s'",
                                 v->meta.id, *ret);
        return 0;
}

static int stage_make_plan(const struct volstate *v, const struct node_cap *cap,
                           struct stage_plan *ret)
{
        struct stage_plan p = {0};
        bool xfs;
        int r;

        r = stage_fs_type(v, cap, &p.fs_type);
        if (r == 0)
                r = node_mount_flags(cap, &p.opt);
        if (r == 0)
                r = stage_parse_gid(cap->mount_group, &p.gid);
        if (r < 0)
                return r;
        /* Clones carry their source's UUID; XFS refuses a second mount of one without this.
         * ext4 stops writing at the first error (a full pool fails the loop device's writes)
         * instead of carrying on over lost data; XFS shuts down by itself. */
        xfs = strcmp(p.fs_type, "xfs") == 0;
        /* The label goes to the superblock: bind mounts of it (publish) all carry it. */
        snprintf(p.data, sizeof(p.data), "%s%s%s%s%s",
                 xfs ? "nouuid" : "errors=remount-ro,data_err=abort",
                 p.opt.discard ? ",discard" : "", p.opt.context[0] ? ",context=\"" : "",
                 p.opt.context, p.opt.context[0] ? "\"" : "");
        *ret = p;
        return 0;
}

/* 1: already staged at p with these options; 0: not staged anywhere; <0: conflict. */
static int stage_check_existing(const struct volstate *v, const struct mount_table *t,
                                const struct place *p, const struct stage_plan *plan)
{
        struct volstate_mount vm;
        const struct mount_info *h;

        volstate_at(v, t, p, &vm);
        if (vm.kind == VOLSTATE_FS) {
                bool same =
                    strcmp(vm.m->fstype, plan->fs_type) == 0 &&
                    (vm.m->flags & MNTFLAGS_BIND_MASK) == (plan->opt.flags & MNTFLAGS_BIND_MASK) &&
                    mntflags_has(vm.m->fs_options, "discard") == plan->opt.discard &&
                    mntcontext_options_match(vm.m->fs_options, plan->opt.context);
                return same ? 1
                            : node_fail(-SILO_EEXISTS,
                                        "volume '%s' is already staged at '%s' "
                                        "with other options (%s, %s)",
                                        v->meta.id, p->path, vm.m->fstype, vm.m->fs_options);
        }
        if (vm.kind != VOLSTATE_NONE)
                return node_fail(-SILO_EPRECOND, "staging path '%s' already holds another mount",
                                 p->path);
        h = v->attached ? volstate_holder(t, &v->loop, 0, 0) : NULL;
        if (h)
                return node_fail(-SILO_EEXISTS, "volume '%s' is already staged at '%s'", v->meta.id,
                                 h->target);
        return 0;
}

/* True when nothing in the file reads as anything but zeros (no data extent at all): then no
 * signature can be on it. */
static bool stage_file_is_blank(int fd)
{
        return lseek(fd, 0, SEEK_DATA) < 0 && errno == ENXIO;
}

/* Attaches the volume's file, or refreshes the capacity of the device already attached.
 * *ret_blank (may be NULL): the device is new and its file holds no data, so it carries no
 * signature (a device attached before may hold writes not yet in the file: never blank). */
static int stage_attach(struct volstate *v, bool *ret_new, bool *ret_blank)
{
        bool blank = false;
        uint64_t size;
        int r;

        *ret_new = !v->attached;
        if (v->attached) {
                r = loop_set_capacity(&v->loop, &size);
        } else {
                _cleanup_close_ int fd = -1;

                r = volstate_data_open(v, &fd);
                if (r < 0)
                        return r;
                blank = stage_file_is_blank(fd);
                r = loop_attach_fd(fd, &v->loop);
        }
        if (r < 0)
                return node_fail(r, "cannot attach a loop device to '%s'", v->data_path);
        v->attached = true;
        if (ret_blank)
                *ret_blank = blank;
        r = blkdev_wait_node(v->loop.node, sizeof(v->loop.node), v->loop.devno,
                             NODE_DEVICE_WAIT_MS);
        if (r < 0)
                return node_fail(r, "device node of '%s' did not appear", v->loop.node);
        return 0;
}

/* Formats only a device that carries no signature at all: a blank one (see stage_attach)
 * without reading it, else what libblkid finds decides. 1 when it formatted. */
static int stage_format(const struct volstate *v, const struct stage_plan *plan, bool blank)
{
        struct blkdev_signature sig = {.content = BLKDEV_EMPTY};
        char why[NODE_WHY_MAX - 128];
        int r;

        r = blank ? 0 : blkdev_probe(v->loop.node, &sig);
        if (r < 0)
                return node_fail(r, "cannot probe '%s'", v->loop.node);
        if (sig.content == BLKDEV_FILESYSTEM && strcmp(sig.type, plan->fs_type) == 0)
                return 0;
        if (sig.content == BLKDEV_FILESYSTEM)
                return node_fail(-SILO_EPRECOND,
                                 "volume '%s' holds a '%s' filesystem, not "
                                 "'%s'",
                                 v->meta.id, sig.type, plan->fs_type);
        if (sig.content == BLKDEV_OTHER)
                return node_fail(-SILO_EPRECOND,
                                 "volume '%s' holds a '%s' signature; it is "
                                 "never formatted over",
                                 v->meta.id, sig.type);
        r = fs_mkfs(v->loop.node, plan->fs_type, v->meta.provisioning == STORE_THICK, why,
                    sizeof(why));
        if (r < 0)
                return node_fail(r, "cannot format volume '%s': %s", v->meta.id, why);
        log_debug("msg='formatted' volume_id='%s' fs=%s", v->meta.id, plan->fs_type);
        return 1;
}

/* true when the device has grown past the filesystem (an online grow was refused). */
static bool stage_needs_grow(const struct volstate *v, const char *fs_type)
{
        uint64_t dev, fs;

        if (loop_size(&v->loop, &dev) < 0 || fs_size(v->loop.node, fs_type, &fs) < 0)
                return false;
        return dev >= fs + 4096;
}

static int stage_grow_offline(const struct volstate *v, const struct stage_plan *plan)
{
        char why[NODE_WHY_MAX - 128];
        int r;

        if (strcmp(plan->fs_type, "ext4") != 0 || !stage_needs_grow(v, plan->fs_type))
                return 0;
        r = fs_grow_offline(v->loop.node, plan->fs_type, why, sizeof(why));
        if (r < 0)
                return node_fail(r, "cannot grow the filesystem of volume '%s': %s", v->meta.id,
                                 why);
        log_info("msg='grew filesystem before mounting' volume_id='%s'", v->meta.id);
        return 0;
}

/* Gives the root of the filesystem (dirfd: a directory fd of it, O_PATH is fine) to the
 * volume_mount_group, setgid so that new files inherit the group. */
static int stage_apply_group(int dirfd, const char *p, const struct stage_plan *plan)
{
        _cleanup_close_ int fd = -1;
        struct stat st;

        if (plan->gid < 0 || (plan->opt.flags & MS_RDONLY))
                return 0;
        fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0 || fchown(fd, (uid_t)-1, (gid_t)plan->gid) < 0 ||
            fchmod(fd, (st.st_mode & 07777) | S_ISGID | S_IRWXG) < 0)
                return node_fail(neg_errno(), "cannot give '%s' to group %ld", p, plan->gid);
        return 0;
}

/* xfs grows only mounted, and xfs_growfs takes the mount point's name. */
static int stage_grow_online(const struct volstate *v, const char *p, const struct stage_plan *plan)
{
        char why[NODE_WHY_MAX - 128];
        int r;

        if (strcmp(plan->fs_type, "xfs") != 0 || !stage_needs_grow(v, plan->fs_type))
                return 0;
        r = fs_grow_online(v->loop.node, p, plan->fs_type, why, sizeof(why));
        if (r < 0)
                return node_fail(r, "cannot grow the filesystem of volume '%s': %s", v->meta.id,
                                 why);
        return 0;
}

/* A detached mount of the volume's filesystem, already given to the mount group. */
static int stage_new_mount(const struct volstate *v, const char *p, const struct stage_plan *plan,
                           int *ret_mnt)
{
        _cleanup_close_ int mnt = -1;
        char why[NODE_WHY_MAX - 128] = "";
        int r;

        r = mount_fs_new(v->loop.node, plan->fs_type, plan->opt.flags,
                         plan->data[0] ? plan->data : NULL, why, sizeof(why), &mnt);
        /* Only SELinux takes context=; without it the filesystem calls it unknown. */
        if (r == -EINVAL && plan->opt.context[0] && !mount_has_selinux())
                return node_fail(-SILO_EPRECOND,
                                 "cannot mount volume '%s' with SELinux context '%s': SELinux is "
                                 "not enabled on this node (%s); set seLinuxMount: false in the "
                                 "CSIDriver or enable SELinux",
                                 v->meta.id, plan->opt.context, why);
        if (r < 0)
                return node_fail(r, "cannot mount volume '%s'%s%s", v->meta.id, why[0] ? ": " : "",
                                 why);
        r = stage_apply_group(mnt, p, plan);
        if (r < 0)
                return r;
        *ret_mnt = TAKE_FD(mnt);
        return 0;
}

/* Attaches mnt at p; undone when the online grow after it fails. */
static int stage_attach_mount(const struct volstate *v, struct place *p, int mnt,
                              const struct stage_plan *plan)
{
        bool root;
        int r, id = 0;

        r = mount_attach(mnt, p->fd);
        if (r < 0)
                return node_fail(r, "cannot mount volume '%s' at '%s'", v->meta.id, p->path);
        r = stage_grow_online(v, p->path, plan);
        if (r < 0 && mount_fd_id(mnt, &id, &root) == 0)
                (void)mount_umount_at(p->dir, p->name, id);
        return r;
}

/* A filesystem that lost writes (a full pool, a crash) is repaired before it is mounted, and the
 * repair is remembered beside the volume so that its condition stays abnormal (node/health.h). */
static int stage_check(const struct volstate *v, const struct stage_plan *plan)
{
        char report[HEALTH_REPORT_MAX];
        int r = fs_check(v->loop.node, plan->fs_type, report, sizeof(report));

        if (r == 0)
                return 0;
        if (r < 0 && r != -EIO)
                return node_fail(r, "cannot check the filesystem of volume '%s': %s", v->meta.id,
                                 report);
        log_warn("msg='filesystem of volume checked with findings' volume_id='%s' report='%s'",
                 v->meta.id, report);
        (void)health_record_repair(v->data_path, report);
        if (r < 0)
                return node_fail(-SILO_EPRECOND,
                                 "the filesystem of volume '%s' has errors e2fsck -p cannot "
                                 "repair (%s): check it by hand before staging",
                                 v->meta.id, report);
        return 0;
}

static int stage_mount_device(struct volstate *v, struct place *p, const struct stage_plan *plan)
{
        _cleanup_close_ int mnt = -1;
        bool attached_now = false, blank = false;
        int r;

        r = place_make(p, S_IFDIR);
        if (r == 0)
                r = stage_attach(v, &attached_now, &blank);
        if (r == 0)
                r = stage_format(v, plan, blank);
        if (r == 0) /* a filesystem mkfs has just made has nothing to check */
                r = stage_check(v, plan);
        if (r == 1)
                r = 0;
        if (r == 0)
                r = stage_grow_offline(v, plan);
        if (r == 0)
                r = stage_new_mount(v, p->path, plan, &mnt);
        if (r == 0)
                r = stage_attach_mount(v, p, mnt, plan);
        if (r < 0 && attached_now)
                (void)loop_detach(&v->loop);
        return r;
}

static int stage_mount(struct volstate *v, struct place *p, const struct node_cap *cap)
{
        _cleanup_mount_table_ struct mount_table *t = NULL;
        struct stage_plan plan;
        int r;

        r = stage_make_plan(v, cap, &plan);
        if (r < 0)
                return r;
        r = mount_table_load(&t);
        if (r < 0)
                return node_fail(r, "cannot read the mount table");
        r = volstate_find_loop(v);
        if (r == 0)
                r = stage_check_existing(v, t, p, &plan);
        if (r < 0)
                return r;
        if (r == 1)
                return stage_apply_group(p->fd, p->path, &plan);
        return stage_mount_device(v, p, &plan);
}

/* Binds the loop device node onto the file f (made when missing). */
static int stage_bind_node(const struct volstate *v, struct place *f)
{
        _cleanup_close_ int node = -1, mnt = -1;
        int r;

        r = place_make(f, S_IFREG);
        if (r < 0)
                return r;
        node = open(v->loop.node, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        r = node < 0 ? neg_errno() : mount_clone(node, 0, &mnt);
        if (r == 0)
                r = mount_attach(mnt, f->fd);
        if (r == 0)
                return 0;
        if (f->made)
                place_remove_empty(f);
        return node_fail(r, "cannot bind '%s' onto '%s'", v->loop.node, f->path);
}

static int stage_bind_block(struct volstate *v, struct place *f)
{
        bool attached_now = false;
        int r;

        r = stage_attach(v, &attached_now, NULL);
        if (r == 0)
                r = stage_bind_node(v, f);
        if (r < 0 && attached_now)
                (void)loop_detach(&v->loop);
        return r;
}

static int stage_block_file(struct volstate *v, struct place *f)
{
        _cleanup_mount_table_ struct mount_table *t = NULL;
        struct volstate_mount vm;
        const struct mount_info *h;
        int r;

        r = mount_table_load(&t);
        if (r == 0)
                r = volstate_find_loop(v);
        if (r < 0)
                return node_fail(r, "cannot read the state of volume '%s'", v->meta.id);
        volstate_at(v, t, f, &vm);
        if (vm.kind == VOLSTATE_NODE)
                return 0;
        if (vm.kind != VOLSTATE_NONE)
                return node_fail(-SILO_EPRECOND, "'%s' already holds another mount", f->path);
        h = v->attached ? volstate_holder(t, &v->loop, 0, 0) : NULL;
        if (h)
                return node_fail(-SILO_EEXISTS, "volume '%s' is already in use at '%s'", v->meta.id,
                                 h->target);
        return stage_bind_block(v, f);
}

static int stage_block(struct volstate *v, struct place *p)
{
        struct place f = {.dir = -1, .fd = -1};
        int r;

        r = place_make(p, S_IFDIR);
        if (r == 0)
                r = place_open_child(p, v->meta.id, &f);
        if (r < 0)
                return r;
        r = stage_block_file(v, &f);
        place_release(&f);
        return r;
}

int node_stage(struct node *n, const char *volume_id, const char *staging,
               const struct node_cap *cap)
{
        struct place p;
        struct volstate v = {0};
        int r;

        r = place_open(n, "staging path", staging, &p);
        if (r < 0)
                return r;
        r = volstate_check_outside(n, &p);
        if (r == 0)
                r = volstate_load(n, volume_id, &v);
        if (r < 0) {
                place_release(&p);
                return r;
        }
        r = cap->block ? stage_block(&v, &p) : stage_mount(&v, &p, cap);
        if (r == 0)
                known_add(n->known, volume_id, p.path);
        volstate_release(&v);
        place_release(&p);
        return r;
}
