/* The pool layer's snapshot and group operations: what snapshots.c and groups.c have decided
 * becomes data files and committed metadata here. Below: pool.c (temp files), quiesce.c
 * (frozen copies), common/store (persistence). */
#include "controller/controller.h"

#include <errno.h>

#include "common/err.h"
#include "common/cleanup.h"
#include "controller/quiesce.h"

static int pool_snapshot_copy(struct controller *c, const struct store_snapshot *s,
                              const struct pool_source *src)
{
        _cleanup_close_ int fd = -1;
        int r = pool_tmp_create(c, STORE_SNAPSHOTS, s->id, &fd);
        if (r < 0)
                return r;
        r = quiesce_copy(src->q, s->source_volume_id, src->fd, fd, s->size_bytes);
        if (r == -ENOSPC)
                r = controller_fail(-SILO_ENOSPACE, "pool '%s' is full", c->pool);
        else if (r < 0 && !err_is_private(r))
                r = controller_fail(r, "cannot copy volume '%s'", s->source_volume_id);
        if (r >= 0)
                r = pool_tmp_commit(c, STORE_SNAPSHOTS, s->id, fd, true);
        if (r < 0)
                pool_tmp_discard(c, STORE_SNAPSHOTS, s->id);
        return r;
}

int pool_snapshot_make(struct controller *c, struct store_snapshot *s,
                       const struct pool_source *src)
{
        int r = pool_snapshot_copy(c, s, src);
        if (r < 0)
                return r;
        s->created_ns = controller_now_ns();
        r = store_snapshot_save(c->pool, s); /* the commit point */
        if (r < 0) {
                store_snapshot_remove(c->pool, s->id);
                return controller_fail(r, "cannot write metadata of snapshot '%s'", s->id);
        }
        return 0;
}

int pool_snapshot_remove(struct controller *c, const char *id)
{
        return store_snapshot_remove(c->pool, id);
}

int pool_group_save(struct controller *c, const struct store_group *g)
{
        return store_group_save(c->pool, g);
}

int pool_group_remove(struct controller *c, const char *id)
{
        return store_group_remove(c->pool, id);
}
