/* The composition root: flags, services, startup reconciliation, signals. */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <sys/stat.h>

#include "common/err.h"
#include "common/server/config.h"
#include "common/server/identity.h"
#include "common/server/preflight.h"
#include "common/log.h"
#include "common/metrics/metrics.h"
#include "common/server/rpc.h"
#include "common/server/vlock.h"
#include "common/silo.h"
#include "common/server/testhook.h"
#include "common/server/vlock.h"
#include "controller/controller-rpc.h"
#include "controller/controller.h"
#include "controller/quiesce.h"
#include "node/node-rpc.h"
#include "node/node.h"
#include "node/reconcile.h"
#include "common/cleanup.h"

#define MAIN_MAX_MESSAGE_BYTES (4 * 1024 * 1024)
/* main_serve's outcome when work outlived the shutdown bound: exit without freeing. */
#define MAIN_ABANDONED 1

static bool main_serves_controller(const struct config *cfg)
{
        return cfg->mode != CONFIG_MODE_NODE;
}

static bool main_serves_node(const struct config *cfg)
{
        return cfg->mode != CONFIG_MODE_CONTROLLER;
}

/* Services in the order their methods are looked up. */
static size_t main_services(const struct config *cfg, const struct rpc_service **ret)
{
        size_t n = 0;
        ret[n++] = &identity_service;
        if (main_serves_controller(cfg)) {
                ret[n++] = &controller_service;
                ret[n++] = &group_controller_service;
                ret[n++] = &snapshot_metadata_service;
        }
        if (main_serves_node(cfg))
                ret[n++] = &node_service;
        if (testhook_service.n_methods)
                ret[n++] = &testhook_service;
        return n;
}

static unsigned main_plugin_caps(const struct config *cfg)
{
        unsigned caps = SILO_CAP_EXPAND_ONLINE;
        if (main_serves_controller(cfg))
                caps |=
                    SILO_CAP_CONTROLLER | SILO_CAP_GROUP_CONTROLLER | SILO_CAP_SNAPSHOT_METADATA;
        if (cfg->scope == CONFIG_SCOPE_NODE)
                caps |= SILO_CAP_ACCESSIBILITY;
        return caps;
}

/* The node service freezes volumes for the controller's copies (controller/quiesce.h). The
 * volume's operation lock is held until the thaw, so that no stage or unstage of it runs
 * while it is copied. */
struct main_hold {
        struct vlock *lock;
        int fd;
};

static int main_freeze(void *userdata, const char *volume_id, void **ret_token, char *why,
                       size_t why_size)
{
        struct silo *silo = userdata;
        struct main_hold *h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        h->fd = -1;
        int r = vlock_try(silo->locks, "vol", volume_id, &h->lock);
        if (r < 0) {
                snprintf(why, why_size, "an operation on volume '%s' is pending", volume_id);
                free(h);
                return r;
        }
        node_why_clear();
        r = node_freeze(silo->node, volume_id, &h->fd);
        if (r < 0)
                snprintf(why, why_size, "%s", node_why());
        if (r < 0 && r != -SILO_EPRECOND) {
                vlock_release(h->lock);
                free(h);
                return r;
        }
        *ret_token = h;
        return r;
}

static void main_thaw(void *userdata, void *token)
{
        struct main_hold *h = token;
        (void)userdata;
        node_thaw(h->fd);
        vlock_release(h->lock);
        free(h);
}

static int main_health(void *userdata, const char *volume_id, char *why, size_t why_size)
{
        struct silo *silo = userdata;
        return node_health(silo->node, volume_id, why, why_size);
}

static struct quiesce_hook main_hook = {
    .freeze = main_freeze, .thaw = main_thaw, .health = main_health};

/* Inline ephemeral volumes: the node makes them through the controller of this process. */
static int main_ephemeral_create(void *ctx, const char *id, uint64_t size,
                                 enum store_provisioning prov, const char *fs_type,
                                 bool *ret_created)
{
        return volumes_create_ephemeral(ctx, id, size, prov, fs_type, ret_created);
}

static int main_ephemeral_remove(void *ctx, const char *id)
{
        return volumes_delete(ctx, id);
}

static struct node_volume_ops main_ephemeral_ops = {
    .create = main_ephemeral_create,
    .remove = main_ephemeral_remove,
    .why = controller_why,
    .why_clear = controller_why_clear,
};

static void main_collect_health(struct promtext *w, void *userdata)
{
        uint64_t n = node_count_abnormal(userdata);
        promtext_family(w, "silo_volumes_abnormal", "gauge",
                        "Volumes whose condition is abnormal: filesystem errors where staged on "
                        "this node, a repair at stage, or holes the pool can no longer back.");
        promtext_sample_u64(w, "silo_volumes_abnormal", NULL, n);
}

static void main_log_node_failure(int r)
{
        char why[512];
        err_format(why, sizeof(why), r, node_why());
        log_error("msg='node startup failed: %s'", why);
}

