/* Attach decisions (ControllerPublishVolume / ControllerUnpublishVolume), recorded in each
 * volume's metadata under the flock of its data file, so that two driver instances sharing a
 * pool see each other's decisions. A decision is one in-place slot write and one flush
 * (pool_volume_save_attach). */
#include "controller/controller.h"

#include <string.h>

#include "common/err.h"
#include "common/str.h"
#include "common/cleanup.h"

bool attach_node_is_known(struct controller *c, const char *node_id)
{
        if (!id_node_is_valid(node_id))
                return false;
        if (strcmp(node_id, c->node_id) == 0)
                return true;
        return c->scope == CONFIG_SCOPE_SHARED && store_node_is_known(c->pool, node_id);
}

/* Volumes published to node_id across the pool (only scanned when a limit is set). */
static int attach_count(struct controller *c, const char *node_id, uint64_t *ret)
{
        if (c->index) {
                *ret = index_count_published(c->index, node_id);
                return 0;
        }
        store_id_t *ids = NULL;
        size_t n = 0;
        int r = store_list_ids(c->pool, STORE_VOLUMES, &ids, &n);
        if (r < 0)
                return controller_fail(r, "cannot list pool '%s'", c->pool);
        uint64_t count = 0;
        for (size_t i = 0; i < n; i++) {
                struct store_volume v = {0};
                if (store_volume_load(c->pool, ids[i], &v) < 0)
                        continue;
                for (size_t j = 0; j < v.n_published; j++)
                        count += strcmp(v.published[j].node_id, node_id) == 0;
                store_volume_release(&v);
        }
        free(ids);
        *ret = count;
        return 0;
}

/* 1 when already published the same way, 0 when nothing stands against a new record. */
static int attach_conflicts(const struct store_volume *v, const char *node_id,
                            const struct params_cap *cap, bool readonly)
{
        bool block = cap->access == PARAMS_ACCESS_BLOCK;
        for (size_t i = 0; i < v->n_published; i++) {
                const struct store_publish *p = &v->published[i];
                if (strcmp(p->node_id, node_id) == 0) {
                        if (p->readonly == readonly && p->block == block && p->mode == cap->mode)
                                return 1;
                        return controller_fail(-SILO_EEXISTS,
                                               "volume '%s' is already published to node '%s' "
                                               "with other capabilities or readonly",
                                               v->id, node_id);
                }
                if (params_mode_is_single_node(cap->mode) || params_mode_is_single_node(p->mode))
                        return controller_fail(-SILO_EPRECOND,
                                               "volume '%s' is published to node '%s' with "
                                               "single-node access mode %s",
                                               v->id, p->node_id, params_mode_name(p->mode));
        }
        return 0;
}

static int attach_limits(struct controller *c, const struct store_volume *v, const char *node_id)
{
        if (v->n_published >= STORE_PUBLISH_MAX)
                return controller_fail(-SILO_ENOSPACE, "volume '%s' is published to %d nodes",
                                       v->id, STORE_PUBLISH_MAX);
        uint64_t count = 0;
        int r = c->max_volumes_per_node ? attach_count(c, node_id, &count) : 0;
        if (r >= 0 && c->max_volumes_per_node && count >= c->max_volumes_per_node)
                r = controller_fail(-SILO_ENOSPACE, "node '%s' already has %llu volumes attached",
                                    node_id, (unsigned long long)count);
        return r;
}

static int attach_record(struct controller *c, struct store_volume *v, const char *node_id,
                         const struct params_cap *cap, bool readonly)
{
        struct store_publish *a =
            realloc(v->published, (v->n_published + 1) * sizeof(struct store_publish));
        if (!a)
                return -ENOMEM;
        v->published = a;
        struct store_publish *p = &a[v->n_published++];
        memset(p, 0, sizeof(*p));
        if (STR_COPY(p->node_id, node_id) < 0) {
                v->n_published--;
                return controller_fail(-SILO_ENOTFOUND, "node '%.64s...' not found", node_id);
        }
        p->readonly = readonly;
        p->block = cap->access == PARAMS_ACCESS_BLOCK;
        p->mode = cap->mode;
        int r = pool_volume_save_attach(c, v);
        return r < 0 ? controller_fail(r, "cannot write metadata of volume '%s'", v->id) : 0;
}

