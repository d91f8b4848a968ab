#include "common/store/store.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "common/err.h"
#include "common/str.h"
#include "common/store/store-format.h"
#include "common/cleanup.h"

static const char *const store_prov_names[] = {"thin", "thick"};
static const char *const store_source_names[] = {"none", "snapshot", "volume"};

bool store_name_is_valid(const char *name)
{
        if (!name || !*name || strlen(name) > STORE_NAME_MAX)
                return false;
        for (const unsigned char *p = (const unsigned char *)name; *p; p++)
                if (*p < 0x20 || *p == 0x7f)
                        return false;
        return true;
}

static int store_enum_parse(const char *const *names, size_t n, const char *value)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(names[i], value) == 0)
                        return (int)i;
        return -EBADMSG;
}

/* Splits "<node> <ro 0|1> <block 0|1> <mode>" into p. */
static int store_publish_fields(char *buf, struct store_publish *p)
{
        char *save = NULL, *tok[4];
        uint64_t num[3];
        for (int i = 0; i < 4; i++)
                if (!(tok[i] = strtok_r(i ? NULL : buf, " ", &save)))
                        return -EBADMSG;
        for (int i = 0; i < 3; i++)
                if (store_format_u64(tok[i + 1], &num[i]) < 0 || num[i] > 64)
                        return -EBADMSG;
        if (strtok_r(NULL, " ", &save) || !id_node_is_valid(tok[0]))
                return -EBADMSG;
        if (STR_COPY(p->node_id, tok[0]) < 0)
                return -EBADMSG;
        p->readonly = num[0] != 0;
        p->block = num[1] != 0;
        p->mode = (int)num[2];
        return 0;
}

/* "publish=<node> <ro 0|1> <block 0|1> <mode>" */
static int store_publish_parse(struct store_volume *v, const char *value)
{
        if (v->n_published >= STORE_PUBLISH_MAX)
                return -EBADMSG;
        struct store_publish p = {0};
        char *buf = strdup(value);
        if (!buf)
                return -ENOMEM;
        int r = store_publish_fields(buf, &p);
        free(buf);
        if (r < 0)
                return r;
        struct store_publish *a =
            realloc(v->published, (v->n_published + 1) * sizeof(struct store_publish));
        if (!a)
                return -ENOMEM;
        a[v->n_published++] = p;
        v->published = a;
        return 0;
}

static int store_volume_enum(struct store_volume *v, const char *key, const char *value)
{
        int e;
        if (strcmp(key, "provisioning") == 0) {
                e = store_enum_parse(store_prov_names, ARRAY_SIZE(store_prov_names), value);
                v->provisioning = (enum store_provisioning)e;
        } else {
                e = store_enum_parse(store_source_names, ARRAY_SIZE(store_source_names), value);
                v->source_kind = (enum store_source)e;
        }
        return e < 0 ? e : 0;
}

static int store_volume_field(const char *key, const char *value, void *ctx)
{
        struct store_volume *v = ctx;
        uint64_t caps;
        int r = 0;
        if (strcmp(key, "id") == 0)
                r = store_format_copy(v->id, sizeof(v->id), value);
        else if (strcmp(key, "name") == 0)
                r = store_format_dup(&v->name, value);
        else if (strcmp(key, "capacity") == 0)
                r = store_format_u64(value, &v->capacity_bytes);
        else if (strcmp(key, "fs_type") == 0)
                r = store_format_copy(v->fs_type, sizeof(v->fs_type), value);
        else if (strcmp(key, "provisioning") == 0 || strcmp(key, "source_kind") == 0)
                r = store_volume_enum(v, key, value);
        else if (strcmp(key, "source_id") == 0)
                r = store_format_copy(v->source_id, sizeof(v->source_id), value);
        else if (strcmp(key, "node") == 0)
                r = store_format_copy(v->node_id, sizeof(v->node_id), value);
        else if (strcmp(key, "caps") == 0 && (r = store_format_u64(value, &caps)) == 0)
                v->caps = (unsigned)caps;
        else if (strcmp(key, "created_ns") == 0)
                r = store_format_u64(value, &v->created_ns);
        else if (strcmp(key, "ephemeral") == 0)
                v->ephemeral = strcmp(value, "1") == 0;
        else if (strcmp(key, "publish") == 0)
                r = store_publish_parse(v, value);
        /* Unknown keys come from a newer version: keep reading. */
        return r;
}

int store_volume_load(const char *pool, const char *id, struct store_volume *ret)
{
        struct store_volume v = {0};
        int r = store_format_load_named(pool, STORE_VOLUMES, id, store_volume_field, &v, &v.name);
        if (r < 0)
                store_volume_release(&v);
        else
                *ret = v;
        return r;
}

void store_volume_release(struct store_volume *v)
{
        if (!v)
                return;
        free(v->name);
        free(v->published);
        v->name = NULL;
        v->published = NULL;
        v->n_published = 0;
}

int store_volume_data_path(const char *pool, const char *id, char **ret)
{
        return store_path(pool, STORE_VOLUMES, id, ".img", ret);
}

int store_volume_save(const char *pool, const struct store_volume *v)
{
        if (!store_name_is_valid(v->name) || !id_is_valid(v->id))
                return -EINVAL;
        _cleanup_free_ char *buf = NULL;
        size_t len;
        FILE *f = store_format_open(&buf, &len);
        if (!f)
                return -ENOMEM;
        fprintf(f, "version=1\nid=%s\nname=%s\ncapacity=%" PRIu64 "\nfs_type=%s\n", v->id, v->name,
                v->capacity_bytes, v->fs_type);
        fprintf(f, "provisioning=%s\nsource_kind=%s\nsource_id=%s\nnode=%s\n",
                store_prov_names[v->provisioning], store_source_names[v->source_kind], v->source_id,
                v->node_id);
        fprintf(f, "caps=%u\ncreated_ns=%" PRIu64 "\n", v->caps, v->created_ns);
        if (v->ephemeral)
                fprintf(f, "ephemeral=1\n");
        for (size_t i = 0; i < v->n_published; i++)
                fprintf(f, "publish=%s %d %d %d\n", v->published[i].node_id,
                        v->published[i].readonly, v->published[i].block, v->published[i].mode);
        return store_format_commit(pool, STORE_VOLUMES, v->id, f, &buf, &len);
}

int store_volume_remove(const char *pool, const char *id)
{
        _cleanup_free_ char *record = NULL;
        int r = store_format_remove(pool, STORE_VOLUMES, id, ".img");
        /* node/health.c's record of a repair at stage goes with the volume */
        if (r >= 0 && store_path(pool, STORE_VOLUMES, id, ".fsck", &record) == 0)
                (void)unlink(record);
        return r;
}
