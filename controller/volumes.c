#include "controller/controller.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "common/err.h"
#include "common/str.h"
#include "common/cleanup.h"
#include "controller/quiesce.h"

static bool volumes_is_compatible(const struct store_volume *v, const struct volume_spec *spec,
                                  const char *fs)
{
        if (spec->required_bytes > 0 && v->capacity_bytes < (uint64_t)spec->required_bytes)
                return false;
        if (spec->limit_bytes > 0 && v->capacity_bytes > (uint64_t)spec->limit_bytes)
                return false;
        if (*fs ? strcmp(fs, v->fs_type) != 0
                : (spec->source_kind == STORE_SOURCE_NONE && strcmp(v->fs_type, "ext4") != 0))
                return false;
        if (v->ephemeral != spec->ephemeral)
                return false;
        if (v->provisioning != spec->params.provisioning || v->caps != spec->caps ||
            v->source_kind != spec->source_kind)
                return false;
        return spec->source_kind == STORE_SOURCE_NONE || strcmp(v->source_id, spec->source_id) == 0;
}

static int volumes_existing(struct controller *c, const char *id, const struct volume_spec *spec,
                            const char *fs, struct store_volume *ret)
{
        struct store_volume v = {0};
        int r = store_volume_load(c->pool, id, &v);
        if (r == -SILO_ENOTFOUND)
                return 0;
        if (r < 0)
                return controller_fail(r, "cannot read volume '%s'", id);
        if (strcmp(v.name, spec->name) != 0 || !volumes_is_compatible(&v, spec, fs)) {
                store_volume_release(&v);
                return controller_fail(
                    -SILO_EEXISTS, "volume '%s' already exists with other properties", spec->name);
        }
        *ret = v;
        return 1;
}

/* Opens the content source's data; fills its size and fs type, and for a volume source its
 * metadata into src (released by the caller). */
static int volumes_source_open(struct controller *c, const struct volume_spec *spec, int *ret_fd,
                               uint64_t *ret_size, char fs[16], struct store_volume *src)
{
        const char *sid = spec->source_id;
        bool snap = spec->source_kind == STORE_SOURCE_SNAPSHOT;
        if (snap) {
                struct store_snapshot s = {0};
                int r = snapshots_get(c, sid, &s);
                if (r < 0)
                        return controller_fail(r, "source snapshot '%s' not found", sid);
                *ret_size = s.size_bytes;
                memcpy(fs, s.fs_type, sizeof(s.fs_type));
                store_snapshot_release(&s);
        } else {
                int r = volumes_get(c, sid, src);
                if (r < 0)
                        return controller_fail(r, "source volume '%s' not found", sid);
                *ret_size = src->capacity_bytes;
                memcpy(fs, src->fs_type, sizeof(src->fs_type));
        }
        return pool_data_open(c, snap ? STORE_SNAPSHOTS : STORE_VOLUMES, sid, O_RDONLY, ret_fd);
}

uint64_t volumes_min_size(const char *fs_type, unsigned caps)
{
        bool mount = (caps & STORE_CAP_MOUNT) || !(caps & STORE_CAP_BLOCK);
        return mount && strcmp(fs_type, "xfs") == 0 ? CONTROLLER_XFS_MIN_SIZE : CONTROLLER_MIN_SIZE;
}

/* Raises a smaller required size to the filesystem's minimum, as the spec allows (capacity
 * may exceed required_bytes), unless limit_bytes forbids it. */
static int volumes_required(const struct volume_spec *spec, const char *fs, int64_t *ret)
{
        uint64_t min = volumes_min_size(fs, spec->caps);
        if (spec->limit_bytes > 0 && (uint64_t)spec->limit_bytes < min)
                return controller_fail(
                    -SILO_EOUTOFRANGE, "a %s volume needs at least %llu bytes; limit_bytes is %lld",
                    *fs ? fs : "ext4", (unsigned long long)min, (long long)spec->limit_bytes);
        bool raise = spec->required_bytes > 0 && (uint64_t)spec->required_bytes < min;
        *ret = raise ? (int64_t)min : spec->required_bytes;
        return 0;
}

static int volumes_prepare(struct controller *c, const struct volume_spec *spec, const char *fs,
                           struct store_volume *v)
{
        uint64_t size = 0;
        int64_t required = 0;
        int r = volumes_required(spec, fs, &required);
        if (r < 0)
                return r;
        r = pool_capacity_pick(required, spec->limit_bytes, &size);
        if (r < 0)
                return r;
        v->name = strdup(spec->name);
        if (!v->name)
                return -ENOMEM;
        v->capacity_bytes = size;
        v->provisioning = spec->params.provisioning;
        v->source_kind = spec->source_kind;
        v->caps = spec->caps;
        r = STR_COPY(v->fs_type, *fs ? fs : "ext4");
        if (r >= 0 && spec->source_kind != STORE_SOURCE_NONE)
                r = STR_COPY(v->source_id, spec->source_id);
        if (r >= 0 && c->scope == CONFIG_SCOPE_NODE)
                r = STR_COPY(v->node_id, c->node_id);
        v->ephemeral = spec->ephemeral;
        return r;
}

/* A copy keeps its source's filesystem; its size defaults to the source's. */
static int volumes_apply_source(const struct volume_spec *spec, uint64_t src_size,
                                const char *src_fs, struct store_volume *v)
{
        if (strcmp(v->fs_type, src_fs) != 0 && spec->cap_fs_type[0])
                return controller_fail(-SILO_EINVALID, "source '%s' holds %s, not the requested %s",
                                       spec->source_id, src_fs, v->fs_type);
        if (*src_fs && STR_COPY(v->fs_type, src_fs) < 0)
                return -EBADMSG;
        if (spec->required_bytes == 0 && spec->limit_bytes == 0)
                v->capacity_bytes = src_size;
        if (v->capacity_bytes < src_size)
                return controller_fail(-SILO_EOUTOFRANGE,
                                       "volume of %llu bytes is smaller than its source '%s' "
                                       "(%llu bytes)",
                                       (unsigned long long)v->capacity_bytes, spec->source_id,
                                       (unsigned long long)src_size);
        return 0;
}

