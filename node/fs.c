#include "node/fs.h"

#include <endian.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "common/cleanup.h"
#include "node/spawn.h"

#define FS_OUT_MAX   4096
#define FS_HEAD_SIZE 4096

bool fs_type_is_supported(const char *type)
{
        return strcmp(type, "ext4") == 0 || strcmp(type, "xfs") == 0;
}

/* Runs argv; nonzero exit (above max_ok) is -EIO with the tool's last line in why. */
static int fs_run(const char *const *argv, int max_ok, char *why, size_t why_size)
{
        char out[FS_OUT_MAX], last[512];
        int r = spawn_run(argv, out, sizeof(out));

        if (r < 0) {
                snprintf(why, why_size, "cannot run %s", argv[0]);
                return r;
        }
        if (r <= max_ok)
                return 0;
        spawn_error_line(out, last, sizeof(last));
        snprintf(why, why_size, "%s exited with status %d: %s", argv[0], r, last);
        if (strstr(out, "Operation not permitted") || strstr(out, "Permission denied"))
                return -EPERM;
        return -EIO;
}

int fs_mkfs(const char *dev, const char *type, bool thick, char *why, size_t why_size)
{
        if (strcmp(type, "ext4") == 0) {
                const char *thin_argv[] = {"mkfs.ext4", "-q", "-m", "0", dev, NULL};
                const char *thick_argv[] = {"mkfs.ext4", "-q",        "-m", "0",
                                            "-E",        "nodiscard", dev,  NULL};
                return fs_run(thick ? thick_argv : thin_argv, 0, why, why_size);
        }
        if (strcmp(type, "xfs") == 0) {
                const char *thin_argv[] = {"mkfs.xfs", "-q", dev, NULL};
                const char *thick_argv[] = {"mkfs.xfs", "-q", "-K", dev, NULL};
                return fs_run(thick ? thick_argv : thin_argv, 0, why, why_size);
        }
        return -EINVAL;
}

/* Reads the first 4 KiB of dev with O_DIRECT: a mounted XFS writes its superblock through
 * its own buffers, so the device's page cache may hold an older copy. */
static int fs_read_head(const char *dev, unsigned char *buf)
{
        _cleanup_close_ int fd = open(dev, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_DIRECT);
        _cleanup_free_ void *aligned = NULL;
        ssize_t n;

        memset(buf, 0, FS_HEAD_SIZE);
        if (fd < 0)
                return neg_errno();
        if (posix_memalign(&aligned, FS_HEAD_SIZE, FS_HEAD_SIZE) != 0)
                return -ENOMEM;
        memset(aligned, 0, FS_HEAD_SIZE);
        n = pread(fd, aligned, FS_HEAD_SIZE, 0);
        if (n < 0)
                return neg_errno();
        if (n != FS_HEAD_SIZE)
                return -EIO;
        memcpy(buf, aligned, FS_HEAD_SIZE);
        return 0;
}

static uint32_t fs_le32(const unsigned char *p)
{
        uint32_t v;

        memcpy(&v, p, sizeof(v));
        return le32toh(v);
}

static int fs_size_ext4(const char *dev, uint64_t *ret)
{
        unsigned char head[FS_HEAD_SIZE], *sb = head + 1024;
        uint64_t blocks;
        uint32_t log;
        int r = fs_read_head(dev, head);

        if (r < 0)
                return r;
        if (sb[0x38] != 0x53 || sb[0x39] != 0xef)
                return -EMEDIUMTYPE;
        blocks = fs_le32(sb + 0x4);
        if (fs_le32(sb + 0x60) & 0x80) /* INCOMPAT_64BIT */
                blocks |= (uint64_t)fs_le32(sb + 0x150) << 32;
        log = fs_le32(sb + 0x18);
        if (log > 6)
                return -EMEDIUMTYPE;
        *ret = blocks * (1024u << log);
        return 0;
}

static int fs_size_xfs(const char *dev, uint64_t *ret)
{
        unsigned char sb[FS_HEAD_SIZE];
        uint32_t bsize;
        uint64_t dblocks;
        int r = fs_read_head(dev, sb);

        if (r < 0)
                return r;
        if (memcmp(sb, "XFSB", 4) != 0)
                return -EMEDIUMTYPE;
        memcpy(&bsize, sb + 4, sizeof(bsize));
        memcpy(&dblocks, sb + 8, sizeof(dblocks));
        *ret = be64toh(dblocks) * be32toh(bsize);
        return 0;
}

int fs_size(const char *dev, const char *type, uint64_t *ret)
{
        if (strcmp(type, "ext4") == 0)
                return fs_size_ext4(dev, ret);
        if (strcmp(type, "xfs") == 0)
                return fs_size_xfs(dev, ret);
        return -EINVAL;
}

int fs_grow_offline(const char *dev, const char *type, char *why, size_t why_size)
{
        /* e2fsck exits 1 when it fixed something: still fine to resize. */
        const char *fsck_argv[] = {"e2fsck", "-f", "-p", dev, NULL};
        const char *resize_argv[] = {"resize2fs", dev, NULL};
        int r;

        if (strcmp(type, "ext4") != 0)
                return -EOPNOTSUPP;
        r = fs_run(fsck_argv, 1, why, why_size);
        if (r < 0)
                return r;
        return fs_run(resize_argv, 0, why, why_size);
}

int fs_check(const char *dev, const char *type, char *report, size_t size)
{
        /* -p repairs what is safe without asking; it is quick on a clean filesystem. */
        const char *argv[] = {"e2fsck", "-p", dev, NULL};
        char out[FS_OUT_MAX];
        int r;

        if (strcmp(type, "ext4") != 0)
                return 0;
        r = spawn_run(argv, out, sizeof(out));
        if (r < 0) {
                snprintf(report, size, "cannot run e2fsck");
                return r;
        }
        if (r == 0)
                return 0;
        for (char *c = out; *c; c++)
                if (*c == '\n' || *c == '\'')
                        *c = ' ';
        snprintf(report, size, "e2fsck -p exited with status %d: %s", r, out);
        return r < 4 ? 1 : -EIO;
}

int fs_grow_online(const char *dev, const char *mountpoint, const char *type, char *why,
                   size_t why_size)
{
        if (strcmp(type, "ext4") == 0) {
                const char *argv[] = {"resize2fs", dev, NULL};
                return fs_run(argv, 0, why, why_size);
        }
        if (strcmp(type, "xfs") == 0) {
                const char *argv[] = {"xfs_growfs", "-d", mountpoint, NULL};
                return fs_run(argv, 0, why, why_size);
        }
        return -EINVAL;
}
