/* Unit tests: pagination tokens over sorted IDs, and attach decisions between two controllers
 * sharing one pool. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "controller/controller.h"
#include "common/cleanup.h"

static char root[64];
static struct controller *c;

static struct controller *open_controller(const char *node, enum config_scope scope)
{
        struct config cfg = {
            .pool = root, .node_id = (char *)node, .scope = scope, .overcommit_ratio = 1.0};
        struct controller *x = NULL;
        ck_assert_int_eq(controller_new(&cfg, &x), 0);
        return x;
}

static void setup(void)
{
        snprintf(root, sizeof(root), "/tmp/silo-listing-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(root));
        c = open_controller("n1", CONFIG_SCOPE_NODE);
}

static void teardown(void)
{
        controller_free(c);
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        ck_assert_int_eq(system(cmd), 0);
}

static void make_volumes(struct controller *x, int n, char ids[][STORE_ID_MAX + 1])
{
        for (int i = 0; i < n; i++) {
                char name[32];
                snprintf(name, sizeof(name), "pvc-%d", i);
                struct volume_spec spec = {.name = name,
                                           .required_bytes = 1 << 20,
                                           .caps = STORE_CAP_MOUNT | (STORE_CAP_MODE0 << 1)};
                struct store_volume v = {0};
                ck_assert_int_eq(volumes_create(x, &spec, &v), 0);
                if (ids)
                        memcpy(ids[i], v.id, sizeof(v.id));
                store_volume_release(&v);
        }
}

START_TEST(pages_cover_everything_once)
{
        make_volumes(c, 7, NULL);
        char token[STORE_ID_MAX + 1] = "";
        char last[STORE_ID_MAX + 1] = "";
        int total = 0, pages = 0;
        do {
                struct volumes_page p = {0};
                ck_assert_int_eq(volumes_page(c, STORE_VOLUMES, "vol", token, 3, NULL, NULL, &p),
                                 0);
                for (size_t i = 0; i < p.n; i++) {
                        ck_assert_int_lt(strcmp(last, p.ids[i]), 0);
                        memcpy(last, p.ids[i], sizeof(last));
                }
                total += (int)p.n;
                memcpy(token, p.next_token, sizeof(token));
                if (token[0])
                        ck_assert_str_eq(token, last);
                volumes_page_release(&p);
                pages++;
        } while (token[0]);
        ck_assert_int_eq(total, 7);
        ck_assert_int_eq(pages, 3);
}
END_TEST

START_TEST(tokens_we_did_not_issue)
{
        struct volumes_page p = {0};
        ck_assert_int_eq(volumes_page(c, STORE_VOLUMES, "vol", "x", 0, NULL, NULL, &p),
                         -SILO_EBADTOKEN);
        ck_assert_int_eq(
            volumes_page(c, STORE_VOLUMES, "vol", "snap-0000000000000000", 0, NULL, NULL, &p),
            -SILO_EBADTOKEN);
        ck_assert_int_eq(
            volumes_page(c, STORE_VOLUMES, "vol", "vol-../../../etc", 0, NULL, NULL, &p),
            -SILO_EBADTOKEN);
        ck_assert_int_eq(volumes_page(c, STORE_VOLUMES, "vol", "", -1, NULL, NULL, &p),
                         -SILO_EINVALID);
        /* A well-formed token of a volume that is gone continues after its position. */
        char ids[3][STORE_ID_MAX + 1];
        make_volumes(c, 3, ids);
        ck_assert_int_eq(
            volumes_page(c, STORE_VOLUMES, "vol", "vol-0000000000000000", 0, NULL, NULL, &p), 0);
        ck_assert_uint_eq(p.n, 3);
        ck_assert_str_eq(p.next_token, "");
        volumes_page_release(&p);
        ck_assert_int_eq(
            volumes_page(c, STORE_VOLUMES, "vol", "vol-ffffffffffffffff", 0, NULL, NULL, &p), 0);
        ck_assert_uint_eq(p.n, 0);
        volumes_page_release(&p);
}
END_TEST

static bool keep_odd(struct controller *x, const char *id, void *ctx)
{
        (void)x;
        (void)id;
        int *seen = ctx;
        return (*seen)++ % 2 == 1;
}

START_TEST(filtered_pages)
{
        make_volumes(c, 6, NULL);
        int seen = 0;
        struct volumes_page p = {0};
        ck_assert_int_eq(volumes_page(c, STORE_VOLUMES, "vol", "", 2, keep_odd, &seen, &p), 0);
        ck_assert_uint_eq(p.n, 2);
        ck_assert_str_eq(p.next_token, p.ids[1]);
        volumes_page_release(&p);
}
END_TEST

/* Lists every volume through volumes_list() in pages of two; returns how many. */
static size_t list_all(struct controller *x, int *published)
{
        char token[STORE_ID_MAX + 1] = "", next[STORE_ID_MAX + 1];
        size_t total = 0;
        *published = 0;
        do {
                struct store_volume *v = NULL;
                size_t n = 0;
                ck_assert_int_eq(volumes_list(x, token, 2, &v, &n, next), 0);
                ck_assert_uint_le(n, 2);
                for (size_t i = 0; i < n; i++)
                        *published += (int)v[i].n_published;
                total += n;
                volumes_list_free(v, n);
                memcpy(token, next, sizeof(token));
        } while (token[0]);
        return total;
}

