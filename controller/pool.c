#include "controller/controller.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>

#include "common/err.h"
#include "common/store/store-space.h"
#include "common/cleanup.h"

#define POOL_ALIGN_FINE 4096ull

static uint64_t pool_round_up(uint64_t v, uint64_t align)
{
        return (v + align - 1) / align * align;
}

int pool_capacity_pick(int64_t required, int64_t limit, uint64_t *ret)
{
        if (required < 0 || limit < 0)
                return controller_fail(-SILO_EINVALID, "capacity must not be negative");
        if (limit > 0 && limit < required)
                return controller_fail(-SILO_EOUTOFRANGE,
                                       "capacity limit %lld is below the required %lld bytes",
                                       (long long)limit, (long long)required);
        uint64_t lim = limit > 0 ? (uint64_t)limit : CONTROLLER_MAX_SIZE;
        uint64_t want = required > 0 ? (uint64_t)required : CONTROLLER_DEFAULT_SIZE;
        uint64_t size = pool_round_up(want, CONTROLLER_MIB);
        if (size > lim && required == 0)
                size = lim / CONTROLLER_MIB * CONTROLLER_MIB;
        if (size > lim)
                size = pool_round_up(want, POOL_ALIGN_FINE);
        if (size > lim || size < CONTROLLER_MIN_SIZE || size > CONTROLLER_MAX_SIZE)
                return controller_fail(-SILO_EOUTOFRANGE,
                                       "no volume size between %lld and %llu bytes is possible "
                                       "(minimum %llu, maximum %llu)",
                                       (long long)required, (unsigned long long)lim,
                                       CONTROLLER_MIN_SIZE, CONTROLLER_MAX_SIZE);
        *ret = size;
        return 0;
}

int pool_unbacked_bytes(struct controller *c, uint64_t *ret)
{
        return store_space_unbacked(c->pool, ret);
}

static int pool_free_bytes(struct controller *c, uint64_t *ret)
{
        struct statvfs sv;
        if (statvfs(c->pool, &sv) < 0)
                return controller_fail(neg_errno(), "cannot stat pool '%s'", c->pool);
        *ret = (uint64_t)sv.f_bavail * sv.f_frsize;
        return 0;
}

#define POOL_UNBACKED_TTL_MS     1000
#define POOL_SWEEP_BATCH         1000  /* node scope: volumes measured again per refresh */
#define POOL_UNBACKED_ACTIVE_MS  10000 /* after that long without a reader, stop rescanning */
#define POOL_UNBACKED_MAX_AGE_MS 2000  /* older than this, the caller rescans itself */

static uint64_t pool_now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000 + 1;
}

static void pool_unbacked_add_locked(struct controller *c, int64_t delta)
{
        if (delta < 0 && (uint64_t)-delta > c->unbacked)
                c->unbacked = 0;
        else
                c->unbacked += (uint64_t)delta;
}

static int pool_unbacked_scan_locked(struct controller *c, uint64_t now)
{
        uint64_t v = 0;
        int r = 0;
        if (c->index) {
                (void)index_unbacked_sweep(c->index, SIZE_MAX);
                v = index_unbacked_total(c->index);
        } else {
                r = pool_unbacked_bytes(c, &v);
        }
        if (r < 0)
                return r;
        c->unbacked = v;
        c->unbacked_at_ms = now;
        c->unbacked_gen++;
        return 0;
}

/* While calls keep coming the refresher keeps the sum younger than about a second, and it is
 * served as is. The caller rescans itself (under the lock, so that it sees the error) only
 * the first time, after forget or a failed rescan, and when the refresher had gone idle: the
 * sum is then older than POOL_UNBACKED_MAX_AGE_MS and using it could let a create through
 * that volumes created meanwhile by other instances no longer allow. */
static int pool_unbacked_cached(struct controller *c, uint64_t *ret)
{
        uint64_t now = pool_now_ms();
        pthread_mutex_lock(&c->cache_lock);
        int r = 0;
        bool old = !c->index && now - c->unbacked_at_ms > POOL_UNBACKED_MAX_AGE_MS;
        if (!c->unbacked_at_ms || old)
                r = pool_unbacked_scan_locked(c, now);
        c->unbacked_read_ms = now;
        if (c->refresher_idle)
                pthread_cond_signal(&c->cache_cond);
        uint64_t v = c->unbacked;
        pthread_mutex_unlock(&c->cache_lock);
        if (r >= 0)
                *ret = v;
        return r;
}

void pool_unbacked_adjust(struct controller *c, int64_t delta)
{
        pthread_mutex_lock(&c->cache_lock);
        pool_unbacked_add_locked(c, delta);
        if (c->unbacked_scanning)
                c->unbacked_moved += delta;
        pthread_mutex_unlock(&c->cache_lock);
}

void pool_unbacked_changed(struct controller *c, const char *id, int64_t delta)
{
        pool_unbacked_adjust(c, c->index ? index_unbacked_remeasure(c->index, id) : delta);
}

