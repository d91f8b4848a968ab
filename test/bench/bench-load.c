/* Background volume work: threads cycling the slowest real operations the driver offers
 * (stage/unstage of a fresh ext4 volume, which formats it; else thick create/delete). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/err.h"
#include "test/bench/bench.h"
#include "common/cleanup.h"

#define BENCH_LOAD_MAX 64

struct bench_load {
        struct bench *b;
        bool stage; /* stage/unstage cycle; else create/delete */
        atomic_bool stop;
        atomic_ulong ops;
        unsigned n;
        pthread_t threads[BENCH_LOAD_MAX];
};

/* One cycle; returns the number of RPCs that succeeded or a negative error. */
static int bench_load_cycle(struct bench *b, bool stage)
{
        char name[64], staging[512], target[512];
        bench_csi_name(b, "load", name, sizeof(name));
        struct bench_volume v;
        struct bench_create q = {
            .name = name, .bytes = 64 << 20, .access = BENCH_EXT4, .thick = !stage};
        int r = bench_csi_create(b, &q, &v);
        if (r < 0)
                return r;
        int ops = 1;
        if (stage && (r = bench_csi_paths(b, name, staging, target, sizeof(staging))) == 0) {
                r = bench_csi_stage(b, &v, staging);
                if (r == 0) {
                        ops++;
                        r = bench_csi_unstage(b, &v, staging);
                        ops += r == 0;
                }
                bench_csi_paths_remove(b, name);
        }
        int d = bench_csi_delete(b, v.id);
        ops += d == 0;
        return r < 0 ? r : d < 0 ? d : ops;
}

static void *bench_load_loop(void *arg)
{
        struct bench_load *l = arg;
        unsigned failures = 0;
        while (!atomic_load(&l->stop) && !bench_interrupted && failures < 10) {
                int r = bench_load_cycle(l->b, l->stage);
                if (r < 0)
                        failures++;
                else
                        atomic_fetch_add(&l->ops, (unsigned long)r);
        }
        return NULL;
}

int bench_load_start(struct bench *b, unsigned n, struct bench_load **ret)
{
        /* Find out which cycle the driver can do. */
        bool stage = true;
        int r = bench_load_cycle(b, true);
        if (r == -SILO_EUNIMPL) {
                stage = false;
                r = bench_load_cycle(b, false);
        }
        if (r < 0)
                return r;
        struct bench_load *l = calloc(1, sizeof(*l));
        if (!l)
                return -ENOMEM;
        l->b = b;
        l->stage = stage;
        for (; l->n < n && l->n < BENCH_LOAD_MAX; l->n++)
                if (pthread_create(&l->threads[l->n], NULL, bench_load_loop, l))
                        break;
        fprintf(stderr, "silo-bench: %u threads cycling %s\n", l->n,
                l->stage ? "create/stage/unstage/delete" : "thick create/delete");
        *ret = l;
        return 0;
}

unsigned long bench_load_stop(struct bench_load *l)
{
        atomic_store(&l->stop, true);
        for (unsigned i = 0; i < l->n; i++)
                pthread_join(l->threads[i], NULL);
        unsigned long ops = atomic_load(&l->ops);
        free(l);
        return ops;
}
