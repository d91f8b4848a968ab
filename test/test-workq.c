#include <check.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/server/workq.h"
#include "common/cleanup.h"

/* A test item that blocks in run() until released. */
struct titem {
        struct workq_item item;
        pthread_mutex_t mu;
        pthread_cond_t cv;
        bool release, ran, expired, finished;
        uint64_t expired_at_ms;
        atomic_int done;
};

static void titem_run(struct workq_item *it)
{
        struct titem *t = (struct titem *)it;
        pthread_mutex_lock(&t->mu);
        t->ran = true;
        pthread_cond_broadcast(&t->cv);
        while (!t->release)
                pthread_cond_wait(&t->cv, &t->mu);
        pthread_mutex_unlock(&t->mu);
}

static void titem_expire(struct workq_item *it)
{
        struct titem *t = (struct titem *)it;
        pthread_mutex_lock(&t->mu);
        t->expired = true;
        t->expired_at_ms = workq_now_ms();
        pthread_cond_broadcast(&t->cv);
        pthread_mutex_unlock(&t->mu);
}

static void titem_done(struct workq_item *it)
{
        struct titem *t = (struct titem *)it;
        atomic_fetch_add(&t->done, 1);
        pthread_mutex_lock(&t->mu);
        t->finished = true;
        pthread_cond_broadcast(&t->cv);
        pthread_mutex_unlock(&t->mu);
}

static const struct workq_ops titem_ops = {titem_run, titem_expire, titem_done};

static void titem_init(struct titem *t, uint64_t deadline_ms)
{
        *t = (struct titem){.item = {.ops = &titem_ops, .deadline_ms = deadline_ms}};
        pthread_mutex_init(&t->mu, NULL);
        pthread_cond_init(&t->cv, NULL);
}

static void titem_wait(struct titem *t, bool *flag)
{
        pthread_mutex_lock(&t->mu);
        while (!*flag)
                pthread_cond_wait(&t->cv, &t->mu);
        pthread_mutex_unlock(&t->mu);
}

static void titem_release(struct titem *t)
{
        pthread_mutex_lock(&t->mu);
        t->release = true;
        pthread_cond_broadcast(&t->cv);
        pthread_mutex_unlock(&t->mu);
}

START_TEST(bounded_queue_overloads)
{
        struct workq *q;
        ck_assert_int_eq(workq_new(2, 1, &q), 0);
        struct titem t[4];
        for (int i = 0; i < 4; i++)
                titem_init(&t[i], 0);
        ck_assert_int_eq(workq_push(q, &t[0].item), 0);
        ck_assert_int_eq(workq_push(q, &t[1].item), 0);
        titem_wait(&t[0], &t[0].ran);
        titem_wait(&t[1], &t[1].ran);
        ck_assert_int_eq(workq_push(q, &t[2].item), 0);
        ck_assert_int_eq(workq_push(q, &t[3].item), -SILO_EOVERLOAD);
        unsigned running, queued;
        workq_stats(q, &running, &queued);
        ck_assert_uint_eq(running, 2);
        ck_assert_uint_eq(queued, 1);
        for (int i = 0; i < 3; i++)
                titem_release(&t[i]);
        ck_assert_int_eq(workq_drain(q, 10000), 0);
        for (int i = 0; i < 3; i++)
                ck_assert_int_eq(atomic_load(&t[i].done), 1);
        ck_assert_int_eq(atomic_load(&t[3].done), 0);
        workq_free(q);
}
END_TEST

/* Waits until t ran or was done without running; returns whether it ran. */
static bool titem_wait_started(struct titem *t)
{
        pthread_mutex_lock(&t->mu);
        while (!t->ran && !t->finished)
                pthread_cond_wait(&t->cv, &t->mu);
        bool ran = t->ran;
        pthread_mutex_unlock(&t->mu);
        return ran;
}

/* The deadline answers for a running item without interrupting it, never before the deadline;
 * a waiting item that expires is never run. */
START_TEST(expiry_does_not_interrupt)
{
        struct workq *q;
        ck_assert_int_eq(workq_new(1, 4, &q), 0);
        struct titem tries[11], *slow = NULL, waiting;
        /* The worker must start slow before its deadline: on a machine too loaded for that it
         * expires waiting and is done unrun, and the next try gets twice as long. */
        uint64_t ms = 100;
        for (size_t i = 0; !slow; i++, ms *= 2) {
                ck_assert_uint_lt(i, ARRAY_SIZE(tries));
                titem_init(&tries[i], workq_now_ms() + ms);
                ck_assert_int_eq(workq_push(q, &tries[i].item), 0);
                if (titem_wait_started(&tries[i]))
                        slow = &tries[i];
                else
                        ck_assert(tries[i].expired);
        }
        /* slow holds the only worker: waiting expires in the queue. */
        titem_init(&waiting, workq_now_ms() + 50);
        ck_assert_int_eq(workq_push(q, &waiting.item), 0);
        titem_wait(slow, &slow->expired);
        titem_wait(&waiting, &waiting.expired);
        ck_assert_uint_ge(slow->expired_at_ms, slow->item.deadline_ms);
        ck_assert_uint_ge(waiting.expired_at_ms, waiting.item.deadline_ms);
        ck_assert_int_eq(atomic_load(&slow->done), 0);
        titem_release(slow);
        ck_assert_int_eq(workq_drain(q, 10000), 0);
        ck_assert_int_eq(atomic_load(&slow->done), 1);
        ck_assert_int_eq(atomic_load(&waiting.done), 1);
        ck_assert(!waiting.ran);
        workq_free(q);
}
END_TEST

