/* CSI inline ephemeral volumes on the real binary, as kubelet drives them: NodePublishVolume
 * with "csi.storage.k8s.io/ephemeral: true" and no stage call, NodeUnpublishVolume, repeats,
 * bad attributes, capacity and listing, and a kill -9 that leaves one half-made. */
/* ctest-labels: privileged */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "test/integration/harness-ctl.h"
#include "test/integration/harness-node.h"

#define MIB HN_MIB

static struct harness h;
static char staging[512], target[512];
static const struct harness_node_cap ext4 = {.fs_type = ""};

/* kubelet's handle: "csi-" and sha256(pod uid + volume name) in hex. */
#define EPH_A "csi-0b5d0e7c6a5ad3b2f3f1a2c4e9d8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0"
#define EPH_B "csi-1c6e1f8d7b6be4c3a4a2b3d5f0e9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1"

static void start(void)
{
        harness_node_start(&h, NULL, "staging", staging, target, sizeof(staging));
}

static void teardown(void)
{
        harness_stop(&h);
}

static enum err_status publish(const char *id, const char *where, const char *size,
                               const struct harness_node_cap *cap)
{
        const char *ctx[] = {"csi.storage.k8s.io/ephemeral",
                             "true",
                             "csi.storage.k8s.io/pod.name",
                             "web-0",
                             "size",
                             size,
                             "provisioning",
                             "thin",
                             NULL};
        return harness_node_publish_ctx(&h, id, where, cap, false, ctx);
}

static bool exists(const char *rel)
{
        char p[700];
        harness_path(&h, rel, p, sizeof(p));
        return access(p, F_OK) == 0;
}

static int64_t thin_capacity(void)
{
        Csi__V1__GetCapacityRequest req = CSI__V1__GET_CAPACITY_REQUEST__INIT;
        Csi__V1__GetCapacityResponse *resp = NULL;
        ck_assert_int_eq(harness_ctl_call(&h, "Controller", "GetCapacity", &req.base,
                                          &csi__v1__get_capacity_response__descriptor,
                                          (void **)&resp, NULL, 0),
                         ERR_OK);
        int64_t v = resp->available_capacity;
        protobuf_c_message_free_unpacked(&resp->base, NULL);
        return v;
}

/* Every ListVolumes entry, page by page of max entries; none may be an inline volume. */
static size_t listed_volumes(int max)
{
        char token[160] = "";
        size_t n = 0;
        do {
                Csi__V1__ListVolumesRequest req = CSI__V1__LIST_VOLUMES_REQUEST__INIT;
                Csi__V1__ListVolumesResponse *resp = NULL;
                req.max_entries = max;
                req.starting_token = token;
                ck_assert_int_eq(harness_ctl_call(&h, "Controller", "ListVolumes", &req.base,
                                                  &csi__v1__list_volumes_response__descriptor,
                                                  (void **)&resp, NULL, 0),
                                 ERR_OK);
                for (size_t i = 0; i < resp->n_entries; i++)
                        ck_assert_str_ne(resp->entries[i]->volume->volume_id, EPH_A);
                n += resp->n_entries;
                snprintf(token, sizeof(token), "%s", resp->next_token ? resp->next_token : "");
                protobuf_c_message_free_unpacked(&resp->base, NULL);
        } while (token[0]);
        return n;
}

