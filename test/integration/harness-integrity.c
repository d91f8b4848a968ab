#include "test/integration/harness-integrity.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"

struct hi_shared {
        _Atomic uint64_t fsynced;
        atomic_bool stop;
};

struct hi_writer {
        pid_t pid;
        struct hi_shared *sh;
};

static void hi_sleep_ms(long ms)
{
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
}

static void hi_writer_main(struct hi_shared *sh, const char *const *paths, size_t n)
{
        int fds[HI_MAX_FILES];
        for (size_t i = 0; i < n; i++) {
                fds[i] = open(paths[i], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
                if (fds[i] < 0)
                        _exit(2);
        }
        for (uint64_t seq = 1; !atomic_load(&sh->stop); seq++) {
                char rec[32];
                snprintf(rec, sizeof(rec), "%015llu\n", (unsigned long long)seq);
                for (size_t i = 0; i < n; i++)
                        if (write(fds[i], rec, HI_RECORD) != HI_RECORD || fsync(fds[i]) < 0)
                                _exit(3);
                atomic_store(&sh->fsynced, seq);
        }
        _exit(0);
}

int hi_writer_start(const char *const *paths, size_t n, struct hi_writer **ret)
{
        if (n == 0 || n > HI_MAX_FILES)
                return -EINVAL;
        struct hi_writer *w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        w->sh =
            mmap(NULL, sizeof(*w->sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (w->sh == MAP_FAILED) {
                free(w);
                return -ENOMEM;
        }
        w->pid = fork();
        if (w->pid == 0)
                hi_writer_main(w->sh, paths, n);
        if (w->pid < 0) {
                munmap(w->sh, sizeof(*w->sh));
                free(w);
                return -errno;
        }
        *ret = w;
        return 0;
}

uint64_t hi_writer_fsynced(const struct hi_writer *w)
{
        return atomic_load(&w->sh->fsynced);
}

bool hi_writer_wait(const struct hi_writer *w, uint64_t seq)
{
        /* Generous: fsync through a loop device on a busy disk can take a while. */
        for (int i = 0; i < 6000 && hi_writer_fsynced(w) < seq; i++)
                hi_sleep_ms(10);
        return hi_writer_fsynced(w) >= seq;
}

void hi_writer_stop(struct hi_writer *w)
{
        if (!w)
                return;
        atomic_store(&w->sh->stop, true);
        int status;
        for (int i = 0; i < 1000 && waitpid(w->pid, &status, WNOHANG) == 0; i++)
                hi_sleep_ms(10);
        if (kill(w->pid, SIGKILL) == 0)
                waitpid(w->pid, NULL, 0);
        munmap(w->sh, sizeof(*w->sh));
        free(w);
}

int hi_run(const char *cmd, char *out, size_t size)
{
        char full[1200];
        snprintf(full, sizeof(full), "%s 2>&1", cmd);
        FILE *p = popen(full, "r");
        if (!p)
                return -1;
        size_t len = 0;
        char line[512];
        if (out && size)
                out[0] = '\0';
        while (fgets(line, sizeof(line), p)) {
                size_t l = strlen(line);
                if (out && len + l < size) {
                        memcpy(out + len, line, l + 1);
                        len += l;
                }
        }
        int status = pclose(p);
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Checks records 1..k in buf[0..len). */
static long hi_parse(const char *buf, size_t len, char *why, size_t size)
{
        if (len % HI_RECORD) {
                snprintf(why, size, "file size %zu is not a whole number of records", len);
                return -1;
        }
        for (size_t i = 0; i < len / HI_RECORD; i++) {
                char want[32];
                snprintf(want, sizeof(want), "%015llu\n", (unsigned long long)i + 1);
                if (memcmp(buf + i * HI_RECORD, want, HI_RECORD) != 0) {
                        snprintf(why, size, "record %zu is torn or foreign: '%.15s'", i + 1,
                                 buf + i * HI_RECORD);
                        return -1;
                }
        }
        return (long)(len / HI_RECORD);
}

static long hi_read_stream(FILE *f, char *why, size_t size)
{
        size_t cap = 1 << 20, len = 0;
        char *buf = malloc(cap);
        size_t n;
        while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
                len += n;
                if (len == cap) {
                        char *b = realloc(buf, cap * 2);
                        if (!b)
                                break;
                        buf = b;
                        cap *= 2;
                }
        }
        long r = buf ? hi_parse(buf, len, why, size) : -1;
        free(buf);
        return r;
}

/* A frozen XFS keeps a covered log that xfs_repair -n will not replay: check a copy after a
 * mount replayed it, as a restore would. */
static long hi_verify_xfs(const char *img, const char *file, char *why, size_t size)
{
        char copy[600], dir[600], cmd[1400], path[1200];
        snprintf(copy, sizeof(copy), "%s.check", img);
        snprintf(dir, sizeof(dir), "%s.mnt", img);
        snprintf(cmd, sizeof(cmd), "cp --sparse=always '%s' '%s'", img, copy);
        if (hi_run(cmd, why, size) != 0 || (mkdir(dir, 0700) < 0 && errno != EEXIST))
                return -1;
        long r = -1;
        snprintf(cmd, sizeof(cmd), "mount -o loop,nouuid '%s' '%s'", copy, dir);
        if (hi_run(cmd, why, size) == 0) {
                snprintf(path, sizeof(path), "%s%s", dir, file);
                FILE *f = fopen(path, "re");
                r = f ? hi_read_stream(f, why, size) : -1;
                if (f)
                        fclose(f);
                else
                        snprintf(why, size, "cannot open '%s': %s", path, strerror(errno));
                umount2(dir, 0);
        }
        char out[2048];
        snprintf(cmd, sizeof(cmd), "xfs_repair -n -f '%s'", copy);
        int st = r >= 0 ? hi_run(cmd, out, sizeof(out)) : 0;
        if (st != 0) {
                snprintf(why, size, "xfs_repair -n failed (%d): %s", st, out);
                r = -1;
        }
        rmdir(dir);
        unlink(copy);
        return r;
}

long hi_image_verify(const char *img, const char *fs_type, const char *file, char *why, size_t size)
{
        if (strcmp(fs_type, "xfs") == 0)
                return hi_verify_xfs(img, file, why, size);
        char cmd[800], out[2048];
        snprintf(cmd, sizeof(cmd), "e2fsck -fn '%s'", img);
        int st = hi_run(cmd, out, sizeof(out));
        if (st != 0) {
                snprintf(why, size, "e2fsck -fn failed (%d): %s", st, out);
                return -1;
        }
        snprintf(cmd, sizeof(cmd), "debugfs -R 'cat %s' '%s' 2>/dev/null", file, img);
        FILE *p = popen(cmd, "r");
        if (!p)
                return -1;
        long r = hi_read_stream(p, why, size);
        pclose(p);
        return r;
}

bool hi_is_frozen(const char *path)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return false;
        if (ioctl(fd, FIFREEZE, 0) == 0) {
                ioctl(fd, FITHAW, 0);
                return false;
        }
        return errno == EBUSY;
}
