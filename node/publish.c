#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "common/err.h"
#include "common/log.h"
#include "node/fs.h"
#include "node/mount.h"
#include "common/path.h"
#include "node/node.h"
#include "node/place.h"
#include "node/volstate.h"
#include "common/cleanup.h"

/* The per-mount flags a publish asks for, and its SELinux label ("" for none). */
static int publish_flags(const struct node_cap *cap, bool readonly, unsigned long *ret,
                         char *ret_context)
{
        struct mntflags o;
        int r = node_mount_flags(cap, &o);

        if (r < 0)
                return r;
        *ret = (o.flags & MNTFLAGS_BIND_MASK) | (readonly ? MS_RDONLY : 0);
        memcpy(ret_context, o.context, sizeof(o.context));
        return 0;
}

/* A bind mount shows its superblock's SELinux context and cannot change it: the label asked
 * must be the one the volume was staged with (kubelet sends the same at both). */
static int publish_check_context(const struct volstate *v, const struct volstate_mount *staged,
                                 const char *context)
{
        char have[MNTCONTEXT_MAX + 1] = "";

        if (!context[0] || staged->kind != VOLSTATE_FS ||
            mntcontext_options_match(staged->m->fs_options, context))
                return 0;
        (void)mntcontext_of_options(staged->m->fs_options, have);
        return node_fail(-SILO_EPRECOND,
                         "volume '%s' is staged %s%s%s, not with SELinux context '%s'; a bind "
                         "mount cannot change it (unstage and stage it with that context)",
                         v->meta.id,
                         have[0] ? "with SELinux context '" : "without an SELinux context", have,
                         have[0] ? "'" : "", context);
}

/* 1: already published at target with compatible options; 0: nothing there; <0: conflict. */
static int publish_check_target(const struct volstate *v, const struct mount_table *t,
                                const struct place *target, const struct volstate_mount *staged,
                                unsigned long flags)
{
        struct volstate_mount vm;
        unsigned long have, want;

        volstate_at(v, t, target, &vm);
        if (vm.kind == VOLSTATE_NONE)
                return 0;
        if (vm.kind == VOLSTATE_OTHER || vm.kind != staged->kind)
                return node_fail(-SILO_EPRECOND, "target path '%s' already holds another mount",
                                 target->path);
        have = vm.m->flags & MNTFLAGS_BIND_MASK;
        want = flags | (staged->m->flags & MS_RDONLY);
        if ((have & want) != want || ((have ^ want) & MS_RDONLY))
                return node_fail(-SILO_EEXISTS,
                                 "volume '%s' is already published at '%s' "
                                 "with other options",
                                 v->meta.id, target->path);
        return 1;
}

/* The target: a directory, or a file for a block volume. Some callers create a block target
 * as a directory: an empty one makes way. */
static int publish_make_target(struct place *target, bool block)
{
        if (block && target->type == S_IFDIR && !target->mnt_id &&
            unlinkat(target->dir, target->name, AT_REMOVEDIR) == 0) {
                close(target->fd);
                target->fd = -1;
                target->type = 0;
        }
        return place_make(target, block ? S_IFREG : S_IFDIR);
}

/* Binds the staged mount (its root fd) onto the target. */
static int publish_bind(int source_fd, const struct place *target, unsigned long flags)
{
        _cleanup_close_ int mnt = -1;
        struct statvfs sv;
        int r;

        r = mount_clone(source_fd, flags, &mnt);
        /* Read-only must be real: check what the kernel made of it before anybody sees it. */
        if (r == 0 && (flags & MS_RDONLY) && (fstatvfs(mnt, &sv) < 0 || !(sv.f_flag & ST_RDONLY)))
                return node_fail(-EIO, "bind mount for '%s' is not read-only", target->path);
        if (r == 0)
                r = mount_attach(mnt, target->fd);
        if (r < 0)
                return node_fail(r, "cannot bind-mount the volume at '%s'", target->path);
        return 0;
}

/* The mounts at the places (NULL or without a mount: skipped): read by mount ID where the
 * kernel can, else, or when every mount matters (whole), the whole table. */
static int publish_table(const struct place *const *places, size_t n, bool whole,
                         struct mount_table **ret)
{
        int fds[4];
        size_t k = 0;
        int r = -EOPNOTSUPP;

        for (size_t i = 0; i < n && k < ARRAY_SIZE(fds); i++)
                fds[k++] = places[i] && places[i]->mnt_id ? places[i]->fd : -1;
        if (!whole)
                r = mount_table_load_at(fds, k, ret);
        if (r < 0)
                r = mount_table_load(ret);
        return r < 0 ? node_fail(r, "cannot read the mount table") : 0;
}

/* The staged mount: the filesystem at the staging path, or the device bound on its file f. */
static int publish_staged(const struct volstate *v, const struct mount_table *t,
                          const struct place *p, bool block, const struct place *f,
                          struct volstate_mount *ret)
{
        volstate_at(v, t, block ? f : p, ret);
        if (ret->kind != (block ? VOLSTATE_NODE : VOLSTATE_FS))
                return node_fail(-SILO_EPRECOND, "volume '%s' is not staged at '%s'", v->meta.id,
                                 p->path);
        return 0;
}

/* fs_type as stage checks it: one we support, and the one the volume is staged with. */
static int publish_check_fs(const struct volstate *v, const struct node_cap *cap,
                            const struct volstate_mount *staged)
{
        const char *asked = cap->fs_type ? cap->fs_type : "";

        if (cap->block || !*asked)
                return 0;
        if (!fs_type_is_supported(asked))
                return node_fail(-SILO_EINVALID, "fs_type '%.32s' is not supported (ext4, xfs)",
                                 asked);
        if (staged && strcmp(staged->m->fstype, asked) != 0)
                return node_fail(-SILO_EPRECOND, "volume '%s' is staged as %s, not fs_type %s",
                                 v->meta.id, staged->m->fstype, asked);
        return 0;
}

