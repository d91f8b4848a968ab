/* Memory of the driver: VmRSS, RssAnon and VmHWM idle, after each phase, and holding 1,000
 * volumes. */
#include <stdio.h>

#include "common/err.h"
#include "common/metrics/procstat.h"
#include "test/bench/bench.h"
#include "common/cleanup.h"

void bench_memory_sample(struct bench *b, const char *label, double max_anon_mib)
{
        struct procstat st;
        if (b->pid <= 0 || procstat_read(b->pid, &st) < 0)
                return;
        const struct {
                const char *what;
                uint64_t bytes;
                double max;
        } figs[] = {
            {"rss", st.vm_rss_bytes, 0},
            {"rss_anon", st.rss_anon_bytes, max_anon_mib},
            {"rss_peak", st.vm_hwm_bytes, 0},
        };
        for (size_t i = 0; i < ARRAY_SIZE(figs); i++) {
                char name[64];
                snprintf(name, sizeof(name), "memory_%s_%s", label, figs[i].what);
                double mib = (double)figs[i].bytes / (1 << 20);
                bench_figure(
                    &(struct bench_figure_spec){
                        .phase = "memory", .name = name, .unit = "MiB", .max = figs[i].max},
                    &mib, 1);
        }
}

int bench_memory_fill(struct bench *b, const char *prefix, unsigned from, unsigned to)
{
        for (unsigned i = from; i < to && !bench_interrupted; i++) {
                char name[64];
                snprintf(name, sizeof(name), "%s-%u", prefix, i);
                struct bench_create q = {.name = name, .bytes = 1 << 20};
                struct bench_volume v;
                int r = bench_csi_create(b, &q, &v);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* CreateVolume is idempotent by name: asking again is how we learn the id. */
int bench_memory_drain(struct bench *b, const char *prefix, unsigned from, unsigned to)
{
        for (unsigned i = from; i < to && !bench_interrupted; i++) {
                char name[64];
                snprintf(name, sizeof(name), "%s-%u", prefix, i);
                struct bench_create q = {.name = name, .bytes = 1 << 20};
                struct bench_volume v;
                int r = bench_csi_create(b, &q, &v);
                if (r == 0)
                        r = bench_csi_delete(b, v.id);
                if (r < 0)
                        return r;
        }
        return 0;
}

int bench_memory_run(struct bench *b)
{
        unsigned n = b->opt.quick ? 100 : 1000;
        char label[32];
        snprintf(label, sizeof(label), "%u_volumes", n);
        /* What earlier phases left in the allocator (see after-* figures) is not the cost of
         * holding volumes: measure that on a fresh driver. */
        if (b->own_driver) {
                bench_driver_stop(b);
                int r = bench_driver_start(b, NULL);
                if (r < 0)
                        return r;
                bench_memory_sample(b, "restarted_idle", 2);
        }
        int r = bench_memory_fill(b, "mem", 0, n);
        if (r == -SILO_EUNIMPL) {
                bench_skip("memory", label, "CreateVolume unimplemented");
                return r;
        }
        if (r == 0)
                bench_memory_sample(b, label, n == 1000 ? 4 : 0);
        int d = bench_memory_drain(b, "mem", 0, n);
        return r < 0 ? r : d;
}
