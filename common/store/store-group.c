#include "common/store/store.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "common/err.h"
#include "common/str.h"
#include "common/store/store-format.h"
#include "common/cleanup.h"

_Static_assert(STORE_ID_MAX == 128, "the sscanf widths below are STORE_ID_MAX + 1");

/* "member=<snapshot id> <volume id>" */
static int store_group_member_parse(struct store_group *g, const char *value)
{
        if (g->n_members >= STORE_GROUP_MAX)
                return -EBADMSG;
        char snap[STORE_ID_MAX + 2], vol[STORE_ID_MAX + 2];
        /* One more than ID_MAX so that a longer id is read whole and refused. */
        if (sscanf(value, "%129s %129s", snap, vol) != 2 || !id_is_valid(snap) || !id_is_valid(vol))
                return -EBADMSG;
        struct store_group_member *a =
            realloc(g->members, (g->n_members + 1) * sizeof(struct store_group_member));
        if (!a)
                return -ENOMEM;
        g->members = a;
        if (STR_COPY(a[g->n_members].snapshot_id, snap) < 0 ||
            STR_COPY(a[g->n_members].volume_id, vol) < 0)
                return -EBADMSG;
        g->n_members++;
        return 0;
}

static int store_group_field(const char *key, const char *value, void *ctx)
{
        struct store_group *g = ctx;
        if (strcmp(key, "id") == 0)
                return store_format_copy(g->id, sizeof(g->id), value);
        if (strcmp(key, "name") == 0)
                return store_format_dup(&g->name, value);
        if (strcmp(key, "created_ns") == 0)
                return store_format_u64(value, &g->created_ns);
        if (strcmp(key, "member") == 0)
                return store_group_member_parse(g, value);
        return 0;
}

int store_group_load(const char *pool, const char *id, struct store_group *ret)
{
        struct store_group g = {0};
        int r = store_format_load_named(pool, STORE_GROUPS, id, store_group_field, &g, &g.name);
        if (r < 0)
                store_group_release(&g);
        else
                *ret = g;
        return r;
}

void store_group_release(struct store_group *g)
{
        if (!g)
                return;
        free(g->name);
        free(g->members);
        g->name = NULL;
        g->members = NULL;
        g->n_members = 0;
}

int store_group_save(const char *pool, const struct store_group *g)
{
        if (!store_name_is_valid(g->name) || !id_is_valid(g->id) || g->n_members > STORE_GROUP_MAX)
                return -EINVAL;
        _cleanup_free_ char *buf = NULL;
        size_t len;
        FILE *f = store_format_open(&buf, &len);
        if (!f)
                return -ENOMEM;
        fprintf(f, "version=1\nid=%s\nname=%s\ncreated_ns=%" PRIu64 "\n", g->id, g->name,
                g->created_ns);
        for (size_t i = 0; i < g->n_members; i++)
                fprintf(f, "member=%s %s\n", g->members[i].snapshot_id, g->members[i].volume_id);
        return store_format_commit(pool, STORE_GROUPS, g->id, f, &buf, &len);
}

int store_group_remove(const char *pool, const char *id)
{
        return store_format_remove(pool, STORE_GROUPS, id, NULL);
}
