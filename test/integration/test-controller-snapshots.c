/* Snapshots, restores, clones, listings with pagination, and group snapshots on the real
 * binary. */
#include <check.h>
#include <csi.pb-c.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "test/integration/harness-ctl.h"
#include "common/cleanup.h"

#define MIB HCTL_MIB

static struct harness h;

static void start(void)
{
        ck_assert_int_eq(harness_start(&h, NULL, NULL), 0);
}

static void stop(void)
{
        harness_ctl_stop(&h);
}

static void data(const char *dir, const char *id, char *buf)
{
        harness_ctl_data(&h, dir, id, buf, 512);
}

START_TEST(snapshot_create_rules)
{
        char vol[65], other[65], snap[65], again[65];
        struct harness_ctl_vol o = {.required = 8 * MIB};
        ck_assert_int_eq(harness_ctl_create(&h, "src", &o, vol), ERR_OK);
        ck_assert_int_eq(harness_ctl_create(&h, "other", &o, other), ERR_OK);
        ck_assert_int_eq(harness_ctl_snapshot(&h, "s1", vol, snap), ERR_OK);
        ck_assert_int_eq(harness_ctl_snapshot(&h, "s1", vol, again), ERR_OK);
        ck_assert_str_eq(snap, again);
        ck_assert_int_eq(harness_ctl_snapshot(&h, "s1", other, NULL), ERR_ALREADY_EXISTS);
        ck_assert_int_eq(harness_ctl_snapshot(&h, "s2", "vol-0000000000000000", NULL),
                         ERR_NOT_FOUND);
        ck_assert_int_eq(harness_ctl_snapshot(&h, "s2", "../volumes/x", NULL), ERR_NOT_FOUND);
        ck_assert_int_eq(harness_ctl_snapshot(&h, "", vol, NULL), ERR_INVALID_ARGUMENT);
        ck_assert_int_eq(harness_ctl_snapshot(&h, "s3", "", NULL), ERR_INVALID_ARGUMENT);

        Csi__V1__GetSnapshotRequest req = CSI__V1__GET_SNAPSHOT_REQUEST__INIT;
        req.snapshot_id = snap;
        Csi__V1__GetSnapshotResponse *resp = NULL;
        ck_assert_int_eq(harness_ctl_call(&h, "Controller", "GetSnapshot", &req.base,
                                          &csi__v1__get_snapshot_response__descriptor,
                                          (void **)&resp, NULL, 0),
                         ERR_OK);
        ck_assert(resp->snapshot->ready_to_use);
        ck_assert_int_eq(resp->snapshot->size_bytes, 8 * MIB);
        ck_assert_str_eq(resp->snapshot->source_volume_id, vol);
        ck_assert_int_gt(resp->snapshot->creation_time->seconds, 1600000000);
        protobuf_c_message_free_unpacked(&resp->base, NULL);

        /* Delete is idempotent and the snapshot is gone afterwards. */
        Csi__V1__DeleteSnapshotRequest del = CSI__V1__DELETE_SNAPSHOT_REQUEST__INIT;
        del.snapshot_id = snap;
        for (int i = 0; i < 2; i++)
                ck_assert_int_eq(harness_ctl_call(&h, "Controller", "DeleteSnapshot", &del.base,
                                                  &csi__v1__delete_snapshot_response__descriptor,
                                                  NULL, NULL, 0),
                                 ERR_OK);
        ck_assert_int_eq(harness_ctl_call(&h, "Controller", "GetSnapshot", &req.base,
                                          &csi__v1__get_snapshot_response__descriptor, NULL, NULL,
                                          0),
                         ERR_NOT_FOUND);
        char path[512];
        data("snapshots", snap, path);
        ck_assert_int_ne(access(path, F_OK), 0);
}
END_TEST

