/* Which byte ranges of a file hold data, and which differ between two files, found from the
 * filesystem's own maps (SEEK_DATA/SEEK_HOLE, FIEMAP) so that a reflink relative costs
 * metadata reads only. Plain files and fds; knows nothing of volumes. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Ranges come out aligned to this (the block size every pool filesystem here uses). */
#define EXTENTS_BLOCK 4096u

/* Receives ranges in ascending order, never overlapping; 0 to go on, negative to stop (the
 * value is returned). */
typedef int (*extents_emit_fn)(void *ctx, uint64_t offset, uint64_t length);

struct extents_stats {
        uint64_t bytes_compared; /* data read to compare (0 when the maps sufficed) */
        uint64_t fiemap_calls;
};

/* The ranges of fd within [start, end) that hold data. start is rounded down to a block. */
int extents_allocated(int fd, uint64_t start, uint64_t end, extents_emit_fn emit, void *ctx);

/* The ranges within [start, end) where target differs from base (base reads as zeros past
 * base_size). Ranges both files map to the same physical blocks are unchanged without a
 * read; where both files share blocks with others (reflink relatives), different blocks
 * count as changed; elsewhere, and everywhere on a filesystem without FIEMAP, the data is
 * compared block by block. */
int extents_delta(int base_fd, uint64_t base_size, int target_fd, uint64_t start, uint64_t end,
                  extents_emit_fn emit, void *ctx, struct extents_stats *stats);
