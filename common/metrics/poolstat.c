#include "common/metrics/poolstat.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "common/cleanup.h"

static bool poolstat_has_suffix(const char *name, const char *suffix)
{
        size_t n = strlen(name), s = strlen(suffix);
        return n > s && strcmp(name + n - s, suffix) == 0;
}

/* Sums the data files (*.img) of one pool subdirectory. */
static void poolstat_walk(const char *dir, uint64_t *count, uint64_t *allocated, uint64_t *apparent,
                          uint64_t *unbacked)
{
        DIR *d = opendir(dir);
        if (!d)
                return;
        struct dirent *e;
        while ((e = readdir(d))) {
                if (!poolstat_has_suffix(e->d_name, ".img"))
                        continue;
                struct stat st;
                if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                    !S_ISREG(st.st_mode))
                        continue;
                (*count)++;
                *allocated += (uint64_t)st.st_blocks * 512;
                if (apparent)
                        *apparent += (uint64_t)st.st_size;
                uint64_t alloc = (uint64_t)st.st_blocks * 512;
                if (unbacked && (uint64_t)st.st_size > alloc)
                        *unbacked += (uint64_t)st.st_size - alloc;
        }
        closedir(d);
}

static bool poolstat_read_line(const char *path, char *buf, size_t size)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        ssize_t n = read(fd, buf, size - 1);
        if (n <= 0)
                return false;
        buf[n] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        return true;
}

/* Loop devices list their backing file in /sys/block/loopN/loop/backing_file while bound. */
static void poolstat_loops(const char *pool, struct poolstat *ret)
{
        char volumes[PATH_MAX + 16];
        snprintf(volumes, sizeof(volumes), "%s/volumes/", pool);
        size_t pool_len = strlen(pool), volumes_len = strlen(volumes);

        DIR *d = opendir("/sys/block");
        if (!d)
                return;
        struct dirent *e;
        while ((e = readdir(d))) {
                char path[300], backing[PATH_MAX];
                if (strncmp(e->d_name, "loop", 4) != 0)
                        continue;
                snprintf(path, sizeof(path), "/sys/block/%s/loop/backing_file", e->d_name);
                if (!poolstat_read_line(path, backing, sizeof(backing)))
                        continue;
                if (strncmp(backing, pool, pool_len) != 0 || backing[pool_len] != '/')
                        continue;
                ret->loop_devices++;
                if (strncmp(backing, volumes, volumes_len) == 0)
                        ret->volumes_attached++;
        }
        closedir(d);
}

int poolstat_read(const char *pool, struct poolstat *ret)
{
        /* The kernel reports backing files by their resolved path. */
        _cleanup_free_ char *real = realpath(pool, NULL);
        if (!real)
                return neg_errno();
        struct statvfs vfs;
        if (statvfs(real, &vfs) < 0)
                return neg_errno();

        struct poolstat st = {
            .capacity_bytes = (uint64_t)vfs.f_blocks * vfs.f_frsize,
            .available_bytes = (uint64_t)vfs.f_bavail * vfs.f_frsize,
        };
        char dir[PATH_MAX + 16];
        snprintf(dir, sizeof(dir), "%s/volumes", real);
        poolstat_walk(dir, &st.volumes, &st.used_bytes, &st.provisioned_bytes, &st.unbacked_bytes);
        snprintf(dir, sizeof(dir), "%s/snapshots", real);
        poolstat_walk(dir, &st.snapshots, &st.used_bytes, NULL, NULL);
        poolstat_loops(real, &st);
        *ret = st;
        return 0;
}

static void poolstat_gauge(struct promtext *w, const char *name, const char *help, uint64_t v)
{
        promtext_family(w, name, "gauge", help);
        promtext_sample_u64(w, name, NULL, v);
}

void poolstat_render(struct promtext *w, const char *pool)
{
        struct poolstat st = {0};
        if (!pool || poolstat_read(pool, &st) < 0)
                return;
        poolstat_gauge(w, "silo_pool_capacity_bytes", "Size of the pool's filesystem.",
                       st.capacity_bytes);
        poolstat_gauge(w, "silo_pool_available_bytes", "Free space on the pool's filesystem.",
                       st.available_bytes);
        poolstat_gauge(w, "silo_pool_used_bytes", "Bytes allocated by volume and snapshot files.",
                       st.used_bytes);
        poolstat_gauge(w, "silo_pool_provisioned_bytes", "Sum of the volumes' sizes.",
                       st.provisioned_bytes);
        poolstat_gauge(w, "silo_pool_thin_unbacked_bytes",
                       "Bytes thin volumes may still claim from the pool (their holes); above "
                       "silo_pool_available_bytes, writes can fail.",
                       st.unbacked_bytes);

        uint64_t attached = st.volumes_attached < st.volumes ? st.volumes_attached : st.volumes;
        promtext_family(w, "silo_volumes", "gauge",
                        "Volumes in the pool by state (attached: a loop device is bound).");
        promtext_sample_u64(w, "silo_volumes", "state=\"attached\"", attached);
        promtext_sample_u64(w, "silo_volumes", "state=\"detached\"", st.volumes - attached);
        promtext_family(w, "silo_snapshots", "gauge", "Snapshots in the pool by state.");
        promtext_sample_u64(w, "silo_snapshots", "state=\"ready\"", st.snapshots);
        poolstat_gauge(w, "silo_loop_devices_attached",
                       "Loop devices whose backing file is in the pool.", st.loop_devices);
}
