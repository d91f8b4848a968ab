/* silo-bench: drives a CSI endpoint with our client and reports latency, throughput, driver
 * CPU and memory. Every figure is the median of repeated runs, printed with the load average
 * beside it; nothing here asserts on time. By default it starts its own silo inside a
 * private mount namespace on a temp root (pool on a reflink-capable XFS image) and removes
 * every mount, loop device and file it made. */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <sys/types.h>

#include "cli/client.h"

#define BENCH_MAX_RUNS 50

struct bench_opts {
        const char *endpoint; /* external driver; NULL: start our own */
        pid_t driver_pid;     /* external driver's pid for CPU/memory; 0: unknown */
        const char *phase;    /* NULL: all */
        const char *pool_fs;  /* "xfs" (reflink image, default) or "host" */
        const char *tmp_dir;  /* where the temp root goes (default /var/tmp) */
        bool quick;
        bool keep;     /* leave the temp root for inspection */
        unsigned runs; /* repetitions per figure */
        double probe_seconds;
};

struct bench {
        struct bench_opts opt;
        char root[128];    /* temp root owning everything below */
        char pool[160];    /* <root>/pool: mount point of the pool image, or a directory */
        char kubelet[160]; /* <root>/kubelet */
        char socket[160];
        char endpoint[176];
        char log_path[160];
        char node_id[64];
        int pool_loop; /* loop device number of the pool image; -1 none */
        pid_t pid;     /* driver process for CPU/memory figures; 0 unknown */
        bool own_driver;
        struct client *client;
        atomic_uint seq; /* for unique names */
};

/* Set by SIGINT/SIGTERM: phases stop early and the cleanup still runs. */
extern volatile sig_atomic_t bench_interrupted;

/* ---- bench-driver.c: temp root, pool, the silo process ---- */
int bench_driver_setup(struct bench *b);
/* Starts silo and waits until Probe answers ready; *ret_seconds (may be NULL) is the time
 * from fork to ready. */
int bench_driver_start(struct bench *b, double *ret_seconds);
/* The driver's CPU time so far (utime + stime from /proc/<pid>/stat); NAN when its pid is
 * unknown. */
double bench_driver_cpu(struct bench *b);
/* SIGTERM, wait (then SIGKILL). */
void bench_driver_stop(struct bench *b);
/* Stops the driver, unmounts and detaches everything under root, removes root. */
void bench_driver_cleanup(struct bench *b);
/* Runs argv (a tool such as mkfs, found in PATH) with output discarded; 0 when it exits 0. */
int bench_driver_exec(const char *const *argv);
/* Unmounts everything beneath dir (deepest first); returns how many. */
int bench_driver_umount_under(const char *dir);
/* Detaches loop devices whose backing file lies beneath dir; returns how many. */
int bench_driver_detach_under(const char *dir);

/* ---- bench-stats.c: samples, percentiles, figures ---- */
struct bench_samples {
        double *v; /* seconds */
        size_t n, cap;
};
void bench_samples_add(struct bench_samples *s, double seconds);
void bench_samples_merge(struct bench_samples *into, const struct bench_samples *from);
/* p in [0, 100]; sorts in place. NAN when empty. */
double bench_samples_percentile(struct bench_samples *s, double p);
void bench_samples_release(struct bench_samples *s);

double bench_now(void); /* monotonic seconds */
double bench_loadavg(void);

struct bench_figure_spec {
        const char *phase;
        const char *name;  /* unique within the run; copied */
        const char *unit;  /* "ms", "us", "ops/s", "MiB", "s", "x" */
        double max;        /* target: value <= max (0: no target) */
        const char *floor; /* name of the floor figure to print a ratio against, or NULL */
        double max_ratio;  /* target on that ratio (0: none) */
};
/* Records the median of runs[0..n) as a figure. */
void bench_figure(const struct bench_figure_spec *spec, const double *runs, size_t n);
/* Records a phase or figure that could not be measured and why. */
void bench_skip(const char *phase, const char *what, const char *why);
/* Median value of a recorded figure; NAN when absent. */
double bench_figure_value(const char *name);
/* Prints the table and one JSON line per figure to out. */
void bench_report(FILE *out);

/* ---- bench-csi.c: CSI calls ---- */
/* Returned by the calls below for a status other than OK: UNIMPLEMENTED is
 * -SILO_EUNIMPL; anything else -EPROTO (the status and message are logged once). */
enum bench_access { BENCH_EXT4, BENCH_XFS, BENCH_BLOCK };
const char *bench_access_name(enum bench_access a);

struct bench_kv {
        char key[64];
        char value[192];
};
struct bench_volume {
        char id[128];
        enum bench_access access;
        struct bench_kv volume_context[8];
        size_t n_volume_context;
        struct bench_kv publish_context[8];
        size_t n_publish_context;
};

