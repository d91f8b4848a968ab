#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "node/mount.h"
#include "node/fs.h"
#include "node/node.h"
#include "node/place.h"
#include "node/volstate.h"
#include "common/cleanup.h"

static int expand_fs(const struct volstate *v, const struct volstate_mount *vm,
                     const struct place *p, struct node_expansion *e)
{
        char why[NODE_WHY_MAX - 128];
        const char *type = vm->m->fstype;
        int r;

        if (!fs_type_is_supported(type))
                return node_fail(-SILO_EPRECOND, "volume '%s' holds an unsupported '%s'",
                                 v->meta.id, type);
        /* xfs_growfs takes the mount point's name: the one place a name is used again. */
        r = fs_grow_online(vm->loop.node, p->path, type, why, sizeof(why));
        if (r == -EPERM && strcmp(type, "ext4") == 0) {
                /* resize2fs online needs CAP_SYS_RESOURCE; stage grows it offline. */
                e->fs_deferred = true;
                return 0;
        }
        if (r < 0)
                return node_fail(r, "cannot grow the filesystem of volume '%s': %s", v->meta.id,
                                 why);
        return 0;
}

static int expand_volume(const struct volstate *v, const struct place *p, bool block,
                         uint64_t required, struct node_expansion *ret)
{
        _cleanup_mount_table_ struct mount_table *t = NULL;
        struct node_expansion e = {0};
        struct volstate_mount vm;
        int r;

        r = mount_table_load(&t);
        if (r < 0)
                return node_fail(r, "cannot read the mount table");
        volstate_locate(v, t, p, &vm);
        if (vm.kind != VOLSTATE_FS && vm.kind != VOLSTATE_NODE)
                return node_fail(-SILO_ENOTFOUND,
                                 "volume '%s' is not staged or published at "
                                 "'%s'",
                                 v->meta.id, p->path);
        r = loop_set_capacity(&vm.loop, &e.capacity_bytes);
        if (r < 0)
                return node_fail(r, "cannot refresh the size of '%s'", vm.loop.node);
        if (required > e.capacity_bytes)
                return node_fail(-SILO_EOUTOFRANGE,
                                 "volume '%s' holds %llu bytes, less than "
                                 "the %llu asked; expand it on the "
                                 "controller first",
                                 v->meta.id, (unsigned long long)e.capacity_bytes,
                                 (unsigned long long)required);
        if (!block && vm.kind == VOLSTATE_FS) {
                r = expand_fs(v, &vm, p, &e);
                if (r < 0)
                        return r;
        }
        *ret = e;
        return 0;
}

int node_expand(struct node *n, const char *volume_id, const char *path, bool block,
                uint64_t required_bytes, struct node_expansion *ret)
{
        struct place p;
        struct volstate v = {0};
        int r;

        r = volstate_open(n, volume_id, path, &v, &p);
        if (r < 0)
                return r;
        r = expand_volume(&v, &p, block, required_bytes, ret);
        volstate_release(&v);
        place_release(&p);
        return r;
}
