/* siloctl against the real daemon: output formats and exit codes. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "test/integration/harness.h"
#include "common/cleanup.h"

static struct harness h;

static void setup(void)
{
        ck_assert_int_eq(harness_start(&h, NULL, NULL), 0);
}

static void teardown(void)
{
        harness_stop(&h);
}

/* Runs siloctl with args against endpoint; stdout into out; returns the exit status. */
static int siloctl(const char *endpoint, const char *args, char *out, size_t size)
{
        char cmd[1024];
        snprintf(cmd, sizeof(cmd), "%s -e '%s' %s 2>&1", SILOCTL_BIN, endpoint, args);
        FILE *p = popen(cmd, "r");
        ck_assert_ptr_nonnull(p);
        size_t n = fread(out, 1, size - 1, p);
        out[n] = '\0';
        int status = pclose(p);
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

START_TEST(probe_prints_ready)
{
        char out[4096];
        ck_assert_int_eq(siloctl(h.endpoint, "identity probe", out, sizeof(out)), 0);
        ck_assert_str_eq(out, "ready\n");
        ck_assert_int_eq(siloctl(h.endpoint, "-o json identity probe", out, sizeof(out)), 0);
        ck_assert_str_eq(out, "{\"ready\":true}\n");
}
END_TEST

START_TEST(info_text_and_json)
{
        char out[4096];
        ck_assert_int_eq(siloctl(h.endpoint, "identity info", out, sizeof(out)), 0);
        ck_assert_ptr_nonnull(strstr(out, "name: silo.csi.io\n"));
        ck_assert_ptr_nonnull(strstr(out, "vendor_version: " SILO_VERSION "+"));
        ck_assert_int_eq(siloctl(h.endpoint, "-o json identity info", out, sizeof(out)), 0);
        ck_assert_ptr_nonnull(strstr(out, "{\"name\":\"silo.csi.io\",\"vendorVersion\":\""));
}
END_TEST

START_TEST(caps_lists_services)
{
        char out[4096];
        ck_assert_int_eq(siloctl(h.endpoint, "-o json identity caps", out, sizeof(out)), 0);
        ck_assert_ptr_nonnull(strstr(out, "\"CONTROLLER_SERVICE\""));
        ck_assert_ptr_nonnull(strstr(out, "\"VOLUME_ACCESSIBILITY_CONSTRAINTS\""));
}
END_TEST

START_TEST(errors_have_codes_and_exit_status)
{
        char out[4096], ep[400];
        snprintf(ep, sizeof(ep), "unix://%s/nobody-here.sock", h.root);
        ck_assert_int_eq(siloctl(ep, "identity probe", out, sizeof(out)), 1);
        ck_assert_ptr_nonnull(strstr(out, "UNAVAILABLE"));
        ck_assert_int_eq(siloctl(h.endpoint, "identity nope", out, sizeof(out)), 2);
        ck_assert_int_eq(siloctl("relative", "identity probe", out, sizeof(out)), 2);
}
END_TEST

/* Repeated messages print as JSON arrays and maps as objects. */
START_TEST(json_lists_and_maps)
{
        char out[8192];
        ck_assert_int_eq(
            siloctl(h.endpoint, "controller create pvc-a --size 8Mi", out, sizeof(out)), 0);
        ck_assert_int_eq(
            siloctl(h.endpoint, "controller create pvc-b --size 8Mi", out, sizeof(out)), 0);
        ck_assert_int_eq(siloctl(h.endpoint, "-o json controller list", out, sizeof(out)), 0);
        static const char prefix[] = "{\"entries\":[{\"volume\":{";
        ck_assert_msg(strncmp(out, prefix, sizeof(prefix) - 1) == 0, "%s", out);
        ck_assert_ptr_nonnull(strstr(out, "},{\"volume\":{"));
        ck_assert_ptr_nonnull(strstr(out, "\"volumeContext\":{\"fsType\":\"ext4\""));
        ck_assert_ptr_nonnull(strstr(out, "\"capacityBytes\":\"8388608\""));
}
END_TEST

/* An empty reply prints nothing in text and {} in JSON. */
START_TEST(empty_reply)
{
        char out[4096];
        ck_assert_int_eq(
            siloctl(h.endpoint, "controller delete vol-0000000000000000", out, sizeof(out)), 0);
        ck_assert_str_eq(out, "");
        ck_assert_int_eq(
            siloctl(h.endpoint, "-o json controller delete vol-0000000000000000", out, sizeof(out)),
            0);
        ck_assert_str_eq(out, "{}\n");
}
END_TEST

int main(void)
{
        Suite *s = suite_create("siloctl");
        TCase *tc = tcase_create("identity");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, probe_prints_ready);
        tcase_add_test(tc, info_text_and_json);
        tcase_add_test(tc, caps_lists_services);
        tcase_add_test(tc, errors_have_codes_and_exit_status);
        tcase_add_test(tc, json_lists_and_maps);
        tcase_add_test(tc, empty_reply);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