START_TEST(restore_and_clone_keep_data)
{
        char vol[65], snap[65], restored[65], clone[65];
        char src_path[512], snap_path[512], res_path[512], clone_path[512];
        struct harness_ctl_vol o = {.required = 16 * MIB};
        ck_assert_int_eq(harness_ctl_create(&h, "data", &o, vol), ERR_OK);
        data("volumes", vol, src_path);
        harness_ctl_write_pattern(src_path, 0, 64 * 1024, 1);
        harness_ctl_write_pattern(src_path, 9 * MIB + 17, 300 * 1024, 2);
        ck_assert_int_eq(harness_ctl_snapshot(&h, "snap", vol, snap), ERR_OK);
        data("snapshots", snap, snap_path);
        ck_assert(harness_ctl_same_content(src_path, snap_path));
        /* Later writes to the source do not reach the snapshot. */
        harness_ctl_write_pattern(src_path, 0, 4096, 3);
        ck_assert(!harness_ctl_same_content(src_path, snap_path));
        struct harness_ctl_vol r = {.from_snap = snap};
        ck_assert_int_eq(harness_ctl_create(&h, "restored", &r, restored), ERR_OK);
        data("volumes", restored, res_path);
        ck_assert(harness_ctl_same_content(snap_path, res_path));
        struct harness_ctl_vol c = {.from_vol = vol};
        ck_assert_int_eq(harness_ctl_create(&h, "clone", &c, clone), ERR_OK);
        data("volumes", clone, clone_path);
        ck_assert(harness_ctl_same_content(src_path, clone_path));
        /* Holes stay holes in a copy. */
        struct stat st;
        ck_assert_int_eq(stat(clone_path, &st), 0);
        ck_assert_int_lt(st.st_blocks * 512, 4 * MIB);
        /* Idempotent restore; a different source under the same name is refused. */
        ck_assert_int_eq(harness_ctl_create(&h, "restored", &r, NULL), ERR_OK);
        ck_assert_int_eq(harness_ctl_create(&h, "restored", &c, NULL), ERR_ALREADY_EXISTS);
        /* Too small for the source; larger is fine. */
        struct harness_ctl_vol small = {.required = 8 * MIB, .from_snap = snap};
        ck_assert_int_eq(harness_ctl_create(&h, "small", &small, NULL), ERR_OUT_OF_RANGE);
        struct harness_ctl_vol big = {.required = 32 * MIB, .from_snap = snap};
        char bigid[65];
        ck_assert_int_eq(harness_ctl_create(&h, "big", &big, bigid), ERR_OK);
        ck_assert_int_eq(stat(src_path, &st), 0);
        /* The snapshot outlives its source. */
        ck_assert_int_eq(harness_ctl_delete(&h, vol), ERR_OK);
        struct harness_ctl_vol again = {.from_snap = snap};
        ck_assert_int_eq(harness_ctl_create(&h, "after-delete", &again, restored), ERR_OK);
        data("volumes", restored, res_path);
        ck_assert(harness_ctl_same_content(snap_path, res_path));
        struct harness_ctl_vol gone = {.from_vol = vol};
        ck_assert_int_eq(harness_ctl_create(&h, "clone-gone", &gone, NULL), ERR_NOT_FOUND);
}
END_TEST

/* Lists snapshots; returns the number of entries and copies ids. */
static size_t list_snaps(const char *token, int max, const char *snap_id, const char *source,
                         char ids[][65], char *next, enum err_status want)
{
        Csi__V1__ListSnapshotsRequest req = CSI__V1__LIST_SNAPSHOTS_REQUEST__INIT;
        req.starting_token = (char *)token;
        req.max_entries = max;
        req.snapshot_id = (char *)snap_id;
        req.source_volume_id = (char *)source;
        Csi__V1__ListSnapshotsResponse *resp = NULL;
        ck_assert_int_eq(harness_ctl_call(&h, "Controller", "ListSnapshots", &req.base,
                                          &csi__v1__list_snapshots_response__descriptor,
                                          (void **)&resp, NULL, 0),
                         want);
        if (!resp)
                return 0;
        size_t n = resp->n_entries;
        for (size_t i = 0; i < n; i++)
                snprintf(ids[i], 65, "%s", resp->entries[i]->snapshot->snapshot_id);
        if (next)
                snprintf(next, 65, "%s", resp->next_token);
        protobuf_c_message_free_unpacked(&resp->base, NULL);
        return n;
}