START_TEST(drain_refuses_new_work_and_times_out)
{
        struct workq *q;
        ck_assert_int_eq(workq_new(1, 4, &q), 0);
        struct titem t, late;
        titem_init(&t, 0);
        titem_init(&late, 0);
        ck_assert_int_eq(workq_push(q, &t.item), 0);
        titem_wait(&t, &t.ran);
        /* Never before the bound: test-shutdown's exit times rely on it. */
        for (int i = 0; i < 10; i++) {
                uint64_t t0 = workq_now_ns();
                ck_assert_int_eq(workq_drain(q, 5), -ETIMEDOUT);
                ck_assert_uint_ge(workq_now_ns() - t0, 5 * 1000000);
        }
        ck_assert_int_eq(workq_push(q, &late.item), -SILO_EOVERLOAD);
        titem_release(&t);
        ck_assert_int_eq(workq_drain(q, 10000), 0);
        workq_free(q);
}
END_TEST

/* A done callback that waits for the test: it says it runs, and returns when told. */
static pthread_mutex_t slow_done_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t slow_done_cv = PTHREAD_COND_INITIALIZER;
static bool slow_done_running, slow_done_go, slow_done_returned;

static void slow_done(struct workq_item *it)
{
        (void)it;
        pthread_mutex_lock(&slow_done_mu);
        slow_done_running = true;
        pthread_cond_broadcast(&slow_done_cv);
        while (!slow_done_go)
                pthread_cond_wait(&slow_done_cv, &slow_done_mu);
        slow_done_returned = true;
        pthread_mutex_unlock(&slow_done_mu);
}

static void noop(struct workq_item *it)
{
        (void)it;
}

/* A done callback still running counts as work: its owner may free what done uses as soon as
 * drain returns (the server core destroys its completion queue). */
START_TEST(drain_waits_for_done_to_return)
{
        static const struct workq_ops ops = {noop, noop, slow_done};
        struct workq *q;
        ck_assert_int_eq(workq_new(1, 4, &q), 0);
        struct workq_item it = {.ops = &ops};
        ck_assert_int_eq(workq_push(q, &it), 0);
        pthread_mutex_lock(&slow_done_mu);
        while (!slow_done_running)
                pthread_cond_wait(&slow_done_cv, &slow_done_mu);
        pthread_mutex_unlock(&slow_done_mu);
        ck_assert_int_eq(workq_drain(q, 20), -ETIMEDOUT); /* done has not returned */
        pthread_mutex_lock(&slow_done_mu);
        slow_done_go = true;
        pthread_cond_broadcast(&slow_done_cv);
        pthread_mutex_unlock(&slow_done_mu);
        ck_assert_int_eq(workq_drain(q, 10000), 0);
        pthread_mutex_lock(&slow_done_mu);
        ck_assert(slow_done_returned);
        pthread_mutex_unlock(&slow_done_mu);
        workq_free(q);
}
END_TEST

/* A deferred fd stays open while done answers, and is closed once done has returned. */
static int deferred_fd = -1;
static atomic_int deferred_open_in_done;

static void defer_run(struct workq_item *it)
{
        (void)it;
        workq_defer_close(deferred_fd);
}

static void defer_done(struct workq_item *it)
{
        (void)it;
        atomic_store(&deferred_open_in_done, fcntl(deferred_fd, F_GETFD) >= 0);
}

START_TEST(deferred_close_after_done)
{
        static const struct workq_ops ops = {defer_run, noop, defer_done};
        struct workq *q;
        int pipefd[2];
        ck_assert_int_eq(pipe(pipefd), 0);
        close(pipefd[1]);
        deferred_fd = pipefd[0];
        ck_assert_int_eq(workq_new(1, 4, &q), 0);
        struct workq_item it = {.ops = &ops};
        ck_assert_int_eq(workq_push(q, &it), 0);
        ck_assert_int_eq(workq_drain(q, 10000), 0);
        ck_assert(atomic_load(&deferred_open_in_done));
        ck_assert_int_eq(fcntl(deferred_fd, F_GETFD), -1);
        workq_free(q);

        /* Not on a worker: closed at once. */
        ck_assert_int_eq(pipe(pipefd), 0);
        close(pipefd[1]);
        workq_defer_close(pipefd[0]);
        ck_assert_int_eq(fcntl(pipefd[0], F_GETFD), -1);
}
END_TEST

/* An item pushed while the timer sleeps until a later deadline still expires on time. */
START_TEST(earlier_deadline_wakes_the_timer)
{
        struct workq *q;
        struct titem late, early;
        ck_assert_int_eq(workq_new(2, 4, &q), 0);
        titem_init(&late, workq_now_ms() + 60000);
        ck_assert_int_eq(workq_push(q, &late.item), 0);
        titem_wait(&late, &late.ran);
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL); /* the timer sleeps until late's deadline now */
        titem_init(&early, workq_now_ms() + 50);
        ck_assert_int_eq(workq_push(q, &early.item), 0);
        titem_wait(&early, &early.expired);
        ck_assert(!late.expired);
        titem_release(&early);
        titem_release(&late);
        ck_assert_int_eq(workq_drain(q, 10000), 0);
        workq_free(q);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("workq");
        TCase *tc = tcase_create("queue");
        tcase_add_test(tc, bounded_queue_overloads);
        tcase_add_test(tc, expiry_does_not_interrupt);
        tcase_add_test(tc, drain_refuses_new_work_and_times_out);
        tcase_add_test(tc, drain_waits_for_done_to_return);
        tcase_add_test(tc, deferred_close_after_done);
        tcase_add_test(tc, earlier_deadline_wakes_the_timer);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
