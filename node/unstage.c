#include <string.h>
#include <sys/stat.h>

#include "common/err.h"
#include "common/log.h"
#include "node/mount.h"
#include "node/node.h"
#include "node/place.h"
#include "node/volstate.h"
#include "common/cleanup.h"

/* Unmounts what the volume has at where (its staging mount or bound block file) unless
 * something else still uses the device. */
static int unstage_release(const struct volstate *v, const struct mount_table *t,
                           struct place *where, const struct volstate_mount *vm)
{
        const struct mount_info *h = volstate_holder(t, &vm->loop, where->mnt_id, 0);

        if (h)
                return node_fail(-SILO_EPRECOND, "volume '%s' is still mounted at '%s'", v->meta.id,
                                 h->target);
        return place_umount(where);
}

static int unstage_detach(const struct volstate *v, const struct mount_table *t, int released)
{
        const struct mount_info *h;
        int r;

        if (!v->attached)
                return 0;
        h = volstate_holder(t, &v->loop, released, 0);
        if (h) {
                log_debug("msg='loop device still used' device='%s' mount='%s'", v->loop.node,
                          h->target);
                return 0;
        }
        r = loop_detach(&v->loop);
        if (r < 0)
                return node_fail(r, "cannot detach '%s' from volume '%s'", v->loop.node,
                                 v->meta.id);
        return 0;
}

static int unstage_volume(struct volstate *v, const struct mount_table *t, struct place *p,
                          struct place *f)
{
        struct volstate_mount vm_file, vm_dir;
        struct volstate_mount *vm = NULL;
        struct place *where = NULL;
        int released = 0, r = 0;

        volstate_at(v, t, f, &vm_file);
        volstate_at(v, t, p, &vm_dir);
        if (vm_file.kind == VOLSTATE_NODE) {
                where = f;
                vm = &vm_file;
        } else if (vm_dir.kind == VOLSTATE_FS) {
                where = p;
                vm = &vm_dir;
        }
        if (where == p)
                place_release(f); /* inside the mount: its fds would keep it busy */
        if (where) {
                released = where->mnt_id;
                r = unstage_release(v, t, where, vm);
        }
        if (r < 0)
                return r;
        /* The file made for a block volume, never one inside a filesystem mounted there. */
        if (!p->mnt_id && (vm_file.kind == VOLSTATE_NODE || vm_file.kind == VOLSTATE_NONE))
                place_remove_empty(f);
        if (!v->attached && vm) /* the data file is gone: detach what was mounted */
                return loop_detach(&vm->loop);
        return unstage_detach(v, t, released);
}

static int unstage_open(struct volstate *v, struct place *p, struct place *f,
                        struct mount_table **ret_t)
{
        int r = 0;

        if (p->fd >= 0 && p->type == S_IFDIR)
                r = place_open_child(p, v->meta.id, f);
        if (r < 0)
                return r;
        r = mount_table_load(ret_t);
        if (r == 0)
                r = volstate_find_loop(v);
        if (r < 0)
                return node_fail(r, "cannot read the state of volume '%s'", v->meta.id);
        return 0;
}

int node_unstage(struct node *n, const char *volume_id, const char *staging)
{
        _cleanup_mount_table_ struct mount_table *t = NULL;
        struct place p, f = {.dir = -1, .fd = -1};
        struct volstate v = {0};
        int r;

        r = place_open(n, "staging path", staging, &p);
        if (r < 0)
                return r;
        r = volstate_load(n, volume_id, &v);
        if (r < 0) {
                place_release(&p);
                return r;
        }
        r = unstage_open(&v, &p, &f, &t);
        if (r == 0)
                r = unstage_volume(&v, t, &p, &f);
        if (r == 0)
                known_remove(n->known, volume_id, p.path);
        volstate_release(&v);
        place_release(&f);
        place_release(&p);
        return r;
}
