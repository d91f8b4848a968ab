/* lifecycle: every step of a volume's life through the driver, for ext4, xfs and raw block,
 * each printed beside the floor's figure for the same step. */
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "test/bench/bench.h"
#include "common/cleanup.h"

#define BENCH_LIFECYCLE_BYTES (1ULL << 30)

struct bench_lifecycle_vol {
        struct bench *b;
        struct bench_volume v;
        char name[64], staging[512], target[512];
        bool created, cpublished, staged, published;
        bool no_attach; /* ControllerPublish is UNIMPLEMENTED: skip both attach steps */
};

static double bench_lifecycle_t;

static void bench_lifecycle_tick(struct bench_steps *st, enum bench_step step)
{
        double now = bench_now();
        bench_samples_add(&st->s[step], now - bench_lifecycle_t);
        bench_lifecycle_t = now;
}

/* Undoes whatever a failed cycle left, ignoring errors. */
static void bench_lifecycle_undo(struct bench_lifecycle_vol *l)
{
        if (l->published)
                bench_csi_unpublish(l->b, &l->v, l->target);
        if (l->staged)
                bench_csi_unstage(l->b, &l->v, l->staging);
        if (l->cpublished)
                bench_csi_controller_unpublish(l->b, &l->v);
        if (l->created)
                bench_csi_delete(l->b, l->v.id);
        bench_csi_paths_remove(l->b, l->name);
}

static int bench_lifecycle_up(struct bench_lifecycle_vol *l, struct bench_steps *st)
{
        struct bench_create q = {
            .name = l->name, .bytes = BENCH_LIFECYCLE_BYTES, .access = l->v.access};
        bench_lifecycle_t = bench_now();
        int r = bench_csi_create(l->b, &q, &l->v);
        if (r < 0)
                return r;
        l->created = true;
        bench_lifecycle_tick(st, BENCH_STEP_CREATE);
        if (!l->no_attach) {
                r = bench_csi_controller_publish(l->b, &l->v);
                if (r == -SILO_EUNIMPL)
                        l->no_attach = true;
                else if (r < 0)
                        return r;
                l->cpublished = r == 0;
                if (r == 0)
                        bench_lifecycle_tick(st, BENCH_STEP_CPUBLISH);
        }
        if ((r = bench_csi_paths(l->b, l->name, l->staging, l->target, sizeof(l->target))))
                return r;
        bench_lifecycle_t = bench_now();
        if ((r = bench_csi_stage(l->b, &l->v, l->staging)) < 0)
                return r;
        l->staged = true;
        bench_lifecycle_tick(st, BENCH_STEP_STAGE);
        if ((r = bench_csi_publish(l->b, &l->v, l->staging, l->target)) < 0)
                return r;
        l->published = true;
        bench_lifecycle_tick(st, BENCH_STEP_PUBLISH);
        return 0;
}

static int bench_lifecycle_down(struct bench_lifecycle_vol *l, struct bench_steps *st)
{
        int r = bench_csi_unpublish(l->b, &l->v, l->target);
        if (r < 0)
                return r;
        l->published = false;
        bench_lifecycle_tick(st, BENCH_STEP_UNPUBLISH);
        if ((r = bench_csi_unstage(l->b, &l->v, l->staging)) < 0)
                return r;
        l->staged = false;
        bench_lifecycle_tick(st, BENCH_STEP_UNSTAGE);
        size_t n = st->s[BENCH_STEP_STAGE].n;
        bench_samples_add(&st->s[BENCH_STEP_STAGE_UNSTAGE],
                          st->s[BENCH_STEP_STAGE].v[n - 1] + st->s[BENCH_STEP_UNSTAGE].v[n - 1]);
        if (l->cpublished) {
                if ((r = bench_csi_controller_unpublish(l->b, &l->v)) < 0)
                        return r;
                l->cpublished = false;
                bench_lifecycle_tick(st, BENCH_STEP_CUNPUBLISH);
        }
        if ((r = bench_csi_delete(l->b, l->v.id)) < 0)
                return r;
        l->created = false;
        bench_lifecycle_tick(st, BENCH_STEP_DELETE);
        return 0;
}

static int bench_lifecycle_cycle(struct bench *b, enum bench_access a, bool *no_attach,
                                 struct bench_steps *st)
{
        struct bench_lifecycle_vol l = {.b = b, .v.access = a, .no_attach = *no_attach};
        bench_csi_name(b, "life", l.name, sizeof(l.name));
        int r = bench_lifecycle_up(&l, st);
        if (r == 0) {
                r = bench_steps_write(l.target, a == BENCH_BLOCK, 0);
                bench_lifecycle_tick(st, BENCH_STEP_WRITE);
        }
        if (r == 0)
                r = bench_lifecycle_down(&l, st);
        *no_attach = l.no_attach;
        bench_lifecycle_undo(&l);
        return r;
}

static const char *bench_lifecycle_unimpl(const struct bench_steps *st)
{
        if (!st->s[BENCH_STEP_CREATE].n)
                return "CreateVolume/DeleteVolume unimplemented";
        if (!st->s[BENCH_STEP_STAGE].n)
                return "NodeStageVolume unimplemented";
        if (!st->s[BENCH_STEP_PUBLISH].n)
                return "NodePublishVolume unimplemented";
        return "NodeUnpublish/NodeUnstage/DeleteVolume unimplemented";
}

static int bench_lifecycle_access(struct bench *b, enum bench_access a)
{
        struct bench_steps runs[BENCH_MAX_RUNS] = {0};
        bool no_attach = false;
        int r = 0;
        for (unsigned run = 0; run < b->opt.runs && r == 0 && !bench_interrupted; run++)
                for (unsigned i = 0; i < bench_steps_iterations(b) && r == 0; i++)
                        r = bench_lifecycle_cycle(b, a, &no_attach, &runs[run]);
        char what[64];
        snprintf(what, sizeof(what), "lifecycle_%s", bench_access_name(a));
        if (r == -SILO_EUNIMPL)
                bench_skip("lifecycle", what, bench_lifecycle_unimpl(&runs[0]));
        else if (r == 0)
                bench_steps_report("lifecycle", a, runs, b->opt.runs, true);
        if (r == 0 && no_attach)
                bench_skip("lifecycle", "controller_publish",
                           "ControllerPublishVolume unimplemented");
        bench_steps_release(runs, b->opt.runs);
        return r;
}

int bench_lifecycle_run(struct bench *b)
{
        static const enum bench_access kinds[] = {BENCH_EXT4, BENCH_XFS, BENCH_BLOCK};
        int r = 0;
        for (size_t i = 0; i < ARRAY_SIZE(kinds) && !bench_interrupted; i++) {
                r = bench_lifecycle_access(b, kinds[i]);
                if (r == -SILO_EUNIMPL)
                        return r; /* the other kinds need the same RPCs */
                if (r < 0)
                        fprintf(stderr, "silo-bench: lifecycle %s: %s\n",
                                bench_access_name(kinds[i]), strerror(r > -4096 ? -r : EIO));
        }
        return r;
}
