/* ctest-labels: privileged */
/* Node codes the spec and kubelet expect: NodePublishVolume checks fs_type as stage does;
 * NodeGetVolumeStats and NodeExpandVolume look the volume up before judging the path (NOT_FOUND
 * for an unknown volume and for a path where the volume is not, even a relative or foreign
 * one); a SINGLE_NODE_SINGLE_WRITER volume is published at one target only. */
#include <check.h>
#include <csi.pb-c.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/store/store.h"
#include "test/integration/harness-node.h"
#include "common/cleanup.h"

#define SNSW CSI__V1__VOLUME_CAPABILITY__ACCESS_MODE__MODE__SINGLE_NODE_SINGLE_WRITER

static struct harness h;
static char staging[512], target[512];

static void setup(void)
{
        harness_node_start(&h, NULL, "plugins/staging/pv1", staging, target, sizeof(staging));
}

static void teardown(void)
{
        harness_stop(&h);
}

START_TEST(publish_checks_fs_type)
{
        struct harness_node_cap ext4 = {.fs_type = "ext4"};
        ck_assert_int_eq(harness_node_volume(&h, "vol-pubfs", 64 * HN_MIB, "ext4", false), 0);
        ASSERT_STATUS(harness_node_stage(&h, "vol-pubfs", staging, &ext4), ERR_OK);
        static const char *const unsupported[] = {"nfs", "../../bin/sh", "ext4 ", "EXT4"};
        for (size_t i = 0; i < ARRAY_SIZE(unsupported); i++) {
                struct harness_node_cap c = {.fs_type = unsupported[i]};
                ASSERT_STATUS(harness_node_publish(&h, "vol-pubfs", staging, target, &c, false),
                              ERR_INVALID_ARGUMENT);
                ck_assert_msg(strstr(harness_node_message(), "fs_type"), "%s",
                              harness_node_message());
        }
        struct harness_node_cap xfs = {.fs_type = "xfs"};
        ASSERT_STATUS(harness_node_publish(&h, "vol-pubfs", staging, target, &xfs, false),
                      ERR_FAILED_PRECONDITION);
        ck_assert(!harness_node_is_mountpoint(target));
        struct harness_node_cap none = {.fs_type = ""};
        ASSERT_STATUS(harness_node_publish(&h, "vol-pubfs", staging, target, &none, false), ERR_OK);
        ASSERT_STATUS(harness_node_publish(&h, "vol-pubfs", staging, target, &ext4, false), ERR_OK);
        harness_node_down(&h, "vol-pubfs", staging, target);
}
END_TEST

START_TEST(stats_and_expand_find_the_volume_first)
{
        struct harness_node_cap cap = {.fs_type = "ext4"};
        char elsewhere[600];
        Csi__V1__NodeGetVolumeStatsResponse *st = NULL;
        int64_t capacity = 0;
        ck_assert_int_eq(harness_node_volume(&h, "vol-where", 64 * HN_MIB, "ext4", false), 0);
        harness_node_up(&h, "vol-where", staging, target, &cap);
        harness_node_mkdir(&h, "other/elsewhere", elsewhere, sizeof(elsewhere));
        static const char *const unknown_paths[] = {"relative/path", "/etc", "/"};
        /* An unknown volume: NOT_FOUND whatever the path. */
        ASSERT_STATUS(harness_node_stats(&h, "vol-nope", target, &st), ERR_NOT_FOUND);
        ASSERT_STATUS(harness_node_expand(&h, "vol-nope", target, 0, false, &capacity),
                      ERR_NOT_FOUND);
        for (size_t i = 0; i < ARRAY_SIZE(unknown_paths); i++) {
                ASSERT_STATUS(harness_node_stats(&h, "vol-nope", unknown_paths[i], &st),
                              ERR_NOT_FOUND);
                ASSERT_STATUS(
                    harness_node_expand(&h, "vol-nope", unknown_paths[i], 0, false, &capacity),
                    ERR_NOT_FOUND);
        }
        /* A known volume asked where it is not. */
        const char *not_there[] = {"relative/path", "/etc", "/", elsewhere};
        for (size_t i = 0; i < ARRAY_SIZE(not_there); i++) {
                ASSERT_STATUS(harness_node_stats(&h, "vol-where", not_there[i], &st),
                              ERR_NOT_FOUND);
                ASSERT_STATUS(
                    harness_node_expand(&h, "vol-where", not_there[i], 0, false, &capacity),
                    ERR_NOT_FOUND);
        }
        /* And where it is. */
        ASSERT_STATUS(harness_node_stats(&h, "vol-where", target, &st), ERR_OK);
        protobuf_c_message_free_unpacked(&st->base, NULL);
        harness_node_down(&h, "vol-where", staging, target);
}
END_TEST