/* Scans the pool and reconciles the node; Probe reports ready only afterwards. */
static int main_startup(struct silo *silo)
{
        const struct config *cfg = silo->cfg;
        testhook_startup();
        int r;
        if (main_serves_controller(cfg)) {
                r = controller_new(cfg, &silo->controller);
                if (r < 0) {
                        char why[512];
                        err_format(why, sizeof(why), r, controller_why());
                        log_error("msg='cannot open the pool: %s' pool='%s'", why, cfg->pool);
                        return r;
                }
        }
        if (main_serves_node(cfg)) {
                r = node_new(cfg, &silo->node);
                if (r >= 0)
                        r = node_reconcile(silo->node);
                if (r < 0) {
                        main_log_node_failure(r);
                        return r;
                }
                log_info("msg='node reconciled' detached=%d pool='%s'", r, cfg->pool);
        }
        if (silo->node && metrics_add_collector(main_collect_health, silo->node) < 0)
                log_warn("msg='cannot register the volume health metrics'");
        if (silo->controller && silo->node) {
                main_hook.userdata = silo;
                quiesce_set_hook(silo->controller, &main_hook);
        }
        /* Only where the pool is this node's alone: the volumes are made here, and a restart
         * removes those no pod uses. */
        if (silo->node && silo->controller && cfg->scope == CONFIG_SCOPE_NODE) {
                main_ephemeral_ops.ctx = silo->controller;
                r = node_ephemeral_enable(silo->node, &main_ephemeral_ops, cfg->driver_name);
                if (r < 0) {
                        main_log_node_failure(r);
                        return r;
                }
        }
        return 0;
}

static void main_shutdown(struct silo *silo)
{
        if (silo->node)
                metrics_remove_collector(main_collect_health, silo->node);
        node_free(silo->node);
        controller_free(silo->controller);
        silo->node = NULL;
        silo->controller = NULL;
}

/* Every fd silo may hold is bounded by its own limits (connections, workers), so the soft
 * open-file limit only stands in the way: the hard one is the real ceiling. */
static void main_raise_fd_limit(void)
{
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= rl.rlim_max)
                return;
        unsigned long long was = rl.rlim_cur;
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
                log_warn("msg='cannot raise the open-file limit from %llu: %s'", was,
                         strerror(errno));
        else
                log_debug("msg='raised the open-file limit' from=%llu to=%llu", was,
                          (unsigned long long)rl.rlim_max);
}

static int main_wait_for_signal(void)
{
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGINT);
        int sig = 0;
        sigwait(&set, &sig);
        return sig;
}

static void main_block_signals(void)
{
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGPIPE);
        /* Before any thread exists, so every thread inherits the mask. */
        pthread_sigmask(SIG_BLOCK, &set, NULL);
}

static int main_serve(const struct config *cfg)
{
        struct silo silo = {.cfg = cfg, .plugin_caps = main_plugin_caps(cfg)};
        int r = vlock_table_new(&silo.locks);
        if (r < 0)
                return r;
        const struct rpc_service *services[8];
        size_t n = main_services(cfg, services);
        struct rpc_server_opts opts = {
            .endpoint = cfg->endpoint,
            .workers = cfg->max_concurrent,
            .max_queued = cfg->max_queued,
            .timeout_ms = cfg->timeout_ms,
            .drain_ms = cfg->drain_ms,
            .max_message_bytes = MAIN_MAX_MESSAGE_BYTES,
            .max_connections = cfg->max_connections,
        };
        struct rpc_server *srv = NULL;
        struct metrics *metrics = NULL;
        struct preflight pre = {.pool_lock_fd = -1};
        r = preflight_run(cfg, &pre);
        if (r < 0)
                goto out;
        rpc_set_observer(metrics_observe);
        testhook_install();
        r = rpc_server_start(&opts, &silo, services, n, &srv);
        if (r < 0)
                goto out;
        r = metrics_start(cfg->metrics_address, &silo, srv, &metrics);
        if (r < 0)
                goto out_stop;
        log_info("msg='listening; scanning the pool' endpoint='%s' version='%s' driver='%s' "
                 "node='%s' mode=%s",
                 cfg->endpoint, identity_version(), cfg->driver_name, cfg->node_id,
                 config_mode_name(cfg->mode));
        r = main_startup(&silo);
        if (r == 0) {
                /* Logged first: whoever sees Probe say ready finds the line. */
                log_info("msg='serving' endpoint='%s'", cfg->endpoint);
                atomic_store(&silo.ready, true);
                int sig = main_wait_for_signal();
                log_info("msg='shutting down' signal=%s", strsignal(sig));
        }
        metrics_stop(metrics);
out_stop:
        if (rpc_server_stop(srv) < 0)
                return MAIN_ABANDONED; /* workers still use silo: no freeing under them */
        main_shutdown(&silo);
out:
        preflight_release(&pre);
        vlock_table_free(silo.locks);
        return r;
}

int main(int argc, char **argv)
{
        struct config cfg;
        int r = config_parse(argc, argv, &cfg);
        if (r == CONFIG_EXIT)
                return 0;
        if (r < 0)
                return 2;
        log_set_level(cfg.log_level);
        /* Worker threads would each keep a malloc arena of what they freed; two suffice. */
        mallopt(M_ARENA_MAX, 2);
        main_block_signals();
        main_raise_fd_limit();
        r = main_serve(&cfg);
        /* Skips atexit handlers and library destructors, which running workers may still
         * need; the kernel releases the rest. */
        if (r == MAIN_ABANDONED)
                _exit(1);
        config_release(&cfg);
        return r < 0 ? 1 : 0;
}
