#include "common/server/workq.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/cleanup.h"

/* Items are kept on one of two lists: waiting (FIFO) or running. The timer thread scans both;
 * their length is bounded by workers + max_queued, so a scan is cheap. */
struct workq_list {
        struct workq_item *head, *tail;
        unsigned count;
};

struct workq {
        pthread_mutex_t mu;
        pthread_cond_t work_cv;  /* workers: an item is waiting, or stop */
        pthread_cond_t timer_cv; /* timer: deadlines changed, or stop */
        pthread_cond_t idle_cv;  /* drain: something finished */
        struct workq_list waiting, running;
        unsigned finishing; /* items in their done callback: drain waits for them too */
        unsigned max_queued, n_workers;
        bool draining, stopping;
        uint64_t timer_until_ms; /* the timer sleeps until; 0: no deadline; UINT64_MAX: awake */
        pthread_t timer;
        pthread_t *workers;
};

uint64_t workq_now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t workq_now_ms(void)
{
        return workq_now_ns() / 1000000;
}

void workq_abstime(uint64_t ms, struct timespec *ret)
{
        clock_gettime(CLOCK_REALTIME, ret);
        ret->tv_sec += (time_t)(ms / 1000);
        ret->tv_nsec += (long)(ms % 1000) * 1000000L;
        if (ret->tv_nsec >= 1000000000L) {
                ret->tv_sec++;
                ret->tv_nsec -= 1000000000L;
        }
}

static void list_append(struct workq_list *l, struct workq_item *it)
{
        it->next = NULL;
        it->prev = l->tail;
        if (l->tail)
                l->tail->next = it;
        else
                l->head = it;
        l->tail = it;
        l->count++;
}

static void list_remove(struct workq_list *l, struct workq_item *it)
{
        if (it->prev)
                it->prev->next = it->next;
        else
                l->head = it->next;
        if (it->next)
                it->next->prev = it->prev;
        else
                l->tail = it->prev;
        it->next = it->prev = NULL;
        l->count--;
}

/* Fds a handler gave up whose last close may be slow (an unlinked directory's inode is freed
 * then: 0.2-0.8 ms on ext4): closed after the item's done callback has sent its answer. */
#define WORKQ_DEFER_MAX 8
static _Thread_local int workq_deferred[WORKQ_DEFER_MAX];
static _Thread_local unsigned workq_n_deferred;
static _Thread_local bool workq_on_worker;

void workq_defer_close(int fd)
{
        if (fd < 0)
                return;
        if (!workq_on_worker || workq_n_deferred == WORKQ_DEFER_MAX) {
                close(fd);
                return;
        }
        workq_deferred[workq_n_deferred++] = fd;
}

static void workq_close_deferred(void)
{
        while (workq_n_deferred > 0)
                close(workq_deferred[--workq_n_deferred]);
}

/* Called with mu held; waits until a concurrent expire callback has returned. */
static void workq_settle_locked(struct workq *q, struct workq_item *it)
{
        while (it->expiring)
                pthread_cond_wait(&q->idle_cv, &q->mu);
}

static void workq_finish(struct workq *q, struct workq_item *it, struct workq_list *from)
{
        pthread_mutex_lock(&q->mu);
        workq_settle_locked(q, it);
        list_remove(from, it);
        q->finishing++;
        pthread_mutex_unlock(&q->mu);
        it->ops->done(it); /* may free it */
        workq_close_deferred();
        pthread_mutex_lock(&q->mu);
        q->finishing--;
        pthread_cond_broadcast(&q->idle_cv);
        pthread_mutex_unlock(&q->mu);
}

/* Under ASan the heap is ASan's: glibc's allocator is never set up, and concurrent
 * malloc_trim() calls race its initialisation (an assertion in glibc at thread exit). */
#ifdef __SANITIZE_ADDRESS__
static void workq_trim(void)
{
}
#else
static void workq_trim(void)
{
        malloc_trim(0);
}
#endif

static void *workq_worker(void *arg)
{
        struct workq *q = arg;
        bool worked = false;
        workq_on_worker = true;
        pthread_mutex_lock(&q->mu);
        for (;;) {
                if (worked && !q->waiting.head && q->running.count == 0 && !q->stopping) {
                        /* The last busy worker going idle hands freed memory back. */
                        pthread_mutex_unlock(&q->mu);
                        workq_trim();
                        pthread_mutex_lock(&q->mu);
                }
                worked = true;
                while (!q->waiting.head && !q->stopping)
                        pthread_cond_wait(&q->work_cv, &q->mu);
                if (!q->waiting.head)
                        break;
                struct workq_item *it = q->waiting.head;
                list_remove(&q->waiting, it);
                bool skip = it->expired || it->expiring;
                list_append(&q->running, it);
                it->started = !skip;
                pthread_mutex_unlock(&q->mu);
                if (!skip)
                        it->ops->run(it);
                workq_finish(q, it, &q->running);
                pthread_mutex_lock(&q->mu);
        }
        pthread_mutex_unlock(&q->mu);
        return NULL;
}

/* Returns the first item past its deadline, marked expiring, or NULL with *ret_next_ms the
 * earliest deadline still ahead (0 when none). */
