/* Unit tests for staging/target path validation (common/path.c). */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/err.h"
#include "common/path.h"
#include "common/cleanup.h"

static char root[256], kdir[512], pool[768];

static void setup(void)
{
        char cmd[PATH_MAX + 32];

        snprintf(root, sizeof(root), "/tmp/silo-test-path-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(root));
        snprintf(kdir, sizeof(kdir), "%s/kubelet", root);
        snprintf(pool, sizeof(pool), "%s/kubelet/pool", root);
        ck_assert_int_eq(mkdir(kdir, 0755), 0);
        ck_assert_int_eq(mkdir(pool, 0755), 0);
        snprintf(cmd, sizeof(cmd), "%s/kubelet/pods", root);
        ck_assert_int_eq(mkdir(cmd, 0755), 0);
}

static void teardown(void)
{
        char cmd[PATH_MAX + 32];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        ck_assert_int_eq(system(cmd), 0);
}

/* Runs path_check on kdir + rel and returns its result. */
static int check_rel(const char *rel, char **ret)
{
        char p[PATH_MAX * 2];
        char why[256];

        snprintf(p, sizeof(p), "%s%s", kdir, rel);
        return path_check(p, kdir, pool, why, sizeof(why), ret);
}

static void assert_refused(const char *path)
{
        char why[256] = "";
        char *out = NULL;

        ck_assert_int_eq(path_check(path, kdir, pool, why, sizeof(why), &out), -SILO_EINVALID);
        ck_assert_ptr_null(out);
        ck_assert_msg(why[0] != '\0', "no reason for '%s'", path);
}

START_TEST(test_accepts_and_normalises)
{
        _cleanup_free_ char *out = NULL;
        char want[PATH_MAX + 64];

        ck_assert_int_eq(check_rel("//pods///vol1/mount/", &out), 0);
        snprintf(want, sizeof(want), "%s/pods/vol1/mount", kdir);
        ck_assert_str_eq(out, want);
}
END_TEST

START_TEST(test_refuses_bad_text)
{
        char p[PATH_MAX * 2];

        assert_refused("");
        assert_refused("relative/path");
        snprintf(p, sizeof(p), "%s/pods/../../etc", kdir);
        assert_refused(p);
        snprintf(p, sizeof(p), "%s/pods/..", kdir);
        assert_refused(p);
        snprintf(p, sizeof(p), "%s/pods/./x", kdir);
        assert_refused(p);
        snprintf(p, sizeof(p), "%s/pods/a\nb", kdir);
        assert_refused(p);
        snprintf(p, sizeof(p), "%s/pods/a\tb", kdir);
        assert_refused(p);
        snprintf(p, sizeof(p), "%s/pods/a\x7f", kdir);
        assert_refused(p);
}
END_TEST

START_TEST(test_refuses_outside_kubelet_dir)
{
        char p[PATH_MAX * 2];

        assert_refused("/etc");
        assert_refused("/dev/null");
        assert_refused(kdir);
        snprintf(p, sizeof(p), "%s/", kdir);
        assert_refused(p);
        /* A sibling whose name merely starts with the kubelet dir's name. */
        snprintf(p, sizeof(p), "%s-evil/x", kdir);
        assert_refused(p);
}
END_TEST

START_TEST(test_refuses_pool)
{
        char p[PATH_MAX * 2];

        assert_refused(pool);
        snprintf(p, sizeof(p), "%s/volumes/x.img", pool);
        assert_refused(p);
}
END_TEST

START_TEST(test_refuses_pool_ancestor)
{
        char p[PATH_MAX * 2], sub[PATH_MAX];
        char why[256];
        char *out = NULL;

        /* Pool deeper inside: a publish onto its parent would hide it. */
        snprintf(sub, sizeof(sub), "%s/pods/deep/pool", kdir);
        snprintf(p, sizeof(p), "%s/pods/deep", kdir);
        ck_assert_int_eq(path_check(p, kdir, sub, why, sizeof(why), &out), -SILO_EINVALID);
}
END_TEST

START_TEST(test_refuses_symlinks)
{
        char link[PATH_MAX + 32], p[PATH_MAX * 2];

        snprintf(link, sizeof(link), "%s/pods/escape", kdir);
        ck_assert_int_eq(symlink("/etc", link), 0);
        snprintf(p, sizeof(p), "%s/passwd", link);
        assert_refused(p);
        assert_refused(link);
        /* Even a symlink that stays inside is refused. */
        snprintf(link, sizeof(link), "%s/pods/inside", kdir);
        ck_assert_int_eq(symlink(kdir, link), 0);
        snprintf(p, sizeof(p), "%s/pods/x", link);
        assert_refused(p);
        snprintf(link, sizeof(link), "%s/pods/dangling", kdir);
        ck_assert_int_eq(symlink("/nonexistent/dir", link), 0);
        snprintf(p, sizeof(p), "%s/a/b", link);
        assert_refused(p);
}
END_TEST

START_TEST(test_refuses_through_file)
{
        char f[PATH_MAX + 32], p[PATH_MAX * 2];
        FILE *fp;

        snprintf(f, sizeof(f), "%s/pods/file", kdir);
        fp = fopen(f, "w");
        ck_assert_ptr_nonnull(fp);
        fclose(fp);
        snprintf(p, sizeof(p), "%s/sub", f);
        assert_refused(p);
}
END_TEST

START_TEST(test_missing_components_ok)
{
        _cleanup_free_ char *out = NULL;

        ck_assert_int_eq(check_rel("/pods/gone/deeper/target", &out), 0);
}
END_TEST

START_TEST(test_refuses_too_long)
{
        char p[PATH_CHECK_MAX + 64];
        size_t n = strlen(kdir);

        memcpy(p, kdir, n);
        for (; n < sizeof(p) - 1; n++)
                p[n] = (n % 100 == 0) ? '/' : 'a';
        p[n] = '\0';
        assert_refused(p);
}
END_TEST

START_TEST(test_normalise)
{
        _cleanup_free_ char *a = NULL, *b = NULL;

        ck_assert_int_eq(path_normalise("///", &a), 0);
        ck_assert_str_eq(a, "/");
        ck_assert_int_eq(path_normalise("/a//b/", &b), 0);
        ck_assert_str_eq(b, "/a/b");
        ck_assert_int_eq(path_normalise("a", &a), -EINVAL);
        ck_assert(path_is_within("/a/b", "/a"));
        ck_assert(path_is_within("/a", "/a"));
        ck_assert(!path_is_within("/ab", "/a"));
        ck_assert(path_is_within("/x", "/"));
}
END_TEST

static Suite *path_suite(void)
{
        Suite *s = suite_create("path");
        TCase *tc = tcase_create("check");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_accepts_and_normalises);
        tcase_add_test(tc, test_refuses_bad_text);
        tcase_add_test(tc, test_refuses_outside_kubelet_dir);
        tcase_add_test(tc, test_refuses_pool);
        tcase_add_test(tc, test_refuses_pool_ancestor);
        tcase_add_test(tc, test_refuses_symlinks);
        tcase_add_test(tc, test_refuses_through_file);
        tcase_add_test(tc, test_missing_components_ok);
        tcase_add_test(tc, test_refuses_too_long);
        tcase_add_test(tc, test_normalise);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(path_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
