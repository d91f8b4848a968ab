#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/err.h"
#include "common/server/vlock.h"
#include "common/cleanup.h"

START_TEST(second_holder_is_refused)
{
        struct vlock_table *t;
        ck_assert_int_eq(vlock_table_new(&t), 0);
        struct vlock *a = NULL, *b = NULL, *c = NULL;
        ck_assert_int_eq(vlock_try(t, "vol", "v1", &a), 0);
        ck_assert_int_eq(vlock_try(t, "vol", "v1", &b), -SILO_EPENDING);
        /* Same id in another namespace, and another id, are independent. */
        ck_assert_int_eq(vlock_try(t, "name", "v1", &b), 0);
        ck_assert_int_eq(vlock_try(t, "vol", "v2", &c), 0);
        ck_assert_uint_eq(vlock_count(t), 3);
        vlock_release(a);
        ck_assert_int_eq(vlock_try(t, "vol", "v1", &a), 0);
        vlock_release(a);
        vlock_release(b);
        vlock_release(c);
        vlock_release(NULL);
        ck_assert_uint_eq(vlock_count(t), 0);
        vlock_table_free(t);
}
END_TEST

START_TEST(cleanup_releases)
{
        struct vlock_table *t;
        ck_assert_int_eq(vlock_table_new(&t), 0);
        {
                _cleanup_vlock_ struct vlock *l = NULL;
                ck_assert_int_eq(vlock_try(t, "snap", "s1", &l), 0);
                ck_assert_uint_eq(vlock_count(t), 1);
        }
        ck_assert_uint_eq(vlock_count(t), 0);
        vlock_table_free(t);
}
END_TEST

START_TEST(many_keys_share_buckets)
{
        struct vlock_table *t;
        ck_assert_int_eq(vlock_table_new(&t), 0);
        struct vlock *held[300];
        char id[32];
        for (int i = 0; i < 300; i++) {
                snprintf(id, sizeof(id), "v%d", i);
                ck_assert_int_eq(vlock_try(t, "vol", id, &held[i]), 0);
        }
        for (int i = 0; i < 300; i++) {
                struct vlock *x;
                snprintf(id, sizeof(id), "v%d", i);
                ck_assert_int_eq(vlock_try(t, "vol", id, &x), -SILO_EPENDING);
        }
        for (int i = 299; i >= 0; i -= 2)
                vlock_release(held[i]);
        for (int i = 298; i >= 0; i -= 2)
                vlock_release(held[i]);
        ck_assert_uint_eq(vlock_count(t), 0);
        vlock_table_free(t);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("vlock");
        TCase *tc = tcase_create("locks");
        tcase_add_test(tc, second_holder_is_refused);
        tcase_add_test(tc, cleanup_releases);
        tcase_add_test(tc, many_keys_share_buckets);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
