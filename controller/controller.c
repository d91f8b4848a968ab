#include "controller/controller.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "common/err.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/cleanup.h"

/* A leftover is removed only when nobody holds its flock: a creator in another instance
 * sharing the pool keeps its files locked until they are committed. */
static int controller_remove_unlocked(int dfd, const char *name)
{
        struct stat st;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : neg_errno();
        if (!S_ISREG(st.st_mode)) {
                log_warn("msg='foreign object in the pool left untouched' file='%s' type='%s'",
                         name, fileio_type_name(st.st_mode));
                return 0;
        }
        _cleanup_close_ int fd =
            openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
        if (fd < 0)
                return errno == ENOENT ? 0 : neg_errno();
        if (flock(fd, LOCK_EX | LOCK_NB) < 0)
                return 0;
        if (unlinkat(dfd, name, 0) < 0)
                return neg_errno();
        log_info("msg='removed crash leftover' file='%s'", name);
        return 1;
}

/* A leftover: a temp file, or "<id>.img" whose "<id>.meta" was never committed. */
static bool controller_is_leftover(int dfd, const char *name)
{
        if (fileio_is_temp_name(name))
                return true;
        size_t len = strlen(name);
        if (len <= 4 || strcmp(name + len - 4, ".img") != 0 || len - 4 > STORE_ID_MAX)
                return false;
        char meta[STORE_ID_MAX + 8];
        snprintf(meta, sizeof(meta), "%.*s.meta", (int)(len - 4), name);
        return faccessat(dfd, meta, F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT;
}

static int controller_recover_dir(struct controller *c, enum store_kind kind)
{
        _cleanup_free_ char *dir = NULL;
        int r = store_dir(c->pool, kind, &dir);
        if (r < 0)
                return r;
        DIR *d = opendir(dir);
        if (!d)
                return neg_errno();
        int removed = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (!controller_is_leftover(dirfd(d), de->d_name))
                        continue;
                r = controller_remove_unlocked(dirfd(d), de->d_name);
                if (r < 0)
                        log_warn("msg='cannot remove crash leftover' file='%s/%s' errno=%d", dir,
                                 de->d_name, -r);
                else
                        removed += r;
        }
        closedir(d);
        if (removed > 0)
                fileio_fsync_dir(dir);
        return removed;
}

/* Group members whose group was never committed (node scope only: in a shared pool another
 * instance may be between its members and its group). */
static int controller_recover_groups(struct controller *c)
{
        store_id_t *ids = NULL;
        size_t n = 0;
        int removed = 0;
        int r = store_list_ids(c->pool, STORE_SNAPSHOTS, &ids, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                struct store_snapshot s = {0};
                if (store_snapshot_load(c->pool, ids[i], &s) < 0)
                        continue;
                struct store_group g = {0};
                bool orphan = s.group_id[0] && id_is_valid(s.group_id) &&
                              store_group_load(c->pool, s.group_id, &g) == -SILO_ENOTFOUND;
                if (!orphan)
                        store_group_release(&g);
                if (orphan && pool_snapshot_remove(c, s.id) >= 0)
                        removed++;
                store_snapshot_release(&s);
        }
        free(ids);
        return removed;
}

int controller_recover(struct controller *c)
{
        int total = 0;
        for (enum store_kind k = STORE_VOLUMES; k <= STORE_NODES; k++) {
                int r = controller_recover_dir(c, k);
                if (r < 0)
                        return r;
                total += r;
        }
        if (c->scope == CONFIG_SCOPE_NODE) {
                int r = controller_recover_groups(c);
                if (r < 0)
                        return r;
                total += r;
        }
        return total;
}

static int controller_check_pool(const char *pool)
{
        struct stat st;
        if (!pool || pool[0] != '/')
                return controller_fail(-SILO_EINVALID, "pool '%s' is not an absolute path",
                                       pool ? pool : "");
        if (stat(pool, &st) < 0)
                return controller_fail(neg_errno(), "cannot use pool '%s'", pool);
        if (!S_ISDIR(st.st_mode))
                return controller_fail(-ENOTDIR, "pool '%s' is not a directory", pool);
        return 0;
}

static int controller_setup(struct controller *c, const struct config *cfg)
{
        int r = store_init(c->pool);
        if (r < 0)
                return controller_fail(r, "cannot create the layout of pool '%s'", c->pool);
        r = controller_recover(c);
        if (r < 0)
                return controller_fail(r, "cannot clean up pool '%s'", c->pool);
        if (r > 0)
                log_info("msg='pool recovered' pool='%s' removed=%d", c->pool, r);
        if (cfg->mode == CONFIG_MODE_ALL) {
                r = store_node_register(c->pool, c->node_id);
                if (r < 0)
                        return controller_fail(r, "cannot register node '%s'", c->node_id);
        }
        if (c->scope == CONFIG_SCOPE_NODE && (r = index_new(c->pool, &c->index)) < 0)
                return controller_fail(r, "cannot index pool '%s'", c->pool);
        return 0;
}

int controller_new(const struct config *cfg, struct controller **ret)
{
        int r = controller_check_pool(cfg->pool);
        if (r < 0)
                return r;
        if (!id_node_is_valid(cfg->node_id))
                return controller_fail(-SILO_EINVALID, "node id '%s' is not valid",
                                       cfg->node_id ? cfg->node_id : "");
        struct controller *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->pool = strdup(cfg->pool);
        c->node_id = strdup(cfg->node_id);
        c->scope = cfg->scope;
        c->overcommit_ratio = cfg->overcommit_ratio > 0 ? cfg->overcommit_ratio : 1.0;
        c->skip_attach = cfg->skip_attach;
        c->max_volumes_per_node = cfg->max_volumes_per_node;
        c->freeze_max_ms = cfg->timeout_ms;
        pthread_mutex_init(&c->space_lock, NULL);
        pthread_mutex_init(&c->cache_lock, NULL);
        r = (!c->pool || !c->node_id) ? -ENOMEM : controller_setup(c, cfg);
        if (r >= 0 && (r = pool_refresher_start(c)) < 0)
                controller_fail(r, "cannot start the capacity refresher");
        if (r < 0) {
                controller_free(c);
                return r;
        }
        *ret = c;
        return 0;
}

void controller_free(struct controller *c)
{
        if (!c)
                return;
        pool_refresher_stop(c);
        index_free(c->index);
        pthread_mutex_destroy(&c->space_lock);
        pthread_mutex_destroy(&c->cache_lock);
        free(c->pool);
        free(c->node_id);
        free(c);
}
