/* Unit tests for the SELinux context= mount option (common/mntcontext.c). */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/mntcontext.h"
#include "common/cleanup.h"

#define KUBELET_LABEL "system_u:object_r:container_file_t:s0:c1,c2"

START_TEST(test_accepts_kubelet_form)
{
        static const char *const good[] = {
            KUBELET_LABEL,
            "system_u:object_r:container_file_t:s0",
            "system_u:object_r:container_file_t:s0:c0.c1023",
            "system_u:object_r:container_file_t:s0-s0:c0.c1023",
            "system_u:object_r:svirt_sandbox_file_t:s0:c12,c345.c400,c1023",
            "system_u:object_r:container_file_t:s0:c1,c2-s15:c1,c2",
            "u:r:t:s9999:c9999",
        };
        char label[MNTCONTEXT_MAX + 1], opt[300];
        size_t len;

        for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
                snprintf(opt, sizeof(opt), "context=\"%s\"", good[i]);
                ck_assert_msg(mntcontext_parse(opt, label, &len, NULL, 0) == 0, "%s", opt);
                ck_assert_str_eq(label, good[i]);
                ck_assert_uint_eq(len, strlen(opt));
                ck_assert_int_eq(mntcontext_check_label(good[i], strlen(good[i]), NULL, 0), 0);
        }
        /* Followed by more options: the length stops at the closing quote. */
        ck_assert_int_eq(mntcontext_parse("context=\"" KUBELET_LABEL "\",ro", label, &len, NULL, 0),
                         0);
        ck_assert_str_eq(label, KUBELET_LABEL);
        ck_assert_uint_eq(len, strlen("context=\"" KUBELET_LABEL "\""));
}
END_TEST

START_TEST(test_refuses_smuggling)
{
        static const char *const bad[] = {
            "context=system_u:object_r:container_file_t:s0:c1,c2",      /* quotes are required */
            "context=system_u:object_r:container_file_t:s0",            /* even without a comma */
            "context=\"system_u:object_r:container_file_t:s0:c1,c2",    /* unterminated */
            "context=\"system_u:object_r:container_file_t:s0:c1,c2\"x", /* junk after it */
            "context=\"system_u:object_r:container_file_t:s0:c1,c2\"\"",
            "context=\"system_u:object_r:container_file_t:s0,nosuid\"",
            "context=\"system_u:object_r:container_file_t:s0:c1,dev\"",
            "context=\"system_u:object_r:container_file_t:s0:c1\\,c2\"",
            "context=\"system_u:object_r:container_file_t:s0:c1, c2\"",
            "context=\"system_u:object_r:container_file_t:s0 \"",
            "context=\"system_u:object_r:container_file_t\"", /* no level */
            "context=\"system_u:object_r:container_file_t:\"",
            "context=\"system_u:object_r::s0\"",
            "context=\"system_u::container_file_t:s0\"",
            "context=\":object_r:container_file_t:s0\"",
            "context=\"System_u:object_r:container_file_t:s0\"",
            "context=\"system_u:object_r:container-file_t:s0\"",
            "context=\"system_u:object_r:container.file_t:s0\"",
            "context=\"system_u:object_r:container_file_t:s0:c1:c2\"",
            "context=\"system_u:object_r:container_file_t:s0:c1,\"",
            "context=\"system_u:object_r:container_file_t:s0:c1..c2\"",
            "context=\"system_u:object_r:container_file_t:s0:c1.c2.c3\"",
            "context=\"system_u:object_r:container_file_t:s0:\"",
            "context=\"system_u:object_r:container_file_t:s0-\"",
            "context=\"system_u:object_r:container_file_t:s0-s1-s2\"",
            "context=\"system_u:object_r:container_file_t:s01\"",
            "context=\"system_u:object_r:container_file_t:s0:c01\"",
            "context=\"system_u:object_r:container_file_t:s10000\"",
            "context=\"system_u:object_r:container_file_t:t0\"",
            "context=\"system_u:object_r:container_file_t:s0:d1\"",
            "context=\"system_u:object_r:container_file_t:s0:c\"",
            "context=\"system_u:object_r:container_file_t:s\"",
            "context=\"a:b:c:d:s0\"",
            "context=\"\"",
            "context=''",
            "context='system_u:object_r:container_file_t:s0:c1,c2'",
            "fscontext=\"system_u:object_r:container_file_t:s0:c1,c2\"",
            "context",
            "",
        };
        char label[MNTCONTEXT_MAX + 1] = "untouched", why[256];
        size_t len = 7;

        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                why[0] = '\0';
                ck_assert_msg(mntcontext_parse(bad[i], label, &len, why, sizeof(why)) ==
                                  -SILO_EINVALID,
                              "accepted %s", bad[i]);
                ck_assert_msg(strstr(why, "mount flag '") == why, "%s: %s", bad[i], why);
        }
        ck_assert_str_eq(label, "untouched");
        ck_assert_uint_eq(len, 7);
}
END_TEST

