/* Scope-bound cleanup for local resources, after systemd's helpers. Every project .c file
 * includes this last among project headers (banned.h is also force-included by CMake). */
#pragma once

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/banned.h"

#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void freep(void *p)
{
        free(*(void **)p);
}

static inline void closep(int *fd)
{
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}

#define _cleanup_free_  _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)

/* Hand ownership out of a cleanup-scoped variable. */
#define TAKE_PTR(p)                                                                                \
        ({                                                                                         \
                __typeof__(p) _taken = (p);                                                        \
                (p) = NULL;                                                                        \
                _taken;                                                                            \
        })
#define TAKE_FD(fd)                                                                                \
        ({                                                                                         \
                int _taken = (fd);                                                                 \
                (fd) = -1;                                                                         \
                _taken;                                                                            \
        })

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Returns -errno of the last failed libc call, never 0 (-EIO when errno was not set). */
static inline int neg_errno(void)
{
        return errno > 0 ? -errno : -EIO;
}