START_TEST(test_publish_unpublish)
{
        char size[32], file[600];
        start();
        /* Half of what the pool can take: its share shows in GetCapacity above the noise of
         * others writing to the same disk. */
        int64_t before = thin_capacity();
        int64_t want = before / 2 / (int64_t)MIB * (int64_t)MIB;
        snprintf(size, sizeof(size), "%lld", (long long)want);
        ASSERT_STATUS(publish(EPH_A, target, size, &ext4), ERR_OK);
        ck_assert(harness_node_is_mountpoint(target));
        struct statvfs sv;
        ck_assert_int_eq(statvfs(target, &sv), 0);
        ck_assert_uint_gt((uint64_t)sv.f_blocks * sv.f_frsize, (uint64_t)want / 10 * 9);
        ck_assert_uint_le((uint64_t)sv.f_blocks * sv.f_frsize, (uint64_t)want);
        snprintf(file, sizeof(file), "%s/data", target);
        ck_assert_int_eq(harness_node_write_file(file, "scratch"), 0);
        /* kubelet retries: the same answer, the same volume (the data stays). */
        ASSERT_STATUS(publish(EPH_A, target, size, &ext4), ERR_OK);
        char buf[32];
        ck_assert_int_eq(harness_node_read_file(file, buf, sizeof(buf)), 7);
        ck_assert_str_eq(buf, "scratch");
        ck_assert(exists("pool/volumes/" EPH_A ".img"));
        ck_assert_int_le(thin_capacity(), before - want + before / 8);
        ck_assert_uint_eq(listed_volumes(0), 0); /* never a persistent volume */
        ck_assert_int_eq(harness_node_count_loops(&h), 1);

        ASSERT_STATUS(harness_node_unpublish(&h, EPH_A, target), ERR_OK);
        ck_assert(!exists("pool/volumes/" EPH_A ".img"));
        ck_assert(!exists("pool/volumes/" EPH_A ".meta"));
        ck_assert(!exists("kubelet/plugins/silo.csi.io/ephemeral/" EPH_A));
        ck_assert_int_eq(access(target, F_OK), -1);
        harness_node_assert_clean(&h);
        ck_assert_int_ge(thin_capacity(), before - before / 8);
        /* A repeat (the first answer was lost) is OK too. */
        ASSERT_STATUS(harness_node_unpublish(&h, EPH_A, target), ERR_OK);
}
END_TEST

START_TEST(test_xfs)
{
        const struct harness_node_cap xfs = {.fs_type = "xfs"};
        start();
        /* "vol-..." ids sort after "csi-...": a page must skip the inline volume. */
        ck_assert_int_eq(harness_ctl_create(&h, "pvc-a", NULL, NULL), ERR_OK);
        ck_assert_int_eq(harness_ctl_create(&h, "pvc-b", NULL, NULL), ERR_OK);
        ASSERT_STATUS(publish(EPH_A, target, "64Mi", &xfs), ERR_OK);
        ck_assert(harness_node_is_mountpoint(target));
        ck_assert_uint_eq(listed_volumes(1), 2);
        ck_assert_uint_eq(listed_volumes(0), 2);
        char p[700];
        harness_node_kpath(&h, "plugins/silo.csi.io/ephemeral/" EPH_A, p, sizeof(p));
        ck_assert(harness_node_is_mountpoint(p));
        /* The same handle with another filesystem is another volume: refused. */
        ASSERT_STATUS(publish(EPH_A, target, "64Mi", &ext4), ERR_ALREADY_EXISTS);
        ck_assert(harness_node_is_mountpoint(target));
        ASSERT_STATUS(harness_node_unpublish(&h, EPH_A, target), ERR_OK);
        harness_node_assert_clean(&h);
}
END_TEST

/* Every refusal names the attribute and leaves nothing in the pool. */
START_TEST(test_bad_attributes)
{
        static const struct {
                const char *key, *value, *names;
        } bad[] = {
            {"size", "1Gx", "'size'"},     {"size", "0", "'size'"},
            {"size", "-1Gi", "'size'"},    {"provisioning", "warm", "'provisioning'"},
            {"color", "blue", "'color'"},  {"fsType", "xfs", "'fsType'"},
            {"FSTYPE", "xfs", "'FSTYPE'"},
        };
        start();
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                const char *ctx[] = {
                    "csi.storage.k8s.io/ephemeral", "true", "size", "64Mi", NULL, NULL, NULL};
                bool size = strcmp(bad[i].key, "size") == 0;
                ctx[size ? 2 : 4] = bad[i].key;
                ctx[size ? 3 : 5] = bad[i].value;
                ASSERT_STATUS(harness_node_publish_ctx(&h, EPH_A, target, &ext4, false, ctx),
                              ERR_INVALID_ARGUMENT);
                ck_assert_msg(strstr(harness_node_message(), bad[i].names), "%s",
                              harness_node_message());
        }
        const char *nosize[] = {"csi.storage.k8s.io/ephemeral", "true", NULL};
        ASSERT_STATUS(harness_node_publish_ctx(&h, EPH_A, target, &ext4, false, nosize),
                      ERR_INVALID_ARGUMENT);
        ck_assert_ptr_nonnull(strstr(harness_node_message(), "'size'"));
        const struct harness_node_cap block = {.block = true}, btrfs = {.fs_type = "btrfs"};
        ASSERT_STATUS(publish(EPH_A, target, "64Mi", &block), ERR_INVALID_ARGUMENT);
        ASSERT_STATUS(publish(EPH_A, target, "64Mi", &btrfs), ERR_INVALID_ARGUMENT);
        /* The handle is checked like any id. */
        ASSERT_STATUS(publish("csi-../../etc", target, "64Mi", &ext4), ERR_NOT_FOUND);
        ASSERT_STATUS(publish("CSI-ABC", target, "64Mi", &ext4), ERR_NOT_FOUND);
        char longid[140];
        memset(longid, 'a', sizeof(longid) - 1);
        longid[sizeof(longid) - 1] = '\0';
        ASSERT_STATUS(publish(longid, target, "64Mi", &ext4), ERR_NOT_FOUND);
        /* Ids of silo's own forms are CreateVolume's and CreateSnapshot's: an inline volume
         * under one would squat a future name's id and escape the restart's clean-up. */
        static const char *const own[] = {"vol-0123456789abcdef", "snap-0123456789abcdef",
                                          "grp-0123456789abcdef"};
        for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
                ASSERT_STATUS(publish(own[i], target, "64Mi", &ext4), ERR_INVALID_ARGUMENT);
                ck_assert_msg(strstr(harness_node_message(), own[i]), "%s", harness_node_message());
                char rel[128];
                snprintf(rel, sizeof(rel), "pool/volumes/%s.meta", own[i]);
                ck_assert(!exists(rel));
        }
        /* A target outside the kubelet dir is refused before anything is made. */
        ASSERT_STATUS(publish(EPH_A, "/etc/eph", "64Mi", &ext4), ERR_INVALID_ARGUMENT);
        ck_assert(!exists("pool/volumes/" EPH_A ".meta"));
        ck_assert(!exists("pool/volumes/" EPH_A ".img"));
        harness_node_assert_clean(&h);
}
END_TEST

