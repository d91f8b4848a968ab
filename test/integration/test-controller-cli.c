/* siloctl controller, snapshot and group verbs against the real daemon: exit codes, the
 * fields they print, and usage errors. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "test/integration/harness-ctl.h"
#include "common/cleanup.h"

static struct harness h;

static void setup(void)
{
        ck_assert_int_eq(harness_start(&h, NULL, NULL), 0);
}

static void teardown(void)
{
        harness_ctl_stop(&h);
}

/* The value after "<key>: " in text output. */
static void field(const char *out, const char *key, char *buf, size_t size)
{
        char needle[64];
        snprintf(needle, sizeof(needle), "%s=", key);
        const char *p = strstr(out, needle);
        ck_assert_msg(p != NULL, "no '%s' in: %s", key, out);
        p += strlen(needle);
        size_t n = strcspn(p, " \n");
        ck_assert_uint_lt(n, size);
        memcpy(buf, p, n);
        buf[n] = '\0';
}

START_TEST(volume_verbs)
{
        char out[8192], id[65], cmd[256];
        ck_assert_int_eq(harness_siloctl(h.endpoint,
                                         "controller create pvc-cli --size 300Mi --fs xfs "
                                         "--param provisioning=thick",
                                         out, sizeof(out)),
                         0);
        field(out, "volume_id", id, sizeof(id));
        ck_assert_ptr_nonnull(strstr(out, "capacity_bytes=314572800"));
        ck_assert_ptr_nonnull(strstr(out, "volume_context.fsType=xfs"));
        ck_assert_ptr_nonnull(strstr(out, "volume_context.provisioning=thick"));
        snprintf(cmd, sizeof(cmd), "controller publish %s test-node --readonly", id);
        ck_assert_int_eq(harness_siloctl(h.endpoint, cmd, out, sizeof(out)), 0);
        ck_assert_ptr_nonnull(strstr(out, "publish_context.readonly=true"));
        snprintf(cmd, sizeof(cmd), "controller get %s", id);
        ck_assert_int_eq(harness_siloctl(h.endpoint, cmd, out, sizeof(out)), 0);
        ck_assert_ptr_nonnull(strstr(out, "status.published_node_ids=test-node"));
        snprintf(cmd, sizeof(cmd), "controller delete %s", id);
        ck_assert_int_eq(harness_siloctl(h.endpoint, cmd, out, sizeof(out)),
                         9); /* FAILED_PRECONDITION */
        ck_assert_ptr_nonnull(strstr(out, "FAILED_PRECONDITION"));
        snprintf(cmd, sizeof(cmd), "controller unpublish %s test-node", id);
        ck_assert_int_eq(harness_siloctl(h.endpoint, cmd, out, sizeof(out)), 0);
        snprintf(cmd, sizeof(cmd), "controller expand %s 320Mi", id);
        ck_assert_int_eq(harness_siloctl(h.endpoint, cmd, out, sizeof(out)), 0);
        ck_assert_ptr_nonnull(strstr(out, "capacity_bytes=335544320"));
        snprintf(cmd, sizeof(cmd), "controller validate %s --fs xfs", id);
        ck_assert_int_eq(harness_siloctl(h.endpoint, cmd, out, sizeof(out)), 0);
        ck_assert_ptr_nonnull(strstr(out, "confirmed"));
        snprintf(cmd, sizeof(cmd), "controller modify %s provisioning=thin", id);
        ck_assert_int_eq(harness_siloctl(h.endpoint, cmd, out, sizeof(out)),
                         3); /* INVALID_ARGUMENT */
        ck_assert_ptr_nonnull(strstr(out, "INVALID_ARGUMENT"));
        ck_assert_int_eq(harness_siloctl(h.endpoint,
                                         "controller capacity --param provisioning=thick", out,
                                         sizeof(out)),
                         0);
        ck_assert_ptr_nonnull(strstr(out, "available_capacity="));
        ck_assert_int_eq(harness_siloctl(h.endpoint, "controller list --max 1", out, sizeof(out)),
                         0);
        ck_assert_ptr_nonnull(strstr(out, id));
        ck_assert_int_eq(harness_siloctl(h.endpoint, "controller caps", out, sizeof(out)), 0);
        ck_assert_ptr_nonnull(strstr(out, "CLONE_VOLUME"));
        snprintf(cmd, sizeof(cmd), "controller delete %s", id);
        ck_assert_int_eq(harness_siloctl(h.endpoint, cmd, out, sizeof(out)), 0);
}
END_TEST

