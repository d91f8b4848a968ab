#include "common/store/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/err.h"
#include "common/fileio.h"
#include "common/store/store-format.h"
#include "common/cleanup.h"

int store_init(const char *pool)
{
        for (enum store_kind k = STORE_VOLUMES; k <= STORE_NODES; k++) {
                _cleanup_free_ char *dir = NULL;
                int r = store_dir(pool, k, &dir);
                if (r < 0)
                        return r;
                if (mkdir(dir, 0750) < 0 && errno != EEXIST)
                        return neg_errno();
        }
        return fileio_fsync_dir(pool);
}

static int store_id_cmp(const void *a, const void *b)
{
        return strcmp(a, b);
}

/* Appends the id of "<id>.meta" to the growing array. */
static int store_list_add(const char *name, store_id_t **ids, size_t *n, size_t *cap)
{
        size_t len = strlen(name);
        if (len <= 5 || strcmp(name + len - 5, ".meta") != 0 || len - 5 > STORE_ID_MAX)
                return 0;
        if (*n == *cap) {
                size_t ncap = *cap ? *cap * 2 : 64;
                store_id_t *a = realloc(*ids, ncap * sizeof(store_id_t));
                if (!a)
                        return -ENOMEM;
                *ids = a;
                *cap = ncap;
        }
        memcpy((*ids)[*n], name, len - 5);
        (*ids)[*n][len - 5] = '\0';
        if (id_is_valid((*ids)[*n]))
                (*n)++;
        return 0;
}

int store_list_ids(const char *pool, enum store_kind kind, store_id_t **ret, size_t *ret_n)
{
        _cleanup_free_ char *dir = NULL;
        int r = store_dir(pool, kind, &dir);
        if (r < 0)
                return r;
        DIR *d = opendir(dir);
        if (!d)
                return neg_errno();
        store_id_t *ids = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;
        while (r >= 0 && (de = readdir(d)))
                r = store_list_add(de->d_name, &ids, &n, &cap);
        closedir(d);
        if (r < 0) {
                free(ids);
                return r;
        }
        if (n > 0)
                qsort(ids, n, sizeof(store_id_t), store_id_cmp);
        *ret = ids;
        *ret_n = n;
        return 0;
}

int store_node_register(const char *pool, const char *node_id)
{
        if (!id_node_is_valid(node_id))
                return -SILO_EINVALID;
        int r = store_init(pool);
        if (r < 0)
                return r;
        _cleanup_free_ char *dir = NULL;
        _cleanup_free_ char *buf = NULL;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        if (store_dir(pool, STORE_NODES, &dir) < 0 ||
            asprintf(&buf, "node_id=%s\nregistered_s=%lld\n", node_id, (long long)ts.tv_sec) < 0)
                return -ENOMEM;
        return fileio_write_atomic(dir, node_id, buf, strlen(buf));
}

bool store_node_is_known(const char *pool, const char *node_id)
{
        if (!id_node_is_valid(node_id))
                return false;
        _cleanup_free_ char *path = NULL;
        if (store_path(pool, STORE_NODES, node_id, "", &path) < 0)
                return false;
        return access(path, F_OK) == 0;
}
