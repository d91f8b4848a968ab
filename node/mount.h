/* Mounts and the mount table. mount.c is the only file that includes libmount; mounts
 * themselves are made with the mount syscalls (never the mount/umount programs).
 * All functions are thread-safe; a struct mount_table belongs to one thread. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/mount.h>
#include <sys/types.h>

/* One line of /proc/self/mountinfo. Strings are borrowed from the table. */
struct mount_info {
        int id;
        int parent_id;
        dev_t devno;            /* st_dev of the mounted filesystem */
        const char *root;       /* path inside the filesystem that is mounted ("/" normally) */
        const char *target;     /* mount point */
        const char *source;     /* "/dev/loop3", "tmpfs", ... ("" when none) */
        const char *fstype;     /* "ext4", ... ("" when none) */
        const char *fs_options; /* superblock options as shown ("rw,nouuid") */
        unsigned long flags;    /* per-mount MS_* flags (MS_RDONLY, MS_NOSUID, ...) */
        bool sb_readonly;       /* the superblock itself is read-only */
};

struct mount_table {
        struct mount_info *entries; /* in mount order: later entries cover earlier ones */
        size_t n;
        void *priv;
};

/* Parses /proc/self/mountinfo once. Free with mount_table_free (accepts NULL). */
int mount_table_load(struct mount_table **ret);
void mount_table_free(struct mount_table *t);
static inline void mount_table_freep(struct mount_table **t)
{
        mount_table_free(*t);
}
#define _cleanup_mount_table_ __attribute__((cleanup(mount_table_freep)))

/* The topmost mount exactly at path (no canonicalisation), or NULL. */
const struct mount_info *mount_table_find_target(const struct mount_table *t, const char *path);

/* The first mount (in mount order) of the filesystem devno whose target is not except
 * (may be NULL), or NULL. */
const struct mount_info *mount_table_find_devno(const struct mount_table *t, dev_t devno,
                                                const char *except);

/* The first mount of a device node bind-mounted onto a file, i.e. a mount of a devtmpfs (or
 * of a tmpfs /dev in a container) whose root is "/<node_name>" ("loop3") and whose target is
 * not except, or NULL. */
const struct mount_info *mount_table_find_node_bind(const struct mount_table *t,
                                                    const char *node_name, const char *except);

/* mount(2) of a filesystem. flags are MS_* bits; data is the filesystem's option string
 * (may be NULL). */
int mount_fs(const char *source, const char *target, const char *fstype, unsigned long flags,
             const char *data);

/* Bind-mounts source onto target with the per-mount flags in flags (MS_RDONLY, MS_NOSUID,
 * MS_NODEV, MS_NOEXEC, MS_NOATIME, MS_NODIRATIME, MS_RELATIME, MS_STRICTATIME). With flags,
 * the new mount appears in the tree with them already set (open_tree + mount_setattr +
 * move_mount), so a crash can never leave a read-write mount where a read-only one was
 * asked; kernels without that API get MS_BIND then MS_REMOUNT|MS_BIND|flags (undone when
 * the remount fails). */
int mount_bind(const char *source, const char *target, unsigned long flags);

/* Unmounts the topmost mount at target, never following a symlink. -EINVAL when target is
 * not a mount point. */
int mount_umount(const char *target);

/* MS_* per-mount flags that mount_bind accepts. */
#define MOUNT_BIND_FLAGS_MASK                                                                      \
        (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME | \
         MS_STRICTATIME)
