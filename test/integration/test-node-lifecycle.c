/* Node service on the real binary: stage, publish, unpublish, unstage for ext4, xfs and raw
 * block volumes, idempotency, conflicts and refusals. */
/* ctest-labels: privileged */
#include <check.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "node/mount.h"
#include "common/store/store.h"
#include "test/integration/harness-node.h"
#include "common/cleanup.h"

static struct harness h;
static char staging[512], target[512];

static void setup(void)
{
        harness_node_start(&h, NULL, "plugins/staging/pv1", staging, target, sizeof(staging));
}

static void teardown(void)
{
        harness_stop(&h);
}

static void lifecycle(const char *id, const char *fs, uint64_t size)
{
        struct harness_node_cap cap = {.fs_type = fs};
        char file[600], buf[64];
        struct stat st;

        ck_assert_int_eq(harness_node_volume(&h, id, size, fs, false), 0);
        ASSERT_STATUS(harness_node_stage(&h, id, staging, &cap), ERR_OK);
        ck_assert(harness_node_is_mountpoint(staging));
        ASSERT_STATUS(harness_node_stage(&h, id, staging, &cap), ERR_OK); /* idempotent */
        ASSERT_STATUS(harness_node_publish(&h, id, staging, target, &cap, false), ERR_OK);
        ASSERT_STATUS(harness_node_publish(&h, id, staging, target, &cap, false), ERR_OK);
        ck_assert(harness_node_is_mountpoint(target));
        snprintf(file, sizeof(file), "%s/data", target);
        ck_assert_int_eq(harness_node_write_file(file, "persist me"), 0);
        ASSERT_STATUS(harness_node_unpublish(&h, id, target), ERR_OK);
        ASSERT_STATUS(harness_node_unpublish(&h, id, target), ERR_OK);
        ck_assert_int_eq(lstat(target, &st), -1); /* the target it created is gone */
        ASSERT_STATUS(harness_node_unstage(&h, id, staging), ERR_OK);
        ASSERT_STATUS(harness_node_unstage(&h, id, staging), ERR_OK);
        harness_node_assert_clean(&h);
        /* Restage and republish: the data survived, nothing was reformatted. */
        harness_node_up(&h, id, staging, target, &cap);
        ck_assert_int_gt(harness_node_read_file(file, buf, sizeof(buf)), 0);
        ck_assert_str_eq(buf, "persist me");
        harness_node_down(&h, id, staging, target);
}

START_TEST(test_ext4_lifecycle)
{
        lifecycle("vol-ext4", "ext4", 64 * HN_MIB);
}
END_TEST

START_TEST(test_xfs_lifecycle)
{
        lifecycle("vol-xfs", "xfs", HN_XFS_MIN);
}
END_TEST

START_TEST(test_default_fs_is_volume_fs)
{
        struct harness_node_cap none = {.fs_type = ""};
        _cleanup_mount_table_ struct mount_table *t = NULL;

        ck_assert_int_eq(harness_node_volume(&h, "vol-dflt", HN_XFS_MIN, "xfs", false), 0);
        ASSERT_STATUS(harness_node_stage(&h, "vol-dflt", staging, &none), ERR_OK);
        ck_assert_int_eq(mount_table_load(&t), 0);
        ck_assert_str_eq(mount_table_find_target(t, staging)->fstype, "xfs");
        ck_assert_msg(strstr(mount_table_find_target(t, staging)->fs_options, "nouuid"),
                      "xfs is mounted with nouuid");
        ASSERT_STATUS(harness_node_unstage(&h, "vol-dflt", staging), ERR_OK);
        harness_node_assert_clean(&h);
}
END_TEST

