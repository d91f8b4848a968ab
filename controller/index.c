/* The in-memory view of the volumes of a node-scoped pool: every volume's metadata, sorted
 * by ID, so that listings and per-node counts never read the pool. Built by one scan at
 * startup and kept current by index_put()/index_drop(), which the pool layer (pool-volume.c)
 * calls after every metadata change of this process. Inline ephemeral volumes are in it
 * (their unbacked bytes count) but never listed. A shared pool has no index (other instances
 * change it): there the pool itself is read.
 *
 * The array holds pointers to heap entries: an insert or delete in the middle moves 8-byte
 * pointers, not 336-byte structs, which kept creates at 10,000 volumes from scaling. */
#include "controller/controller.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/err.h"
#include "common/log.h"
#include "common/cleanup.h"

void volumes_list_free(struct store_volume *v, size_t n)
{
        for (size_t i = 0; v && i < n; i++)
                store_volume_release(&v[i]);
        free(v);
}

/* v first: an entry is used as its volume. */
struct index_entry {
        struct store_volume v;
        uint64_t unbacked; /* the data file's unbacked bytes as last measured */
};

struct index {
        pthread_mutex_t lock;
        struct index_entry **vols; /* sorted by id; each entry its own allocation */
        size_t n, cap;
        int dir_fd;                   /* <pool>/volumes, for measuring data files */
        uint64_t unbacked;            /* sum of the entries' unbacked */
        char sweep[STORE_ID_MAX + 1]; /* the last entry index_unbacked_sweep() measured */
};

