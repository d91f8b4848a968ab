/* Traces which files one controller operation passes through (docs/architecture.md, "One
 * CreateVolume"). Built by trace-ops.sh with -finstrument-functions: every function entry and
 * exit while an operation runs is written to the trace file, which count_stays.py reads.
 *   trace_ops POOL_DIR TRACE_FILE */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "controller/controller.h"

#define NOTRACE __attribute__((no_instrument_function))

static FILE *trace_out;
static __thread int trace_on; /* the calling thread only, not the refresher */

void __cyg_profile_func_enter(void *fn, void *site) NOTRACE;
void __cyg_profile_func_exit(void *fn, void *site) NOTRACE;
void testhook_pause_at(const char *point);

void __cyg_profile_func_enter(void *fn, void *site)
{
        (void)site;
        if (trace_on)
                fprintf(trace_out, "E %p\n", fn);
}

void __cyg_profile_func_exit(void *fn, void *site)
{
        (void)site;
        if (trace_on)
                fprintf(trace_out, "X %p\n", fn);
}

/* quiesce.c's crash point for tests; no server core here. */
void testhook_pause_at(const char *point)
{
        (void)point;
}

static void trace(const char *op, int r) NOTRACE;
static void trace(const char *op, int r)
{
        if (r < 0) {
                fprintf(stderr, "%s: %d %s\n", op, r, controller_why());
                exit(1);
        }
}

#define TRACE(op, call)                                                                            \
        do {                                                                                       \
                fprintf(trace_out, "OP %s\n", op);                                                 \
                trace_on = 1;                                                                      \
                int r_ = (call);                                                                   \
                trace_on = 0;                                                                      \
                trace(op, r_);                                                                     \
        } while (0)

int main(int argc, char **argv)
{
        char pool[PATH_MAX];
        if (argc != 3 || !realpath(argv[1], pool) || !(trace_out = fopen(argv[2], "we")))
                return 2;
        struct config cfg = {.pool = pool,
                             .node_id = (char *)"n1",
                             .overcommit_ratio = 1.0,
                             .scope = CONFIG_SCOPE_NODE};
        struct controller *c = NULL;
        trace("controller_new", controller_new(&cfg, &c));
        struct store_volume v = {0}, again = {0}, clone = {0}, restore = {0};
        struct store_snapshot s = {0};
        struct volume_spec spec = {.name = "pvc-a", .required_bytes = 16 << 20};
        TRACE("CreateVolume", volumes_create(c, &spec, &v));
        TRACE("CreateVolume (exists)", volumes_create(c, &spec, &again));
        TRACE("CreateSnapshot", snapshots_create(c, "snap-a", v.id, "", &s));
        struct volume_spec from_volume = {
            .name = "pvc-clone", .source_kind = STORE_SOURCE_VOLUME, .source_id = v.id};
        TRACE("CreateVolume (clone)", volumes_create(c, &from_volume, &clone));
        struct volume_spec from_snapshot = {
            .name = "pvc-restore", .source_kind = STORE_SOURCE_SNAPSHOT, .source_id = s.id};
        TRACE("CreateVolume (restore)", volumes_create(c, &from_snapshot, &restore));
        TRACE("DeleteSnapshot", snapshots_delete(c, s.id));
        TRACE("DeleteVolume", volumes_delete(c, clone.id));
        fclose(trace_out);
        store_volume_release(&v);
        store_volume_release(&again);
        store_volume_release(&clone);
        store_volume_release(&restore);
        store_snapshot_release(&s);
        controller_free(c);
        return 0;
}
