/* Pagination over sorted object IDs. The token is the last ID returned: concurrent creates and
 * deletes never make a token invalid, and no object is returned twice. */
#include "controller/controller.h"

#include <errno.h>
#include <string.h>

#include "common/err.h"
#include "common/cleanup.h"

static size_t listing_start(store_id_t *ids, size_t n, const char *token)
{
        size_t lo = 0, hi = n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (strcmp(ids[mid], token) <= 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

int volumes_page(struct controller *c, enum store_kind kind, const char *prefix, const char *token,
                 int32_t max, volumes_keep_fn keep, void *ctx, struct volumes_page *ret)
{
        if (max < 0)
                return controller_fail(-SILO_EINVALID, "max_entries must not be negative");
        if (token && *token && !id_has_form(token, prefix))
                return controller_fail(-SILO_EBADTOKEN,
                                       "starting_token '%.80s' was not issued "
                                       "by this driver",
                                       token);
        store_id_t *ids = NULL;
        size_t n = 0;
        int r = store_list_ids(c->pool, kind, &ids, &n);
        if (r < 0)
                return controller_fail(r, "cannot list pool '%s'", c->pool);
        size_t limit = (max == 0 || max > CONTROLLER_PAGE_MAX) ? CONTROLLER_PAGE_MAX : (size_t)max;
        size_t out = 0, i = token && *token ? listing_start(ids, n, token) : 0;
        struct volumes_page p = {0};
        for (; i < n; i++) {
                if (keep && !keep(c, ids[i], ctx))
                        continue;
                if (out == limit) {
                        memcpy(p.next_token, ids[out - 1], sizeof(p.next_token));
                        break;
                }
                memmove(ids[out++], ids[i], sizeof(store_id_t));
        }
        p.ids = ids;
        p.n = out;
        *ret = p;
        return 0;
}

void volumes_page_release(struct volumes_page *p)
{
        free(p->ids);
        p->ids = NULL;
        p->n = 0;
}

/* Volumes CreateVolume made; inline ephemeral ones carry the CO's handle as their id. */
static bool listing_is_persistent(struct controller *c, const char *id, void *ctx)
{
        (void)c;
        (void)ctx;
        return id_has_form(id, "vol");
}

/* Shared pool: list the directory and read each volume of the page. */
static int listing_from_pool(struct controller *c, const char *token, int32_t max,
                             struct store_volume **ret, size_t *ret_n,
                             char next_token[STORE_ID_MAX + 1])
{
        struct volumes_page p = {0};
        int r = volumes_page(c, STORE_VOLUMES, "vol", token, max, listing_is_persistent, NULL, &p);
        if (r < 0)
                return r;
        struct store_volume *out = calloc(p.n + 1, sizeof(*out));
        size_t n = 0;
        for (size_t i = 0; out && i < p.n; i++)
                if (store_volume_load(c->pool, p.ids[i], &out[n]) == 0)
                        n++;
        memcpy(next_token, p.next_token, STORE_ID_MAX + 1);
        volumes_page_release(&p);
        if (!out)
                return -ENOMEM;
        *ret = out;
        *ret_n = n;
        return 0;
}

int volumes_list(struct controller *c, const char *token, int32_t max, struct store_volume **ret,
                 size_t *ret_n, char next_token[STORE_ID_MAX + 1])
{
        if (!c->index)
                return listing_from_pool(c, token, max, ret, ret_n, next_token);
        if (max < 0)
                return controller_fail(-SILO_EINVALID, "max_entries must not be negative");
        if (token && *token && !id_has_form(token, "vol"))
                return controller_fail(
                    -SILO_EBADTOKEN, "starting_token '%.80s' was not issued by this driver", token);
        size_t limit = (max == 0 || max > CONTROLLER_PAGE_MAX) ? CONTROLLER_PAGE_MAX : (size_t)max;
        int r = index_page(c->index, token, limit, ret, ret_n, next_token);
        return r < 0 ? controller_fail(r, "cannot list volumes") : 0;
}
