#include "node/mount.h"

#include <fcntl.h>
#include <stdio.h>
#include <libmount.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "common/beneath.h"
#include "common/fileio.h"
#include "common/log.h"
#include "node/spawn.h"
#include "common/cleanup.h"
#include "common/seam.h"

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
        for (size_t i = 0; t->owned && i < t->n; i++)
                free(t->owned[i]);
        free(t->owned);
        free(t->entries);
        free(t);
}

const struct mount_info *mount_table_find_id(const struct mount_table *t, int id)
{
        for (size_t i = t->n; i > 0; i--)
                if (t->entries[i - 1].id == id)
                        return &t->entries[i - 1];
        return NULL;
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

/* The kernel explains a refused fsconfig in the context's message queue ("e ..."). */
static void mount_fs_why(int fsfd, char *why, size_t size)
{
        char msg[256];
        ssize_t n;

        if (!why || !size)
                return;
        n = read(fsfd, msg, sizeof(msg) - 1);
        while (n > 2 && msg[n - 1] == '\n')
                n--;
        if (n <= 2)
                return;
        msg[n] = '\0';
        snprintf(why, size, "%s", msg + 2);
}

/* One "key", "key=value" or key="value" of an option string: the quotes are mount(8)'s way
 * to hold commas in a value (context="...:s0:c1,c2"); fsconfig takes the bare value. */
static int mount_fs_option(int fsfd, const char *opt, size_t len)
{
        char key[320];
        char *value;
        size_t n;

        if (len == 0)
                return 0;
        if (len >= sizeof(key))
                return -EINVAL;
        memcpy(key, opt, len);
        key[len] = '\0';
        value = strchr(key, '=');
        if (value)
                *value++ = '\0';
        n = value ? strlen(value) : 0;
        if (n >= 2 && value[0] == '"' && value[n - 1] == '"') {
                value[n - 1] = '\0';
                value++;
        }
        if (strchr(key, '"') || (value && strchr(value, '"')))
                return -EINVAL;
        if (fsconfig(fsfd, value ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG, key, value, 0) < 0)
                return neg_errno();
        return 0;
}

/* Bytes of the option at o: up to the next comma outside double quotes. -EINVAL for an
 * unterminated quote. */
static int mount_fs_option_len(const char *o, size_t *ret)
{
        bool quoted = false;
        size_t i;

        for (i = 0; o[i] && (quoted || o[i] != ','); i++)
                if (o[i] == '"')
                        quoted = !quoted;
        if (quoted)
                return -EINVAL;
        *ret = i;
        return 0;
}

static int mount_fs_configure(int fsfd, const char *source, unsigned long flags,
                              const char *options)
{
        static const struct {
                unsigned long flag;
                const char *name;
        } sb[] = {{MS_RDONLY, "ro"},
                  {MS_SYNCHRONOUS, "sync"},
                  {MS_DIRSYNC, "dirsync"},
                  {MS_LAZYTIME, "lazytime"}};
        int r;

        if (fsconfig(fsfd, FSCONFIG_SET_STRING, "source", source, 0) < 0)
                return neg_errno();
        for (size_t i = 0; i < ARRAY_SIZE(sb); i++)
                if ((flags & sb[i].flag) &&
                    fsconfig(fsfd, FSCONFIG_SET_FLAG, sb[i].name, NULL, 0) < 0)
                        return neg_errno();
        for (const char *o = options; o && *o; o += *o == ',') {
                size_t len;

                r = mount_fs_option_len(o, &len);
                if (r == 0)
                        r = mount_fs_option(fsfd, o, len);
                if (r < 0)
                        return r;
                o += len;
        }
        if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return neg_errno();
        return 0;
}

SILO_SEAM int mount_fs_new(const char *source, const char *fstype, unsigned long flags,
                           const char *options, char *why, size_t why_size, int *ret_mnt)
{
        _cleanup_close_ int fsfd = fsopen(fstype, FSOPEN_CLOEXEC);
        unsigned int attr = (unsigned int)mount_attr_of(flags);
        int mnt, r;

        if (fsfd < 0)
                return neg_errno();
        r = mount_fs_configure(fsfd, source, flags, options);
        if (r < 0) {
                mount_fs_why(fsfd, why, why_size);
                return r;
        }
        mnt = fsmount(fsfd, FSMOUNT_CLOEXEC, attr);
        if (mnt < 0)
                return neg_errno();
        *ret_mnt = mnt;
        return 0;
}

bool mount_has_selinux(void)
{
        _cleanup_free_ char *list = NULL;
        size_t len;

        if (fileio_read_all("/proc/filesystems", 64 * 1024, &list, &len) < 0)
                return false;
        return strstr(list, "\tselinuxfs\n") != NULL;
}

SILO_SEAM int mount_clone(int fd, unsigned long flags, int *ret_mnt)
{
        struct mount_attr attr = {.attr_set = mount_attr_of(flags)};
        _cleanup_close_ int mnt = -1;

        if (flags & ~(unsigned long)MOUNT_BIND_FLAGS_MASK)
                return -EINVAL;
        if (flags & (MS_NOATIME | MS_STRICTATIME | MS_RELATIME))
                attr.attr_clr = MOUNT_ATTR__ATIME;
        mnt = open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
        if (mnt < 0)
                return neg_errno();
        if (flags && mount_setattr(mnt, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
                return neg_errno();
        *ret_mnt = TAKE_FD(mnt);
        return 0;
}

SILO_SEAM int mount_attach(int mnt, int target_fd)
{
        if (move_mount(mnt, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) <
            0)
                return neg_errno();
        return 0;
}

int mount_fd_stat(int fd, int *ret_id, bool *ret_is_root, struct stat *ret_st)
{
        struct statx sx;

        if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW,
                  STATX_MNT_ID | STATX_TYPE | STATX_INO, &sx) < 0)
                return neg_errno();
        if (!(sx.stx_mask & STATX_MNT_ID) || !(sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT))
                return -EOPNOTSUPP;
        *ret_id = (int)sx.stx_mnt_id;
        *ret_is_root = sx.stx_attributes & STATX_ATTR_MOUNT_ROOT;
        if (ret_st)
                *ret_st = (struct stat){
                    .st_mode = sx.stx_mode,
                    .st_ino = sx.stx_ino,
                    .st_dev = makedev(sx.stx_dev_major, sx.stx_dev_minor),
                };
        return 0;
}

int mount_fd_id(int fd, int *ret_id, bool *ret_is_root)
{
        return mount_fd_stat(fd, ret_id, ret_is_root, NULL);
}

#define MOUNT_BUSY_RETRIES 6 /* 1 + 2 + ... + 32 ms */

static void mount_sleep_ms(long ms)
{
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

SILO_SEAM int mount_umount_at(int dirfd, const char *name, int id)
{
        _cleanup_close_ int fd = beneath_open(dirfd, name, O_PATH, 0);
        char path[64 + 256];
        bool root = false;
        int have = 0;

        if (fd < 0 || mount_fd_id(fd, &have, &root) < 0 || !root || have != id)
                return -ESTALE;
        close(TAKE_FD(fd)); /* our own reference would make the mount busy */
        if ((size_t)snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", dirfd, name) >=
            sizeof(path))
                return -ENAMETOOLONG;
        /* A helper that another call is starting holds copies of the descriptors we have just
         * closed until its exec (spawn.h): the mount is busy only that long. A mount that is
         * still busy after the retries is in use. */
        for (int i = 0;; i++) {
                spawn_settle();
                if (umount2(path, UMOUNT_NOFOLLOW) == 0)
                        return 0;
                if (errno != EBUSY || i == MOUNT_BUSY_RETRIES)
                        return neg_errno();
                log_debug("msg='mount busy; retrying' path='%s' attempt=%d", path, i + 1);
                mount_sleep_ms(1L << i);
        }
}
