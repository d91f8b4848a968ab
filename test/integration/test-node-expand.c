/* Node service on the real binary: NodeExpandVolume (xfs online, ext4 through restage, raw
 * block), NodeGetVolumeStats usage and VolumeCondition. */
/* ctest-labels: privileged */
#include <check.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "common/store/store.h"
#include "test/integration/harness-node.h"
#include "common/cleanup.h"

static struct harness h;
static char staging[512], target[512];

static void setup(void)
{
        harness_node_start(&h, NULL, "staging", staging, target, sizeof(staging));
}

static void teardown(void)
{
        harness_stop(&h);
}

static uint64_t fs_total(const char *path)
{
        struct statvfs sv;

        ck_assert_int_eq(statvfs(path, &sv), 0);
        return (uint64_t)sv.f_blocks * sv.f_frsize;
}

static uint64_t dev_size(const char *dev)
{
        int fd = open(dev, O_RDONLY | O_CLOEXEC);
        uint64_t size = 0;

        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(ioctl(fd, BLKGETSIZE64, &size), 0);
        close(fd);
        return size;
}

START_TEST(test_xfs_online)
{
        struct harness_node_cap cap = {.fs_type = "xfs"};
        const uint64_t bigger = HN_XFS_MIN + 64 * HN_MIB;
        char loop[64];
        uint64_t before;
        int64_t cap_bytes = 0;

        ck_assert_int_eq(harness_node_volume(&h, "vol-xg", HN_XFS_MIN, "xfs", false), 0);
        harness_node_up(&h, "vol-xg", staging, target, &cap);
        before = fs_total(target);
        ck_assert_int_eq(harness_node_grow_file(&h, "vol-xg", bigger), 0);
        ASSERT_STATUS(harness_node_expand(&h, "vol-xg", target, (int64_t)bigger, false, &cap_bytes),
                      ERR_OK);
        ck_assert_int_eq(cap_bytes, (int64_t)bigger);
        ck_assert(harness_node_loop_of(&h, "vol-xg", loop, sizeof(loop)));
        ck_assert_uint_eq(dev_size(loop), bigger);
        ck_assert_uint_eq(fs_total(target) - before, 64 * HN_MIB);
        harness_node_down(&h, "vol-xg", staging, target);
}
END_TEST

START_TEST(test_ext4_grows_at_restage)
{
        struct harness_node_cap cap = {.fs_type = "ext4"};
        char loop[64];
        uint64_t before;
        int64_t cap_bytes = 0;

        ck_assert_int_eq(harness_node_volume(&h, "vol-eg", 64 * HN_MIB, "ext4", false), 0);
        harness_node_up(&h, "vol-eg", staging, target, &cap);
        before = fs_total(target);
        ck_assert_int_eq(harness_node_grow_file(&h, "vol-eg", 128 * HN_MIB), 0);
        ASSERT_STATUS(harness_node_expand(&h, "vol-eg", target, 0, false, &cap_bytes), ERR_OK);
        ck_assert_int_eq(cap_bytes, (int64_t)(128 * HN_MIB));
        ck_assert(harness_node_loop_of(&h, "vol-eg", loop, sizeof(loop)));
        ck_assert_uint_eq(dev_size(loop), 128 * HN_MIB);
        if (fs_total(target) == before) /* no CAP_SYS_RESOURCE: deferred, and said so */
                ck_assert(harness_log_contains(&h, "grows at the next NodeStageVolume"));
        harness_node_down(&h, "vol-eg", staging, target);
        harness_node_up(&h, "vol-eg", staging, target, &cap);
        ck_assert_uint_ge(fs_total(target), before + 48 * HN_MIB);
        harness_node_down(&h, "vol-eg", staging, target);
}
END_TEST

START_TEST(test_block_expand)
{
        struct harness_node_cap cap = {.block = true};
        int64_t cap_bytes = 0;

        ck_assert_int_eq(harness_node_volume(&h, "vol-bg", 16 * HN_MIB, "", false), 0);
        harness_node_up(&h, "vol-bg", staging, target, &cap);
        ck_assert_uint_eq(dev_size(target), 16 * HN_MIB);
        ck_assert_int_eq(harness_node_grow_file(&h, "vol-bg", 24 * HN_MIB), 0);
        ASSERT_STATUS(
            harness_node_expand(&h, "vol-bg", target, (int64_t)(24 * HN_MIB), true, &cap_bytes),
            ERR_OK);
        ck_assert_int_eq(cap_bytes, (int64_t)(24 * HN_MIB));
        ck_assert_uint_eq(dev_size(target), 24 * HN_MIB);
        harness_node_down(&h, "vol-bg", staging, target);
}
END_TEST