START_TEST(test_block_lifecycle)
{
        struct harness_node_cap cap = {.block = true};
        char loop[64], pattern[4096], back[4096];
        struct stat st, lst;
        int fd;

        ck_assert_int_eq(harness_node_volume(&h, "vol-blk", 16 * HN_MIB, "", false), 0);
        ASSERT_STATUS(harness_node_stage(&h, "vol-blk", staging, &cap), ERR_OK);
        ASSERT_STATUS(harness_node_stage(&h, "vol-blk", staging, &cap), ERR_OK);
        ck_assert(harness_node_loop_of(&h, "vol-blk", loop, sizeof(loop)));
        ck_assert_int_eq(mkdir(target, 0750), 0); /* an empty directory makes way */
        ASSERT_STATUS(harness_node_publish(&h, "vol-blk", staging, target, &cap, false), ERR_OK);
        ASSERT_STATUS(harness_node_publish(&h, "vol-blk", staging, target, &cap, false), ERR_OK);
        ck_assert_int_eq(stat(target, &st), 0);
        ck_assert(S_ISBLK(st.st_mode));
        ck_assert_int_eq(stat(loop, &lst), 0);
        ck_assert_uint_eq(st.st_rdev, lst.st_rdev);
        memset(pattern, 0xa5, sizeof(pattern));
        fd = open(target, O_WRONLY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(pwrite(fd, pattern, sizeof(pattern), 8192), (ssize_t)sizeof(pattern));
        ck_assert_int_eq(fsync(fd), 0);
        close(fd);
        /* Unstage while published is refused and names the holder. */
        ASSERT_STATUS(harness_node_unstage(&h, "vol-blk", staging), ERR_FAILED_PRECONDITION);
        ck_assert_ptr_nonnull(strstr(harness_node_message(), target));
        ASSERT_STATUS(harness_node_unpublish(&h, "vol-blk", target), ERR_OK);
        ck_assert_int_eq(lstat(target, &st), -1);
        ASSERT_STATUS(harness_node_unstage(&h, "vol-blk", staging), ERR_OK);
        harness_node_assert_clean(&h);
        /* Data written through the device is in the file. */
        harness_node_up(&h, "vol-blk", staging, target, &cap);
        fd = open(target, O_RDONLY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(pread(fd, back, sizeof(back), 8192), (ssize_t)sizeof(back));
        close(fd);
        ck_assert_int_eq(memcmp(pattern, back, sizeof(back)), 0);
        harness_node_down(&h, "vol-blk", staging, target);
}
END_TEST

START_TEST(test_readonly_publish)
{
        struct harness_node_cap cap = {.fs_type = "ext4"};
        char file[600], ro[512];

        harness_node_kpath(&h, "pods/ro", ro, sizeof(ro));
        ck_assert_int_eq(harness_node_volume(&h, "vol-ro", 64 * HN_MIB, "ext4", false), 0);
        ASSERT_STATUS(harness_node_stage(&h, "vol-ro", staging, &cap), ERR_OK);
        ASSERT_STATUS(harness_node_publish(&h, "vol-ro", staging, ro, &cap, true), ERR_OK);
        ck_assert(harness_node_mount_has_flag(ro, MS_RDONLY));
        snprintf(file, sizeof(file), "%s/nope", ro);
        ck_assert_int_eq(open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0644), -1);
        ck_assert_int_eq(errno, EROFS);
        ASSERT_STATUS(harness_node_publish(&h, "vol-ro", staging, ro, &cap, true), ERR_OK);
        /* Same target, now read-write: a conflict. */
        ASSERT_STATUS(harness_node_publish(&h, "vol-ro", staging, ro, &cap, false),
                      ERR_ALREADY_EXISTS);
        /* A second, read-write target works alongside. */
        ASSERT_STATUS(harness_node_publish(&h, "vol-ro", staging, target, &cap, false), ERR_OK);
        ck_assert(!harness_node_mount_has_flag(target, MS_RDONLY));
        ASSERT_STATUS(harness_node_unpublish(&h, "vol-ro", ro), ERR_OK);
        harness_node_down(&h, "vol-ro", staging, target);
}
END_TEST

START_TEST(test_stage_conflicts)
{
        struct harness_node_cap cap = {.fs_type = "ext4"};
        struct harness_node_cap noexec = {.fs_type = "ext4",
                                          .flags = (const char *const[]){"noexec", NULL}};
        struct harness_node_cap xfs = {.fs_type = "xfs"};
        char other[512];

        harness_node_kpath(&h, "plugins/staging/other", other, sizeof(other));
        ck_assert_int_eq(mkdir(other, 0750), 0);
        ck_assert_int_eq(harness_node_volume(&h, "vol-cfl", 64 * HN_MIB, "ext4", false), 0);
        ASSERT_STATUS(harness_node_stage(&h, "vol-cfl", staging, &cap), ERR_OK);
        ASSERT_STATUS(harness_node_stage(&h, "vol-cfl", other, &cap), ERR_ALREADY_EXISTS);
        ASSERT_STATUS(harness_node_stage(&h, "vol-cfl", staging, &noexec), ERR_ALREADY_EXISTS);
        ASSERT_STATUS(harness_node_stage(&h, "vol-cfl", staging, &xfs), ERR_FAILED_PRECONDITION);
        ck_assert(!harness_node_is_mountpoint(other));
        /* Publish needs the staging path it was staged at. */
        ASSERT_STATUS(harness_node_publish(&h, "vol-cfl", other, target, &cap, false),
                      ERR_FAILED_PRECONDITION);
        ASSERT_STATUS(harness_node_unstage(&h, "vol-cfl", other), ERR_OK); /* not staged there */
        ck_assert(harness_node_is_mountpoint(staging));
        ASSERT_STATUS(harness_node_unstage(&h, "vol-cfl", staging), ERR_OK);
        harness_node_assert_clean(&h);
}
END_TEST

START_TEST(test_mount_flags)
{
        struct harness_node_cap ok = {
            .fs_type = "ext4", .flags = (const char *const[]){"noexec,nosuid", "noatime", NULL}};
        const char *bad[] = {"bind", "rbind", "remount", "move", "errors=panic", "x-foo", "ro\nrw"};

        ck_assert_int_eq(harness_node_volume(&h, "vol-flg", 64 * HN_MIB, "ext4", false), 0);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                const char *flags[] = {bad[i], NULL};
                struct harness_node_cap c = {.fs_type = "ext4", .flags = flags};

                ASSERT_STATUS(harness_node_stage(&h, "vol-flg", staging, &c), ERR_INVALID_ARGUMENT);
        }
        harness_node_assert_clean(&h);
        ASSERT_STATUS(harness_node_stage(&h, "vol-flg", staging, &ok), ERR_OK);
        ck_assert(harness_node_mount_has_flag(staging, MS_NOEXEC));
        ck_assert(harness_node_mount_has_flag(staging, MS_NOSUID));
        ck_assert(harness_node_mount_has_flag(staging, MS_NOATIME));
        ASSERT_STATUS(harness_node_publish(&h, "vol-flg", staging, target, &ok, false), ERR_OK);
        ck_assert(harness_node_mount_has_flag(target, MS_NOEXEC));
        harness_node_down(&h, "vol-flg", staging, target);
}
END_TEST

