/* Mounts looked up by ID with statmount(2) (Linux 6.8): publish and unpublish read the two or
 * three mounts they look at instead of parsing all of /proc/self/mountinfo. Older kernels
 * answer -EOPNOTSUPP and the caller reads the whole table. */
#include "node/mount.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/cleanup.h"

/* From linux/mount.h and linux/stat.h of 6.8, which Debian 12's headers predate. */
#define MOUNTID_NR_STATMOUNT   457 /* the same number on every architecture */
#define MOUNTID_STATX_UNIQUE   0x4000U
#define MOUNTID_SB_BASIC       0x01U
#define MOUNTID_MNT_BASIC      0x02U
#define MOUNTID_MNT_ROOT       0x08U
#define MOUNTID_MNT_POINT      0x10U
#define MOUNTID_FS_TYPE        0x20U
#define MOUNTID_NEEDED         0x3bU
#define MOUNTID_ATTR_RDONLY    0x01U
#define MOUNTID_ATTR_NOSUID    0x02U
#define MOUNTID_ATTR_NODEV     0x04U
#define MOUNTID_ATTR_NOEXEC    0x08U
#define MOUNTID_ATTR_ATIME     0x70U
#define MOUNTID_ATTR_NOATIME   0x10U
#define MOUNTID_ATTR_STRICT    0x20U
#define MOUNTID_ATTR_NODIRTIME 0x80U
#define MOUNTID_BUF            4096

struct mountid_req {
        uint32_t size, spare;
        uint64_t mnt_id, param;
};

/* The fixed part of struct statmount: its strings start at byte 512. */
struct mountid_stat {
        uint32_t size, mnt_opts;
        uint64_t mask;
        uint32_t sb_dev_major, sb_dev_minor;
        uint64_t sb_magic;
        uint32_t sb_flags, fs_type;
        uint64_t mnt_id, mnt_parent_id;
        uint32_t mnt_id_old, mnt_parent_id_old;
        uint64_t mnt_attr, mnt_propagation, mnt_peer_group, mnt_master, propagate_from;
        uint32_t mnt_root, mnt_point;
        uint64_t spare[50];
        char str[];
};

static unsigned long mountid_flags(uint64_t attr)
{
        unsigned long f = 0;

        f |= attr & MOUNTID_ATTR_RDONLY ? MS_RDONLY : 0;
        f |= attr & MOUNTID_ATTR_NOSUID ? MS_NOSUID : 0;
        f |= attr & MOUNTID_ATTR_NODEV ? MS_NODEV : 0;
        f |= attr & MOUNTID_ATTR_NOEXEC ? MS_NOEXEC : 0;
        f |= attr & MOUNTID_ATTR_NODIRTIME ? MS_NODIRATIME : 0;
        if ((attr & MOUNTID_ATTR_ATIME) == MOUNTID_ATTR_NOATIME)
                f |= MS_NOATIME;
        else if ((attr & MOUNTID_ATTR_ATIME) == MOUNTID_ATTR_STRICT)
                f |= MS_STRICTATIME;
        else
                f |= MS_RELATIME;
        return f;
}

/* Reads the statmount record of the mount with unique ID id into buf (MOUNTID_BUF bytes). */
static int mountid_read(uint64_t id, char *buf)
{
        struct mountid_req req = {.size = sizeof(req), .mnt_id = id, .param = MOUNTID_NEEDED};
        const struct mountid_stat *s = (const struct mountid_stat *)buf;

        if (syscall(MOUNTID_NR_STATMOUNT, &req, buf, MOUNTID_BUF - 1, 0) < 0)
                return errno == ENOSYS ? -EOPNOTSUPP : neg_errno();
        return (s->mask & MOUNTID_NEEDED) == MOUNTID_NEEDED ? 0 : -EOPNOTSUPP;
}

/* The mount fd is the root of, as /proc/self/mountinfo would show it; *ret_buf owns the
 * strings. */
static int mountid_stat_fd(int fd, struct mount_info *ret, char **ret_buf)
{
        struct statx sx;
        const struct mountid_stat *s;
        char *buf;
        int r;

        if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, MOUNTID_STATX_UNIQUE, &sx) < 0)
                return neg_errno();
        if (!(sx.stx_mask & MOUNTID_STATX_UNIQUE))
                return -EOPNOTSUPP;
        buf = calloc(1, MOUNTID_BUF);
        if (!buf)
                return -ENOMEM;
        r = mountid_read(sx.stx_mnt_id, buf);
        if (r < 0) {
                free(buf);
                return r;
        }
        s = (const struct mountid_stat *)buf;
        *ret = (struct mount_info){
            .id = (int)s->mnt_id_old,
            .parent_id = (int)s->mnt_parent_id_old,
            .devno = makedev(s->sb_dev_major, s->sb_dev_minor),
            .root = s->str + s->mnt_root,
            .target = s->str + s->mnt_point,
            .source = "",
            .fstype = s->str + s->fs_type,
            .fs_options = "",
            .flags = mountid_flags(s->mnt_attr),
            .sb_readonly = s->sb_flags & 1, /* SB_RDONLY */
        };
        *ret_buf = buf;
        return 0;
}

int mount_table_load_at(const int *fds, size_t n, struct mount_table **ret)
{
        struct mount_table *t = calloc(1, sizeof(*t));
        int r = 0;

        if (!t || !(t->entries = calloc(n + 1, sizeof(*t->entries))) ||
            !(t->owned = calloc(n + 1, sizeof(*t->owned)))) {
                mount_table_free(t);
                return -ENOMEM;
        }
        for (size_t i = 0; r == 0 && i < n; i++) {
                if (fds[i] < 0)
                        continue;
                r = mountid_stat_fd(fds[i], &t->entries[t->n], &t->owned[t->n]);
                if (r == 0)
                        t->n++;
        }
        if (r < 0) {
                mount_table_free(t);
                return r;
        }
        *ret = t;
        return 0;
}
