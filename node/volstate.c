#include "node/volstate.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/err.h"
#include "common/path.h"
#include "common/cleanup.h"

int volstate_load(const struct node *n, const char *id, struct volstate *ret)
{
        struct store_volume meta = {0};
        int r;

        r = store_volume_load(n->pool, id, &meta);
        if (r == -SILO_ENOTFOUND)
                return node_fail(r, "volume '%s' does not exist", id);
        if (r < 0)
                return node_fail(r, "cannot read volume '%s'", id);
        return volstate_of(n, &meta, ret);
}

int volstate_of(const struct node *n, struct store_volume *meta, struct volstate *ret)
{
        struct volstate v = {.meta = *meta};
        int r;

        *meta = (struct store_volume){0};
        r = store_volume_data_path(n->pool, v.meta.id, &v.data_path);
        if (r < 0) {
                r = node_fail(r, "cannot locate volume '%s'", v.meta.id);
                store_volume_release(&v.meta);
                return r;
        }
        v.pool = n->pool;
        *ret = v;
        return 0;
}

static int volstate_data_fail(const struct volstate *v, int r)
{
        if (r == -SILO_EPRECOND)
                return node_fail(r,
                                 "the data file of volume '%s' is %s, not a regular file of the "
                                 "pool; silo never attaches or formats it",
                                 v->meta.id, store_data_what(v->pool, STORE_VOLUMES, v->meta.id));
        if (r == -ENOENT)
                return node_fail(-SILO_EPRECOND, "the data file of volume '%s' is missing",
                                 v->meta.id);
        return node_fail(r, "cannot open the data file of volume '%s'", v->meta.id);
}

int volstate_data_check(const struct volstate *v)
{
        int r = store_data_check(v->pool, STORE_VOLUMES, v->meta.id);

        return r < 0 ? volstate_data_fail(v, r) : 0;
}

int volstate_data_open(const struct volstate *v, int *ret_fd)
{
        int r = store_data_open(v->pool, STORE_VOLUMES, v->meta.id, O_RDWR, ret_fd);

        return r < 0 ? volstate_data_fail(v, r) : 0;
}

void volstate_release(struct volstate *v)
{
        store_volume_release(&v->meta);
        free(v->data_path);
        v->data_path = NULL;
}

int volstate_open(const struct node *n, const char *id, const char *path, struct volstate *ret,
                  struct place *ret_place)
{
        struct volstate v = {0};
        int r = volstate_load(n, id, &v);

        if (r < 0)
                return r;
        /* The volume is known: a path it cannot be at is where it is not. */
        r = place_open(n, "volume path", path, ret_place);
        if (r == -SILO_EINVALID)
                r = node_fail(-SILO_ENOTFOUND, "volume '%s' is not staged or published at '%.256s'",
                              id, path);
        if (r < 0) {
                volstate_release(&v);
                return r;
        }
        *ret = v;
        return 0;
}

int volstate_find_loop(struct volstate *v)
{
        int r;

        v->attached = false;
        if (store_data_check(v->pool, STORE_VOLUMES, v->meta.id) == -SILO_EPRECOND)
                return 0;
        r = loop_find(v->data_path, &v->loop);
        v->attached = r == 0;
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return node_fail(r, "cannot look up the loop device of '%s'", v->data_path);
        return 0;
}

/* The loop device a mount uses: the filesystem's device or the bound device node. */
static int volstate_mount_loop(const struct mount_info *m, const struct place *p,
                               struct loop_dev *ret)
{
        struct stat st;

        if (strcmp(m->fstype, "devtmpfs") == 0 || strcmp(m->fstype, "tmpfs") == 0) {
                if (fstat(p->fd, &st) < 0 || !S_ISBLK(st.st_mode))
                        return -ENODEV;
                return loop_from_devno(st.st_rdev, ret);
        }
        return loop_from_devno(m->devno, ret);
}

static bool volstate_is_ours(const struct volstate *v, const struct loop_dev *l, bool *deleted)
{
        _cleanup_free_ char *backing = NULL;
        struct stat st;
        bool gone = false;

        *deleted = false;
        /* Backed by the inode at data_path: ours, without reading sysfs. */
        if (lstat(v->data_path, &st) == 0 && S_ISREG(st.st_mode) && loop_has_backing_inode(l, &st))
                return true;
        /* Else only when it is backed by our path's file, deleted since. data_path is canonical
         * (as the kernel reports backing paths): no realpath. */
        if (loop_backing_file(l, &backing, &gone) < 0 || !gone ||
            strcmp(backing, v->data_path) != 0)
                return false;
        *deleted = true;
        return true;
}

void volstate_at(const struct volstate *v, const struct mount_table *t, const struct place *p,
                 struct volstate_mount *ret)
{
        struct volstate_mount vm = {.kind = VOLSTATE_OTHER};

        vm.m = p->mnt_id ? mount_table_find_id(t, p->mnt_id) : NULL;
        if (!vm.m)
                vm.kind = VOLSTATE_NONE;
        else if (volstate_mount_loop(vm.m, p, &vm.loop) == 0 &&
                 volstate_is_ours(v, &vm.loop, &vm.deleted))
                vm.kind = vm.m->devno == vm.loop.devno ? VOLSTATE_FS : VOLSTATE_NODE;
        *ret = vm;
}

void volstate_locate(const struct volstate *v, const struct mount_table *t, const struct place *p,
                     struct volstate_mount *ret)
{
        struct place f = {.dir = -1, .fd = -1};
        struct volstate_mount vm;

        volstate_at(v, t, p, ret);
        if (ret->kind != VOLSTATE_NONE || p->fd < 0 || p->type != S_IFDIR ||
            place_open_child(p, v->meta.id, &f) < 0)
                return;
        volstate_at(v, t, &f, &vm);
        place_release(&f);
        if (vm.kind == VOLSTATE_NODE)
                *ret = vm;
}

const struct mount_info *volstate_holder(const struct mount_table *t, const struct loop_dev *l,
                                         int except1, int except2)
{
        const char *name = l->node + strlen("/dev/");

        for (size_t i = 0; i < t->n; i++) {
                const struct mount_info *m = &t->entries[i];
                bool dev_fs = strcmp(m->fstype, "devtmpfs") == 0 || strcmp(m->fstype, "tmpfs") == 0;
                bool uses = m->devno == l->devno ||
                            (dev_fs && m->root[0] == '/' && strcmp(m->root + 1, name) == 0);

                if (!uses)
                        continue;
                if ((except1 && m->id == except1) || (except2 && m->id == except2))
                        continue;
                return m;
        }
        return NULL;
}

int volstate_check_outside(const struct node *n, const struct place *p)
{
        _cleanup_free_ char *backing = NULL;
        struct loop_dev l;
        dev_t dev;

        if (place_parent_dev(p, &dev) < 0 || loop_from_devno(dev, &l) < 0 ||
            loop_backing_file(&l, &backing, NULL) < 0)
                return 0;
        if (path_is_within(backing, n->volumes_dir))
                return node_fail(-SILO_EINVALID, "%s '%s' is inside a volume", p->what, p->path);
        return 0;
}
