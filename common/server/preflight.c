#include "common/server/preflight.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "common/store/store.h"
#include "common/cleanup.h"

/* Creates the pool directory when its parent exists: a missing parent more likely means a
 * mount that is not there yet than a directory to invent. */
static int preflight_create_pool(const char *pool)
{
        char parent[4096];
        snprintf(parent, sizeof(parent), "%s", pool);
        dirname(parent);
        struct stat st;
        if (stat(parent, &st) < 0) {
                int r = neg_errno();
                log_error("msg='pool directory does not exist and its parent cannot be used: %s: "
                          "create the pool directory or mount the pool there' pool='%s' "
                          "parent='%s'",
                          strerror(-r), pool, parent);
                return r;
        }
        if (mkdir(pool, 0750) < 0 && errno != EEXIST) {
                int r = neg_errno();
                log_error("msg='cannot create the pool directory: %s: create it, or let silo "
                          "write to its parent' pool='%s'",
                          strerror(-r), pool);
                return r;
        }
        log_info("msg='created the pool directory' pool='%s'", pool);
        return 0;
}

static int preflight_pool_dir(const char *pool)
{
        struct stat st;
        if (stat(pool, &st) < 0) {
                if (errno == ENOENT)
                        return preflight_create_pool(pool);
                int r = neg_errno();
                log_error("msg='cannot use the pool directory: %s: check --pool and its "
                          "permissions' pool='%s'",
                          strerror(-r), pool);
                return r;
        }
        if (!S_ISDIR(st.st_mode)) {
                log_error("msg='pool is not a directory: point --pool at a directory' pool='%s'",
                          pool);
                return -ENOTDIR;
        }
        return 0;
}

#define PREFLIGHT_OWNER_WAIT_MS 10000

/* One owner per node-scoped pool: two in-memory views of one pool drift apart. */
static int preflight_claim_pool(const struct config *cfg, struct preflight *p)
{
        bool node_scope = cfg->scope == CONFIG_SCOPE_NODE;
        char holder[200] = "";
        int r = store_owner_claim(cfg->pool, node_scope, holder, sizeof(holder));
        /* Killed while it started a helper, the previous owner leaves its claim with that
         * child until the child's exec: wait for that rather than refuse a restart. */
        if (r == -EWOULDBLOCK && node_scope && store_owner_is_gone(cfg->pool)) {
                log_info("msg='waiting for the pool: its previous owner is gone, a process it "
                         "started still holds its claim' previous='%s' pool='%s'",
                         holder, cfg->pool);
                r = store_owner_claim_wait(cfg->pool, PREFLIGHT_OWNER_WAIT_MS, holder,
                                           sizeof(holder));
        }
        if (r >= 0) {
                p->pool_lock_fd = r;
                return 0;
        }
        if (r == -EWOULDBLOCK && node_scope)
                log_error("msg='pool is in use by another silo (%s): a node-scoped pool has one "
                          "owner; stop the other instance or give this one its own --pool' "
                          "pool='%s'",
                          holder, cfg->pool);
        else if (r == -EWOULDBLOCK)
                log_error("msg='pool is owned by a node-scoped silo (%s): every instance on a "
                          "shared pool needs --pool-scope shared' pool='%s'",
                          holder, cfg->pool);
        else if (!node_scope && (r == -ENOLCK || r == -EOPNOTSUPP)) {
                /* Some NFS mounts have no locks: shared instances still work together. */
                log_warn("msg='cannot lock the shared pool: %s: a node-scoped instance on it "
                         "would not be kept out' pool='%s'",
                         strerror(-r), cfg->pool);
                return 0;
        } else
                log_error("msg='cannot create or lock owner.lock in the pool: %s: the pool "
                          "directory must be writable by silo (a read-write mount)' pool='%s'",
                          strerror(-r), cfg->pool);
        return r;
}

/* The node service resolves every staging and target path beneath it. */
static int preflight_kubelet_dir(const struct config *cfg)
{
        if (cfg->mode == CONFIG_MODE_CONTROLLER)
                return 0;
        struct stat st;
        int r = stat(cfg->kubelet_dir, &st) < 0 ? neg_errno() : 0;
        if (r == 0 && !S_ISDIR(st.st_mode))
                r = -ENOTDIR;
        if (r < 0)
                log_error("msg='cannot use the kubelet directory: %s: set --kubelet-dir to the "
                          "kubelet root directory (mounted into the pod at the same path)' "
                          "kubelet_dir='%s'",
                          strerror(-r), cfg->kubelet_dir);
        return r;
}

/* The socket's directory must exist: silo creates the socket, never the directory the kubelet
 * and the sidecars look in. */
static int preflight_endpoint_dir(const struct config *cfg)
{
        const char *ep = cfg->endpoint;
        if (strncmp(ep, "tcp://", 6) == 0)
                return 0;
        char dir[4096];
        snprintf(dir, sizeof(dir), "%s", strncmp(ep, "unix://", 7) == 0 ? ep + 7 : ep);
        dirname(dir);
        struct stat st;
        int r = stat(dir, &st) < 0 ? neg_errno() : 0;
        if (r == 0 && !S_ISDIR(st.st_mode))
                r = -ENOTDIR;
        if (r < 0)
                log_error("msg='cannot use the directory of the endpoint: %s: create it, or "
                          "mount the plugin directory there' endpoint='%s' directory='%s'",
                          strerror(-r), ep, dir);
        return r;
}

int preflight_run(const struct config *cfg, struct preflight *ret)
{
        struct preflight p = {.pool_lock_fd = -1};
        int r = preflight_endpoint_dir(cfg);
        if (r == 0)
                r = preflight_kubelet_dir(cfg);
        if (r == 0)
                r = preflight_pool_dir(cfg->pool);
        if (r == 0)
                r = preflight_claim_pool(cfg, &p);
        if (r < 0) {
                preflight_release(&p);
                return r;
        }
        *ret = p;
        return 0;
}

void preflight_release(struct preflight *p)
{
        if (p->pool_lock_fd >= 0)
                close(p->pool_lock_fd);
        p->pool_lock_fd = -1;
}
