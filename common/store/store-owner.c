/* One owner per node-scoped pool: an flock on "<pool>/owner.lock" held for the process's life. */
#include "common/store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/cleanup.h"

#define STORE_OWNER_FILE "owner.lock"

/* Describes who holds the conflicting claim: the exclusive owner's line from the file, or
 * "shared-scope instances" when a shared claim would still be granted. */
static void store_owner_describe(int fd, bool exclusive, char *holder, size_t size)
{
        if (exclusive && flock(fd, LOCK_SH | LOCK_NB) == 0) {
                flock(fd, LOCK_UN);
                snprintf(holder, size, "instances with --pool-scope shared");
                return;
        }
        char buf[160];
        ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
        buf[n > 0 ? n : 0] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        snprintf(holder, size, "%s", buf[0] ? buf : "an instance that is starting");
}

/* The exclusive owner names itself; the name stays after it exits (the lock does not). */
static int store_owner_write(int fd)
{
        char host[64] = "";
        if (gethostname(host, sizeof(host) - 1) < 0)
                host[0] = '\0';
        char buf[160];
        int len = snprintf(buf, sizeof(buf), "pid=%ld host=%s\n", (long)getpid(), host);
        if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)len, 0) != len)
                return neg_errno();
        return 0;
}

int store_owner_claim(const char *pool, bool exclusive, char *holder, size_t size)
{
        char path[4096];
        if (snprintf(path, sizeof(path), "%s/%s", pool, STORE_OWNER_FILE) >= (int)sizeof(path))
                return -ENAMETOOLONG;
        _cleanup_close_ int fd =
            open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0640);
        if (fd < 0)
                return neg_errno();
        if (flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) < 0) {
                int r = neg_errno();
                if (r == -EWOULDBLOCK && size)
                        store_owner_describe(fd, exclusive, holder, size);
                return r;
        }
        if (exclusive) {
                int r = store_owner_write(fd);
                if (r < 0)
                        return r;
        }
        return TAKE_FD(fd);
}