/* The state found is the answer: a decision written just before a crash (in the page cache,
 * not yet flushed) must be durable before it is answered. */
static int attach_sync(struct controller *c, const struct store_volume *v)
{
        int r = store_volume_sync(c->pool, v);
        return r < 0 ? controller_fail(r, "cannot sync metadata of volume '%s'", v->id) : 0;
}

int attach_publish(struct controller *c, const char *id, const char *node_id,
                   const struct params_cap *cap, bool readonly, struct store_volume *ret)
{
        if (c->skip_attach)
                return controller_fail(-SILO_EUNIMPL, "attach is disabled (--skip-attach)");
        struct store_volume v = {0};
        int r = volumes_get(c, id, &v);
        if (r < 0)
                return r;
        store_volume_release(&v);
        /* A conflict is reported even for an unknown node: it holds whatever the node is. */
        bool known = attach_node_is_known(c, node_id);
        _cleanup_close_ int lock = -1;
        r = pool_lock_data(c, STORE_VOLUMES, id, &lock);
        if (r >= 0)
                r = volumes_get(c, id, &v);
        if (r < 0)
                return r;
        if (store_data_check(c->pool, STORE_VOLUMES, id) == -SILO_EPRECOND)
                r = controller_fail(-SILO_EPRECOND,
                                    "the data file of volume '%s' is %s, not a regular file of "
                                    "the pool; silo never uses it",
                                    id, store_data_what(c->pool, STORE_VOLUMES, id));
        else if (!params_cap_is_supported(c, &v, cap))
                r = controller_fail(-SILO_EINVALID,
                                    "volume '%s' (%s) does not support the capability", id,
                                    v.fs_type);
        if (r >= 0)
                r = attach_conflicts(&v, node_id, cap, readonly);
        if (r == 0 && !known)
                r = controller_fail(-SILO_ENOTFOUND, "node '%.128s' not found", node_id);
        if (r == 0)
                r = attach_limits(c, &v, node_id);
        if (r == 0)
                r = attach_record(c, &v, node_id, cap, readonly);
        else if (r == 1)
                r = attach_sync(c, &v);
        if (r < 0) {
                store_volume_release(&v);
                return r;
        }
        *ret = v;
        return 0;
}

int attach_unpublish(struct controller *c, const char *id, const char *node_id)
{
        struct store_volume v = {0};
        int r = volumes_get(c, id, &v);
        /* The spec: a volume that cannot be found can be treated as unpublished (NOT_FOUND
         * would leave the external-attacher retrying forever after a delete). */
        if (r == -SILO_ENOTFOUND)
                return 0;
        if (r < 0)
                return r;
        store_volume_release(&v);
        _cleanup_close_ int lock = -1;
        r = pool_lock_data(c, STORE_VOLUMES, id, &lock);
        if (r >= 0)
                r = volumes_get(c, id, &v);
        if (r == -SILO_ENOTFOUND)
                return 0; /* deleted meanwhile */
        if (r < 0)
                return r;
        size_t kept = 0;
        for (size_t i = 0; i < v.n_published; i++)
                if (*node_id && strcmp(v.published[i].node_id, node_id) != 0)
                        v.published[kept++] = v.published[i];
        if (kept != v.n_published) {
                v.n_published = kept;
                r = pool_volume_save_attach(c, &v);
                if (r < 0)
                        r = controller_fail(r, "cannot write metadata of volume '%s'", id);
        } else {
                r = attach_sync(c, &v);
        }
        store_volume_release(&v);
        return r;
}
