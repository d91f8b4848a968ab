/* Freezing a staged volume's filesystem for a point-in-time copy (controller/quiesce.h). The
 * frozen filesystem is held by an fd on its mount's root, which FITHAW needs and which also
 * keeps an unmount from slipping in between. */
#include "node/freeze.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/log.h"
#include "node/mount.h"
#include "node/node.h"
#include "node/volstate.h"

static int freeze_open(const char *path)
{
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        return fd < 0 ? neg_errno() : fd;
}

int freeze_thaw_path(const char *path)
{
        _cleanup_close_ int fd = freeze_open(path);
        if (fd < 0)
                return fd;
        if (ioctl(fd, FITHAW, 0) == 0)
                return 1;
        return errno == EINVAL ? 0 : neg_errno();
}

/* The volume's loop device is in use at m: freeze the filesystem there. */
static int freeze_mount(const struct volstate *v, const struct mount_info *m, int *ret_fd)
{
        _cleanup_close_ int fd = freeze_open(m->target);
        if (fd < 0)
                return node_fail(fd, "cannot open '%s'", m->target);
        if (ioctl(fd, FIFREEZE, 0) < 0) {
                if (errno == EBUSY)
                        return node_fail(-SILO_EPENDING,
                                         "the filesystem of volume '%s' at '%s' is already frozen "
                                         "by someone else",
                                         v->meta.id, m->target);
                return node_fail(neg_errno(), "cannot freeze the filesystem of volume '%s' at '%s'",
                                 v->meta.id, m->target);
        }
        *ret_fd = TAKE_FD(fd);
        return 1;
}

static int freeze_volume(struct volstate *v, int *ret_fd)
{
        _cleanup_mount_table_ struct mount_table *t = NULL;
        const struct mount_info *m;
        int r = volstate_find_loop(v);
        if (r < 0 || !v->attached)
                return r;
        r = mount_table_load(&t);
        if (r < 0)
                return node_fail(r, "cannot read the mount table");
        m = mount_table_find_devno(t, v->loop.devno, NULL);
        if (m)
                return freeze_mount(v, m, ret_fd);
        m = mount_table_find_node_bind(t, v->loop.node + strlen("/dev/"), NULL);
        if (m)
                return node_fail(-SILO_EPRECOND,
                                 "volume '%s' is a raw block volume in use at '%s' (no filesystem "
                                 "to freeze)",
                                 v->meta.id, m->target);
        return 0; /* attached, but nothing mounts it: nobody writes through us */
}

int node_freeze(struct node *n, const char *volume_id, int *ret_fd)
{
        struct volstate v;
        int r = volstate_load(n, volume_id, &v);
        if (r == -SILO_ENOTFOUND)
                return 0;
        if (r < 0)
                return r;
        r = freeze_volume(&v, ret_fd);
        volstate_release(&v);
        return r;
}

void node_thaw(int fd)
{
        if (fd < 0)
                return;
        if (ioctl(fd, FITHAW, 0) < 0)
                log_warn("msg='cannot thaw a frozen volume: %s'", strerror(errno));
        close(fd);
}
