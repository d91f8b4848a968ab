/* Small-file I/O for metadata: atomic replace and bounded whole-file read. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Replaces dir/name with data so that a crash leaves either the old or the new content, never
 * a mix: writes ".<name>.tmp-XXXXXX" beside it, fsyncs it, renames it over name, fsyncs dir.
 * The temp file is removed on failure. */
int fileio_write_atomic(const char *dir, const char *name, const void *data, size_t len);

/* Reads all of path into a NUL-terminated buffer (caller frees). -EFBIG when the file is larger
 * than max bytes; -ENOENT when absent. */
int fileio_read_all(const char *path, size_t max, char **ret_buf, size_t *ret_len);

/* pread/pwrite of all len bytes at off, across short transfers and EINTR. A read stops
 * early only at end of file; *ret_done says how much it read. */
int fileio_pread_full(int fd, void *buf, size_t len, uint64_t off, size_t *ret_done);
int fileio_pwrite_full(int fd, const void *buf, size_t len, uint64_t off);

/* fsyncs a directory (after creating, renaming or removing entries in it). Thread-safe group
 * commit: returns once a sync of dir that started after the call has finished, so concurrent
 * callers for the same directory share one sync. */
int fileio_fsync_dir(const char *dir);

/* True for names fileio_write_atomic() uses for its temp files. */
int fileio_is_temp_name(const char *name);

/* "a directory", "a regular file", "a symlink", "a FIFO", "a block device node", ... for the
 * S_IFMT bits of mode (messages). */
const char *fileio_type_name(unsigned mode);

/* Whether any open file description (another process's, the kernel's for a loop device bound
 * read-write, or this process's own) may write the file fd (opened read-only) refers to: 1
 * yes, 0 no, negative when leases cannot tell (no CAP_LEASE and not the owner, a filesystem
 * without leases): the caller must find out otherwise. Two fcntl(F_SETLEASE) calls. */
int fileio_has_writer(int fd);
