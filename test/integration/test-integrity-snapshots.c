/* Snapshots, clones and group snapshots of volumes in use are point-in-time: rounds of copies
 * while a writer appends fsync'd sequence records; every image passes fsck and holds records
 * 1..k with k at least the last record fsync'd before the call. SILO_INTEGRITY_ROUNDS sets the
 * rounds (default 12; the long run is 100). */
/* ctest-labels: privileged */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test/integration/harness-ctl.h"
#include "test/integration/harness-integrity.h"
#include "test/integration/harness-node.h"

static struct harness h;

static int rounds(void)
{
        const char *s = getenv("SILO_INTEGRITY_ROUNDS");
        long n = s ? strtol(s, NULL, 10) : 12;
        return n > 0 && n < 100000 ? (int)n : 12;
}

static void start(const char *const *args, const char *const *env)
{
        ck_assert_int_eq(harness_start(&h, args, env), 0);
        harness_node_track(&h);
}

static void teardown(void)
{
        harness_stop(&h);
}

/* Creates and stages a volume at "<kubelet>/<rel>"; its staging path into staging. */
static void volume_up(const char *name, const char *fs, bool block, char *id, char *staging,
                      size_t size)
{
        struct harness_ctl_vol o = {.required = strcmp(fs, "xfs") == 0 ? (int64_t)HN_XFS_MIN
                                                                       : 64 * HCTL_MIB,
                                    .fs_type = block ? NULL : fs,
                                    .block = block};
        struct harness_node_cap cap = {.block = block, .fs_type = block ? "" : fs};
        char rel[96];
        ck_assert_int_eq(harness_ctl_create(&h, name, &o, id), ERR_OK);
        snprintf(rel, sizeof(rel), "staging-%s", name);
        harness_node_mkdir(&h, rel, staging, size);
        ASSERT_STATUS(harness_node_stage(&h, id, staging, &cap), ERR_OK);
}

/* fsck and records of one image: at least min records, all intact. Returns the count. */
static long check_image(const char *dir, const char *id, const char *fs, uint64_t min)
{
        char img[600], why[2048] = "";
        harness_ctl_data(&h, dir, id, img, sizeof(img));
        long k = hi_image_verify(img, fs, "/log", why, sizeof(why));
        ck_assert_msg(k >= 0, "%s '%s': %s", dir, id, why);
        ck_assert_msg((uint64_t)k >= min, "%s '%s' holds %ld records, %llu were fsync'd before",
                      dir, id, k, (unsigned long long)min);
        return k;
}

static void snapshot_and_clone_rounds(const char *fs)
{
        char id[80], staging[512], log[600], snap[80], clone[80], name[64];
        start(NULL, NULL);
        volume_up("src", fs, false, id, staging, sizeof(staging));
        snprintf(log, sizeof(log), "%s/log", staging);
        const char *paths[] = {log};
        struct hi_writer *w = NULL;
        ck_assert_int_eq(hi_writer_start(paths, 1, &w), 0);
        ck_assert(hi_writer_wait(w, 50));
        int n = rounds();
        for (int i = 0; i < n; i++) {
                uint64_t before = hi_writer_fsynced(w);
                snprintf(name, sizeof(name), "snap-%d", i);
                ck_assert_int_eq(harness_ctl_snapshot(&h, name, id, snap), ERR_OK);
                uint64_t before_clone = hi_writer_fsynced(w);
                struct harness_ctl_vol o = {.required = 0, .fs_type = fs, .from_vol = id};
                snprintf(name, sizeof(name), "clone-%d", i);
                ck_assert_int_eq(harness_ctl_create(&h, name, &o, clone), ERR_OK);
                check_image("snapshots", snap, fs, before);
                check_image("volumes", clone, fs, before_clone);
                ck_assert_int_eq(harness_ctl_delete(&h, clone), ERR_OK);
                Csi__V1__DeleteSnapshotRequest del = CSI__V1__DELETE_SNAPSHOT_REQUEST__INIT;
                del.snapshot_id = snap;
                ck_assert_int_eq(harness_ctl_call(&h, "Controller", "DeleteSnapshot", &del.base,
                                                  &csi__v1__delete_snapshot_response__descriptor,
                                                  NULL, NULL, 0),
                                 ERR_OK);
                ck_assert(hi_writer_wait(w, hi_writer_fsynced(w) + 5)); /* never left frozen */
        }
        hi_writer_stop(w);
        ASSERT_STATUS(harness_node_unstage(&h, id, staging), ERR_OK);
}

START_TEST(test_rounds_ext4)
{
        snapshot_and_clone_rounds("ext4");
}
END_TEST

START_TEST(test_rounds_xfs)
{
        snapshot_and_clone_rounds("xfs");
}
END_TEST

