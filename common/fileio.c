#include "common/fileio.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cleanup.h"

static int fileio_fsync_dir_now(const char *dir)
{
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return neg_errno();
        if (fsync(fd) < 0)
                return neg_errno();
        return 0;
}

/* Group commit: one directory sync that starts after a caller's change covers it, so callers
 * that change the same directory at once share syncs instead of queueing one each. */
#define FILEIO_SYNC_SLOTS 8

struct fileio_sync_slot {
        char *dir;
        unsigned users;    /* callers inside fileio_fsync_dir() for dir */
        bool running;      /* a sync of dir is in flight (started, not finished) */
        uint64_t started;  /* syncs started so far; the running one is number started */
        uint64_t finished; /* syncs finished; they run one at a time, in order */
        uint64_t failed;   /* number of the last sync that failed; 0 none */
        int error;         /* its error */
};

static pthread_mutex_t fileio_sync_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t fileio_sync_done = PTHREAD_COND_INITIALIZER;
static struct fileio_sync_slot fileio_sync_slots[FILEIO_SYNC_SLOTS];

/* The slot of dir, taking over an idle one when dir has none; NULL when every slot is busy
 * (the caller then syncs alone). */
static struct fileio_sync_slot *fileio_sync_slot_get(const char *dir)
{
        struct fileio_sync_slot *idle = NULL;
        for (size_t i = 0; i < FILEIO_SYNC_SLOTS; i++) {
                struct fileio_sync_slot *s = &fileio_sync_slots[i];
                if (s->dir && strcmp(s->dir, dir) == 0) {
                        s->users++;
                        return s;
                }
                if (!idle && s->users == 0)
                        idle = s;
        }
        char *copy = idle ? strdup(dir) : NULL;
        if (!copy)
                return NULL;
        free(idle->dir);
        *idle = (struct fileio_sync_slot){.dir = copy, .users = 1};
        return idle;
}

int fileio_fsync_dir(const char *dir)
{
        pthread_mutex_lock(&fileio_sync_lock);
        struct fileio_sync_slot *s = fileio_sync_slot_get(dir);
        if (!s) {
                pthread_mutex_unlock(&fileio_sync_lock);
                return fileio_fsync_dir_now(dir);
        }
        /* A sync running now may have started before our change: we need the next one. */
        uint64_t need = s->started + 1;
        while (s->finished < need) {
                if (s->running) {
                        pthread_cond_wait(&fileio_sync_done, &fileio_sync_lock);
                        continue;
                }
                uint64_t seq = ++s->started;
                s->running = true;
                pthread_mutex_unlock(&fileio_sync_lock);
                int r = fileio_fsync_dir_now(dir);
                pthread_mutex_lock(&fileio_sync_lock);
                s->running = false;
                s->finished = seq;
                if (r < 0) {
                        s->failed = seq;
                        s->error = r;
                }
                pthread_cond_broadcast(&fileio_sync_done);
        }
        /* A failure of our sync or of a later one: either may have lost our change. */
        int r = s->failed >= need ? s->error : 0;
        s->users--;
        pthread_mutex_unlock(&fileio_sync_lock);
        return r;
}

