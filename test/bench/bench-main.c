/* silo-bench entry point: options, the private mount namespace, phase selection. */
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/utsname.h>

#include "common/units.h"
#include "test/bench/bench.h"
#include "common/cleanup.h"

volatile sig_atomic_t bench_interrupted;

struct bench_phase {
        const char *name;
        int (*run)(struct bench *b);
};

/* Scale runs last: it leaves thousands of volumes that only the cleanup removes. */
static const struct bench_phase bench_phases[] = {
    {"probe", bench_probe_run},       {"create-delete", bench_volumes_run},
    {"floor", bench_floor_run},       {"lifecycle", bench_lifecycle_run},
    {"snapshot", bench_snapshot_run}, {"snapmeta", bench_snapmeta_run},
    {"memory", bench_memory_run},     {"scale", bench_scale_run},
};

static bool bench_phase_known(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(bench_phases); i++)
                if (strcmp(bench_phases[i].name, name) == 0)
                        return true;
        return false;
}

static void bench_usage(FILE *out)
{
        fprintf(out, "usage: silo-bench [options]\n"
                     "  --phase NAME       probe, create-delete, floor, lifecycle, snapshot, "
                     "snapmeta, memory,\n"
                     "                     scale (repeatable; default: all; lifecycle adds floor)\n"
                     "  --quick            short smoke run (1 run per figure, small counts)\n"
                     "  --runs N           repetitions per figure (default 5, quick 1)\n"
                     "  --probe-seconds S  duration of each Probe run (default 2)\n"
                     "  --endpoint URL     benchmark a running driver instead of starting silo\n"
                     "  --driver-pid PID   its pid, for CPU and memory figures\n"
                     "  --kubelet-dir DIR  its kubelet dir (staging/target paths go beneath it)\n"
                     "  --nodeid ID        its node id (ControllerPublish)\n"
                     "  --pool-fs xfs|host pool on a reflink XFS image (default) or a plain dir\n"
                     "  --tmp-dir DIR      make the temp root in DIR (default /var/tmp)\n"
                     "  --keep             keep the temp root\n");
}

static bool bench_wants(const char *selected, const char *name)
{
        if (!selected[0])
                return true;
        char key[64];
        snprintf(key, sizeof(key), ",%s,", name);
        if (strstr(selected, key))
                return true;
        /* Lifecycle figures are printed as ratios to the floor measured in the same run. */
        return strcmp(name, "floor") == 0 && strstr(selected, ",lifecycle,");
}

static int bench_parse_u(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
        int r = units_parse_u64(s, min, max, ret);
        if (r < 0)
                fprintf(stderr, "silo-bench: bad number '%s'\n", s);
        return r;
}

enum {
        OPT_PHASE = 256,
        OPT_RUNS,
        OPT_PROBE_S,
        OPT_ENDPOINT,
        OPT_PID,
        OPT_KUBELET,
        OPT_NODE,
        OPT_POOLFS,
        OPT_TMPDIR,
        OPT_KEEP,
        OPT_QUICK
};

static int bench_parse_opt(struct bench *b, int opt, char *selected, size_t size)
{
        uint64_t v;
        switch (opt) {
        case OPT_PHASE:
                if (!bench_phase_known(optarg)) {
                        fprintf(stderr, "silo-bench: unknown phase '%s'\n", optarg);
                        return -EINVAL;
                }
                snprintf(selected + strlen(selected), size - strlen(selected), "%s,", optarg);
                return 0;
        case OPT_RUNS:
                if (bench_parse_u(optarg, 1, BENCH_MAX_RUNS, &v) < 0)
                        return -EINVAL;
                b->opt.runs = (unsigned)v;
                return 0;
        case OPT_PROBE_S:
                if (bench_parse_u(optarg, 1, 3600, &v) < 0)
                        return -EINVAL;
                b->opt.probe_seconds = (double)v;
                return 0;
        case OPT_PID:
                if (bench_parse_u(optarg, 1, 1u << 22, &v) < 0)
                        return -EINVAL;
                b->opt.driver_pid = (pid_t)v;
                return 0;
        case OPT_ENDPOINT:
                b->opt.endpoint = optarg;
                return 0;
        case OPT_KUBELET:
                snprintf(b->kubelet, sizeof(b->kubelet), "%s", optarg);
                return 0;
        case OPT_NODE:
                snprintf(b->node_id, sizeof(b->node_id), "%s", optarg);
                return 0;
        case OPT_POOLFS:
                b->opt.pool_fs = optarg;
                return 0;
        case OPT_TMPDIR:
                b->opt.tmp_dir = optarg;
                return 0;
        case OPT_KEEP:
                b->opt.keep = true;
                return 0;
        case OPT_QUICK:
                b->opt.quick = true;
                return 0;
        default:
                return -EINVAL;
        }
}

