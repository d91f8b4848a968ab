/* Group snapshots: every member volume is opened and frozen first (controller/quiesce.h), then
 * all are copied, and the group's metadata is committed last. Since no member is thawed
 * before all are frozen, the members show one instant: an atomic cut across the volumes. */
#include "controller/controller.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/str.h"
#include "common/cleanup.h"
#include "controller/quiesce.h"

void groups_snaps_free(struct store_snapshot *snaps, size_t n)
{
        for (size_t i = 0; snaps && i < n; i++)
                store_snapshot_release(&snaps[i]);
        free(snaps);
}

static int groups_member_id(const char *gid, const char *vid, char *name, size_t nsize,
                            char id[STORE_ID_MAX + 1])
{
        int r = str_format(name, nsize, "%s:%s", gid, vid);
        return r < 0 ? r : id_from_name("snap", name, id, STORE_ID_MAX + 1);
}

/* True when the two lists hold the same IDs (each list free of duplicates). */
static bool groups_same_set(const struct store_group *g, const char *const *ids, size_t n,
                            bool volumes)
{
        if (g->n_members != n)
                return false;
        for (size_t i = 0; i < n; i++) {
                bool found = false;
                for (size_t j = 0; j < g->n_members && !found; j++)
                        found =
                            strcmp(volumes ? g->members[j].volume_id : g->members[j].snapshot_id,
                                   ids[i]) == 0;
                if (!found)
                        return false;
        }
        return true;
}

static int groups_load_snaps(struct controller *c, const struct store_group *g,
                             struct store_snapshot **ret)
{
        struct store_snapshot *snaps = calloc(g->n_members + 1, sizeof(*snaps));
        if (!snaps)
                return -ENOMEM;
        for (size_t i = 0; i < g->n_members; i++) {
                int r = snapshots_get(c, g->members[i].snapshot_id, &snaps[i]);
                if (r < 0) {
                        groups_snaps_free(snaps, i);
                        return r;
                }
        }
        *ret = snaps;
        return 0;
}

static int groups_check_ids(const char *const *ids, size_t n)
{
        if (n == 0)
                return controller_fail(-SILO_EINVALID, "source_volume_ids are missing");
        if (n > STORE_GROUP_MAX)
                return controller_fail(-SILO_EINVALID, "a group holds at most %d volumes",
                                       STORE_GROUP_MAX);
        for (size_t i = 0; i < n; i++)
                for (size_t j = i + 1; j < n; j++)
                        if (strcmp(ids[i], ids[j]) == 0)
                                return controller_fail(-SILO_EINVALID,
                                                       "volume '%.80s' is listed twice", ids[i]);
        return 0;
}

