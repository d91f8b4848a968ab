/* Snapshots: a reflink (or sparse copy) of a volume's data file into snapshots/, so that a
 * snapshot stays valid after its source volume is deleted. */
#include "controller/controller.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "common/err.h"
#include "common/str.h"
#include "common/cleanup.h"
#include "controller/quiesce.h"

/* 1 and ret filled when snapshot id exists for the same name and source. */
static int snapshots_existing(struct controller *c, const char *id, const char *name,
                              const char *source_id, struct store_snapshot *ret)
{
        struct store_snapshot s = {0};
        int r = store_snapshot_load(c->pool, id, &s);
        if (r == -SILO_ENOTFOUND)
                return 0;
        if (r < 0)
                return controller_fail(r, "cannot read snapshot '%s'", id);
        if (strcmp(s.name, name) != 0 || strcmp(s.source_volume_id, source_id) != 0) {
                r = controller_fail(-SILO_EEXISTS, "snapshot '%s' already exists for volume '%s'",
                                    name, s.source_volume_id);
                store_snapshot_release(&s);
                return r;
        }
        *ret = s;
        return 1;
}

int snapshots_take(struct controller *c, const char *id, const char *name,
                   const struct store_volume *src, int src_fd, const char *group_id,
                   struct quiesce *q, struct store_snapshot *ret)
{
        int r = snapshots_existing(c, id, name, src->id, ret);
        if (r != 0)
                return r < 0 ? r : 0;
        struct store_snapshot s = {.size_bytes = src->capacity_bytes};
        if (STR_COPY(s.id, id) < 0 || STR_COPY(s.group_id, group_id) < 0)
                return controller_fail(-SILO_EINVALID, "snapshot or group id is too long");
        memcpy(s.source_volume_id, src->id, sizeof(s.source_volume_id));
        memcpy(s.fs_type, src->fs_type, sizeof(s.fs_type));
        s.name = strdup(name);
        if (!s.name)
                return -ENOMEM;
        struct pool_source from = {.fd = src_fd, .size = s.size_bytes, .q = q};
        r = pool_snapshot_make(c, &s, &from);
        if (r < 0) {
                store_snapshot_release(&s);
                return r;
        }
        *ret = s;
        return 0;
}

/* Opens the volume's data for copying. */
int snapshots_open_source(struct controller *c, const char *volume_id, int *ret_fd)
{
        return pool_data_open(c, STORE_VOLUMES, volume_id, O_RDONLY, ret_fd);
}

int snapshots_create(struct controller *c, const char *name, const char *source_id,
                     const char *group_id, struct store_snapshot *ret)
{
        char id[STORE_ID_MAX + 1];
        int r = id_from_name("snap", name, id, sizeof(id));
        if (r < 0)
                return r;
        /* The name decides first: same name, other source is ALREADY_EXISTS even when that
         * source is gone. */
        r = snapshots_existing(c, id, name, source_id, ret);
        if (r != 0)
                return r < 0 ? r : 0;
        struct store_volume v = {0};
        r = volumes_get(c, source_id, &v);
        if (r < 0)
                return controller_fail(r, "source volume '%.80s' not found", source_id);
        _cleanup_close_ int fd = -1;
        struct quiesce *q = NULL;
        r = snapshots_open_source(c, v.id, &fd);
        if (r >= 0)
                r = quiesce_begin(c, &v, 1, &q);
        if (r >= 0)
                r = snapshots_take(c, id, name, &v, fd, group_id, q, ret);
        quiesce_end(q);
        store_volume_release(&v);
        return r;
}

int snapshots_delete(struct controller *c, const char *id)
{
        if (!id_is_valid(id))
                return 0;
        struct store_snapshot s = {0};
        int r = store_snapshot_load(c->pool, id, &s);
        if (r == -SILO_ENOTFOUND)
                return 0;
        if (r < 0)
                return controller_fail(r, "cannot read snapshot '%s'", id);
        if (s.group_id[0])
                r = controller_fail(-SILO_EPRECOND,
                                    "snapshot '%s' belongs to group snapshot '%s': delete the "
                                    "group",
                                    id, s.group_id);
        store_snapshot_release(&s);
        if (r >= 0 && (r = pool_snapshot_remove(c, id)) < 0)
                r = controller_fail(r, "cannot remove snapshot '%s'", id);
        return r;
}
