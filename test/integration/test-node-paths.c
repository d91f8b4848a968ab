/* ctest-labels: privileged */
/* Staging and target paths that are not what kubelet makes: a missing parent, a regular file,
 * a FIFO. Each is a clean refusal (FAILED_PRECONDITION), nothing is attached or left
 * mounted, what was there stays, and a FIFO never blocks a worker. */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "test/integration/harness-node.h"
#include "common/cleanup.h"

static struct harness h;
static char staging[512], target[512];

static const struct harness_node_cap fs_cap = {.fs_type = "ext4"};
static const struct harness_node_cap blk_cap = {.block = true};

static void setup(void)
{
        harness_node_start(&h, NULL, "plugins/staging/pv1", staging, target, sizeof(staging));
        ck_assert_int_eq(harness_node_volume(&h, "vol-fs", 16 * HN_MIB, "ext4", false), 0);
        ck_assert_int_eq(harness_node_volume(&h, "vol-blk", 8 * HN_MIB, "", false), 0);
}

static void teardown(void)
{
        harness_stop(&h);
}

enum obj { OBJ_FILE, OBJ_FIFO };

static void make_obj(const char *path, enum obj o)
{
        if (o == OBJ_FIFO)
                ck_assert_int_eq(mkfifo(path, 0600), 0);
        else
                ck_assert_int_eq(harness_node_write_file(path, "keep"), 0);
}

static void assert_obj(const char *path, enum obj o)
{
        struct stat st;

        ck_assert_int_eq(lstat(path, &st), 0);
        ck_assert(o == OBJ_FIFO ? S_ISFIFO(st.st_mode) : S_ISREG(st.st_mode));
}

START_TEST(test_parent_missing)
{
        char s[600], t[600];

        snprintf(s, sizeof(s), "%s/nothere/stage", h.kubelet_dir);
        snprintf(t, sizeof(t), "%s/nothere/mount", h.kubelet_dir);
        ASSERT_STATUS(harness_node_stage(&h, "vol-fs", s, &fs_cap), ERR_FAILED_PRECONDITION);
        ASSERT_STATUS(harness_node_stage(&h, "vol-blk", s, &blk_cap), ERR_FAILED_PRECONDITION);
        ck_assert_int_eq(harness_node_count_loops(&h), 0);
        ASSERT_STATUS(harness_node_stage(&h, "vol-fs", staging, &fs_cap), ERR_OK);
        ASSERT_STATUS(harness_node_publish(&h, "vol-fs", staging, t, &fs_cap, false),
                      ERR_FAILED_PRECONDITION);
        /* Undoing what never was is fine. */
        ASSERT_STATUS(harness_node_unpublish(&h, "vol-fs", t), ERR_OK);
        ASSERT_STATUS(harness_node_unstage(&h, "vol-fs", staging), ERR_OK);
        ASSERT_STATUS(harness_node_unstage(&h, "vol-fs", s), ERR_OK);
        harness_node_assert_clean(&h);
}
END_TEST

/* The staging path itself is a file or a FIFO. */
static void staging_is(enum obj o)
{
        ck_assert_int_eq(rmdir(staging), 0);
        make_obj(staging, o);
        ASSERT_STATUS(harness_node_stage(&h, "vol-fs", staging, &fs_cap), ERR_FAILED_PRECONDITION);
        ASSERT_STATUS(harness_node_stage(&h, "vol-blk", staging, &blk_cap),
                      ERR_FAILED_PRECONDITION);
        ASSERT_STATUS(harness_node_unstage(&h, "vol-fs", staging), ERR_OK);
        ASSERT_STATUS(harness_node_unstage(&h, "vol-blk", staging), ERR_OK);
        assert_obj(staging, o);
        harness_node_assert_clean(&h);
}

START_TEST(test_staging_regular_file)
{
        staging_is(OBJ_FILE);
}
END_TEST

START_TEST(test_staging_fifo)
{
        staging_is(OBJ_FIFO);
}
END_TEST

/* The file a block volume's device is bound onto, "<staging>/<id>", is a FIFO. */
START_TEST(test_block_stage_file_fifo)
{
        char f[600];

        snprintf(f, sizeof(f), "%s/vol-blk", staging);
        make_obj(f, OBJ_FIFO);
        ASSERT_STATUS(harness_node_stage(&h, "vol-blk", staging, &blk_cap),
                      ERR_FAILED_PRECONDITION);
        ASSERT_STATUS(harness_node_unstage(&h, "vol-blk", staging), ERR_OK);
        assert_obj(f, OBJ_FIFO);
        harness_node_assert_clean(&h);
}
END_TEST