void pool_unbacked_forget(struct controller *c)
{
        pthread_mutex_lock(&c->cache_lock);
        c->unbacked_at_ms = 0;
        c->unbacked_gen++;
        pthread_mutex_unlock(&c->cache_lock);
}

/* Walks the pool with the lock released. Adjustments made meanwhile are added to the result:
 * a change the walk already saw is then counted twice until the next rescan, which errs
 * towards less thin capacity rather than more. */
/* Node scope: every change this process makes is counted as it happens; only what others
 * write into volume files (a pod filling holes, a discard punching them) moves the sum behind
 * our back. A bounded batch of volumes is measured again per refresh, never the whole pool. */
static void pool_sweep_locked(struct controller *c, uint64_t now)
{
        uint64_t gen = c->unbacked_gen;
        pthread_mutex_unlock(&c->cache_lock);
        int64_t delta = index_unbacked_sweep(c->index, POOL_SWEEP_BATCH);
        pthread_mutex_lock(&c->cache_lock);
        if (gen != c->unbacked_gen)
                return; /* a full measurement meanwhile counted this batch's change */
        pool_unbacked_add_locked(c, delta);
        c->unbacked_at_ms = now;
}

static void pool_refresh_locked(struct controller *c, uint64_t now)
{
        uint64_t gen = c->unbacked_gen, v = 0;
        c->unbacked_scanning = true;
        c->unbacked_moved = 0;
        pthread_mutex_unlock(&c->cache_lock);
        int r = pool_unbacked_bytes(c, &v);
        pthread_mutex_lock(&c->cache_lock);
        c->unbacked_scanning = false;
        if (gen != c->unbacked_gen)
                return; /* forgotten or recomputed meanwhile */
        if (r < 0) {
                c->unbacked_at_ms = 0; /* the next reader rescans and reports the error */
                return;
        }
        c->unbacked = v;
        pool_unbacked_add_locked(c, c->unbacked_moved);
        c->unbacked_at_ms = now;
}

static void pool_wait_until_locked(struct controller *c, uint64_t at_ms)
{
        struct timespec ts = {.tv_sec = (time_t)(at_ms / 1000),
                              .tv_nsec = (long)(at_ms % 1000) * 1000000};
        pthread_cond_timedwait(&c->cache_cond, &c->cache_lock, &ts);
}

static void *pool_refresher_main(void *arg)
{
        struct controller *c = arg;
        pthread_mutex_lock(&c->cache_lock);
        while (!c->refresher_stop) {
                uint64_t now = pool_now_ms();
                bool active =
                    c->unbacked_at_ms && now - c->unbacked_read_ms <= POOL_UNBACKED_ACTIVE_MS;
                if (!active) {
                        c->refresher_idle = true;
                        pthread_cond_wait(&c->cache_cond, &c->cache_lock);
                        c->refresher_idle = false;
                } else if (now - c->unbacked_at_ms < POOL_UNBACKED_TTL_MS) {
                        /* pool_now_ms() is CLOCK_MONOTONIC + 1 ms, the condvar's clock */
                        pool_wait_until_locked(c, c->unbacked_at_ms + POOL_UNBACKED_TTL_MS - 1);
                } else if (c->index) {
                        pool_sweep_locked(c, now);
                } else {
                        pool_refresh_locked(c, now);
                }
        }
        pthread_mutex_unlock(&c->cache_lock);
        return NULL;
}

int pool_refresher_start(struct controller *c)
{
        pthread_condattr_t attr;
        pthread_condattr_init(&attr);
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        int r = -pthread_cond_init(&c->cache_cond, &attr);
        pthread_condattr_destroy(&attr);
        if (r < 0)
                return r;
        pthread_mutex_lock(&c->cache_lock);
        (void)pool_unbacked_scan_locked(c, pool_now_ms());
        pthread_mutex_unlock(&c->cache_lock);
        r = -pthread_create(&c->refresher, NULL, pool_refresher_main, c);
        if (r < 0) {
                pthread_cond_destroy(&c->cache_cond);
                return r;
        }
        c->refresher_running = true;
        return 0;
}

void pool_refresher_stop(struct controller *c)
{
        if (!c->refresher_running)
                return;
        pthread_mutex_lock(&c->cache_lock);
        c->refresher_stop = true;
        pthread_cond_signal(&c->cache_cond);
        pthread_mutex_unlock(&c->cache_lock);
        pthread_join(c->refresher, NULL);
        pthread_cond_destroy(&c->cache_cond);
        c->refresher_running = false;
}

uint64_t pool_file_unbacked(int fd)
{
        return store_space_file_unbacked(fd);
}

int pool_space(struct controller *c, uint64_t *ret_free, uint64_t *ret_unbacked)
{
        uint64_t free_bytes = 0, unbacked = 0;
        int r = pool_free_bytes(c, &free_bytes);
        if (r >= 0)
                r = pool_unbacked_cached(c, &unbacked);
        if (r < 0)
                return r;
        *ret_free = free_bytes;
        *ret_unbacked = unbacked;
        return 0;
}

