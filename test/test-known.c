/* Unit tests for the set of paths this process staged or published (node/known.c). */
#include <check.h>
#include <stdio.h>

#include "node/known.h"
#include "common/cleanup.h"

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
        Suite *s = suite_create("known");
        TCase *tc = tcase_create("known");
        tcase_add_test(tc, test_known);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
