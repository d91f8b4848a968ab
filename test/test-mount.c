/* Unit tests for mounts and the mount table (node/mount.c). */
/* ctest-labels: privileged */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "node/mount.h"
#include "common/cleanup.h"

static char root[128];

static void sub(const char *name, char *buf, size_t n)
{
        snprintf(buf, n, "%s/%s", root, name);
}

static void make_dir(const char *name, char *buf, size_t n)
{
        sub(name, buf, n);
        ck_assert_int_eq(mkdir(buf, 0755), 0);
}

/* Unmounts everything below root, deepest and latest first. */
static int umount_all_under_root(void)
{
        struct mount_table *t = NULL;
        int n = 0;

        for (int pass = 0; pass < 64; pass++) {
                bool any = false;

                if (mount_table_load(&t) < 0)
                        return -1;
                for (size_t i = t->n; i > 0; i--)
                        if (strncmp(t->entries[i - 1].target, root, strlen(root)) == 0) {
                                any = true;
                                n++;
                                umount2(t->entries[i - 1].target, MNT_DETACH);
                                break;
                        }
                mount_table_free(t);
                if (!any)
                        return n;
        }
        return -1;
}

static void setup(void)
{
        snprintf(root, sizeof(root), "/tmp/silo-test-mount-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(root));
}

static void teardown(void)
{
        char cmd[256];
        int n = umount_all_under_root();

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        if (system(cmd) != 0 || n < 0) {
                fprintf(stderr, "teardown: could not clean '%s'\n", root);
                _exit(EXIT_FAILURE);
        }
}

static const struct mount_info *find(struct mount_table **t, const char *target)
{
        mount_table_free(*t);
        *t = NULL;
        ck_assert_int_eq(mount_table_load(t), 0);
        return mount_table_find_target(*t, target);
}

START_TEST(test_fs_mount_and_table)
{
        _cleanup_mount_table_ struct mount_table *t = NULL;
        char dir[256];
        const struct mount_info *m;
        struct stat st;

        make_dir("tmpfs", dir, sizeof(dir));
        ck_assert_ptr_null(find(&t, dir));
        ck_assert_int_eq(mount_fs("silo-test", dir, "tmpfs", MS_NOSUID, "size=1m"), 0);
        m = find(&t, dir);
        ck_assert_ptr_nonnull(m);
        ck_assert_str_eq(m->fstype, "tmpfs");
        ck_assert_str_eq(m->source, "silo-test");
        ck_assert_str_eq(m->root, "/");
        ck_assert(m->flags & MS_NOSUID);
        ck_assert(!(m->flags & MS_RDONLY));
        ck_assert(!m->sb_readonly);
        ck_assert_int_eq(stat(dir, &st), 0);
        ck_assert_uint_eq(m->devno, st.st_dev);
        ck_assert_ptr_eq(mount_table_find_devno(t, st.st_dev, NULL), m);
        ck_assert_ptr_null(mount_table_find_devno(t, st.st_dev, dir));
        ck_assert_int_eq(mount_umount(dir), 0);
        ck_assert_ptr_null(find(&t, dir));
        ck_assert_int_eq(mount_umount(dir), -EINVAL);
}
END_TEST

START_TEST(test_bind_rw_and_ro)
{
        _cleanup_mount_table_ struct mount_table *t = NULL;
        char src[256], rw[256], ro[256], file[300];
        const struct mount_info *m;
        int fd;

        make_dir("src", src, sizeof(src));
        make_dir("rw", rw, sizeof(rw));
        make_dir("ro", ro, sizeof(ro));
        ck_assert_int_eq(mount_fs("silo-test", src, "tmpfs", 0, "size=1m"), 0);
        ck_assert_int_eq(mount_bind(src, rw, 0), 0);
        ck_assert_int_eq(mount_bind(src, ro, MS_RDONLY), 0);
        m = find(&t, ro);
        ck_assert_ptr_nonnull(m);
        ck_assert(m->flags & MS_RDONLY);
        ck_assert(!m->sb_readonly); /* only this mount is read-only */
        ck_assert_uint_eq(m->devno, find(&t, src)->devno);
        ck_assert(!(find(&t, rw)->flags & MS_RDONLY));
        snprintf(file, sizeof(file), "%s/f", ro);
        ck_assert_int_eq(open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0600), -1);
        ck_assert_int_eq(errno, EROFS);
        snprintf(file, sizeof(file), "%s/f", rw);
        fd = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        ck_assert_int_ge(fd, 0);
        close(fd);
        ck_assert_int_eq(mount_umount(ro), 0);
        ck_assert_int_eq(mount_umount(rw), 0);
        ck_assert_int_eq(mount_umount(src), 0);
}
END_TEST

