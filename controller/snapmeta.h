/* Changed-block tracking for the SnapshotMetadata service: a snapshot's allocated ranges, and
 * the ranges that differ between two snapshots of one volume. Ranges are VARIABLE_LENGTH
 * extents aligned to EXTENTS_BLOCK. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "controller/extents.h"

struct controller;

struct snapmeta {
        int fd, base_fd; /* base_fd -1 for allocated */
        uint64_t capacity_bytes, base_size;
        uint64_t start; /* rounded down to EXTENTS_BLOCK */
        struct extents_stats stats;
};

/* Opens snapshot id for GetMetadataAllocated from start: -SILO_ENOTFOUND, or
 * -SILO_EOUTOFRANGE when start is not below its size. Close with snapmeta_close(). */
int snapmeta_open_allocated(struct controller *c, const char *id, uint64_t start,
                            struct snapmeta *ret);
/* Opens the pair for GetMetadataDelta: -SILO_ENOTFOUND, -SILO_EINVALID when they are
 * snapshots of different volumes, -SILO_EOUTOFRANGE as above (against the target). */
int snapmeta_open_delta(struct controller *c, const char *base_id, const char *target_id,
                        uint64_t start, struct snapmeta *ret);
/* Emits the ranges, in order. */
int snapmeta_run(struct snapmeta *m, extents_emit_fn emit, void *ctx);
void snapmeta_close(struct snapmeta *m);