/* The publish target is a file or a FIFO: refused at once, for mount and block volumes. A
 * call that blocked (a FIFO opened for reading blocks forever) would answer DEADLINE_EXCEEDED
 * at the driver's --timeout: the status says it did not, whatever the machine's speed. */
static void target_is(enum obj o)
{
        char s2[600];

        snprintf(s2, sizeof(s2), "%s2", staging);
        ck_assert_int_eq(mkdir(s2, 0750), 0);
        make_obj(target, o);
        ASSERT_STATUS(harness_node_stage(&h, "vol-fs", staging, &fs_cap), ERR_OK);
        ASSERT_STATUS(harness_node_publish(&h, "vol-fs", staging, target, &fs_cap, false),
                      ERR_FAILED_PRECONDITION);
        ASSERT_STATUS(harness_node_stage(&h, "vol-blk", s2, &blk_cap), ERR_OK);
        enum err_status st = harness_node_publish(&h, "vol-blk", s2, target, &blk_cap, false);
        ck_assert_msg(st == (o == OBJ_FIFO ? ERR_FAILED_PRECONDITION : ERR_OK),
                      "block publish onto a %s: %s (%s)", o == OBJ_FIFO ? "FIFO" : "file",
                      err_status_name(st), harness_node_message());
        if (o != OBJ_FIFO) /* a regular file is what a block target is */
                ASSERT_STATUS(harness_node_unpublish(&h, "vol-blk", target), ERR_OK);
        if (o == OBJ_FIFO)
                assert_obj(target, o);
        ASSERT_STATUS(harness_node_unpublish(&h, "vol-fs", target), ERR_OK);
        ASSERT_STATUS(harness_node_unstage(&h, "vol-fs", staging), ERR_OK);
        ASSERT_STATUS(harness_node_unstage(&h, "vol-blk", s2), ERR_OK);
        harness_node_assert_clean(&h);
}

START_TEST(test_target_regular_file)
{
        target_is(OBJ_FILE);
}
END_TEST

START_TEST(test_target_fifo)
{
        target_is(OBJ_FIFO);
}
END_TEST

/* The pool bind-mounted beneath the kubelet dir: neither it nor a path in it is a staging or
 * target path, and nothing is made in the pool. */
START_TEST(test_pool_bind_mounted)
{
        char bind[600], inside[640], made[640];
        struct stat st;

        snprintf(bind, sizeof(bind), "%s/poolbind", h.kubelet_dir);
        snprintf(inside, sizeof(inside), "%s/new", bind);
        snprintf(made, sizeof(made), "%s/new", h.pool);
        ck_assert_int_eq(mkdir(bind, 0755), 0);
        ck_assert_int_eq(mount(h.pool, bind, NULL, MS_BIND, NULL), 0);
        ASSERT_STATUS(harness_node_stage(&h, "vol-fs", bind, &fs_cap), ERR_INVALID_ARGUMENT);
        ASSERT_STATUS(harness_node_stage(&h, "vol-fs", inside, &fs_cap), ERR_INVALID_ARGUMENT);
        ASSERT_STATUS(harness_node_stage(&h, "vol-fs", staging, &fs_cap), ERR_OK);
        ASSERT_STATUS(harness_node_publish(&h, "vol-fs", staging, bind, &fs_cap, false),
                      ERR_INVALID_ARGUMENT);
        ASSERT_STATUS(harness_node_publish(&h, "vol-fs", staging, inside, &fs_cap, false),
                      ERR_INVALID_ARGUMENT);
        ASSERT_STATUS(harness_node_unpublish(&h, "vol-fs", bind), ERR_INVALID_ARGUMENT);
        ck_assert_int_eq(lstat(made, &st), -1);
        ck_assert_int_eq(umount2(bind, 0), 0);
        ASSERT_STATUS(harness_node_unstage(&h, "vol-fs", staging), ERR_OK);
        harness_node_assert_clean(&h);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("node-paths");
        TCase *tc = tcase_create("paths");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 300);
        tcase_add_test(tc, test_parent_missing);
        tcase_add_test(tc, test_staging_regular_file);
        tcase_add_test(tc, test_staging_fifo);
        tcase_add_test(tc, test_block_stage_file_fifo);
        tcase_add_test(tc, test_target_regular_file);
        tcase_add_test(tc, test_target_fifo);
        tcase_add_test(tc, test_pool_bind_mounted);
        suite_add_tcase(s, tc);
        return harness_node_run(s);
}