/* Loads every member volume and opens its data before any copy starts. */
static int groups_open_all(struct controller *c, const char *const *ids, size_t n,
                           struct store_volume *vols, int *fds)
{
        for (size_t i = 0; i < n; i++) {
                int r = volumes_get(c, ids[i], &vols[i]);
                if (r < 0)
                        return r;
                r = snapshots_open_source(c, ids[i], &fds[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int groups_take_all(struct controller *c, struct store_group *g,
                           const struct store_volume *vols, const int *fds, size_t n,
                           struct quiesce *q, struct store_snapshot *snaps)
{
        for (size_t i = 0; i < n; i++) {
                char name[STORE_ID_MAX * 2 + 2];
                struct store_group_member *m = &g->members[i];
                int r = groups_member_id(g->id, vols[i].id, name, sizeof(name), m->snapshot_id);
                memcpy(m->volume_id, vols[i].id, sizeof(m->volume_id));
                if (r >= 0)
                        r = snapshots_take(c, m->snapshot_id, name, &vols[i], fds[i], g->id, q,
                                           &snaps[i]);
                if (r < 0)
                        return r;
                g->n_members++;
        }
        g->created_ns = controller_now_ns();
        int r = pool_group_save(c, g);
        return r < 0 ? controller_fail(r, "cannot write metadata of group '%s'", g->id) : 0;
}

static int groups_create_new(struct controller *c, struct store_group *g, const char *const *ids,
                             size_t n, struct store_snapshot **ret_snaps)
{
        struct store_volume *vols = calloc(n, sizeof(*vols));
        int *fds = malloc(n * sizeof(int));
        struct store_snapshot *snaps = calloc(n + 1, sizeof(*snaps));
        g->members = calloc(n, sizeof(*g->members));
        int r = (!vols || !fds || !snaps || !g->members) ? -ENOMEM : 0;
        for (size_t i = 0; fds && i < n; i++)
                fds[i] = -1;
        struct quiesce *q = NULL;
        if (r >= 0)
                r = groups_open_all(c, ids, n, vols, fds);
        if (r >= 0)
                r = quiesce_begin(c, vols, n, &q);
        if (r >= 0)
                r = groups_take_all(c, g, vols, fds, n, q, snaps);
        quiesce_end(q);
        if (r < 0) {
                for (size_t i = 0; i < g->n_members; i++)
                        pool_snapshot_remove(c, g->members[i].snapshot_id);
                groups_snaps_free(snaps, g->n_members);
        } else {
                *ret_snaps = snaps;
        }
        for (size_t i = 0; i < n; i++) {
                if (fds && fds[i] >= 0)
                        close(fds[i]);
                if (vols)
                        store_volume_release(&vols[i]);
        }
        free(fds);
        free(vols);
        return r;
}

/* 1 when the group exists for the same volumes (ret filled), 0 when it does not. */
static int groups_existing(struct controller *c, const char *gid, const char *name,
                           const char *const *ids, size_t n, struct store_group *ret,
                           struct store_snapshot **ret_snaps)
{
        struct store_group g = {0};
        int r = store_group_load(c->pool, gid, &g);
        if (r == -SILO_ENOTFOUND)
                return 0;
        if (r < 0)
                return controller_fail(r, "cannot read group snapshot '%s'", gid);
        if (strcmp(g.name, name) != 0 || !groups_same_set(&g, ids, n, true))
                r = controller_fail(-SILO_EEXISTS,
                                    "group snapshot '%s' already exists for other volumes", name);
        else
                r = groups_load_snaps(c, &g, ret_snaps);
        if (r < 0) {
                store_group_release(&g);
                return r;
        }
        *ret = g;
        return 1;
}

int groups_create(struct controller *c, const char *name, const char *const *volume_ids, size_t n,
                  struct store_group *ret, struct store_snapshot **ret_snaps)
{
        struct store_group g = {0};
        int r = groups_check_ids(volume_ids, n);
        if (r >= 0)
                r = id_from_name("grp", name, g.id, sizeof(g.id));
        if (r >= 0)
                r = groups_existing(c, g.id, name, volume_ids, n, ret, ret_snaps);
        if (r != 0)
                return r < 0 ? r : 0;
        g.name = strdup(name);
        r = g.name ? groups_create_new(c, &g, volume_ids, n, ret_snaps) : -ENOMEM;
        if (r < 0) {
                store_group_release(&g);
                return r;
        }
        *ret = g;
        return 0;
}

static int groups_load_checked(struct controller *c, const char *id,
                               const char *const *snapshot_ids, size_t n, struct store_group *ret)
{
        if (!id_is_valid(id))
                return controller_fail(-SILO_ENOTFOUND, "group snapshot '%.80s' not found", id);
        int r = store_group_load(c->pool, id, ret);
        if (r == -SILO_ENOTFOUND)
                return controller_fail(r, "group snapshot '%s' not found", id);
        if (r < 0)
                return controller_fail(r, "cannot read group snapshot '%s'", id);
        if (n > 0 && !groups_same_set(ret, snapshot_ids, n, false)) {
                store_group_release(ret);
                return controller_fail(-SILO_EPRECOND,
                                       "snapshot_ids do not match the members of group '%s'", id);
        }
        return 0;
}

int groups_delete(struct controller *c, const char *id, const char *const *snapshot_ids, size_t n)
{
        struct store_group g = {0};
        int r = groups_load_checked(c, id, snapshot_ids, n, &g);
        if (r == -SILO_ENOTFOUND)
                return 0;
        if (r < 0)
                return r;
        /* Members first: a crash in between leaves a group whose retry finishes the job. */
        for (size_t i = 0; i < g.n_members && r >= 0; i++)
                r = pool_snapshot_remove(c, g.members[i].snapshot_id);
        if (r >= 0)
                r = pool_group_remove(c, g.id);
        store_group_release(&g);
        return r < 0 ? controller_fail(r, "cannot remove group snapshot '%s'", id) : 0;
}

int groups_get(struct controller *c, const char *id, const char *const *snapshot_ids, size_t n,
               struct store_group *ret, struct store_snapshot **ret_snaps)
{
        struct store_group g = {0};
        int r = groups_load_checked(c, id, snapshot_ids, n, &g);
        if (r < 0)
                return r;
        r = groups_load_snaps(c, &g, ret_snaps);
        if (r < 0) {
                store_group_release(&g);
                return r;
        }
        *ret = g;
        return 0;
}
