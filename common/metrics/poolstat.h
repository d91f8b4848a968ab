/* Pool-level gauges computed at scrape time from the pool directory and sysfs, so that no
 * RPC path pays for them: filesystem size, bytes allocated and provisioned by volume and
 * snapshot files, volumes by attachment state, snapshots, loop devices backed by pool files.
 * Walks the pool (readdir + fstatat per file): milliseconds at 10,000 volumes. */
#pragma once

#include <stdint.h>

#include "common/metrics/promtext.h"

struct poolstat {
        uint64_t capacity_bytes;    /* size of the pool's filesystem */
        uint64_t available_bytes;   /* free space usable by us */
        uint64_t used_bytes;        /* allocated by volume and snapshot files */
        uint64_t provisioned_bytes; /* apparent size of volume files */
        uint64_t unbacked_bytes;    /* holes of volume files: what thin volumes may still claim */
        uint64_t volumes;           /* <pool>/volumes/<id>.img */
        uint64_t snapshots;         /* <pool>/snapshots/<id>.img */
        uint64_t loop_devices;      /* loop devices whose backing file is in the pool */
        uint64_t volumes_attached;  /* ... backed by a volume file */
};

/* Gathers the figures for pool (an absolute directory). Missing subdirectories count as
 * empty. Returns 0 or a negative errno (statvfs of the pool itself failed). */
int poolstat_read(const char *pool, struct poolstat *ret);

/* Writes the silo_pool_*, silo_volumes, silo_snapshots and silo_loop_devices_attached
 * families. Writes nothing when pool is NULL or cannot be read. */
void poolstat_render(struct promtext *w, const char *pool);