START_TEST(list_snapshots)
{
        char a[65], b[65], s[5][65], ids[16][65], next[65];
        ck_assert_int_eq(harness_ctl_create(&h, "a", NULL, a), ERR_OK);
        ck_assert_int_eq(harness_ctl_create(&h, "b", NULL, b), ERR_OK);
        for (int i = 0; i < 5; i++) {
                char name[16];
                snprintf(name, sizeof(name), "s%d", i);
                ck_assert_int_eq(harness_ctl_snapshot(&h, name, i < 3 ? a : b, s[i]), ERR_OK);
        }
        ck_assert_uint_eq(list_snaps("", 0, "", "", ids, next, ERR_OK), 5);
        ck_assert_str_eq(next, "");
        ck_assert_uint_eq(list_snaps("", 0, "", a, ids, next, ERR_OK), 3);
        ck_assert_uint_eq(list_snaps("", 0, s[4], "", ids, next, ERR_OK), 1);
        ck_assert_str_eq(ids[0], s[4]);
        ck_assert_uint_eq(list_snaps("", 0, s[4], a, ids, next, ERR_OK), 0);
        ck_assert_uint_eq(list_snaps("", 0, "snap-0000000000000000", "", ids, next, ERR_OK), 0);
        ck_assert_uint_eq(list_snaps("", 0, "", "vol-0000000000000000", ids, next, ERR_OK), 0);
        list_snaps("garbage", 0, "", "", ids, next, ERR_ABORTED);
        list_snaps("", -1, "", "", ids, next, ERR_INVALID_ARGUMENT);
        /* Pages of two with a source filter: 2 + 1, no repeats. */
        ck_assert_uint_eq(list_snaps("", 2, "", a, ids, next, ERR_OK), 2);
        ck_assert_str_ne(next, "");
        char tok[65];
        snprintf(tok, sizeof(tok), "%s", next);
        ck_assert_uint_eq(list_snaps(tok, 2, "", a, ids + 2, next, ERR_OK), 1);
        ck_assert_str_eq(next, "");
        ck_assert_str_ne(ids[0], ids[2]);
        ck_assert_str_ne(ids[1], ids[2]);
}
END_TEST

static size_t list_vols(const char *token, int max, char ids[][65], char *next,
                        enum err_status want)
{
        Csi__V1__ListVolumesRequest req = CSI__V1__LIST_VOLUMES_REQUEST__INIT;
        req.starting_token = (char *)token;
        req.max_entries = max;
        Csi__V1__ListVolumesResponse *resp = NULL;
        ck_assert_int_eq(harness_ctl_call(&h, "Controller", "ListVolumes", &req.base,
                                          &csi__v1__list_volumes_response__descriptor,
                                          (void **)&resp, NULL, 0),
                         want);
        if (!resp)
                return 0;
        size_t n = resp->n_entries;
        for (size_t i = 0; i < n; i++) {
                snprintf(ids[i], 65, "%s", resp->entries[i]->volume->volume_id);
                ck_assert_ptr_nonnull(resp->entries[i]->status);
                ck_assert_ptr_nonnull(resp->entries[i]->status->volume_condition);
        }
        snprintf(next, 65, "%s", resp->next_token);
        protobuf_c_message_free_unpacked(&resp->base, NULL);
        return n;
}

START_TEST(list_volumes_paginates_across_changes)
{
        char made[8][65], seen[64][65], next[65] = "", name[16];
        for (int i = 0; i < 8; i++) {
                snprintf(name, sizeof(name), "v%d", i);
                ck_assert_int_eq(harness_ctl_create(&h, name, NULL, made[i]), ERR_OK);
        }
        size_t total = 0;
        int pages = 0;
        do {
                char tok[65];
                snprintf(tok, sizeof(tok), "%s", next);
                size_t n = list_vols(tok, 3, seen + total, next, ERR_OK);
                ck_assert_uint_le(n, 3);
                total += n;
                /* Changes between pages: new volumes, and one deletion. */
                snprintf(name, sizeof(name), "new%d", pages);
                ck_assert_int_eq(harness_ctl_create(&h, name, NULL, NULL), ERR_OK);
                if (pages == 1)
                        ck_assert_int_eq(harness_ctl_delete(&h, seen[0]), ERR_OK);
                pages++;
                ck_assert_int_lt(pages, 20);
        } while (next[0]);
        /* Sorted, no repeats, and every volume that existed throughout was listed. */
        for (size_t i = 1; i < total; i++)
                ck_assert_int_lt(strcmp(seen[i - 1], seen[i]), 0);
        for (int i = 0; i < 8; i++) {
                bool found = false;
                for (size_t j = 0; j < total; j++)
                        found |= strcmp(made[i], seen[j]) == 0;
                ck_assert_msg(found || strcmp(made[i], seen[0]) == 0, "volume %s missing", made[i]);
        }
        list_vols("vol-zz", 0, seen, next, ERR_ABORTED);
        list_vols("", -1, seen, next, ERR_INVALID_ARGUMENT);
        /* A token whose volume is gone still continues after it. */
        ck_assert_uint_ge(list_vols(seen[0], 0, seen + 1, next, ERR_OK), 1);
}
END_TEST