START_TEST(test_mount_group)
{
        struct harness_node_cap cap = {.fs_type = "ext4", .group = "4242"};
        struct harness_node_cap bad = {.fs_type = "ext4", .group = "wheel"};
        struct stat st;

        ck_assert_int_eq(harness_node_volume(&h, "vol-grp", 64 * HN_MIB, "ext4", false), 0);
        ASSERT_STATUS(harness_node_stage(&h, "vol-grp", staging, &bad), ERR_INVALID_ARGUMENT);
        harness_node_up(&h, "vol-grp", staging, target, &cap);
        ck_assert_int_eq(stat(target, &st), 0);
        ck_assert_uint_eq(st.st_gid, 4242);
        ck_assert(st.st_mode & S_ISGID);
        ck_assert(st.st_mode & S_IWGRP);
        harness_node_down(&h, "vol-grp", staging, target);
}
END_TEST

START_TEST(test_never_reformat)
{
        struct harness_node_cap ext4 = {.fs_type = "ext4"};
        unsigned char mbr[512] = {0};
        char loop[64], cmd[700];
        _cleanup_free_ char *data = NULL;
        int fd;

        /* A volume that already holds XFS is not reformatted as ext4. */
        ck_assert_int_eq(harness_node_volume(&h, "vol-sig", HN_XFS_MIN, "", false), 0);
        ck_assert_int_eq(store_volume_data_path(h.pool, "vol-sig", &data), 0);
        snprintf(cmd, sizeof(cmd), "mkfs.xfs -q '%s'", data);
        ck_assert_int_eq(system(cmd), 0);
        ASSERT_STATUS(harness_node_stage(&h, "vol-sig", staging, &ext4), ERR_FAILED_PRECONDITION);
        ck_assert_ptr_nonnull(strstr(harness_node_message(), "xfs"));
        ck_assert(!harness_node_loop_of(&h, "vol-sig", loop, sizeof(loop)));
        /* A partition table is a signature too. */
        mbr[446 + 4] = 0x83;
        mbr[446 + 9] = 0x08;
        mbr[446 + 13] = 0x10;
        mbr[510] = 0x55;
        mbr[511] = 0xaa;
        ck_assert_int_eq(harness_node_volume(&h, "vol-mbr", 16 * HN_MIB, "", false), 0);
        free(data);
        ck_assert_int_eq(store_volume_data_path(h.pool, "vol-mbr", &data), 0);
        fd = open(data, O_WRONLY | O_CLOEXEC);
        ck_assert_int_eq(pwrite(fd, mbr, sizeof(mbr), 0), (ssize_t)sizeof(mbr));
        close(fd);
        ASSERT_STATUS(harness_node_stage(&h, "vol-mbr", staging, &ext4), ERR_FAILED_PRECONDITION);
        ck_assert_ptr_nonnull(strstr(harness_node_message(), "dos"));
        fd = open(data, O_RDONLY | O_CLOEXEC);
        ck_assert_int_eq(pread(fd, cmd, 2, 510), 2);
        close(fd);
        ck_assert_int_eq((unsigned char)cmd[0], 0x55);
        harness_node_assert_clean(&h);
}
END_TEST