START_TEST(single_node_single_writer_one_target)
{
        struct harness_node_cap cap = {.fs_type = "ext4", .mode = SNSW};
        char second[600];
        struct stat sb;
        ck_assert_int_eq(harness_node_volume(&h, "vol-snsw", 64 * HN_MIB, "ext4", false), 0);
        ASSERT_STATUS(harness_node_stage(&h, "vol-snsw", staging, &cap), ERR_OK);
        ASSERT_STATUS(harness_node_publish(&h, "vol-snsw", staging, target, &cap, false), ERR_OK);
        harness_node_kpath(&h, "pods/mount2", second, sizeof(second));
        ASSERT_STATUS(harness_node_publish(&h, "vol-snsw", staging, second, &cap, false),
                      ERR_FAILED_PRECONDITION);
        ck_assert_int_ne(lstat(second, &sb), 0);
        ASSERT_STATUS(harness_node_publish(&h, "vol-snsw", staging, target, &cap, false), ERR_OK);
        /* Once unpublished from the first target, the second may take it. */
        ASSERT_STATUS(harness_node_unpublish(&h, "vol-snsw", target), ERR_OK);
        ASSERT_STATUS(harness_node_publish(&h, "vol-snsw", staging, second, &cap, false), ERR_OK);
        ASSERT_STATUS(harness_node_unpublish(&h, "vol-snsw", second), ERR_OK);
        ASSERT_STATUS(harness_node_unstage(&h, "vol-snsw", staging), ERR_OK);
        harness_node_assert_clean(&h);
}
END_TEST

/* The staged device is the volume's by its file's inode: another file put at the volume's
 * path meanwhile makes the staged mount not the volume's (publish refused, nothing bound). */
START_TEST(publish_checks_the_backing_inode)
{
        struct harness_node_cap ext4 = {.fs_type = "ext4"};
        _cleanup_free_ char *data = NULL, *moved = NULL;
        struct stat st;

        ck_assert_int_eq(harness_node_volume(&h, "vol-ino", 64 * HN_MIB, "ext4", false), 0);
        ASSERT_STATUS(harness_node_stage(&h, "vol-ino", staging, &ext4), ERR_OK);
        ck_assert_int_eq(store_volume_data_path(h.pool, "vol-ino", &data), 0);
        ck_assert_int_ge(asprintf(&moved, "%s.moved", data), 0);
        ck_assert_int_eq(rename(data, moved), 0);
        ck_assert_int_eq(harness_node_write_file(data, "other"), 0);
        ASSERT_STATUS(harness_node_publish(&h, "vol-ino", staging, target, &ext4, false),
                      ERR_FAILED_PRECONDITION);
        ck_assert_int_eq(lstat(target, &st), -1);
        ck_assert_int_eq(rename(moved, data), 0);
        ASSERT_STATUS(harness_node_publish(&h, "vol-ino", staging, target, &ext4, false), ERR_OK);
        ASSERT_STATUS(harness_node_unpublish(&h, "vol-ino", target), ERR_OK);
        ASSERT_STATUS(harness_node_unstage(&h, "vol-ino", staging), ERR_OK);
        harness_node_assert_clean(&h);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("node-refusals");
        TCase *tc = tcase_create("refusals");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, publish_checks_fs_type);
        tcase_add_test(tc, stats_and_expand_find_the_volume_first);
        tcase_add_test(tc, single_node_single_writer_one_target);
        tcase_add_test(tc, publish_checks_the_backing_inode);
        suite_add_tcase(s, tc);
        return harness_node_run(s);
}
