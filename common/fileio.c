#include "common/fileio.h"

#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cleanup.h"

int fileio_fsync_dir(const char *dir)
{
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return neg_errno();
        if (fsync(fd) < 0)
                return neg_errno();
        return 0;
}

static int fileio_write_full(int fd, const void *data, size_t len)
{
        const char *p = data;
        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return neg_errno();
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

static int fileio_write_temp(const char *tmp, const void *data, size_t len)
{
        _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
                return neg_errno();
        int r = fileio_write_full(fd, data, len);
        if (r < 0)
                return r;
        if (fsync(fd) < 0)
                return neg_errno();
        return 0;
}

int fileio_write_atomic(const char *dir, const char *name, const void *data, size_t len)
{
        static atomic_uint counter;
        unsigned seq = atomic_fetch_add(&counter, 1);
        _cleanup_free_ char *tmp = NULL;
        _cleanup_free_ char *dst = NULL;
        if (asprintf(&tmp, "%s/.%s.tmp-%d-%u", dir, name, (int)getpid(), seq) < 0 ||
            asprintf(&dst, "%s/%s", dir, name) < 0)
                return -ENOMEM;
        int r = fileio_write_temp(tmp, data, len);
        if (r < 0 || rename(tmp, dst) < 0) {
                r = r < 0 ? r : neg_errno();
                unlink(tmp);
                return r;
        }
        return fileio_fsync_dir(dir);
}

static int fileio_read_fd(int fd, size_t max, char *buf, size_t *ret_len)
{
        size_t len = 0;
        for (;;) {
                ssize_t n = read(fd, buf + len, max + 1 - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return neg_errno();
                if (n == 0)
                        break;
                len += (size_t)n;
                if (len > max)
                        return -EFBIG;
        }
        *ret_len = len;
        return 0;
}

int fileio_read_all(const char *path, size_t max, char **ret_buf, size_t *ret_len)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return neg_errno();
        _cleanup_free_ char *buf = malloc(max + 2);
        if (!buf)
                return -ENOMEM;
        size_t len = 0;
        int r = fileio_read_fd(fd, max, buf, &len);
        if (r < 0)
                return r;
        buf[len] = '\0';
        *ret_buf = TAKE_PTR(buf);
        if (ret_len)
                *ret_len = len;
        return 0;
}

int fileio_is_temp_name(const char *name)
{
        return name[0] == '.' && strstr(name, ".tmp-") != NULL;
}