/* SINGLE_NODE_SINGLE_WRITER: one target at a time (the staged mount is not one). */
static int publish_check_single(const struct volstate *v, const struct mount_table *t,
                                const struct node_cap *cap, const struct volstate_mount *staged)
{
        const struct mount_info *h;

        if (!cap->single_writer)
                return 0;
        h = volstate_holder(t, &staged->loop, staged->m->id, 0);
        if (h)
                return node_fail(-SILO_EPRECOND,
                                 "volume '%s' is SINGLE_NODE_SINGLE_WRITER and already published "
                                 "at '%s'",
                                 v->meta.id, h->target);
        return 0;
}

static int publish_volume(const struct volstate *v, const struct place *p, struct place *target,
                          const struct node_cap *cap, bool readonly)
{
        _cleanup_mount_table_ struct mount_table *t = NULL;
        struct place f = {.dir = -1, .fd = -1};
        struct volstate_mount staged;
        char context[MNTCONTEXT_MAX + 1];
        unsigned long flags;
        int r;

        r = publish_flags(cap, readonly, &flags, context);
        if (r == 0)
                r = publish_check_fs(v, cap, NULL);
        if (r < 0)
                return r;
        if (cap->block && p->fd >= 0)
                r = place_open_child(p, v->meta.id, &f);
        /* A single writer needs every mount of the device; a context, the staged mount's
         * options, which the table by ID does not carry. */
        if (r == 0)
                r = publish_table((const struct place *[]){p, &f, target}, 3,
                                  cap->single_writer || context[0], &t);
        if (r == 0)
                r = publish_staged(v, t, p, cap->block, &f, &staged);
        if (r == 0)
                r = publish_check_fs(v, cap, &staged);
        if (r == 0)
                r = publish_check_context(v, &staged, context);
        if (r == 0)
                r = publish_check_target(v, t, target, &staged, flags);
        if (r == 0) /* not yet at this target */
                r = publish_check_single(v, t, cap, &staged);
        if (r == 0)
                r = publish_make_target(target, cap->block);
        if (r == 0)
                r = publish_bind(cap->block ? f.fd : p->fd, target, flags);
        place_release(&f);
        return r < 0 ? r : 0;
}

static int publish_open(struct node *n, const char *staging, const char *target, struct place *p,
                        struct place *tp)
{
        int r;

        r = place_open(n, "staging path", staging, p);
        if (r < 0)
                return r;
        r = place_open(n, "target path", target, tp);
        if (r < 0) {
                place_release(p);
                return r;
        }
        if (path_is_within(tp->path, p->path) || path_is_within(p->path, tp->path))
                r = node_fail(-SILO_EINVALID, "target path '%s' overlaps the staging path",
                              tp->path);
        if (r == 0)
                r = volstate_check_outside(n, tp);
        if (r < 0) {
                place_release(p);
                place_release(tp);
        }
        return r;
}

int node_publish(struct node *n, const char *volume_id, const char *staging, const char *target,
                 const struct node_cap *cap, bool readonly)
{
        struct place p, tp;
        struct volstate v = {0};
        int r;

        r = publish_open(n, staging, target, &p, &tp);
        if (r < 0)
                return r;
        r = volstate_load(n, volume_id, &v);
        if (r == 0) {
                r = publish_volume(&v, &p, &tp, cap, readonly);
                if (r == 0)
                        known_add(n->known, volume_id, tp.path);
                volstate_release(&v);
        }
        place_release(&p);
        place_release(&tp);
        return r;
}

static int unpublish_volume(const struct volstate *v, struct place *target)
{
        _cleanup_mount_table_ struct mount_table *t = NULL;
        struct volstate_mount vm;
        int r;

        r = publish_table((const struct place *[]){target}, 1, false, &t);
        if (r < 0)
                return r;
        volstate_at(v, t, target, &vm);
        if (vm.kind == VOLSTATE_OTHER)
                return node_fail(-SILO_EPRECOND,
                                 "target path '%s' holds a mount that is not "
                                 "volume '%s'",
                                 target->path, v->meta.id);
        if (vm.kind != VOLSTATE_NONE) {
                r = place_umount(target);
                if (r < 0)
                        return r;
        }
        place_remove_empty(target);
        return 0;
}

static int unpublish_at(struct node *n, const struct volstate *v, struct place *tp)
{
        int r = unpublish_volume(v, tp);

        if (r == 0)
                known_remove(n->known, v->meta.id, tp->path);
        return r;
}

int node_unpublish(struct node *n, const char *volume_id, const char *target)
{
        struct place tp;
        struct volstate v = {0};
        int r;

        r = place_open(n, "target path", target, &tp);
        if (r < 0)
                return r;
        r = volstate_load(n, volume_id, &v);
        if (r == 0) {
                r = unpublish_at(n, &v, &tp);
                volstate_release(&v);
        }
        place_release(&tp);
        return r;
}

int node_unpublish_meta(struct node *n, struct store_volume *meta, const char *target)
{
        struct place tp;
        struct volstate v = {0};
        int r;

        r = volstate_of(n, meta, &v);
        if (r < 0)
                return r;
        r = place_open(n, "target path", target, &tp);
        if (r == 0) {
                r = unpublish_at(n, &v, &tp);
                place_release(&tp);
        }
        volstate_release(&v);
        return r;
}
