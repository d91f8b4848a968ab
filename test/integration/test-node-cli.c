/* siloctl's node verbs against the real binary. */
/* ctest-labels: privileged */
#include <check.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "test/integration/harness-node.h"
#include "common/cleanup.h"

static struct harness h;
static char staging[512], target[512], out_path[512];

static void setup(void)
{
        harness_node_start(&h, NULL, "staging", staging, target, sizeof(staging));
        harness_path(&h, "siloctl.out", out_path, sizeof(out_path));
}

static void teardown(void)
{
        harness_stop(&h);
}

/* Runs siloctl -e <endpoint> args...; returns its exit status, stdout in out. */
static int ctl(char *out, size_t size, const char *const *args)
{
        const char *argv[24] = {SILOCTL_BIN, "-e", h.endpoint};
        posix_spawn_file_actions_t fa;
        size_t n = 3;
        int status;
        pid_t pid;

        for (size_t i = 0; args[i] && n < 23; i++)
                argv[n++] = args[i];
        argv[n] = NULL;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ck_assert_int_eq(posix_spawn(&pid, SILOCTL_BIN, &fa, NULL, (char *const *)argv, NULL), 0);
        posix_spawn_file_actions_destroy(&fa);
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_int_ge(harness_node_read_file(out_path, out, size), 0);
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

START_TEST(test_cli_lifecycle)
{
        char out[4096];

        ck_assert_int_eq(harness_node_volume(&h, "vol-cli", 64 * HN_MIB, "ext4", false), 0);
        ck_assert_int_eq(ctl(out, sizeof(out), (const char *[]){"node", "info", NULL}), 0);
        ck_assert_ptr_nonnull(strstr(out, "test-node"));
        ck_assert_int_eq(ctl(out, sizeof(out), (const char *[]){"node", "caps", NULL}), 0);
        ck_assert_ptr_nonnull(strstr(out, "STAGE_UNSTAGE_VOLUME"));
        ck_assert_int_eq(
            ctl(out, sizeof(out),
                (const char *[]){"node", "stage", "vol-cli", staging, "--cap",
                                 "SINGLE_NODE_WRITER,mount,ext4,nodev", "--flag", "noatime", NULL}),
            0);
        ck_assert_str_eq(out, "NodeStageVolume vol-cli: OK\n");
        ck_assert(harness_node_is_mountpoint(staging));
        ck_assert(harness_node_mount_has_flag(staging, MS_NODEV));
        ck_assert(harness_node_mount_has_flag(staging, MS_NOATIME));
        /* the same stage again, spelled with the short options: the same capability */
        ck_assert_int_eq(ctl(out, sizeof(out),
                             (const char *[]){"-q", "node", "stage", "vol-cli", staging, "--fs",
                                              "ext4", "--flag", "nodev,noatime", NULL}),
                         0);
        ck_assert_str_eq(out, "");
        ck_assert_int_eq(ctl(out, sizeof(out),
                             (const char *[]){"node", "publish", "vol-cli", staging, target,
                                              "--readonly", NULL}),
                         0);
        ck_assert(harness_node_mount_has_flag(target, MS_RDONLY));
        ck_assert_int_eq(
            ctl(out, sizeof(out),
                (const char *[]){"-o", "json", "node", "stats", "vol-cli", target, NULL}),
            0);
        ck_assert_ptr_nonnull(strstr(out, "BYTES"));
        ck_assert_int_eq(
            ctl(out, sizeof(out), (const char *[]){"node", "expand", "vol-cli", target, NULL}), 0);
        ck_assert_int_eq(
            ctl(out, sizeof(out), (const char *[]){"node", "unpublish", "vol-cli", target, NULL}),
            0);
        ck_assert_int_eq(
            ctl(out, sizeof(out), (const char *[]){"node", "unstage", "vol-cli", staging, NULL}),
            0);
        harness_node_assert_clean(&h);
}
END_TEST

START_TEST(test_cli_errors)
{
        char out[4096];

        ck_assert_int_eq(
            ctl(out, sizeof(out), (const char *[]){"node", "stage", "vol-none", staging, NULL}), 5);
        ck_assert_int_eq(ctl(out, sizeof(out), (const char *[]){"node", "stage", "x", NULL}), 64);
        ck_assert_int_eq(
            ctl(out, sizeof(out),
                (const char *[]){"node", "stage", "x", staging, "--access", "bogus", NULL}),
            64);
        ck_assert_int_eq(ctl(out, sizeof(out), (const char *[]){"node", "info", "extra", NULL}),
                         64);
        ck_assert_int_eq(ctl(out, sizeof(out),
                             (const char *[]){"node", "stage", "x", staging, "--cap", "rwo,block",
                                              "--flag", "ro", NULL}),
                         64);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("node-cli");
        TCase *tc = tcase_create("cli");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, test_cli_lifecycle);
        tcase_add_test(tc, test_cli_errors);
        suite_add_tcase(s, tc);
        return harness_node_run(s);
}
