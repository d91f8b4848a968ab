#include "common/store/store-space.h"

#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/store/store.h"

static uint64_t store_space_unbacked_of(const struct stat *st)
{
        uint64_t alloc = (uint64_t)st->st_blocks * 512;
        return (uint64_t)st->st_size > alloc ? (uint64_t)st->st_size - alloc : 0;
}

uint64_t store_space_file_unbacked(int fd)
{
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0)
                return 0;
        return store_space_unbacked_of(&st);
}

int store_space_unbacked(const char *pool, uint64_t *ret)
{
        _cleanup_free_ char *dir = NULL;
        int r = store_dir(pool, STORE_VOLUMES, &dir);
        if (r < 0)
                return r;
        DIR *d = opendir(dir);
        if (!d)
                return neg_errno();
        uint64_t sum = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                struct stat st;
                if (strstr(de->d_name, ".meta") ||
                    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                    !S_ISREG(st.st_mode))
                        continue;
                sum += store_space_unbacked_of(&st);
        }
        closedir(d);
        *ret = sum;
        return 0;
}

int store_space_read(const char *pool, struct store_space *ret)
{
        struct statvfs sv;
        if (statvfs(pool, &sv) < 0)
                return neg_errno();
        struct store_space s = {.free_bytes = (uint64_t)sv.f_bavail * sv.f_frsize};
        int r = store_space_unbacked(pool, &s.unbacked_bytes);
        if (r < 0)
                return r;
        *ret = s;
        return 0;
}

bool store_space_is_short(const struct store_space *s, double ratio)
{
        return (double)s->free_bytes * ratio < (double)s->unbacked_bytes;
}
