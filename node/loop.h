/* Loop devices: attach a file, find the device already backed by a file, detach, refresh
 * capacity. Thread-safe; races with other attachers are retried. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct loop_dev {
        int nr;        /* N of /dev/loopN */
        dev_t devno;   /* major:minor of the block device */
        char node[32]; /* "/dev/loopN"; stage may take udev's name (blkdev_wait_node) */
};

/* Attaches the open regular file fd (read-write) to a free loop device with one
 * LOOP_CONFIGURE: no autoclear, no direct I/O, no partition scan. Retries when another
 * attacher takes the free device first. -EINVAL when fd is not a regular file. */
int loop_attach_fd(int fd, struct loop_dev *ret);

/* loop_attach_fd of file, opened without following a symlink or blocking on a FIFO. */
int loop_attach(const char *file, struct loop_dev *ret);

/* Finds the loop device backed by file (its path in sysfs and its backing inode are the
 * file's). The devices this process attached or was told of with loop_remember() are looked
 * up by the file's device and inode and checked; any other file costs a read of every loop
 * device's backing path in sysfs (and is remembered when found). -ENOENT when none, and when
 * file is no regular file (a symlink there is never followed to another file's device). */
int loop_find(const char *file, struct loop_dev *ret);

/* loop_find() that always reads sysfs: the kernel's view, whoever attached the device. */
int loop_find_scan(const char *file, struct loop_dev *ret);

/* Tells loop_find() of a bound device attached before this process started (startup
 * reconciliation keeps the devices that are in use). */
int loop_remember(const struct loop_dev *d);

/* The loop device with block device number devno; -ENODEV when devno is not a bound loop
 * device. */
int loop_from_devno(dev_t devno, struct loop_dev *ret);

/* Path of the backing file as the kernel reports it; *ret_deleted is set when the file has
 * been unlinked since. -ENXIO when the device is not bound. */
int loop_backing_file(const struct loop_dev *d, char **ret, bool *ret_deleted);

/* True when d's backing file is the inode st describes (LOOP_GET_STATUS64; no path). */
struct stat;
bool loop_has_backing_inode(const struct loop_dev *d, const struct stat *st);

/* True when d is bound to file (same path and same inode). */
bool loop_is_backed_by(const struct loop_dev *d, const char *file);

/* Detaches (LOOP_CLR_FD). Already detached is success. The kernel defers the detach while
 * the device is still open or mounted: check the mount table first. */
int loop_detach(const struct loop_dev *d);

/* Re-reads the backing file's size (LOOP_SET_CAPACITY) and returns the new size in bytes. */
int loop_set_capacity(const struct loop_dev *d, uint64_t *ret_size);

/* Size of the device in bytes. */
int loop_size(const struct loop_dev *d, uint64_t *ret);

/* Calls fn for every bound loop device with its backing file path. Stops at and returns the
 * first negative value fn returns. */
typedef int (*loop_visit_fn)(const struct loop_dev *d, const char *backing, bool deleted,
                             void *userdata);
int loop_foreach(loop_visit_fn fn, void *userdata);
