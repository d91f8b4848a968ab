/* Block devices: what a device holds (libblkid) and its node and properties (libudev).
 * blkdev.c is the only file that includes libblkid and libudev. Thread-safe. */
#pragma once

#include <stdint.h>
#include <sys/types.h>

enum blkdev_content {
        BLKDEV_EMPTY,      /* no signature libblkid knows: safe to format */
        BLKDEV_FILESYSTEM, /* a filesystem; type says which */
        BLKDEV_OTHER,      /* anything else: partition table, RAID/LVM member, swap, crypto,
                              or several signatures at once */
};

struct blkdev_signature {
        enum blkdev_content content;
        char type[32]; /* "ext4", "xfs", "dos", "LVM2_member", "ambivalent", "" when empty */
};

/* Probes the device (superblocks and partition tables). Never writes to it. */
int blkdev_probe(const char *devnode, struct blkdev_signature *ret);

/* Waits up to timeout_ms for node ("/dev/loop3", the kernel's name, which devtmpfs creates)
 * to be the block device devno: a stat per millisecond, no walk of sysfs. -ETIMEDOUT when it
 * does not appear. */
int blkdev_wait_node(const char *node, dev_t devno, unsigned timeout_ms);

/* Reads the udev property key ("DEVNAME", "ID_FS_TYPE", ...) of block device devno.
 * -ENOENT when the device has no such property. */
int blkdev_property(dev_t devno, const char *key, char **ret);

/* Size in bytes of the open block device fd. */
int blkdev_size(int fd, uint64_t *ret);