static struct workq_item *workq_due_locked(struct workq *q, uint64_t now, uint64_t *ret_next_ms)
{
        uint64_t next = 0;
        struct workq_list *lists[] = {&q->waiting, &q->running};
        for (size_t i = 0; i < ARRAY_SIZE(lists); i++) {
                for (struct workq_item *it = lists[i]->head; it; it = it->next) {
                        if (it->expired || it->deadline_ms == 0)
                                continue;
                        if (it->deadline_ms <= now) {
                                it->expired = it->expiring = true;
                                return it;
                        }
                        if (next == 0 || it->deadline_ms < next)
                                next = it->deadline_ms;
                }
        }
        *ret_next_ms = next;
        return NULL;
}

static void workq_timer_wait_locked(struct workq *q, uint64_t until_ms)
{
        q->timer_until_ms = until_ms;
        if (until_ms == 0) {
                pthread_cond_wait(&q->timer_cv, &q->mu);
        } else {
                struct timespec ts = {(time_t)(until_ms / 1000),
                                      (long)(until_ms % 1000) * 1000000L};
                pthread_cond_timedwait(&q->timer_cv, &q->mu, &ts);
        }
        q->timer_until_ms = UINT64_MAX;
}

static void *workq_timer(void *arg)
{
        struct workq *q = arg;
        pthread_mutex_lock(&q->mu);
        while (!q->stopping) {
                uint64_t next;
                struct workq_item *it = workq_due_locked(q, workq_now_ms(), &next);
                if (!it) {
                        workq_timer_wait_locked(q, next);
                        continue;
                }
                pthread_mutex_unlock(&q->mu);
                it->ops->expire(it);
                pthread_mutex_lock(&q->mu);
                it->expiring = false;
                pthread_cond_broadcast(&q->idle_cv);
        }
        pthread_mutex_unlock(&q->mu);
        return NULL;
}

static int workq_start_threads(struct workq *q)
{
        int r = pthread_create(&q->timer, NULL, workq_timer, q);
        if (r != 0)
                return -r;
        for (unsigned i = 0; i < q->n_workers; i++) {
                r = pthread_create(&q->workers[i], NULL, workq_worker, q);
                if (r != 0) {
                        q->n_workers = i;
                        return -r;
                }
        }
        return 0;
}

int workq_new(unsigned workers, unsigned max_queued, struct workq **ret)
{
        struct workq *q = calloc(1, sizeof(*q));
        if (!q)
                return -ENOMEM;
        q->workers = calloc(workers, sizeof(*q->workers));
        if (!q->workers) {
                free(q);
                return -ENOMEM;
        }
        q->n_workers = workers;
        q->timer_until_ms = UINT64_MAX;
        q->max_queued = max_queued;
        pthread_mutex_init(&q->mu, NULL);
        pthread_cond_init(&q->work_cv, NULL);
        pthread_cond_init(&q->idle_cv, NULL);
        pthread_condattr_t attr;
        pthread_condattr_init(&attr);
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        pthread_cond_init(&q->timer_cv, &attr);
        pthread_condattr_destroy(&attr);

        int r = workq_start_threads(q);
        if (r < 0) {
                workq_free(q);
                return r;
        }
        *ret = q;
        return 0;
}

int workq_push(struct workq *q, struct workq_item *it)
{
        pthread_mutex_lock(&q->mu);
        unsigned idle = q->n_workers - q->running.count;
        if (q->draining || q->waiting.count >= q->max_queued + idle) {
                pthread_mutex_unlock(&q->mu);
                return -SILO_EOVERLOAD;
        }
        it->expired = it->expiring = it->started = false;
        list_append(&q->waiting, it);
        pthread_cond_signal(&q->work_cv);
        /* The timer needs waking only to sleep less (awake, it scans again before it
         * sleeps): a wake-up per call cost a context switch on every call's path. */
        if (it->deadline_ms && q->timer_until_ms != UINT64_MAX &&
            (q->timer_until_ms == 0 || it->deadline_ms < q->timer_until_ms))
                pthread_cond_signal(&q->timer_cv);
        pthread_mutex_unlock(&q->mu);
        return 0;
}

int workq_drain(struct workq *q, uint64_t timeout_ms)
{
        uint64_t until = workq_now_ms() + timeout_ms;
        pthread_mutex_lock(&q->mu);
        q->draining = true;
        int r = 0;
        while (q->waiting.count + q->running.count + q->finishing > 0) {
                uint64_t now = workq_now_ms();
                if (now >= until) {
                        r = -ETIMEDOUT;
                        break;
                }
                struct timespec ts;
                workq_abstime(until - now, &ts);
                pthread_cond_timedwait(&q->idle_cv, &q->mu, &ts);
        }
        pthread_mutex_unlock(&q->mu);
        return r;
}

void workq_free(struct workq *q)
{
        if (!q)
                return;
        pthread_mutex_lock(&q->mu);
        q->stopping = true;
        pthread_cond_broadcast(&q->work_cv);
        pthread_cond_broadcast(&q->timer_cv);
        pthread_mutex_unlock(&q->mu);
        for (unsigned i = 0; i < q->n_workers; i++)
                pthread_join(q->workers[i], NULL);
        if (q->timer)
                pthread_join(q->timer, NULL);
        pthread_mutex_destroy(&q->mu);
        pthread_cond_destroy(&q->work_cv);
        pthread_cond_destroy(&q->timer_cv);
        pthread_cond_destroy(&q->idle_cv);
        free(q->workers);
        free(q);
}

void workq_stats(struct workq *q, unsigned *ret_running, unsigned *ret_queued)
{
        pthread_mutex_lock(&q->mu);
        *ret_running = q->running.count;
        *ret_queued = q->waiting.count;
        pthread_mutex_unlock(&q->mu);
}