START_TEST(test_not_found_and_invalid)
{
        struct harness_node_cap cap = {.fs_type = "ext4"};
        char outside[] = "/etc", evil[700], link[600];

        ASSERT_STATUS(harness_node_stage(&h, "vol-none", staging, &cap), ERR_NOT_FOUND);
        ASSERT_STATUS(harness_node_unstage(&h, "vol-none", staging), ERR_NOT_FOUND);
        ASSERT_STATUS(harness_node_publish(&h, "vol-none", staging, target, &cap, false),
                      ERR_NOT_FOUND);
        ASSERT_STATUS(harness_node_unpublish(&h, "vol-none", target), ERR_NOT_FOUND);
        ASSERT_STATUS(harness_node_stage(&h, "../../etc", staging, &cap), ERR_NOT_FOUND);
        ASSERT_STATUS(harness_node_stage(&h, "", staging, &cap), ERR_INVALID_ARGUMENT);
        ck_assert_int_eq(harness_node_volume(&h, "vol-inv", 64 * HN_MIB, "ext4", false), 0);
        ASSERT_STATUS(harness_node_stage(&h, "vol-inv", "", &cap), ERR_INVALID_ARGUMENT);
        ASSERT_STATUS(harness_node_stage(&h, "vol-inv", outside, &cap), ERR_INVALID_ARGUMENT);
        ASSERT_STATUS(harness_node_stage(&h, "vol-inv", "relative/x", &cap), ERR_INVALID_ARGUMENT);
        snprintf(evil, sizeof(evil), "%s/../../etc", staging);
        ASSERT_STATUS(harness_node_stage(&h, "vol-inv", evil, &cap), ERR_INVALID_ARGUMENT);
        ASSERT_STATUS(harness_node_stage(&h, "vol-inv", h.pool, &cap), ERR_INVALID_ARGUMENT);
        harness_node_kpath(&h, "pods/link", link, sizeof(link));
        ck_assert_int_eq(symlink("/etc", link), 0);
        snprintf(evil, sizeof(evil), "%s/x", link);
        ASSERT_STATUS(harness_node_publish(&h, "vol-inv", staging, evil, &cap, false),
                      ERR_INVALID_ARGUMENT);
        ASSERT_STATUS(harness_node_unpublish(&h, "vol-inv", link), ERR_INVALID_ARGUMENT);
        ASSERT_STATUS(harness_node_unpublish(&h, "vol-inv", "/dev/null"), ERR_INVALID_ARGUMENT);
        ck_assert_int_eq(access("/etc/passwd", F_OK), 0);
        snprintf(evil, sizeof(evil), "%s/tab\there", staging);
        ASSERT_STATUS(harness_node_stage(&h, "vol-inv", evil, &cap), ERR_INVALID_ARGUMENT);
        {
                struct harness_node_cap weird = {.fs_type = "ntfs"};
                ASSERT_STATUS(harness_node_stage(&h, "vol-inv", staging, &weird),
                              ERR_INVALID_ARGUMENT);
        }
        ASSERT_STATUS(harness_node_publish(&h, "vol-inv", staging, target, &cap, false),
                      ERR_FAILED_PRECONDITION); /* not staged */
        harness_node_assert_clean(&h);
}
END_TEST

