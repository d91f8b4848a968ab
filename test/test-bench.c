/* Smoke test of the benchmark harness, so that it cannot rot: runs `silo-bench --quick
 * --phase probe` against a fresh silo and checks it measured something and left nothing
 * behind. Asserts nothing about speed.
 * ctest-labels: privileged */
#include <check.h>
#include <dirent.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"

/* silo-bench is built beside the tests: <build>/test/silo-bench, with silo at <build>/silo. */
static void bench_path(char *buf, size_t size)
{
        char silo[512];
        snprintf(silo, sizeof(silo), "%s", SILO_BIN);
        snprintf(buf, size, "%s/test/silo-bench", dirname(silo));
}

/* Entries of dir besides "." and "..". */
static int count_entries(const char *dir)
{
        DIR *d = opendir(dir);
        ck_assert_ptr_nonnull(d);
        int n = 0;
        struct dirent *de;
        while ((de = readdir(d)))
                n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
        closedir(d);
        return n;
}

START_TEST(quick_probe)
{
        char bench[600], cmd[800], line[1024];
        bench_path(bench, sizeof(bench));
        /* A directory of its own: another silo-bench on this machine (a second checkout's
         * suite) makes and removes roots in /var/tmp at the same time. */
        char tmp[] = "/var/tmp/silo-test-bench-XXXXXX";
        ck_assert_ptr_nonnull(mkdtemp(tmp));
        snprintf(cmd, sizeof(cmd), "%s --quick --phase probe --tmp-dir '%s' 2>/dev/null", bench,
                 tmp);
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
        ck_assert_int_eq(count_entries(tmp), 0); /* its temp root is gone */
        ck_assert_int_eq(rmdir(tmp), 0);
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
