/* One owner per node-scoped pool: an flock on "<pool>/owner.lock" held for the process's life. */
#include "common/store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/file.h>
#include <time.h>
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

static int store_owner_path(const char *pool, char *path, size_t size)
{
        return snprintf(path, size, "%s/%s", pool, STORE_OWNER_FILE) >= (int)size ? -ENAMETOOLONG
                                                                                  : 0;
}

bool store_owner_is_gone(const char *pool)
{
        char path[4096], buf[160], host[64] = "", me[64] = "";
        long pid = 0;
        if (store_owner_path(pool, path, sizeof(path)) < 0)
                return false;
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        ssize_t n = fd < 0 ? -1 : pread(fd, buf, sizeof(buf) - 1, 0);
        buf[n > 0 ? n : 0] = '\0';
        /* A shared claim would be granted: the holders are shared instances, not an owner. */
        if (fd < 0 || flock(fd, LOCK_SH | LOCK_NB) == 0)
                return false;
        char *end = NULL;
        if (strncmp(buf, "pid=", 4) == 0)
                pid = strtol(buf + 4, &end, 10);
        if (pid <= 0 || !end || strncmp(end, " host=", 6) != 0)
                return false;
        snprintf(host, sizeof(host), "%.*s", (int)strcspn(end + 6, "\n"), end + 6);
        if (gethostname(me, sizeof(me) - 1) < 0 || strcmp(host, me) != 0)
                return false;
        return kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

int store_owner_claim_wait(const char *pool, int timeout_ms, char *holder, size_t size)
{
        int r = store_owner_claim(pool, true, holder, size);
        for (int waited = 0; r == -EWOULDBLOCK && waited < timeout_ms; waited += 20) {
                struct timespec ts = {0, 20 * 1000 * 1000};
                nanosleep(&ts, NULL);
                r = store_owner_claim(pool, true, holder, size);
        }
        return r;
}

int store_owner_claim(const char *pool, bool exclusive, char *holder, size_t size)
{
        char path[4096];
        if (store_owner_path(pool, path, sizeof(path)) < 0)
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
