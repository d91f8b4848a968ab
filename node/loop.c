#include "node/loop.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <linux/loop.h>
#include <linux/major.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "node/blkdev.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/cleanup.h"
#include "common/seam.h"

#define LOOP_ATTACH_TRIES   64
#define LOOP_KNOWN_GROW     64
#define LOOP_DETACH_WAIT_MS 2000
#define LOOP_DELETED_SUFFIX " (deleted)"

/* The devices this process attached, or kept at startup reconciliation, by backing inode:
 * loop_find() looks there instead of reading every /sys/block entry. */
struct loop_known {
        dev_t dev;
        ino_t ino;
        int nr;
};

static pthread_mutex_t loop_known_lock = PTHREAD_MUTEX_INITIALIZER;
static struct loop_known *loop_known;
static size_t loop_known_n, loop_known_cap;

static void loop_known_drop_locked(size_t i)
{
        loop_known[i] = loop_known[--loop_known_n];
}

/* Records that device nr is backed by dev:ino (replacing what either was known for). */
static void loop_known_add(dev_t dev, ino_t ino, int nr)
{
        pthread_mutex_lock(&loop_known_lock);
        for (size_t i = 0; i < loop_known_n;)
                if (loop_known[i].nr == nr ||
                    (loop_known[i].dev == dev && loop_known[i].ino == ino))
                        loop_known_drop_locked(i);
                else
                        i++;
        if (loop_known_n == loop_known_cap) {
                size_t cap = loop_known_cap + LOOP_KNOWN_GROW;
                struct loop_known *a = realloc(loop_known, cap * sizeof(*a));
                if (a) {
                        loop_known = a;
                        loop_known_cap = cap;
                }
        }
        /* Without room the device is simply not known: loop_find() then does not find it. */
        if (loop_known_n < loop_known_cap)
                loop_known[loop_known_n++] = (struct loop_known){dev, ino, nr};
        pthread_mutex_unlock(&loop_known_lock);
}

static void loop_known_forget(int nr)
{
        pthread_mutex_lock(&loop_known_lock);
        for (size_t i = 0; i < loop_known_n; i++)
                if (loop_known[i].nr == nr) {
                        loop_known_drop_locked(i);
                        break;
                }
        pthread_mutex_unlock(&loop_known_lock);
}

static int loop_known_lookup(dev_t dev, ino_t ino)
{
        int nr = -1;
        pthread_mutex_lock(&loop_known_lock);
        for (size_t i = 0; i < loop_known_n && nr < 0; i++)
                if (loop_known[i].dev == dev && loop_known[i].ino == ino)
                        nr = loop_known[i].nr;
        pthread_mutex_unlock(&loop_known_lock);
        return nr;
}

/* Reads a one-line sysfs file into buf without the newline. */
static int loop_read_line(const char *path, char *buf, size_t size)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return neg_errno();
        n = read(fd, buf, size - 1);
        if (n < 0)
                return neg_errno();
        while (n > 0 && buf[n - 1] == '\n')
                n--;
        buf[n] = '\0';
        return (int)n;
}

static int loop_devno_of(int nr, dev_t *ret)
{
        char path[64], line[32], *colon, *end;
        unsigned long maj, min;
        int r;

        snprintf(path, sizeof(path), "/sys/block/loop%d/dev", nr);
        r = loop_read_line(path, line, sizeof(line));
        if (r < 0)
                return r;
        errno = 0;
        maj = strtoul(line, &colon, 10);
        if (errno || *colon != ':')
                return -EIO;
        min = strtoul(colon + 1, &end, 10);
        if (errno || *end || maj > UINT_MAX || min > UINT_MAX)
                return -EIO;
        *ret = makedev((unsigned)maj, (unsigned)min);
        return 0;
}

static int loop_dev_init(int nr, struct loop_dev *ret)
{
        struct loop_dev d = {.nr = nr};
        int r = loop_devno_of(nr, &d.devno);

        if (r < 0)
                return r;
        snprintf(d.node, sizeof(d.node), "/dev/loop%d", nr);
        *ret = d;
        return 0;
}

