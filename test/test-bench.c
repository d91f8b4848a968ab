/* Smoke test of the benchmark harness, so that it cannot rot: runs `silo-bench --quick
 * --phase probe` against a fresh silo and checks it measured something and left nothing
 * behind. Asserts nothing about speed.
 * ctest-labels: privileged */
#include <check.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "common/cleanup.h"

/* silo-bench is built beside the tests: <build>/test/silo-bench, with silo at <build>/silo. */
static void bench_path(char *buf, size_t size)
{
        char silo[512];
        snprintf(silo, sizeof(silo), "%s", SILO_BIN);
        snprintf(buf, size, "%s/test/silo-bench", dirname(silo));
}

static int count_bench_roots(void)
{
        FILE *f = popen("ls -d /var/tmp/silo-bench-* 2>/dev/null | wc -l", "r");
        ck_assert_ptr_nonnull(f);
        char line[32] = "";
        ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
        pclose(f);
        return (int)strtol(line, NULL, 10);
}

START_TEST(quick_probe)
{
        char bench[600], cmd[700], line[1024];
        bench_path(bench, sizeof(bench));
        int roots = count_bench_roots();
        snprintf(cmd, sizeof(cmd), "%s --quick --phase probe 2>/dev/null", bench);
        FILE *f = popen(cmd, "r");
        ck_assert_ptr_nonnull(f);
        bool p50 = false, cpu = false;
        while (fgets(line, sizeof(line), f)) {
                if (strstr(line, "{\"phase\":\"probe\",\"figure\":\"probe_c1_p50\"") &&
                    strstr(line, "\"median\":") && !strstr(line, "\"median\":null"))
                        p50 = true;
                if (strstr(line, "\"figure\":\"probe_c1_driver_cpu\""))
                        cpu = true;
        }
        int status = pclose(f);
        ck_assert(WIFEXITED(status));
        ck_assert_int_eq(WEXITSTATUS(status), 0);
        ck_assert_msg(p50, "no probe_c1_p50 figure");
        ck_assert_msg(cpu, "no driver CPU figure");
        ck_assert_int_eq(count_bench_roots(), roots); /* its temp root is gone */
}
END_TEST

int main(void)
{
        Suite *s = suite_create("bench");
        TCase *tc = tcase_create("bench");
        tcase_set_timeout(tc, 300);
        tcase_add_test(tc, quick_probe);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