static enum err_status group_create(const char *name, char **ids, size_t n,
                                    Csi__V1__CreateVolumeGroupSnapshotResponse **ret)
{
        Csi__V1__CreateVolumeGroupSnapshotRequest req =
            CSI__V1__CREATE_VOLUME_GROUP_SNAPSHOT_REQUEST__INIT;
        char msg[512];
        req.name = (char *)name;
        req.source_volume_ids = ids;
        req.n_source_volume_ids = n;
        enum err_status st =
            harness_ctl_call(&h, "GroupController", "CreateVolumeGroupSnapshot", &req.base,
                             &csi__v1__create_volume_group_snapshot_response__descriptor,
                             (void **)ret, msg, sizeof(msg));
        ck_assert_msg(st == ERR_OK, "group snapshot: %s", msg);
        return st;
}

static void group_delete(const char *gid)
{
        Csi__V1__DeleteVolumeGroupSnapshotRequest req =
            CSI__V1__DELETE_VOLUME_GROUP_SNAPSHOT_REQUEST__INIT;
        req.group_snapshot_id = (char *)gid;
        ck_assert_int_eq(
            harness_ctl_call(&h, "GroupController", "DeleteVolumeGroupSnapshot", &req.base,
                             &csi__v1__delete_volume_group_snapshot_response__descriptor, NULL,
                             NULL, 0),
            ERR_OK);
}

/* A writer appends record n to a, b and c in turn: one instant has counts ka >= kb >= kc >=
 * ka - 1. */
START_TEST(test_group_is_one_instant)
{
        char ids[3][80], staging[3][512], logs[3][1600], name[64];
        const char *names[3] = {"ga", "gb", "gc"};
        start(NULL, NULL);
        for (int i = 0; i < 3; i++) {
                volume_up(names[i], "ext4", false, ids[i], staging[i], sizeof(staging[i]));
                snprintf(logs[i], sizeof(logs[i]), "%s/log", staging[i]);
        }
        const char *paths[] = {logs[0], logs[1], logs[2]};
        char *vids[] = {ids[0], ids[1], ids[2]};
        struct hi_writer *w = NULL;
        ck_assert_int_eq(hi_writer_start(paths, 3, &w), 0);
        ck_assert(hi_writer_wait(w, 50));
        int n = rounds();
        for (int r = 0; r < n; r++) {
                Csi__V1__CreateVolumeGroupSnapshotResponse *resp = NULL;
                uint64_t before = hi_writer_fsynced(w);
                snprintf(name, sizeof(name), "group-%d", r);
                group_create(name, vids, 3, &resp);
                Csi__V1__VolumeGroupSnapshot *g = resp->group_snapshot;
                ck_assert_uint_eq(g->n_snapshots, 3);
                long k[3] = {0};
                for (size_t i = 0; i < 3; i++) {
                        Csi__V1__Snapshot *s = g->snapshots[i];
                        int j = strcmp(s->source_volume_id, ids[0]) == 0   ? 0
                                : strcmp(s->source_volume_id, ids[1]) == 0 ? 1
                                                                           : 2;
                        k[j] = check_image("snapshots", s->snapshot_id, "ext4", before);
                }
                ck_assert_msg(k[0] >= k[1] && k[1] >= k[2] && k[2] >= k[0] - 1,
                              "round %d: members at different instants: %ld %ld %ld", r, k[0], k[1],
                              k[2]);
                group_delete(g->group_snapshot_id);
                protobuf_c_message_free_unpacked(&resp->base, NULL);
        }
        hi_writer_stop(w);
        for (int i = 0; i < 3; i++)
                ASSERT_STATUS(harness_node_unstage(&h, ids[i], staging[i]), ERR_OK);
}
END_TEST

/* No filesystem to freeze and no reflink in this pool (ext4): refused, and it says why. */
START_TEST(test_block_in_use_needs_reflink)
{
        char id[80], staging[512], msg[512], clone[80];
        start(NULL, NULL);
        volume_up("blk", "ext4", true, id, staging, sizeof(staging));
        Csi__V1__CreateSnapshotRequest req = CSI__V1__CREATE_SNAPSHOT_REQUEST__INIT;
        req.name = (char *)"blk-snap";
        req.source_volume_id = id;
        ck_assert_int_eq(harness_ctl_call(&h, "Controller", "CreateSnapshot", &req.base,
                                          &csi__v1__create_snapshot_response__descriptor, NULL, msg,
                                          sizeof(msg)),
                         ERR_FAILED_PRECONDITION);
        ck_assert_msg(strstr(msg, "raw block") && strstr(msg, "reflink") && strstr(msg, "unstage"),
                      "%s", msg);
        struct harness_ctl_vol o = {.block = true, .from_vol = id};
        ck_assert_int_eq(harness_ctl_create(&h, "blk-clone", &o, clone), ERR_FAILED_PRECONDITION);
        ASSERT_STATUS(harness_node_unstage(&h, id, staging), ERR_OK);
        ck_assert_int_eq(harness_ctl_snapshot(&h, "blk-snap", id, NULL), ERR_OK);
        ck_assert_int_eq(harness_ctl_create(&h, "blk-clone", &o, clone), ERR_OK);
}
END_TEST

struct call_arg {
        char id[80];
        enum err_status st;
};

