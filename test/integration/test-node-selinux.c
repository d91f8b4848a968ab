/* ctest-labels: privileged */
/* SELinux mounts on the real binary: kubelet (seLinuxMount: true in the CSIDriver) adds
 * context="<label>" to mount_flags at stage and publish. The label goes to the filesystem's
 * superblock at stage; a publish must ask for the label the volume was staged with; malformed
 * labels are INVALID_ARGUMENT before anything is touched. On a node without SELinux the
 * kernel refuses context= and stage says so (FAILED_PRECONDITION). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test/integration/harness-node.h"
#include "common/fileio.h"
#include "common/cleanup.h"

#define LABEL        "system_u:object_r:container_file_t:s0:c1,c2"
#define KUBELET_FLAG "context=\"" LABEL "\""
#define OTHER_FLAG   "context=\"system_u:object_r:container_file_t:s0:c3,c4\""
#define EPH          "csi-3c8f2e9d8c7cf5d4b5b3c4e6f1fad9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2"

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

/* As the driver decides it: the kernel registers selinuxfs only when SELinux runs. */
static bool selinux_enabled(void)
{
        _cleanup_free_ char *list = NULL;

        ck_assert_int_eq(fileio_read_all("/proc/filesystems", 65536, &list, NULL), 0);
        return strstr(list, "\tselinuxfs\n") != NULL;
}

/* The superblock options of the mount at path, from /proc/self/mountinfo, into buf. */
static void sb_options(const char *path, char *buf, size_t size)
{
        char line[2048], mp[600];
        FILE *f = fopen("/proc/self/mountinfo", "re");

        buf[0] = '\0';
        ck_assert_ptr_nonnull(f);
        while (fgets(line, sizeof(line), f))
                if (sscanf(line, "%*d %*d %*s %*s %599s", mp) == 1 && strcmp(mp, path) == 0) {
                        const char *sep = strstr(line, " - ");
                        const char *last = sep ? strrchr(sep, ' ') : NULL;

                        snprintf(buf, size, "%s", last ? last + 1 : "");
                }
        fclose(f);
}

static void stage_with_label(const char *id, const char *fs_type)
{
        const char *const flags[] = {KUBELET_FLAG, NULL};
        const char *const other[] = {OTHER_FLAG, NULL};
        const char *const none[] = {NULL};
        struct harness_node_cap labelled = {.fs_type = fs_type, .flags = flags};
        struct harness_node_cap relabelled = {.fs_type = fs_type, .flags = other};
        struct harness_node_cap plain = {.fs_type = fs_type, .flags = none};
        char opts[1024], kernel[64];

        if (selinux_enabled()) {
                /* Where SELinux runs: the label is the superblock's, every bind mount shows it. */
                harness_node_up(&h, id, staging, target, &labelled);
                ASSERT_STATUS(harness_node_stage(&h, id, staging, &labelled), ERR_OK);
                sb_options(staging, opts, sizeof(opts));
                ck_assert_msg(strstr(opts, KUBELET_FLAG), "%s", opts);
                ASSERT_STATUS(harness_node_stage(&h, id, staging, &relabelled), ERR_ALREADY_EXISTS);
                ASSERT_STATUS(harness_node_publish(&h, id, staging, target, &relabelled, false),
                              ERR_FAILED_PRECONDITION);
                ASSERT_STATUS(harness_node_publish(&h, id, staging, target, &labelled, false),
                              ERR_OK);
                harness_node_down(&h, id, staging, target);
                return;
        }
        /* The label reached the filesystem's mount call, which has no such option here. */
        ASSERT_STATUS(harness_node_stage(&h, id, staging, &labelled), ERR_FAILED_PRECONDITION);
        snprintf(kernel, sizeof(kernel), "%s: Unknown parameter 'context'", fs_type);
        ck_assert_msg(strstr(harness_node_message(), "SELinux is not enabled on this node"), "%s",
                      harness_node_message());
        ck_assert_msg(strstr(harness_node_message(), kernel), "%s", harness_node_message());
        ck_assert_msg(strstr(harness_node_message(), "'" LABEL "'"), "%s", harness_node_message());
        ck_assert(!harness_node_is_mountpoint(staging));
        harness_node_assert_clean(&h);
        /* Staged without a label, a publish cannot add one: a bind mount keeps the superblock's. */
        ASSERT_STATUS(harness_node_stage(&h, id, staging, &plain), ERR_OK);
        ASSERT_STATUS(harness_node_stage(&h, id, staging, &labelled), ERR_ALREADY_EXISTS);
        ASSERT_STATUS(harness_node_publish(&h, id, staging, target, &labelled, false),
                      ERR_FAILED_PRECONDITION);
        ck_assert_msg(strstr(harness_node_message(), "staged without an SELinux context"), "%s",
                      harness_node_message());
        ck_assert(!harness_node_is_mountpoint(target));
        ASSERT_STATUS(harness_node_publish(&h, id, staging, target, &plain, false), ERR_OK);
        harness_node_down(&h, id, staging, target);
}

