/* Random kill -9 under a stream of controller operations. In each round two client threads
 * send a random mix of named, idempotent calls (creates thin and thick, from a snapshot and
 * from a volume, snapshots, group snapshots, deletes, publish, unpublish, expand) while the
 * main thread kills the daemon after a random delay. After the restart the pool must hold no
 * leftover, every call that got no answer is sent again until it gets the spec's answer (as
 * a CSI sidecar would), and then the listings, the attach records, the sizes and every data
 * file must be exactly what the clients were told. The seed is fixed unless SILO_CRASH_SEED
 * gives another (or "random"); with SILO_CRASH_ROUNDS it replays a run: the same calls and
 * delays, though the kill lands where the timing puts it. SILO_CRASH_VERBOSE=1 logs each
 * round. */
/* ctest-labels: privileged */
#include <check.h>
#include <csi.pb-c.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "test/integration/harness-ctl.h"
#include "test/integration/harness-crash.h"

#define ROUNDS_DEFAULT 50
#define KILL_MAX_MS    60
#define SEED_DEFAULT   20261205

static struct harness h;
static struct hc_model model;
static bool verbose;

static void teardown(void)
{
        harness_ctl_stop(&h);
        hc_model_release(&model);
}

static double now_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
}

static unsigned env_or(const char *name, unsigned fallback)
{
        const char *v = getenv(name);
        char *end = NULL;
        unsigned long n = v && *v ? strtoul(v, &end, 0) : 0;
        return v && *v && end && !*end ? (unsigned)n : fallback;
}

struct client_thread {
        pthread_t th;
        struct hc_client *cl;
};

static void *client_run(void *arg)
{
        struct client_thread *t = arg;
        hc_client_stream(&model, t->cl);
        return NULL;
}

/* One round: the clients run until the kill, the daemon comes back, recovery is checked,
 * unanswered calls are sent again, then everything is compared with what the clients were
 * told. */
static void crash_round(unsigned round)
{
        struct client_thread t[HC_CLIENTS];
        uint64_t rng = hc_rng_seed(model.seed, round, 99);
        long delay = (long)(hc_rng(&rng) % (KILL_MAX_MS + 1));
        model.round = round;
        atomic_store(&model.stop, false);
        for (int i = 0; i < HC_CLIENTS; i++) {
                t[i].cl = &model.clients[i];
                hc_client_begin_round(&model, t[i].cl, round);
                ck_assert_int_eq(pthread_create(&t[i].th, NULL, client_run, &t[i]), 0);
        }
        double t0 = now_s();
        sleep_ms(delay);
        atomic_store(&model.stop, true);
        harness_kill9(&h);
        for (int i = 0; i < HC_CLIENTS; i++)
                pthread_join(t[i].th, NULL);
        hc_assert_no_failure(&model);
        double t1 = now_s();
        ck_assert_int_eq(harness_restart_fresh(&h, NULL, NULL), 0);
        double t2 = now_s();
        hc_check_pool(&model);
        hc_check_listings(&model, true);
        for (int i = 0; i < HC_CLIENTS; i++)
                hc_client_retry(&model, &model.clients[i]);
        hc_assert_no_failure(&model);
        hc_check_listings(&model, false);
        hc_check_data(&model);
        if (verbose)
                fprintf(stderr,
                        "round %u: kill after %ld ms, killed %.3f s, restarted %.3f s, checked "
                        "%.3f s\n",
                        round, delay, t1 - t0, t2 - t1, now_s() - t2);
}

START_TEST(random_kills)
{
        const char *env = getenv("SILO_CRASH_SEED");
        unsigned seed = env && strcmp(env, "random") == 0
                            ? (unsigned)time(NULL) ^ (unsigned)getpid()
                            : env_or("SILO_CRASH_SEED", SEED_DEFAULT);
        unsigned rounds = env_or("SILO_CRASH_ROUNDS", ROUNDS_DEFAULT);
        fprintf(stderr, "test-crash-random: SILO_CRASH_SEED=%u SILO_CRASH_ROUNDS=%u\n", seed,
                rounds);
        verbose = getenv("SILO_CRASH_VERBOSE") != NULL;
        ck_assert_int_eq(harness_start(&h, NULL, NULL), 0);
        hc_model_init(&model, &h, seed);
        for (unsigned r = 0; r < rounds; r++)
                crash_round(r);
        hc_teardown_all(&model);
        hc_check_pool(&model);
        hc_check_listings(&model, false);
        hc_check_pool_empty(&model);
        fprintf(stderr, "test-crash-random: %u rounds, seed %u: %s\n", rounds, seed,
                hc_stats(&model));
}
END_TEST

int main(void)
{
        Suite *s = suite_create("crash-random");
        TCase *tc = tcase_create("controller");
        tcase_add_checked_fixture(tc, NULL, teardown);
        tcase_set_timeout(tc, 300);
        tcase_add_test(tc, random_kills);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
