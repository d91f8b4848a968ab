/* Filesystems on a volume's device: format, measure, grow. The work is done by e2fsprogs and
 * xfsprogs run as child processes (node/spawn.h); on failure why receives the tool's last
 * line of output. Supported types: "ext4", "xfs". */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

bool fs_type_is_supported(const char *type);

/* Formats dev. ext4 without reserved blocks (-m 0); thick volumes without discard (which
 * would punch holes into the fully allocated file). Neither tool is forced: a signature
 * found on the device makes them refuse. */
int fs_mkfs(const char *dev, const char *type, bool thick, char *why, size_t why_size);

/* Size of the filesystem on dev in bytes, read from its superblock. -EMEDIUMTYPE when the
 * superblock is not of that type. */
int fs_size(const char *dev, const char *type, uint64_t *ret);

/* Grows an unmounted ext4 to the size of its device (e2fsck -f -p, then resize2fs).
 * -EOPNOTSUPP for xfs, which only grows mounted. */
int fs_grow_offline(const char *dev, const char *type, char *why, size_t why_size);

/* Grows a mounted filesystem to the size of its device: resize2fs dev (ext4), xfs_growfs
 * mountpoint (xfs). -EPERM when the kernel refused for lack of privilege (resize2fs online
 * needs CAP_SYS_RESOURCE). */
/* Checks an ext4 filesystem before it is mounted (e2fsck -p; other types: 0). 0: clean;
 * 1: e2fsck repaired it (what it said in report: data may have been lost); -EIO: errors it
 * could not repair (report says which). */
int fs_check(const char *dev, const char *type, char *report, size_t size);

int fs_grow_online(const char *dev, const char *mountpoint, const char *type, char *why,
                   size_t why_size);
