/* Probe: latency and throughput at concurrency 1, 8 and 64, the driver's CPU per call, and
 * p99 at 64 while volume work keeps the worker pool busy. */
#include <math.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "test/bench/bench.h"
#include "common/cleanup.h"

struct bench_probe_worker {
        struct bench *b;
        double until;
        struct bench_samples lat;
        unsigned long errors;
        pthread_t thread;
};

struct bench_probe_result {
        double p50_ms, p99_ms, calls_per_s, cpu_us_per_call, client_us_per_call;
        unsigned long errors;
};

static double bench_self_cpu(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *bench_probe_loop(void *arg)
{
        struct bench_probe_worker *w = arg;
        while (!bench_interrupted) {
                double t0 = bench_now();
                if (t0 >= w->until)
                        break;
                bool ready;
                int r = bench_csi_probe(w->b, NULL, &ready);
                double t1 = bench_now();
                if (r < 0)
                        w->errors++;
                else
                        bench_samples_add(&w->lat, t1 - t0);
        }
        return NULL;
}

static int bench_probe_once(struct bench *b, unsigned conc, double seconds,
                            struct bench_probe_result *ret)
{
        _cleanup_free_ struct bench_probe_worker *w = calloc(conc, sizeof(*w));
        if (!w)
                return -ENOMEM;
        double cpu0 = bench_driver_cpu(b), self0 = bench_self_cpu(), t0 = bench_now();
        unsigned started = 0;
        for (; started < conc; started++) {
                w[started] = (struct bench_probe_worker){.b = b, .until = t0 + seconds};
                if (pthread_create(&w[started].thread, NULL, bench_probe_loop, &w[started]))
                        break;
        }
        struct bench_samples all = {0};
        *ret = (struct bench_probe_result){0};
        for (unsigned i = 0; i < started; i++) {
                pthread_join(w[i].thread, NULL);
                bench_samples_merge(&all, &w[i].lat);
                ret->errors += w[i].errors;
                bench_samples_release(&w[i].lat);
        }
        double elapsed = bench_now() - t0, cpu = bench_driver_cpu(b) - cpu0;
        ret->p50_ms = bench_samples_percentile(&all, 50) * 1e3;
        ret->p99_ms = bench_samples_percentile(&all, 99) * 1e3;
        ret->calls_per_s = (double)all.n / elapsed;
        ret->cpu_us_per_call = all.n ? cpu / (double)all.n * 1e6 : NAN;
        ret->client_us_per_call = all.n ? (bench_self_cpu() - self0) / (double)all.n * 1e6 : NAN;
        size_t n = all.n;
        bench_samples_release(&all);
        if (started < conc)
                return -EAGAIN;
        return n ? 0 : -EPROTO;
}

static void bench_probe_figure(const char *prefix, unsigned conc, const char *what,
                               const char *unit, double max, const struct bench_probe_result *res,
                               size_t offset, size_t n)
{
        double v[BENCH_MAX_RUNS];
        if (n == 0 || n > BENCH_MAX_RUNS)
                return;
        for (size_t i = 0; i < n; i++)
                memcpy(&v[i], (const char *)&res[i] + offset, sizeof(double));
        if (isnan(v[0]))
                return;
        char name[64];
        snprintf(name, sizeof(name), "%s_c%u_%s", prefix, conc, what);
        bench_figure(
            &(struct bench_figure_spec){.phase = "probe", .name = name, .unit = unit, .max = max},
            v, n);
}

static void bench_probe_figures(const char *prefix, unsigned conc,
                                const struct bench_probe_result *res, size_t n)
{
        bench_probe_figure(prefix, conc, "p50", "ms", conc == 1 ? 0.15 : 0, res,
                           offsetof(struct bench_probe_result, p50_ms), n);
        bench_probe_figure(prefix, conc, "p99", "ms", conc == 64 ? 10 : 0, res,
                           offsetof(struct bench_probe_result, p99_ms), n);
        bench_probe_figure(prefix, conc, "throughput", "calls/s", 0, res,
                           offsetof(struct bench_probe_result, calls_per_s), n);
        /* Under volume load the CPU is mostly that work's, not Probe's. */
        if (strcmp(prefix, "probe") != 0)
                return;
        bench_probe_figure(prefix, conc, "driver_cpu", "us/call", 50, res,
                           offsetof(struct bench_probe_result, cpu_us_per_call), n);
        /* The client shares the two cores: its cost bounds what the driver can show. */
        bench_probe_figure(prefix, conc, "client_cpu", "us/call", 0, res,
                           offsetof(struct bench_probe_result, client_us_per_call), n);
}

static int bench_probe_level(struct bench *b, const char *prefix, unsigned conc)
{
        struct bench_probe_result res[BENCH_MAX_RUNS];
        int r = bench_probe_once(b, conc, 0.2, &res[0]); /* warm-up: connections, caches */
        for (unsigned i = 0; r == 0 && i < b->opt.runs && !bench_interrupted; i++) {
                r = bench_probe_once(b, conc, b->opt.probe_seconds, &res[i]);
                if (res[i].errors)
                        fprintf(stderr, "silo-bench: %lu probe errors\n", res[i].errors);
        }
        if (r < 0)
                return r;
        bench_probe_figures(prefix, conc, res, b->opt.runs);
        return 0;
}

static int bench_probe_busy(struct bench *b)
{
        struct bench_load *load = NULL;
        int r = bench_load_start(b, 8, &load);
        if (r == -SILO_EUNIMPL) {
                bench_skip("probe", "probe_busy_c64", "no volume operation implemented");
                return 0;
        }
        if (r < 0)
                return r;
        double t0 = bench_now();
        r = bench_probe_level(b, "probe_busy", 64);
        unsigned long ops = bench_load_stop(load);
        double rate = (double)ops / (bench_now() - t0);
        bench_figure(&(struct bench_figure_spec){.phase = "probe",
                                                 .name = "probe_busy_volume_ops",
                                                 .unit = "ops/s"},
                     &rate, 1);
        return r;
}

int bench_probe_run(struct bench *b)
{
        static const unsigned levels[] = {1, 8, 64};
        for (size_t i = 0; i < ARRAY_SIZE(levels); i++) {
                int r = bench_probe_level(b, "probe", levels[i]);
                if (r < 0)
                        return r;
        }
        return bench_probe_busy(b);
}
