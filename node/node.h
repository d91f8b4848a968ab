/* Folder node: the Node service and the node-only system code under it (mount.c, blkdev.c,
 * loop.c, fs.c). reconcile.c sits above node.c and volstate.c. Includes common/,
 * common/store/, common/server/. */
/* The Node service's logic on plain C structs (no protobuf): loop devices, filesystems and
 * mounts for volumes of the local pool. node-rpc.c validates requests, takes the per-volume
 * vlock and calls these.
 *
 * State is derived from the kernel on every call, never kept: which volume is staged or
 * published where follows from the mount table and from each loop device's backing file in
 * sysfs. A restarted driver therefore knows everything a crashed one did.
 *   - mount volume staged at S:  the volume's loop device is mounted at S
 *   - block volume staged at S:  the loop device node is bind-mounted onto the file S/<id>
 *   - published at T:            a bind mount of the same filesystem (mount) or of the loop
 *                                device node (block) at T
 * Every function first validates its paths (common/path.h), then opens them once beneath the
 * kubelet dir and works on the fds from then on (node/place.h). Errors are negative codes; the
 * message for the caller is in node_why() on the same thread. */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/mntflags.h"
#include "common/server/config.h"
#include "common/store/store-space.h"
#include "common/store/store.h"
#include "node/known.h"
#include "node/loop.h"

#define NODE_TOPOLOGY_KEY   "topology.silo.csi.io/node"
#define NODE_DEVICE_WAIT_MS 10000
#define NODE_WHY_MAX        512

struct node {
        char *pool;         /* canonical (realpath) */
        dev_t pool_dev;     /* the pool directory's identity at start: a path whose object */
        ino_t pool_ino;     /* is this is the pool (bind-mounted) */
        char *volumes_dir;  /* <pool>/volumes, canonical */
        char *kubelet_dir;  /* as configured (normalised): requests use this prefix */
        char *kubelet_real; /* its realpath: what the mount table shows */
        int kubelet_fd;     /* O_PATH: every staging/target path is opened beneath it */
        char *node_id;
        enum config_scope scope;
        uint64_t max_volumes_per_node;
        struct known *known; /* paths staged/published by this process (node/known.h) */
        double overcommit_ratio;
        pthread_mutex_t space_lock; /* guards the two below (node/health.c) */
        struct store_space space;
        uint64_t space_at_ms; /* CLOCK_MONOTONIC + 1 of the last read; 0: never */
        const struct node_volume_ops *volume_ops; /* NULL: no inline ephemeral volumes */
        char *ephemeral_dir; /* "<kubelet dir>/plugins/<driver>/ephemeral" (with volume_ops) */
};

/* node.c -------------------------------------------------------------------------------- */

/* Copies what it needs from cfg and registers the node in a shared pool. The caller then
 * runs node_reconcile() (node/reconcile.h) before serving. */
int node_new(const struct config *cfg, struct node **ret);
void node_free(struct node *n);

/* Records the message for the next error on this thread. */
void node_why_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Records the message and evaluates to r (a macro, so that callers and static analysis see
 * the value pass through). */
#define node_fail(r, ...)                                                                          \
        ({                                                                                         \
                int _node_r = (r);                                                                 \
                node_why_set(__VA_ARGS__);                                                         \
                _node_r;                                                                           \
        })
const char *node_why(void);
void node_why_clear(void);

/* Validates a staging/target path from a request (common/path.h) against the kubelet dir
 * and the pool. *ret is the path as the mount table will show it: normalised, and with the
 * kubelet dir's prefix resolved when that dir is reached through a symlink (nothing beneath
 * it may be a symlink). what names it in the message ("staging path"). */
int node_path(const struct node *n, const char *what, const char *path, char **ret);
/* node_path without opening anything: for place_open, which opens the path itself. */
int node_path_name(const struct node *n, const char *what, const char *path, char **ret);

/* The capability of a stage or publish request. */
struct node_cap {
        bool block;
        const char *fs_type;            /* "" = the volume's */
        const char *const *mount_flags; /* checked against an allow-list */
        size_t n_mount_flags;
        const char *mount_group; /* numeric group id or "" */
        bool single_writer;      /* SINGLE_NODE_SINGLE_WRITER: one publish target at a time */
};

/* The capability's mount flags through the one allow-list (common/mntflags.h);
 * -SILO_EINVALID with the reason in node_why(). */
int node_mount_flags(const struct node_cap *cap, struct mntflags *ret);

/* stage.c ------------------------------------------------------------------------------- */

/* Attaches (or reuses) the loop device; mount volumes: probes, formats only a device with no
 * signature at all, grows the filesystem when the device is larger, mounts at staging.
 * Idempotent; -SILO_EEXISTS when staged elsewhere or with other options, -SILO_ENOTFOUND for
 * an unknown volume, -SILO_EPRECOND when the device holds something else. */
int node_stage(struct node *n, const char *volume_id, const char *staging,
               const struct node_cap *cap);

