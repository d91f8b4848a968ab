/* Unit tests for formatting, measuring and growing filesystems (node/fs.c, node/spawn.c). */
/* ctest-labels: privileged */
#include <check.h>
#include <endian.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "node/mount.h"
#include "node/fs.h"
#include "node/loop.h"
#include "node/spawn.h"
#include "common/cleanup.h"

#define MIB     (1024ull * 1024)
#define XFS_MIN (320 * MIB) /* mkfs.xfs refuses below 300 MB */

static char root[128];

static int detach_ours(const struct loop_dev *d, const char *backing, bool deleted, void *u)
{
        (void)deleted;
        (void)u;
        if (strncmp(backing, root, strlen(root)) == 0)
                loop_detach(d);
        return 0;
}

static void setup(void)
{
        snprintf(root, sizeof(root), "/tmp/silo-test-fs-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(root));
}

static void teardown(void)
{
        struct mount_table *t = NULL;
        char cmd[256];

        if (mount_table_load(&t) == 0) {
                for (size_t i = t->n; i > 0; i--)
                        if (strncmp(t->entries[i - 1].target, root, strlen(root)) == 0)
                                umount2(t->entries[i - 1].target, MNT_DETACH);
                mount_table_free(t);
        }
        loop_foreach(detach_ours, NULL);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        if (system(cmd) != 0)
                _exit(EXIT_FAILURE);
}

static void attach_new(const char *name, uint64_t size, bool thick, struct loop_dev *d)
{
        char file[256];
        int fd;

        snprintf(file, sizeof(file), "%s/%s", root, name);
        fd = open(file, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
        ck_assert_int_ge(fd, 0);
        if (thick)
                ck_assert_int_eq(posix_fallocate(fd, 0, (off_t)size), 0);
        else
                ck_assert_int_eq(ftruncate(fd, (off_t)size), 0);
        close(fd);
        ck_assert_int_eq(loop_attach(file, d), 0);
}

static uint64_t allocated(const char *name)
{
        char file[256];
        struct stat st;

        snprintf(file, sizeof(file), "%s/%s", root, name);
        ck_assert_int_eq(stat(file, &st), 0);
        return (uint64_t)st.st_blocks * 512;
}

static void grow_file(const char *name, uint64_t size)
{
        char file[256];

        snprintf(file, sizeof(file), "%s/%s", root, name);
        ck_assert_int_eq(truncate(file, (off_t)size), 0);
}

START_TEST(test_spawn)
{
        const char *t[] = {"true", NULL}, *f[] = {"false", NULL};
        const char *e[] = {"echo", "one", "two", NULL}, *n[] = {"silo-no-such-tool", NULL};
        const char *p[] = {"/bin/true", NULL};
        char out[64], last[64];

        ck_assert_int_eq(spawn_run(t, out, sizeof(out)), 0);
        ck_assert_int_eq(spawn_run(f, out, sizeof(out)), 1);
        ck_assert_int_eq(spawn_run(e, out, sizeof(out)), 0);
        ck_assert_str_eq(out, "one two\n");
        ck_assert_int_eq(spawn_run(e, out, 4), 0);
        ck_assert_str_eq(out, "one");
        ck_assert_int_eq(spawn_run(n, out, sizeof(out)), -ENOENT);
        ck_assert_int_eq(spawn_run(p, out, sizeof(out)), -EINVAL); /* no paths */
        spawn_error_line("\n", last, sizeof(last));
        ck_assert_str_eq(last, "");
        spawn_error_line("Filesystem must be larger than 300MB.\nUsage: mkfs.xfs\n"
                         "/* blocksize */\t\t[-b size=num]\n<value> is xxx (512 byte blocks).\n",
                         last, sizeof(last));
        ck_assert_str_eq(last, "Filesystem must be larger than 300MB.");
        spawn_error_line("resize2fs 1.47.0 (5-Feb-2023)\nresize2fs: Permission "
                         "denied to resize filesystem\n",
                         last, sizeof(last));
        ck_assert_str_eq(last, "resize2fs: Permission denied to resize filesystem");
        spawn_error_line("mke2fs 1.47.0 (5-Feb-2023)\nmkfs.ext4: Device size "
                         "reported to be zero.\n",
                         last, sizeof(last));
        ck_assert_str_eq(last, "mkfs.ext4: Device size reported to be zero.");
        spawn_error_line("  indented\n", last, sizeof(last));
        ck_assert_str_eq(last, "indented");
}
END_TEST

START_TEST(test_mkfs_ext4_no_reserve)
{
        unsigned char sb[1024];
        struct loop_dev d;
        uint64_t size;
        uint32_t reserved;
        char why[256];
        int fd;

        attach_new("e.img", 64 * MIB, false, &d);
        ck_assert_int_eq(fs_mkfs(d.node, "ext4", false, why, sizeof(why)), 0);
        ck_assert_int_eq(fs_size(d.node, "ext4", &size), 0);
        ck_assert_uint_eq(size, 64 * MIB);
        ck_assert_int_eq(fs_size(d.node, "xfs", &size), -EMEDIUMTYPE);
        fd = open(d.node, O_RDONLY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(pread(fd, sb, sizeof(sb), 1024), (ssize_t)sizeof(sb));
        close(fd);
        memcpy(&reserved, sb + 0x8, sizeof(reserved));
        ck_assert_uint_eq(le32toh(reserved), 0);
        /* Not forced: a second mkfs over a filesystem refuses. */
        ck_assert_int_lt(fs_mkfs(d.node, "xfs", false, why, sizeof(why)), 0);
        ck_assert(why[0] != '\0');
        ck_assert_int_eq(loop_detach(&d), 0);
}
END_TEST

START_TEST(test_mkfs_thick_keeps_allocation)
{
        struct loop_dev d;
        char why[256];

        attach_new("thick4.img", 64 * MIB, true, &d);
        ck_assert_uint_ge(allocated("thick4.img"), 64 * MIB);
        ck_assert_int_eq(fs_mkfs(d.node, "ext4", true, why, sizeof(why)), 0);
        ck_assert_uint_ge(allocated("thick4.img"), 64 * MIB);
        ck_assert_int_eq(loop_detach(&d), 0);
        attach_new("thickx.img", XFS_MIN, true, &d);
        ck_assert_int_eq(fs_mkfs(d.node, "xfs", true, why, sizeof(why)), 0);
        ck_assert_uint_ge(allocated("thickx.img"), XFS_MIN);
        ck_assert_int_eq(loop_detach(&d), 0);
}
END_TEST

START_TEST(test_mkfs_thin_discards)
{
        struct loop_dev d;
        char why[256];

        /* The counterpart: without nodiscard mkfs punches the allocation away. */
        attach_new("thin.img", 64 * MIB, true, &d);
        ck_assert_int_eq(fs_mkfs(d.node, "ext4", false, why, sizeof(why)), 0);
        ck_assert_uint_lt(allocated("thin.img"), 64 * MIB);
        ck_assert_int_eq(loop_detach(&d), 0);
}
END_TEST

START_TEST(test_grow_ext4_offline)
{
        struct loop_dev d;
        uint64_t size;
        char why[256];

        attach_new("g4.img", 64 * MIB, false, &d);
        ck_assert_int_eq(fs_mkfs(d.node, "ext4", false, why, sizeof(why)), 0);
        grow_file("g4.img", 96 * MIB);
        ck_assert_int_eq(loop_set_capacity(&d, &size), 0);
        ck_assert_uint_eq(size, 96 * MIB);
        ck_assert_int_eq(fs_grow_offline(d.node, "ext4", why, sizeof(why)), 0);
        ck_assert_int_eq(fs_size(d.node, "ext4", &size), 0);
        ck_assert_uint_eq(size, 96 * MIB);
        ck_assert_int_eq(fs_grow_offline(d.node, "xfs", why, sizeof(why)), -EOPNOTSUPP);
        ck_assert_int_eq(loop_detach(&d), 0);
}
END_TEST

START_TEST(test_grow_online)
{
        struct loop_dev d;
        struct statvfs sv, before;
        uint64_t size;
        char why[256], mnt[256];
        int r;

        snprintf(mnt, sizeof(mnt), "%s/mnt", root);
        ck_assert_int_eq(mkdir(mnt, 0755), 0);
        attach_new("gx.img", XFS_MIN, false, &d);
        ck_assert_int_eq(fs_mkfs(d.node, "xfs", false, why, sizeof(why)), 0);
        ck_assert_int_eq(mount(d.node, mnt, "xfs", 0, "nouuid"), 0);
        ck_assert_int_eq(statvfs(mnt, &before), 0);
        grow_file("gx.img", XFS_MIN + 64 * MIB);
        ck_assert_int_eq(loop_set_capacity(&d, &size), 0);
        ck_assert_int_eq(fs_grow_online(d.node, mnt, "xfs", why, sizeof(why)), 0);
        ck_assert_int_eq(statvfs(mnt, &sv), 0);
        ck_assert_uint_eq((uint64_t)(sv.f_blocks - before.f_blocks) * sv.f_frsize, 64 * MIB);
        ck_assert_int_eq(umount2(mnt, UMOUNT_NOFOLLOW), 0);
        /* The superblock on disk catches up once the log is written back. */
        ck_assert_int_eq(fs_size(d.node, "xfs", &size), 0);
        ck_assert_uint_eq(size, XFS_MIN + 64 * MIB);
        ck_assert_int_eq(loop_detach(&d), 0);

        /* ext4 online needs CAP_SYS_RESOURCE: either it grows or it says EPERM. */
        attach_new("g4o.img", 64 * MIB, false, &d);
        ck_assert_int_eq(fs_mkfs(d.node, "ext4", false, why, sizeof(why)), 0);
        ck_assert_int_eq(mount(d.node, mnt, "ext4", 0, NULL), 0);
        grow_file("g4o.img", 96 * MIB);
        ck_assert_int_eq(loop_set_capacity(&d, &size), 0);
        r = fs_grow_online(d.node, mnt, "ext4", why, sizeof(why));
        ck_assert_msg(r == 0 || r == -EPERM, "r=%d why=%s", r, why);
        ck_assert_int_eq(fs_size(d.node, "ext4", &size), 0);
        ck_assert_uint_eq(size, r == 0 ? 96 * MIB : 64 * MIB);
        ck_assert_int_eq(umount2(mnt, UMOUNT_NOFOLLOW), 0);
        ck_assert_int_eq(loop_detach(&d), 0);
}
END_TEST

static Suite *fs_suite(void)
{
        Suite *s = suite_create("fs");
        TCase *tc = tcase_create("fs");

        tcase_add_unchecked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, test_spawn);
        tcase_add_test(tc, test_mkfs_ext4_no_reserve);
        tcase_add_test(tc, test_mkfs_thick_keeps_allocation);
        tcase_add_test(tc, test_mkfs_thin_discards);
        tcase_add_test(tc, test_grow_ext4_offline);
        tcase_add_test(tc, test_grow_online);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(fs_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
