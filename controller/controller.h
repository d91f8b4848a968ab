/* Folder controller: the Controller service. Layers, each calling only downward: *-rpc.c
 * adapters (protobuf in and out) -> volumes.c / snapshots.c / groups.c / attach.c / resize.c
 * (decisions) -> pool-volume.c / pool-snapshot.c (one function per operation: space, files,
 * metadata commit, index) -> quiesce.c, pool.c, index.c, lookup.c -> common/store
 * (persistence); base.c is the floor every file uses. Includes common/, common/store/,
 * common/server/. */
/* The Controller service's logic: volumes, snapshots, group snapshots and attach decisions in
 * the pool, on plain C structs (no protobuf). The *-rpc.c adapters validate requests, take the
 * per-object vlock, call these, and build replies.
 *
 * State lives only in the pool (common/store/store.h); nothing is cached, so several driver
 * instances can share one pool (--pool-scope shared). Changes to one volume's metadata made by
 * different processes are serialised with flock(2) on its data file.
 *
 * Errors: functions return 0 or a negative code; on a failure that a caller should read they
 * also record a message, available from controller_why() on the same thread. */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/server/config.h"
#include "common/store/store.h"

#define CONTROLLER_TOPOLOGY_KEY "topology.silo.csi.io/node"
#define CONTROLLER_MIB          (1024ull * 1024)
#define CONTROLLER_DEFAULT_SIZE (1024 * CONTROLLER_MIB)
#define CONTROLLER_MIN_SIZE     CONTROLLER_MIB
#define CONTROLLER_XFS_MIN_SIZE (300 * CONTROLLER_MIB) /* mkfs.xfs refuses less than 300 MB */
#define CONTROLLER_MAX_SIZE     (1ull << 50)           /* 1 PiB */
#define CONTROLLER_PAGE_MAX     1000 /* entries per List page when asked for more */
#define CONTROLLER_PARAMS_MAX   64   /* map entries accepted in a request */

struct index;
struct quiesce;
struct quiesce_hook;

struct controller {
        char *pool;
        char *node_id;
        enum config_scope scope;
        double overcommit_ratio;
        bool skip_attach;
        uint64_t max_volumes_per_node;
        pthread_mutex_t space_lock; /* capacity check + allocation of one create at a time */
        struct index *index;        /* node scope: every volume's metadata; NULL when shared */
        pthread_mutex_t cache_lock; /* guards the unbacked-bytes cache and its refresher below */
        pthread_cond_t cache_cond;  /* wakes the refresher: demand, or stop */
        uint64_t unbacked;          /* pool_unbacked_bytes(), refreshed about once a second */
        uint64_t unbacked_at_ms;    /* CLOCK_MONOTONIC of the last scan; 0: never */
        uint64_t unbacked_read_ms;  /* last pool_available() that used the sum */
        uint64_t unbacked_gen;      /* bumped by each synchronous scan and by forget */
        int64_t unbacked_moved;     /* adjustments made while the refresher scans */
        bool unbacked_scanning;     /* the refresher is walking the pool */
        bool refresher_idle;        /* the refresher waits for demand */
        bool refresher_stop;
        bool refresher_running;
        pthread_t refresher;
        const struct quiesce_hook *quiesce_hook; /* the node service's freezer; NULL when none */
        uint64_t freeze_max_ms;                  /* --timeout: longest a copy keeps a freeze */
};

/* controller.c ---------------------------------------------------------------------------- */

/* Checks the pool, creates its layout, removes crash leftovers (temp files, data files without
 * committed metadata, orphaned group members) and, with --mode all, registers cfg->node_id as
 * a node. O(objects in the pool). */
int controller_new(const struct config *cfg, struct controller **ret);
void controller_free(struct controller *c);

/* Removes crash leftovers under the pool; returns how many files it removed. */
int controller_recover(struct controller *c);