static const struct params_cap snw_cap = {.access = PARAMS_ACCESS_MOUNT, .mode = 1};

START_TEST(list_follows_changes_in_both_scopes)
{
        char ids[5][STORE_ID_MAX + 1];
        make_volumes(c, 5, ids);
        struct controller *shared = open_controller("n1", CONFIG_SCOPE_SHARED);
        ck_assert_ptr_nonnull(c->index);
        ck_assert_ptr_null(shared->index);
        int pubs = 0;
        ck_assert_uint_eq(list_all(c, &pubs), 5);
        ck_assert_uint_eq(list_all(shared, &pubs), 5);
        struct store_volume v = {0};
        ck_assert_int_eq(attach_publish(c, ids[1], "n1", &snw_cap, false, &v), 0);
        store_volume_release(&v);
        ck_assert_int_eq(volumes_delete(c, ids[3]), 0);
        ck_assert_uint_eq(list_all(c, &pubs), 4);
        ck_assert_int_eq(pubs, 1);
        ck_assert_uint_eq(list_all(shared, &pubs), 4);
        ck_assert_int_eq(pubs, 1);
        /* A restart rebuilds the same view from the pool. */
        controller_free(c);
        c = open_controller("n1", CONFIG_SCOPE_NODE);
        ck_assert_uint_eq(list_all(c, &pubs), 4);
        ck_assert_int_eq(pubs, 1);
        struct store_volume *none = NULL;
        size_t n = 0;
        char next[STORE_ID_MAX + 1];
        ck_assert_int_eq(volumes_list(c, "bogus", 0, &none, &n, next), -SILO_EBADTOKEN);
        ck_assert_int_eq(volumes_list(c, "", -3, &none, &n, next), -SILO_EINVALID);
        controller_free(shared);
}
END_TEST

static const struct params_cap snw = {.access = PARAMS_ACCESS_MOUNT, .mode = 1};
static const struct params_cap mnro = {.access = PARAMS_ACCESS_MOUNT, .mode = 3};

START_TEST(shared_pool_attach)
{
        controller_free(c);
        c = open_controller("n1", CONFIG_SCOPE_SHARED);
        struct controller *c2 = open_controller("n2", CONFIG_SCOPE_SHARED);
        ck_assert_int_eq(store_node_register(root, "n1"), 0);
        ck_assert_int_eq(store_node_register(root, "n2"), 0);
        char ids[1][STORE_ID_MAX + 1];
        make_volumes(c, 1, ids);
        struct store_volume v = {0};
        ck_assert_int_eq(attach_publish(c, ids[0], "n3", &snw, false, &v), -SILO_ENOTFOUND);
        ck_assert_int_eq(attach_publish(c, ids[0], "n1", &snw, false, &v), 0);
        store_volume_release(&v);
        ck_assert_int_eq(attach_publish(c2, ids[0], "n2", &snw, false, &v), -SILO_EPRECOND);
        ck_assert_int_eq(attach_publish(c2, ids[0], "n1", &snw, true, &v), -SILO_EEXISTS);
        /* A single-node volume held elsewhere: that is the answer, whatever the node. */
        ck_assert_int_eq(attach_publish(c2, ids[0], "n3", &snw, false, &v), -SILO_EPRECOND);
        ck_assert_int_eq(volumes_delete(c2, ids[0]), -SILO_EPRECOND);
        ck_assert_int_eq(attach_unpublish(c2, ids[0], ""), 0);
        ck_assert_int_eq(attach_publish(c2, ids[0], "n2", &mnro, true, &v), 0);
        store_volume_release(&v);
        ck_assert_int_eq(attach_publish(c, ids[0], "n1", &mnro, true, &v), 0);
        ck_assert_uint_eq(v.n_published, 2);
        store_volume_release(&v);
        ck_assert_int_eq(attach_unpublish(c, ids[0], "n1"), 0);
        ck_assert_int_eq(volumes_get(c, ids[0], &v), 0);
        ck_assert_uint_eq(v.n_published, 1);
        ck_assert_str_eq(v.published[0].node_id, "n2");
        store_volume_release(&v);
        controller_free(c2);
}
END_TEST

START_TEST(node_pool_knows_only_itself)
{
        ck_assert(attach_node_is_known(c, "n1"));
        ck_assert_int_eq(store_node_register(root, "n2"), 0);
        ck_assert(!attach_node_is_known(c, "n2"));
        ck_assert(!attach_node_is_known(c, "../n1"));
        struct store_volume v = {0};
        ck_assert_int_eq(attach_publish(c, "vol-0000000000000000", "n1", &snw, false, &v),
                         -SILO_ENOTFOUND);
        ck_assert_int_eq(attach_publish(c, "../../x", "n1", &snw, false, &v), -SILO_ENOTFOUND);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("listing");
        TCase *tc = tcase_create("listing");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, pages_cover_everything_once);
        tcase_add_test(tc, tokens_we_did_not_issue);
        tcase_add_test(tc, filtered_pages);
        tcase_add_test(tc, list_follows_changes_in_both_scopes);
        tcase_add_test(tc, shared_pool_attach);
        tcase_add_test(tc, node_pool_knows_only_itself);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