/* Unbacked bytes of "<id>.img"; 0 when it cannot be read (a missing file backs nothing). */
static uint64_t index_measure(const struct index *x, const char *id)
{
        char name[STORE_ID_MAX + 8];
        struct stat st;
        snprintf(name, sizeof(name), "%s.img", id);
        if (fstatat(x->dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
                return 0;
        uint64_t alloc = (uint64_t)st.st_blocks * 512;
        return (uint64_t)st.st_size > alloc ? (uint64_t)st.st_size - alloc : 0;
}

static int index_copy(const struct store_volume *v, struct store_volume *ret)
{
        struct store_volume c = *v;
        c.name = strdup(v->name ? v->name : "");
        c.published = v->n_published ? malloc(v->n_published * sizeof(*v->published)) : NULL;
        if (!c.name || (v->n_published && !c.published)) {
                store_volume_release(&c);
                return -ENOMEM;
        }
        if (v->n_published)
                memcpy(c.published, v->published, v->n_published * sizeof(*v->published));
        *ret = c;
        return 0;
}

/* Position of id, or where it would go. */
static size_t index_find(const struct index *x, const char *id, bool *found)
{
        size_t lo = 0, hi = x->n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int cmp = strcmp(x->vols[mid]->v.id, id);
                if (cmp == 0) {
                        *found = true;
                        return mid;
                }
                if (cmp < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        *found = false;
        return lo;
}

static int index_grow(struct index *x)
{
        if (x->n < x->cap)
                return 0;
        size_t ncap = x->cap ? x->cap * 2 : 256;
        struct index_entry **a = realloc(x->vols, ncap * sizeof(struct index_entry *));
        if (!a)
                return -ENOMEM;
        x->vols = a;
        x->cap = ncap;
        return 0;
}

static void index_entry_free(struct index_entry *e)
{
        if (!e)
                return;
        store_volume_release(&e->v);
        free(e);
}

/* A new entry is measured here; the create that made it has added the same unbacked bytes
 * to the pool's sum already (nothing writes a volume before it is committed). */
static int index_put_locked(struct index *x, const struct store_volume *v)
{
        bool found;
        size_t at = index_find(x, v->id, &found);
        int r = found ? 0 : index_grow(x);
        if (r < 0)
                return r;
        _cleanup_free_ struct index_entry *copy = malloc(sizeof(*copy));
        if (!copy)
                return -ENOMEM;
        r = index_copy(v, &copy->v);
        if (r < 0)
                return r;
        if (found) {
                copy->unbacked = x->vols[at]->unbacked;
                index_entry_free(x->vols[at]);
        } else {
                copy->unbacked = index_measure(x, v->id);
                x->unbacked += copy->unbacked;
                memmove(&x->vols[at + 1], &x->vols[at], (x->n - at) * sizeof(struct index_entry *));
                x->n++;
        }
        x->vols[at] = TAKE_PTR(copy);
        return 0;
}

void index_free(struct index *x)
{
        if (!x)
                return;
        for (size_t i = 0; i < x->n; i++)
                index_entry_free(x->vols[i]);
        free(x->vols);
        if (x->dir_fd >= 0)
                close(x->dir_fd);
        pthread_mutex_destroy(&x->lock);
        free(x);
}

/* The scan is sorted already, so each entry is appended. */
static int index_load(struct index *x, const char *pool)
{
        store_id_t *ids = NULL;
        size_t n = 0;
        int r = store_list_ids(pool, STORE_VOLUMES, &ids, &n);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                _cleanup_free_ struct index_entry *e = calloc(1, sizeof(*e));
                if (!e) {
                        r = -ENOMEM;
                        break;
                }
                int lr = store_volume_load(pool, ids[i], &e->v);
                if (lr < 0) {
                        log_warn("msg='cannot read volume metadata' volume_id='%s' errno=%d",
                                 ids[i], -lr);
                        continue;
                }
                e->unbacked = index_measure(x, ids[i]);
                r = index_grow(x);
                if (r >= 0) {
                        x->unbacked += e->unbacked;
                        x->vols[x->n++] = TAKE_PTR(e);
                } else {
                        store_volume_release(&e->v);
                }
        }
        free(ids);
        return r;
}

int index_new(const char *pool, struct index **ret)
{
        _cleanup_free_ char *dir = NULL;
        struct index *x = calloc(1, sizeof(*x));
        if (!x)
                return -ENOMEM;
        pthread_mutex_init(&x->lock, NULL);
        int r = store_dir(pool, STORE_VOLUMES, &dir);
        x->dir_fd = r < 0 ? -1 : open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (r >= 0 && x->dir_fd < 0)
                r = neg_errno();
        if (r >= 0)
                r = index_load(x, pool);
        if (r < 0) {
                index_free(x);
                return r;
        }
        *ret = x;
        return 0;
}

int index_put(struct controller *c, const struct store_volume *v)
{
        if (!c->index)
                return 0;
        pthread_mutex_lock(&c->index->lock);
        int r = index_put_locked(c->index, v);
        pthread_mutex_unlock(&c->index->lock);
        return r;
}

void index_drop(struct controller *c, const char *id, uint64_t *ret_unbacked)
{
        if (!c->index)
                return;
        struct index *x = c->index;
        pthread_mutex_lock(&x->lock);
        bool found;
        size_t at = index_find(x, id, &found);
        if (found) {
                x->unbacked -= x->vols[at]->unbacked;
                if (ret_unbacked)
                        *ret_unbacked = x->vols[at]->unbacked;
                index_entry_free(x->vols[at]);
                memmove(&x->vols[at], &x->vols[at + 1],
                        (x->n - at - 1) * sizeof(struct index_entry *));
                x->n--;
        }
        pthread_mutex_unlock(&x->lock);
}

/* Measures entry e again: the change since its last measurement. */
static int64_t index_remeasure_locked(struct index *x, struct index_entry *e)
{
        uint64_t now = index_measure(x, e->v.id);
        int64_t delta = (int64_t)now - (int64_t)e->unbacked;
        e->unbacked = now;
        x->unbacked += (uint64_t)delta;
        return delta;
}

int64_t index_unbacked_remeasure(struct index *x, const char *id)
{
        pthread_mutex_lock(&x->lock);
        bool found;
        size_t at = index_find(x, id, &found);
        int64_t delta = found ? index_remeasure_locked(x, x->vols[at]) : 0;
        pthread_mutex_unlock(&x->lock);
        return delta;
}

int64_t index_unbacked_sweep(struct index *x, size_t max)
{
        int64_t delta = 0;
        pthread_mutex_lock(&x->lock);
        bool found;
        size_t at = x->sweep[0] ? index_find(x, x->sweep, &found) : 0;
        if (x->sweep[0] && found)
                at++;
        for (size_t i = 0; i < max && i < x->n; i++, at++) {
                if (at >= x->n)
                        at = 0;
                delta += index_remeasure_locked(x, x->vols[at]);
                memcpy(x->sweep, x->vols[at]->v.id, sizeof(x->sweep));
        }
        pthread_mutex_unlock(&x->lock);
        return delta;
}

uint64_t index_unbacked_total(struct index *x)
{
        pthread_mutex_lock(&x->lock);
        uint64_t v = x->unbacked;
        pthread_mutex_unlock(&x->lock);
        return v;
}

int index_page(struct index *x, const char *token, size_t limit, struct store_volume **ret,
               size_t *ret_n, char next_token[STORE_ID_MAX + 1])
{
        pthread_mutex_lock(&x->lock);
        bool found;
        size_t at = token && *token ? index_find(x, token, &found) : 0;
        if (token && *token && found)
                at++;
        size_t most = x->n - at < limit ? x->n - at : limit;
        struct store_volume *out = calloc(most + 1, sizeof(*out));
        int r = out ? 0 : -ENOMEM;
        size_t done = 0, i = at;
        for (; r >= 0 && i < x->n && done < limit; i++) {
                if (x->vols[i]->v.ephemeral) /* the node's inline volumes are not listed */
                        continue;
                r = index_copy(&x->vols[i]->v, &out[done]);
                done += r >= 0;
        }
        while (i < x->n && x->vols[i]->v.ephemeral)
                i++;
        next_token[0] = '\0';
        if (r >= 0 && i < x->n && done > 0)
                memcpy(next_token, out[done - 1].id, STORE_ID_MAX + 1);
        pthread_mutex_unlock(&x->lock);
        if (r < 0) {
                volumes_list_free(out, done);
                return r;
        }
        *ret = out;
        *ret_n = done;
        return 0;
}

uint64_t index_count_published(struct index *x, const char *node_id)
{
        uint64_t count = 0;
        pthread_mutex_lock(&x->lock);
        for (size_t i = 0; i < x->n; i++) {
                const struct store_volume *v = &x->vols[i]->v;
                for (size_t j = 0; j < v->n_published; j++)
                        count += strcmp(v->published[j].node_id, node_id) == 0;
        }
        pthread_mutex_unlock(&x->lock);
        return count;
}
