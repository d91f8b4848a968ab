#include "common/store/store.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "common/err.h"
#include "common/str.h"
#include "common/store/store-attach.h"
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

/* "attach=<slot size>": the records are in the slots (store-attach.h). */
static int store_volume_attach_field(struct store_volume *v, const char *value)
{
        uint64_t size = 0;
        if (v->attach_size || store_format_u64(value, &size) < 0 || size == 0 ||
            size > STORE_ATTACH_SLOT_MAX)
                return -EBADMSG;
        v->attach_size = (uint32_t)size;
        return 0;
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
                r = store_attach_parse_record(v, value);
        else if (strcmp(key, "attach") == 0)
                r = store_volume_attach_field(v, value);
        /* Unknown keys come from a newer version: keep reading. */
        return r;
}

int store_volume_load(const char *pool, const char *id, struct store_volume *ret)
{
        struct store_volume v = {0};
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, text = 0;
        int r = store_format_read(pool, STORE_VOLUMES, id, &buf, &len);
        if (r >= 0) {
                text = strlen(buf); /* the parse cuts it into lines */
                r = store_format_parse(buf, id, store_volume_field, &v);
        }
        if (r >= 0 && !v.name)
                r = -EBADMSG;
        /* With slots, records in the text would be a second truth: refused. */
        if (r >= 0 && v.attach_size)
                r = v.n_published ? -EBADMSG : store_attach_decode(&v, buf, len, text);
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

/* The text of v's .meta into buf (STORE_ATTACH_BLOCK bytes): its length, -EINVAL when it does
 * not fit the block with a NUL after it. */
static int store_volume_text(const struct store_volume *v, size_t slot, char *buf)
{
        int n = snprintf(buf, STORE_ATTACH_BLOCK,
                         "version=2\nid=%s\nname=%s\ncapacity=%" PRIu64 "\nfs_type=%s\n"
                         "provisioning=%s\nsource_kind=%s\nsource_id=%s\nnode=%s\ncaps=%u\n"
                         "created_ns=%" PRIu64 "\n%sattach=%zu\n",
                         v->id, v->name, v->capacity_bytes, v->fs_type,
                         store_prov_names[v->provisioning], store_source_names[v->source_kind],
                         v->source_id, v->node_id, v->caps, v->created_ns,
                         v->ephemeral ? "ephemeral=1\n" : "", slot);
        return n < 0 || (size_t)n >= STORE_ATTACH_BLOCK ? -EINVAL : n;
}

int store_volume_save(const char *pool, const struct store_volume *v)
{
        if (!store_name_is_valid(v->name) || !id_is_valid(v->id))
                return -EINVAL;
        size_t slot = store_attach_slot_size(v);
        size_t len = STORE_ATTACH_BLOCK + 2 * slot;
        char text[STORE_ATTACH_BLOCK];
        int n = store_volume_text(v, slot, text);
        if (n < 0)
                return n;
        /* Every block is written (none a hole): an in-place slot write then allocates
         * nothing. */
        _cleanup_free_ char *buf = calloc(1, len);
        if (!buf)
                return -ENOMEM;
        memcpy(buf, text, (size_t)n);
        /* A new file: its generation only has to be valid. */
        int r = store_attach_encode(v, v->attach_gen + 1, buf + STORE_ATTACH_BLOCK, slot);
        return r < 0 ? r : store_format_write(pool, STORE_VOLUMES, v->id, buf, len);
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