static int bench_parse(struct bench *b, int argc, char **argv, char *selected, size_t size)
{
        static const struct option opts[] = {
            {"phase", required_argument, NULL, OPT_PHASE},
            {"runs", required_argument, NULL, OPT_RUNS},
            {"probe-seconds", required_argument, NULL, OPT_PROBE_S},
            {"endpoint", required_argument, NULL, OPT_ENDPOINT},
            {"driver-pid", required_argument, NULL, OPT_PID},
            {"kubelet-dir", required_argument, NULL, OPT_KUBELET},
            {"nodeid", required_argument, NULL, OPT_NODE},
            {"pool-fs", required_argument, NULL, OPT_POOLFS},
            {"tmp-dir", required_argument, NULL, OPT_TMPDIR},
            {"keep", no_argument, NULL, OPT_KEEP},
            {"quick", no_argument, NULL, OPT_QUICK},
            {"help", no_argument, NULL, 'h'},
            {0},
        };
        snprintf(selected, size, ",");
        int opt;
        while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                if (opt == 'h') {
                        bench_usage(stdout);
                        return 1;
                }
                if (bench_parse_opt(b, opt, selected, size) < 0) {
                        bench_usage(stderr);
                        return -EINVAL;
                }
        }
        if (strcmp(selected, ",") == 0)
                selected[0] = '\0';
        if (!b->opt.runs)
                b->opt.runs = b->opt.quick ? 1 : 5;
        if (b->opt.probe_seconds <= 0)
                b->opt.probe_seconds = b->opt.quick ? 0.3 : 2;
        if (strcmp(b->opt.pool_fs, "xfs") != 0 && strcmp(b->opt.pool_fs, "host") != 0) {
                fprintf(stderr, "silo-bench: --pool-fs must be xfs or host\n");
                return -EINVAL;
        }
        return 0;
}

/* Mounts made from here on (pool image, staging, publish) stay invisible to the host and
 * vanish with the namespace if we die. */
static int bench_private_namespace(void)
{
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                int r = neg_errno();
                fprintf(stderr, "silo-bench: cannot make a private mount namespace: %s\n",
                        strerror(-r));
                return r;
        }
        return 0;
}

static int bench_prepare(struct bench *b)
{
        /* An outside driver's mounts must stay visible to us (the write step goes through
         * them): share its namespace then. */
        int r = b->opt.endpoint ? 0 : bench_private_namespace();
        if (r < 0)
                return r;
        char kubelet[sizeof(b->kubelet)], node[sizeof(b->node_id)];
        snprintf(kubelet, sizeof(kubelet), "%s", b->kubelet);
        snprintf(node, sizeof(node), "%s", b->node_id);
        r = bench_driver_setup(b);
        if (r < 0) {
                fprintf(stderr, "silo-bench: cannot prepare %s: %s\n", b->root, strerror(-r));
                return r;
        }
        if (!b->opt.endpoint) {
                b->own_driver = true;
                return bench_driver_start(b, NULL);
        }
        /* An outside driver: its own socket, kubelet dir and node id. */
        snprintf(b->endpoint, sizeof(b->endpoint), "%s", b->opt.endpoint);
        if (kubelet[0])
                snprintf(b->kubelet, sizeof(b->kubelet), "%s", kubelet);
        if (node[0])
                snprintf(b->node_id, sizeof(b->node_id), "%s", node);
        b->pid = b->opt.driver_pid;
        return client_new(b->endpoint, &b->client);
}

static void bench_describe_machine(void)
{
        struct utsname u;
        uname(&u);
        char model[512] = "unknown";
        FILE *f = fopen("/proc/cpuinfo", "re");
        char line[512];
        while (f && fgets(line, sizeof(line), f))
                if (strncmp(line, "model name", 10) == 0) {
                        char *colon = strchr(line, ':');
                        snprintf(model, sizeof(model), "%s", colon ? colon + 2 : line);
                        model[strcspn(model, "\n")] = '\0';
                        break;
                }
        if (f)
                fclose(f);
        fprintf(stderr, "silo-bench: %ld cpus (%s), kernel %s, load %.2f\n",
                sysconf(_SC_NPROCESSORS_ONLN), model, u.release, bench_loadavg());
}

static void bench_on_signal(int sig)
{
        (void)sig;
        bench_interrupted = 1;
}

static void bench_run_phases(struct bench *b, const char *selected)
{
        bench_memory_sample(b, "idle", 2);
        for (size_t i = 0; i < ARRAY_SIZE(bench_phases) && !bench_interrupted; i++) {
                if (!bench_wants(selected, bench_phases[i].name))
                        continue;
                fprintf(stderr, "silo-bench: phase %s\n", bench_phases[i].name);
                int r = bench_phases[i].run(b);
                if (r < 0 && r != -SILO_EUNIMPL)
                        bench_skip(bench_phases[i].name, "phase", strerror(r > -4096 ? -r : EIO));
                char label[64];
                snprintf(label, sizeof(label), "after-%s", bench_phases[i].name);
                bench_memory_sample(b, label, 0);
        }
}

int main(int argc, char **argv)
{
        static struct bench b = {.opt.pool_fs = "xfs", .opt.tmp_dir = "/var/tmp"};
        char selected[512];
        int r = bench_parse(&b, argc, argv, selected, sizeof(selected));
        if (r != 0)
                return r < 0 ? 2 : 0;
        signal(SIGINT, bench_on_signal);
        signal(SIGTERM, bench_on_signal);
        signal(SIGPIPE, SIG_IGN);
        bench_describe_machine();

        r = bench_prepare(&b);
        if (r == 0)
                bench_run_phases(&b, selected);
        bench_driver_cleanup(&b);
        bench_report(stdout);
        return r < 0 ? 1 : 0;
}
