#include "common/path.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "common/err.h"
#include "common/cleanup.h"

/* Normalises into out, which holds PATH_CHECK_MAX + 1 bytes. */
static int path_normalise_into(const char *path, char *out)
{
        size_t len = strlen(path), n = 0;

        if (len == 0 || path[0] != '/')
                return -EINVAL;
        if (len > PATH_CHECK_MAX)
                return -ENAMETOOLONG;
        for (size_t i = 0; i < len; i++)
                if (path[i] != '/' || n == 0 || out[n - 1] != '/')
                        out[n++] = path[i];
        if (n > 1 && out[n - 1] == '/')
                n--;
        out[n] = '\0';
        return 0;
}

int path_normalise(const char *path, char **ret)
{
        char buf[PATH_CHECK_MAX + 1];
        int r = path_normalise_into(path, buf);

        if (r < 0)
                return r;
        *ret = strdup(buf);
        return *ret ? 0 : -ENOMEM;
}

bool path_is_within(const char *path, const char *dir)
{
        size_t n = strlen(dir);

        if (n == 1 && dir[0] == '/')
                return true;
        return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* Writes the reason into why (when given) and evaluates to -SILO_EINVALID. */
#define path_refuse(why, size, ...)                                                                \
        ({                                                                                         \
                if ((why) && (size))                                                               \
                        snprintf((why), (size), __VA_ARGS__);                                      \
                -SILO_EINVALID;                                                                    \
        })

static bool path_has_control(const char *p)
{
        for (; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f)
                        return true;
        return false;
}

static bool path_has_dot_component(const char *p)
{
        for (const char *c = p; *c; c++) {
                if (*c != '/')
                        continue;
                if (c[1] == '.' && (c[2] == '/' || c[2] == '\0'))
                        return true;
                if (c[1] == '.' && c[2] == '.' && (c[3] == '/' || c[3] == '\0'))
                        return true;
        }
        return false;
}

static int path_openat2(int dirfd, const char *rel)
{
        struct open_how how = {
            .flags = O_PATH | O_CLOEXEC,
            .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
        };
        long fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));

        return fd < 0 ? neg_errno() : (int)fd;
}

/* Opens the deepest existing ancestor-or-self of rel beneath dirfd without symlinks. */
static int path_open_existing(int dirfd, char *rel)
{
        for (;;) {
                int fd = path_openat2(dirfd, rel);
                char *slash;

                if (fd != -ENOENT)
                        return fd;
                slash = strrchr(rel, '/');
                if (!slash) {
                        fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
                        return fd < 0 ? neg_errno() : fd;
                }
                *slash = '\0';
        }
}

static bool path_is_same_file(int fd, const char *other)
{
        struct stat a, b;

        return fstat(fd, &a) == 0 && stat(other, &b) == 0 && a.st_dev == b.st_dev &&
               a.st_ino == b.st_ino;
}

static int path_resolve(const char *p, const char *kdir, const char *pool, char *why, size_t size)
{
        _cleanup_close_ int dfd = open(kdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int fd = -1;
        char rel[PATH_CHECK_MAX + 1];

        if (dfd < 0)
                return path_refuse(why, size, "kubelet directory '%s' is not usable", kdir);
        snprintf(rel, sizeof(rel), "%s", p + strlen(kdir) + (strcmp(kdir, "/") == 0 ? 0 : 1));
        fd = path_open_existing(dfd, rel);
        if (fd == -ENOENT)
                return 0;
        if (fd == -ELOOP || fd == -EXDEV || fd == -ENOTDIR)
                return path_refuse(why, size, "path '%s' goes through a symlink or a file", p);
        if (fd < 0)
                return fd;
        if (path_is_same_file(fd, pool))
                return path_refuse(why, size, "path '%s' is the volume pool", p);
        return 0;
}

static int path_check_text(const char *p, const char *kdir, const char *pool, char *why,
                           size_t size)
{
        if (path_has_control(p))
                return path_refuse(why, size, "path contains control characters");
        if (path_has_dot_component(p))
                return path_refuse(why, size, "path '%s' has a '.' or '..' component", p);
        if (!path_is_within(p, kdir) || strcmp(p, kdir) == 0)
                return path_refuse(why, size,
                                   "path '%s' is not beneath the kubelet "
                                   "directory '%s'",
                                   p, kdir);
        if (path_is_within(p, pool) || path_is_within(pool, p))
                return path_refuse(why, size, "path '%s' overlaps the volume pool", p);
        return 0;
}

static int path_normalise_input(const char *path, char *why, size_t size, char *out)
{
        int r;

        if (!path || !*path)
                return path_refuse(why, size, "path is empty");
        if (path[0] != '/')
                return path_refuse(why, size, "path must be absolute");
        r = path_normalise_into(path, out);
        if (r == -ENAMETOOLONG)
                return path_refuse(why, size, "path is longer than %d bytes", PATH_CHECK_MAX);
        return r;
}

static int path_check_at(const char *path, const char *kubelet_dir, const char *pool, bool resolve,
                         char *why, size_t why_size, char **ret)
{
        char p[PATH_CHECK_MAX + 1], kdir[PATH_CHECK_MAX + 1], pl[PATH_CHECK_MAX + 1];
        char *copy;
        int r;

        r = path_normalise_input(path, why, why_size, p);
        if (r < 0)
                return r;
        if (path_normalise_into(kubelet_dir, kdir) < 0 || path_normalise_into(pool, pl) < 0)
                return path_refuse(why, why_size, "kubelet directory or pool is not absolute");
        r = path_check_text(p, kdir, pl, why, why_size);
        if (r < 0)
                return r;
        r = resolve ? path_resolve(p, kdir, pl, why, why_size) : 0;
        if (r < 0)
                return r;
        copy = strdup(p);
        if (!copy)
                return -ENOMEM;
        *ret = copy;
        return 0;
}

int path_check(const char *path, const char *kubelet_dir, const char *pool, char *why,
               size_t why_size, char **ret)
{
        return path_check_at(path, kubelet_dir, pool, true, why, why_size, ret);
}

int path_check_name(const char *path, const char *kubelet_dir, const char *pool, char *why,
                    size_t why_size, char **ret)
{
        return path_check_at(path, kubelet_dir, pool, false, why, why_size, ret);
}
