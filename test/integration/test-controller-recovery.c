/* Crash and timing behaviour of the controller on the real binary: restart after kill -9 in
 * the middle of a create, the deadline/pending/retry sequence, two instances sharing a pool. */
#include <check.h>
#include <csi.pb-c.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "test/integration/harness-ctl.h"
#include "common/cleanup.h"

#define MIB HCTL_MIB

static struct harness h, h2;

static void setup(void)
{
        memset(&h2, 0, sizeof(h2));
}

static void teardown(void)
{
        harness_ctl_stop(&h2);
        harness_ctl_stop(&h);
}

static void touch(const char *rel)
{
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", h.pool, rel);
        int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(ftruncate(fd, 4 * MIB), 0);
        close(fd);
}

static bool exists(const char *rel)
{
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", h.pool, rel);
        return access(path, F_OK) == 0;
}

static size_t count_volumes(void)
{
        Csi__V1__ListVolumesRequest req = CSI__V1__LIST_VOLUMES_REQUEST__INIT;
        Csi__V1__ListVolumesResponse *resp = NULL;
        ck_assert_int_eq(harness_ctl_call(&h, "Controller", "ListVolumes", &req.base,
                                          &csi__v1__list_volumes_response__descriptor,
                                          (void **)&resp, NULL, 0),
                         ERR_OK);
        size_t n = resp->n_entries;
        protobuf_c_message_free_unpacked(&resp->base, NULL);
        return n;
}

struct bg_create {
        struct harness *h;
        enum err_status st;
};

static void *bg_create_run(void *arg)
{
        struct bg_create *b = arg;
        struct harness_ctl_vol o = {.required = 8 * MIB};
        b->st = harness_ctl_create(b->h, "crashy", &o, NULL);
        return NULL;
}

START_TEST(restart_after_kill_in_create)
{
        const char *env[] = {"SILO_TEST_DELAY=CreateVolume:60000:1", NULL};
        ck_assert_int_eq(harness_start(&h, NULL, env), 0);
        /* Leftovers of an earlier crash: half-made data, uncommitted data, half-written meta. */
        touch("volumes/.vol-1111111111111111.img.tmp-data");
        touch("volumes/vol-2222222222222222.img");
        touch("volumes/.vol-3333333333333333.meta.tmp-1-0");
        touch("snapshots/snap-4444444444444444.img");
        struct bg_create b = {.h = &h};
        pthread_t t;
        ck_assert_int_eq(pthread_create(&t, NULL, bg_create_run, &b), 0);
        /* Once the daemon holds the create (its test hook says so: a retry sent before could
         * win the lock and wait out the delay itself), a retry is refused. */
        ck_assert(harness_wait_log(&h, "point=CreateVolume", 1));
        struct harness_ctl_vol o = {.required = 8 * MIB};
        ck_assert_int_eq(harness_ctl_create(&h, "crashy", &o, NULL), ERR_ABORTED);
        harness_kill9(&h);
        pthread_join(t, NULL);
        ck_assert_int_ne(b.st, ERR_OK);
        ck_assert_int_eq(harness_restart(&h, NULL, NULL), 0);
        ck_assert(!exists("volumes/.vol-1111111111111111.img.tmp-data"));
        ck_assert(!exists("volumes/vol-2222222222222222.img"));
        ck_assert(!exists("volumes/.vol-3333333333333333.meta.tmp-1-0"));
        ck_assert(!exists("snapshots/snap-4444444444444444.img"));
        ck_assert_uint_eq(count_volumes(), 0);
        char id[65];
        ck_assert_int_eq(harness_ctl_create(&h, "crashy", &o, id), ERR_OK);
        ck_assert_uint_eq(count_volumes(), 1);
}
END_TEST

