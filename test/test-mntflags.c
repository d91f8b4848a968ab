/* Unit tests for the mount-flag allow-list (common/mntflags.c). */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/mntflags.h"
#include "common/cleanup.h"

static int parse(const char *const *opts, struct mntflags *o)
{
        size_t n = 0;

        while (opts[n])
                n++;
        char why[128];
        return mntflags_parse(opts, n, o, why, sizeof(why));
}

START_TEST(test_accepts_allow_list)
{
        const char *opts[] = {"ro,noexec", "nosuid", "nodev", "noatime", "discard", NULL};
        struct mntflags o;

        ck_assert_int_eq(parse(opts, &o), 0);
        ck_assert_uint_eq(o.flags & MNTFLAGS_BIND_MASK,
                          MS_RDONLY | MS_NOEXEC | MS_NOSUID | MS_NODEV | MS_NOATIME);
        ck_assert(o.discard);
}
END_TEST

START_TEST(test_later_wins)
{
        const char *opts[] = {"ro", "rw", "noatime", "relatime", "discard,nodiscard", NULL};
        struct mntflags o;

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
        struct mntflags o;

        ck_assert_int_eq(parse(opts, &o), 0);
        ck_assert_uint_eq(o.flags, 0);
        ck_assert_int_eq(mntflags_parse(NULL, 0, &o, NULL, 0), 0);
}
END_TEST

START_TEST(test_refuses)
{
        const char *bad[] = {"bind",         "rbind",          "remount",        "move",
                             "errors=panic", "x-whatever",     "loop=/dev/x",    "ro rw",
                             "ro\tx",        "noexec,bind",    "helper=/bin/sh", "--",
                             "-o",           "rw,exec;touch x"};
        struct mntflags o;
        char why[128];

        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                const char *opts[] = {bad[i]};

                why[0] = '\0';
                ck_assert_int_eq(mntflags_parse(opts, 1, &o, why, sizeof(why)), -SILO_EINVALID);
                ck_assert_msg(strstr(why, "mount flag"), "no reason for '%s': %s", bad[i], why);
        }
}
END_TEST

START_TEST(test_bounds)
{
        const char *many[MNTFLAGS_MAX + 1];
        char longopt[MNTFLAGS_MAX_LEN + 2];
        const char *one[] = {longopt, NULL};
        struct mntflags o;

        for (size_t i = 0; i < ARRAY_SIZE(many); i++)
                many[i] = "ro";
        ck_assert_int_eq(mntflags_parse(many, ARRAY_SIZE(many), &o, NULL, 0), -SILO_EINVALID);
        memset(longopt, 'a', sizeof(longopt) - 1);
        longopt[sizeof(longopt) - 1] = '\0';
        ck_assert_int_eq(parse(one, &o), -SILO_EINVALID);
}
END_TEST

/* kubelet with seLinuxMount: true adds this entry at stage and publish. */
START_TEST(test_selinux_context)
{
        const char *kubelet[] = {"context=\"system_u:object_r:container_file_t:s0:c1,c2\"", NULL};
        const char *mixed[] = {"noatime,context=\"system_u:object_r:container_file_t:s0:c1,c2\",ro",
                               "context=\"system_u:object_r:container_file_t:s0:c1,c2\"", "nosuid",
                               NULL};
        const char *none[] = {"ro", NULL};
        struct mntflags o;

        ck_assert_int_eq(parse(kubelet, &o), 0);
        ck_assert_str_eq(o.context, "system_u:object_r:container_file_t:s0:c1,c2");
        ck_assert_uint_eq(o.flags, 0);
        ck_assert_int_eq(parse(mixed, &o), 0); /* the same label twice is one label */
        ck_assert_str_eq(o.context, "system_u:object_r:container_file_t:s0:c1,c2");
        ck_assert_uint_eq(o.flags, MS_NOATIME | MS_RDONLY | MS_NOSUID);
        ck_assert_int_eq(parse(none, &o), 0);
        ck_assert_str_eq(o.context, "");
}
END_TEST

/* Nothing rides in with the label: not another option, not a second quote. */
START_TEST(test_selinux_context_refused)
{
        static const char *const bad[][3] = {
            {"context=\"system_u:object_r:container_file_t:s0:c1,c2\",bind", NULL},
            {"context=\"system_u:object_r:container_file_t:s0:c1,c2\",\"", NULL},
            {"context=\"system_u:object_r:container_file_t:s0:c1,c2\",\"ro\"", NULL},
            {"context=\"system_u:object_r:container_file_t:s0\",context=\"x", NULL},
            {"context=\"system_u:object_r:container_file_t:s0,remount\"", NULL},
            {"context=\"system_u:object_r:container_file_t:s0:c1,c2\"x", NULL},
            {"context=system_u:object_r:container_file_t:s0:c1,c2", NULL},
            {"context=system_u:object_r:container_file_t:s0", NULL},
            {"ro,context=\"system_u:object_r:container_file_t:s0:c1", "c2\"", NULL},
            {"context=\"system_u:object_r:container_file_t:s0:c1\"",
             "context=\"system_u:object_r:container_file_t:s0:c2\"", NULL},
            {"context=\"system_u:object_r:container_file_t:s0:c1 \"", NULL},
            {"context=\"system_u:object_r:container_file_t:s0:c1\\\"", NULL},
            {"ro\"context=\"system_u:object_r:container_file_t:s0\"", NULL},
            {"fscontext=\"system_u:object_r:container_file_t:s0\"", NULL},
            {"defcontext=\"system_u:object_r:container_file_t:s0\"", NULL},
            {"rootcontext=\"system_u:object_r:container_file_t:s0\"", NULL},
            {"Context=\"system_u:object_r:container_file_t:s0\"", NULL},
        };
        struct mntflags o = {.flags = 7};
        char why[256];

        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                size_t n = bad[i][1] ? 2 : 1;

                why[0] = '\0';
                ck_assert_msg(mntflags_parse(bad[i], n, &o, why, sizeof(why)) == -SILO_EINVALID,
                              "accepted %s", bad[i][0]);
                ck_assert_msg(strstr(why, "mount flag") == why, "%s: %s", bad[i][0], why);
        }
        ck_assert_uint_eq(o.flags, 7);
}
END_TEST

START_TEST(test_has)
{
        ck_assert(mntflags_has("rw,nouuid,discard", "discard"));
        ck_assert(mntflags_has("discard", "discard"));
        ck_assert(!mntflags_has("rw,nodiscard", "discard"));
        ck_assert(!mntflags_has("rw,discard2", "discard"));
        ck_assert(!mntflags_has("", "discard"));
}
END_TEST

int main(void)
{
        Suite *s = suite_create("mntflags");
        TCase *tc = tcase_create("mntflags");
        SRunner *sr;
        int failed;

        tcase_add_test(tc, test_accepts_allow_list);
        tcase_add_test(tc, test_later_wins);
        tcase_add_test(tc, test_empty_and_defaults);
        tcase_add_test(tc, test_refuses);
        tcase_add_test(tc, test_bounds);
        tcase_add_test(tc, test_selinux_context);
        tcase_add_test(tc, test_selinux_context_refused);
        tcase_add_test(tc, test_has);
        suite_add_tcase(s, tc);
        sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