/* kill -9 after the volume was staged but before it reached the target (the bind mount is
 * taken away to stand for that): the next start removes it; a published one stays. */
START_TEST(test_restart_removes_half_made)
{
        char other[512];
        start();
        harness_node_kpath(&h, "pods/b", other, sizeof(other));
        ASSERT_STATUS(publish(EPH_A, target, "64Mi", &ext4), ERR_OK);
        ASSERT_STATUS(publish(EPH_B, other, "64Mi", &ext4), ERR_OK);
        ck_assert_int_eq(umount2(target, 0), 0);
        harness_kill9(&h);
        ck_assert_int_eq(harness_restart(&h, NULL, NULL), 0);
        ck_assert(!exists("pool/volumes/" EPH_A ".meta"));
        ck_assert(!exists("pool/volumes/" EPH_A ".img"));
        ck_assert(!exists("kubelet/plugins/silo.csi.io/ephemeral/" EPH_A));
        ck_assert(exists("pool/volumes/" EPH_B ".img"));
        ck_assert(harness_node_is_mountpoint(other));
        ck_assert_int_eq(harness_node_count_loops(&h), 1);
        /* kubelet's retry makes it anew; the pod's own unpublishes remove both. */
        ASSERT_STATUS(publish(EPH_A, target, "64Mi", &ext4), ERR_OK);
        ASSERT_STATUS(harness_node_unpublish(&h, EPH_A, target), ERR_OK);
        ASSERT_STATUS(harness_node_unpublish(&h, EPH_B, other), ERR_OK);
        harness_node_assert_clean(&h);
}
END_TEST

/* Without a controller in the process there is nobody to make the volume. */
START_TEST(test_node_mode_refuses)
{
        const char *args[] = {"--mode", "node", NULL};
        ck_assert_int_eq(harness_start(&h, args, NULL), 0);
        harness_node_track(&h);
        char t[512];
        harness_node_mkdir(&h, "pods", t, sizeof(t));
        harness_node_kpath(&h, "pods/mount", t, sizeof(t));
        ASSERT_STATUS(publish(EPH_A, t, "64Mi", &ext4), ERR_FAILED_PRECONDITION);
        ck_assert(!exists("pool/volumes/" EPH_A ".meta"));
}
END_TEST

int main(void)
{
        Suite *s = suite_create("node-ephemeral");
        TCase *tc = tcase_create("ephemeral");

        tcase_add_checked_fixture(tc, NULL, teardown);
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, test_publish_unpublish);
        tcase_add_test(tc, test_xfs);
        tcase_add_test(tc, test_bad_attributes);
        tcase_add_test(tc, test_restart_removes_half_made);
        tcase_add_test(tc, test_node_mode_refuses);
        suite_add_tcase(s, tc);
        return harness_node_run(s);
}