static int fileio_write_full(int fd, const void *data, size_t len)
{
        const char *p = data;
        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return neg_errno();
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

static int fileio_write_temp(const char *tmp, const void *data, size_t len)
{
        _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
                return neg_errno();
        int r = fileio_write_full(fd, data, len);
        if (r < 0)
                return r;
        if (fsync(fd) < 0)
                return neg_errno();
        return 0;
}

int fileio_write_atomic(const char *dir, const char *name, const void *data, size_t len)
{
        static atomic_uint counter;
        unsigned seq = atomic_fetch_add(&counter, 1);
        _cleanup_free_ char *tmp = NULL;
        _cleanup_free_ char *dst = NULL;
        if (asprintf(&tmp, "%s/.%s.tmp-%d-%u", dir, name, (int)getpid(), seq) < 0 ||
            asprintf(&dst, "%s/%s", dir, name) < 0)
                return -ENOMEM;
        int r = fileio_write_temp(tmp, data, len);
        if (r < 0 || rename(tmp, dst) < 0) {
                r = r < 0 ? r : neg_errno();
                unlink(tmp);
                return r;
        }
        return fileio_fsync_dir(dir);
}

static int fileio_read_fd(int fd, size_t max, char *buf, size_t *ret_len)
{
        size_t len = 0;
        for (;;) {
                ssize_t n = read(fd, buf + len, max + 1 - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return neg_errno();
                if (n == 0)
                        break;
                len += (size_t)n;
                if (len > max)
                        return -EFBIG;
        }
        *ret_len = len;
        return 0;
}

#define FILEIO_READ_SMALL 16384 /* a .meta with its attach slots: 12 KiB */

/* Copies the head read so far into a buffer of max bytes and reads the rest into it. */
static int fileio_read_rest(int fd, size_t max, const char *head, size_t len, char **ret_buf,
                            size_t *ret_len)
{
        char *buf = malloc(max + 2);
        size_t more = 0;
        int r;

        if (!buf)
                return -ENOMEM;
        memcpy(buf, head, len);
        r = fileio_read_fd(fd, max - len, buf + len, &more);
        if (r < 0) {
                free(buf);
                return r;
        }
        buf[len + more] = '\0';
        *ret_buf = buf;
        if (ret_len)
                *ret_len = len + more;
        return 0;
}

int fileio_read_all(const char *path, size_t max, char **ret_buf, size_t *ret_len)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return neg_errno();
        /* Most files are small: read them on the stack and allocate what they hold. A buffer
         * of max bytes (64 KiB for a .meta) grew and shrank the heap, and faulted its pages in,
         * on every read of a volume's metadata. */
        char small[FILEIO_READ_SMALL];
        size_t len = 0, head = max < sizeof(small) ? max : sizeof(small) - 1;
        int r = fileio_read_fd(fd, head, small, &len);
        if (r == -EFBIG && head < max) /* head + 1 bytes read, more may follow */
                return fileio_read_rest(fd, max, small, head + 1, ret_buf, ret_len);
        if (r < 0)
                return r;
        char *buf = malloc(len + 1);
        if (!buf)
                return -ENOMEM;
        memcpy(buf, small, len);
        buf[len] = '\0';
        *ret_buf = buf;
        if (ret_len)
                *ret_len = len;
        return 0;
}

int fileio_pread_full(int fd, void *buf, size_t len, uint64_t off, size_t *ret_done)
{
        size_t done = 0;
        while (done < len) {
                ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return neg_errno();
                if (n == 0)
                        break;
                done += (size_t)n;
        }
        *ret_done = done;
        return 0;
}

int fileio_pwrite_full(int fd, const void *buf, size_t len, uint64_t off)
{
        size_t done = 0;
        while (done < len) {
                ssize_t n = pwrite(fd, (const char *)buf + done, len - done, (off_t)(off + done));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return neg_errno();
                done += (size_t)n;
        }
        return 0;
}

int fileio_is_temp_name(const char *name)
{
        return name[0] == '.' && strstr(name, ".tmp-") != NULL;
}

const char *fileio_type_name(unsigned mode)
{
        switch (mode & S_IFMT) {
        case S_IFDIR:
                return "a directory";
        case S_IFREG:
                return "a regular file";
        case S_IFLNK:
                return "a symlink";
        case S_IFIFO:
                return "a FIFO";
        case S_IFBLK:
                return "a block device node";
        case S_IFCHR:
                return "a character device node";
        case S_IFSOCK:
                return "a socket";
        default:
                return "a special file";
        }
}

int fileio_has_writer(int fd)
{
        /* A read lease is refused while any open file description may write the file. It is
         * dropped at once; a lease break meanwhile would signal SIGURG, ignored by default. */
        if (fcntl(fd, F_SETSIG, SIGURG) < 0)
                return neg_errno();
        if (fcntl(fd, F_SETLEASE, F_RDLCK) < 0)
                return errno == EAGAIN ? 1 : neg_errno();
        (void)fcntl(fd, F_SETLEASE, F_UNLCK);
        return 0;
}
