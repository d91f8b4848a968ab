#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "common/err.h"
#include "common/log.h"
#include "node/mount.h"
#include "common/path.h"
#include "node/mntopt.h"
#include "node/node.h"
#include "node/volstate.h"
#include "common/cleanup.h"

/* The per-mount flags a publish asks for. */
static int publish_flags(const struct node_cap *cap, bool readonly, unsigned long *ret)
{
        struct mntopt o;
        int r = mntopt_parse(cap->mount_flags, cap->n_mount_flags, &o);

        if (r < 0)
                return r;
        *ret = (o.flags & MNTOPT_BIND_MASK) | (readonly ? MS_RDONLY : 0);
        return 0;
}

/* 1: already published at target with compatible options; 0: nothing there; <0: conflict. */
static int publish_check_target(const struct volstate *v, const struct mount_table *t,
                                const char *target, const struct volstate_mount *staged,
                                unsigned long flags)
{
        struct volstate_mount vm;
        unsigned long have, want;

        volstate_at(v, t, target, &vm);
        if (vm.kind == VOLSTATE_NONE)
                return 0;
        if (vm.kind == VOLSTATE_OTHER || vm.kind != staged->kind)
                return node_fail(-SILO_EPRECOND, "target path '%s' already holds another mount",
                                 target);
        have = vm.m->flags & MNTOPT_BIND_MASK;
        want = flags | (staged->m->flags & MS_RDONLY);
        if ((have & want) != want || ((have ^ want) & MS_RDONLY))
                return node_fail(-SILO_EEXISTS,
                                 "volume '%s' is already published at '%s' "
                                 "with other options",
                                 v->meta.id, target);
        return 1;
}

static int publish_make_target(const char *target, bool block)
{
        int fd;

        if (!block) {
                if (mkdir(target, 0750) < 0 && errno != EEXIST)
                        return node_fail(neg_errno(), "cannot create target '%s'", target);
                return 0;
        }
        fd = open(target, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
        /* Some callers create the target as a directory: an empty one can make way. */
        if (fd < 0 && errno == EISDIR && rmdir(target) == 0)
                fd = open(target, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return node_fail(neg_errno(), "cannot create target file '%s'", target);
        close(fd);
        return 0;
}

static int publish_bind(const char *source, const char *target, unsigned long flags)
{
        _cleanup_mount_table_ struct mount_table *t = NULL;
        const struct mount_info *m;
        int r = mount_bind(source, target, flags);

        if (r < 0)
                return node_fail(r, "cannot bind-mount '%s' at '%s'", source, target);
        if (!(flags & MS_RDONLY))
                return 0;
        /* Read-only must be real: check what the kernel made of it. */
        r = mount_table_load(&t);
        m = r == 0 ? mount_table_find_target(t, target) : NULL;
        if (m && (m->flags & MS_RDONLY))
                return 0;
        (void)mount_umount(target);
        return node_fail(r < 0 ? r : -EIO, "bind mount at '%s' is not read-only", target);
}

static int publish_volume(const struct volstate *v, const char *p, const char *target,
                          const struct node_cap *cap, bool readonly)
{
        _cleanup_mount_table_ struct mount_table *t = NULL;
        _cleanup_free_ char *f = NULL;
        struct volstate_mount staged;
        unsigned long flags;
        int r;

        r = publish_flags(cap, readonly, &flags);
        if (r < 0)
                return r;
        if (cap->block && volstate_block_stage_path(p, v->meta.id, &f) < 0)
                return -ENOMEM;
        r = mount_table_load(&t);
        if (r < 0)
                return node_fail(r, "cannot read the mount table");
        volstate_at(v, t, cap->block ? f : p, &staged);
        if (staged.kind != (cap->block ? VOLSTATE_NODE : VOLSTATE_FS))
                return node_fail(-SILO_EPRECOND, "volume '%s' is not staged at '%s'", v->meta.id,
                                 p);
        r = publish_check_target(v, t, target, &staged, flags);
        if (r != 0)
                return r < 0 ? r : 0;
        r = publish_make_target(target, cap->block);
        if (r < 0)
                return r;
        return publish_bind(cap->block ? staged.loop.node : p, target, flags);
}

int node_publish(struct node *n, const char *volume_id, const char *staging, const char *target,
                 const struct node_cap *cap, bool readonly)
{
        _cleanup_free_ char *p = NULL, *tp = NULL;
        struct volstate v;
        int r;

        r = node_path(n, "staging path", staging, &p);
        if (r == 0)
                r = node_path(n, "target path", target, &tp);
        if (r < 0 || !p || !tp)
                return r < 0 ? r : -EINVAL;
        if (path_is_within(tp, p) || path_is_within(p, tp))
                return node_fail(-SILO_EINVALID, "target path '%s' overlaps the staging path", tp);
        r = volstate_check_outside(n, "target path", tp);
        if (r < 0)
                return r;
        r = volstate_load(n, volume_id, &v);
        if (r < 0)
                return r;
        r = publish_volume(&v, p, tp, cap, readonly);
        if (r == 0)
                known_add(n->known, volume_id, tp);
        volstate_release(&v);
        return r;
}

/* Removes what node_publish created: an empty directory or an empty regular file. */
static void unpublish_remove(const char *target)
{
        struct stat st;

        if (lstat(target, &st) < 0)
                return;
        if (S_ISDIR(st.st_mode))
                (void)rmdir(target);
        else if (S_ISREG(st.st_mode) && st.st_size == 0)
                (void)unlink(target);
}

static int unpublish_volume(const struct volstate *v, const char *target)
{
        _cleanup_mount_table_ struct mount_table *t = NULL;
        struct volstate_mount vm;
        int r;

        r = mount_table_load(&t);
        if (r < 0)
                return node_fail(r, "cannot read the mount table");
        volstate_at(v, t, target, &vm);
        if (vm.kind == VOLSTATE_OTHER)
                return node_fail(-SILO_EPRECOND,
                                 "target path '%s' holds a mount that is not "
                                 "volume '%s'",
                                 target, v->meta.id);
        if (vm.kind != VOLSTATE_NONE) {
                r = mount_umount(target);
                if (r == -EBUSY)
                        return node_fail(-SILO_EPRECOND, "target '%s' is busy", target);
                if (r < 0 && r != -EINVAL)
                        return node_fail(r, "cannot unmount '%s'", target);
        }
        unpublish_remove(target);
        return 0;
}

int node_unpublish(struct node *n, const char *volume_id, const char *target)
{
        _cleanup_free_ char *tp = NULL;
        struct volstate v;
        int r;

        r = node_path(n, "target path", target, &tp);
        if (r < 0)
                return r;
        r = volstate_load(n, volume_id, &v);
        if (r < 0)
                return r;
        r = unpublish_volume(&v, tp);
        if (r == 0)
                known_remove(n->known, volume_id, tp);
        volstate_release(&v);
        return r;
}
