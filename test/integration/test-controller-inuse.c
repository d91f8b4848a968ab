/* ctest-labels: privileged */
/* DeleteVolume refuses a volume whose data file a loop device on this host still holds (a
 * staged volume), and deletes it once the device is detached. Needs root for losetup. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "test/integration/harness-ctl.h"
#include "common/cleanup.h"

static struct harness h;

static void setup(void)
{
        ck_assert_int_eq(harness_start(&h, NULL, NULL), 0);
}

static void teardown(void)
{
        /* harness_stop also detaches any loop device backed by a file under its root. */
        harness_ctl_stop(&h);
}

START_TEST(delete_refuses_staged_volume)
{
        char id[65], path[512], cmd[700], dev[64] = "";
        struct harness_ctl_vol o = {.required = 8 * HCTL_MIB};
        ck_assert_int_eq(harness_ctl_create(&h, "staged", &o, id), ERR_OK);
        harness_ctl_data(&h, "volumes", id, path, sizeof(path));
        snprintf(cmd, sizeof(cmd), "losetup -f --show '%s'", path);
        FILE *p = popen(cmd, "r");
        ck_assert_ptr_nonnull(p);
        ck_assert_ptr_nonnull(fgets(dev, sizeof(dev), p));
        ck_assert_int_eq(pclose(p), 0);
        dev[strcspn(dev, "\n")] = '\0';
        ck_assert_int_eq(harness_ctl_delete(&h, id), ERR_FAILED_PRECONDITION);
        ck_assert_int_eq(access(path, F_OK), 0);
        snprintf(cmd, sizeof(cmd), "losetup -d '%s'", dev);
        ck_assert_int_eq(system(cmd), 0);
        ck_assert_int_eq(harness_ctl_delete(&h, id), ERR_OK);
        ck_assert_int_ne(access(path, F_OK), 0);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("controller-inuse");
        TCase *tc = tcase_create("inuse");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, delete_refuses_staged_volume);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
