/* Node service on the real binary across crashes: kill -9 in the middle of stage and
 * publish, restart with pods' mounts in place, "reboot" (mounts and loop devices gone), and
 * leftovers that startup reconciliation must detach. */
/* ctest-labels: privileged */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "common/store/store.h"
#include "node/loop.h"
#include "test/integration/harness-node.h"
#include "common/cleanup.h"

static struct harness h;
static char staging[512], target[512], file[600];
static const struct harness_node_cap ext4 = {.fs_type = "ext4"};

static void start(const char *const *env)
{
        harness_node_start(&h, env, "staging", staging, target, sizeof(staging));
        snprintf(file, sizeof(file), "%s/data", target);
}

static void teardown(void)
{
        harness_stop(&h);
}

struct async_call {
        pthread_t th;
        const char *id;
        bool publish;
        enum err_status st;
};

static void *async_run(void *arg)
{
        struct async_call *a = arg;

        a->st = a->publish ? harness_node_publish(&h, a->id, staging, target, &ext4, false)
                           : harness_node_stage(&h, a->id, staging, &ext4);
        return NULL;
}

/* Starts the (delayed) call, kills the daemon while it sleeps holding the volume's lock (the
 * test hook logs its pause once the lock is taken: probing the lock with other calls raced
 * the call for it; the pause lasts a minute, longer than a loaded machine takes to kill),
 * restarts. */
static void kill_during(const char *id, bool publish)
{
        const char *point = publish ? "point=NodePublishVolume" : "point=NodeStageVolume";
        unsigned before = harness_log_count(&h, point);
        struct async_call a = {.id = id, .publish = publish};
        bool paused;

        ck_assert_int_eq(pthread_create(&a.th, NULL, async_run, &a), 0);
        paused = harness_wait_log(&h, point, before + 1);
        if (paused)
                harness_kill9(&h);
        pthread_join(a.th, NULL);
        ck_assert_msg(paused, "the delayed call never paused holding the lock");
        ck_assert_int_ne(a.st, ERR_OK);
        ck_assert_int_eq(harness_restart(&h, NULL, NULL), 0);
}

START_TEST(test_kill_mid_stage)
{
        const char *env[] = {"SILO_TEST_DELAY=NodeStageVolume:60000:1", NULL};
        char buf[32];

        start(env);
        ck_assert_int_eq(harness_node_volume(&h, "vol-ks", 64 * HN_MIB, "ext4", false), 0);
        kill_during("vol-ks", false);
        harness_node_up(&h, "vol-ks", staging, target, &ext4);
        ck_assert_int_eq(harness_node_write_file(file, "after crash"), 0);
        ck_assert_int_gt(harness_node_read_file(file, buf, sizeof(buf)), 0);
        harness_node_down(&h, "vol-ks", staging, target);
}
END_TEST

START_TEST(test_kill_mid_publish)
{
        const char *env[] = {"SILO_TEST_DELAY=NodePublishVolume:60000:1", NULL};

        start(env);
        ck_assert_int_eq(harness_node_volume(&h, "vol-kp", 64 * HN_MIB, "ext4", false), 0);
        ASSERT_STATUS(harness_node_stage(&h, "vol-kp", staging, &ext4), ERR_OK);
        kill_during("vol-kp", true);
        /* Both ways out work after the crash: finishing the publish, and tearing down. */
        ASSERT_STATUS(harness_node_publish(&h, "vol-kp", staging, target, &ext4, false), ERR_OK);
        ck_assert(harness_node_is_mountpoint(target));
        harness_node_down(&h, "vol-kp", staging, target);
}
END_TEST

START_TEST(test_restart_leaves_pods_alone)
{
        char loop_before[64], loop_after[64], buf[32];

        start(NULL);
        ck_assert_int_eq(harness_node_volume(&h, "vol-rs", 64 * HN_MIB, "ext4", false), 0);
        harness_node_up(&h, "vol-rs", staging, target, &ext4);
        ck_assert_int_eq(harness_node_write_file(file, "still here"), 0);
        ck_assert(harness_node_loop_of(&h, "vol-rs", loop_before, sizeof(loop_before)));
        harness_kill9(&h);
        ck_assert_int_eq(harness_restart(&h, NULL, NULL), 0);
        ck_assert(harness_node_is_mountpoint(target));
        ck_assert(harness_node_loop_of(&h, "vol-rs", loop_after, sizeof(loop_after)));
        ck_assert_str_eq(loop_before, loop_after);
        ck_assert_int_gt(harness_node_read_file(file, buf, sizeof(buf)), 0);
        ck_assert_str_eq(buf, "still here");
        /* The restarted driver knows the volume is staged and published. */
        harness_node_up(&h, "vol-rs", staging, target, &ext4);
        ASSERT_STATUS(harness_node_stats(&h, "vol-rs", target, NULL), ERR_OK);
        ck_assert_int_eq(harness_node_count_loops(&h), 1);
        harness_node_down(&h, "vol-rs", staging, target);
}
END_TEST