static enum err_status group_create(const char *name, const char *const *vols, size_t n,
                                    char *ret_id, char snaps[][65])
{
        Csi__V1__CreateVolumeGroupSnapshotRequest req =
            CSI__V1__CREATE_VOLUME_GROUP_SNAPSHOT_REQUEST__INIT;
        req.name = (char *)name;
        req.n_source_volume_ids = n;
        req.source_volume_ids = (char **)vols;
        Csi__V1__CreateVolumeGroupSnapshotResponse *resp = NULL;
        enum err_status st = harness_ctl_call(
            &h, "GroupController", "CreateVolumeGroupSnapshot", &req.base,
            &csi__v1__create_volume_group_snapshot_response__descriptor, (void **)&resp, NULL, 0);
        if (resp) {
                snprintf(ret_id, 65, "%s", resp->group_snapshot->group_snapshot_id);
                ck_assert_uint_eq(resp->group_snapshot->n_snapshots, n);
                ck_assert(resp->group_snapshot->ready_to_use);
                for (size_t i = 0; i < n; i++) {
                        Csi__V1__Snapshot *s = resp->group_snapshot->snapshots[i];
                        snprintf(snaps[i], 65, "%s", s->snapshot_id);
                        ck_assert_str_eq(s->group_snapshot_id, ret_id);
                        ck_assert_str_eq(s->source_volume_id, vols[i]);
                }
                protobuf_c_message_free_unpacked(&resp->base, NULL);
        }
        return st;
}

static enum err_status group_op(const char *method, const char *id, char ids[][65], size_t n)
{
        char *list[4];
        for (size_t i = 0; i < n; i++)
                list[i] = ids[i];
        Csi__V1__DeleteVolumeGroupSnapshotRequest del =
            CSI__V1__DELETE_VOLUME_GROUP_SNAPSHOT_REQUEST__INIT;
        Csi__V1__GetVolumeGroupSnapshotRequest get =
            CSI__V1__GET_VOLUME_GROUP_SNAPSHOT_REQUEST__INIT;
        del.group_snapshot_id = get.group_snapshot_id = (char *)id;
        del.n_snapshot_ids = get.n_snapshot_ids = n;
        del.snapshot_ids = get.snapshot_ids = list;
        bool is_del = strcmp(method, "DeleteVolumeGroupSnapshot") == 0;
        return harness_ctl_call(&h, "GroupController", method, is_del ? &del.base : &get.base,
                                is_del ? &csi__v1__delete_volume_group_snapshot_response__descriptor
                                       : &csi__v1__get_volume_group_snapshot_response__descriptor,
                                NULL, NULL, 0);
}

