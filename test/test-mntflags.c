/* Unit tests for the mount-flag allow-list (node/mntopt.c) and the known-path set
 * (node/known.c). */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "node/known.h"
#include "node/mntopt.h"
#include "node/node.h"
#include "common/cleanup.h"

static int parse(const char *const *opts, struct mntopt *o)
{
        size_t n = 0;

        while (opts[n])
                n++;
        return mntopt_parse(opts, n, o);
}

START_TEST(test_accepts_allow_list)
{
        const char *opts[] = {"ro,noexec", "nosuid", "nodev", "noatime", "discard", NULL};
        struct mntopt o;

        ck_assert_int_eq(parse(opts, &o), 0);
        ck_assert_uint_eq(o.flags & MNTOPT_BIND_MASK,
                          MS_RDONLY | MS_NOEXEC | MS_NOSUID | MS_NODEV | MS_NOATIME);
        ck_assert(o.discard);
}
END_TEST

START_TEST(test_later_wins)
{
        const char *opts[] = {"ro", "rw", "noatime", "relatime", "discard,nodiscard", NULL};
        struct mntopt o;

        ck_assert_int_eq(parse(opts, &o), 0);
        ck_assert(!(o.flags & MS_RDONLY));
        ck_assert(!(o.flags & MS_NOATIME));
        ck_assert(o.flags & MS_RELATIME);
        ck_assert(!o.discard);
}
END_TEST

START_TEST(test_empty_and_defaults)
{
        const char *opts[] = {"", "defaults", ",", NULL};
        struct mntopt o;

        ck_assert_int_eq(parse(opts, &o), 0);
        ck_assert_uint_eq(o.flags, 0);
        ck_assert_int_eq(mntopt_parse(NULL, 0, &o), 0);
}
END_TEST

START_TEST(test_refuses)
{
        const char *bad[] = {"bind",       "rbind",       "remount", "move",  "errors=panic",
                             "x-whatever", "loop=/dev/x", "ro rw",   "ro\tx", "noexec,bind"};
        struct mntopt o;

        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                const char *opts[] = {bad[i], NULL};

                node_why_clear();
                ck_assert_int_eq(parse(opts, &o), -SILO_EINVALID);
                ck_assert_msg(node_why()[0] != '\0', "no reason for '%s'", bad[i]);
        }
}
END_TEST

START_TEST(test_bounds)
{
        const char *many[MNTOPT_MAX_FLAGS + 1];
        char longopt[MNTOPT_MAX_LEN + 2];
        const char *one[] = {longopt, NULL};
        struct mntopt o;

        for (size_t i = 0; i < ARRAY_SIZE(many); i++)
                many[i] = "ro";
        ck_assert_int_eq(mntopt_parse(many, ARRAY_SIZE(many), &o), -SILO_EINVALID);
        memset(longopt, 'a', sizeof(longopt) - 1);
        longopt[sizeof(longopt) - 1] = '\0';
        ck_assert_int_eq(parse(one, &o), -SILO_EINVALID);
}
END_TEST

START_TEST(test_has)
{
        ck_assert(mntopt_has("rw,nouuid,discard", "discard"));
        ck_assert(mntopt_has("discard", "discard"));
        ck_assert(!mntopt_has("rw,nodiscard", "discard"));
        ck_assert(!mntopt_has("rw,discard2", "discard"));
        ck_assert(!mntopt_has("", "discard"));
}
END_TEST

START_TEST(test_known)
{
        struct known *k = NULL;

        ck_assert_int_eq(known_new(&k), 0);
        ck_assert(!known_has(k, "v1", "/a"));
        known_add(k, "v1", "/a");
        known_add(k, "v1", "/a");
        known_add(k, "v2", "/a");
        ck_assert(known_has(k, "v1", "/a"));
        ck_assert(known_has(k, "v2", "/a"));
        ck_assert(!known_has(k, "v1", "/b"));
        known_remove(k, "v1", "/a");
        ck_assert(!known_has(k, "v1", "/a"));
        ck_assert(known_has(k, "v2", "/a"));
        for (int i = 0; i < 100; i++) {
                char p[16];

                snprintf(p, sizeof(p), "/p%d", i);
                known_add(k, "v3", p);
        }
        ck_assert(known_has(k, "v3", "/p99"));
        known_free(k);
        known_free(NULL);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("mntopt");
        TCase *tc = tcase_create("mntopt");
        SRunner *sr;
        int failed;

        tcase_add_test(tc, test_accepts_allow_list);
        tcase_add_test(tc, test_later_wins);
        tcase_add_test(tc, test_empty_and_defaults);
        tcase_add_test(tc, test_refuses);
        tcase_add_test(tc, test_bounds);
        tcase_add_test(tc, test_has);
        tcase_add_test(tc, test_known);
        suite_add_tcase(s, tc);
        sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
