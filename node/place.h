/* A staging or target path of a request, opened once beneath the kubelet directory and from
 * then on used only through its fds: the check and the use are the same object, so a
 * directory swapped for a symlink meanwhile redirects nothing (CSI-NOTES "Hostile input").
 * Internal to node/. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

struct node;

struct place {
        char *path;       /* normalised, with the kubelet dir's real prefix (messages) */
        const char *what; /* "staging path", ... (borrowed, for messages) */
        int dir;          /* O_PATH fd of the parent directory; -1 when it does not exist */
        const char *name; /* last component, inside path */
        int fd;           /* O_PATH fd of the object itself; -1 when it does not exist */
        mode_t type;      /* S_IFMT bits of fd's object, 0 when none */
        dev_t dev;        /* fd's object (with type) */
        ino_t ino;
        dev_t parent_dev; /* the filesystem dir is on, when known (place_parent_dev) */
        int mnt_id;       /* the mount whose root fd is; 0 when fd is no mount point */
        bool made;        /* place_make made the object */
};

/* Checks path (node_path_name) and opens its parent and the object beneath the kubelet dir;
 * the object (when missing, its parent) must not be the pool (a bind mount of it). A
 * missing parent or object is not an error (dir/fd stay -1): the caller decides. A symlink
 * or a file on the way is -SILO_EINVALID; every error has its message in node_why(). */
int place_open(const struct node *n, const char *what, const char *path, struct place *ret);

/* Opens name inside the directory p holds (the block-stage file "<staging>/<id>"); p->fd
 * must be open. */
int place_open_child(const struct place *p, const char *name, struct place *ret);

void place_release(struct place *p);

/* The device of the filesystem p->dir is on; -ENOENT without a parent. */
int place_parent_dev(const struct place *p, dev_t *ret);

/* Makes the object when missing: a directory (S_IFDIR) or an empty regular file (S_IFREG).
 * -SILO_EPRECOND with a message when the parent is missing or the object (not mounted on)
 * is of another type; a FIFO or device node there is never opened. */
int place_make(struct place *p, mode_t type);

/* Unmounts p's mount (p->mnt_id) when it is still the one at p; then p holds no mount. */
int place_umount(struct place *p);

/* Removes the object when it is an empty directory or an empty regular file; p->fd is then
 * closed only after the call's answer (workq_defer_close). */
void place_remove_empty(struct place *p);