/* Per-thread text of the last failure recorded with controller_fail(). */
int controller_fail(int r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *controller_why(void);
void controller_why_clear(void);

/* CLOCK_REALTIME in nanoseconds (creation times). */
uint64_t controller_now_ns(void);

/* params.c -------------------------------------------------------------------------------- */

struct params_kv {
        const char *key;
        const char *value;
};

/* A parsed StorageClass parameter map. */
struct params {
        bool has_provisioning;
        enum store_provisioning provisioning;
};

/* Parses parameters (provisioning; csi.storage.k8s.io/ keys are the sidecars' and ignored).
 * With mutable_only, only the mutable set (provisioning). Unknown keys, and any key spelled
 * "fstype" in any case (the filesystem is the capability's fs_type): -SILO_EINVALID. */
int params_parse(const struct params_kv *kv, size_t n, bool mutable_only, struct params *ret);

/* The class's csi.storage.k8s.io/fstype when it is one silo makes, else "". Only GetCapacity
 * sees it (external-provisioner passes the class's parameters there unstripped); a volume's
 * filesystem comes from its capability. Borrowed from kv. */
const char *params_class_fs_type(const struct params_kv *kv, size_t n);

enum params_access { PARAMS_ACCESS_NONE = 0, PARAMS_ACCESS_BLOCK, PARAMS_ACCESS_MOUNT };

/* One VolumeCapability. */
struct params_cap {
        const char *fs_type; /* mount only; may be NULL or "" */
        enum params_access access;
        int mode;                       /* csi access mode number */
        const char *const *mount_flags; /* mount only: checked as the node will */
        size_t n_mount_flags;
};

/* Validates capabilities for this controller's scope and folds them into STORE_CAP_* bits and
 * the one fs_type they ask for ("" when none). -SILO_EINVALID with a message when unsupported. */
int params_caps(const struct controller *c, const struct params_cap *caps, size_t n,
                unsigned *ret_mask, char ret_fs_type[16]);

/* GetCapacity only: external-provisioner up to v4 sends a placeholder capability with access
 * mode UNKNOWN (0) and an empty or absent access type, meaning "any". Fills those in with a
 * mode and type every pool serves, so the answer is the capacity for any mode silo serves. */
void params_cap_placeholder(struct params_cap *cap);

/* True when cap can be served by volume v (ValidateVolumeCapabilities); when not, the reason
 * is in controller_why() when the capability itself is refused. */
bool params_cap_is_supported(const struct controller *c, const struct store_volume *v,
                             const struct params_cap *cap);

/* True for the single-node access modes. */
bool params_mode_is_single_node(int mode);

/* The CSI name of an access mode ("SINGLE_NODE_WRITER"), for messages. */
const char *params_mode_name(int mode);

/* pool.c ---------------------------------------------------------------------------------- */

/* Applies the CSI capacity_range rules: default 1 GiB, rounded up to 1 MiB (4 KiB when 1 MiB
 * would pass the limit), never above limit. 0 means "not given". Negative: -SILO_EINVALID;
 * limit < required or nothing fits: -SILO_EOUTOFRANGE. */
int pool_capacity_pick(int64_t required, int64_t limit, uint64_t *ret);

/* Bytes a new volume of this provisioning may still take: thick = free space (statvfs); thin =
 * free space x overcommit ratio - unbacked bytes of existing volumes (size - allocated). */
int pool_available(struct controller *c, enum store_provisioning prov, uint64_t *ret);

/* Sum over files in volumes/ of (size - allocated bytes), never negative per file. */
int pool_unbacked_bytes(struct controller *c, uint64_t *ret);
/* pool_available() keeps that sum cached (rescanning O(volumes) on every create would not
 * scale); this process's own changes adjust it at once.
 * Node scope (an index): the sum is the index's per-volume measurements plus creates not yet
 * committed; nothing else changes the pool, so it is never rescanned. Only writes into volume
 * files behind our back (a pod filling holes, a discard punching them) move it: while
 * pool_available() is used (last 10 s), a refresher measures the next 1,000 volumes again
 * once a second, off the request path, so such drift is corrected within n/1000 seconds.
 * Shared scope: other instances change the pool. A refresher rescans it, off the request
 * path, whenever it is older than a second and pool_available() used it in the last 10 s;
 * callers meanwhile use the previous sum. A caller rescans itself only when there is no sum
 * (forget, a failed rescan) or it is older than 2 s (the refresher was idle), so others'
 * changes still show within about a second. forget drops the cache (node scope: the next
 * reader measures every volume again). */
void pool_unbacked_adjust(struct controller *c, int64_t delta);
/* Volume id's file changed its unbacked bytes by delta (expand, modify): node scope measures
 * the file again and counts the change since its last measurement; shared scope adds delta. */
void pool_unbacked_changed(struct controller *c, const char *id, int64_t delta);
void pool_unbacked_forget(struct controller *c);
/* Computes the sum once (errors are left for pool_available() to report) and starts the
 * refresher; stop joins it. Called by controller_new()/controller_free() only; stop is a
 * no-op when start did not run. */
int pool_refresher_start(struct controller *c);
void pool_refresher_stop(struct controller *c);
/* Free bytes of the pool and the (cached) unbacked sum, as pool_available() uses them. */
int pool_space(struct controller *c, uint64_t *ret_free, uint64_t *ret_unbacked);
/* Bytes of fd's file not backed by allocated blocks. */
uint64_t pool_file_unbacked(int fd);

/* Copies size bytes of src into dst: FICLONE when the pool supports reflinks, else a sparse
 * copy: copy_file_range (the kernel copies, or shares blocks) over src's data extents only
 * (SEEK_DATA/SEEK_HOLE), so holes stay holes; pread/pwrite where the kernel cannot. Returns 1
 * when it reflinked, 0 when it copied. */
int pool_copy(int src_fd, int dst_fd, uint64_t size);
int pool_copy_sparse(int src_fd, int dst_fd, uint64_t size);

/* Grows fd from old_size to new_size: thin truncates (sparse), thick allocates the range. */
int pool_allocate(int fd, enum store_provisioning prov, uint64_t old_size, uint64_t new_size);

/* Creates the temp data file ".<id>.img.tmp-data" of kind, held with an exclusive flock so that
 * no recovery removes it; -SILO_EPENDING when another process holds it. */
int pool_tmp_create(struct controller *c, enum store_kind kind, const char *id, int *ret_fd);
/* Renames the temp data file to "<id>.img", after an fsync of fd when data was written into it
 * (has_data: a copy). No directory sync: the object's metadata save that must follow (the
 * commit point) syncs the directory, and its earlier sync of the metadata file is ordered after
 * this rename. */
int pool_tmp_commit(struct controller *c, enum store_kind kind, const char *id, int fd,
                    bool has_data);
void pool_tmp_discard(struct controller *c, enum store_kind kind, const char *id);

/* Opens "<id>.img" of kind (O_RDONLY) and takes an exclusive flock: serialises metadata changes
 * across processes. *ret_fd is -1 when the data file is missing or foreign (store_data_open). */
int pool_lock_data(struct controller *c, enum store_kind kind, const char *id, int *ret_fd);

/* Opens the data file of kind/id with flags (store_data_open). Missing or foreign (a symlink,
 * a device node, a FIFO, a directory there) is -SILO_EPRECOND with a message naming it. */
int pool_data_open(struct controller *c, enum store_kind kind, const char *id, int flags,
                   int *ret_fd);

/* pool-volume.c --------------------------------------------------------------------------- */

/* What a new volume or snapshot is copied from: an open data file of size bytes, and the
 * quiesce its volume was frozen with (controller/quiesce.h), or NULL. */
struct pool_source {
        int fd;
        uint64_t size;
        struct quiesce *q;
};

/* Makes volume v (decided by volumes.c) in the pool, in this order: a temp data file, filled
 * from src (NULL: empty), the space check and allocation under space_lock (-SILO_ENOSPACE),
 * the rename into place (after an fsync when data was copied), then v's metadata, with
 * v->created_ns set: the commit point; then the index. On failure nothing of it remains and
 * the unbacked sum is as before. */
int pool_volume_make(struct controller *c, struct store_volume *v, const struct pool_source *src);
/* Commits a changed volume's metadata (store_volume_save) and updates the index. */
int pool_volume_save(struct controller *c, const struct store_volume *v);
/* Commits a change of v->published only: in place, one flush, when v was read with slots and
 * the records fit them; else as pool_volume_save. Call with the data file locked
 * (pool_lock_data). */
int pool_volume_save_attach(struct controller *c, struct store_volume *v);
/* Removes volume id's metadata, then its data (foreign data stays, with a warning), from the
 * index and from the unbacked sum. lock_fd: the data file locked by pool_lock_data(), or -1. */
int pool_volume_remove(struct controller *c, const char *id, int lock_fd);

/* pool-snapshot.c ------------------------------------------------------------------------- */

/* Makes snapshot s (decided by snapshots.c): a temp data file, s->size_bytes copied from src
 * (src->q freezes the source), fsynced and renamed into place, then s's metadata with
 * s->created_ns set: the commit point. On failure nothing of it remains. */
int pool_snapshot_make(struct controller *c, struct store_snapshot *s,
                       const struct pool_source *src);
/* Metadata first, then data; absent is not an error. Plain codes, no message recorded. */
int pool_snapshot_remove(struct controller *c, const char *id);
/* A group snapshot's metadata: save commits it (after its members), remove comes last. */
int pool_group_save(struct controller *c, const struct store_group *g);
int pool_group_remove(struct controller *c, const char *id);

/* volumes.c ------------------------------------------------------------------------------- */

/* A validated CreateVolume request. */
struct volume_spec {
        const char *name;
        int64_t required_bytes, limit_bytes; /* 0: not given */
        struct params params;
        unsigned caps;        /* STORE_CAP_* */
        char cap_fs_type[16]; /* fs_type from the capabilities, "" when none */
        enum store_source source_kind;
        const char *source_id;
        const char *id; /* NULL: derived from name; else used as is (validated) */
        bool ephemeral; /* an inline ephemeral volume (store_volume.ephemeral) */
};

/* The smallest volume that can serve fs_type ("" = ext4) with caps (STORE_CAP_*; 0 = mount). */
uint64_t volumes_min_size(const char *fs_type, unsigned caps);
/* Idempotent by name: returns the existing volume when compatible, -SILO_EEXISTS when not. */
int volumes_create(struct controller *c, const struct volume_spec *spec, struct store_volume *ret);
/* An inline ephemeral volume for the node service of this process: id is the CO's handle
 * (validated here; never of the forms silo issues, "vol-", "snap-" or "grp-" and 16 hex:
 * -SILO_EINVALID), size rounded up like required_bytes, fs_type "" = ext4. A mount volume
 * for SINGLE_NODE_WRITER, never listed by ListVolumes, counted in capacity like any other.
 * Idempotent by id (*ret_created false); other properties: -SILO_EEXISTS. */
int volumes_create_ephemeral(struct controller *c, const char *id, uint64_t size,
                             enum store_provisioning prov, const char *fs_type, bool *ret_created);
/* Absent volume: 0. Published, or its data attached to a loop device here: -SILO_EPRECOND. */
int volumes_delete(struct controller *c, const char *id);
/* Loads a volume by (unvalidated) id: -SILO_ENOTFOUND when malformed or absent. */
int volumes_get(struct controller *c, const char *id, struct store_volume *ret);
/* Grows to the capacity range; at or above required already: 0 and the current capacity;
 * above limit: -SILO_EOUTOFRANGE. */
int volumes_expand(struct controller *c, const char *id, int64_t required, int64_t limit,
                   uint64_t *ret_capacity);
/* Applies mutable parameters (provisioning thin -> thick). */
int volumes_modify(struct controller *c, const char *id, const struct params *p);

/* One page of a listing: ids sorted, the page after token ("" = start). */
struct volumes_page {
        store_id_t *ids;
        size_t n;
        char next_token[STORE_ID_MAX + 1]; /* "" on the last page */
};
/* Filter for a listing: true to keep id. */
typedef bool (*volumes_keep_fn)(struct controller *c, const char *id, void *ctx);
/* max 0: up to CONTROLLER_PAGE_MAX; negative: -SILO_EINVALID. A token that is not an id of
 * prefix: -SILO_EBADTOKEN. keep may be NULL. A token whose object is gone still works. */
int volumes_page(struct controller *c, enum store_kind kind, const char *prefix, const char *token,
                 int32_t max, volumes_keep_fn keep, void *ctx, struct volumes_page *ret);
void volumes_page_release(struct volumes_page *p);

/* One page of ListVolumes: the volumes themselves (from the index in node scope, else from
 * the pool). Errors as volumes_page(). Free with volumes_list_free(). */
int volumes_list(struct controller *c, const char *token, int32_t max, struct store_volume **ret,
                 size_t *ret_n, char next_token[STORE_ID_MAX + 1]);
void volumes_list_free(struct store_volume *v, size_t n);

/* condition.c ----------------------------------------------------------------------------- */

/* VolumeCondition: 1 and why filled when abnormal (data file missing, filesystem errors where
 * it is staged on this node, or a thin volume the pool can no longer back); 0 when healthy. */
int condition_of(struct controller *c, const struct store_volume *v, char *why, size_t size);

/* inuse.c --------------------------------------------------------------------------------- */

/* 1 and the device ("/dev/loop3") in ret_dev when a loop device on this host is backed by the
 * file at path; 0 when none is. */
int inuse_loop_device(const char *path, char *ret_dev, size_t size);

/* index.c --------------------------------------------------------------------------------- */

/* Loads every volume's metadata of the pool (node scope). */
int index_new(const char *pool, struct index **ret);
void index_free(struct index *x);
/* Keep the index current after a metadata change the pool layer committed (no-ops in a
 * shared pool). drop also takes the volume's unbacked bytes from the index's sum and, when
 * ret_unbacked is not NULL and the index held the volume, stores what it had counted there. */
int index_put(struct controller *c, const struct store_volume *v);
void index_drop(struct controller *c, const char *id, uint64_t *ret_unbacked);
/* Per-volume unbacked bytes (size - allocated) of node scope. index_new() measures every
 * data file, a new entry is measured when saved; remeasure measures one volume again and
 * sweep the next max volumes after the last one swept (wrapping), both returning the change
 * of the sum; total is the sum. */
int64_t index_unbacked_remeasure(struct index *x, const char *id);
int64_t index_unbacked_sweep(struct index *x, size_t max);
uint64_t index_unbacked_total(struct index *x);
/* Copies of up to limit volumes after token (an ID; "" = start). next_token is the last ID
 * returned when more follow, else "". */
int index_page(struct index *x, const char *token, size_t limit, struct store_volume **ret,
               size_t *ret_n, char next_token[STORE_ID_MAX + 1]);
uint64_t index_count_published(struct index *x, const char *node_id);

/* attach.c -------------------------------------------------------------------------------- */

/* Records that id is published to node_id. Idempotent for the same node, caps and readonly;
 * other caps/readonly on the same node: -SILO_EEXISTS; a single-node volume on another node:
 * -SILO_EPRECOND; unknown volume or node: -SILO_ENOTFOUND; node limit: -SILO_ENOSPACE. */
int attach_publish(struct controller *c, const char *id, const char *node_id,
                   const struct params_cap *cap, bool readonly, struct store_volume *ret);
/* Removes the record (node_id "" = every node). Not published, or no such volume: 0. */
int attach_unpublish(struct controller *c, const char *id, const char *node_id);
/* True when node_id may receive volumes (our node, or registered in a shared pool). */
bool attach_node_is_known(struct controller *c, const char *node_id);

/* snapshots.c ----------------------------------------------------------------------------- */

/* Idempotent by name; same name, other source: -SILO_EEXISTS; no source: -SILO_ENOTFOUND.
 * group_id is "" for a plain snapshot. */
int snapshots_create(struct controller *c, const char *name, const char *source_id,
                     const char *group_id, struct store_snapshot *ret);
/* Copies the open source volume src (data src_fd) into snapshot id, or returns the committed
 * snapshot id when it already exists for the same source (-SILO_EEXISTS for another). q is
 * the quiesce src was frozen with (controller/quiesce.h), or NULL. */
int snapshots_take(struct controller *c, const char *id, const char *name,
                   const struct store_volume *src, int src_fd, const char *group_id,
                   struct quiesce *q, struct store_snapshot *ret);
/* Opens volume_id's data read-only; -SILO_EPRECOND when the data file is missing. */
int snapshots_open_source(struct controller *c, const char *volume_id, int *ret_fd);
/* Absent: 0. A group member: -SILO_EPRECOND (delete the group). */
int snapshots_delete(struct controller *c, const char *id);
int snapshots_get(struct controller *c, const char *id, struct store_snapshot *ret);

/* groups.c -------------------------------------------------------------------------------- */

/* Snapshots every volume in one pass; idempotent by name (same set of volumes). Fills ret and
 * ret_snaps (ret->n_members entries, caller frees with groups_snaps_free). */
int groups_create(struct controller *c, const char *name, const char *const *volume_ids, size_t n,
                  struct store_group *ret, struct store_snapshot **ret_snaps);
/* snapshot_ids (may be empty) must name exactly the members: else -SILO_EPRECOND. Absent: 0. */
int groups_delete(struct controller *c, const char *id, const char *const *snapshot_ids, size_t n);
int groups_get(struct controller *c, const char *id, const char *const *snapshot_ids, size_t n,
               struct store_group *ret, struct store_snapshot **ret_snaps);
void groups_snaps_free(struct store_snapshot *snaps, size_t n);
