/* Node service with volumes made by the Controller service: thick volumes stay allocated,
 * XFS clones mount beside their source (nouuid), ControllerExpandVolume + NodeExpandVolume. */
/* ctest-labels: privileged */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "test/integration/harness-ctl.h"
#include "test/integration/harness-node.h"
#include "common/cleanup.h"

static struct harness h;
static char staging[512], staging2[512], target[512];

static void setup(void)
{
        harness_node_start(&h, NULL, "staging", staging, target, sizeof(staging));
        harness_node_mkdir(&h, "staging2", staging2, sizeof(staging2));
}

static void teardown(void)
{
        harness_stop(&h);
}

START_TEST(test_thick_stays_allocated)
{
        struct harness_ctl_vol o = {
            .required = 64 * HCTL_MIB, .fs_type = "ext4", .provisioning = "thick"};
        struct harness_node_cap cap = {.fs_type = "ext4"};
        char id[80], data[600];
        struct stat st;

        ck_assert_int_eq(harness_ctl_create(&h, "thick-1", &o, id), ERR_OK);
        harness_ctl_data(&h, "volumes", id, data, sizeof(data));
        ASSERT_STATUS(harness_node_stage(&h, id, staging, &cap), ERR_OK);
        ck_assert_int_eq(stat(data, &st), 0);
        ck_assert_int_ge((long long)st.st_blocks * 512, 64 * HCTL_MIB);
        ASSERT_STATUS(harness_node_unstage(&h, id, staging), ERR_OK);
        harness_node_assert_clean(&h);
}
END_TEST

START_TEST(test_xfs_clone_beside_source)
{
        struct harness_ctl_vol o = {.required = (int64_t)HN_XFS_MIN, .fs_type = "xfs"};
        struct harness_node_cap cap = {.fs_type = "xfs"};
        char src[80], clone[80], file[600], buf[32];

        ck_assert_int_eq(harness_ctl_create(&h, "xsrc", &o, src), ERR_OK);
        harness_node_up(&h, src, staging, target, &cap);
        snprintf(file, sizeof(file), "%s/hello", target);
        ck_assert_int_eq(harness_node_write_file(file, "from source"), 0);
        ASSERT_STATUS(harness_node_unpublish(&h, src, target), ERR_OK);
        ASSERT_STATUS(harness_node_unstage(&h, src, staging), ERR_OK);
        o.from_vol = src;
        ck_assert_int_eq(harness_ctl_create(&h, "xclone", &o, clone), ERR_OK);
        /* Same filesystem UUID on both: only nouuid lets the second one mount. */
        ASSERT_STATUS(harness_node_stage(&h, src, staging, &cap), ERR_OK);
        ASSERT_STATUS(harness_node_stage(&h, clone, staging2, &cap), ERR_OK);
        snprintf(file, sizeof(file), "%s/hello", staging2);
        ck_assert_int_gt(harness_node_read_file(file, buf, sizeof(buf)), 0);
        ck_assert_str_eq(buf, "from source");
        ASSERT_STATUS(harness_node_unstage(&h, clone, staging2), ERR_OK);
        ASSERT_STATUS(harness_node_unstage(&h, src, staging), ERR_OK);
        harness_node_assert_clean(&h);
}
END_TEST

START_TEST(test_controller_then_node_expand)
{
        struct harness_ctl_vol o = {.required = (int64_t)HN_XFS_MIN, .fs_type = "xfs"};
        struct harness_node_cap cap = {.fs_type = "xfs"};
        Csi__V1__ControllerExpandVolumeRequest req =
            CSI__V1__CONTROLLER_EXPAND_VOLUME_REQUEST__INIT;
        Csi__V1__CapacityRange range = CSI__V1__CAPACITY_RANGE__INIT;
        const int64_t bigger = (int64_t)HN_XFS_MIN + 64 * HCTL_MIB;
        struct statvfs before, after;
        int64_t capacity = 0;
        char id[80], msg[256];

        ck_assert_int_eq(harness_ctl_create(&h, "xgrow", &o, id), ERR_OK);
        harness_node_up(&h, id, staging, target, &cap);
        ck_assert_int_eq(statvfs(target, &before), 0);
        range.required_bytes = bigger;
        req.volume_id = id;
        req.capacity_range = &range;
        ck_assert_int_eq(harness_ctl_call(&h, "Controller", "ControllerExpandVolume", &req.base,
                                          &csi__v1__controller_expand_volume_response__descriptor,
                                          NULL, msg, sizeof(msg)),
                         ERR_OK);
        ASSERT_STATUS(harness_node_expand(&h, id, target, bigger, false, &capacity), ERR_OK);
        ck_assert_int_eq(capacity, bigger);
        ck_assert_int_eq(statvfs(target, &after), 0);
        ck_assert_uint_eq((after.f_blocks - before.f_blocks) * after.f_frsize, 64 * HCTL_MIB);
        harness_node_down(&h, id, staging, target);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("node-controller");
        TCase *tc = tcase_create("controller");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 300);
        tcase_add_test(tc, test_thick_stays_allocated);
        tcase_add_test(tc, test_xfs_clone_beside_source);
        tcase_add_test(tc, test_controller_then_node_expand);
        suite_add_tcase(s, tc);
        return harness_node_run(s);
}