START_TEST(group_snapshots)
{
        char a[65], b[65], c[65], gid[65], again[65], snaps[4][65], snaps2[4][65];
        struct harness_ctl_vol small = {.required = 8 * MIB};
        ck_assert_int_eq(harness_ctl_create(&h, "ga", &small, a), ERR_OK);
        ck_assert_int_eq(harness_ctl_create(&h, "gb", &small, b), ERR_OK);
        ck_assert_int_eq(harness_ctl_create(&h, "gc", &small, c), ERR_OK);
        char pa[512], pb[512];
        data("volumes", a, pa);
        data("volumes", b, pb);
        harness_ctl_write_pattern(pa, 0, 8192, 5);
        harness_ctl_write_pattern(pb, 4096, 8192, 6);
        const char *ab[] = {a, b}, *ac[] = {a, c}, *aa[] = {a, a};
        const char *missing[] = {a, "vol-0000000000000000"};
        ck_assert_int_eq(group_create("g1", ab, 2, gid, snaps), ERR_OK);
        ck_assert_int_eq(group_create("g1", ab, 2, again, snaps2), ERR_OK);
        ck_assert_str_eq(gid, again);
        ck_assert_str_eq(snaps[0], snaps2[0]);
        ck_assert_int_eq(group_create("g1", ac, 2, again, snaps2), ERR_ALREADY_EXISTS);
        ck_assert_int_eq(group_create("g2", aa, 2, again, snaps2), ERR_INVALID_ARGUMENT);
        ck_assert_int_eq(group_create("g3", missing, 2, again, snaps2), ERR_NOT_FOUND);
        ck_assert_int_eq(group_create("g4", ab, 0, again, snaps2), ERR_INVALID_ARGUMENT);
        char sa[512];
        data("snapshots", snaps[0], sa);
        ck_assert(harness_ctl_same_content(pa, sa));
        /* Members are not deleted one by one; the group needs its exact member list. */
        Csi__V1__DeleteSnapshotRequest del = CSI__V1__DELETE_SNAPSHOT_REQUEST__INIT;
        del.snapshot_id = snaps[0];
        ck_assert_int_eq(harness_ctl_call(&h, "Controller", "DeleteSnapshot", &del.base,
                                          &csi__v1__delete_snapshot_response__descriptor, NULL,
                                          NULL, 0),
                         ERR_FAILED_PRECONDITION);
        ck_assert_int_eq(group_op("GetVolumeGroupSnapshot", gid, snaps, 2), ERR_OK);
        ck_assert_int_eq(group_op("GetVolumeGroupSnapshot", gid, snaps, 0), ERR_OK);
        ck_assert_int_eq(group_op("GetVolumeGroupSnapshot", gid, snaps, 1),
                         ERR_FAILED_PRECONDITION);
        ck_assert_int_eq(group_op("DeleteVolumeGroupSnapshot", gid, snaps, 1),
                         ERR_FAILED_PRECONDITION);
        ck_assert_int_eq(group_op("DeleteVolumeGroupSnapshot", gid, snaps, 2), ERR_OK);
        ck_assert_int_eq(group_op("DeleteVolumeGroupSnapshot", gid, snaps, 2), ERR_OK);
        ck_assert_int_eq(group_op("GetVolumeGroupSnapshot", gid, snaps, 0), ERR_NOT_FOUND);
        ck_assert_int_eq(group_op("GetVolumeGroupSnapshot", "../x", snaps, 0), ERR_NOT_FOUND);
        ck_assert_int_ne(access(sa, F_OK), 0);
        /* A restore from a group member works like any snapshot. */
        ck_assert_int_eq(group_create("g5", ab, 2, gid, snaps), ERR_OK);
        struct harness_ctl_vol r = {.from_snap = snaps[1]};
        char restored[65], rp[512];
        ck_assert_int_eq(harness_ctl_create(&h, "from-group", &r, restored), ERR_OK);
        data("volumes", restored, rp);
        ck_assert(harness_ctl_same_content(pb, rp));
}
END_TEST

START_TEST(group_capabilities)
{
        Csi__V1__GroupControllerGetCapabilitiesRequest req =
            CSI__V1__GROUP_CONTROLLER_GET_CAPABILITIES_REQUEST__INIT;
        Csi__V1__GroupControllerGetCapabilitiesResponse *resp = NULL;
        ck_assert_int_eq(
            harness_ctl_call(&h, "GroupController", "GroupControllerGetCapabilities", &req.base,
                             &csi__v1__group_controller_get_capabilities_response__descriptor,
                             (void **)&resp, NULL, 0),
            ERR_OK);
        ck_assert_uint_eq(resp->n_capabilities, 1);
        ck_assert_int_eq(
            resp->capabilities[0]->rpc->type,
            CSI__V1__GROUP_CONTROLLER_SERVICE_CAPABILITY__RPC__TYPE__CREATE_DELETE_GET_VOLUME_GROUP_SNAPSHOT);
        protobuf_c_message_free_unpacked(&resp->base, NULL);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("controller-snapshots");
        TCase *tc = tcase_create("snapshots");
        tcase_add_checked_fixture(tc, start, stop);
        tcase_add_test(tc, snapshot_create_rules);
        tcase_add_test(tc, restore_and_clone_keep_data);
        tcase_add_test(tc, list_snapshots);
        tcase_add_test(tc, list_volumes_paginates_across_changes);
        tcase_add_test(tc, group_snapshots);
        tcase_add_test(tc, group_capabilities);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
