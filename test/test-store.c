/* Unit tests: metadata store round trips, listing, node registry, damaged files. */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/err.h"
#include "common/fileio.h"
#include "common/store/store.h"
#include "common/cleanup.h"

static char root[64];

static void setup(void)
{
        snprintf(root, sizeof(root), "/tmp/silo-store-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(root));
        ck_assert_int_eq(store_init(root), 0);
}

static void teardown(void)
{
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        ck_assert_int_eq(system(cmd), 0);
}

static void put_meta(const char *sub, const char *name, const char *text)
{
        char dir[128];
        snprintf(dir, sizeof(dir), "%s/%s", root, sub);
        ck_assert_int_eq(fileio_write_atomic(dir, name, text, strlen(text)), 0);
}

START_TEST(volume_round_trip)
{
        struct store_publish pubs[2] = {{"node-a", true, false, 3}, {"node.b", false, true, 1}};
        struct store_volume v = {.name = (char *)"pvc-1",
                                 .capacity_bytes = 1ull << 30,
                                 .fs_type = "xfs",
                                 .provisioning = STORE_THICK,
                                 .source_kind = STORE_SOURCE_SNAPSHOT,
                                 .source_id = "snap-1",
                                 .node_id = "node-a",
                                 .caps = 6,
                                 .created_ns = 42,
                                 .published = pubs,
                                 .n_published = 2};
        memcpy(v.id, "vol-1", 6);
        ck_assert_int_eq(store_volume_save(root, &v), 0);
        struct store_volume l;
        ck_assert_int_eq(store_volume_load(root, "vol-1", &l), 0);
        ck_assert_str_eq(l.id, "vol-1");
        ck_assert_str_eq(l.name, "pvc-1");
        ck_assert_uint_eq(l.capacity_bytes, 1ull << 30);
        ck_assert_str_eq(l.fs_type, "xfs");
        ck_assert_int_eq(l.provisioning, STORE_THICK);
        ck_assert_int_eq(l.source_kind, STORE_SOURCE_SNAPSHOT);
        ck_assert_str_eq(l.source_id, "snap-1");
        ck_assert_str_eq(l.node_id, "node-a");
        ck_assert_uint_eq(l.caps, 6);
        ck_assert_uint_eq(l.created_ns, 42);
        ck_assert_uint_eq(l.n_published, 2);
        ck_assert_str_eq(l.published[1].node_id, "node.b");
        ck_assert(l.published[0].readonly && !l.published[0].block);
        ck_assert_int_eq(l.published[0].mode, 3);
        ck_assert(!l.published[1].readonly && l.published[1].block);
        store_volume_release(&l);
        store_volume_release(&l); /* twice is harmless */
}
END_TEST

START_TEST(volume_absent_and_removed)
{
        struct store_volume l = {0};
        ck_assert_int_eq(store_volume_load(root, "vol-x", &l), -SILO_ENOTFOUND);
        struct store_volume v = {.name = (char *)"n", .fs_type = "ext4"};
        memcpy(v.id, "vol-x", 6);
        ck_assert_int_eq(store_volume_save(root, &v), 0);
        _cleanup_free_ char *data = NULL;
        ck_assert_int_eq(store_volume_data_path(root, "vol-x", &data), 0);
        FILE *f = fopen(data, "we");
        ck_assert_ptr_nonnull(f);
        fclose(f);
        ck_assert_int_eq(store_volume_remove(root, "vol-x"), 0);
        ck_assert_int_eq(store_volume_load(root, "vol-x", &l), -SILO_ENOTFOUND);
        ck_assert_int_ne(access(data, F_OK), 0);
        ck_assert_int_eq(store_volume_remove(root, "vol-x"), 0);
}
END_TEST

START_TEST(refuses_bad_names)
{
        struct store_volume v = {.name = (char *)"evil\nid=vol-2", .fs_type = "ext4"};
        memcpy(v.id, "vol-2", 6);
        ck_assert_int_eq(store_volume_save(root, &v), -EINVAL);
        v.name = (char *)"ok";
        memcpy(v.id, "../x", 5);
        ck_assert_int_eq(store_volume_save(root, &v), -EINVAL);
        char longname[STORE_NAME_MAX + 2];
        memset(longname, 'n', sizeof(longname) - 1);
        longname[sizeof(longname) - 1] = '\0';
        ck_assert(!store_name_is_valid(longname));
        ck_assert(!store_name_is_valid(""));
        ck_assert(store_name_is_valid("pvc-0f3e 1"));
}
END_TEST

START_TEST(damaged_metadata)
{
        struct store_volume l;
        put_meta("volumes", "vol-a.meta", "garbage without equals\n");
        ck_assert_int_eq(store_volume_load(root, "vol-a", &l), -EBADMSG);
        put_meta("volumes", "vol-b.meta", "id=vol-other\nname=x\n");
        ck_assert_int_eq(store_volume_load(root, "vol-b", &l), -EBADMSG);
        put_meta("volumes", "vol-c.meta", "id=vol-c\nname=x\ncapacity=12abc\n");
        ck_assert_int_eq(store_volume_load(root, "vol-c", &l), -EBADMSG);
        put_meta("volumes", "vol-d.meta", "id=vol-d\nname=x\npublish=../x 0 0 1\n");
        ck_assert_int_eq(store_volume_load(root, "vol-d", &l), -EBADMSG);
        put_meta("volumes", "vol-e.meta", "id=vol-e\n");
        ck_assert_int_eq(store_volume_load(root, "vol-e", &l), -EBADMSG);
        put_meta("volumes", "vol-f.meta", "");
        ck_assert_int_eq(store_volume_load(root, "vol-f", &l), -EBADMSG);
        /* Keys from a newer version are skipped. */
        put_meta("volumes", "vol-g.meta", "id=vol-g\nname=x\nfuture=1\ncapacity=5\n");
        ck_assert_int_eq(store_volume_load(root, "vol-g", &l), 0);
        ck_assert_uint_eq(l.capacity_bytes, 5);
        store_volume_release(&l);
}
END_TEST

START_TEST(snapshot_round_trip)
{
        struct store_snapshot s = {.name = (char *)"snapshot-1",
                                   .source_volume_id = "vol-1",
                                   .group_id = "grp-1",
                                   .fs_type = "ext4",
                                   .size_bytes = 1048576,
                                   .created_ns = 7};
        memcpy(s.id, "snap-1", 7);
        ck_assert_int_eq(store_snapshot_save(root, &s), 0);
        struct store_snapshot l;
        ck_assert_int_eq(store_snapshot_load(root, "snap-1", &l), 0);
        ck_assert_str_eq(l.name, "snapshot-1");
        ck_assert_str_eq(l.source_volume_id, "vol-1");
        ck_assert_str_eq(l.group_id, "grp-1");
        ck_assert_uint_eq(l.size_bytes, 1048576);
        ck_assert_uint_eq(l.created_ns, 7);
        store_snapshot_release(&l);
        ck_assert_int_eq(store_snapshot_remove(root, "snap-1"), 0);
        ck_assert_int_eq(store_snapshot_load(root, "snap-1", &l), -SILO_ENOTFOUND);
}
END_TEST

START_TEST(group_round_trip)
{
        struct store_group_member m[2] = {{"snap-a", "vol-a"}, {"snap-b", "vol-b"}};
        struct store_group g = {
            .name = (char *)"g1", .created_ns = 9, .members = m, .n_members = 2};
        memcpy(g.id, "grp-1", 6);
        ck_assert_int_eq(store_group_save(root, &g), 0);
        struct store_group l;
        ck_assert_int_eq(store_group_load(root, "grp-1", &l), 0);
        ck_assert_uint_eq(l.n_members, 2);
        ck_assert_str_eq(l.members[1].snapshot_id, "snap-b");
        ck_assert_str_eq(l.members[1].volume_id, "vol-b");
        store_group_release(&l);
        ck_assert_int_eq(store_group_remove(root, "grp-1"), 0);
        ck_assert_int_eq(store_group_load(root, "grp-1", &l), -SILO_ENOTFOUND);
}
END_TEST

START_TEST(list_sorted_committed_only)
{
        put_meta("volumes", "vol-c.meta", "id=vol-c\nname=c\n");
        put_meta("volumes", "vol-a.meta", "id=vol-a\nname=a\n");
        put_meta("volumes", "vol-b.img", "");
        put_meta("volumes", ".vol-d.meta.tmp-1-0", "");
        put_meta("volumes", "BAD.meta", "");
        store_id_t *ids = NULL;
        size_t n = 0;
        ck_assert_int_eq(store_list_ids(root, STORE_VOLUMES, &ids, &n), 0);
        ck_assert_uint_eq(n, 2);
        ck_assert_str_eq(ids[0], "vol-a");
        ck_assert_str_eq(ids[1], "vol-c");
        free(ids);
}
END_TEST

START_TEST(node_registry)
{
        ck_assert(!store_node_is_known(root, "n1"));
        ck_assert_int_eq(store_node_register(root, "n1"), 0);
        ck_assert_int_eq(store_node_register(root, "n1"), 0);
        ck_assert(store_node_is_known(root, "n1"));
        ck_assert(!store_node_is_known(root, "n2"));
        ck_assert(!store_node_is_known(root, "../volumes"));
        ck_assert_int_eq(store_node_register(root, "../x"), -SILO_EINVALID);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("store");
        TCase *tc = tcase_create("store");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, volume_round_trip);
        tcase_add_test(tc, volume_absent_and_removed);
        tcase_add_test(tc, refuses_bad_names);
        tcase_add_test(tc, damaged_metadata);
        tcase_add_test(tc, snapshot_round_trip);
        tcase_add_test(tc, group_round_trip);
        tcase_add_test(tc, list_sorted_committed_only);
        tcase_add_test(tc, node_registry);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
