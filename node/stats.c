#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "common/err.h"
#include "node/health.h"
#include "node/mount.h"
#include "node/node.h"
#include "node/place.h"
#include "node/volstate.h"
#include "common/cleanup.h"

static void stats_abnormal(struct node_stats *s, const char *what, const char *path)
{
        if (s->abnormal)
                return;
        s->abnormal = true;
        snprintf(s->condition, sizeof(s->condition), "%s '%s'", what, path);
}

static void stats_condition(struct node *n, const struct volstate *v,
                            const struct volstate_mount *vm, const struct mount_table *t,
                            struct node_stats *s)
{
        int r = store_data_check(v->pool, STORE_VOLUMES, v->meta.id);

        if (vm->deleted || r == -ENOENT)
                stats_abnormal(s, "backing file is missing:", v->data_path);
        else if (r < 0)
                stats_abnormal(s, "backing file is not a regular file of the pool:", v->data_path);
        if (s->abnormal)
                return;
        if (vm->kind == VOLSTATE_FS &&
            health_fs(v->meta.id, &vm->loop, t, s->condition, sizeof(s->condition)) > 0) {
                s->abnormal = true;
                return;
        }
        if (health_repaired(v->meta.id, v->data_path, s->condition, sizeof(s->condition)) > 0 ||
            health_pool(n, v->meta.id, v->data_path, s->condition, sizeof(s->condition)) > 0)
                s->abnormal = true;
}

static int stats_fs(const struct place *p, struct node_stats *s)
{
        struct statvfs sv;

        if (fstatvfs(p->fd, &sv) < 0)
                return node_fail(neg_errno(), "cannot stat filesystem at '%s'", p->path);
        s->bytes_total = (uint64_t)sv.f_blocks * sv.f_frsize;
        s->bytes_available = (uint64_t)sv.f_bavail * sv.f_frsize;
        s->bytes_used = (uint64_t)(sv.f_blocks - sv.f_bfree) * sv.f_frsize;
        s->inodes_total = sv.f_files;
        s->inodes_free = sv.f_ffree;
        s->inodes_used = sv.f_files - sv.f_ffree;
        return 0;
}

/* Nothing is mounted at p: abnormal when this process put the volume there, else not ours. */
static int stats_unmounted(struct node *n, const struct volstate *v, const char *p,
                           struct node_stats *s)
{
        if (!known_has(n->known, v->meta.id, p))
                return node_fail(-SILO_ENOTFOUND,
                                 "volume '%s' is not staged or published at "
                                 "'%s'",
                                 v->meta.id, p);
        stats_abnormal(s, "volume is no longer mounted at", p);
        return 0;
}

static int stats_volume(struct node *n, struct volstate *v, const struct place *p,
                        struct node_stats *ret)
{
        _cleanup_mount_table_ struct mount_table *t = NULL;
        struct node_stats s = {0};
        struct volstate_mount vm;
        int r;

        r = mount_table_load(&t);
        if (r < 0)
                return node_fail(r, "cannot read the mount table");
        volstate_locate(v, t, p, &vm);
        if (vm.kind == VOLSTATE_OTHER)
                return node_fail(-SILO_ENOTFOUND, "'%s' does not hold volume '%s'", p->path,
                                 v->meta.id);
        if (vm.kind == VOLSTATE_NONE)
                r = stats_unmounted(n, v, p->path, &s);
        else if (vm.kind == VOLSTATE_FS)
                r = stats_fs(p, &s);
        else {
                s.block = true;
                r = loop_size(&vm.loop, &s.bytes_total);
        }
        if (r < 0)
                return r;
        if (vm.kind != VOLSTATE_NONE)
                stats_condition(n, v, &vm, t, &s);
        *ret = s;
        return 0;
}

int node_stats(struct node *n, const char *volume_id, const char *path, struct node_stats *ret)
{
        struct place p;
        struct volstate v = {0};
        int r;

        r = volstate_open(n, volume_id, path, &v, &p);
        if (r < 0)
                return r;
        r = stats_volume(n, &v, &p, ret);
        volstate_release(&v);
        place_release(&p);
        return r;
}
