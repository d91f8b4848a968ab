#include "common/beneath.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "common/cleanup.h"

int beneath_open(int dirfd, const char *rel, int flags, mode_t mode)
{
        struct open_how how = {
            .flags = (unsigned)(flags | O_NOFOLLOW | O_CLOEXEC),
            .mode = (flags & O_CREAT) ? mode : 0,
            .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
        };
        long fd;

        if (!*rel)
                rel = ".";
        fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
        return fd < 0 ? neg_errno() : (int)fd;
}

int beneath_dir(int dirfd, const char *name, mode_t mode, bool *ret_made)
{
        bool made = mkdirat(dirfd, name, mode) == 0;
        int fd;

        if (!made && errno != EEXIST)
                return neg_errno();
        fd = beneath_open(dirfd, name, O_PATH, 0);
        if (fd >= 0 && ret_made)
                *ret_made = made;
        return fd;
}

int beneath_file(int dirfd, const char *name, mode_t mode, bool *ret_made)
{
        /* O_EXCL: never opens what is there, whatever it is; O_RDONLY creates no write
         * access anybody could abuse through the fd. */
        int fd = beneath_open(dirfd, name, O_CREAT | O_EXCL | O_RDONLY | O_NONBLOCK, mode);
        bool made = fd >= 0;

        if (fd == -EEXIST)
                fd = beneath_open(dirfd, name, O_PATH, 0);
        if (fd >= 0 && ret_made)
                *ret_made = made;
        return fd;
}

int beneath_remove_empty(int dirfd, const char *name)
{
        _cleanup_close_ int fd = beneath_open(dirfd, name, O_PATH, 0);
        struct stat st;

        if (fd < 0)
                return fd == -ENOENT ? 0 : fd;
        if (fstat(fd, &st) < 0)
                return neg_errno();
        if (S_ISDIR(st.st_mode))
                return unlinkat(dirfd, name, AT_REMOVEDIR) == 0 ? 1 : 0;
        if (S_ISREG(st.st_mode) && st.st_size == 0)
                return unlinkat(dirfd, name, 0) == 0 ? 1 : 0;
        return 0;
}