START_TEST(test_target_inside_other_volume)
{
        struct harness_node_cap cap = {.fs_type = "ext4"};
        char inside[600], other[512];

        harness_node_kpath(&h, "plugins/staging/other", other, sizeof(other));
        ck_assert_int_eq(mkdir(other, 0750), 0);
        ck_assert_int_eq(harness_node_volume(&h, "vol-a", 64 * HN_MIB, "ext4", false), 0);
        ck_assert_int_eq(harness_node_volume(&h, "vol-b", 64 * HN_MIB, "ext4", false), 0);
        ASSERT_STATUS(harness_node_stage(&h, "vol-a", staging, &cap), ERR_OK);
        ASSERT_STATUS(harness_node_stage(&h, "vol-b", other, &cap), ERR_OK);
        /* vol-b onto vol-a's staging path: refused, and unpublish leaves it alone. */
        ASSERT_STATUS(harness_node_publish(&h, "vol-b", other, staging, &cap, false),
                      ERR_FAILED_PRECONDITION);
        ASSERT_STATUS(harness_node_unpublish(&h, "vol-b", staging), ERR_FAILED_PRECONDITION);
        ck_assert(harness_node_is_mountpoint(staging));
        snprintf(inside, sizeof(inside), "%s/sub", staging);
        ASSERT_STATUS(harness_node_publish(&h, "vol-b", other, inside, &cap, false),
                      ERR_INVALID_ARGUMENT);
        ck_assert_int_eq(harness_node_volume(&h, "vol-c", 64 * HN_MIB, "ext4", false), 0);
        ASSERT_STATUS(harness_node_stage(&h, "vol-c", inside, &cap), ERR_INVALID_ARGUMENT);
        /* The same when the directory there exists (its own filesystem is the volume's). */
        ck_assert_int_eq(mkdir(inside, 0750), 0);
        ASSERT_STATUS(harness_node_publish(&h, "vol-b", other, inside, &cap, false),
                      ERR_INVALID_ARGUMENT);
        ASSERT_STATUS(harness_node_stage(&h, "vol-c", inside, &cap), ERR_INVALID_ARGUMENT);
        ck_assert_int_eq(rmdir(inside), 0);
        ASSERT_STATUS(harness_node_unstage(&h, "vol-a", staging), ERR_OK);
        ASSERT_STATUS(harness_node_unstage(&h, "vol-b", other), ERR_OK);
        harness_node_assert_clean(&h);
}
END_TEST