START_TEST(test_expand_errors)
{
        struct harness_node_cap cap = {.fs_type = "ext4"};
        char elsewhere[512];
        int64_t cap_bytes = 0;

        harness_node_kpath(&h, "pods", elsewhere, sizeof(elsewhere));
        ck_assert_int_eq(harness_node_volume(&h, "vol-ee", 64 * HN_MIB, "ext4", false), 0);
        ASSERT_STATUS(harness_node_expand(&h, "vol-none", target, 0, false, &cap_bytes),
                      ERR_NOT_FOUND);
        ASSERT_STATUS(harness_node_expand(&h, "vol-ee", target, 0, false, &cap_bytes),
                      ERR_NOT_FOUND); /* not published there */
        harness_node_up(&h, "vol-ee", staging, target, &cap);
        ASSERT_STATUS(harness_node_expand(&h, "vol-ee", elsewhere, 0, false, &cap_bytes),
                      ERR_NOT_FOUND);
        ASSERT_STATUS(
            harness_node_expand(&h, "vol-ee", target, (int64_t)(1024 * HN_MIB), false, &cap_bytes),
            ERR_OUT_OF_RANGE);
        ASSERT_STATUS(harness_node_expand(&h, "vol-ee", target, -1, false, &cap_bytes),
                      ERR_INVALID_ARGUMENT);
        harness_node_down(&h, "vol-ee", staging, target);
}
END_TEST

static const Csi__V1__VolumeUsage *usage_of(const Csi__V1__NodeGetVolumeStatsResponse *s, int unit)
{
        for (size_t i = 0; i < s->n_usage; i++)
                if ((int)s->usage[i]->unit == unit)
                        return s->usage[i];
        return NULL;
}

START_TEST(test_stats_usage)
{
        struct harness_node_cap cap = {.fs_type = "ext4"};
        Csi__V1__NodeGetVolumeStatsResponse *a = NULL, *b = NULL, *c = NULL;
        const Csi__V1__VolumeUsage *ba, *bb, *ia, *ib;
        char file[600], big[1 << 16], other[512];
        int fd;

        ck_assert_int_eq(harness_node_volume(&h, "vol-st", 64 * HN_MIB, "ext4", false), 0);
        harness_node_up(&h, "vol-st", staging, target, &cap);
        ASSERT_STATUS(harness_node_stats(&h, "vol-st", target, &a), ERR_OK);
        snprintf(file, sizeof(file), "%s/blob", target);
        fd = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
        ck_assert_int_ge(fd, 0);
        memset(big, 'x', sizeof(big));
        for (int i = 0; i < 128; i++) /* 8 MiB */
                ck_assert_int_eq(write(fd, big, sizeof(big)), (ssize_t)sizeof(big));
        ck_assert_int_eq(fsync(fd), 0);
        close(fd);
        ASSERT_STATUS(harness_node_stats(&h, "vol-st", target, &b), ERR_OK);
        ba = usage_of(a, CSI__V1__VOLUME_USAGE__UNIT__BYTES);
        bb = usage_of(b, CSI__V1__VOLUME_USAGE__UNIT__BYTES);
        ia = usage_of(a, CSI__V1__VOLUME_USAGE__UNIT__INODES);
        ib = usage_of(b, CSI__V1__VOLUME_USAGE__UNIT__INODES);
        ck_assert(ba && bb && ia && ib);
        ck_assert_int_eq(ba->total, bb->total);
        ck_assert_int_ge(bb->used - ba->used, (int64_t)(8 * HN_MIB));
        ck_assert_int_ge(ba->available - bb->available, (int64_t)(8 * HN_MIB));
        ck_assert_int_eq(ib->used - ia->used, 1);
        ck_assert(b->volume_condition && !b->volume_condition->abnormal);
        /* The staging path answers too; a path the volume is not at does not. */
        ASSERT_STATUS(harness_node_stats(&h, "vol-st", staging, &c), ERR_OK);
        harness_node_kpath(&h, "pods", other, sizeof(other));
        ASSERT_STATUS(harness_node_stats(&h, "vol-st", other, NULL), ERR_NOT_FOUND);
        ASSERT_STATUS(harness_node_stats(&h, "vol-none", target, NULL), ERR_NOT_FOUND);
        protobuf_c_message_free_unpacked(&a->base, NULL);
        protobuf_c_message_free_unpacked(&b->base, NULL);
        protobuf_c_message_free_unpacked(&c->base, NULL);
        harness_node_down(&h, "vol-st", staging, target);
}
END_TEST

