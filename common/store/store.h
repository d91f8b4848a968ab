/* Folder common/store: persistence of volume, snapshot and group metadata beside the data in
 * the pool. Knows nothing of gRPC or of the services; includes only common/ and
 * common/store/. */
/* The volume/snapshot metadata store: one metadata file beside each data file in the pool,
 * written atomically; no central state file. Pool layout:
 *   <pool>/volumes/<id>.img   data      <pool>/volumes/<id>.meta   metadata
 *   <pool>/snapshots/<id>.img data      <pool>/snapshots/<id>.meta metadata
 *   <pool>/groups/<id>.meta   group snapshot: its member snapshots
 *   <pool>/nodes/<node_id>    a node plugin registered itself (shared pools)
 *   <pool>/owner.lock         flocked by every instance using the pool (store_owner_claim)
 * The .meta file is the commit point: a data file without one is a crash leftover. Files named
 * ".<something>.tmp-<...>" are in-progress temp files. Metadata is "key=value" lines; a
 * volume's attach records sit in two fixed slots of its .meta, rewritten in place
 * (store-attach.h).
 * All functions expect IDs already validated with id_is_valid() (node IDs with
 * id_node_is_valid()) and return -SILO_ENOTFOUND for an absent object.
 * OWNER: controller engineer. The node service depends on store_volume_load(),
 * store_volume_release(), store_volume_data_path(), store_node_register() and the fields
 * marked (node); keep those stable. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/id.h"

#define STORE_ID_MAX      ID_MAX
#define STORE_NAME_MAX    128   /* CO-given names: bytes, printable, no newline */
#define STORE_PUBLISH_MAX 64    /* attach records per volume */
#define STORE_GROUP_MAX   64    /* member volumes per group snapshot */
#define STORE_META_MAX    65536 /* bound on a metadata file we read */

enum store_provisioning { STORE_THIN = 0, STORE_THICK = 1 };
enum store_source { STORE_SOURCE_NONE = 0, STORE_SOURCE_SNAPSHOT, STORE_SOURCE_VOLUME };

/* Capability bits recorded at creation (what the CO asked for). */
enum {
        STORE_CAP_BLOCK = 1u << 0,
        STORE_CAP_MOUNT = 1u << 1,
        STORE_CAP_MODE0 = 1u << 2, /* bit for access mode m is STORE_CAP_MODE0 << m */
};

/* One attach decision (ControllerPublishVolume). */
struct store_publish {
        char node_id[ID_NODE_MAX + 1];
        bool readonly;
        bool block; /* access type of the capability it was published with */
        int mode;   /* csi access mode number */
};

struct store_volume {
        char id[STORE_ID_MAX + 1];            /* (node) */
        char *name;                           /* CO-given name */
        uint64_t capacity_bytes;              /* (node) */
        char fs_type[16];                     /* (node) "ext4" | "xfs" */
        enum store_provisioning provisioning; /* (node) thick: format without discard */
        enum store_source source_kind;        /* (node) a copy: xfs needs nouuid */
        char source_id[STORE_ID_MAX + 1];
        char node_id[ID_NODE_MAX + 1]; /* node scope: the node it lives on; "" when shared */
        unsigned caps;                 /* STORE_CAP_* asked for at creation */
        bool ephemeral;      /* (node) an inline ephemeral volume NodePublishVolume made; its id is
                                the CO's volume handle. Never listed as a persistent volume. */
        uint64_t created_ns; /* CLOCK_REALTIME */
        struct store_publish *published;
        size_t n_published;
        /* Where the records live (store_volume_load fills these; see store-attach.h). */
        uint32_t attach_size; /* slot size; 0: a .meta written before slots existed */
        unsigned attach_slot; /* 0 or 1: the slot holding the records */
        uint64_t attach_gen;  /* that slot's generation */
};

struct store_snapshot {
        char id[STORE_ID_MAX + 1];
        char *name;
        char source_volume_id[STORE_ID_MAX + 1];
        char group_id[STORE_ID_MAX + 1]; /* "" unless a member of a group snapshot */
        char fs_type[16];                /* the source's, inherited by restores */
        uint64_t size_bytes;
        uint64_t created_ns;
};

struct store_group_member {
        char snapshot_id[STORE_ID_MAX + 1];
        char volume_id[STORE_ID_MAX + 1];
};

struct store_group {
        char id[STORE_ID_MAX + 1];
        char *name;
        uint64_t created_ns;
        struct store_group_member *members;
        size_t n_members;
};

/* Which directory of the pool. */
enum store_kind { STORE_VOLUMES, STORE_SNAPSHOTS, STORE_GROUPS, STORE_NODES };

/* Claims the pool for this process: an flock on "<pool>/owner.lock" (created 0640), exclusive
 * for a node-scoped pool (one owner per pool), shared for a shared pool (any number of shared
 * instances, never beside an exclusive owner). An exclusive owner writes "pid=<pid>
 * host=<host name>" into the file. Returns the lock's fd (O_CLOEXEC; the claim lasts until it
 * is closed, i.e. the process's life), -EWOULDBLOCK when another instance holds a conflicting
 * claim (holder then says who: the owner's line, or that shared-scope instances hold it), or
 * another negative errno when the file cannot be opened or locked (EROFS, EACCES, ENOLCK...). */