START_TEST(snapshot_and_group_verbs)
{
        char out[8192], vol[65], snap[65], grp[65], cmd[256];
        ck_assert_int_eq(
            harness_siloctl(h.endpoint, "controller create src --size 8Mi", out, sizeof(out)), 0);
        field(out, "volume_id", vol, sizeof(vol));
        snprintf(cmd, sizeof(cmd), "snapshot create snap-cli %s", vol);
        ck_assert_int_eq(harness_siloctl(h.endpoint, cmd, out, sizeof(out)), 0);
        field(out, "snapshot_id", snap, sizeof(snap));
        ck_assert_ptr_nonnull(strstr(out, "ready_to_use=true"));
        snprintf(cmd, sizeof(cmd), "snapshot list --source %s", vol);
        ck_assert_int_eq(harness_siloctl(h.endpoint, cmd, out, sizeof(out)), 0);
        ck_assert_ptr_nonnull(strstr(out, snap));
        snprintf(cmd, sizeof(cmd), "controller create restored --from-snapshot %s", snap);
        ck_assert_int_eq(harness_siloctl(h.endpoint, cmd, out, sizeof(out)), 0);
        ck_assert_ptr_nonnull(strstr(out, snap));
        snprintf(cmd, sizeof(cmd), "group create grp-cli %s", vol);
        ck_assert_int_eq(harness_siloctl(h.endpoint, cmd, out, sizeof(out)), 0);
        field(out, "group_snapshot_id", grp, sizeof(grp));
        snprintf(cmd, sizeof(cmd), "group get %s", grp);
        ck_assert_int_eq(harness_siloctl(h.endpoint, cmd, out, sizeof(out)), 0);
        snprintf(cmd, sizeof(cmd), "group delete %s", grp);
        ck_assert_int_eq(harness_siloctl(h.endpoint, cmd, out, sizeof(out)), 0);
        snprintf(cmd, sizeof(cmd), "group get %s", grp);
        ck_assert_int_eq(harness_siloctl(h.endpoint, cmd, out, sizeof(out)), 5); /* NOT_FOUND */
        ck_assert_ptr_nonnull(strstr(out, "NOT_FOUND"));
        snprintf(cmd, sizeof(cmd), "snapshot delete %s", snap);
        ck_assert_int_eq(harness_siloctl(h.endpoint, cmd, out, sizeof(out)), 0);
        snprintf(cmd, sizeof(cmd), "snapshot get %s", snap);
        ck_assert_int_eq(harness_siloctl(h.endpoint, cmd, out, sizeof(out)), 5);
        ck_assert_int_eq(harness_siloctl(h.endpoint, "group caps", out, sizeof(out)), 0);
}
END_TEST

START_TEST(usage_errors)
{
        char out[8192];
        ck_assert_int_eq(harness_siloctl(h.endpoint, "controller create", out, sizeof(out)), 64);
        ck_assert_ptr_nonnull(strstr(out, "usage: siloctl controller create NAME"));
        ck_assert_int_eq(
            harness_siloctl(h.endpoint, "controller create x --access bogus", out, sizeof(out)),
            64);
        ck_assert_ptr_nonnull(strstr(out, "--access is rwo, rwop, rwx, rox"));
        ck_assert_int_eq(
            harness_siloctl(h.endpoint, "controller create x --size lots", out, sizeof(out)), 64);
        ck_assert_int_eq(
            harness_siloctl(h.endpoint, "controller create x --size 1.5Gi", out, sizeof(out)), 64);
        ck_assert_ptr_nonnull(strstr(out, "sizes are whole numbers"));
        ck_assert_int_eq(harness_siloctl(h.endpoint, "-o yaml controller list", out, sizeof(out)),
                         64);
        ck_assert_ptr_nonnull(strstr(out, "output is text or json"));
        ck_assert_int_eq(harness_siloctl(h.endpoint,
                                         "controller create x --from-volume a --from-snapshot b",
                                         out, sizeof(out)),
                         64);
        ck_assert_int_eq(
            harness_siloctl(h.endpoint, "controller create x --cap rwo,floppy", out, sizeof(out)),
            64);
        ck_assert_ptr_nonnull(strstr(out, "TYPE is mount or block"));
        ck_assert_int_eq(harness_siloctl(h.endpoint, "controller create x --cap rwo,mount --fs xfs",
                                         out, sizeof(out)),
                         64);
        ck_assert_int_eq(harness_siloctl(h.endpoint, "controller expand vol-1", out, sizeof(out)),
                         64);
        ck_assert_int_eq(
            harness_siloctl(h.endpoint, "controller modify vol-1 novalue", out, sizeof(out)), 64);
        ck_assert_int_eq(harness_siloctl(h.endpoint, "snapshot create onlyname", out, sizeof(out)),
                         64);
        ck_assert_int_eq(harness_siloctl(h.endpoint, "snapshot list --max -1", out, sizeof(out)),
                         64);
        ck_assert_int_eq(harness_siloctl(h.endpoint, "group create onlyname", out, sizeof(out)),
                         64);
        ck_assert_int_eq(
            harness_siloctl(h.endpoint, "controller get vol-0000000000000000", out, sizeof(out)),
            5);
        ck_assert_ptr_nonnull(strstr(out, "NOT_FOUND"));
        ck_assert_int_eq(harness_siloctl(h.endpoint, "-m Bad=1 controller caps", out, sizeof(out)),
                         64);
        ck_assert_int_eq(
            harness_siloctl(h.endpoint, "--secret nokey controller caps", out, sizeof(out)), 64);
        ck_assert_int_eq(
            harness_siloctl(h.endpoint, "--pub-context a=b controller caps", out, sizeof(out)), 64);
        ck_assert_ptr_nonnull(strstr(out, "--pub-context does not apply"));
}
END_TEST

int main(void)
{
        Suite *s = suite_create("controller-cli");
        TCase *tc = tcase_create("cli");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, volume_verbs);
        tcase_add_test(tc, snapshot_and_group_verbs);
        tcase_add_test(tc, usage_errors);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