static void *snapshot_thread(void *p)
{
        struct call_arg *a = p;
        a->st = harness_ctl_snapshot(&h, "crash-snap", a->id, NULL);
        return NULL;
}

/* A crash inside the frozen window leaves the filesystem frozen; the restart thaws it before
 * Probe says ready. The window is held for minutes (the watchdog's bound is --timeout): the
 * kill lands in it however slow the machine. */
START_TEST(test_crash_while_frozen_is_thawed)
{
        const char *args[] = {"--timeout", "600s", NULL};
        const char *env[] = {"SILO_TEST_DELAY=Frozen:600000:1", NULL};
        char staging[512];
        struct call_arg a = {0};
        pthread_t t;
        start(args, env);
        volume_up("crash", "ext4", false, a.id, staging, sizeof(staging));
        ck_assert_int_eq(pthread_create(&t, NULL, snapshot_thread, &a), 0);
        /* The hook logs its pause inside the frozen window (a 2 s poll for the freeze was
         * too short on a loaded machine). */
        ck_assert(harness_wait_log(&h, "point=Frozen", 1));
        ck_assert_msg(hi_is_frozen(staging), "the snapshot never froze the staging mount");
        harness_kill9(&h);
        pthread_join(t, NULL);
        ck_assert_int_ne(a.st, ERR_OK);
        ck_assert(hi_is_frozen(staging));
        ck_assert_int_eq(harness_restart(&h, NULL, NULL), 0);
        ck_assert(!hi_is_frozen(staging));
        ck_assert(harness_log_contains(&h, "thawed a filesystem left frozen"));
        ck_assert_int_eq(harness_ctl_snapshot(&h, "crash-snap", a.id, NULL), ERR_OK);
        ASSERT_STATUS(harness_node_unstage(&h, a.id, staging), ERR_OK);
}
END_TEST

/* A copy that outlasts --timeout: the watchdog thaws at the bound, the copy is discarded, and a
 * retry succeeds. The copy is held until the watchdog has thawed. */
START_TEST(test_freeze_bounded_by_timeout)
{
        const char *args[] = {"--timeout", "1s", NULL};
        const char *env[] = {"SILO_TEST_DELAY=Frozen:600000:1", NULL};
        char id[80], staging[512], log[600], snap[80];
        start(args, env);
        /* The 1 s --timeout is for the freeze: the other calls may outlast it on a loaded
         * machine (mkfs at stage), so they are retried. */
        struct harness_ctl_vol o = {.required = 64 * HCTL_MIB, .fs_type = "ext4"};
        struct harness_node_cap cap = {.fs_type = "ext4"};
        ck_assert_int_eq(HARNESS_RETRY_SLOW(harness_ctl_create(&h, "slow", &o, id)), ERR_OK);
        harness_node_mkdir(&h, "staging-slow", staging, sizeof(staging));
        ASSERT_STATUS(HARNESS_RETRY_SLOW(harness_node_stage(&h, id, staging, &cap)), ERR_OK);
        snprintf(log, sizeof(log), "%s/log", staging);
        const char *paths[] = {log};
        struct hi_writer *w = NULL;
        ck_assert_int_eq(hi_writer_start(paths, 1, &w), 0);
        ck_assert(hi_writer_wait(w, 10));
        ck_assert_int_eq(harness_ctl_snapshot(&h, "slow-snap", id, NULL), ERR_DEADLINE_EXCEEDED);
        /* Past the bound the writer moves again although the copy still runs (held). */
        ck_assert(hi_writer_wait(w, hi_writer_fsynced(w) + 20));
        ck_assert(harness_wait_log(&h, "copy took longer than the freeze bound: thawed", 1));
        ck_assert_uint_eq(harness_log_count(&h, "completed_after_deadline=true"), 0);
        /* The retry below needs the snapshot's lock: wait for the copy to end. */
        harness_release(&h);
        ck_assert(harness_wait_log(&h, "completed_after_deadline=true", 1));
        uint64_t before = hi_writer_fsynced(w);
        ck_assert_int_eq(HARNESS_RETRY_SLOW(harness_ctl_snapshot(&h, "slow-snap", id, snap)),
                         ERR_OK);
        check_image("snapshots", snap, "ext4", before);
        hi_writer_stop(w);
        ASSERT_STATUS(HARNESS_RETRY_SLOW(harness_node_unstage(&h, id, staging)), ERR_OK);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("integrity-snapshots");
        TCase *tc = tcase_create("snapshots");
        tcase_add_checked_fixture(tc, NULL, teardown);
        tcase_set_timeout(tc, 600);
        tcase_add_test(tc, test_rounds_ext4);
        tcase_add_test(tc, test_rounds_xfs);
        tcase_add_test(tc, test_group_is_one_instant);
        tcase_add_test(tc, test_block_in_use_needs_reflink);
        tcase_add_test(tc, test_crash_while_frozen_is_thawed);
        tcase_add_test(tc, test_freeze_bounded_by_timeout);
        suite_add_tcase(s, tc);
        return harness_node_run(s);
}
