#include "common/server/config.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/netaddr.h"
#include "common/path.h"
#include "common/units.h"
#include "common/cleanup.h"

enum {
        OPT_ENDPOINT = 0x100,
        OPT_NODEID,
        OPT_DRIVER_NAME,
        OPT_POOL,
        OPT_POOL_SCOPE,
        OPT_MODE,
        OPT_MAX_CONCURRENT,
        OPT_MAX_QUEUED,
        OPT_TIMEOUT,
        OPT_DRAIN_TIMEOUT,
        OPT_MAX_CONNECTIONS,
        OPT_SKIP_ATTACH,
        OPT_MAX_VOLUMES,
        OPT_KUBELET_DIR,
        OPT_METRICS,
        OPT_OVERCOMMIT,
        OPT_VERSION,
};

static const struct option config_options[] = {
    {"endpoint", required_argument, NULL, OPT_ENDPOINT},
    {"nodeid", required_argument, NULL, OPT_NODEID},
    {"driver-name", required_argument, NULL, OPT_DRIVER_NAME},
    {"pool", required_argument, NULL, OPT_POOL},
    {"pool-scope", required_argument, NULL, OPT_POOL_SCOPE},
    {"mode", required_argument, NULL, OPT_MODE},
    {"max-concurrent-requests", required_argument, NULL, OPT_MAX_CONCURRENT},
    {"max-queued-requests", required_argument, NULL, OPT_MAX_QUEUED},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"drain-timeout", required_argument, NULL, OPT_DRAIN_TIMEOUT},
    {"max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS},
    {"skip-attach", no_argument, NULL, OPT_SKIP_ATTACH},
    {"max-volumes-per-node", required_argument, NULL, OPT_MAX_VOLUMES},
    {"kubelet-dir", required_argument, NULL, OPT_KUBELET_DIR},
    {"metrics-address", required_argument, NULL, OPT_METRICS},
    {"overcommit-ratio", required_argument, NULL, OPT_OVERCOMMIT},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

void config_usage(FILE *out)
{
        fputs(
            "Usage: silo [OPTIONS]\n"
            "CSI driver serving Identity, Controller and Node on one gRPC endpoint.\n\n"
            "  --endpoint ADDR              unix:///abs/path, /abs/path or tcp://host:port\n"
            "                               (default unix:///csi/csi.sock)\n"
            "  --nodeid NAME                this node's id (default: host name)\n"
            "  --driver-name NAME           CSI driver name (default silo.csi.io)\n"
            "  --pool DIR                   directory holding volume files\n"
            "                               (default /var/lib/silo/pool)\n"
            "  --pool-scope node|shared     node: pool is local to this node (default);\n"
            "                               shared: every node mounts the same pool\n"
            "  --mode all|controller|node   services to serve (default all)\n"
            "  --max-concurrent-requests N  Controller/Node calls run at once (default 8)\n"
            "  --max-queued-requests N      calls waiting for a worker before UNAVAILABLE\n"
            "                               (default 64)\n"
            "  --max-connections N          open client connections at once, at most half\n"
            "                               the open-file limit; more are closed at once\n"
            "                               (default 1024)\n"
            "  --timeout DURATION           budget per operation, e.g. 15s, 500ms (default 15s)\n"
            "  --drain-timeout DURATION     on SIGTERM, how long running calls may take to\n"
            "                               answer; then they are cancelled and their work gets\n"
            "                               as long again before silo exits (default 10s)\n"
            "  --skip-attach                no ControllerPublish/Unpublish capability\n"
            "  --max-volumes-per-node N     reported by NodeGetInfo, enforced on attach\n"
            "                               (default 0: no limit)\n"
            "  --kubelet-dir DIR            staging and target paths must lie beneath it\n"
            "                               (default /var/lib/kubelet)\n"
            "  --metrics-address HOST:PORT  serve Prometheus /metrics and /healthz (default off)\n"
            "  --overcommit-ratio R         thin volumes may provision R x free space\n"
            "                               (default 1.0)\n"
            "  -v, --verbose                debug logging (every call, Identity too)\n"
            "  -h, --help                   this text\n"
            "      --version                print the version\n",
            out);
}

static int config_fail(const char *flag, const char *value, const char *why)
{
        fprintf(stderr, "silo: invalid value '%s' for --%s: %s\n", value, flag, why);
        return -EINVAL;
}

static int config_set_str(char **dst, const char *value)
{
        char *copy = strdup(value);
        if (!copy)
                return -ENOMEM;
        free(*dst);
        *dst = copy;
        return 0;
}

/* True for a "." or ".." component in a normalised absolute path. */
static bool config_has_dot_component(const char *path)
{
        for (const char *p = path; (p = strchr(p, '/')); p++) {
                size_t n = strcspn(p + 1, "/");
                if ((n == 1 && p[1] == '.') || (n == 2 && p[1] == '.' && p[2] == '.'))
                        return true;
        }
        return false;
}

/* Stores the normalised form (path.h), so every user of the flag sees one spelling. */
static int config_set_dir(char **dst, const char *flag, const char *value)
{
        char *norm = NULL;
        if (path_normalise(value, &norm) < 0 || config_has_dot_component(norm)) {
                free(norm);
                return config_fail(flag, value, "must be an absolute path without '.' or '..'");
        }
        free(*dst);
        *dst = norm;
        return 0;
}

static int config_set_endpoint(struct config *cfg, const char *value)
{
        bool ok = strncmp(value, "unix://", 7) == 0  ? value[7] == '/'
                  : strncmp(value, "tcp://", 6) == 0 ? strchr(value + 6, ':') != NULL
                                                     : value[0] == '/';
        if (!ok || strlen(value) > 100)
                return config_fail("endpoint", value,
                                   "expected unix:///abs/path, /abs/path or tcp://host:port");
        return config_set_str(&cfg->endpoint, value);
}

static int config_set_metrics(struct config *cfg, const char *value)
{
        if (*value == '\0') {
                free(cfg->metrics_address);
                cfg->metrics_address = NULL;
                return 0;
        }
        /* The same parser the endpoint uses, so what passes here also binds; it says why not. */
        struct sockaddr_storage sa;
        socklen_t len;
        if (netaddr_parse("metrics address", value, &sa, &len) < 0)
                return -EINVAL;
        return config_set_str(&cfg->metrics_address, value);
}

static int config_set_name(char **dst, const char *flag, const char *value)
{
        size_t n = strlen(value);
        if (n == 0 || n > 128)
                return config_fail(flag, value, "must be 1 to 128 characters");
        for (const char *p = value; *p; p++)
                if ((unsigned char)*p <= ' ' || *p == '/')
                        return config_fail(flag, value, "must not contain spaces or '/'");
        return config_set_str(dst, value);
}

static int config_set_enum(int *dst, const char *flag, const char *value, const char *const *names,
                           size_t n)
{
        for (size_t i = 0; i < n; i++) {
                if (strcmp(value, names[i]) == 0) {
                        *dst = (int)i;
                        return 0;
                }
        }
        char allowed[128] = "expected one of:";
        for (size_t i = 0; i < n; i++) {
                size_t len = strlen(allowed);
                snprintf(allowed + len, sizeof(allowed) - len, "%s %s", i ? "," : "", names[i]);
        }
        return config_fail(flag, value, allowed);
}

static int config_set_count(unsigned *dst, const char *flag, const char *value, uint64_t min,
                            uint64_t max)
{
        uint64_t v;
        if (units_parse_u64(value, min, max, &v) < 0)
                return config_fail(flag, value, "out of range or not a number");
        *dst = (unsigned)v;
        return 0;
}

static int config_set_ratio(double *dst, const char *value)
{
        char *end;
        errno = 0;
        double v = strtod(value, &end);
        if (errno || end == value || *end || !(v > 0.0 && v <= 100.0))
                return config_fail("overcommit-ratio", value, "expected a number in (0, 100]");
        *dst = v;
        return 0;
}

static int config_set_duration(uint64_t *dst, const char *flag, const char *value)
{
        uint64_t ms;
        if (units_parse_duration_ms(value, &ms) < 0 || ms == 0 || ms > 3600 * 1000)
                return config_fail(flag, value, "expected a duration from 1ms to 1h");
        *dst = ms;
        return 0;
}

static const char *const mode_names[] = {"all", "controller", "node"};
static const char *const scope_names[] = {"node", "shared"};

static int config_apply(struct config *cfg, int opt, const char *arg)
{
        unsigned n;
        int r;
        switch (opt) {
        case OPT_ENDPOINT:
                return config_set_endpoint(cfg, arg);
        case OPT_NODEID:
                return config_set_name(&cfg->node_id, "nodeid", arg);
        case OPT_DRIVER_NAME:
                return config_set_name(&cfg->driver_name, "driver-name", arg);
        case OPT_POOL:
                return config_set_dir(&cfg->pool, "pool", arg);
        case OPT_KUBELET_DIR:
                return config_set_dir(&cfg->kubelet_dir, "kubelet-dir", arg);
        case OPT_POOL_SCOPE:
                return config_set_enum((int *)&cfg->scope, "pool-scope", arg, scope_names, 2);
        case OPT_MODE:
                return config_set_enum((int *)&cfg->mode, "mode", arg, mode_names, 3);
        case OPT_MAX_CONCURRENT:
                return config_set_count(&cfg->max_concurrent, "max-concurrent-requests", arg, 1,
                                        256);
        case OPT_MAX_CONNECTIONS:
                return config_set_count(&cfg->max_connections, "max-connections", arg, 1, 65536);
        case OPT_MAX_QUEUED:
                return config_set_count(&cfg->max_queued, "max-queued-requests", arg, 0, 4096);
        case OPT_MAX_VOLUMES:
                r = config_set_count(&n, "max-volumes-per-node", arg, 0, 1000000);
                if (r == 0)
                        cfg->max_volumes_per_node = n;
                return r;
        case OPT_TIMEOUT:
                return config_set_duration(&cfg->timeout_ms, "timeout", arg);
        case OPT_DRAIN_TIMEOUT:
                return config_set_duration(&cfg->drain_ms, "drain-timeout", arg);
        case OPT_METRICS:
                return config_set_metrics(cfg, arg);
        case OPT_OVERCOMMIT:
                return config_set_ratio(&cfg->overcommit_ratio, arg);
        case OPT_SKIP_ATTACH:
                cfg->skip_attach = true;
                return 0;
        case 'v':
                if (cfg->log_level < LOG_DEBUG)
                        cfg->log_level++;
                return 0;
        default:
                return -EINVAL;
        }
}

static int config_defaults(struct config *cfg)
{
        char host[256] = "";
        if (gethostname(host, sizeof(host) - 1) < 0 || !*host)
                snprintf(host, sizeof(host), "localhost");
        *cfg = (struct config){
            .endpoint = strdup("unix:///csi/csi.sock"),
            .node_id = strdup(host),
            .driver_name = strdup("silo.csi.io"),
            .pool = strdup("/var/lib/silo/pool"),
            .kubelet_dir = strdup("/var/lib/kubelet"),
            .max_concurrent = 8,
            .max_queued = 64,
            .timeout_ms = 15000,
            .drain_ms = 10000,
            .max_connections = 1024,
            .overcommit_ratio = 1.0,
            .log_level = LOG_INFO,
        };
        if (!cfg->endpoint || !cfg->node_id || !cfg->driver_name || !cfg->pool || !cfg->kubelet_dir)
                return -ENOMEM;
        return 0;
}

int config_parse(int argc, char **argv, struct config *ret)
{
        struct config cfg;
        int r = config_defaults(&cfg);
        optind = 1;
        opterr = 0;
        int opt;
        while (r == 0 && (opt = getopt_long(argc, argv, ":vh", config_options, NULL)) != -1) {
                if (opt == 'h') {
                        config_usage(stdout);
                        r = CONFIG_EXIT;
                } else if (opt == OPT_VERSION) {
                        printf("silo %s (%s)\n", SILO_VERSION, SILO_GIT_REV);
                        r = CONFIG_EXIT;
                } else if (opt == '?' || opt == ':') {
                        fprintf(stderr, "silo: %s option '%s' (see --help)\n",
                                opt == '?' ? "unknown" : "missing value for", argv[optind - 1]);
                        r = -EINVAL;
                } else {
                        r = config_apply(&cfg, opt, optarg);
                }
        }
        if (r == 0 && optind < argc) {
                fprintf(stderr, "silo: unexpected argument '%s' (see --help)\n", argv[optind]);
                r = -EINVAL;
        }
        if (r != 0) {
                config_release(&cfg);
                return r;
        }
        *ret = cfg;
        return CONFIG_RUN;
}

void config_release(struct config *cfg)
{
        free(cfg->endpoint);
        free(cfg->node_id);
        free(cfg->driver_name);
        free(cfg->pool);
        free(cfg->kubelet_dir);
        free(cfg->metrics_address);
        *cfg = (struct config){0};
}

const char *config_mode_name(enum config_mode mode)
{
        switch (mode) {
        case CONFIG_MODE_ALL:
                return "all";
        case CONFIG_MODE_CONTROLLER:
                return "controller";
        case CONFIG_MODE_NODE:
                return "node";
        }
        return "unknown";
}
