/* Per-step samples of the volume lifecycle, shared by the driver's and the floor's runs. */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "test/bench/bench.h"
#include "common/cleanup.h"

static const char *const bench_step_names[BENCH_STEP_N] = {
    "create",  "controller_publish",   "stage",  "publish",       "write_1m_fsync", "unpublish",
    "unstage", "controller_unpublish", "delete", "stage_unstage",
};

unsigned bench_steps_iterations(const struct bench *b)
{
        return b->opt.quick ? 2 : 10;
}

int bench_steps_write(const char *path, bool block, unsigned mib)
{
        static char data[1 << 20];
        char file[600];
        snprintf(file, sizeof(file), block ? "%s" : "%s/bench.dat", path);
        memset(data, 0x5a, sizeof(data));
        _cleanup_close_ int fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
                return neg_errno();
        if (pwrite(fd, data, sizeof(data), (off_t)mib << 20) != (ssize_t)sizeof(data))
                return -EIO;
        return fsync(fd) < 0 ? neg_errno() : 0;
}

/* Targets from the issue: publish/unpublish p50 <= 1 ms; stage->unstage ext4 <= 1.2x floor. */
static void bench_steps_targets(const char *phase, enum bench_step step, enum bench_access a,
                                bool p50, double *ret_max, double *ret_ratio)
{
        bool driver = strcmp(phase, "floor") != 0;
        *ret_max = 0;
        *ret_ratio = 0;
        if (driver && p50 && (step == BENCH_STEP_PUBLISH || step == BENCH_STEP_UNPUBLISH))
                *ret_max = 1;
        if (driver && p50 && step == BENCH_STEP_STAGE_UNSTAGE && a == BENCH_EXT4)
                *ret_ratio = 1.2;
}

static void bench_steps_figure(const char *phase, enum bench_step step, enum bench_access a,
                               struct bench_steps *runs, size_t n_runs, double pct, bool vs_floor)
{
        double v[BENCH_MAX_RUNS];
        size_t n = 0;
        for (size_t i = 0; i < n_runs && n < BENCH_MAX_RUNS; i++)
                if (runs[i].s[step].n)
                        v[n++] = bench_samples_percentile(&runs[i].s[step], pct) * 1e3;
        if (!n)
                return;
        char name[64], floor[64];
        const char *tag = pct == 50 ? "p50" : "p99";
        snprintf(name, sizeof(name), "%s_%s_%s_%s", phase, bench_step_names[step],
                 bench_access_name(a), tag);
        snprintf(floor, sizeof(floor), "floor_%s_%s_%s", bench_step_names[step],
                 bench_access_name(a), tag);
        struct bench_figure_spec spec = {.phase = phase, .name = name, .unit = "ms"};
        bench_steps_targets(phase, step, a, pct == 50, &spec.max, &spec.max_ratio);
        if (vs_floor && !isnan(bench_figure_value(floor)))
                spec.floor = floor;
        bench_figure(&spec, v, n);
}

void bench_steps_report(const char *phase, enum bench_access a, struct bench_steps *runs,
                        size_t n_runs, bool vs_floor)
{
        for (int step = 0; step < BENCH_STEP_N; step++) {
                bench_steps_figure(phase, step, a, runs, n_runs, 50, vs_floor);
                bench_steps_figure(phase, step, a, runs, n_runs, 99, vs_floor);
        }
}

void bench_steps_release(struct bench_steps *runs, size_t n_runs)
{
        for (size_t i = 0; i < n_runs; i++)
                for (int step = 0; step < BENCH_STEP_N; step++)
                        bench_samples_release(&runs[i].s[step]);
}