START_TEST(test_stats_block)
{
        struct harness_node_cap cap = {.block = true};
        Csi__V1__NodeGetVolumeStatsResponse *s = NULL;

        ck_assert_int_eq(harness_node_volume(&h, "vol-sb", 16 * HN_MIB, "", false), 0);
        harness_node_up(&h, "vol-sb", staging, target, &cap);
        ASSERT_STATUS(harness_node_stats(&h, "vol-sb", target, &s), ERR_OK);
        ck_assert_uint_eq(s->n_usage, 1);
        ck_assert_int_eq(s->usage[0]->total, (int64_t)(16 * HN_MIB));
        protobuf_c_message_free_unpacked(&s->base, NULL);
        /* The staging directory of a block volume stands for its device. */
        ASSERT_STATUS(harness_node_stats(&h, "vol-sb", staging, &s), ERR_OK);
        ck_assert_int_eq(s->usage[0]->total, (int64_t)(16 * HN_MIB));
        ck_assert(!s->volume_condition->abnormal);
        protobuf_c_message_free_unpacked(&s->base, NULL);
        harness_node_down(&h, "vol-sb", staging, target);
}
END_TEST

START_TEST(test_condition_backing_removed)
{
        struct harness_node_cap cap = {.fs_type = "ext4"};
        Csi__V1__NodeGetVolumeStatsResponse *s = NULL;
        _cleanup_free_ char *data = NULL;

        ck_assert_int_eq(harness_node_volume(&h, "vol-gone", 64 * HN_MIB, "ext4", false), 0);
        harness_node_up(&h, "vol-gone", staging, target, &cap);
        ck_assert_int_eq(store_volume_data_path(h.pool, "vol-gone", &data), 0);
        ck_assert_int_eq(unlink(data), 0);
        ASSERT_STATUS(harness_node_stats(&h, "vol-gone", target, &s), ERR_OK);
        ck_assert(s->volume_condition && s->volume_condition->abnormal);
        ck_assert_ptr_nonnull(strstr(s->volume_condition->message, "backing file"));
        protobuf_c_message_free_unpacked(&s->base, NULL);
        harness_node_down(&h, "vol-gone", staging,
                          target); /* still cleans up: unmounts and detaches */
}
END_TEST

START_TEST(test_condition_mount_gone)
{
        struct harness_node_cap cap = {.fs_type = "ext4"};
        Csi__V1__NodeGetVolumeStatsResponse *s = NULL;

        ck_assert_int_eq(harness_node_volume(&h, "vol-um", 64 * HN_MIB, "ext4", false), 0);
        harness_node_up(&h, "vol-um", staging, target, &cap);
        ck_assert_int_eq(umount2(target, MNT_DETACH), 0);
        ASSERT_STATUS(harness_node_stats(&h, "vol-um", target, &s), ERR_OK);
        ck_assert(s->volume_condition && s->volume_condition->abnormal);
        ck_assert_ptr_nonnull(strstr(s->volume_condition->message, "no longer mounted"));
        protobuf_c_message_free_unpacked(&s->base, NULL);
        harness_node_down(&h, "vol-um", staging, target);
}
END_TEST

START_TEST(test_condition_fs_read_only)
{
        struct harness_node_cap cap = {.fs_type = "ext4"};
        Csi__V1__NodeGetVolumeStatsResponse *s = NULL;

        ck_assert_int_eq(harness_node_volume(&h, "vol-rofs", 64 * HN_MIB, "ext4", false), 0);
        harness_node_up(&h, "vol-rofs", staging, target, &cap);
        /* What errors=remount-ro does: the superblock turns read-only under rw mounts. */
        ck_assert_int_eq(mount(NULL, staging, NULL, MS_REMOUNT | MS_RDONLY, NULL), 0);
        ASSERT_STATUS(harness_node_stats(&h, "vol-rofs", target, &s), ERR_OK);
        ck_assert(s->volume_condition && s->volume_condition->abnormal);
        ck_assert_ptr_nonnull(strstr(s->volume_condition->message, "read-only"));
        protobuf_c_message_free_unpacked(&s->base, NULL);
        harness_node_down(&h, "vol-rofs", staging, target);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("node-expand");
        TCase *tc = tcase_create("expand");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 300);
        tcase_add_test(tc, test_xfs_online);
        tcase_add_test(tc, test_ext4_grows_at_restage);
        tcase_add_test(tc, test_block_expand);
        tcase_add_test(tc, test_expand_errors);
        tcase_add_test(tc, test_stats_usage);
        tcase_add_test(tc, test_stats_block);
        tcase_add_test(tc, test_condition_backing_removed);
        tcase_add_test(tc, test_condition_mount_gone);
        tcase_add_test(tc, test_condition_fs_read_only);
        suite_add_tcase(s, tc);
        return harness_node_run(s);
}
