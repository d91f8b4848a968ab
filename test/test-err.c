#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/cleanup.h"

START_TEST(private_codes_map_to_spec_statuses)
{
        ck_assert_int_eq(err_status_of(0), ERR_OK);
        ck_assert_int_eq(err_status_of(-SILO_ENOTFOUND), ERR_NOT_FOUND);
        ck_assert_int_eq(err_status_of(-SILO_EEXISTS), ERR_ALREADY_EXISTS);
        ck_assert_int_eq(err_status_of(-SILO_EPRECOND), ERR_FAILED_PRECONDITION);
        ck_assert_int_eq(err_status_of(-SILO_EPENDING), ERR_ABORTED);
        ck_assert_int_eq(err_status_of(-SILO_EBADTOKEN), ERR_ABORTED);
        ck_assert_int_eq(err_status_of(-SILO_EOUTOFRANGE), ERR_OUT_OF_RANGE);
        ck_assert_int_eq(err_status_of(-SILO_ENOSPACE), ERR_RESOURCE_EXHAUSTED);
        ck_assert_int_eq(err_status_of(-SILO_EUNIMPL), ERR_UNIMPLEMENTED);
        ck_assert_int_eq(err_status_of(-SILO_EOVERLOAD), ERR_UNAVAILABLE);
        ck_assert_int_eq(err_status_of(-SILO_ETIMEOUT), ERR_DEADLINE_EXCEEDED);
        ck_assert_int_eq(err_status_of(-SILO_EINVALID), ERR_INVALID_ARGUMENT);
}
END_TEST

/* A coincidental errno must not become a spec status such as ABORTED or NOT_FOUND. */
START_TEST(plain_errnos_are_internal)
{
        ck_assert_int_eq(err_status_of(-EBUSY), ERR_INTERNAL);
        ck_assert_int_eq(err_status_of(-ENOENT), ERR_INTERNAL);
        ck_assert_int_eq(err_status_of(-EEXIST), ERR_INTERNAL);
        ck_assert_int_eq(err_status_of(-EIO), ERR_INTERNAL);
        ck_assert_int_eq(err_status_of(-EINVAL), ERR_INVALID_ARGUMENT);
        ck_assert_int_eq(err_status_of(-ENOSPC), ERR_RESOURCE_EXHAUSTED);
        ck_assert_int_eq(err_status_of(-99999), ERR_INTERNAL);
}
END_TEST

START_TEST(messages_keep_the_cause)
{
        char buf[128];
        err_format(buf, sizeof(buf), -EIO, "cannot mount '/x'");
        ck_assert_str_eq(buf, "cannot mount '/x': Input/output error");
        err_format(buf, sizeof(buf), -SILO_ENOTFOUND, "volume 'v1' not found");
        ck_assert_str_eq(buf, "volume 'v1' not found");
        err_format(buf, sizeof(buf), -SILO_EPENDING, "");
        ck_assert_str_eq(buf, "an operation on this object is pending");
}
END_TEST

START_TEST(status_names)
{
        ck_assert_str_eq(err_status_name(ERR_NOT_FOUND), "NOT_FOUND");
        ck_assert_str_eq(err_status_name((enum err_status)77), "INTERNAL");
        ck_assert_int_eq(err_status_parse("ABORTED"), ERR_ABORTED);
        ck_assert_int_eq(err_status_parse("NOPE"), -EINVAL);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("err");
        TCase *tc = tcase_create("map");
        tcase_add_test(tc, private_codes_map_to_spec_statuses);
        tcase_add_test(tc, plain_errnos_are_internal);
        tcase_add_test(tc, messages_keep_the_cause);
        tcase_add_test(tc, status_names);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
