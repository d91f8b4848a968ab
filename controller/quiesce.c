#include "controller/quiesce.h"

#include <errno.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/log.h"
#include "common/server/testhook.h"

#define QUIESCE_WHY_MAX 256

struct quiesce_member {
        char id[STORE_ID_MAX + 1];
        void *token;       /* the hook's, while held */
        bool held;         /* thaw is still owed */
        bool frozen;       /* its filesystem was frozen */
        bool reflink_only; /* in use without a freeze: only a reflink is point-in-time */
        char why[QUIESCE_WHY_MAX];
};

struct quiesce {
        struct controller *c;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        pthread_t watchdog;
        bool watching;
        bool ending;
        bool expired; /* the watchdog thawed: copies after that are not point-in-time */
        uint64_t frozen_at_ms;
        size_t n;
        struct quiesce_member m[];
};

void quiesce_set_hook(struct controller *c, const struct quiesce_hook *hook)
{
        c->quiesce_hook = hook;
}

static uint64_t quiesce_now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Caller holds q->lock (or is the only thread that knows q). */
static void quiesce_thaw_locked(struct quiesce *q)
{
        const struct quiesce_hook *hook = q->c->quiesce_hook;
        for (size_t i = q->n; i > 0; i--) {
                struct quiesce_member *m = &q->m[i - 1];
                if (!m->held)
                        continue;
                hook->thaw(hook->userdata, m->token);
                m->held = false;
        }
}

static void *quiesce_watchdog_main(void *arg)
{
        struct quiesce *q = arg;
        uint64_t at = q->frozen_at_ms + q->c->freeze_max_ms;
        struct timespec ts = {.tv_sec = (time_t)(at / 1000),
                              .tv_nsec = (long)(at % 1000) * 1000000};
        pthread_mutex_lock(&q->lock);
        while (!q->ending) {
                if (pthread_cond_timedwait(&q->cond, &q->lock, &ts) != ETIMEDOUT)
                        continue;
                if (q->ending)
                        break;
                quiesce_thaw_locked(q);
                q->expired = true;
                /* copies still running are discarded by quiesce_copy */
                log_warn("msg='copy took longer than the freeze bound: thawed' volume_id='%s' "
                         "bound_ms=%llu",
                         q->m[0].id, (unsigned long long)q->c->freeze_max_ms);
                break;
        }
        pthread_mutex_unlock(&q->lock);
        return NULL;
}

static int quiesce_watch(struct quiesce *q)
{
        pthread_condattr_t attr;
        pthread_condattr_init(&attr);
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        int r = -pthread_cond_init(&q->cond, &attr);
        pthread_condattr_destroy(&attr);
        if (r < 0)
                return r;
        q->frozen_at_ms = quiesce_now_ms();
        r = -pthread_create(&q->watchdog, NULL, quiesce_watchdog_main, q);
        if (r < 0) {
                pthread_cond_destroy(&q->cond);
                return r;
        }
        q->watching = true;
        return 0;
}

/* A node other than ours writes through its own loop device: nothing here can freeze it. */
static const char *quiesce_other_node(const struct controller *c, const struct store_volume *v)
{
        for (size_t i = 0; i < v->n_published; i++)
                if (strcmp(v->published[i].node_id, c->node_id) != 0)
                        return v->published[i].node_id;
        return NULL;
}

/* Marks m reflink-only when something we did not freeze may write to v. */
static int quiesce_check_unfrozen(struct controller *c, const struct store_volume *v,
                                  struct quiesce_member *m)
{
        const char *other = quiesce_other_node(c, v);
        if (other) {
                m->reflink_only = true;
                snprintf(m->why, sizeof(m->why), "volume '%s' is published to node '%s'", v->id,
                         other);
                return 0;
        }
        if (m->frozen || m->reflink_only)
                return 0;
        _cleanup_free_ char *path = NULL;
        char dev[64];
        if (store_volume_data_path(c->pool, v->id, &path) < 0)
                return -ENOMEM;
        int r = inuse_loop_device(path, dev, sizeof(dev));
        if (r > 0) {
                m->reflink_only = true;
                snprintf(m->why, sizeof(m->why), "volume '%s' is in use by loop device '%s'", v->id,
                         dev);
        }
        return r < 0 ? r : 0;
}

