#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/units.h"
#include "common/cleanup.h"

START_TEST(sizes)
{
        uint64_t v;
        ck_assert_int_eq(units_parse_size("4096", &v), 0);
        ck_assert_uint_eq(v, 4096);
        ck_assert_int_eq(units_parse_size("1Gi", &v), 0);
        ck_assert_uint_eq(v, 1ULL << 30);
        ck_assert_int_eq(units_parse_size("512Mi", &v), 0);
        ck_assert_uint_eq(v, 512ULL << 20);
        ck_assert_int_eq(units_parse_size("2G", &v), 0);
        ck_assert_uint_eq(v, 2000000000ULL);
        ck_assert_int_eq(units_parse_size("", &v), -EINVAL);
        ck_assert_int_eq(units_parse_size("-1", &v), -EINVAL);
        ck_assert_int_eq(units_parse_size("1Gb", &v), -EINVAL);
        ck_assert_int_eq(units_parse_size(" 1", &v), -EINVAL);
        ck_assert_int_eq(units_parse_size("99999999999Ti", &v), -ERANGE);
        ck_assert_int_eq(units_parse_size("99999999999999999999999", &v), -ERANGE);
}
END_TEST

START_TEST(durations)
{
        uint64_t v;
        ck_assert_int_eq(units_parse_duration_ms("15s", &v), 0);
        ck_assert_uint_eq(v, 15000);
        ck_assert_int_eq(units_parse_duration_ms("250ms", &v), 0);
        ck_assert_uint_eq(v, 250);
        ck_assert_int_eq(units_parse_duration_ms("2m", &v), 0);
        ck_assert_uint_eq(v, 120000);
        ck_assert_int_eq(units_parse_duration_ms("3", &v), 0);
        ck_assert_uint_eq(v, 3000);
        ck_assert_int_eq(units_parse_duration_ms("1d", &v), -EINVAL);
        ck_assert_int_eq(units_parse_duration_ms("s", &v), -EINVAL);
}
END_TEST

START_TEST(counts)
{
        uint64_t v;
        ck_assert_int_eq(units_parse_u64("8", 1, 256, &v), 0);
        ck_assert_uint_eq(v, 8);
        ck_assert_int_eq(units_parse_u64("0", 1, 256, &v), -ERANGE);
        ck_assert_int_eq(units_parse_u64("257", 1, 256, &v), -ERANGE);
        ck_assert_int_eq(units_parse_u64("8k", 1, 256, &v), -EINVAL);
}
END_TEST

START_TEST(format)
{
        char buf[32];
        units_format_size(1ULL << 30, buf, sizeof(buf));
        ck_assert_str_eq(buf, "1Gi");
        units_format_size(3ULL << 20, buf, sizeof(buf));
        ck_assert_str_eq(buf, "3Mi");
        units_format_size(1000, buf, sizeof(buf));
        ck_assert_str_eq(buf, "1000");
}
END_TEST

int main(void)
{
        Suite *s = suite_create("units");
        TCase *tc = tcase_create("parse");
        tcase_add_test(tc, sizes);
        tcase_add_test(tc, durations);
        tcase_add_test(tc, counts);
        tcase_add_test(tc, format);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
