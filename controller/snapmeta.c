/* Snapshots are immutable files, so their block maps are the truth about what they hold. */
#include "controller/snapmeta.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/store/store.h"
#include "controller/controller.h"
#include "common/cleanup.h"

/* Opens a snapshot's data without following links or blocking, and only a regular file. */
static int snapmeta_open_data(struct controller *c, const struct store_snapshot *s, int *ret)
{
        _cleanup_free_ char *path = NULL;
        int r = store_path(c->pool, STORE_SNAPSHOTS, s->id, ".img", &path);
        if (r < 0)
                return controller_fail(r, "cannot name the data of snapshot '%s'", s->id);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
                return controller_fail(neg_errno(), "cannot open the data of snapshot '%s'", s->id);
        struct stat st;
        if (fstat(fd, &st) < 0)
                return controller_fail(neg_errno(), "cannot stat the data of snapshot '%s'", s->id);
        if (!S_ISREG(st.st_mode))
                return controller_fail(-SILO_EPRECOND,
                                       "the data of snapshot '%s' is not a regular file", s->id);
        *ret = TAKE_FD(fd);
        return 0;
}

static int snapmeta_check_start(const struct store_snapshot *s, uint64_t start)
{
        if (start >= s->size_bytes)
                return controller_fail(-SILO_EOUTOFRANGE,
                                       "starting_offset %llu is not below the size of snapshot "
                                       "'%s' (%llu bytes)",
                                       (unsigned long long)start, s->id,
                                       (unsigned long long)s->size_bytes);
        return 0;
}

int snapmeta_open_allocated(struct controller *c, const char *id, uint64_t start,
                            struct snapmeta *ret)
{
        struct store_snapshot s = {0};
        int r = snapshots_get(c, id, &s);
        if (r == 0)
                r = snapmeta_check_start(&s, start);
        int fd = -1;
        if (r == 0)
                r = snapmeta_open_data(c, &s, &fd);
        if (r == 0)
                *ret = (struct snapmeta){.fd = fd,
                                         .base_fd = -1,
                                         .capacity_bytes = s.size_bytes,
                                         .start = start - start % EXTENTS_BLOCK};
        store_snapshot_release(&s);
        return r;
}

int snapmeta_open_delta(struct controller *c, const char *base_id, const char *target_id,
                        uint64_t start, struct snapmeta *ret)
{
        struct store_snapshot b = {0}, t = {0};
        int r = snapshots_get(c, base_id, &b);
        if (r == 0)
                r = snapshots_get(c, target_id, &t);
        if (r == 0 && strcmp(b.source_volume_id, t.source_volume_id) != 0)
                r = controller_fail(-SILO_EINVALID,
                                    "snapshots '%s' and '%s' are of different volumes ('%s', '%s')",
                                    b.id, t.id, b.source_volume_id, t.source_volume_id);
        if (r == 0)
                r = snapmeta_check_start(&t, start);
        _cleanup_close_ int bfd = -1;
        _cleanup_close_ int tfd = -1;
        if (r == 0)
                r = snapmeta_open_data(c, &b, &bfd);
        if (r == 0)
                r = snapmeta_open_data(c, &t, &tfd);
        if (r == 0)
                *ret = (struct snapmeta){.fd = TAKE_FD(tfd),
                                         .base_fd = TAKE_FD(bfd),
                                         .capacity_bytes = t.size_bytes,
                                         .base_size = b.size_bytes,
                                         .start = start - start % EXTENTS_BLOCK};
        store_snapshot_release(&b);
        store_snapshot_release(&t);
        return r;
}

int snapmeta_run(struct snapmeta *m, extents_emit_fn emit, void *ctx)
{
        int r = m->base_fd < 0 ? extents_allocated(m->fd, m->start, m->capacity_bytes, emit, ctx)
                               : extents_delta(m->base_fd, m->base_size, m->fd, m->start,
                                               m->capacity_bytes, emit, ctx, &m->stats);
        if (r < 0 && !err_is_private(r) && r != -ECANCELED)
                return controller_fail(r, "cannot read the block map of the snapshot");
        return r;
}

void snapmeta_close(struct snapmeta *m)
{
        if (m->fd >= 0)
                close(m->fd);
        if (m->base_fd >= 0)
                close(m->base_fd);
        m->fd = m->base_fd = -1;
}
