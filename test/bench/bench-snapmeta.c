/* snapmeta: GetMetadataAllocated and GetMetadataDelta over a 10 GiB sparse volume with
 * scattered 4 KiB writes: ranges per second, and how much the driver's peak memory grows
 * (the stream must stay bounded however large the snapshot). Needs our own driver: the
 * writes go straight into the volume's file in the pool. */
#include <csi.pb-c.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/metrics/procstat.h"
#include "test/bench/bench.h"
#include "common/cleanup.h"

#define SNAPMETA_BYTES  (10ULL << 30)
#define SNAPMETA_STRIDE (2ULL << 20) /* first write set: a block every 2 MiB */

struct snapmeta_count {
        size_t ranges, messages;
};

static int snapmeta_on_message(void *ctx, const ProtobufCMessage *msg)
{
        struct snapmeta_count *c = ctx;
        /* Both responses have the same fields; read through one. */
        c->ranges += ((const Csi__V1__GetMetadataDeltaResponse *)msg)->n_block_metadata;
        c->messages++;
        return 0;
}

/* Writes a 4 KiB block at every stride from offset. */
static int snapmeta_write(struct bench *b, const char *id, uint64_t offset, uint64_t stride)
{
        char path[512];
        snprintf(path, sizeof(path), "%s/volumes/%s.img", b->pool, id);
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return neg_errno();
        char block[4096];
        memset(block, 0x5a, sizeof(block));
        for (uint64_t off = offset; off < SNAPMETA_BYTES; off += stride)
                if (pwrite(fd, block, sizeof(block), (off_t)off) != (ssize_t)sizeof(block))
                        return -EIO;
        return fsync(fd) < 0 ? neg_errno() : 0;
}

static int snapmeta_stream(struct bench *b, const char *path, const ProtobufCMessage *req,
                           const ProtobufCMessageDescriptor *desc, struct snapmeta_count *c)
{
        struct client_result res;
        *c = (struct snapmeta_count){0};
        int r =
            client_call_stream(b->client, path, req, desc, 600000, snapmeta_on_message, c, &res);
        if (r == 0 && res.status != ERR_OK) {
                fprintf(stderr, "silo-bench: %s: %s\n", path, res.message ? res.message : "");
                r = res.status == ERR_UNIMPLEMENTED ? -SILO_EUNIMPL : -EPROTO;
        }
        client_result_release(&res);
        return r;
}

static double snapmeta_peak_mib(struct bench *b)
{
        struct procstat st;
        if (b->pid <= 0 || procstat_read(b->pid, &st) < 0)
                return 0;
        return (double)st.vm_hwm_bytes / (1 << 20);
}

static void snapmeta_figure(const char *name, const char *unit, const double *v, size_t n)
{
        bench_figure(&(struct bench_figure_spec){.phase = "snapmeta", .name = name, .unit = unit},
                     v, n);
}

static int snapmeta_measure(struct bench *b, const char *s1, const char *s2)
{
        double alloc_rate[BENCH_MAX_RUNS], delta_rate[BENCH_MAX_RUNS], alloc_ms[BENCH_MAX_RUNS],
            delta_ms[BENCH_MAX_RUNS];
        unsigned runs = b->opt.runs < BENCH_MAX_RUNS ? b->opt.runs : BENCH_MAX_RUNS;
        double peak_before = snapmeta_peak_mib(b);
        struct snapmeta_count c;
        for (unsigned i = 0; i < runs && !bench_interrupted; i++) {
                Csi__V1__GetMetadataAllocatedRequest a =
                    CSI__V1__GET_METADATA_ALLOCATED_REQUEST__INIT;
                a.snapshot_id = (char *)s2;
                double t0 = bench_now();
                int r = snapmeta_stream(b, "/csi.v1.SnapshotMetadata/GetMetadataAllocated", &a.base,
                                        &csi__v1__get_metadata_allocated_response__descriptor, &c);
                if (r < 0)
                        return r;
                double t = bench_now() - t0;
                alloc_ms[i] = t * 1e3;
                alloc_rate[i] = (double)c.ranges / t;

                Csi__V1__GetMetadataDeltaRequest d = CSI__V1__GET_METADATA_DELTA_REQUEST__INIT;
                d.base_snapshot_id = (char *)s1;
                d.target_snapshot_id = (char *)s2;
                t0 = bench_now();
                r = snapmeta_stream(b, "/csi.v1.SnapshotMetadata/GetMetadataDelta", &d.base,
                                    &csi__v1__get_metadata_delta_response__descriptor, &c);
                if (r < 0)
                        return r;
                t = bench_now() - t0;
                delta_ms[i] = t * 1e3;
                delta_rate[i] = (double)c.ranges / t;
        }
        double growth = snapmeta_peak_mib(b) - peak_before;
        snapmeta_figure("snapmeta_allocated_10g_ms", "ms", alloc_ms, runs);
        snapmeta_figure("snapmeta_allocated_ranges_per_s", "ops/s", alloc_rate, runs);
        snapmeta_figure("snapmeta_delta_10g_ms", "ms", delta_ms, runs);
        snapmeta_figure("snapmeta_delta_ranges_per_s", "ops/s", delta_rate, runs);
        snapmeta_figure("snapmeta_peak_rss_growth", "MiB", &growth, 1);
        return 0;
}

int bench_snapmeta_run(struct bench *b)
{
        if (!b->own_driver) {
                bench_skip("snapmeta", "phase", "needs the pool of our own driver");
                return 0;
        }
        char name[64], s1[128], s2[128];
        bench_csi_name(b, "cbt", name, sizeof(name));
        struct bench_create q = {.name = name, .bytes = SNAPMETA_BYTES, .access = BENCH_BLOCK};
        struct bench_volume v;
        int r = bench_csi_create(b, &q, &v);
        if (r < 0)
                return r;
        r = snapmeta_write(b, v.id, 0, SNAPMETA_STRIDE);
        if (r == 0)
                r = bench_csi_snapshot(b, v.id, "cbt-1", s1, sizeof(s1));
        if (r == 0)
                r = snapmeta_write(b, v.id, SNAPMETA_STRIDE / 2, 2 * SNAPMETA_STRIDE);
        if (r == 0)
                r = bench_csi_snapshot(b, v.id, "cbt-2", s2, sizeof(s2));
        if (r == 0)
                r = snapmeta_measure(b, s1, s2);
        bench_csi_delete_snapshot(b, s1);
        bench_csi_delete_snapshot(b, s2);
        bench_csi_delete(b, v.id);
        return r;
}
