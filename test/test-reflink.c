/* ctest-labels: privileged */
/* Unit test: on a pool whose filesystem supports reflinks (XFS), copies are FICLONE reflinks
 * that share extents, and the data is identical. Needs root for the loop mount. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "controller/controller.h"
#include "common/cleanup.h"

#define MIB (1024ll * 1024)

static char root[64], img[128], mnt[128];

static void run(const char *prog, const char *arg)
{
        char cmd[512];
        snprintf(cmd, sizeof(cmd), "%s '%s' >/dev/null 2>&1", prog, arg);
        ck_assert_msg(system(cmd) == 0, "command failed: %s", cmd);
}

static void setup(void)
{
        snprintf(root, sizeof(root), "/tmp/silo-reflink-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(root));
        snprintf(img, sizeof(img), "%s/xfs.img", root);
        snprintf(mnt, sizeof(mnt), "%s/mnt", root);
        ck_assert_int_eq(mkdir(mnt, 0700), 0);
        int fd = open(img, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(ftruncate(fd, 512 * MIB), 0);
        close(fd);
        run("mkfs.xfs -q -m reflink=1", img);
        char cmd[512];
        snprintf(cmd, sizeof(cmd), "mount -o loop '%s' '%s'", img, mnt);
        ck_assert_int_eq(system(cmd), 0);
}

static void teardown(void)
{
        /* The loop device of "mount -o loop" is autocleared by the unmount. */
        umount2(mnt, MNT_DETACH);
        run("rm -rf", root);
}

START_TEST(copies_are_reflinks)
{
        struct config cfg = {.pool = mnt, .node_id = (char *)"n1", .overcommit_ratio = 1.0};
        struct controller *c = NULL;
        ck_assert_int_eq(controller_new(&cfg, &c), 0);
        char src_path[256], dst_path[256];
        snprintf(src_path, sizeof(src_path), "%s/src", mnt);
        snprintf(dst_path, sizeof(dst_path), "%s/dst", mnt);
        _cleanup_close_ int src = open(src_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        _cleanup_close_ int dst = open(dst_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        ck_assert_int_ge(src, 0);
        ck_assert_int_ge(dst, 0);
        char buf[65536];
        for (size_t i = 0; i < sizeof(buf); i++)
                buf[i] = (char)(i * 13);
        for (int i = 0; i < 64 * 16; i++)
                ck_assert_int_eq(write(src, buf, sizeof(buf)), sizeof(buf));
        ck_assert_int_eq(fsync(src), 0);
        struct statvfs before, after;
        ck_assert_int_eq(statvfs(mnt, &before), 0);
        ck_assert_int_eq(pool_copy(src, dst, 64 * MIB), 1);
        ck_assert_int_eq(fsync(dst), 0);
        ck_assert_int_eq(statvfs(mnt, &after), 0);
        /* Shared extents: the 64 MiB copy took (almost) no space. */
        ck_assert_int_lt((long long)(before.f_bfree - after.f_bfree) * (long long)after.f_frsize,
                         4 * MIB);
        char back[65536];
        ck_assert_int_eq(pread(dst, back, sizeof(back), 32 * MIB), sizeof(back));
        ck_assert_mem_eq(back, buf, sizeof(back));
        controller_free(c);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("reflink");
        TCase *tc = tcase_create("reflink");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, copies_are_reflinks);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