START_TEST(stage_applies_the_label_ext4)
{
        ck_assert_int_eq(harness_node_volume(&h, "vol-se4", 64 * HN_MIB, "ext4", false), 0);
        stage_with_label("vol-se4", "ext4");
}
END_TEST

START_TEST(stage_applies_the_label_xfs)
{
        ck_assert_int_eq(harness_node_volume(&h, "vol-sex", HN_XFS_MIN, "xfs", false), 0);
        stage_with_label("vol-sex", "xfs");
}
END_TEST

/* Nothing but the label rides in: every malformed form is refused before any device or mount
 * is touched, at stage and at publish. */
START_TEST(malformed_labels_are_invalid_argument)
{
        static const char *const bad[] = {
            "context=" LABEL,
            "context=system_u:object_r:container_file_t:s0",
            "context=\"" LABEL,
            "context=\"" LABEL "\",bind",
            "context=\"" LABEL "\",\"",
            "context=\"" LABEL "\"x",
            "context=\"system_u:object_r:container_file_t:s0,remount\"",
            "context=\"system_u:object_r:container_file_t:s0:c1\\,c2\"",
            "context=\"system_u:object_r:container_file_t\"",
            "context=\"System_u:object_r:container_file_t:s0\"",
            "context=\"system_u:object_r:container_file_t:s0:c1:c2\"",
            "context='" LABEL "'",
            "fscontext=\"" LABEL "\"",
            "rootcontext=\"" LABEL "\"",
        };
        const char *const plain_flags[] = {NULL};
        struct harness_node_cap plain = {.fs_type = "ext4", .flags = plain_flags};

        ck_assert_int_eq(harness_node_volume(&h, "vol-sebad", 64 * HN_MIB, "ext4", false), 0);
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                const char *const flags[] = {"nosuid", bad[i], NULL};
                struct harness_node_cap cap = {.fs_type = "ext4", .flags = flags};

                ASSERT_STATUS(harness_node_stage(&h, "vol-sebad", staging, &cap),
                              ERR_INVALID_ARGUMENT);
                ck_assert_msg(strstr(harness_node_message(), "mount flag"), "%s: %s", bad[i],
                              harness_node_message());
                harness_node_assert_clean(&h);
        }
        ASSERT_STATUS(harness_node_stage(&h, "vol-sebad", staging, &plain), ERR_OK);
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                const char *const flags[] = {bad[i], NULL};
                struct harness_node_cap cap = {.fs_type = "ext4", .flags = flags};

                ASSERT_STATUS(harness_node_publish(&h, "vol-sebad", staging, target, &cap, false),
                              ERR_INVALID_ARGUMENT);
                ck_assert_msg(strstr(harness_node_message(), "mount flag"), "%s: %s", bad[i],
                              harness_node_message());
                ck_assert(!harness_node_is_mountpoint(target));
        }
        ASSERT_STATUS(harness_node_unstage(&h, "vol-sebad", staging), ERR_OK);
        harness_node_assert_clean(&h);
}
END_TEST

/* kubelet labels inline volumes too: the private stage gets the label, or on a node without
 * SELinux the publish fails and leaves nothing of the volume behind. */
START_TEST(inline_volume_with_label)
{
        const char *const flags[] = {KUBELET_FLAG, NULL};
        struct harness_node_cap cap = {.fs_type = "", .flags = flags};
        const char *ctx[] = {"csi.storage.k8s.io/ephemeral", "true", "size", "64Mi", NULL};
        char img[700];

        harness_path(&h, "pool/volumes/" EPH ".img", img, sizeof(img));
        if (selinux_enabled()) {
                ASSERT_STATUS(harness_node_publish_ctx(&h, EPH, target, &cap, false, ctx), ERR_OK);
                ASSERT_STATUS(harness_node_unpublish(&h, EPH, target), ERR_OK);
        } else {
                ASSERT_STATUS(harness_node_publish_ctx(&h, EPH, target, &cap, false, ctx),
                              ERR_FAILED_PRECONDITION);
                ck_assert_msg(strstr(harness_node_message(), "SELinux is not enabled"), "%s",
                              harness_node_message());
        }
        ck_assert(!harness_node_is_mountpoint(target));
        ck_assert_int_ne(access(img, F_OK), 0);
        harness_node_assert_clean(&h);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("node-selinux");
        TCase *tc = tcase_create("node-selinux");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 300);
        tcase_add_test(tc, stage_applies_the_label_ext4);
        tcase_add_test(tc, stage_applies_the_label_xfs);
        tcase_add_test(tc, malformed_labels_are_invalid_argument);
        tcase_add_test(tc, inline_volume_with_label);
        suite_add_tcase(s, tc);
        return harness_node_run(s);
}
