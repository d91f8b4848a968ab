#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/str.h"
#include "common/cleanup.h"

START_TEST(copy_fits_or_refuses)
{
        char buf[8];
        ck_assert_int_eq(STR_COPY(buf, "1234567"), 0);
        ck_assert_str_eq(buf, "1234567");
        ck_assert_int_eq(STR_COPY(buf, ""), 0);
        ck_assert_str_eq(buf, "");
        ck_assert_int_eq(STR_COPY(buf, "12345678"), -ENAMETOOLONG);
        ck_assert_str_eq(buf, "");
        /* A source far longer than the buffer is never read past size bytes' worth. */
        char big[70000];
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        ck_assert_int_eq(STR_COPY(buf, big), -ENAMETOOLONG);
        ck_assert_int_eq(str_copy(buf, 0, "a"), -ENAMETOOLONG);
}
END_TEST

START_TEST(format_fits_or_refuses)
{
        char buf[8];
        ck_assert_int_eq(STR_FORMAT(buf, "%s-%d", "ab", 12), 0);
        ck_assert_str_eq(buf, "ab-12");
        ck_assert_int_eq(STR_FORMAT(buf, "%s", "12345678"), -ENAMETOOLONG);
        ck_assert_str_eq(buf, "");
}
END_TEST

int main(void)
{
        Suite *s = suite_create("str");
        TCase *tc = tcase_create("str");
        tcase_add_test(tc, copy_fits_or_refuses);
        tcase_add_test(tc, format_fits_or_refuses);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
