/* The floor: the node work of a volume lifecycle done with bare syscalls and the same mkfs
 * tools, on the same pool, in the same run. Nothing a driver does can be cheaper, so each
 * lifecycle figure is also printed as a ratio to it. */
#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "test/bench/bench.h"
#include "common/cleanup.h"

#define BENCH_FLOOR_BYTES (1ULL << 30)

struct bench_floor_vol {
        char file[512], staging[512], target[512], dev[32];
        int loop_fd;
        enum bench_access access;
};

static int bench_floor_create(struct bench_floor_vol *v)
{
        _cleanup_close_ int fd = open(v->file, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 || ftruncate(fd, (off_t)BENCH_FLOOR_BYTES) < 0 || fsync(fd) < 0)
                return neg_errno();
        return 0;
}

static int bench_floor_attach(struct bench_floor_vol *v)
{
        _cleanup_close_ int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
        _cleanup_close_ int backing = open(v->file, O_RDWR | O_CLOEXEC);
        if (ctl < 0 || backing < 0)
                return neg_errno();
        int nr = ioctl(ctl, LOOP_CTL_GET_FREE);
        if (nr < 0)
                return neg_errno();
        snprintf(v->dev, sizeof(v->dev), "/dev/loop%d", nr);
        v->loop_fd = open(v->dev, O_RDWR | O_CLOEXEC);
        if (v->loop_fd < 0)
                return neg_errno();
        struct loop_config lc = {.fd = (unsigned)backing};
        return ioctl(v->loop_fd, LOOP_CONFIGURE, &lc) < 0 ? neg_errno() : 0;
}

static int bench_floor_stage(struct bench_floor_vol *v)
{
        int r = bench_floor_attach(v);
        if (r < 0 || v->access == BENCH_BLOCK)
                return r;
        const char *ext4[] = {"mkfs.ext4", "-q", "-m", "0", v->dev, NULL};
        const char *xfs[] = {"mkfs.xfs", "-q", v->dev, NULL};
        r = bench_driver_exec(v->access == BENCH_EXT4 ? ext4 : xfs);
        if (r < 0)
                return r;
        if (mount(v->dev, v->staging, bench_access_name(v->access), 0, NULL) < 0)
                return neg_errno();
        return 0;
}

static int bench_floor_publish(struct bench_floor_vol *v)
{
        const char *source = v->access == BENCH_BLOCK ? v->dev : v->staging;
        if (v->access == BENCH_BLOCK) {
                _cleanup_close_ int fd = open(v->target, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
                if (fd < 0)
                        return neg_errno();
        } else if (mkdir(v->target, 0750) < 0) {
                return neg_errno();
        }
        return mount(source, v->target, NULL, MS_BIND, NULL) < 0 ? neg_errno() : 0;
}

static int bench_floor_unpublish(struct bench_floor_vol *v)
{
        if (umount2(v->target, 0) < 0)
                return neg_errno();
        int r = v->access == BENCH_BLOCK ? unlink(v->target) : rmdir(v->target);
        return r < 0 ? neg_errno() : 0;
}

static int bench_floor_unstage(struct bench_floor_vol *v)
{
        if (v->access != BENCH_BLOCK && umount2(v->staging, 0) < 0)
                return neg_errno();
        int r = ioctl(v->loop_fd, LOOP_CLR_FD, 0);
        close(v->loop_fd);
        v->loop_fd = -1;
        return r < 0 ? neg_errno() : 0;
}

static int bench_floor_write(struct bench_floor_vol *v)
{
        return bench_steps_write(v->target, v->access == BENCH_BLOCK, 0);
}

static int bench_floor_delete(struct bench_floor_vol *v)
{
        return unlink(v->file) < 0 ? neg_errno() : 0;
}

/* One lifecycle; the caller's cleanup catches whatever a failure leaves behind. */
static int bench_floor_cycle(struct bench_floor_vol *v, struct bench_steps *st)
{
        static int (*const ops[])(struct bench_floor_vol *) = {
            bench_floor_create,    bench_floor_stage,   bench_floor_publish, bench_floor_write,
            bench_floor_unpublish, bench_floor_unstage, bench_floor_delete,
        };
        static const enum bench_step steps[] = {
            BENCH_STEP_CREATE,    BENCH_STEP_STAGE,   BENCH_STEP_PUBLISH, BENCH_STEP_WRITE,
            BENCH_STEP_UNPUBLISH, BENCH_STEP_UNSTAGE, BENCH_STEP_DELETE,
        };
        double d[ARRAY_SIZE(ops)] = {0};
        for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
                double t0 = bench_now();
                int r = ops[i](v);
                if (r < 0)
                        return r;
                d[i] = bench_now() - t0;
                bench_samples_add(&st->s[steps[i]], d[i]);
        }
        bench_samples_add(&st->s[BENCH_STEP_STAGE_UNSTAGE], d[1] + d[5]);
        return 0;
}

static int bench_floor_access(struct bench *b, enum bench_access a)
{
        char dir[256];
        snprintf(dir, sizeof(dir), "%s/floor", b->pool);
        if (mkdir(dir, 0750) < 0 && errno != EEXIST)
                return neg_errno();
        struct bench_steps runs[BENCH_MAX_RUNS] = {0};
        int r = 0;
        for (unsigned run = 0; run < b->opt.runs && r == 0 && !bench_interrupted; run++) {
                for (unsigned i = 0; i < bench_steps_iterations(b) && r == 0; i++) {
                        char name[64];
                        bench_csi_name(b, "floor", name, sizeof(name));
                        struct bench_floor_vol v = {.access = a, .loop_fd = -1};
                        snprintf(v.file, sizeof(v.file), "%s/%s.img", dir, name);
                        r = bench_csi_paths(b, name, v.staging, v.target, sizeof(v.target));
                        if (r == 0)
                                r = bench_floor_cycle(&v, &runs[run]);
                        if (v.loop_fd >= 0)
                                close(v.loop_fd);
                }
        }
        bench_driver_umount_under(b->kubelet);
        bench_driver_detach_under(dir);
        if (r == 0)
                bench_steps_report("floor", a, runs, b->opt.runs, false);
        bench_steps_release(runs, b->opt.runs);
        return r;
}

int bench_floor_run(struct bench *b)
{
        static const enum bench_access kinds[] = {BENCH_EXT4, BENCH_XFS, BENCH_BLOCK};
        for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
                int r = bench_floor_access(b, kinds[i]);
                if (r < 0) {
                        fprintf(stderr, "silo-bench: floor %s: %s\n", bench_access_name(kinds[i]),
                                strerror(-r));
                        return r;
                }
        }
        return 0;
}
