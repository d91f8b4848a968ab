/* The benchmark's own driver: temp root, a reflink-capable pool, the silo process, and a
 * cleanup that leaves no mount, loop device or file behind. */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/loop.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#include "common/metrics/procstat.h"
#include "test/bench/bench.h"
#include "common/cleanup.h"

#define BENCH_POOL_IMAGE_BYTES (64ULL << 30)

extern char **environ;

static void bench_driver_sleep_ms(unsigned ms)
{
        struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
}

int bench_driver_exec(const char *const *argv)
{
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
        pid_t pid;
        int r = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (r != 0)
                return -r;
        int status;
        if (waitpid(pid, &status, 0) < 0)
                return neg_errno();
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

/* Attaches file to a free loop device with autoclear and returns an open fd on it: the
 * device detaches itself once that fd is closed and nothing mounts it. */
static int bench_driver_loop(const char *file, int *ret_nr)
{
        _cleanup_close_ int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
        _cleanup_close_ int backing = open(file, O_RDWR | O_CLOEXEC);
        if (ctl < 0 || backing < 0)
                return neg_errno();
        for (int tries = 0; tries < 16; tries++) {
                int nr = ioctl(ctl, LOOP_CTL_GET_FREE);
                if (nr < 0)
                        return neg_errno();
                char dev[32];
                snprintf(dev, sizeof(dev), "/dev/loop%d", nr);
                _cleanup_close_ int fd = open(dev, O_RDWR | O_CLOEXEC);
                if (fd < 0)
                        return neg_errno();
                struct loop_config lc = {.fd = (unsigned)backing};
                lc.info.lo_flags = LO_FLAGS_AUTOCLEAR;
                if (ioctl(fd, LOOP_CONFIGURE, &lc) == 0) {
                        *ret_nr = nr;
                        return TAKE_FD(fd);
                }
                if (errno != EBUSY)
                        return neg_errno();
        }
        return -EBUSY;
}

/* The pool: an XFS image with reflink, so snapshots and clones can be measured as FICLONE. */
static int bench_driver_xfs_pool(struct bench *b)
{
        char img[200], dev[32];
        snprintf(img, sizeof(img), "%s/pool.img", b->root);
        _cleanup_close_ int fd = open(img, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 || ftruncate(fd, (off_t)BENCH_POOL_IMAGE_BYTES) < 0)
                return neg_errno();
        int nr = -1;
        _cleanup_close_ int loop = bench_driver_loop(img, &nr);
        if (loop < 0)
                return loop;
        snprintf(dev, sizeof(dev), "/dev/loop%d", nr);
        const char *mkfs[] = {"mkfs.xfs", "-q", "-m", "reflink=1", dev, NULL};
        int r = bench_driver_exec(mkfs);
        if (r == 0 && mount(dev, b->pool, "xfs", 0, NULL) < 0)
                r = neg_errno();
        if (r == 0)
                b->pool_loop = nr;
        return r;
}

int bench_driver_setup(struct bench *b)
{
        int n = snprintf(b->root, sizeof(b->root), "%s/silo-bench-XXXXXX", b->opt.tmp_dir);
        if (n < 0 || (size_t)n >= sizeof(b->root))
                return -ENAMETOOLONG;
        if (!mkdtemp(b->root))
                return neg_errno();
        snprintf(b->pool, sizeof(b->pool), "%s/pool", b->root);
        snprintf(b->kubelet, sizeof(b->kubelet), "%s/kubelet", b->root);
        snprintf(b->socket, sizeof(b->socket), "%s/csi.sock", b->root);
        snprintf(b->endpoint, sizeof(b->endpoint), "unix://%s", b->socket);
        snprintf(b->log_path, sizeof(b->log_path), "%s/silo.log", b->root);
        snprintf(b->node_id, sizeof(b->node_id), "bench-node");
        b->pool_loop = -1;
        if (mkdir(b->pool, 0750) < 0 || mkdir(b->kubelet, 0750) < 0)
                return neg_errno();
        if (strcmp(b->opt.pool_fs, "xfs") == 0)
                return bench_driver_xfs_pool(b);
        return 0;
}

static int bench_driver_spawn(struct bench *b)
{
        const char *argv[] = {SILO_BIN,        "--endpoint", b->endpoint, "--pool",   b->pool,
                              "--kubelet-dir", b->kubelet,   "--nodeid",  b->node_id, NULL};
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 1, b->log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
        posix_spawn_file_actions_adddup2(&fa, 1, 2);
        int r = posix_spawn(&b->pid, SILO_BIN, &fa, NULL, (char *const *)argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        return -r;
}

/* True once something accepts on the socket: only then is a gRPC channel worth making
 * (a channel that fails to connect backs off for a second). */
static bool bench_driver_listening(const char *path)
{
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof(sa.sun_path))
                return false;
        memcpy(sa.sun_path, path, strlen(path) + 1);
        return fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
}

static bool bench_driver_alive(struct bench *b)
{
        int status;
        return waitpid(b->pid, &status, WNOHANG) == 0;
}

static int bench_driver_wait_ready(struct bench *b, double deadline)
{
        while (!bench_driver_listening(b->socket)) {
                if (!bench_driver_alive(b) || bench_now() > deadline)
                        return -ETIMEDOUT;
                bench_driver_sleep_ms(1);
        }
        client_free(b->client);
        b->client = NULL;
        int r = client_new(b->endpoint, &b->client);
        if (r < 0)
                return r;
        for (;;) {
                bool ready = false;
                r = bench_csi_probe(b, b->client, &ready);
                if (r == 0 && ready)
                        return 0;
                if (!bench_driver_alive(b) || bench_now() > deadline)
                        return -ETIMEDOUT;
                bench_driver_sleep_ms(1);
        }
}

/* The temp root (and the log in it) is removed at exit: show the end of the log now. */
static void bench_driver_print_log(const char *path)
{
        FILE *f = fopen(path, "re");
        if (!f)
                return;
        char tail[4096];
        if (fseek(f, 0, SEEK_END) == 0 && ftell(f) > (long)sizeof(tail) - 1)
                fseek(f, -(long)sizeof(tail) + 1, SEEK_END);
        else
                rewind(f);
        size_t n = fread(tail, 1, sizeof(tail) - 1, f);
        fclose(f);
        tail[n] = '\0';
        fputs(tail, stderr);
}

int bench_driver_start(struct bench *b, double *ret_seconds)
{
        double t0 = bench_now();
        int r = bench_driver_spawn(b);
        if (r < 0)
                return r;
        r = bench_driver_wait_ready(b, t0 + 120);
        if (r < 0) {
                fprintf(stderr, "silo-bench: driver did not become ready; its log:\n");
                bench_driver_print_log(b->log_path);
                return r;
        }
        if (ret_seconds)
                *ret_seconds = bench_now() - t0;
        return 0;
}

double bench_driver_cpu(struct bench *b)
{
        if (b->pid <= 0)
                return NAN;
        /* The process CPU clock has nanosecond resolution; /proc/<pid>/stat counts ticks of
         * 10 ms, too coarse for a short run. Both are utime + stime of every thread. */
        clockid_t clk;
        struct timespec ts;
        if (clock_getcpuclockid(b->pid, &clk) == 0 && clock_gettime(clk, &ts) == 0)
                return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
        struct procstat st;
        if (procstat_read(b->pid, &st) < 0)
                return NAN;
        return st.cpu_seconds;
}

void bench_driver_stop(struct bench *b)
{
        if (b->pid <= 0 || !b->own_driver) /* never stop a driver we did not start */
                return;
        kill(b->pid, SIGTERM);
        for (int i = 0; i < 15000; i++) {
                int status;
                if (waitpid(b->pid, &status, WNOHANG) != 0) {
                        b->pid = 0;
                        return;
                }
                bench_driver_sleep_ms(1);
        }
        kill(b->pid, SIGKILL);
        waitpid(b->pid, NULL, 0);
        b->pid = 0;
}

/* Mount points in /proc/self/mountinfo are the 5th field, with spaces as \040. */
static void bench_driver_unescape(char *s)
{
        char *out = s;
        for (char *in = s; *in; in++) {
                if (in[0] == '\\' && in[1] >= '0' && in[1] <= '3' && in[2] && in[3]) {
                        *out++ = (char)((in[1] - '0') * 64 + (in[2] - '0') * 8 + (in[3] - '0'));
                        in += 3;
                } else {
                        *out++ = *in;
                }
        }
        *out = '\0';
}

/* Finds the deepest mount point beneath dir; false when none is left. */
static bool bench_driver_deepest_mount(const char *dir, char *ret, size_t size)
{
        FILE *f = fopen("/proc/self/mountinfo", "re");
        if (!f)
                return false;
        char line[4096], point[4096];
        size_t dlen = strlen(dir), best = 0;
        while (fgets(line, sizeof(line), f)) {
                if (sscanf(line, "%*s %*s %*s %*s %4095s", point) != 1)
                        continue;
                bench_driver_unescape(point);
                size_t len = strlen(point);
                if (strncmp(point, dir, dlen) != 0 || (point[dlen] != '/' && point[dlen]))
                        continue;
                if (len > best && len < size) {
                        best = len;
                        memcpy(ret, point, len + 1);
                }
        }
        fclose(f);
        return best > 0;
}

int bench_driver_umount_under(const char *dir)
{
        char point[4096];
        int n = 0;
        while (n < 100000 && bench_driver_deepest_mount(dir, point, sizeof(point))) {
                if (umount2(point, 0) < 0 && umount2(point, MNT_DETACH) < 0) {
                        fprintf(stderr, "silo-bench: cannot unmount %s: %m\n", point);
                        break;
                }
                n++;
        }
        return n;
}

int bench_driver_detach_under(const char *dir)
{
        DIR *d = opendir("/sys/block");
        if (!d)
                return neg_errno();
        size_t dlen = strlen(dir);
        int n = 0;
        struct dirent *e;
        while ((e = readdir(d))) {
                char path[300], backing[4096] = "";
                if (strncmp(e->d_name, "loop", 4) != 0)
                        continue;
                snprintf(path, sizeof(path), "/sys/block/%s/loop/backing_file", e->d_name);
                FILE *f = fopen(path, "re");
                if (!f)
                        continue;
                bool got = fgets(backing, sizeof(backing), f) != NULL;
                fclose(f);
                if (!got || strncmp(backing, dir, dlen) != 0 || backing[dlen] != '/')
                        continue;
                snprintf(path, sizeof(path), "/dev/%s", e->d_name);
                _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd >= 0 && ioctl(fd, LOOP_CLR_FD, 0) == 0)
                        n++;
        }
        closedir(d);
        return n;
}

static int bench_driver_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st, (void)flag, (void)ftw;
        if (remove(path) < 0)
                fprintf(stderr, "silo-bench: cannot remove %s: %m\n", path);
        return 0;
}

void bench_driver_cleanup(struct bench *b)
{
        bench_driver_stop(b);
        client_free(b->client);
        b->client = NULL;
        if (!b->root[0])
                return;
        bench_driver_umount_under(b->kubelet);
        bench_driver_detach_under(b->root);
        bench_driver_umount_under(b->root);
        if (b->opt.keep) {
                fprintf(stderr, "silo-bench: kept %s\n", b->root);
                return;
        }
        nftw(b->root, bench_driver_rm, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}
