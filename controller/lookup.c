/* Loading a volume or snapshot by id for a request: below volumes.c and snapshots.c, which
 * each need the other's kind (a snapshot's source volume, a volume's source snapshot). A
 * malformed id is simply not found. */
#include "controller/controller.h"

#include "common/err.h"
#include "common/id.h"

int volumes_get(struct controller *c, const char *id, struct store_volume *ret)
{
        if (!id_is_valid(id))
                return controller_fail(-SILO_ENOTFOUND, "volume '%.80s' not found", id);
        int r = store_volume_load(c->pool, id, ret);
        if (r == -SILO_ENOTFOUND)
                return controller_fail(r, "volume '%s' not found", id);
        if (r < 0)
                return controller_fail(r, "cannot read metadata of volume '%s'", id);
        return 0;
}

int snapshots_get(struct controller *c, const char *id, struct store_snapshot *ret)
{
        if (!id_is_valid(id))
                return controller_fail(-SILO_ENOTFOUND, "snapshot '%.80s' not found", id);
        int r = store_snapshot_load(c->pool, id, ret);
        if (r == -SILO_ENOTFOUND)
                return controller_fail(r, "snapshot '%s' not found", id);
        if (r < 0)
                return controller_fail(r, "cannot read metadata of snapshot '%s'", id);
        return 0;
}
