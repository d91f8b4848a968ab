/* Mounts and the mount table. mount.c is the only file that includes libmount; mounts
 * themselves are made with the mount syscalls (never the mount/umount programs).
 * All functions are thread-safe; a struct mount_table belongs to one thread. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/mount.h>
#include <sys/stat.h>
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
        char **owned; /* mount_table_load_at: each entry's strings */
};

/* Parses /proc/self/mountinfo once. Free with mount_table_free (accepts NULL). */
int mount_table_load(struct mount_table **ret);
/* A table of just the mounts whose roots fds (an fd of -1 is skipped) are, read by mount ID
 * with statmount(2) instead of parsing every mount: source and fs_options are "". Kernels
 * without statmount (before 6.8): -EOPNOTSUPP, then read the whole table. */
int mount_table_load_at(const int *fds, size_t n, struct mount_table **ret);
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

/* The topmost mount with mountinfo id id, or NULL. */
const struct mount_info *mount_table_find_id(const struct mount_table *t, int id);

/* Mounts are made and removed through fds (the new mount API), never through a path looked
 * up again: a mount is built detached, then attached onto the object an fd refers to. */

/* A new detached mount of fstype on source (fsopen/fsconfig/fsmount). options: the
 * filesystem's comma-separated options ("nouuid,discard", "size=1m"; may be NULL); as in
 * mount(8), a value in double quotes may hold commas (context="u:r:t:s0:c1,c2") and reaches
 * the kernel without its quotes; any other quote is -EINVAL. flags:
 * MS_RDONLY (the superblock and the mount), MS_SYNCHRONOUS, MS_DIRSYNC, MS_LAZYTIME (the
 * superblock) and the per-mount MOUNT_BIND_FLAGS_MASK bits. *ret_mnt is visible nowhere until
 * mount_attach. The kernel's own message, when it gave one, goes into why (may be NULL). */
int mount_fs_new(const char *source, const char *fstype, unsigned long flags, const char *options,
                 char *why, size_t why_size, int *ret_mnt);

/* True when the kernel runs SELinux, and so takes the context= option of mount_fs_new. It
 * registers selinuxfs only when SELinux is enabled at boot, and /proc/filesystems is the
 * kernel's own list, the same in any container. */
bool mount_has_selinux(void);

/* A detached clone (open_tree OPEN_TREE_CLONE) of the mount whose root fd is, with the
 * per-mount flags in flags (MOUNT_BIND_FLAGS_MASK) already set: a crash can never leave a
 * read-write mount where a read-only one was asked. -EINVAL for other flags. */
int mount_clone(int fd, unsigned long flags, int *ret_mnt);

/* Attaches the detached mount mnt onto the file or directory target_fd refers to
 * (move_mount MOVE_MOUNT_T_EMPTY_PATH). */
int mount_attach(int mnt, int target_fd);

/* The mountinfo id of the mount fd is on, and whether fd is that mount's root: opened through
 * a mount point, fd is the root of the topmost mount there. */
int mount_fd_id(int fd, int *ret_id, bool *ret_is_root);
/* mount_fd_id, and with the same statx the object's type, inode and device (only st_mode,
 * st_ino and st_dev of *ret_st are set). */
int mount_fd_stat(int fd, int *ret_id, bool *ret_is_root, struct stat *ret_st);

/* Unmounts the topmost mount at name in directory dirfd when it is still mount id, checked
 * through a fresh open of name just before (a mount point cannot be renamed or removed in
 * our namespace meanwhile); UMOUNT_NOFOLLOW. -ESTALE when another mount or none is there;
 * otherwise as umount2 (-EBUSY). */
int mount_umount_at(int dirfd, const char *name, int id);

/* MS_* per-mount flags that mount_clone accepts. */
#define MOUNT_BIND_FLAGS_MASK                                                                      \
        (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME | \
         MS_STRICTATIME)
