/* Point-in-time copies of volumes in use. A snapshot, a clone and a group snapshot freeze the
 * filesystem of every source volume staged on this node, copy, then thaw: the copy is the
 * volume at one instant with a clean filesystem, and a group is one cut across its members.
 *
 * The controller cannot see mounts; the node service of the same process can. main.c
 * registers a quiesce_hook that does the freezing, so that controller/ never includes node/.
 * Without a hook (--mode controller) no volume is frozen, and a volume in use on this host
 * or published to any node is copied only by reflink (crash-consistent), as below.
 *
 * Per source volume:
 *   - staged here with a filesystem: frozen around the copy (reflink or sparse copy);
 *   - not in use anywhere we can see: copied as it is;
 *   - in use without a filesystem we can freeze (raw block staged here, published to another
 *     node, or held by a loop device and no hook): reflink only, which is crash-consistent;
 *     a pool without reflink answers -SILO_EPRECOND and says what to do.
 * A sparse copy keeps writers frozen for its whole duration: a watchdog thaws after
 * freeze_max_ms (--timeout) and the copy fails with -SILO_ETIMEOUT instead of being kept. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "controller/controller.h"

/* What the node service of this process does for the controller. Set once at startup,
 * before the first call; the functions are called from worker threads. */
struct quiesce_hook {
        void *userdata;
        /* Freezes the filesystem of volume_id where it is staged on this node, and keeps the
         * node service from staging or unstaging it until thaw. 1: frozen; 0: not in use on
         * this node; -SILO_EPRECOND: in use but without a filesystem to freeze (raw block).
         * In these three cases *ret_token must go to thaw. Other negative codes are errors
         * (nothing to thaw). On a negative code why holds the reason. */
        int (*freeze)(void *userdata, const char *volume_id, void **ret_token, char *why,
                      size_t why_size);
        /* Thaws and releases what freeze returned. */
        void (*thaw)(void *userdata, void *token);
        /* 1 and why filled when the volume's filesystem or device on this node recorded errors
         * (VolumeCondition); 0 when not, or not staged here. */
        int (*health)(void *userdata, const char *volume_id, char *why, size_t why_size);
};

/* hook is borrowed and must outlive c. */
void quiesce_set_hook(struct controller *c, const struct quiesce_hook *hook);

struct quiesce;

/* Freezes every volume of vols that is staged on this node, in order, before returning; on a
 * failure thaws what it froze. *ret is NULL when nothing needed freezing or checking. */
int quiesce_begin(struct controller *c, const struct store_volume *vols, size_t n,
                  struct quiesce **ret);

/* Copies the data of volume_id (a member of q) from src_fd into dst_fd as pool_copy does, or
 * by reflink only when the volume could not be frozen. -SILO_ETIMEOUT when the watchdog
 * thawed before the copy ended. q NULL: pool_copy. */
int quiesce_copy(struct quiesce *q, const char *volume_id, int src_fd, int dst_fd, uint64_t size);

/* Thaws what is still frozen and frees q; accepts NULL. */
void quiesce_end(struct quiesce *q);