int store_owner_claim(const char *pool, bool exclusive, char *holder, size_t size);
/* True when the exclusive owner the file names is a process of this host that no longer
 * exists. Its claim can outlive it a moment: a helper it was starting holds a copy of every
 * descriptor until its exec. */
bool store_owner_is_gone(const char *pool);
/* store_owner_claim(exclusive) again every 20 ms while it answers -EWOULDBLOCK, for up to
 * timeout_ms. */
int store_owner_claim_wait(const char *pool, int timeout_ms, char *holder, size_t size);

/* Creates the pool's subdirectories when missing. */
int store_init(const char *pool);

/* "<pool>/<kind dir>" and "<pool>/<kind dir>/<id><ext>" into *ret (caller frees). */
int store_dir(const char *pool, enum store_kind kind, char **ret);
int store_path(const char *pool, enum store_kind kind, const char *id, const char *ext, char **ret);

/* Loads <pool>/volumes/<id>.meta. -SILO_ENOTFOUND when absent, -EBADMSG when unreadable. */
int store_volume_load(const char *pool, const char *id, struct store_volume *ret); /* (node) */
void store_volume_release(struct store_volume *v);                                 /* (node) */
/* Allocates "<pool>/volumes/<id>.img" into *ret. */
int store_volume_data_path(const char *pool, const char *id, char **ret); /* (node) */
/* A data file "<id>.img" is used only when it is a regular file on the pool's own filesystem.
 * Anything else under that name (a symlink, a device node, a FIFO, a directory, a file of
 * another mount) is foreign: silo never follows it, attaches, formats, locks or removes it,
 * and an open of it can never block. (node) */
/* Opens it with flags (O_RDONLY or O_RDWR) | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY,
 * checked before (without opening) and after (the same inode). -ENOENT when absent,
 * -SILO_EPRECOND when foreign. */
int store_data_open(const char *pool, enum store_kind kind, const char *id, int flags, int *ret_fd);
/* The same check without opening: 0 ours, -ENOENT, -SILO_EPRECOND foreign. (node) */
int store_data_check(const char *pool, enum store_kind kind, const char *id);
/* What is under the name, for messages: "a FIFO", "a regular file on another filesystem",
 * "missing". (node) */
const char *store_data_what(const char *pool, enum store_kind kind, const char *id);

/* Writes the metadata atomically (the commit point of a create): a new file with slots holding
 * v's attach records. */
int store_volume_save(const char *pool, const struct store_volume *v);
/* The attach records alone, in place, for a v loaded with slots (v->attach_size != 0) that
 * still holds the same generation on disk (the caller holds the data file's flock):
 * store_volume_attach_fits() says whether v->published fits the slots (else a full
 * store_volume_save() is needed); store_volume_attach_write() writes them into the other
 * slot (not yet durable) and hands out the open .meta as *ret_fd (-ESTALE when the file
 * changed since v was read); store_volume_attach_sync() makes them durable (one fdatasync)
 * and moves v to the new slot; on failure the written slot is voided and v is unchanged. The
 * caller closes the fd. */
bool store_volume_attach_fits(const struct store_volume *v);
int store_volume_attach_write(const char *pool, const struct store_volume *v, int *ret_fd);
int store_volume_attach_sync(struct store_volume *v, int fd);
/* Makes durable what a load of v has just read (an answer that the state is already as asked
 * must not rest on a write that a crash interrupted before its flush). */
int store_volume_sync(const char *pool, const struct store_volume *v);
/* Removes metadata first, then data; absent is not an error. Foreign data (see
 * store_data_open) is left where it is, untouched. */
int store_volume_remove(const char *pool, const char *id);

int store_snapshot_load(const char *pool, const char *id, struct store_snapshot *ret);
void store_snapshot_release(struct store_snapshot *s);
int store_snapshot_save(const char *pool, const struct store_snapshot *s);
int store_snapshot_remove(const char *pool, const char *id);

int store_group_load(const char *pool, const char *id, struct store_group *ret);
void store_group_release(struct store_group *g);
int store_group_save(const char *pool, const struct store_group *g);
int store_group_remove(const char *pool, const char *id);

/* Sorted IDs of committed objects of kind (those with a .meta file). *ret is one allocation of
 * n rows; caller frees. */
typedef char store_id_t[STORE_ID_MAX + 1];
int store_list_ids(const char *pool, enum store_kind kind, store_id_t **ret, size_t *ret_n);

/* A node plugin announces itself in the pool (idempotent); the controller of a shared pool
 * only attaches volumes to registered nodes. (node) */
int store_node_register(const char *pool, const char *node_id);
bool store_node_is_known(const char *pool, const char *node_id);

/* CO-given names: 1..STORE_NAME_MAX bytes, no control characters. */
bool store_name_is_valid(const char *name);