/* The first create is held by the test hook until the retry has been refused. */
START_TEST(deadline_then_pending_then_same_volume)
{
        const char *args[] = {"--timeout", "1s", NULL};
        const char *env[] = {"SILO_TEST_DELAY=CreateVolume:60000:1", NULL};
        ck_assert_int_eq(harness_start(&h, args, env), 0);
        struct harness_ctl_vol o = {.required = 8 * MIB};
        ck_assert_int_eq(harness_ctl_create(&h, "slow", &o, NULL), ERR_DEADLINE_EXCEEDED);
        /* The retry finds the create pending; a loaded machine may not even say so within the
         * 1 s --timeout, and then it is asked again. */
        enum err_status st = ERR_DEADLINE_EXCEEDED;
        for (int i = 0; i < 30 && st == ERR_DEADLINE_EXCEEDED; i++)
                st = harness_ctl_create(&h, "slow", &o, NULL);
        ck_assert_int_eq(st, ERR_ABORTED);
        harness_release(&h);
        char id[65], again[65];
        /* Refused until the first create has finished; the 1 s --timeout still applies. */
        ck_assert_int_eq(HARNESS_RETRY_SLOW(harness_ctl_create(&h, "slow", &o, id)), ERR_OK);
        /* A lookup by name. */
        ck_assert_int_eq(HARNESS_RETRY_SLOW(harness_ctl_create(&h, "slow", &o, again)), ERR_OK);
        ck_assert_str_eq(id, again);
        ck_assert_uint_eq(count_volumes(), 1);
}
END_TEST

START_TEST(shared_pool_refuses_second_node)
{
        const char *a_args[] = {"--pool-scope", "shared", "--nodeid", "node-a", NULL};
        ck_assert_int_eq(harness_start(&h, a_args, NULL), 0);
        const char *b_args[] = {"--pool-scope", "shared", "--nodeid", "node-b",
                                "--pool",       h.pool,   NULL};
        ck_assert_int_eq(harness_start(&h2, b_args, NULL), 0);
        char id[65], rox[65];
        ck_assert_int_eq(harness_ctl_create(&h, "shared-rwo", NULL, id), ERR_OK);
        /* The other instance sees the same volume, by name too. */
        char again[65];
        ck_assert_int_eq(harness_ctl_create(&h2, "shared-rwo", NULL, again), ERR_OK);
        ck_assert_str_eq(id, again);
        ck_assert_int_eq(harness_ctl_publish(&h, id, "node-c", false, 0), ERR_NOT_FOUND);
        ck_assert_int_eq(harness_ctl_publish(&h, id, "node-a", false, 0), ERR_OK);
        ck_assert_int_eq(harness_ctl_publish(&h2, id, "node-b", false, 0), ERR_FAILED_PRECONDITION);
        ck_assert_int_eq(harness_ctl_publish(&h2, id, "node-c", false, 0), ERR_FAILED_PRECONDITION);
        ck_assert_int_eq(harness_ctl_delete(&h2, id), ERR_FAILED_PRECONDITION);
        ck_assert_int_eq(harness_ctl_unpublish(&h2, id, "node-a"), ERR_OK);
        ck_assert_int_eq(harness_ctl_publish(&h2, id, "node-b", false, 0), ERR_OK);
        /* Read-only many: both nodes at once. */
        struct harness_ctl_vol o = {.mode = HCTL_MNRO};
        ck_assert_int_eq(harness_ctl_create(&h, "shared-rox", &o, rox), ERR_OK);
        ck_assert_int_eq(harness_ctl_publish(&h, rox, "node-a", true, HCTL_MNRO), ERR_OK);
        ck_assert_int_eq(harness_ctl_publish(&h2, rox, "node-b", true, HCTL_MNRO), ERR_OK);
        /* No per-node topology in a shared pool. */
        Csi__V1__ControllerGetVolumeRequest req = CSI__V1__CONTROLLER_GET_VOLUME_REQUEST__INIT;
        req.volume_id = rox;
        Csi__V1__ControllerGetVolumeResponse *resp = NULL;
        ck_assert_int_eq(harness_ctl_call(&h2, "Controller", "ControllerGetVolume", &req.base,
                                          &csi__v1__controller_get_volume_response__descriptor,
                                          (void **)&resp, NULL, 0),
                         ERR_OK);
        ck_assert_uint_eq(resp->volume->n_accessible_topology, 0);
        ck_assert_uint_eq(resp->status->n_published_node_ids, 2);
        protobuf_c_message_free_unpacked(&resp->base, NULL);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("controller-recovery");
        TCase *tc = tcase_create("recovery");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, restart_after_kill_in_create);
        tcase_add_test(tc, deadline_then_pending_then_same_volume);
        tcase_add_test(tc, shared_pool_refuses_second_node);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