int bench_csi_probe(struct bench *b, struct client *c, bool *ret_ready);
struct bench_create {
        const char *name;
        uint64_t bytes;
        enum bench_access access;
        bool thick;
        char source_kind; /* 0 none, 's' snapshot, 'v' volume */
        const char *source_id;
};
int bench_csi_create(struct bench *b, const struct bench_create *req, struct bench_volume *ret);
int bench_csi_delete(struct bench *b, const char *id);
int bench_csi_controller_publish(struct bench *b, struct bench_volume *v);
int bench_csi_controller_unpublish(struct bench *b, const struct bench_volume *v);
int bench_csi_stage(struct bench *b, const struct bench_volume *v, const char *staging);
int bench_csi_unstage(struct bench *b, const struct bench_volume *v, const char *staging);
int bench_csi_publish(struct bench *b, const struct bench_volume *v, const char *staging,
                      const char *target);
int bench_csi_unpublish(struct bench *b, const struct bench_volume *v, const char *target);
/* Pages through every volume with max_entries per page; *ret_count volumes seen. */
int bench_csi_list_all(struct bench *b, int max_entries, size_t *ret_count);
int bench_csi_snapshot(struct bench *b, const char *source_id, const char *name, char *ret_id,
                       size_t size);
int bench_csi_delete_snapshot(struct bench *b, const char *id);
/* Kubelet-style paths for a volume: creates <kubelet>/stage/<name> (the staging dir) and
 * <kubelet>/pods/<name> (the target's parent); the target <kubelet>/pods/<name>/mount is
 * left for NodePublishVolume to create, as kubelet does. */
int bench_csi_paths(struct bench *b, const char *name, char *staging, char *target, size_t size);
/* Removes what kubelet would remove after unpublish/unstage. */
void bench_csi_paths_remove(struct bench *b, const char *name);
/* A name unique within this run: "<prefix>-<pid>-<seq>". */
void bench_csi_name(struct bench *b, const char *prefix, char *buf, size_t size);

/* ---- bench-steps.c: per-step samples of the volume lifecycle (driver and floor) ---- */
enum bench_step {
        BENCH_STEP_CREATE,
        BENCH_STEP_CPUBLISH,
        BENCH_STEP_STAGE,
        BENCH_STEP_PUBLISH,
        BENCH_STEP_WRITE, /* 1 MiB + fsync through the published path */
        BENCH_STEP_UNPUBLISH,
        BENCH_STEP_UNSTAGE,
        BENCH_STEP_CUNPUBLISH,
        BENCH_STEP_DELETE,
        BENCH_STEP_STAGE_UNSTAGE, /* the sum of both, per volume */
        BENCH_STEP_N,
};
struct bench_steps {
        struct bench_samples s[BENCH_STEP_N];
};
/* Number of volume lifecycles per run. */
unsigned bench_steps_iterations(const struct bench *b);
/* Writes MiB number mib (1 MiB at mib << 20) and fsyncs: into <path>/bench.dat for a
 * filesystem, onto path for a block device. */
int bench_steps_write(const char *path, bool block, unsigned mib);
/* Records p50 and p99 of every measured step: "<phase>_<step>_<access>_p50". With
 * vs_floor, each figure also shows its ratio to "floor_<step>_<access>_p50/p99". */
void bench_steps_report(const char *phase, enum bench_access a, struct bench_steps *runs,
                        size_t n_runs, bool vs_floor);
void bench_steps_release(struct bench_steps *runs, size_t n_runs);

/* ---- phases ---- */
int bench_probe_run(struct bench *b);
int bench_volumes_run(struct bench *b); /* create-delete */
int bench_floor_run(struct bench *b);
int bench_lifecycle_run(struct bench *b);
int bench_snapshot_run(struct bench *b);
int bench_scale_run(struct bench *b);
int bench_memory_run(struct bench *b);
int bench_snapmeta_run(struct bench *b);
/* Creates 1 MiB thin volumes "<prefix>-<from>" .. "<prefix>-<to - 1>" / deletes them. */
int bench_memory_fill(struct bench *b, const char *prefix, unsigned from, unsigned to);
int bench_memory_drain(struct bench *b, const char *prefix, unsigned from, unsigned to);
/* Records the driver's memory now under label ("idle", "after-probe", "1000-volumes"). */
void bench_memory_sample(struct bench *b, const char *label, double max_anon_mib);

/* ---- bench-load.c: background volume work while Probe is measured ---- */
struct bench_load;
/* Starts n threads cycling slow volume operations; -SILO_EUNIMPL when none is available. */
int bench_load_start(struct bench *b, unsigned n, struct bench_load **ret);
/* Stops them; returns how many operations they finished. */
unsigned long bench_load_stop(struct bench_load *l);
