/* create-delete: CreateVolume + DeleteVolume, sequential and from 8 threads at once. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "test/bench/bench.h"
#include "common/cleanup.h"

struct bench_volumes_worker {
        struct bench *b;
        unsigned pairs;
        struct bench_samples create, delete;
        int error;
        pthread_t thread;
};

static void *bench_volumes_loop(void *arg)
{
        struct bench_volumes_worker *w = arg;
        for (unsigned i = 0; i < w->pairs && !bench_interrupted; i++) {
                char name[64];
                bench_csi_name(w->b, "cd", name, sizeof(name));
                struct bench_create q = {.name = name, .bytes = 1ULL << 30};
                struct bench_volume v;
                double t0 = bench_now();
                int r = bench_csi_create(w->b, &q, &v);
                double t1 = bench_now();
                if (r == 0)
                        r = bench_csi_delete(w->b, v.id);
                if (r < 0) {
                        w->error = r;
                        break;
                }
                bench_samples_add(&w->create, t1 - t0);
                bench_samples_add(&w->delete, bench_now() - t1);
        }
        return NULL;
}

struct bench_volumes_result {
        double create_p50, create_p99, delete_p50, delete_p99, ops_per_s, cpu_us;
};

static int bench_volumes_once(struct bench *b, unsigned threads, unsigned pairs,
                              struct bench_volumes_result *ret)
{
        struct bench_volumes_worker w[8] = {0};
        struct bench_samples create = {0}, delete = {0};
        double cpu0 = bench_driver_cpu(b), t0 = bench_now();
        int r = 0;
        for (unsigned i = 0; i < threads; i++) {
                w[i] = (struct bench_volumes_worker){.b = b, .pairs = pairs / threads};
                pthread_create(&w[i].thread, NULL, bench_volumes_loop, &w[i]);
        }
        for (unsigned i = 0; i < threads; i++) {
                pthread_join(w[i].thread, NULL);
                bench_samples_merge(&create, &w[i].create);
                bench_samples_merge(&delete, &w[i].delete);
                bench_samples_release(&w[i].create);
                bench_samples_release(&w[i].delete);
                if (w[i].error)
                        r = w[i].error;
        }
        double elapsed = bench_now() - t0, rpcs = (double)(create.n + delete.n);
        *ret = (struct bench_volumes_result){
            .create_p50 = bench_samples_percentile(&create, 50) * 1e3,
            .create_p99 = bench_samples_percentile(&create, 99) * 1e3,
            .delete_p50 = bench_samples_percentile(&delete, 50) * 1e3,
            .delete_p99 = bench_samples_percentile(&delete, 99) * 1e3,
            .ops_per_s = rpcs / elapsed,
            .cpu_us = (bench_driver_cpu(b) - cpu0) / rpcs * 1e6,
        };
        bench_samples_release(&create);
        bench_samples_release(&delete);
        return r;
}

static void bench_volumes_report(unsigned threads, const struct bench_volumes_result *res, size_t n)
{
        static const struct {
                const char *name, *unit;
                size_t offset;
        } cols[] = {
            {"create_p50", "ms", offsetof(struct bench_volumes_result, create_p50)},
            {"create_p99", "ms", offsetof(struct bench_volumes_result, create_p99)},
            {"delete_p50", "ms", offsetof(struct bench_volumes_result, delete_p50)},
            {"delete_p99", "ms", offsetof(struct bench_volumes_result, delete_p99)},
            {"rpcs", "ops/s", offsetof(struct bench_volumes_result, ops_per_s)},
            {"driver_cpu", "us/rpc", offsetof(struct bench_volumes_result, cpu_us)},
        };
        if (n == 0 || n > BENCH_MAX_RUNS)
                return;
        for (size_t c = 0; c < ARRAY_SIZE(cols); c++) {
                double v[BENCH_MAX_RUNS];
                for (size_t i = 0; i < n; i++)
                        memcpy(&v[i], (const char *)&res[i] + cols[c].offset, sizeof(double));
                if (isnan(v[0]))
                        continue;
                char name[64];
                snprintf(name, sizeof(name), "create_delete_c%u_%s", threads, cols[c].name);
                bench_figure(&(struct bench_figure_spec){.phase = "create-delete",
                                                         .name = name,
                                                         .unit = cols[c].unit},
                             v, n);
        }
}

static int bench_volumes_level(struct bench *b, unsigned threads)
{
        unsigned pairs = b->opt.quick ? 16 : 200;
        struct bench_volumes_result res[BENCH_MAX_RUNS] = {0};
        unsigned done = 0;
        for (unsigned i = 0; i < b->opt.runs && !bench_interrupted; i++, done++) {
                int r = bench_volumes_once(b, threads, pairs, &res[i]);
                if (r == -SILO_EUNIMPL) {
                        bench_skip("create-delete", "create_delete",
                                   "CreateVolume or DeleteVolume unimplemented");
                        return r;
                }
                if (r < 0)
                        return r;
        }
        bench_volumes_report(threads, res, done);
        return 0;
}

/* DeleteVolume of an id that does not exist: the round trip of a worker-pool call with
 * almost no work in it, the floor under every Controller/Node figure. */
static int bench_volumes_noop(struct bench *b)
{
        double p50[BENCH_MAX_RUNS];
        unsigned calls = b->opt.quick ? 50 : 500;
        for (unsigned run = 0; run < b->opt.runs; run++) {
                struct bench_samples s = {0};
                for (unsigned i = 0; i < calls && !bench_interrupted; i++) {
                        double t0 = bench_now();
                        int r = bench_csi_delete(b, "vol-0000000000000000");
                        if (r < 0) {
                                bench_samples_release(&s);
                                return r;
                        }
                        bench_samples_add(&s, bench_now() - t0);
                }
                p50[run] = bench_samples_percentile(&s, 50) * 1e3;
                bench_samples_release(&s);
        }
        bench_figure(&(struct bench_figure_spec){.phase = "create-delete",
                                                 .name = "delete_absent_c1_p50",
                                                 .unit = "ms"},
                     p50, b->opt.runs);
        return 0;
}

int bench_volumes_run(struct bench *b)
{
        int r = bench_volumes_noop(b);
        if (r == -SILO_EUNIMPL) {
                bench_skip("create-delete", "create_delete", "DeleteVolume unimplemented");
                return r;
        }
        if (r == 0)
                r = bench_volumes_level(b, 1);
        if (r < 0)
                return r;
        return bench_volumes_level(b, 8);
}