/* Undoes node_stage and detaches the loop device. Not staged: 0. -SILO_EPRECOND while
 * anything else still mounts the volume. */
int node_unstage(struct node *n, const char *volume_id, const char *staging);

/* publish.c ----------------------------------------------------------------------------- */

/* Bind-mounts the staged volume at target (created: a directory, or a file for block).
 * Idempotent; -SILO_EEXISTS when published there with other options, -SILO_EPRECOND when
 * not staged at staging. */
int node_publish(struct node *n, const char *volume_id, const char *staging, const char *target,
                 const struct node_cap *cap, bool readonly);

/* Unmounts target and removes what node_publish created. Not published: 0. */
int node_unpublish(struct node *n, const char *volume_id, const char *target);
/* The same for a volume whose metadata the caller has loaded (taken over, left empty). */
int node_unpublish_meta(struct node *n, struct store_volume *meta, const char *target);

/* stats.c ------------------------------------------------------------------------------- */

struct node_stats {
        bool block;
        uint64_t bytes_total, bytes_available, bytes_used;
        uint64_t inodes_total, inodes_free, inodes_used;
        bool abnormal;
        char condition[256];
};

/* Usage and condition of the volume at path (where it is staged or published);
 * -SILO_ENOTFOUND otherwise. */
int node_stats(struct node *n, const char *volume_id, const char *path, struct node_stats *ret);

/* expand.c ------------------------------------------------------------------------------ */

struct node_expansion {
        uint64_t capacity_bytes; /* size of the device now */
        bool fs_deferred;        /* the online grow was refused: it happens at next stage */
};

/* Refreshes the loop device's capacity and grows the filesystem online. required_bytes 0:
 * whatever the file holds. -SILO_EOUTOFRANGE when the file is smaller than required. */
int node_expand(struct node *n, const char *volume_id, const char *path, bool block,
                uint64_t required_bytes, struct node_expansion *ret);

/* health.c ------------------------------------------------------------------------------ */

/* 1 and why filled when the filesystem of volume_id staged here recorded errors (see
 * node/health.h); 0 when healthy or not staged here. */
int node_health(struct node *n, const char *volume_id, char *why, size_t size);

/* How many volumes of the pool have an abnormal condition on this node (metrics). O(volumes). */
uint64_t node_count_abnormal(struct node *n);

/* freeze.c ------------------------------------------------------------------------------ */

/* Freezes the filesystem of volume_id where it is staged (FIFREEZE). 1: frozen, *ret_fd holds
 * it for node_thaw; 0: the volume is not in use here (unknown, detached, or attached but not
 * mounted); -SILO_EPRECOND: a raw block volume in use (nothing to freeze); -SILO_EPENDING:
 * someone else froze it. Messages in node_why(). */
int node_freeze(struct node *n, const char *volume_id, int *ret_fd);
/* FITHAW and close; accepts -1. */
void node_thaw(int fd);
/* ephemeral.c --------------------------------------------------------------------------- */

/* How the node makes and removes the pool volume behind an inline ephemeral volume. main()
 * wires these to the controller of the same process; there is none in --mode node. */
struct node_volume_ops {
        void *ctx;
        /* Makes the volume (or finds it: *ret_created false); fs_type "ext4" or "xfs". */
        int (*create)(void *ctx, const char *id, uint64_t size, enum store_provisioning prov,
                      const char *fs_type, bool *ret_created);
        int (*remove)(void *ctx, const char *id);
        const char *(*why)(void); /* message of the last failure on this thread */
        void (*why_clear)(void);
};

/* Turns inline ephemeral volumes on (ops borrowed for the node's lifetime): they are staged
 * at "<kubelet dir>/plugins/<driver_name>/ephemeral/<id>". Removes those an earlier
 * instance left that no target uses (half-made, or half-removed). */
int node_ephemeral_enable(struct node *n, const struct node_volume_ops *ops,
                          const char *driver_name);

/* A key and value of a request's map. */
struct node_kv {
        const char *key;
        const char *value;
};

/* Makes, stages and publishes an inline ephemeral volume at target. attrs: the volume
 * context ("size" required, "provisioning" thin|thick; kubelet's csi.storage.k8s.io/ keys
 * ignored; anything else -SILO_EINVALID naming the attribute); the filesystem is the
 * capability's fs_type (ext4 when empty). Idempotent; a failure leaves nothing when this call
 * made the volume. -SILO_EPRECOND without volume ops. */
int node_ephemeral_publish(struct node *n, const char *id, const char *target,
                           const struct node_cap *cap, bool readonly, const struct node_kv *attrs,
                           size_t n_attrs);

/* When id is an inline ephemeral volume: unpublishes it from target, unstages and removes
 * it, returns 1. A volume that is gone and carries kubelet's inline handle ("csi-<sha256>"):
 * 1 (a repeated unpublish). Any other existing volume: node_unpublish with the metadata read
 * here, 1. A volume whose metadata cannot be read: 0, for node_unpublish to answer. */
int node_ephemeral_unpublish(struct node *n, const char *id, const char *target);
