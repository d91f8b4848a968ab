/* What thin volumes still need from the pool's filesystem. A thin volume's file has holes
 * where nothing was written yet; each write into a hole takes free space from the pool, and
 * when there is none the write fails inside the volume (an I/O error, lost data). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct store_space {
        uint64_t free_bytes;     /* statvfs f_bavail of the pool */
        uint64_t unbacked_bytes; /* sum over volume files of size - allocated */
};

/* Sum over <pool>/volumes/<id>.img of (size - allocated bytes), never negative per file. */
int store_space_unbacked(const char *pool, uint64_t *ret);

/* Bytes of fd's file not backed by allocated blocks; 0 on error. */
uint64_t store_space_file_unbacked(int fd);

/* statvfs and store_space_unbacked. O(volumes). */
int store_space_read(const char *pool, struct store_space *ret);

/* True when the pool can no longer back what thin volumes may still write, beyond the
 * overcommit the operator allowed: free × ratio < unbacked. */
bool store_space_is_short(const struct store_space *s, double ratio);
