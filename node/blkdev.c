#include "node/blkdev.h"

#include <blkid.h>
#include <fcntl.h>
#include <limits.h>
#include <libudev.h>
#include <linux/fs.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>

#include "common/cleanup.h"
#include "common/str.h"

static void blkdev_signature_set(struct blkdev_signature *s, enum blkdev_content c,
                                 const char *type)
{
        s->content = c;
        snprintf(s->type, sizeof(s->type), "%s", type ? type : "");
}

/* Reads what safeprobe found: a filesystem, or anything else that must not be overwritten. */
static void blkdev_signature_read(blkid_probe pr, struct blkdev_signature *s)
{
        const char *type = NULL, *usage = NULL;

        if (blkid_probe_lookup_value(pr, "TYPE", &type, NULL) == 0) {
                (void)blkid_probe_lookup_value(pr, "USAGE", &usage, NULL);
                bool fs = usage && strcmp(usage, "filesystem") == 0;
                blkdev_signature_set(s, fs ? BLKDEV_FILESYSTEM : BLKDEV_OTHER, type);
        } else if (blkid_probe_lookup_value(pr, "PTTYPE", &type, NULL) == 0) {
                blkdev_signature_set(s, BLKDEV_OTHER, type);
        } else {
                blkdev_signature_set(s, BLKDEV_OTHER, "unknown");
        }
}

static int blkdev_probe_run(blkid_probe pr, struct blkdev_signature *ret)
{
        int r;

        blkid_probe_enable_superblocks(pr, 1);
        blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_USAGE);
        blkid_probe_enable_partitions(pr, 1);
        blkid_probe_set_partitions_flags(pr, BLKID_PARTS_MAGIC);
        errno = 0;
        r = blkid_do_safeprobe(pr);
        if (r == 0)
                blkdev_signature_read(pr, ret);
        else if (r == 1)
                blkdev_signature_set(ret, BLKDEV_EMPTY, NULL);
        else if (r == -2)
                blkdev_signature_set(ret, BLKDEV_OTHER, "ambivalent");
        else
                return neg_errno();
        return 0;
}

static int blkdev_probe_fd(int fd, struct blkdev_signature *ret)
{
        blkid_probe pr = blkid_new_probe();
        struct blkdev_signature s = {0};
        int r;

        if (!pr)
                return -ENOMEM;
        r = blkid_probe_set_device(pr, fd, 0, 0) < 0 ? -EIO : blkdev_probe_run(pr, &s);
        blkid_free_probe(pr);
        if (r < 0)
                return r;
        *ret = s;
        return 0;
}

int blkdev_probe(const char *devnode, struct blkdev_signature *ret)
{
        _cleanup_close_ int fd = open(devnode, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

        if (fd < 0)
                return neg_errno();
        return blkdev_probe_fd(fd, ret);
}

/* A first look only at the kernel's name: devtmpfs creates it before the attach returns. */
#define BLKDEV_FAST_MS 100

/* The node udev names block device devno: "/dev/" and the DEVNAME the kernel gives in sysfs
 * (libudev reads /sys/dev/block/M:m; no udev database, no events). */
static int blkdev_udev_devnode(dev_t devno, char *buf, size_t size)
{
        struct udev *udev;
        struct udev_device *d;
        const char *name;
        int r = 0;

        errno = 0;
        udev = udev_new();
        if (!udev)
                return neg_errno();
        errno = 0;
        d = udev_device_new_from_devnum(udev, 'b', devno);
        if (!d) {
                r = errno == ENOENT || errno == ENODEV ? -ENODEV : neg_errno();
                udev_unref(udev);
                return r;
        }
        name = udev_device_get_devnode(d);
        if (!name)
                r = -ENODEV;
        else if ((size_t)snprintf(buf, size, "%s", name) >= size)
                r = -ENAMETOOLONG;
        udev_device_unref(d);
        udev_unref(udev);
        return r;
}

static bool blkdev_node_ready(const char *node, dev_t devno)
{
        struct stat st;

        return stat(node, &st) == 0 && S_ISBLK(st.st_mode) && st.st_rdev == devno;
}

/* Nanoseconds: a deadline kept in whole milliseconds could end up to 1 ms early. */
static uint64_t blkdev_now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

/* A stat per millisecond until node is devno or the monotonic clock (ns) passes deadline. */
static int blkdev_poll_node(const char *node, dev_t devno, uint64_t deadline)
{
        const struct timespec step = {.tv_nsec = 1000000};

        for (;;) {
                if (blkdev_node_ready(node, devno))
                        return 0;
                if (blkdev_now_ns() >= deadline)
                        return -ETIMEDOUT;
                nanosleep(&step, NULL);
        }
}

int blkdev_wait_node(char *node, size_t size, dev_t devno, unsigned timeout_ms)
{
        uint64_t start = blkdev_now_ns();
        unsigned fast_ms = timeout_ms < BLKDEV_FAST_MS ? timeout_ms : BLKDEV_FAST_MS;
        char named[PATH_MAX];
        int r;

        r = blkdev_poll_node(node, devno, start + fast_ms * 1000000ULL);
        if (r != -ETIMEDOUT)
                return r;
        r = blkdev_udev_devnode(devno, named, sizeof(named));
        if (r < 0)
                return r;
        if (strlen(named) >= size)
                return -ENAMETOOLONG;
        r = blkdev_poll_node(named, devno, start + timeout_ms * 1000000ULL);
        if (r < 0)
                return r;
        return str_copy(node, size, named);
}

int blkdev_size(int fd, uint64_t *ret)
{
        uint64_t size;

        if (ioctl(fd, BLKGETSIZE64, &size) < 0)
                return neg_errno();
        *ret = size;
        return 0;
}