START_TEST(test_info_and_caps)
{
        Csi__V1__NodeGetInfoRequest ireq = CSI__V1__NODE_GET_INFO_REQUEST__INIT;
        Csi__V1__NodeGetCapabilitiesRequest creq = CSI__V1__NODE_GET_CAPABILITIES_REQUEST__INIT;
        struct client_result res;
        Csi__V1__NodeGetInfoResponse *info;
        Csi__V1__NodeGetCapabilitiesResponse *caps;

        ck_assert_int_eq(harness_call(&h, "/csi.v1.Node/NodeGetInfo", &ireq.base,
                                      &csi__v1__node_get_info_response__descriptor, &res),
                         0);
        ck_assert_int_eq(res.status, ERR_OK);
        info = (Csi__V1__NodeGetInfoResponse *)res.resp;
        ck_assert_str_eq(info->node_id, "test-node");
        ck_assert_ptr_nonnull(info->accessible_topology);
        ck_assert_uint_eq(info->accessible_topology->n_segments, 1);
        ck_assert_str_eq(info->accessible_topology->segments[0]->key, "topology.silo.csi.io/node");
        ck_assert_str_eq(info->accessible_topology->segments[0]->value, "test-node");
        client_result_release(&res);
        ck_assert_int_eq(harness_call(&h, "/csi.v1.Node/NodeGetCapabilities", &creq.base,
                                      &csi__v1__node_get_capabilities_response__descriptor, &res),
                         0);
        ck_assert_int_eq(res.status, ERR_OK);
        caps = (Csi__V1__NodeGetCapabilitiesResponse *)res.resp;
        ck_assert_uint_eq(caps->n_capabilities, 6);
        ck_assert_int_eq(caps->capabilities[0]->rpc->type,
                         CSI__V1__NODE_SERVICE_CAPABILITY__RPC__TYPE__STAGE_UNSTAGE_VOLUME);
        client_result_release(&res);
}
END_TEST

START_TEST(test_info_shared_scope)
{
        const char *args[] = {"--pool-scope", "shared", NULL};
        Csi__V1__NodeGetInfoRequest req = CSI__V1__NODE_GET_INFO_REQUEST__INIT;
        struct client_result res;

        harness_kill9(&h);
        ck_assert_int_eq(harness_restart(&h, args, NULL), 0);
        ck_assert_int_eq(harness_call(&h, "/csi.v1.Node/NodeGetInfo", &req.base,
                                      &csi__v1__node_get_info_response__descriptor, &res),
                         0);
        ck_assert_int_eq(res.status, ERR_OK);
        ck_assert_ptr_null(((Csi__V1__NodeGetInfoResponse *)res.resp)->accessible_topology);
        client_result_release(&res);
        ck_assert(store_node_is_known(h.pool, "test-node"));
}
END_TEST

/* kubelet's directory reached through a symlink: paths in requests use the link, the mount
 * table shows the real directory; both must be recognised as the same place. */
START_TEST(test_kubelet_dir_symlink)
{
        struct harness_node_cap cap = {.fs_type = "ext4"};
        char link[400], arg[420], lstaging[600], ltarget[600];
        const char *args[] = {"--kubelet-dir", arg, NULL};

        harness_path(&h, "kubelet-link", link, sizeof(link));
        ck_assert_int_eq(symlink(h.kubelet_dir, link), 0);
        snprintf(arg, sizeof(arg), "%s", link);
        harness_kill9(&h);
        ck_assert_int_eq(harness_restart(&h, args, NULL), 0);
        snprintf(lstaging, sizeof(lstaging), "%s/plugins/staging/pv1", link);
        snprintf(ltarget, sizeof(ltarget), "%s/pods/mount", link);
        ck_assert_int_eq(harness_node_volume(&h, "vol-lnk", 64 * HN_MIB, "ext4", false), 0);
        ASSERT_STATUS(harness_node_stage(&h, "vol-lnk", lstaging, &cap), ERR_OK);
        ASSERT_STATUS(harness_node_stage(&h, "vol-lnk", lstaging, &cap), ERR_OK);
        ck_assert(harness_node_is_mountpoint(staging)); /* the real path */
        ASSERT_STATUS(harness_node_publish(&h, "vol-lnk", lstaging, ltarget, &cap, false), ERR_OK);
        ASSERT_STATUS(harness_node_publish(&h, "vol-lnk", lstaging, ltarget, &cap, false), ERR_OK);
        ASSERT_STATUS(harness_node_stats(&h, "vol-lnk", ltarget, NULL), ERR_OK);
        ASSERT_STATUS(harness_node_unpublish(&h, "vol-lnk", ltarget), ERR_OK);
        ASSERT_STATUS(harness_node_unstage(&h, "vol-lnk", lstaging), ERR_OK);
        harness_node_assert_clean(&h);
}
END_TEST