START_TEST(test_bounded)
{
        char opt[512], label[MNTCONTEXT_MAX + 1], why[256];
        size_t len, fixed = strlen("u:r:t:s0:c1");
        int n = 0;

        /* Longest accepted label: categories padded up to MNTCONTEXT_MAX bytes. */
        n = snprintf(opt, sizeof(opt), "context=\"u:r:t:s0:c1");
        while (n - 9 + 3 <= MNTCONTEXT_MAX)
                n += snprintf(opt + n, sizeof(opt) - (size_t)n, ",c1");
        snprintf(opt + n, sizeof(opt) - (size_t)n, "\"");
        ck_assert_int_eq(mntcontext_parse(opt, label, &len, NULL, 0), 0);
        ck_assert_uint_le(strlen(label), MNTCONTEXT_MAX);
        ck_assert_uint_gt(strlen(label), fixed);
        /* One more category is over the bound. */
        snprintf(opt + n, sizeof(opt) - (size_t)n, ",c1,c1\"");
        ck_assert_int_eq(mntcontext_parse(opt, label, &len, why, sizeof(why)), -SILO_EINVALID);
        ck_assert_ptr_nonnull(strstr(why, "longer than 200 bytes"));
        /* Messages cut what they show. */
        ck_assert_uint_lt(strlen(why), 200);
}
END_TEST

START_TEST(test_messages_name_the_part)
{
        char label[MNTCONTEXT_MAX + 1], why[256];
        size_t len;

        ck_assert_int_eq(
            mntcontext_parse("context=\"Sys:object_r:t:s0\"", label, &len, why, sizeof(why)),
            -SILO_EINVALID);
        ck_assert_str_eq(why, "mount flag 'context=\"Sys:object_r:t:s0\"': the SELinux user is not "
                              "[a-z0-9_]+ followed by ':' (want user:role:type:level, as in "
                              "system_u:object_r:container_file_t:s0:c1,c2)");
        ck_assert_int_eq(
            mntcontext_parse("context=\"u:r:t:s0:c1:c2\"", label, &len, why, sizeof(why)),
            -SILO_EINVALID);
        ck_assert_ptr_nonnull(strstr(why, "the SELinux level is not an MLS range"));
        ck_assert_int_eq(mntcontext_parse("context=u:r:t:s0", label, &len, why, sizeof(why)),
                         -SILO_EINVALID);
        ck_assert_ptr_nonnull(strstr(why, "the quotes are required"));
}
END_TEST

START_TEST(test_of_mountinfo_options)
{
        char label[MNTCONTEXT_MAX + 1];

        /* How the kernel shows it: quoted only when the label holds a comma. */
        ck_assert_int_eq(
            mntcontext_of_options("rw,context=\"" KUBELET_LABEL "\",seclabel,nouuid", label), 1);
        ck_assert_str_eq(label, KUBELET_LABEL);
        ck_assert_int_eq(mntcontext_of_options("rw,seclabel,context=system_u:object_r:"
                                               "container_file_t:s0",
                                               label),
                         1);
        ck_assert_str_eq(label, "system_u:object_r:container_file_t:s0");
        /* Other options that end in context= are not ours; their quoted commas are skipped. */
        ck_assert_int_eq(mntcontext_of_options("rw,fscontext=\"u:r:t:s0:c1,context=x\",seclabel,"
                                               "rootcontext=u:r:t:s0",
                                               label),
                         0);
        ck_assert_int_eq(mntcontext_of_options("rw,errors=remount-ro", label), 0);
        ck_assert_int_eq(mntcontext_of_options("", label), 0);
        ck_assert_int_eq(mntcontext_of_options(NULL, label), 0);
        ck_assert_int_eq(mntcontext_of_options("rw,context=\"u:r:t:s0:c1", label), -EINVAL);
        ck_assert_int_eq(mntcontext_of_options("rw,context=bogus", label), -EINVAL);
        ck_assert(mntcontext_options_match("rw,context=\"" KUBELET_LABEL "\"", KUBELET_LABEL));
        ck_assert(mntcontext_options_match("rw,nouuid", ""));
        ck_assert(!mntcontext_options_match("rw,nouuid", KUBELET_LABEL));
        ck_assert(!mntcontext_options_match("rw,context=\"" KUBELET_LABEL "\"", ""));
        ck_assert(!mntcontext_options_match("rw,context=u:r:t:s0", KUBELET_LABEL));
        ck_assert(!mntcontext_options_match("rw,context=bogus", ""));
}
END_TEST

int main(void)
{
        Suite *s = suite_create("mntcontext");
        TCase *tc = tcase_create("mntcontext");
        SRunner *sr;
        int failed;

        tcase_add_test(tc, test_accepts_kubelet_form);
        tcase_add_test(tc, test_refuses_smuggling);
        tcase_add_test(tc, test_bounded);
        tcase_add_test(tc, test_messages_name_the_part);
        tcase_add_test(tc, test_of_mountinfo_options);
        suite_add_tcase(s, tc);
        sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
