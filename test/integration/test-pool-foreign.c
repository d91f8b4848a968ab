/* ctest-labels: privileged */
/* A foreign object under a volume's data file name in the pool: a block device node (a loop
 * device standing in for a host disk), a symlink, a FIFO, a directory. It is never attached,
 * formatted, followed, locked or removed; stage and publish are FAILED_PRECONDITION naming
 * it, the volume's condition is abnormal, nothing hangs on a FIFO, DeleteVolume removes
 * silo's own files and leaves the object, and a restart meets it without blocking. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "node/loop.h"
#include "test/integration/harness-ctl.h"
#include "test/integration/harness-node.h"
#include "common/cleanup.h"

#define STANDIN_SIZE (16 << 20)

static struct harness h;

enum foreign { F_BLOCK, F_SYMLINK, F_FIFO, F_DIR, F_MOUNT };

static void setup(void)
{
        ck_assert_int_eq(harness_start(&h, NULL, NULL), 0);
        harness_node_track(&h);
}

static void teardown(void)
{
        harness_ctl_stop(&h);
}

/* The first 128 KiB of the stand-in disk are still zero: nothing formatted it. */
static bool standin_is_blank(const char *file)
{
        static char buf[128 << 10];
        _cleanup_close_ int fd = open(file, O_RDONLY | O_CLOEXEC);

        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(pread(fd, buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
        for (size_t i = 0; i < sizeof(buf); i++)
                if (buf[i])
                        return false;
        return true;
}

/* Puts the foreign object at path. The stand-in disk's file lives under the test root, so that
 * the harness releases it when the test fails. */
static void make_foreign(enum foreign f, const char *path, char *standin, struct loop_dev *disk)
{
        char other[600];
        int fd;

        if (f != F_MOUNT)
                ck_assert_int_eq(unlink(path), 0);
        switch (f) {
        case F_BLOCK:
                harness_path(&h, "standin", standin, 600);
                fd = open(standin, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
                ck_assert_int_ge(fd, 0);
                ck_assert_int_eq(ftruncate(fd, STANDIN_SIZE), 0);
                close(fd);
                ck_assert_int_eq(loop_attach(standin, disk), 0);
                ck_assert_int_eq(mknod(path, S_IFBLK | 0600, disk->devno), 0);
                break;
        case F_SYMLINK:
                harness_path(&h, "precious", other, sizeof(other));
                ck_assert_int_eq(harness_node_write_file(other, "keep"), 0);
                ck_assert_int_eq(symlink(other, path), 0);
                break;
        case F_FIFO:
                ck_assert_int_eq(mkfifo(path, 0600), 0);
                break;
        case F_DIR:
                ck_assert_int_eq(mkdir(path, 0700), 0);
                snprintf(other, sizeof(other), "%s/precious", path);
                ck_assert_int_eq(harness_node_write_file(other, "keep"), 0);
                break;
        case F_MOUNT: /* a regular file, but of another filesystem, bound over the name */
                harness_path(&h, "otherfs", other, sizeof(other));
                ck_assert_int_eq(mkdir(other, 0700), 0);
                ck_assert_int_eq(mount("otherfs", other, "tmpfs", 0, "size=1m"), 0);
                harness_path(&h, "otherfs/precious", other, sizeof(other));
                ck_assert_int_eq(harness_node_write_file(other, "keep"), 0);
                ck_assert_int_eq(mount(other, path, NULL, MS_BIND, NULL), 0);
                break;
        }
}

static void assert_foreign_intact(enum foreign f, const char *path, const char *standin)
{
        static const mode_t types[] = {S_IFBLK, S_IFLNK, S_IFIFO, S_IFDIR, S_IFREG};
        char buf[16], other[600];
        struct stat st;

        ck_assert_int_eq(lstat(path, &st), 0);
        ck_assert_uint_eq(st.st_mode & S_IFMT, types[f]);
        if (f == F_BLOCK)
                ck_assert_msg(standin_is_blank(standin), "the stand-in host disk was written");
        if (f != F_BLOCK && f != F_FIFO) {
                if (f == F_SYMLINK)
                        harness_path(&h, "precious", other, sizeof(other));
                else if (f == F_DIR)
                        snprintf(other, sizeof(other), "%s/precious", path);
                else
                        snprintf(other, sizeof(other), "%s", path);
                ck_assert_int_gt(harness_node_read_file(other, buf, sizeof(buf)), 0);
                ck_assert_str_eq(buf, "keep");
        }
}

static void assert_condition_abnormal(const char *id)
{
        Csi__V1__ControllerGetVolumeRequest req = CSI__V1__CONTROLLER_GET_VOLUME_REQUEST__INIT;
        Csi__V1__ControllerGetVolumeResponse *resp = NULL;

        req.volume_id = (char *)id;
        ck_assert_int_eq(harness_ctl_call(&h, "Controller", "ControllerGetVolume", &req.base,
                                          &csi__v1__controller_get_volume_response__descriptor,
                                          (void **)&resp, NULL, 0),
                         ERR_OK);
        ck_assert(resp->status->volume_condition->abnormal);
        ck_assert_msg(strstr(resp->status->volume_condition->message, "not a regular file"),
                      "condition: %s", resp->status->volume_condition->message);
        protobuf_c_message_free_unpacked(&resp->base, NULL);
}

static void foreign(enum foreign f)
{
        struct harness_ctl_vol o = {.required = 16 * HCTL_MIB, .fs_type = "ext4"};
        struct harness_node_cap fs = {.fs_type = "ext4"}, blk = {.block = true};
        char id[80], path[600], meta[600], staging[600], standin[600] = "";
        struct loop_dev disk;

        ck_assert_int_eq(harness_ctl_create(&h, "pvc-foreign", &o, id), ERR_OK);
        harness_ctl_data(&h, "volumes", id, path, sizeof(path));
        snprintf(meta, sizeof(meta), "%.*s.meta", (int)(strlen(path) - 4), path);
        harness_node_mkdir(&h, "plugins/staging/pvf", staging, sizeof(staging));
        make_foreign(f, path, standin, &disk);
        /* Every call answers as expected: one that blocked (a FIFO opened for reading blocks
         * forever) would answer DEADLINE_EXCEEDED at the driver's --timeout instead. (No
         * bound on the time: a loaded machine is slow, not wrong.) */

        ASSERT_STATUS(harness_node_stage(&h, id, staging, &fs), ERR_FAILED_PRECONDITION);
        ck_assert_msg(strstr(harness_node_message(), "not a regular file"), "message: %s",
                      harness_node_message());
        ASSERT_STATUS(harness_node_stage(&h, id, staging, &blk), ERR_FAILED_PRECONDITION);
        ck_assert(!harness_node_is_mountpoint(staging));
        ck_assert_int_eq(harness_node_count_loops(&h), f == F_BLOCK); /* only the stand-in */
        ASSERT_STATUS(harness_node_unstage(&h, id, staging), ERR_OK);
        assert_condition_abnormal(id);
        ASSERT_STATUS(harness_ctl_publish(&h, id, "test-node", false, 0), ERR_FAILED_PRECONDITION);
        ASSERT_STATUS(harness_ctl_unpublish(&h, id, "test-node"), ERR_OK);
        struct harness_ctl_vol clone = {
            .required = 16 * HCTL_MIB, .fs_type = "ext4", .from_vol = id};
        ASSERT_STATUS(harness_ctl_create(&h, "pvc-clone", &clone, NULL), ERR_FAILED_PRECONDITION);
        ASSERT_STATUS(harness_ctl_snapshot(&h, "snap-foreign", id, NULL), ERR_FAILED_PRECONDITION);
        ASSERT_STATUS(harness_ctl_delete(&h, id), ERR_OK);
        ck_assert_int_eq(access(meta, F_OK), -1); /* silo's own file is gone */
        assert_foreign_intact(f, path, standin);
        /* A restart scans the pool and meets the object as a leftover: it neither blocks
         * nor removes it. */
        harness_kill9(&h);
        ck_assert_int_eq(harness_restart(&h, NULL, NULL), 0);
        assert_foreign_intact(f, path, standin);
        if (f == F_BLOCK) {
                ck_assert_int_eq(unlink(path), 0);
                ck_assert_int_eq(loop_detach(&disk), 0);
                unlink(standin);
        }
}

START_TEST(test_block_device_node)
{
        foreign(F_BLOCK);
}
END_TEST

START_TEST(test_symlink)
{
        foreign(F_SYMLINK);
}
END_TEST

START_TEST(test_fifo)
{
        foreign(F_FIFO);
}
END_TEST

START_TEST(test_directory)
{
        foreign(F_DIR);
}
END_TEST

START_TEST(test_file_of_another_filesystem)
{
        foreign(F_MOUNT);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("pool-foreign");
        TCase *tc = tcase_create("foreign");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 300);
        tcase_add_test(tc, test_block_device_node);
        tcase_add_test(tc, test_symlink);
        tcase_add_test(tc, test_fifo);
        tcase_add_test(tc, test_directory);
        tcase_add_test(tc, test_file_of_another_filesystem);
        suite_add_tcase(s, tc);
        return harness_node_run(s);
}
