/* Unit tests: ID validation and derivation. */
#include <check.h>
#include <string.h>

#include "common/id.h"
#include "common/cleanup.h"

START_TEST(valid_ids)
{
        ck_assert(id_is_valid("vol-0123456789abcdef"));
        ck_assert(id_is_valid("a"));
        ck_assert(id_is_valid("0-1"));
}
END_TEST

START_TEST(hostile_ids)
{
        char longid[ID_MAX + 2];
        memset(longid, 'a', sizeof(longid) - 1);
        longid[sizeof(longid) - 1] = '\0';
        ck_assert(!id_is_valid(NULL));
        ck_assert(!id_is_valid(""));
        ck_assert(!id_is_valid(".."));
        ck_assert(!id_is_valid("."));
        ck_assert(!id_is_valid("../etc"));
        ck_assert(!id_is_valid("a/b"));
        ck_assert(!id_is_valid("-rf"));
        ck_assert(!id_is_valid("Vol"));
        ck_assert(!id_is_valid("vol\n"));
        ck_assert(!id_is_valid("vol x"));
        ck_assert(!id_is_valid(longid));
        longid[ID_MAX] = '\0';
        ck_assert(id_is_valid(longid));
}
END_TEST

START_TEST(node_ids)
{
        ck_assert(id_node_is_valid("worker-1.example.com"));
        ck_assert(id_node_is_valid("Node_2"));
        ck_assert(!id_node_is_valid(""));
        ck_assert(!id_node_is_valid("."));
        ck_assert(!id_node_is_valid(".."));
        ck_assert(!id_node_is_valid(".hidden"));
        ck_assert(!id_node_is_valid("a/b"));
        ck_assert(!id_node_is_valid("a b"));
        char longid[ID_NODE_MAX + 2];
        memset(longid, 'n', sizeof(longid) - 1);
        longid[sizeof(longid) - 1] = '\0';
        ck_assert(!id_node_is_valid(longid));
}
END_TEST

START_TEST(from_name_is_stable)
{
        char a[64], b[64], c[64];
        ck_assert_int_eq(id_from_name("vol", "pvc-1", a, sizeof(a)), 0);
        ck_assert_int_eq(id_from_name("vol", "pvc-1", b, sizeof(b)), 0);
        ck_assert_int_eq(id_from_name("vol", "pvc-2", c, sizeof(c)), 0);
        ck_assert_str_eq(a, b);
        ck_assert_str_ne(a, c);
        ck_assert(id_is_valid(a));
        ck_assert(id_has_form(a, "vol"));
        ck_assert(!id_has_form(a, "snap"));
        ck_assert_int_eq(strlen(a), 20);
}
END_TEST

START_TEST(form_and_buffers)
{
        char small[8], buf[64];
        ck_assert_int_eq(id_from_name("vol", "x", small, sizeof(small)), -EINVAL);
        ck_assert_int_eq(id_generate("snap", buf, sizeof(buf)), 0);
        ck_assert(id_has_form(buf, "snap"));
        ck_assert(!id_has_form("vol-0123", "vol"));
        ck_assert(!id_has_form("vol-0123456789ABCDEF", "vol"));
        ck_assert(!id_has_form("volx0123456789abcdef", "vol"));
        ck_assert(!id_has_form("vol-0123456789abcdef0", "vol"));
}
END_TEST

int main(void)
{
        Suite *s = suite_create("id");
        TCase *tc = tcase_create("id");
        tcase_add_test(tc, valid_ids);
        tcase_add_test(tc, hostile_ids);
        tcase_add_test(tc, node_ids);
        tcase_add_test(tc, from_name_is_stable);
        tcase_add_test(tc, form_and_buffers);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
