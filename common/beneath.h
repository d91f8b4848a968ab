/* Opening and creating files beneath a directory fd without ever leaving it. The kernel
 * resolves every name with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS: a
 * symlink anywhere on the way is -ELOOP and a way out is -EXDEV, instead of being followed.
 * What a caller checks through the returned fd is then what it uses: nothing is looked up by
 * name again. Every fd is O_CLOEXEC. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/* openat2 of rel (relative; "" is dirfd itself) beneath dirfd with flags | O_NOFOLLOW |
 * O_CLOEXEC; mode for O_CREAT. Returns the fd or a negative errno. */
int beneath_open(int dirfd, const char *rel, int flags, mode_t mode);

/* Makes directory name in dirfd (mode) unless something is already there, and opens what is
 * there O_PATH. *ret_made (may be NULL) says whether this call made it. The caller checks the
 * type: whatever won a race may be there. */
int beneath_dir(int dirfd, const char *name, mode_t mode, bool *ret_made);

/* Makes the empty regular file name in dirfd (mode) unless something is already there, and
 * opens what is there O_PATH: a FIFO or a device node is never opened for I/O, so this never
 * blocks and never reaches a driver. *ret_made as for beneath_dir; the caller checks the type. */
int beneath_file(int dirfd, const char *name, mode_t mode, bool *ret_made);

/* Removes name from dirfd when it is an empty directory or an empty regular file (what
 * beneath_dir and beneath_file make); anything else stays. Returns 1 when it removed it. */
int beneath_remove_empty(int dirfd, const char *name);
