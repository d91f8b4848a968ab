#include <string.h>
#include <sys/stat.h>

#include "common/err.h"
#include "common/log.h"
#include "node/mount.h"
#include "node/node.h"
#include "node/volstate.h"
#include "common/cleanup.h"

static int unstage_umount(const char *id, const char *where)
{
        int r = mount_umount(where);

        if (r == -EBUSY)
                return node_fail(-SILO_EPRECOND, "volume '%s' is busy at '%s'", id, where);
        if (r < 0 && r != -EINVAL)
                return node_fail(r, "cannot unmount '%s'", where);
        return 0;
}

/* Removes the file a block device was bound onto; only an empty regular file, ours. */
static void unstage_remove_file(const char *f)
{
        struct stat st;

        if (lstat(f, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0)
                (void)unlink(f);
}

/* Unmounts what the volume has at where (its staging mount or bound block file) unless
 * something else still uses the device. */
static int unstage_release(const struct volstate *v, const struct mount_table *t, const char *where,
                           const struct volstate_mount *vm)
{
        const struct mount_info *h = volstate_holder(t, &vm->loop, where, NULL);

        if (h)
                return node_fail(-SILO_EPRECOND, "volume '%s' is still mounted at '%s'", v->meta.id,
                                 h->target);
        return unstage_umount(v->meta.id, where);
}

static int unstage_detach(const struct volstate *v, const struct mount_table *t,
                          const char *released)
{
        const struct mount_info *h;
        int r;

        if (!v->attached)
                return 0;
        h = volstate_holder(t, &v->loop, released, NULL);
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

static int unstage_volume(struct volstate *v, const char *p, const char *f)
{
        _cleanup_mount_table_ struct mount_table *t = NULL;
        struct volstate_mount vm_file, vm_dir;
        const char *released = NULL;
        int r;

        r = mount_table_load(&t);
        if (r == 0)
                r = volstate_find_loop(v);
        if (r < 0)
                return node_fail(r, "cannot read the state of volume '%s'", v->meta.id);
        volstate_at(v, t, f, &vm_file);
        volstate_at(v, t, p, &vm_dir);
        if (vm_file.kind == VOLSTATE_NODE) {
                released = f;
                r = unstage_release(v, t, f, &vm_file);
        } else if (vm_dir.kind == VOLSTATE_FS) {
                released = p;
                r = unstage_release(v, t, p, &vm_dir);
        }
        if (r < 0)
                return r;
        if (vm_file.kind == VOLSTATE_NODE || vm_file.kind == VOLSTATE_NONE)
                unstage_remove_file(f);
        if (!v->attached && released) /* the data file is gone: detach what was mounted */
                return loop_detach(vm_file.kind == VOLSTATE_NODE ? &vm_file.loop : &vm_dir.loop);
        return unstage_detach(v, t, released);
}

int node_unstage(struct node *n, const char *volume_id, const char *staging)
{
        _cleanup_free_ char *p = NULL, *f = NULL;
        struct volstate v;
        int r;

        r = node_path(n, "staging path", staging, &p);
        if (r < 0)
                return r;
        r = volstate_load(n, volume_id, &v);
        if (r < 0)
                return r;
        r = volstate_block_stage_path(p, volume_id, &f);
        if (r == 0)
                r = unstage_volume(&v, p, f);
        if (r == 0)
                known_remove(n->known, volume_id, p);
        volstate_release(&v);
        return r;
}
