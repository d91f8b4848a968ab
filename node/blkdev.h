/* Block devices: what a device holds (libblkid) and its node (libudev).
 * blkdev.c is the only file that includes libblkid and libudev. Thread-safe. */
#pragma once

#include <stddef.h>
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

/* Waits up to timeout_ms for the node of block device devno. node (size bytes) names it on
 * entry: the kernel's name ("/dev/loop3"), which devtmpfs creates as the device appears, is
 * stat'ed every millisecond. When that is not devno within the first 100 ms, the wait goes on
 * with the name libudev gives the device ("/dev/" and its DEVNAME in sysfs), and node is
 * rewritten to it on success. -ETIMEDOUT when neither appears, -ENODEV when devno is no block
 * device, -ENAMETOOLONG when udev's name does not fit. */
int blkdev_wait_node(char *node, size_t size, dev_t devno, unsigned timeout_ms);

/* Size in bytes of the open block device fd. */
int blkdev_size(int fd, uint64_t *ret);
