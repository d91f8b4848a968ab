#include "common/store/store.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "common/err.h"
#include "common/store/store-format.h"
#include "common/cleanup.h"

static int store_snapshot_field(const char *key, const char *value, void *ctx)
{
        struct store_snapshot *s = ctx;
        if (strcmp(key, "id") == 0)
                return store_format_copy(s->id, sizeof(s->id), value);
        if (strcmp(key, "name") == 0)
                return store_format_dup(&s->name, value);
        if (strcmp(key, "source_volume_id") == 0)
                return store_format_copy(s->source_volume_id, sizeof(s->source_volume_id), value);
        if (strcmp(key, "group_id") == 0)
                return store_format_copy(s->group_id, sizeof(s->group_id), value);
        if (strcmp(key, "fs_type") == 0)
                return store_format_copy(s->fs_type, sizeof(s->fs_type), value);
        if (strcmp(key, "size") == 0)
                return store_format_u64(value, &s->size_bytes);
        if (strcmp(key, "created_ns") == 0)
                return store_format_u64(value, &s->created_ns);
        return 0;
}

int store_snapshot_load(const char *pool, const char *id, struct store_snapshot *ret)
{
        struct store_snapshot s = {0};
        int r =
            store_format_load_named(pool, STORE_SNAPSHOTS, id, store_snapshot_field, &s, &s.name);
        if (r < 0)
                store_snapshot_release(&s);
        else
                *ret = s;
        return r;
}

void store_snapshot_release(struct store_snapshot *s)
{
        if (!s)
                return;
        free(s->name);
        s->name = NULL;
}

int store_snapshot_save(const char *pool, const struct store_snapshot *s)
{
        if (!store_name_is_valid(s->name) || !id_is_valid(s->id))
                return -EINVAL;
        _cleanup_free_ char *buf = NULL;
        size_t len;
        FILE *f = store_format_open(&buf, &len);
        if (!f)
                return -ENOMEM;
        fprintf(f, "version=1\nid=%s\nname=%s\nsource_volume_id=%s\ngroup_id=%s\n", s->id, s->name,
                s->source_volume_id, s->group_id);
        fprintf(f, "fs_type=%s\nsize=%" PRIu64 "\ncreated_ns=%" PRIu64 "\n", s->fs_type,
                s->size_bytes, s->created_ns);
        return store_format_commit(pool, STORE_SNAPSHOTS, s->id, f, &buf, &len);
}

int store_snapshot_remove(const char *pool, const char *id)
{
        return store_format_remove(pool, STORE_SNAPSHOTS, id, ".img");
}
