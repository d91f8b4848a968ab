#include <string.h>

#include "common/log.h"
#include "node/freeze.h"
#include "node/mount.h"
#include "common/path.h"
#include "node/reconcile.h"
#include "node/volstate.h"
#include "common/cleanup.h"

struct reconcile_ctx {
        const struct node *n;
        const struct mount_table *t;
        int detached;
};

static bool reconcile_is_volume_file(const struct node *n, const char *backing)
{
        /* Only a path beneath the volumes dir may be indexed past its length. */
        if (!path_is_within(backing, n->volumes_dir))
                return false;
        const char *base = backing + strlen(n->volumes_dir);
        size_t len = strlen(base);
        return base[0] == '/' && !strchr(base + 1, '/') && len > 4 &&
               strcmp(base + len - 4, ".img") == 0;
}

/* Only a snapshot of ours freezes a volume; a crash in its frozen window leaves it frozen. */
static void reconcile_thaw(const struct reconcile_ctx *c, const struct loop_dev *d)
{
        const struct mount_info *fs = mount_table_find_devno(c->t, d->devno, NULL);
        int r = fs ? freeze_thaw_path(fs->target) : 0;
        if (r > 0)
                log_info("msg='thawed a filesystem left frozen' device='%s' mount='%s'", d->node,
                         fs->target);
        else if (r < 0)
                log_warn("msg='cannot thaw: %s' device='%s' mount='%s'", strerror(-r), d->node,
                         fs->target);
}

static int reconcile_visit(const struct loop_dev *d, const char *backing, bool deleted,
                           void *userdata)
{
        struct reconcile_ctx *c = userdata;
        const struct mount_info *m;
        int r;

        if (!reconcile_is_volume_file(c->n, backing))
                return 0;
        m = volstate_holder(c->t, d, 0, 0);
        if (m) {
                (void)loop_remember(d);
                reconcile_thaw(c, d);
                log_debug("msg='loop device in use' device='%s' file='%s' mount='%s'", d->node,
                          backing, m->target);
                return 0;
        }
        r = loop_detach(d);
        if (r < 0) {
                log_warn("msg='cannot detach unused loop device: %s' device='%s' file='%s'",
                         strerror(-r), d->node, backing);
                return 0;
        }
        log_info("msg='detached unused loop device' device='%s' file='%s'%s", d->node, backing,
                 deleted ? " deleted=true" : "");
        c->detached++;
        return 0;
}

int node_reconcile(struct node *n)
{
        _cleanup_mount_table_ struct mount_table *t = NULL;
        struct reconcile_ctx c = {.n = n};
        int r;

        r = mount_table_load(&t);
        if (r < 0)
                return node_fail(r, "cannot read the mount table");
        c.t = t;
        r = loop_foreach(reconcile_visit, &c);
        if (r < 0)
                return node_fail(r, "cannot list loop devices");
        return c.detached;
}