START_TEST(test_bind_flags)
{
        _cleanup_mount_table_ struct mount_table *t = NULL;
        char src[256], dst[256];
        const struct mount_info *m;
        unsigned long want = MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME;

        make_dir("fsrc", src, sizeof(src));
        make_dir("fdst", dst, sizeof(dst));
        ck_assert_int_eq(mount_bind(src, dst, MS_BIND), -EINVAL);
        ck_assert_int_eq(mount_bind(src, dst, MS_REMOUNT), -EINVAL);
        ck_assert_ptr_null(find(&t, dst));
        ck_assert_int_eq(mount_bind(src, dst, want), 0);
        m = find(&t, dst);
        ck_assert_ptr_nonnull(m);
        ck_assert_uint_eq(m->flags & want, want);
        ck_assert(!(m->flags & MS_RDONLY));
        ck_assert_int_eq(mount_umount(dst), 0);
}
END_TEST

START_TEST(test_node_bind)
{
        _cleanup_mount_table_ struct mount_table *t = NULL;
        char file[256];
        const struct mount_info *m;
        struct stat st;
        int fd;

        sub("nodefile", file, sizeof(file));
        fd = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        ck_assert_int_ge(fd, 0);
        close(fd);
        ck_assert_int_eq(mount_bind("/dev/null", file, 0), 0);
        ck_assert_int_eq(stat(file, &st), 0);
        ck_assert(S_ISCHR(st.st_mode));
        m = find(&t, file);
        ck_assert_ptr_nonnull(m);
        ck_assert_ptr_eq(mount_table_find_node_bind(t, "null", NULL), m);
        ck_assert_ptr_null(mount_table_find_node_bind(t, "null", file));
        ck_assert_int_eq(mount_umount(file), 0);
        ck_assert_int_eq(stat(file, &st), 0);
        ck_assert(S_ISREG(st.st_mode));
}
END_TEST

START_TEST(test_umount_symlink_not_followed)
{
        char dir[256], link[256];

        make_dir("real", dir, sizeof(dir));
        sub("link", link, sizeof(link));
        ck_assert_int_eq(symlink(dir, link), 0);
        ck_assert_int_eq(mount_fs("silo-test", dir, "tmpfs", 0, "size=1m"), 0);
        ck_assert_int_eq(mount_umount(link), -EINVAL);
        ck_assert_int_eq(mount_umount(dir), 0);
}
END_TEST

START_TEST(test_sb_readonly)
{
        _cleanup_mount_table_ struct mount_table *t = NULL;
        char dir[256];

        make_dir("rofs", dir, sizeof(dir));
        ck_assert_int_eq(mount_fs("silo-test", dir, "tmpfs", MS_RDONLY, "size=1m"), 0);
        ck_assert(find(&t, dir)->sb_readonly);
        ck_assert(find(&t, dir)->flags & MS_RDONLY);
        ck_assert_int_eq(mount_umount(dir), 0);
}
END_TEST

static Suite *mount_suite(void)
{
        Suite *s = suite_create("mount");
        TCase *tc = tcase_create("mount");

        tcase_add_unchecked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_fs_mount_and_table);
        tcase_add_test(tc, test_bind_rw_and_ro);
        tcase_add_test(tc, test_bind_flags);
        tcase_add_test(tc, test_node_bind);
        tcase_add_test(tc, test_umount_symlink_not_followed);
        tcase_add_test(tc, test_sb_readonly);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(mount_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
