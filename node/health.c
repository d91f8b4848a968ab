#include "node/health.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/fileio.h"
#include "common/store/store-space.h"
#include "node/volstate.h"

#define HEALTH_SPACE_TTL_MS 1000

/* ext4 counts the errors it met in sysfs (and in the superblock, so they survive a remount). */
static long health_ext4_errors(const struct loop_dev *l)
{
        char path[96], buf[32];
        snprintf(path, sizeof(path), "/sys/fs/ext4/loop%d/errors_count", l->nr);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n;
        if (fd < 0 || (n = read(fd, buf, sizeof(buf) - 1)) <= 0)
                return 0;
        buf[n] = '\0';
        return strtol(buf, NULL, 10);
}

static bool health_xfs_is_shut_down(const struct mount_info *m)
{
        _cleanup_close_ int fd = open(m->target, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK);
        return fd < 0 && errno == EIO;
}

/* A read-only superblock under a mount that is read-write: the filesystem turned read-only
 * by itself (errors=remount-ro), which no mount of silo's asks for. */
static bool health_turned_ro(const struct mount_table *t, dev_t devno)
{
        for (size_t i = 0; i < t->n; i++) {
                const struct mount_info *m = &t->entries[i];
                if (m->devno != devno)
                        continue;
                if ((m->sb_readonly && !(m->flags & MS_RDONLY)) ||
                    mntflags_has(m->fs_options, "emergency_ro"))
                        return true;
        }
        return false;
}

int health_fs(const char *volume_id, const struct loop_dev *l, const struct mount_table *t,
              char *why, size_t size)
{
        const struct mount_info *m = mount_table_find_devno(t, l->devno, NULL);
        if (!m)
                return 0;
        long errors = strcmp(m->fstype, "ext4") == 0 ? health_ext4_errors(l) : 0;
        if (errors > 0) {
                snprintf(why, size,
                         "the filesystem of volume '%s' recorded %ld error(s): writes may have "
                         "been lost (kernel log); unstage and stage it again to check it",
                         volume_id, errors);
                return 1;
        }
        if (health_turned_ro(t, l->devno)) {
                snprintf(why, size,
                         "the filesystem of volume '%s' turned read-only after an error: writes "
                         "may have been lost",
                         volume_id);
                return 1;
        }
        if (strcmp(m->fstype, "xfs") == 0 && health_xfs_is_shut_down(m)) {
                snprintf(why, size,
                         "the filesystem of volume '%s' shut down after an error: writes may "
                         "have been lost",
                         volume_id);
                return 1;
        }
        return 0;
}

static uint64_t health_now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000 + 1;
}

static int health_space(struct node *n, struct store_space *ret)
{
        uint64_t now = health_now_ms();
        int r = 0;
        pthread_mutex_lock(&n->space_lock);
        if (!n->space_at_ms || now - n->space_at_ms > HEALTH_SPACE_TTL_MS) {
                r = store_space_read(n->pool, &n->space);
                n->space_at_ms = r < 0 ? 0 : now;
        }
        *ret = n->space;
        pthread_mutex_unlock(&n->space_lock);
        return r;
}

int health_pool(struct node *n, const char *volume_id, const char *data_path, char *why,
                size_t size)
{
        struct store_space s;
        struct stat st;
        if (stat(data_path, &st) < 0 || (uint64_t)st.st_blocks * 512 >= (uint64_t)st.st_size)
                return 0; /* no holes: the volume needs nothing more from the pool */
        if (health_space(n, &s) < 0 || !store_space_is_short(&s, n->overcommit_ratio))
                return 0;
        snprintf(why, size,
                 "pool '%s' has %llu bytes free but its thin volumes may still write %llu "
                 "(overcommit ratio %g): writes to volume '%s' may fail and lose data",
                 n->pool, (unsigned long long)s.free_bytes, (unsigned long long)s.unbacked_bytes,
                 n->overcommit_ratio, volume_id);
        return 1;
}

static int health_record_path(const char *data_path, char **ret)
{
        size_t len = strlen(data_path);
        if (len < 4 || strcmp(data_path + len - 4, ".img") != 0)
                return -EINVAL;
        if (asprintf(ret, "%.*s.fsck", (int)(len - 4), data_path) < 0)
                return -ENOMEM;
        return 0;
}

int health_record_repair(const char *data_path, const char *report)
{
        _cleanup_free_ char *path = NULL;
        int r = health_record_path(data_path, &path);
        if (r < 0)
                return r;
        char *slash = strrchr(path, '/');
        *slash = '\0';
        r = fileio_write_atomic(path, slash + 1, report, strlen(report));
        *slash = '/';
        return r;
}

int health_repaired(const char *volume_id, const char *data_path, char *why, size_t size)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        if (health_record_path(data_path, &path) < 0 ||
            fileio_read_all(path, HEALTH_REPORT_MAX, &buf, &len) < 0)
                return 0;
        snprintf(why, size,
                 "the filesystem of volume '%s' was repaired when it was staged (%.*s): writes "
                 "made before may have been lost; remove '%s' once the data is checked",
                 volume_id, (int)len, buf, path);
        return 1;
}

int node_health(struct node *n, const char *volume_id, char *why, size_t size)
{
        _cleanup_mount_table_ struct mount_table *t = NULL;
        struct volstate v;
        int r = volstate_load(n, volume_id, &v);
        if (r < 0)
                return 0;
        r = volstate_find_loop(&v);
        if (r == 0 && v.attached)
                r = mount_table_load(&t);
        if (r == 0 && v.attached) {
                r = health_fs(volume_id, &v.loop, t, why, size);
        }
        if (r <= 0)
                r = health_repaired(volume_id, v.data_path, why, size);
        volstate_release(&v);
        return r < 0 ? 0 : r;
}

uint64_t node_count_abnormal(struct node *n)
{
        store_id_t *ids = NULL;
        size_t n_ids = 0;
        uint64_t abnormal = 0;
        if (store_list_ids(n->pool, STORE_VOLUMES, &ids, &n_ids) < 0)
                return 0;
        for (size_t i = 0; i < n_ids; i++) {
                char why[320];
                _cleanup_free_ char *path = NULL;
                bool bad = node_health(n, ids[i], why, sizeof(why)) > 0 ||
                           (store_volume_data_path(n->pool, ids[i], &path) == 0 &&
                            health_pool(n, ids[i], path, why, sizeof(why)) > 0);
                abnormal += bad ? 1 : 0;
        }
        free(ids);
        return abnormal;
}
