#include "node/node.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "common/path.h"
#include "common/cleanup.h"

static _Thread_local char node_why_buf[NODE_WHY_MAX];

void node_why_set(const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(node_why_buf, sizeof(node_why_buf), fmt, ap); /* NOLINT: clang 14 va_list */
        va_end(ap);
}

const char *node_why(void)
{
        return node_why_buf;
}

int node_mount_flags(const struct node_cap *cap, struct mntflags *ret)
{
        char why[NODE_WHY_MAX];
        int r = mntflags_parse(cap->mount_flags, cap->n_mount_flags, ret, why, sizeof(why));

        return r < 0 ? node_fail(r, "%s", why) : 0;
}

void node_why_clear(void)
{
        node_why_buf[0] = '\0';
}

/* Replaces the configured kubelet dir prefix of *p by its real path. */
static int node_path_resolve_prefix(const struct node *n, char **p)
{
        size_t len = strlen(n->kubelet_dir);
        char *real;

        if (strcmp(n->kubelet_dir, n->kubelet_real) == 0)
                return 0;
        if (asprintf(&real, "%s%s", n->kubelet_real, *p + len) < 0)
                return -ENOMEM;
        free(*p);
        *p = real;
        return 0;
}

static int node_path_at(const struct node *n, const char *what, const char *path, bool resolve,
                        char **ret)
{
        char why[NODE_WHY_MAX - 64] = "";
        char *p = NULL;
        int r = resolve ? path_check(path, n->kubelet_dir, n->pool, why, sizeof(why), &p)
                        : path_check_name(path, n->kubelet_dir, n->pool, why, sizeof(why), &p);

        if (r < 0 || !p)
                return node_fail(r < 0 ? r : -EINVAL, "invalid %s: %s", what,
                                 why[0] ? why : "cannot check it");
        r = node_path_resolve_prefix(n, &p);
        if (r < 0) {
                free(p);
                return r;
        }
        *ret = p;
        return 0;
}

int node_path(const struct node *n, const char *what, const char *path, char **ret)
{
        return node_path_at(n, what, path, true, ret);
}

int node_path_name(const struct node *n, const char *what, const char *path, char **ret)
{
        return node_path_at(n, what, path, false, ret);
}

static int node_init(struct node *n, const struct config *cfg)
{
        struct stat st;

        n->pool = realpath(cfg->pool, NULL);
        if (!n->pool || stat(n->pool, &st) < 0)
                return neg_errno();
        n->pool_dev = st.st_dev;
        n->pool_ino = st.st_ino;
        if (asprintf(&n->volumes_dir, "%s/volumes", n->pool) < 0)
                return -ENOMEM;
        if (path_normalise(cfg->kubelet_dir, &n->kubelet_dir) < 0)
                return -EINVAL;
        n->kubelet_real = realpath(n->kubelet_dir, NULL);
        if (!n->kubelet_real)
                return neg_errno();
        n->kubelet_fd = open(n->kubelet_real, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (n->kubelet_fd < 0)
                return neg_errno();
        n->node_id = strdup(cfg->node_id);
        if (!n->node_id)
                return -ENOMEM;
        if (known_new(&n->known) < 0)
                return -ENOMEM;
        n->scope = cfg->scope;
        n->overcommit_ratio = cfg->overcommit_ratio > 0 ? cfg->overcommit_ratio : 1.0;
        pthread_mutex_init(&n->space_lock, NULL);
        n->max_volumes_per_node = cfg->max_volumes_per_node;
        return 0;
}

int node_new(const struct config *cfg, struct node **ret)
{
        struct node *n = calloc(1, sizeof(*n));
        int r;

        if (!n)
                return -ENOMEM;
        n->kubelet_fd = -1;
        r = node_init(n, cfg);
        if (r == 0 && n->scope == CONFIG_SCOPE_SHARED)
                r = store_node_register(n->pool, n->node_id);
        if (r < 0) {
                node_free(n);
                return r;
        }
        *ret = n;
        return 0;
}

void node_free(struct node *n)
{
        if (!n)
                return;
        free(n->pool);
        free(n->volumes_dir);
        free(n->kubelet_dir);
        free(n->kubelet_real);
        if (n->kubelet_fd >= 0)
                close(n->kubelet_fd);
        free(n->node_id);
        known_free(n->known);
        pthread_mutex_destroy(&n->space_lock);
        free(n->ephemeral_dir);
        free(n);
}
