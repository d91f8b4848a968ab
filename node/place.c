#include "node/place.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "common/beneath.h"
#include "common/err.h"
#include "common/fileio.h"
#include "common/server/workq.h"
#include "node/mount.h"
#include "node/node.h"
#include "common/cleanup.h"

static int place_fail_open(const struct place *p, int r, const char *which)
{
        if (r == -ELOOP || r == -EXDEV)
                return node_fail(-SILO_EINVALID, "invalid %s: '%s' goes through a symlink", p->what,
                                 p->path);
        if (r == -ENOTDIR)
                return node_fail(-SILO_EINVALID, "invalid %s: '%s' goes through a file", p->what,
                                 p->path);
        return node_fail(r, "cannot open the %s of %s '%s'", which, p->what, p->path);
}

/* Fills type, dev, ino and mnt_id from fd (one statx). */
static int place_stat(struct place *p)
{
        struct stat st;
        bool root = false;
        int r;

        r = mount_fd_stat(p->fd, &p->mnt_id, &root, &st);
        if (r < 0)
                return node_fail(r, "cannot stat %s '%s'", p->what, p->path);
        p->type = st.st_mode & S_IFMT;
        p->dev = st.st_dev;
        p->ino = st.st_ino;
        if (p->type == S_IFLNK) /* O_PATH|O_NOFOLLOW opens a final symlink itself */
                return place_fail_open(p, -ELOOP, "object");
        if (!root)
                p->mnt_id = 0;
        return 0;
}

/* The object, or its parent when it does not exist, must not be the pool (a bind mount of
 * it). Fills parent_dev when that costs nothing more. */
static int place_check_pool(const struct node *n, struct place *p)
{
        struct stat st = {.st_dev = p->dev, .st_ino = p->ino};

        if (p->fd >= 0 && !p->mnt_id)
                p->parent_dev = p->dev; /* not a mount root: on its parent's filesystem */
        if (p->fd < 0) {
                if (p->dir < 0)
                        return 0;
                if (fstat(p->dir, &st) < 0)
                        return node_fail(neg_errno(), "cannot stat the parent of %s '%s'", p->what,
                                         p->path);
                p->parent_dev = st.st_dev;
        }
        if (st.st_dev == n->pool_dev && st.st_ino == n->pool_ino)
                return node_fail(-SILO_EINVALID, "invalid %s: path '%s' is the volume pool",
                                 p->what, p->path);
        return 0;
}

int place_parent_dev(const struct place *p, dev_t *ret)
{
        struct stat st;

        if (p->dir < 0)
                return -ENOENT;
        if (p->parent_dev == 0) {
                if (fstat(p->dir, &st) < 0)
                        return neg_errno();
                *ret = st.st_dev;
                return 0;
        }
        *ret = p->parent_dev;
        return 0;
}

/* Opens p->name in p->dir when it exists. */
static int place_open_object(struct place *p)
{
        p->fd = beneath_open(p->dir, p->name, O_PATH, 0);
        if (p->fd == -ENOENT) {
                p->fd = -1;
                return 0;
        }
        if (p->fd < 0) {
                int r = p->fd;

                p->fd = -1;
                return place_fail_open(p, r, "object");
        }
        return place_stat(p);
}

static int place_open_at(struct place *p, int base, const char *rel)
{
        char parent[4096];
        const char *slash = strrchr(rel, '/');
        size_t len = slash ? (size_t)(slash - rel) : 0;

        if (len >= sizeof(parent))
                return -ENAMETOOLONG;
        memcpy(parent, rel, len);
        parent[len] = '\0';
        p->dir = beneath_open(base, parent, O_PATH | O_DIRECTORY, 0);
        if (p->dir == -ENOENT) {
                p->dir = -1;
                return 0;
        }
        if (p->dir < 0) {
                int r = p->dir;

                p->dir = -1;
                return place_fail_open(p, r, "parent");
        }
        return place_open_object(p);
}

