/* What the kernel says about one volume: its metadata, its data file, its loop device and
 * what is mounted where. Internal to node/. */
#pragma once

#include <stdbool.h>

#include "node/mount.h"
#include "node/node.h"
#include "node/place.h"

struct volstate {
        struct store_volume meta;
        char *data_path;  /* canonical "<pool>/volumes/<id>.img" */
        const char *pool; /* borrowed from the node */
        bool attached;    /* a loop device is bound to the data file (see volstate_find_loop) */
        struct loop_dev loop;
};

/* Loads the metadata; -SILO_ENOTFOUND (with a message) for an unknown volume. */
int volstate_load(const struct node *n, const char *id, struct volstate *ret);
/* The same from metadata already loaded: takes meta over (it is left empty), even on error. */
int volstate_of(const struct node *n, struct store_volume *meta, struct volstate *ret);
void volstate_release(struct volstate *v);

/* For the calls about a volume at a path (NodeGetVolumeStats, NodeExpandVolume): loads the
 * volume, then opens the path. Unknown volume, and a path the volume cannot be at (relative,
 * outside the kubelet dir, through a symlink): -SILO_ENOTFOUND, as the spec has it. */
int volstate_open(const struct node *n, const char *id, const char *path, struct volstate *ret,
                  struct place *ret_place);

/* Fills attached/loop from the loop devices' backing files. A foreign data file (see
 * store_data_open) is never attached: attached stays false. */
int volstate_find_loop(struct volstate *v);

/* Refuses (-SILO_EPRECOND, with the message) a data file that is missing or foreign. */
int volstate_data_check(const struct volstate *v);

/* Opens the data file read-write for attaching, refusing as volstate_data_check does. */
int volstate_data_open(const struct volstate *v, int *ret_fd);

enum volstate_kind {
        VOLSTATE_NONE,  /* nothing mounted at the path */
        VOLSTATE_FS,    /* the volume's filesystem */
        VOLSTATE_NODE,  /* the volume's loop device node bound onto a file */
        VOLSTATE_OTHER, /* something else */
};

struct volstate_mount {
        enum volstate_kind kind;
        const struct mount_info *m; /* NULL for VOLSTATE_NONE */
        struct loop_dev loop;       /* FS/NODE: the volume's loop device */
        bool deleted;               /* FS/NODE: the data file was unlinked under it */
};

/* Classifies what is mounted at the opened place (its mount id, not its name). Works when the
 * data file is gone, too. */
void volstate_at(const struct volstate *v, const struct mount_table *t, const struct place *p,
                 struct volstate_mount *ret);

/* volstate_at, and when nothing is mounted at p, the block-stage file "<p>/<id>": the staging
 * path of a block volume stands for the device bound inside it. */
void volstate_locate(const struct volstate *v, const struct mount_table *t, const struct place *p,
                     struct volstate_mount *ret);

/* A mount that uses loop device l (its filesystem, or its node bound onto a file) other than
 * the mounts with ids except1/except2 (0: none), or NULL. */
const struct mount_info *volstate_holder(const struct mount_table *t, const struct loop_dev *l,
                                         int except1, int except2);

/* Refuses (-SILO_EINVALID) a place inside any volume of this pool: a mount there would hide
 * in, or be deleted from, another volume's filesystem. Checks the opened parent directory. */
int volstate_check_outside(const struct node *n, const struct place *p);
