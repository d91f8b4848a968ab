#include "node/mount.h"

#include <fcntl.h>
#include <libmount.h>
#include <string.h>
#include <sys/mount.h>

#include "common/cleanup.h"

static void mount_info_fill(struct libmnt_fs *fs, struct mount_info *m)
{
        const char *vfs = mnt_fs_get_vfs_options(fs);
        const char *sb = mnt_fs_get_fs_options(fs);
        unsigned long flags = 0;

        if (vfs)
                (void)mnt_optstr_get_flags(vfs, &flags, mnt_get_builtin_optmap(MNT_LINUX_MAP));
        m->id = mnt_fs_get_id(fs);
        m->parent_id = mnt_fs_get_parent_id(fs);
        m->devno = mnt_fs_get_devno(fs);
        m->root = mnt_fs_get_root(fs) ? mnt_fs_get_root(fs) : "";
        m->target = mnt_fs_get_target(fs) ? mnt_fs_get_target(fs) : "";
        m->source = mnt_fs_get_source(fs) ? mnt_fs_get_source(fs) : "";
        m->fstype = mnt_fs_get_fstype(fs) ? mnt_fs_get_fstype(fs) : "";
        m->fs_options = sb ? sb : "";
        m->flags = flags;
        m->sb_readonly = sb && mnt_optstr_get_option(sb, "ro", NULL, NULL) == 0;
}

static int mount_table_index(struct mount_table *t)
{
        struct libmnt_table *tb = t->priv;
        struct libmnt_iter *it = mnt_new_iter(MNT_ITER_FORWARD);
        struct libmnt_fs *fs;
        int r;

        if (!it)
                return -ENOMEM;
        t->entries = calloc((size_t)mnt_table_get_nents(tb) + 1, sizeof(*t->entries));
        if (!t->entries) {
                mnt_free_iter(it);
                return -ENOMEM;
        }
        while ((r = mnt_table_next_fs(tb, it, &fs)) == 0)
                mount_info_fill(fs, &t->entries[t->n++]);
        mnt_free_iter(it);
        return r < 0 ? -EIO : 0;
}

int mount_table_load(struct mount_table **ret)
{
        struct mount_table *t = calloc(1, sizeof(*t));
        int r;

        if (!t)
                return -ENOMEM;
        errno = 0;
        t->priv = mnt_new_table_from_file("/proc/self/mountinfo");
        if (!t->priv) {
                r = neg_errno();
                free(t);
                return r;
        }
        r = mount_table_index(t);
        if (r < 0) {
                mount_table_free(t);
                return r;
        }
        *ret = t;
        return 0;
}

void mount_table_free(struct mount_table *t)
{
        if (!t)
                return;
        mnt_unref_table(t->priv);
        free(t->entries);
        free(t);
}

const struct mount_info *mount_table_find_target(const struct mount_table *t, const char *path)
{
        for (size_t i = t->n; i > 0; i--)
                if (strcmp(t->entries[i - 1].target, path) == 0)
                        return &t->entries[i - 1];
        return NULL;
}

static bool mount_is_except(const struct mount_info *m, const char *except)
{
        return except && strcmp(m->target, except) == 0;
}

const struct mount_info *mount_table_find_devno(const struct mount_table *t, dev_t devno,
                                                const char *except)
{
        for (size_t i = 0; i < t->n; i++)
                if (t->entries[i].devno == devno && !mount_is_except(&t->entries[i], except))
                        return &t->entries[i];
        return NULL;
}

const struct mount_info *mount_table_find_node_bind(const struct mount_table *t,
                                                    const char *node_name, const char *except)
{
        for (size_t i = 0; i < t->n; i++) {
                const struct mount_info *m = &t->entries[i];

                bool dev_fs = strcmp(m->fstype, "devtmpfs") == 0 || strcmp(m->fstype, "tmpfs") == 0;

                if (!dev_fs || m->root[0] != '/')
                        continue;
                if (strcmp(m->root + 1, node_name) == 0 && !mount_is_except(m, except))
                        return m;
        }
        return NULL;
}

int mount_fs(const char *source, const char *target, const char *fstype, unsigned long flags,
             const char *data)
{
        if (mount(source, target, fstype, flags, data) < 0)
                return neg_errno();
        return 0;
}

static uint64_t mount_attr_of(unsigned long flags)
{
        uint64_t a = 0;

        a |= (flags & MS_RDONLY) ? MOUNT_ATTR_RDONLY : 0;
        a |= (flags & MS_NOSUID) ? MOUNT_ATTR_NOSUID : 0;
        a |= (flags & MS_NODEV) ? MOUNT_ATTR_NODEV : 0;
        a |= (flags & MS_NOEXEC) ? MOUNT_ATTR_NOEXEC : 0;
        a |= (flags & MS_NODIRATIME) ? MOUNT_ATTR_NODIRATIME : 0;
        if (flags & MS_NOATIME)
                a |= MOUNT_ATTR_NOATIME;
        else if (flags & MS_STRICTATIME)
                a |= MOUNT_ATTR_STRICTATIME;
        return a;
}

/* Returns -ENOSYS when the new mount API is missing so that the caller falls back. */
static int mount_bind_atomic(const char *source, const char *target, unsigned long flags)
{
        struct mount_attr attr = {.attr_set = mount_attr_of(flags)};
        _cleanup_close_ int fd = -1;

        if (flags & (MS_NOATIME | MS_STRICTATIME | MS_RELATIME))
                attr.attr_clr = MOUNT_ATTR__ATIME;
        fd = open_tree(AT_FDCWD, source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        if (fd < 0)
                return neg_errno();
        if (mount_setattr(fd, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
                return neg_errno();
        if (move_mount(fd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                return neg_errno();
        return 0;
}

static int mount_bind_twostep(const char *source, const char *target, unsigned long flags)
{
        int r;

        if (mount(source, target, NULL, MS_BIND, NULL) < 0)
                return neg_errno();
        if (mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | flags, NULL) < 0) {
                r = neg_errno();
                (void)umount2(target, UMOUNT_NOFOLLOW | MNT_DETACH);
                return r;
        }
        return 0;
}

int mount_bind(const char *source, const char *target, unsigned long flags)
{
        int r;

        if (flags & ~(unsigned long)MOUNT_BIND_FLAGS_MASK)
                return -EINVAL;
        if (flags == 0) {
                if (mount(source, target, NULL, MS_BIND, NULL) < 0)
                        return neg_errno();
                return 0;
        }
        r = mount_bind_atomic(source, target, flags);
        if (r == -ENOSYS)
                r = mount_bind_twostep(source, target, flags);
        return r;
}

int mount_umount(const char *target)
{
        if (umount2(target, UMOUNT_NOFOLLOW) < 0)
                return neg_errno();
        return 0;
}