static int volumes_create_new(struct controller *c, const struct volume_spec *spec, const char *fs,
                              struct store_volume *v)
{
        int r = volumes_prepare(c, spec, fs, v);
        if (r < 0)
                return r;
        _cleanup_close_ int src_fd = -1;
        uint64_t src_size = 0;
        char src_fs[16] = "";
        struct store_volume src = {0};
        struct quiesce *q = NULL;
        if (spec->source_kind != STORE_SOURCE_NONE) {
                r = volumes_source_open(c, spec, &src_fd, &src_size, src_fs, &src);
                if (r >= 0)
                        r = volumes_apply_source(spec, src_size, src_fs, v);
                if (r >= 0 && spec->source_kind == STORE_SOURCE_VOLUME)
                        r = quiesce_begin(c, &src, 1, &q);
        }
        struct pool_source from = {.fd = src_fd, .size = src_size, .q = q};
        if (r >= 0)
                r = pool_volume_make(c, v, src_fd >= 0 ? &from : NULL);
        quiesce_end(q);
        store_volume_release(&src);
        return r;
}

int volumes_create(struct controller *c, const struct volume_spec *spec, struct store_volume *ret)
{
        /* The filesystem is the capabilities' fs_type only ("" = ext4, or the source's). */
        const char *fs = spec->cap_fs_type;
        struct store_volume v = {0};
        int r = 0;
        if (!spec->id)
                r = id_from_name("vol", spec->name, v.id, sizeof(v.id));
        else if (id_is_valid(spec->id))
                r = STR_COPY(v.id, spec->id);
        else
                r = controller_fail(-SILO_EINVALID, "volume id '%.80s' is not valid", spec->id);
        if (r >= 0)
                r = volumes_existing(c, v.id, spec, fs, ret);
        if (r != 0)
                return r < 0 ? r : 0;
        r = volumes_create_new(c, spec, fs, &v);
        if (r < 0) {
                store_volume_release(&v);
                return r;
        }
        *ret = v;
        return 0;
}

int volumes_create_ephemeral(struct controller *c, const char *id, uint64_t size,
                             enum store_provisioning prov, const char *fs_type, bool *ret_created)
{
        if (!id || !id_is_valid(id))
                return controller_fail(-SILO_EINVALID, "volume id '%.80s' is not valid",
                                       id ? id : "");
        /* Listings and the node's restart tell inline volumes from the rest by this form; one
         * under it would also take the id a future CreateVolume derives from its name. */
        if (id_has_form(id, "vol") || id_has_form(id, "snap") || id_has_form(id, "grp"))
                return controller_fail(-SILO_EINVALID,
                                       "volume id '%s' has the form of the ids silo issues; an "
                                       "inline volume's id is the CO's handle",
                                       id);
        struct volume_spec spec = {
            .name = id,
            .id = id,
            .ephemeral = true,
            .params = {.provisioning = prov},
            .caps = STORE_CAP_MOUNT | STORE_CAP_MODE0 << 1, /* SINGLE_NODE_WRITER */
        };
        if (size > (uint64_t)INT64_MAX)
                return controller_fail(-SILO_EOUTOFRANGE, "size %llu is too large",
                                       (unsigned long long)size);
        spec.required_bytes = (int64_t)size;
        if (STR_COPY(spec.cap_fs_type, fs_type) < 0)
                return controller_fail(-SILO_EINVALID, "fs type '%.32s' is not supported", fs_type);
        bool existed = false;
        struct store_volume v = {0};
        if (id_is_valid(id) && store_volume_load(c->pool, id, &v) == 0) {
                existed = true;
                store_volume_release(&v);
        }
        int r = volumes_create(c, &spec, &v);
        if (r < 0)
                return r;
        store_volume_release(&v);
        *ret_created = !existed;
        return 0;
}

/* A staged volume's file is held by a loop device: deleting it would only hide the data. */
static int volumes_not_staged(struct controller *c, const char *id)
{
        _cleanup_free_ char *path = NULL;
        char dev[64];
        if (store_data_check(c->pool, STORE_VOLUMES, id) == -SILO_EPRECOND)
                return 0; /* foreign: not ours to look up, only silo's own files go */
        if (store_volume_data_path(c->pool, id, &path) < 0)
                return -ENOMEM;
        int r = inuse_loop_device(path, dev, sizeof(dev));
        if (r > 0)
                return controller_fail(-SILO_EPRECOND, "volume '%s' is in use by loop device '%s'",
                                       id, dev);
        return r;
}

int volumes_delete(struct controller *c, const char *id)
{
        if (!id_is_valid(id))
                return 0;
        _cleanup_close_ int lock = -1;
        int r = pool_lock_data(c, STORE_VOLUMES, id, &lock);
        struct store_volume v = {0};
        if (r >= 0)
                r = store_volume_load(c->pool, id, &v);
        if (r == -SILO_ENOTFOUND)
                return 0;
        if (r < 0)
                return controller_fail(r, "cannot read volume '%s'", id);
        if (v.n_published > 0)
                r = controller_fail(-SILO_EPRECOND, "volume '%s' is published to node '%s'", id,
                                    v.published[0].node_id);
        store_volume_release(&v);
        if (r >= 0)
                r = volumes_not_staged(c, id);
        if (r < 0)
                return r;
        return pool_volume_remove(c, id, lock);
}
