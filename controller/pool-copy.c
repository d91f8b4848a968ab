/* Copying a volume's data for snapshots, clones and restores: FICLONE where the pool's
 * filesystem shares blocks, else the data extents only, in the kernel where it can. */
#include "controller/controller.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/fileio.h"
#include "common/cleanup.h"

#define POOL_COPY_BUF (1 << 20)

/* Copies [off, end) through user space, for filesystems without copy_file_range support. */
static int pool_copy_user(int src_fd, int dst_fd, off_t off, off_t end, char **buf)
{
        if (!*buf && !(*buf = malloc(POOL_COPY_BUF)))
                return -ENOMEM;
        while (off < end) {
                size_t want =
                    (size_t)(end - off) < POOL_COPY_BUF ? (size_t)(end - off) : POOL_COPY_BUF;
                ssize_t n = pread(src_fd, *buf, want, off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return neg_errno();
                if (n == 0)
                        break;
                int r = fileio_pwrite_full(dst_fd, *buf, (size_t)n, (uint64_t)off);
                if (r < 0)
                        return r;
                off += n;
        }
        return 0;
}

/* copy_file_range cannot serve this pair of files (old kernel, other filesystem type). */
static bool pool_copy_is_unsupported(int e)
{
        return e == ENOSYS || e == EXDEV || e == EOPNOTSUPP || e == EINVAL;
}

/* Copies [off, end) of one data extent in the kernel (it may share blocks instead), else
 * through user space. */
static int pool_copy_range(int src_fd, int dst_fd, off_t off, off_t end, char **buf)
{
        while (off < end) {
                loff_t in = off, out = off;
                ssize_t n = copy_file_range(src_fd, &in, dst_fd, &out, (size_t)(end - off), 0);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && pool_copy_is_unsupported(errno))
                        return pool_copy_user(src_fd, dst_fd, off, end, buf);
                if (n < 0)
                        return neg_errno();
                if (n == 0)
                        break; /* the source shrank */
                off += n;
        }
        return 0;
}

/* Copies the data extents of src below size; holes stay holes. */
static int pool_copy_extents(int src_fd, int dst_fd, uint64_t size, char **buf)
{
        off_t off = 0;
        while ((uint64_t)off < size) {
                off_t data = lseek(src_fd, off, SEEK_DATA);
                if (data < 0 && errno == ENXIO)
                        break; /* only a hole remains */
                if (data < 0)
                        return neg_errno();
                if ((uint64_t)data >= size)
                        break;
                off_t hole = lseek(src_fd, data, SEEK_HOLE);
                if (hole < 0)
                        return neg_errno();
                if ((uint64_t)hole > size)
                        hole = (off_t)size;
                int r = pool_copy_range(src_fd, dst_fd, data, hole, buf);
                if (r < 0)
                        return r;
                off = hole;
        }
        return 0;
}

int pool_copy_sparse(int src_fd, int dst_fd, uint64_t size)
{
        if (ftruncate(dst_fd, (off_t)size) < 0)
                return neg_errno();
        char *buf = NULL;
        int r = pool_copy_extents(src_fd, dst_fd, size, &buf);
        free(buf);
        return r;
}

int pool_copy(int src_fd, int dst_fd, uint64_t size)
{
        struct stat st;
        if (fstat(src_fd, &st) < 0)
                return neg_errno();
        if ((uint64_t)st.st_size == size && ioctl(dst_fd, FICLONE, src_fd) == 0)
                return 1;
        int r = pool_copy_sparse(src_fd, dst_fd, size);
        return r < 0 ? r : 0;
}
