/* Is a volume still safe to write? What the kernel recorded about its filesystem, and whether
 * the pool can back its holes. Internal to node/ (node.h has node_health). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "node/loop.h"
#include "node/mount.h"
#include "node/node.h"

/* 1 and why filled when the filesystem of loop device l (its mounts in t) recorded errors:
 * ext4's error counter, a read-only superblock under a read-write mount (errors=remount-ro,
 * emergency_ro), or a shut-down XFS (its root answers EIO). 0 when healthy or not mounted. */
int health_fs(const char *volume_id, const struct loop_dev *l, const struct mount_table *t,
              char *why, size_t size);

#define HEALTH_REPORT_MAX 256

/* Records beside data_path ("<id>.img") in "<id>.fsck" that a check at stage found and repaired
 * errors (report: what e2fsck said). The file stays until the volume is deleted, or until an
 * operator who checked the data removes it: until then the volume's condition is abnormal. */
int health_record_repair(const char *data_path, const char *report);

/* 1 and why filled when such a record exists. */
int health_repaired(const char *volume_id, const char *data_path, char *why, size_t size);

/* 1 and why filled when the volume's data file has holes and the pool can no longer back
 * them (store_space_is_short). Pool figures are cached for a second. */
int health_pool(struct node *n, const char *volume_id, const char *data_path, char *why,
                size_t size);