int loop_backing_file(const struct loop_dev *d, char **ret, bool *ret_deleted)
{
        char path[64], buf[PATH_MAX + sizeof(LOOP_DELETED_SUFFIX)];
        size_t n, sl = strlen(LOOP_DELETED_SUFFIX);
        bool deleted;
        int r;

        snprintf(path, sizeof(path), "/sys/block/loop%d/loop/backing_file", d->nr);
        r = loop_read_line(path, buf, sizeof(buf));
        if (r == -ENOENT)
                return -ENXIO;
        if (r < 0)
                return r;
        n = (size_t)r;
        deleted = n > sl && strcmp(buf + n - sl, LOOP_DELETED_SUFFIX) == 0;
        if (deleted)
                buf[n - sl] = '\0';
        *ret = strdup(buf);
        if (!*ret)
                return -ENOMEM;
        if (ret_deleted)
                *ret_deleted = deleted;
        return 0;
}

static bool loop_inode_matches(const struct loop_dev *d, const struct stat *st)
{
        _cleanup_close_ int fd = open(d->node, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        struct loop_info64 info;

        if (fd < 0 || ioctl(fd, LOOP_GET_STATUS64, &info) < 0)
                return false;
        return info.lo_inode == st->st_ino && info.lo_device == st->st_dev;
}

static bool loop_is_backed_by_real(const struct loop_dev *d, const char *real,
                                   const struct stat *st)
{
        _cleanup_free_ char *backing = NULL;
        bool deleted;

        if (loop_backing_file(d, &backing, &deleted) < 0 || deleted)
                return false;
        return strcmp(backing, real) == 0 && loop_inode_matches(d, st);
}

bool loop_is_backed_by(const struct loop_dev *d, const char *file)
{
        _cleanup_free_ char *real = realpath(file, NULL);
        struct stat st;

        if (!real || stat(real, &st) < 0)
                return false;
        return loop_is_backed_by_real(d, real, &st);
}

static int loop_nr_of_name(const char *name)
{
        char *end;
        long nr;

        if (strncmp(name, "loop", 4) != 0 || name[4] < '0' || name[4] > '9')
                return -1;
        errno = 0;
        nr = strtol(name + 4, &end, 10);
        if (errno || *end || nr < 0 || nr > INT_MAX)
                return -1;
        return (int)nr;
}

/* Calls fn for /sys/block/<name> when it is a bound loop device. */
static int loop_visit(const char *name, loop_visit_fn fn, void *userdata)
{
        int nr = loop_nr_of_name(name);
        char *backing = NULL;
        struct loop_dev d;
        bool deleted = false;
        int r;

        if (nr < 0 || loop_dev_init(nr, &d) < 0 || loop_backing_file(&d, &backing, &deleted) < 0)
                return 0;
        r = fn(&d, backing, deleted, userdata);
        free(backing);
        return r;
}

int loop_foreach(loop_visit_fn fn, void *userdata)
{
        DIR *dir = opendir("/sys/block");
        struct dirent *de;
        int r = 0;

        if (!dir)
                return neg_errno();
        while (r >= 0 && (de = readdir(dir)))
                r = loop_visit(de->d_name, fn, userdata);
        closedir(dir);
        return r < 0 ? r : 0;
}

/* The file's canonical path and identity; -ENOENT when it is no regular file. */
static int loop_file_identity(const char *file, char **ret_real, struct stat *ret_st)
{
        _cleanup_free_ char *real = NULL;
        struct stat lst, st;

        if (lstat(file, &lst) < 0)
                return neg_errno();
        if (!S_ISREG(lst.st_mode))
                return -ENOENT;
        real = realpath(file, NULL);
        if (!real)
                return neg_errno();
        if (stat(real, &st) < 0)
                return neg_errno();
        if (st.st_ino != lst.st_ino || st.st_dev != lst.st_dev)
                return -ENOENT; /* replaced meanwhile */
        *ret_real = TAKE_PTR(real);
        *ret_st = st;
        return 0;
}

/* Reads each loop device's backing path, and only for the one naming real its number and
 * backing inode. Remembers what it finds. */
static int loop_scan_for(const char *real, const struct stat *st, struct loop_dev *ret)
{
        DIR *dir = opendir("/sys/block");
        struct dirent *de;
        bool found = false;

        if (!dir)
                return neg_errno();
        while (!found && (de = readdir(dir))) {
                struct loop_dev d = {.nr = loop_nr_of_name(de->d_name)};
                char *backing = NULL;
                bool deleted = false, named;

                if (d.nr < 0 || loop_backing_file(&d, &backing, &deleted) < 0)
                        continue;
                named = !deleted && strcmp(backing, real) == 0;
                free(backing);
                found = named && loop_dev_init(d.nr, &d) == 0 && loop_inode_matches(&d, st);
                if (found)
                        *ret = d;
        }
        closedir(dir);
        if (!found)
                return -ENOENT;
        loop_known_add(st->st_dev, st->st_ino, ret->nr);
        return 0;
}

int loop_find_scan(const char *file, struct loop_dev *ret)
{
        _cleanup_free_ char *real = NULL;
        struct stat st = {0};
        int r = loop_file_identity(file, &real, &st);

        if (r < 0 || !real)
                return r < 0 ? r : -ENOENT;
        return loop_scan_for(real, &st, ret);
}

static bool loop_file_has_no_writer(const char *real)
{
        _cleanup_close_ int fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

        return fd >= 0 && fileio_has_writer(fd) == 0;
}

int loop_find(const char *file, struct loop_dev *ret)
{
        _cleanup_free_ char *real = NULL;
        struct loop_dev d;
        struct stat st = {0};
        int nr, r;

        r = loop_file_identity(file, &real, &st);
        if (r < 0 || !real)
                return r < 0 ? r : -ENOENT;
        nr = loop_known_lookup(st.st_dev, st.st_ino);
        /* Someone else may have detached it, or reused the number for another file. */
        if (nr >= 0 && loop_dev_init(nr, &d) == 0 && loop_is_backed_by_real(&d, real, &st)) {
                *ret = d;
                return 0;
        }
        if (nr >= 0)
                loop_known_forget(nr);
        /* Not known. A device bound read-write holds its file open for writing: when nobody
         * does, there is none, without reading sysfs. Else a device attached by someone else
         * is still found (and reused rather than doubled) by reading every backing path. */
        if (loop_file_has_no_writer(real))
                return -ENOENT;
        return loop_scan_for(real, &st, ret);
}

int loop_remember(const struct loop_dev *d)
{
        _cleanup_close_ int fd = open(d->node, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        struct loop_info64 info;

        if (fd < 0)
                return neg_errno();
        if (ioctl(fd, LOOP_GET_STATUS64, &info) < 0)
                return neg_errno();
        loop_known_add((dev_t)info.lo_device, (ino_t)info.lo_inode, d->nr);
        return 0;
}

int loop_from_devno(dev_t devno, struct loop_dev *ret)
{
        char path[96], link[PATH_MAX];
        struct loop_dev d = {.devno = devno};
        ssize_t n;

        /* A loop device is always LOOP_MAJOR (its partitions, which have no backing file,
         * are not): any other device is no loop device without asking sysfs. */
        if (major(devno) != LOOP_MAJOR)
                return -ENODEV;
        snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/loop/backing_file", major(devno),
                 minor(devno));
        if (access(path, F_OK) < 0)
                return -ENODEV;
        /* The link names the device's directory, ".../block/loopN": one readlink, no walk. */
        snprintf(path, sizeof(path), "/sys/dev/block/%u:%u", major(devno), minor(devno));
        n = readlink(path, link, sizeof(link) - 1);
        if (n <= 0)
                return -ENODEV;
        link[n] = '\0';
        d.nr = loop_nr_of_name(strrchr(link, '/') ? strrchr(link, '/') + 1 : link);
        if (d.nr < 0)
                return -ENODEV;
        snprintf(d.node, sizeof(d.node), "/dev/loop%d", d.nr);
        *ret = d;
        return 0;
}

bool loop_has_backing_inode(const struct loop_dev *d, const struct stat *st)
{
        return loop_inode_matches(d, st);
}

static int loop_configure(int nr, int file_fd, struct loop_dev *ret)
{
        struct loop_config cfg = {.fd = (__u32)file_fd};
        _cleanup_close_ int fd = -1;
        struct loop_dev d;
        int r;

        r = loop_dev_init(nr, &d);
        if (r < 0)
                return r;
        fd = open(d.node, O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return neg_errno();
        if (ioctl(fd, LOOP_CONFIGURE, &cfg) < 0)
                return neg_errno();
        *ret = d;
        return 0;
}

int loop_attach(const char *file, struct loop_dev *ret)
{
        _cleanup_close_ int fd =
            open(file, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);

        if (fd < 0)
                return neg_errno();
        return loop_attach_fd(fd, ret);
}

SILO_SEAM int loop_attach_fd(int ffd, struct loop_dev *ret)
{
        _cleanup_close_ int ctl = -1;
        const struct timespec pause = {.tv_nsec = 1000000};
        struct stat st;
        int r = -EBUSY;

        if (fstat(ffd, &st) < 0)
                return neg_errno();
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
        if (ctl < 0)
                return neg_errno();
        for (int i = 0; i < LOOP_ATTACH_TRIES && (r == -EBUSY || r == -ENOENT); i++) {
                int nr = ioctl(ctl, LOOP_CTL_GET_FREE);

                if (nr < 0)
                        return neg_errno();
                r = loop_configure(nr, ffd, ret);
                if (r == -ENOENT) /* node not yet created by devtmpfs/udev */
                        nanosleep(&pause, NULL);
        }
        if (r >= 0)
                loop_known_add(st.st_dev, st.st_ino, ret->nr);
        return r;
}

static int loop_open(const struct loop_dev *d, int flags)
{
        int fd = open(d->node, flags | O_CLOEXEC);

        return fd < 0 ? neg_errno() : fd;
}

/* LOOP_CLR_FD only marks the device while another process (udev, a prober) holds it open;
 * the kernel detaches at its last close. Wait a little for that, so that a detach the caller
 * was told about is visible to the next lookup. */
static void loop_wait_detached(const struct loop_dev *d)
{
        for (int i = 0; i < LOOP_DETACH_WAIT_MS / 5; i++) {
                char *backing = NULL;
                if (loop_backing_file(d, &backing, NULL) < 0)
                        return;
                free(backing);
                struct timespec ts = {0, 5 * 1000 * 1000};
                nanosleep(&ts, NULL);
        }
        log_debug("msg='loop device still held open; the kernel detaches it at last close' "
                  "device='%s'",
                  d->node);
}

SILO_SEAM int loop_detach(const struct loop_dev *d)
{
        _cleanup_close_ int fd = loop_open(d, O_RDONLY | O_NONBLOCK);

        if (fd == -ENOENT || fd == -ENXIO)
                return 0;
        if (fd < 0)
                return fd;
        if (ioctl(fd, LOOP_CLR_FD, 0) < 0) {
                if (errno != ENXIO)
                        return neg_errno();
                loop_known_forget(d->nr);
                return 0;
        }
        loop_known_forget(d->nr);
        close(TAKE_FD(fd)); /* our own open would defer the detach too */
        loop_wait_detached(d);
        return 0;
}

int loop_size(const struct loop_dev *d, uint64_t *ret)
{
        _cleanup_close_ int fd = loop_open(d, O_RDONLY | O_NONBLOCK);

        if (fd < 0)
                return fd;
        return blkdev_size(fd, ret);
}

SILO_SEAM int loop_set_capacity(const struct loop_dev *d, uint64_t *ret_size)
{
        _cleanup_close_ int fd = loop_open(d, O_RDONLY | O_NONBLOCK);

        if (fd < 0)
                return fd;
        if (ioctl(fd, LOOP_SET_CAPACITY, 0) < 0)
                return neg_errno();
        return blkdev_size(fd, ret_size);
}