int place_open(const struct node *n, const char *what, const char *path, struct place *ret)
{
        struct place p = {.what = what, .dir = -1, .fd = -1};
        size_t klen = strlen(n->kubelet_real);
        const char *rel;
        int r;

        r = node_path_name(n, what, path, &p.path);
        if (r < 0)
                return r;
        /* node_path_name: strictly beneath the kubelet dir, normalised, its real prefix. */
        rel = p.path + klen + (klen > 1);
        p.name = strrchr(p.path, '/') + 1;
        r = place_open_at(&p, n->kubelet_fd, rel);
        if (r == 0)
                r = place_check_pool(n, &p);
        if (r < 0) {
                place_release(&p);
                return r;
        }
        *ret = p;
        return 0;
}

int place_open_child(const struct place *parent, const char *name, struct place *ret)
{
        struct place p = {.what = parent->what, .dir = -1, .fd = -1};
        int r;

        if (asprintf(&p.path, "%s/%s", parent->path, name) < 0)
                return -ENOMEM;
        p.name = strrchr(p.path, '/') + 1;
        p.dir = fcntl(parent->fd, F_DUPFD_CLOEXEC, 3);
        r = p.dir < 0 ? neg_errno() : place_open_object(&p);
        if (r < 0) {
                place_release(&p);
                return r;
        }
        *ret = p;
        return 0;
}

void place_release(struct place *p)
{
        if (p->fd >= 0)
                close(p->fd);
        if (p->dir >= 0)
                close(p->dir);
        free(p->path);
        *p = (struct place){.dir = -1, .fd = -1};
}

int place_make(struct place *p, mode_t type)
{
        int fd;

        if (p->dir < 0)
                return node_fail(-SILO_EPRECOND, "the parent directory of %s '%s' does not exist",
                                 p->what, p->path);
        if (p->fd < 0) {
                fd = type == S_IFDIR ? beneath_dir(p->dir, p->name, 0750, &p->made)
                                     : beneath_file(p->dir, p->name, 0600, &p->made);
                if (fd < 0)
                        return place_fail_open(p, fd, "object");
                p->fd = fd;
                fd = place_stat(p);
                if (fd < 0)
                        return fd;
        }
        if (p->type != type && !p->mnt_id)
                return node_fail(-SILO_EPRECOND, "%s '%s' is %s, not %s", p->what, p->path,
                                 fileio_type_name(p->type), fileio_type_name(type));
        return 0;
}

int place_umount(struct place *p)
{
        int r;

        /* fd is the mount's root: its reference alone would make the mount busy. */
        close(p->fd);
        p->fd = -1;
        r = mount_umount_at(p->dir, p->name, p->mnt_id);

        if (r == -ESTALE)
                return node_fail(-SILO_EPRECOND, "the mount at %s '%s' changed during the call",
                                 p->what, p->path);
        if (r == -EBUSY)
                return node_fail(-SILO_EPRECOND, "%s '%s' is busy", p->what, p->path);
        if (r < 0)
                return node_fail(r, "cannot unmount %s '%s'", p->what, p->path);
        p->fd = beneath_open(p->dir, p->name, O_PATH, 0);
        p->mnt_id = 0;
        if (p->fd < 0) {
                p->fd = -1;
                p->type = 0;
        } else if (place_stat(p) < 0) {
                node_why_clear();
        }
        return 0;
}

void place_remove_empty(struct place *p)
{
        bool removed;

        if (p->dir < 0)
                return;
        /* rmdir removes a directory only when empty and not mounted on: no need to reopen it */
        if (p->fd >= 0 && p->type == S_IFDIR)
                removed = unlinkat(p->dir, p->name, AT_REMOVEDIR) == 0;
        else
                removed = beneath_remove_empty(p->dir, p->name) > 0;
        if (!removed || p->fd < 0)
                return;
        /* The last reference to a removed directory frees its inode: not on the answer's path */
        workq_defer_close(p->fd);
        p->fd = -1;
        p->type = 0;
}
