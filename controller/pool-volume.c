/* The pool layer's volume operations: what volumes.c, attach.c and resize.c have decided
 * becomes data files, space accounting and committed metadata here, each operation's steps
 * in order in one function. Below: pool.c (space, temp files), quiesce.c (frozen copies),
 * index.c (the in-memory view), common/store (persistence). */
#include "controller/controller.h"

#include <errno.h>

#include "common/err.h"
#include "common/log.h"
#include "common/cleanup.h"
#include "common/server/testhook.h"
#include "controller/quiesce.h"

int pool_volume_save(struct controller *c, const struct store_volume *v)
{
        int r = store_volume_save(c->pool, v);
        return r < 0 ? r : index_put(c, v);
}

int pool_volume_save_attach(struct controller *c, struct store_volume *v)
{
        /* A .meta from before the slots, or records that outgrow them: rewritten whole (with
         * slots large enough for one more). */
        if (!store_volume_attach_fits(v))
                return pool_volume_save(c, v);
        _cleanup_close_ int fd = -1;
        int r = store_volume_attach_write(c->pool, v, &fd);
        if (r >= 0) {
                testhook_pause_at("AttachWritten"); /* tests crash the daemon here */
                r = store_volume_attach_sync(v, fd);
        }
        return r < 0 ? r : index_put(c, v);
}

static int pool_volume_reserve(struct controller *c, enum store_provisioning prov, uint64_t need)
{
        uint64_t avail = 0;
        int r = pool_available(c, prov, &avail);
        if (r < 0)
                return r;
        if (need > avail)
                return controller_fail(-SILO_ENOSPACE,
                                       "pool '%s' cannot hold %llu more bytes (%llu available "
                                       "for %s volumes)",
                                       c->pool, (unsigned long long)need, (unsigned long long)avail,
                                       prov == STORE_THICK ? "thick" : "thin");
        return 0;
}

/* Copies the source first (outside the space lock): the check then counts what it holds. */
static int pool_volume_fill(struct controller *c, int fd, const struct store_volume *v,
                            const struct pool_source *src)
{
        uint64_t have = 0;
        if (src) {
                int r = quiesce_copy(src->q, v->source_id, src->fd, fd, src->size);
                if (r < 0 && !err_is_private(r))
                        return controller_fail(r, "cannot copy source '%s'", v->source_id);
                if (r < 0)
                        return r;
                have = src->size;
        }
        pthread_mutex_lock(&c->space_lock);
        int r = pool_volume_reserve(c, v->provisioning, v->capacity_bytes - have);
        if (r >= 0)
                r = pool_allocate(fd, v->provisioning, v->provisioning == STORE_THICK ? 0 : have,
                                  v->capacity_bytes);
        if (r >= 0)
                pool_unbacked_adjust(c, (int64_t)pool_file_unbacked(fd));
        pthread_mutex_unlock(&c->space_lock);
        if (r == -ENOSPC)
                return controller_fail(-SILO_ENOSPACE, "pool '%s' is full", c->pool);
        if (r < 0 && !err_is_private(r))
                return controller_fail(r, "cannot allocate volume '%s'", v->id);
        return r;
}

int pool_volume_make(struct controller *c, struct store_volume *v, const struct pool_source *src)
{
        _cleanup_close_ int fd = -1;
        int r = pool_tmp_create(c, STORE_VOLUMES, v->id, &fd);
        if (r < 0)
                return r;
        r = pool_volume_fill(c, fd, v, src);
        if (r < 0) {
                pool_tmp_discard(c, STORE_VOLUMES, v->id);
                return r;
        }
        /* From here a failure takes back what pool_volume_fill() added to the unbacked sum. */
        int64_t unbacked = (int64_t)pool_file_unbacked(fd);
        r = pool_tmp_commit(c, STORE_VOLUMES, v->id, fd, src != NULL);
        if (r < 0) {
                pool_tmp_discard(c, STORE_VOLUMES, v->id);
                pool_unbacked_adjust(c, -unbacked);
                return r;
        }
        v->created_ns = controller_now_ns();
        r = pool_volume_save(c, v); /* the commit point */
        if (r < 0) {
                if (store_volume_remove(c->pool, v->id) >= 0)
                        index_drop(c, v->id, NULL);
                pool_unbacked_adjust(c, -unbacked);
                return controller_fail(r, "cannot write metadata of volume '%s'", v->id);
        }
        return 0;
}

int pool_volume_remove(struct controller *c, const char *id, int lock_fd)
{
        uint64_t unbacked = pool_file_unbacked(lock_fd);
        if (store_data_check(c->pool, STORE_VOLUMES, id) == -SILO_EPRECOND)
                log_warn("msg='deleting volume; its data file is foreign and stays untouched' "
                         "volume_id='%s' data='%s'",
                         id, store_data_what(c->pool, STORE_VOLUMES, id));
        int r = store_volume_remove(c->pool, id);
        if (r < 0)
                return controller_fail(r, "cannot remove volume '%s'", id);
        index_drop(c, id, &unbacked);
        pool_unbacked_adjust(c, -(int64_t)unbacked);
        return 0;
}