int pool_available(struct controller *c, enum store_provisioning prov, uint64_t *ret)
{
        uint64_t free_bytes = 0, unbacked = 0;
        int r = pool_free_bytes(c, &free_bytes);
        if (r < 0 || prov == STORE_THICK) {
                if (r >= 0)
                        *ret = free_bytes;
                return r;
        }
        r = pool_unbacked_cached(c, &unbacked);
        if (r < 0)
                return controller_fail(r, "cannot scan pool '%s'", c->pool);
        double thin = (double)free_bytes * c->overcommit_ratio;
        *ret = thin > (double)unbacked ? (uint64_t)(thin - (double)unbacked) : 0;
        return 0;
}

int pool_allocate(int fd, enum store_provisioning prov, uint64_t old_size, uint64_t new_size)
{
        if (new_size < old_size)
                return -EINVAL;
        if (prov == STORE_THICK) {
                if (new_size > old_size &&
                    fallocate(fd, 0, (off_t)old_size, (off_t)(new_size - old_size)) < 0)
                        return neg_errno();
                return 0;
        }
        if (ftruncate(fd, (off_t)new_size) < 0)
                return neg_errno();
        return 0;
}

static int pool_tmp_path(struct controller *c, enum store_kind kind, const char *id, char **ret)
{
        _cleanup_free_ char *dir = NULL;
        if (store_dir(c->pool, kind, &dir) < 0 || asprintf(ret, "%s/.%s.img.tmp-data", dir, id) < 0)
                return -ENOMEM;
        return 0;
}

/* An existing temp file is either in use (locked) or a crash leftover we may replace. */
static int pool_tmp_reclaim(const char *path)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return errno == ENOENT ? 0 : neg_errno();
        if (flock(fd, LOCK_EX | LOCK_NB) < 0)
                return controller_fail(-SILO_EPENDING, "another driver instance is creating '%s'",
                                       path);
        if (unlink(path) < 0 && errno != ENOENT)
                return neg_errno();
        return 0;
}

int pool_tmp_create(struct controller *c, enum store_kind kind, const char *id, int *ret_fd)
{
        _cleanup_free_ char *path = NULL;
        int r = pool_tmp_path(c, kind, id, &path);
        for (int attempt = 0; r >= 0 && attempt < 2; attempt++) {
                _cleanup_close_ int fd =
                    open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
                if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0) {
                        *ret_fd = TAKE_FD(fd);
                        return 0;
                }
                if (fd >= 0 || errno != EEXIST)
                        return controller_fail(neg_errno(), "cannot create '%s'", path);
                r = pool_tmp_reclaim(path);
        }
        return r < 0 ? r : controller_fail(-SILO_EPENDING, "'%s' is busy", path);
}

int pool_tmp_commit(struct controller *c, enum store_kind kind, const char *id, int fd,
                    bool has_data)
{
        _cleanup_free_ char *tmp = NULL;
        _cleanup_free_ char *dst = NULL;
        int r = pool_tmp_path(c, kind, id, &tmp);
        if (r < 0 || store_path(c->pool, kind, id, ".img", &dst) < 0)
                return -ENOMEM;
        /* Only written data needs a sync of its own. A fresh file's size and extents and this
         * rename are metadata, journaled in order before the .meta file that commits the
         * object: that file's sync commits them too (ext4, xfs, btrfs). */
        if (has_data && fsync(fd) < 0)
                return controller_fail(neg_errno(), "cannot sync '%s'", tmp);
        if (rename(tmp, dst) < 0)
                return controller_fail(neg_errno(), "cannot rename '%s'", tmp);
        return 0;
}

void pool_tmp_discard(struct controller *c, enum store_kind kind, const char *id)
{
        _cleanup_free_ char *tmp = NULL;
        if (pool_tmp_path(c, kind, id, &tmp) == 0)
                unlink(tmp);
}

int pool_data_open(struct controller *c, enum store_kind kind, const char *id, int flags,
                   int *ret_fd)
{
        int r = store_data_open(c->pool, kind, id, flags, ret_fd);
        if (r == -SILO_EPRECOND)
                return controller_fail(r,
                                       "the data file of '%s' in the pool is %s, not a regular "
                                       "file of the pool; silo never uses it",
                                       id, store_data_what(c->pool, kind, id));
        if (r == -ENOENT)
                return controller_fail(-SILO_EPRECOND, "the data file of '%s' is missing", id);
        if (r < 0)
                return controller_fail(r, "cannot open the data file of '%s'", id);
        return 0;
}

int pool_lock_data(struct controller *c, enum store_kind kind, const char *id, int *ret_fd)
{
        _cleanup_close_ int fd = -1;
        /* Nothing to lock when it is missing or foreign: never lock (or block on) a FIFO. */
        int r = store_data_open(c->pool, kind, id, O_RDONLY, &fd);
        if (r < 0 && r != -ENOENT && r != -SILO_EPRECOND)
                return controller_fail(r, "cannot open the data file of '%s'", id);
        while (fd >= 0 && flock(fd, LOCK_EX) < 0)
                if (errno != EINTR)
                        return controller_fail(neg_errno(), "cannot lock the data file of '%s'",
                                               id);
        *ret_fd = TAKE_FD(fd);
        return 0;
}