START_TEST(test_busy_unstage_is_precondition)
{
        struct harness_node_cap cap = {.fs_type = "ext4"};
        char file[600];
        int fd;

        ck_assert_int_eq(harness_node_volume(&h, "vol-busy", 64 * HN_MIB, "ext4", false), 0);
        ASSERT_STATUS(harness_node_stage(&h, "vol-busy", staging, &cap), ERR_OK);
        snprintf(file, sizeof(file), "%s/open", staging);
        fd = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
        ck_assert_int_ge(fd, 0);
        /* umount says EBUSY: that is not "another operation pending" (ABORTED). */
        ASSERT_STATUS(harness_node_unstage(&h, "vol-busy", staging), ERR_FAILED_PRECONDITION);
        ck_assert(harness_node_is_mountpoint(staging));
        close(fd);
        ASSERT_STATUS(harness_node_unstage(&h, "vol-busy", staging), ERR_OK);
        harness_node_assert_clean(&h);
}
END_TEST

START_TEST(test_unpublish_keeps_foreign_content)
{
        char file[600];
        struct stat st;

        /* Not published, and the target holds someone's file: it stays. */
        ck_assert_int_eq(harness_node_volume(&h, "vol-keep", 64 * HN_MIB, "ext4", false), 0);
        ck_assert_int_eq(mkdir(target, 0750), 0);
        snprintf(file, sizeof(file), "%s/precious", target);
        ck_assert_int_eq(harness_node_write_file(file, "keep"), 0);
        ASSERT_STATUS(harness_node_unpublish(&h, "vol-keep", target), ERR_OK);
        ck_assert_int_eq(stat(file, &st), 0);
}
END_TEST

#define PARALLEL 6

struct parallel_stage {
        pthread_t th;
        char id[32], path[600];
        enum err_status st;
};

static void *parallel_run(void *arg)
{
        struct parallel_stage *p = arg;
        struct harness_node_cap cap = {.block = true};

        p->st = harness_node_stage(&h, p->id, p->path, &cap);
        return NULL;
}

START_TEST(test_parallel_stages)
{
        struct parallel_stage p[PARALLEL] = {0};

        for (int i = 0; i < PARALLEL; i++) {
                snprintf(p[i].id, sizeof(p[i].id), "vol-par%d", i);
                snprintf(p[i].path, sizeof(p[i].path), "%s%d", staging, i);
                ck_assert_int_eq(harness_node_volume(&h, p[i].id, 8 * HN_MIB, "", false), 0);
        }
        for (int i = 0; i < PARALLEL; i++)
                ck_assert_int_eq(pthread_create(&p[i].th, NULL, parallel_run, &p[i]), 0);
        for (int i = 0; i < PARALLEL; i++)
                pthread_join(p[i].th, NULL);
        for (int i = 0; i < PARALLEL; i++)
                ck_assert_msg(p[i].st == ERR_OK, "%s: %s", p[i].id, err_status_name(p[i].st));
        ck_assert_int_eq(harness_node_count_loops(&h), PARALLEL);
        for (int i = 0; i < PARALLEL; i++)
                ASSERT_STATUS(harness_node_unstage(&h, p[i].id, p[i].path), ERR_OK);
        harness_node_assert_clean(&h);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("node-lifecycle");
        TCase *tc = tcase_create("lifecycle");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 300);
        tcase_add_test(tc, test_ext4_lifecycle);
        tcase_add_test(tc, test_xfs_lifecycle);
        tcase_add_test(tc, test_default_fs_is_volume_fs);
        tcase_add_test(tc, test_block_lifecycle);
        tcase_add_test(tc, test_readonly_publish);
        tcase_add_test(tc, test_stage_conflicts);
        tcase_add_test(tc, test_mount_flags);
        tcase_add_test(tc, test_mount_group);
        tcase_add_test(tc, test_never_reformat);
        tcase_add_test(tc, test_not_found_and_invalid);
        tcase_add_test(tc, test_target_inside_other_volume);
        tcase_add_test(tc, test_info_and_caps);
        tcase_add_test(tc, test_info_shared_scope);
        tcase_add_test(tc, test_kubelet_dir_symlink);
        tcase_add_test(tc, test_busy_unstage_is_precondition);
        tcase_add_test(tc, test_unpublish_keeps_foreign_content);
        tcase_add_test(tc, test_parallel_stages);
        suite_add_tcase(s, tc);
        return harness_node_run(s);
}
