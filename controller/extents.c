#include "controller/extents.h"

#include <errno.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/err.h"
#include "common/fileio.h"
#include "common/cleanup.h"

#define EXTENTS_WINDOW  (8u << 20) /* delta works on this much at a time */
#define EXTENTS_MAP_MAX 256        /* extents per file and window */
#define EXTENTS_CHUNK   (1u << 20) /* data compared per read */
#define EXTENTS_NOT_PHYS                                                                           \
        (FIEMAP_EXTENT_UNKNOWN | FIEMAP_EXTENT_DELALLOC | FIEMAP_EXTENT_ENCODED |                  \
         FIEMAP_EXTENT_DATA_INLINE | FIEMAP_EXTENT_DATA_TAIL | FIEMAP_EXTENT_NOT_ALIGNED)

static uint64_t extents_down(uint64_t v)
{
        return v - v % EXTENTS_BLOCK;
}

/* Next offset >= from holding data, or end when none before end. */
static int extents_next_data(int fd, uint64_t from, uint64_t end, uint64_t *ret)
{
        if (from >= end) {
                *ret = end;
                return 0;
        }
        off_t d = lseek(fd, (off_t)from, SEEK_DATA);
        if (d < 0) {
                if (errno != ENXIO)
                        return neg_errno();
                d = (off_t)end;
        }
        *ret = (uint64_t)d < end ? (uint64_t)d : end;
        return 0;
}

int extents_allocated(int fd, uint64_t start, uint64_t end, extents_emit_fn emit, void *ctx)
{
        uint64_t pos = extents_down(start);
        while (pos < end) {
                uint64_t data = end;
                int r = extents_next_data(fd, pos, end, &data);
                if (r < 0 || data >= end)
                        return r;
                off_t hole = lseek(fd, (off_t)data, SEEK_HOLE);
                if (hole < 0)
                        return neg_errno();
                uint64_t stop = (uint64_t)hole < end ? (uint64_t)hole : end;
                r = emit(ctx, data, stop - data);
                if (r < 0)
                        return r;
                pos = stop;
        }
        return 0;
}

/* One file's block map over a window. */
struct extents_map {
        struct fiemap fm;
        struct fiemap_extent ext[EXTENTS_MAP_MAX];
        uint64_t size;  /* reads as zeros past this */
        bool truncated; /* more extents than fit: the rest is compared by data */
};

static int extents_map_load(int fd, struct extents_map *m, uint64_t from, uint64_t to,
                            struct extents_stats *stats)
{
        memset(&m->fm, 0, sizeof(m->fm));
        m->truncated = false;
        if (from >= m->size)
                return 0;
        m->fm.fm_start = from;
        m->fm.fm_length = to - from;
        m->fm.fm_flags = FIEMAP_FLAG_SYNC;
        m->fm.fm_extent_count = EXTENTS_MAP_MAX;
        stats->fiemap_calls++;
        if (ioctl(fd, FS_IOC_FIEMAP, &m->fm) < 0) {
                /* A filesystem without FIEMAP (tmpfs) still has SEEK_DATA: an empty,
                 * truncated map makes the window's data get compared. */
                if (errno != EOPNOTSUPP && errno != ENOTTY)
                        return neg_errno();
                m->fm.fm_mapped_extents = 0;
                m->truncated = true;
                return 0;
        }
        unsigned n = m->fm.fm_mapped_extents;
        m->truncated = n == EXTENTS_MAP_MAX && !(m->ext[n - 1].fe_flags & FIEMAP_EXTENT_LAST);
        return 0;
}

/* What one file has at off: kind 0 hole, 1 mapped at *phys, 2 unknown; *until is where that
 * stops. */
enum { MAP_HOLE, MAP_PHYS, MAP_UNKNOWN };
static int extents_map_at(const struct extents_map *m, uint64_t off, uint64_t to, uint64_t *phys,
                          uint64_t *until, bool *shared)
{
        if (off >= m->size) {
                *until = to;
                return MAP_HOLE;
        }
        uint64_t next = m->size < to ? m->size : to;
        for (unsigned i = 0; i < m->fm.fm_mapped_extents; i++) {
                const struct fiemap_extent *e = &m->ext[i];
                if (e->fe_logical > off) {
                        next = e->fe_logical < next ? e->fe_logical : next;
                        break;
                }
                if (off < e->fe_logical + e->fe_length) {
                        uint64_t end = e->fe_logical + e->fe_length;
                        *until = end < to ? end : to;
                        if (e->fe_flags & FIEMAP_EXTENT_SHARED)
                                *shared = true;
                        if (e->fe_flags & EXTENTS_NOT_PHYS)
                                return MAP_UNKNOWN;
                        *phys = e->fe_physical + (off - e->fe_logical);
                        return MAP_PHYS;
                }
        }
        *until = next;
        return m->truncated ? MAP_UNKNOWN : MAP_HOLE;
}

