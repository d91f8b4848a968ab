/* snapshot: CreateSnapshot, restore (volume from snapshot) and clone (volume from volume) of a
 * 1 GiB volume holding data, on the reflink-capable pool; and the driver's CPU for the three
 * (a copy that is not a reflink runs on the driver's thread). */
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "test/bench/bench.h"
#include "common/cleanup.h"

#define BENCH_SNAPSHOT_BYTES    (1ULL << 30)
#define BENCH_SNAPSHOT_FILL_MIB 64

enum { SNAP_CREATE, SNAP_RESTORE, SNAP_CLONE, SNAP_DELETE, SNAP_CPU, SNAP_N };

/* Puts data into the volume through the node (stage, publish, write) so that a copy that is
 * not a reflink would show. Returns MiB written; 0 when the node cannot. */
static unsigned bench_snapshot_fill(struct bench *b, struct bench_volume *v, const char *name)
{
        char staging[512], target[512];
        unsigned mib = 0;
        if (bench_csi_paths(b, name, staging, target, sizeof(target)) < 0)
                return 0;
        if (bench_csi_stage(b, v, staging) == 0) {
                if (bench_csi_publish(b, v, staging, target) == 0) {
                        for (; mib < BENCH_SNAPSHOT_FILL_MIB; mib++)
                                if (bench_steps_write(target, false, mib) < 0)
                                        break;
                        bench_csi_unpublish(b, v, target);
                }
                bench_csi_unstage(b, v, staging);
        }
        bench_csi_paths_remove(b, name);
        return mib;
}

static int bench_snapshot_cycle(struct bench *b, const char *source, struct bench_samples *s)
{
        char name[64], snap[128];
        bench_csi_name(b, "snap", name, sizeof(name));
        double cpu0 = bench_driver_cpu(b);
        double t0 = bench_now();
        int r = bench_csi_snapshot(b, source, name, snap, sizeof(snap));
        if (r < 0)
                return r;
        bench_samples_add(&s[SNAP_CREATE], bench_now() - t0);

        struct bench_volume restored = {0}, clone = {0};
        bench_csi_name(b, "restore", name, sizeof(name));
        struct bench_create q = {
            .name = name, .bytes = BENCH_SNAPSHOT_BYTES, .source_kind = 's', .source_id = snap};
        t0 = bench_now();
        r = bench_csi_create(b, &q, &restored);
        if (r == 0)
                bench_samples_add(&s[SNAP_RESTORE], bench_now() - t0);
        bench_csi_name(b, "clone", name, sizeof(name));
        q.source_kind = 'v';
        q.source_id = source;
        t0 = bench_now();
        int c = bench_csi_create(b, &q, &clone);
        if (c == 0)
                bench_samples_add(&s[SNAP_CLONE], bench_now() - t0);
        if (r == 0 && c == 0)
                bench_samples_add(&s[SNAP_CPU], bench_driver_cpu(b) - cpu0);
        if (restored.id[0])
                bench_csi_delete(b, restored.id);
        if (clone.id[0])
                bench_csi_delete(b, clone.id);
        t0 = bench_now();
        int d = bench_csi_delete_snapshot(b, snap);
        if (d == 0)
                bench_samples_add(&s[SNAP_DELETE], bench_now() - t0);
        return r < 0 ? r : c < 0 ? c : d;
}

static void bench_snapshot_report(struct bench_samples (*runs)[SNAP_N], size_t n)
{
        static const struct {
                const char *name;
                double max;
        } figs[SNAP_N] = {
            {"snapshot_create_1g", 5},
            {"snapshot_restore_1g", 5},
            {"clone_1g", 5},
            {"snapshot_delete", 0},
            {"snapshot_restore_clone_driver_cpu", 20},
        };
        for (int k = 0; k < SNAP_N; k++) {
                double v[BENCH_MAX_RUNS];
                size_t m = 0;
                for (size_t i = 0; i < n; i++)
                        if (runs[i][k].n)
                                v[m++] = bench_samples_percentile(&runs[i][k], 50) * 1e3;
                char name[64];
                snprintf(name, sizeof(name), "%s_p50", figs[k].name);
                if (m)
                        bench_figure(&(struct bench_figure_spec){.phase = "snapshot",
                                                                 .name = name,
                                                                 .unit = "ms",
                                                                 .max = figs[k].max},
                                     v, m);
        }
}

int bench_snapshot_run(struct bench *b)
{
        char name[64];
        bench_csi_name(b, "snapsrc", name, sizeof(name));
        struct bench_create q = {.name = name, .bytes = BENCH_SNAPSHOT_BYTES};
        struct bench_volume src;
        int r = bench_csi_create(b, &q, &src);
        if (r == -SILO_EUNIMPL)
                bench_skip("snapshot", "snapshot", "CreateVolume unimplemented");
        if (r < 0)
                return r;
        unsigned mib = bench_snapshot_fill(b, &src, name);
        fprintf(stderr, "silo-bench: snapshot source holds %u MiB of data (pool: %s)\n", mib,
                b->opt.pool_fs);

        struct bench_samples runs[BENCH_MAX_RUNS][SNAP_N];
        memset(runs, 0, sizeof(runs));
        for (unsigned run = 0; run < b->opt.runs && r == 0 && !bench_interrupted; run++)
                for (unsigned i = 0; i < bench_steps_iterations(b) && r == 0; i++)
                        r = bench_snapshot_cycle(b, src.id, runs[run]);
        if (r == -SILO_EUNIMPL)
                bench_skip("snapshot", "snapshot",
                           "CreateSnapshot or a content source unimplemented");
        else if (r == 0)
                bench_snapshot_report(runs, b->opt.runs);
        for (unsigned run = 0; run < b->opt.runs; run++)
                for (int k = 0; k < SNAP_N; k++)
                        bench_samples_release(&runs[run][k]);
        bench_csi_delete(b, src.id);
        return r;
}
