/* VolumeCondition as the controller sees it: the data file, the pool's space for thin volumes,
 * and (through the node hook, controller/quiesce.h) the filesystem where it is staged here. */
#include "controller/controller.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/store/store-space.h"
#include "controller/quiesce.h"

/* The pool rule of node/health.c, on the controller's cached sum. */
static int condition_pool(struct controller *c, const struct store_volume *v, const char *path,
                          char *why, size_t size)
{
        struct stat st;
        struct store_space s = {0};
        if (stat(path, &st) < 0 || (uint64_t)st.st_blocks * 512 >= (uint64_t)st.st_size)
                return 0;
        if (pool_space(c, &s.free_bytes, &s.unbacked_bytes) < 0 ||
            !store_space_is_short(&s, c->overcommit_ratio))
                return 0;
        snprintf(why, size,
                 "pool '%s' has %llu bytes free but its thin volumes may still write %llu "
                 "(overcommit ratio %g): writes to volume '%s' may fail and lose data",
                 c->pool, (unsigned long long)s.free_bytes, (unsigned long long)s.unbacked_bytes,
                 c->overcommit_ratio, v->id);
        return 1;
}

int condition_of(struct controller *c, const struct store_volume *v, char *why, size_t size)
{
        _cleanup_free_ char *path = NULL;
        if (store_volume_data_path(c->pool, v->id, &path) < 0)
                return -ENOMEM;
        int r = store_data_check(c->pool, STORE_VOLUMES, v->id);
        if (r == -SILO_EPRECOND) {
                snprintf(why, size,
                         "the data file of the volume is %s, not a regular file of the pool; "
                         "silo does not use it",
                         store_data_what(c->pool, STORE_VOLUMES, v->id));
                return 1;
        }
        if (r < 0) {
                snprintf(why, size, "data file of the volume is missing from the pool");
                return 1;
        }
        const struct quiesce_hook *hook = c->quiesce_hook;
        if (hook && hook->health(hook->userdata, v->id, why, size) > 0)
                return 1;
        return condition_pool(c, v, path, why, size);
}