START_TEST(test_reboot_reattaches)
{
        struct loop_dev d;
        _cleanup_free_ char *data = NULL;
        char buf[32];

        start(NULL);
        ck_assert_int_eq(harness_node_volume(&h, "vol-rb", 64 * HN_MIB, "ext4", false), 0);
        harness_node_up(&h, "vol-rb", staging, target, &ext4);
        ck_assert_int_eq(harness_node_write_file(file, "rebooted"), 0);
        harness_kill9(&h);
        /* A reboot: mounts and loop devices vanish, files stay. */
        ck_assert_int_eq(umount2(target, 0), 0);
        ck_assert_int_eq(umount2(staging, 0), 0);
        ck_assert_int_eq(store_volume_data_path(h.pool, "vol-rb", &data), 0);
        ck_assert_int_eq(loop_find_scan(data, &d), 0);
        ck_assert_int_eq(loop_detach(&d), 0);
        harness_node_assert_clean(&h);
        ck_assert_int_eq(harness_restart(&h, NULL, NULL), 0);
        harness_node_up(&h, "vol-rb", staging, target, &ext4);
        ck_assert_int_gt(harness_node_read_file(file, buf, sizeof(buf)), 0);
        ck_assert_str_eq(buf, "rebooted");
        harness_node_down(&h, "vol-rb", staging, target);
}
END_TEST

START_TEST(test_reconcile_detaches_leftovers)
{
        struct loop_dev leftover, reused, kept;
        _cleanup_free_ char *a = NULL, *b = NULL;
        char other[512];

        start(NULL);
        harness_node_mkdir(&h, "staging2", other, sizeof(other));
        ck_assert_int_eq(harness_node_volume(&h, "vol-lo", 64 * HN_MIB, "ext4", false), 0);
        ck_assert_int_eq(harness_node_volume(&h, "vol-in", 64 * HN_MIB, "ext4", false), 0);
        ASSERT_STATUS(harness_node_stage(&h, "vol-in", other, &ext4), ERR_OK);
        ck_assert_int_eq(store_volume_data_path(h.pool, "vol-lo", &a), 0);
        ck_assert_int_eq(store_volume_data_path(h.pool, "vol-in", &b), 0);
        harness_kill9(&h);
        /* A crash between attach and mount leaves an unused loop device behind. */
        ck_assert_int_eq(loop_attach(a, &leftover), 0);
        ck_assert_int_eq(harness_node_count_loops(&h), 2);
        ck_assert_int_eq(harness_restart(&h, NULL, NULL), 0);
        ck_assert_int_eq(loop_find_scan(a, &reused), -ENOENT);
        ck_assert_int_eq(loop_find_scan(b, &kept), 0); /* staged: untouched */
        ck_assert(harness_node_is_mountpoint(other));
        ck_assert(harness_log_contains(&h, "detached unused loop device"));
        /* A leftover found while running is reused by stage, not duplicated. */
        ck_assert_int_eq(loop_attach(a, &leftover), 0);
        ASSERT_STATUS(harness_node_stage(&h, "vol-lo", staging, &ext4), ERR_OK);
        ck_assert_int_eq(loop_find_scan(a, &reused), 0);
        ck_assert_int_eq(reused.nr, leftover.nr);
        ck_assert_int_eq(harness_node_count_loops(&h), 2);
        ASSERT_STATUS(harness_node_unstage(&h, "vol-lo", staging), ERR_OK);
        ASSERT_STATUS(harness_node_unstage(&h, "vol-in", other), ERR_OK);
        harness_node_assert_clean(&h);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("node-crash");
        TCase *tc = tcase_create("crash");

        tcase_add_checked_fixture(tc, NULL, teardown);
        tcase_set_timeout(tc, 300);
        tcase_add_test(tc, test_kill_mid_stage);
        tcase_add_test(tc, test_kill_mid_publish);
        tcase_add_test(tc, test_restart_leaves_pods_alone);
        tcase_add_test(tc, test_reboot_reattaches);
        tcase_add_test(tc, test_reconcile_detaches_leftovers);
        suite_add_tcase(s, tc);
        return harness_node_run(s);
}
