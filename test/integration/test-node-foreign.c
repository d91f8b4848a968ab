/* ctest-labels: privileged */
/* Startup reconciliation meets loop devices that are not ours: files outside the pool, with
 * paths shorter than the pool's. They are left attached and the daemon starts. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "node/loop.h"
#include "test/integration/harness.h"
#include "common/cleanup.h"

START_TEST(foreign_loop_devices_untouched)
{
        char file[] = "/tmp/f-XXXXXX";
        int fd = mkstemp(file);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(ftruncate(fd, 8 << 20), 0);
        close(fd);
        struct loop_dev d;
        ck_assert_int_eq(loop_attach(file, &d), 0);

        struct harness h;
        int r = harness_start(&h, NULL, NULL);
        struct loop_dev found;
        int still = loop_find_scan(file, &found);
        /* Ours to release before harness_stop, which fails the test if the daemon did. */
        loop_detach(&d);
        unlink(file);
        harness_stop(&h);
        ck_assert_int_eq(r, 0);
        ck_assert_int_eq(still, 0);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("node-foreign");
        TCase *tc = tcase_create("reconcile");
        tcase_set_timeout(tc, 300);
        tcase_add_test(tc, foreign_loop_devices_untouched);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