static int quiesce_member_begin(struct controller *c, const struct store_volume *v,
                                struct quiesce_member *m)
{
        const struct quiesce_hook *hook = c->quiesce_hook;
        memcpy(m->id, v->id, sizeof(m->id));
        if (hook) {
                int r = hook->freeze(hook->userdata, v->id, &m->token, m->why, sizeof(m->why));
                m->held = r >= 0 || r == -SILO_EPRECOND;
                if (r == -SILO_EPRECOND)
                        m->reflink_only = true;
                else if (r < 0)
                        return controller_fail(r, "cannot freeze volume '%s': %s", v->id, m->why);
                m->frozen = r == 1;
                if (r == 1)
                        log_debug("msg='froze volume' volume_id='%s'", v->id);
        }
        return quiesce_check_unfrozen(c, v, m);
}

int quiesce_begin(struct controller *c, const struct store_volume *vols, size_t n,
                  struct quiesce **ret)
{
        struct quiesce *q = calloc(1, sizeof(*q) + n * sizeof(q->m[0]));
        if (!q)
                return -ENOMEM;
        q->c = c;
        q->n = n;
        pthread_mutex_init(&q->lock, NULL);
        int r = 0;
        bool any_frozen = false;
        for (size_t i = 0; i < n && r >= 0; i++) {
                r = quiesce_member_begin(c, &vols[i], &q->m[i]);
                any_frozen = any_frozen || q->m[i].frozen;
        }
        if (r >= 0 && any_frozen && c->freeze_max_ms)
                r = quiesce_watch(q);
        if (r < 0) {
                quiesce_end(q);
                return r;
        }
        if (any_frozen)
                testhook_pause_at("Frozen"); /* tests crash the daemon here */
        *ret = q;
        return 0;
}

static struct quiesce_member *quiesce_find(struct quiesce *q, const char *id)
{
        for (size_t i = 0; i < q->n; i++)
                if (strcmp(q->m[i].id, id) == 0)
                        return &q->m[i];
        return NULL;
}

static int quiesce_reflink(const struct quiesce_member *m, int src_fd, int dst_fd, uint64_t size)
{
        struct stat st;
        if (fstat(src_fd, &st) < 0)
                return neg_errno();
        if ((uint64_t)st.st_size == size && ioctl(dst_fd, FICLONE, src_fd) == 0)
                return 1;
        return controller_fail(-SILO_EPRECOND,
                               "%s and cannot be frozen from here; the pool has no reflink, so a "
                               "copy would be torn: unstage the volume first, or use a pool on a "
                               "reflink-capable filesystem (XFS with reflink, btrfs)",
                               m->why);
}

int quiesce_copy(struct quiesce *q, const char *volume_id, int src_fd, int dst_fd, uint64_t size)
{
        struct quiesce_member *m = q ? quiesce_find(q, volume_id) : NULL;
        if (!m)
                return pool_copy(src_fd, dst_fd, size);
        uint64_t start = quiesce_now_ms();
        bool was_frozen = m->frozen;
        int r = m->reflink_only ? quiesce_reflink(m, src_fd, dst_fd, size)
                                : pool_copy(src_fd, dst_fd, size);
        if (r < 0)
                return r; /* quiesce_end thaws */
        /* Every member was frozen before the first copy began, so a member copied can go:
         * the others still hold the same instant. */
        pthread_mutex_lock(&q->lock);
        bool expired = q->expired;
        if (m->held) {
                const struct quiesce_hook *hook = q->c->quiesce_hook;
                hook->thaw(hook->userdata, m->token);
                m->held = false;
        }
        pthread_mutex_unlock(&q->lock);
        if (expired)
                return controller_fail(-SILO_ETIMEOUT,
                                       "copying volume '%s' kept its filesystem frozen longer "
                                       "than --timeout (%llu ms): it was thawed and the copy "
                                       "discarded; a pool with reflink copies at once",
                                       volume_id, (unsigned long long)q->c->freeze_max_ms);
        log_debug("msg='copied' volume_id='%s' reflink=%d frozen=%d duration_ms=%llu", volume_id,
                  r == 1, was_frozen, (unsigned long long)(quiesce_now_ms() - start));
        return r;
}

void quiesce_end(struct quiesce *q)
{
        if (!q)
                return;
        pthread_mutex_lock(&q->lock);
        q->ending = true;
        quiesce_thaw_locked(q);
        if (q->watching)
                pthread_cond_signal(&q->cond);
        pthread_mutex_unlock(&q->lock);
        if (q->watching) {
                pthread_join(q->watchdog, NULL);
                pthread_cond_destroy(&q->cond);
        }
        if (q->frozen_at_ms)
                log_debug("msg='thawed' volume_id='%s' frozen_ms=%llu", q->m[0].id,
                          (unsigned long long)(quiesce_now_ms() - q->frozen_at_ms));
        pthread_mutex_destroy(&q->lock);
        free(q);
}
