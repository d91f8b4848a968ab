/* The data files of the pool: only a regular file of the pool's own filesystem is ours. */
#include <fcntl.h>
#include <sys/stat.h>

#include "common/err.h"
#include "common/fileio.h"
#include "common/store/store.h"
#include "common/cleanup.h"

/* lstat of the data file and stat of its directory (the pool's filesystem). */
static int store_data_stat(const char *pool, enum store_kind kind, const char *id, char **ret_path,
                           struct stat *ret_st, dev_t *ret_pool_dev)
{
        _cleanup_free_ char *dir = NULL, *path = NULL;
        struct stat d = {0}, st = {0};

        if (store_dir(pool, kind, &dir) < 0 || store_path(pool, kind, id, ".img", &path) < 0 ||
            !dir || !path)
                return -ENOMEM;
        if (stat(dir, &d) < 0 || lstat(path, &st) < 0)
                return neg_errno();
        *ret_path = TAKE_PTR(path);
        *ret_st = st;
        *ret_pool_dev = d.st_dev;
        return 0;
}

static bool store_data_is_ours(const struct stat *st, dev_t pool_dev)
{
        return S_ISREG(st->st_mode) && st->st_dev == pool_dev;
}

int store_data_check(const char *pool, enum store_kind kind, const char *id)
{
        _cleanup_free_ char *path = NULL;
        struct stat st = {0};
        dev_t dev = 0;
        int r = store_data_stat(pool, kind, id, &path, &st, &dev);

        if (r < 0)
                return r;
        return store_data_is_ours(&st, dev) ? 0 : -SILO_EPRECOND;
}

int store_data_open(const char *pool, enum store_kind kind, const char *id, int flags, int *ret_fd)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -1;
        struct stat before = {0}, after = {0};
        dev_t dev = 0;
        int r = store_data_stat(pool, kind, id, &path, &before, &dev);

        if (r < 0)
                return r;
        if (!store_data_is_ours(&before, dev))
                return -SILO_EPRECOND;
        fd = open(path, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return errno == ELOOP || errno == ENXIO ? -SILO_EPRECOND : neg_errno();
        if (fstat(fd, &after) < 0)
                return neg_errno();
        /* Swapped between the two looks: whatever is there now is not what was checked. */
        if (!store_data_is_ours(&after, dev) || after.st_ino != before.st_ino)
                return -SILO_EPRECOND;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

const char *store_data_what(const char *pool, enum store_kind kind, const char *id)
{
        _cleanup_free_ char *path = NULL;
        struct stat st = {0};
        dev_t dev = 0;

        if (store_data_stat(pool, kind, id, &path, &st, &dev) < 0)
                return "missing";
        if (S_ISREG(st.st_mode) && st.st_dev != dev)
                return "a regular file on another filesystem";
        return fileio_type_name(st.st_mode);
}
