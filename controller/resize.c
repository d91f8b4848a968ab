/* Changes to an existing volume's data: ControllerExpandVolume and ControllerModifyVolume. */
#include "controller/controller.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "common/err.h"
#include "common/cleanup.h"

static int resize_open(struct controller *c, const char *id, int *ret_fd)
{
        return pool_data_open(c, STORE_VOLUMES, id, O_RDWR, ret_fd);
}

static int resize_grow(struct controller *c, struct store_volume *v, uint64_t size)
{
        _cleanup_close_ int fd = -1;
        int r = resize_open(c, v->id, &fd);
        if (r < 0)
                return r;
        uint64_t avail = 0;
        pthread_mutex_lock(&c->space_lock);
        r = pool_available(c, v->provisioning, &avail);
        if (r >= 0 && size - v->capacity_bytes > avail)
                r = controller_fail(-SILO_ENOSPACE,
                                    "pool '%s' cannot grow volume '%s' to %llu bytes", c->pool,
                                    v->id, (unsigned long long)size);
        uint64_t before = pool_file_unbacked(fd);
        if (r >= 0)
                r = pool_allocate(fd, v->provisioning, v->capacity_bytes, size);
        if (r >= 0)
                pool_unbacked_changed(c, v->id, (int64_t)pool_file_unbacked(fd) - (int64_t)before);
        pthread_mutex_unlock(&c->space_lock);
        if (r == -ENOSPC)
                return controller_fail(-SILO_ENOSPACE, "pool '%s' is full", c->pool);
        if (r >= 0 && fsync(fd) < 0)
                r = neg_errno();
        if (r < 0)
                return err_is_private(r) ? r : controller_fail(r, "cannot grow '%s'", v->id);
        v->capacity_bytes = size;
        r = pool_volume_save(c, v);
        return r < 0 ? controller_fail(r, "cannot write metadata of volume '%s'", v->id) : 0;
}

int volumes_expand(struct controller *c, const char *id, int64_t required, int64_t limit,
                   uint64_t *ret_capacity)
{
        if (required <= 0 && limit <= 0)
                return controller_fail(-SILO_EINVALID, "capacity_range is required");
        uint64_t size = 0;
        int r = pool_capacity_pick(required, limit, &size);
        if (r < 0)
                return r;
        _cleanup_close_ int lock = -1;
        struct store_volume v = {0};
        r = volumes_get(c, id, &v); /* validates id before any path */
        if (r < 0)
                return r;
        store_volume_release(&v);
        r = pool_lock_data(c, STORE_VOLUMES, id, &lock);
        if (r >= 0)
                r = volumes_get(c, id, &v);
        if (r < 0)
                return r;
        /* At or above the requested size already: OK with the current capacity (the spec's
         * SHOULD), unless a limit says the volume is too large, which no expansion fixes. */
        if (limit > 0 && v.capacity_bytes > (uint64_t)limit)
                r = controller_fail(-SILO_EOUTOFRANGE,
                                    "volume '%s' has %llu bytes, more than limit_bytes %lld", id,
                                    (unsigned long long)v.capacity_bytes, (long long)limit);
        else if (size > v.capacity_bytes)
                r = resize_grow(c, &v, size);
        if (r >= 0)
                *ret_capacity = v.capacity_bytes;
        store_volume_release(&v);
        return r;
}

static int resize_thicken(struct controller *c, struct store_volume *v)
{
        _cleanup_close_ int fd = -1;
        int r = resize_open(c, v->id, &fd);
        if (r < 0)
                return r;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return neg_errno();
        uint64_t alloc = (uint64_t)st.st_blocks * 512, avail = 0;
        uint64_t need = v->capacity_bytes > alloc ? v->capacity_bytes - alloc : 0;
        pthread_mutex_lock(&c->space_lock);
        r = pool_available(c, STORE_THICK, &avail);
        if (r >= 0 && need > avail)
                r = controller_fail(-SILO_ENOSPACE, "pool '%s' cannot fully allocate volume '%s'",
                                    c->pool, v->id);
        uint64_t before = pool_file_unbacked(fd);
        if (r >= 0)
                r = pool_allocate(fd, STORE_THICK, 0, v->capacity_bytes);
        if (r >= 0)
                pool_unbacked_changed(c, v->id, (int64_t)pool_file_unbacked(fd) - (int64_t)before);
        pthread_mutex_unlock(&c->space_lock);
        if (r == -ENOSPC)
                return controller_fail(-SILO_ENOSPACE, "pool '%s' is full", c->pool);
        if (r >= 0 && fsync(fd) < 0)
                r = neg_errno();
        if (r < 0)
                return err_is_private(r) ? r : controller_fail(r, "cannot allocate '%s'", v->id);
        v->provisioning = STORE_THICK;
        r = pool_volume_save(c, v);
        return r < 0 ? controller_fail(r, "cannot write metadata of volume '%s'", v->id) : 0;
}

int volumes_modify(struct controller *c, const char *id, const struct params *p)
{
        struct store_volume v = {0};
        int r = volumes_get(c, id, &v);
        if (r < 0)
                return r;
        store_volume_release(&v);
        _cleanup_close_ int lock = -1;
        r = pool_lock_data(c, STORE_VOLUMES, id, &lock);
        if (r >= 0)
                r = volumes_get(c, id, &v);
        if (r < 0)
                return r;
        if (p->has_provisioning && p->provisioning != v.provisioning) {
                if (p->provisioning == STORE_THIN)
                        r = controller_fail(-SILO_EINVALID,
                                            "volume '%s' is thick and cannot become thin", id);
                else
                        r = resize_thicken(c, &v);
        }
        store_volume_release(&v);
        return r;
}