struct extents_cmp {
        int base_fd, target_fd;
        uint64_t base_size;
        char *a, *b;
        struct extents_stats *stats;
        extents_emit_fn emit;
        void *ctx;
};

static int extents_read(int fd, char *buf, uint64_t off, size_t len, uint64_t size)
{
        size_t have = off >= size ? 0 : (size - off < len ? (size_t)(size - off) : len);
        size_t done = 0;
        int r = fileio_pread_full(fd, buf, have, off, &done);
        if (r < 0)
                return r;
        memset(buf + done, 0, len - done);
        return 0;
}

/* Compares [off, to) block by block and emits the runs that differ. */
static int extents_compare(struct extents_cmp *c, uint64_t off, uint64_t to, uint64_t target_size)
{
        while (off < to) {
                size_t len = to - off < EXTENTS_CHUNK ? (size_t)(to - off) : EXTENTS_CHUNK;
                int r = extents_read(c->base_fd, c->a, off, len, c->base_size);
                if (r == 0)
                        r = extents_read(c->target_fd, c->b, off, len, target_size);
                if (r < 0)
                        return r;
                c->stats->bytes_compared += len;
                uint64_t run = 0, run_len = 0;
                for (size_t i = 0; i < len; i += EXTENTS_BLOCK) {
                        size_t blk = len - i < EXTENTS_BLOCK ? len - i : EXTENTS_BLOCK;
                        if (memcmp(c->a + i, c->b + i, blk) != 0) {
                                if (run_len == 0)
                                        run = off + i;
                                run_len += blk;
                                continue;
                        }
                        if (run_len && (r = c->emit(c->ctx, run, run_len)) < 0)
                                return r;
                        run_len = 0;
                }
                if (run_len && (r = c->emit(c->ctx, run, run_len)) < 0)
                        return r;
                off += len;
        }
        return 0;
}

static int extents_delta_window(struct extents_cmp *c, struct extents_map *base,
                                struct extents_map *target, uint64_t from, uint64_t to)
{
        int r = extents_map_load(c->base_fd, base, from, to, c->stats);
        if (r == 0)
                r = extents_map_load(c->target_fd, target, from, to, c->stats);
        if (r < 0)
                return r;
        for (uint64_t off = from; off < to;) {
                uint64_t bp = 0, tp = 0, bu = to, tu = to;
                bool bshared = false, tshared = false;
                int bk = extents_map_at(base, off, to, &bp, &bu, &bshared);
                int tk = extents_map_at(target, off, to, &tp, &tu, &tshared);
                uint64_t until = bu < tu ? bu : tu;
                if (until <= off)
                        until = to; /* a malformed map: compare the rest */
                bool relatives = bshared && tshared;
                bool both_zero = bk == MAP_HOLE && tk == MAP_HOLE;
                bool same_blocks = bk == MAP_PHYS && tk == MAP_PHYS && bp == tp;
                if (both_zero || same_blocks) {
                        /* unchanged */
                } else if (relatives && bk != MAP_UNKNOWN && tk != MAP_UNKNOWN) {
                        r = c->emit(c->ctx, off, until - off);
                } else {
                        r = extents_compare(c, off, until, target->size);
                }
                if (r < 0)
                        return r;
                off = until;
        }
        return 0;
}

/* Everything a delta needs, in one allocation: two block maps and two read buffers. */
struct extents_work {
        struct extents_map maps[2];
        char buf[2][EXTENTS_CHUNK];
};

static int extents_delta_run(struct extents_work *w, struct extents_cmp *c, uint64_t start,
                             uint64_t end)
{
        for (uint64_t pos = extents_down(start); pos < end;) {
                /* Skip what is a hole in both files. */
                uint64_t tdata = end, bdata = end;
                uint64_t bend = c->base_size < end ? c->base_size : end;
                int r = extents_next_data(c->target_fd, pos, end, &tdata);
                if (r == 0)
                        r = extents_next_data(c->base_fd, pos, bend, &bdata);
                if (r < 0)
                        return r;
                if (bdata >= bend)
                        bdata = end;
                uint64_t next = extents_down(tdata < bdata ? tdata : bdata);
                if (next >= end)
                        return 0;
                pos = next > pos ? next : pos;
                uint64_t to = end - pos < EXTENTS_WINDOW ? end : pos + EXTENTS_WINDOW;
                r = extents_delta_window(c, &w->maps[0], &w->maps[1], pos, to);
                if (r < 0)
                        return r;
                pos = to;
        }
        return 0;
}

int extents_delta(int base_fd, uint64_t base_size, int target_fd, uint64_t start, uint64_t end,
                  extents_emit_fn emit, void *ctx, struct extents_stats *stats)
{
        struct extents_work *w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        w->maps[0].size = base_size;
        w->maps[1].size = end;
        struct extents_cmp c = {base_fd,   target_fd, base_size, w->buf[0],
                                w->buf[1], stats,     emit,      ctx};
        int r = extents_delta_run(w, &c, start, end);
        free(w);
        return r;
}
