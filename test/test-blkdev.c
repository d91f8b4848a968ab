/* Unit tests for block device probing and waiting for device nodes (node/blkdev.c). */
/* ctest-labels: privileged */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "node/blkdev.h"
#include "node/loop.h"
#include "node/spawn.h"
#include "common/cleanup.h"

#define MIB (1024 * 1024)

static char root[128];

static int detach_ours(const struct loop_dev *d, const char *backing, bool deleted, void *u)
{
        (void)deleted;
        (void)u;
        if (strncmp(backing, root, strlen(root)) == 0)
                loop_detach(d);
        return 0;
}

static void setup(void)
{
        snprintf(root, sizeof(root), "/tmp/silo-test-blkdev-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(root));
}

static void teardown(void)
{
        char cmd[256];

        loop_foreach(detach_ours, NULL);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        if (system(cmd) != 0)
                _exit(EXIT_FAILURE);
}

static void attach_new(const char *name, struct loop_dev *d, char *file, size_t n)
{
        int fd;

        snprintf(file, n, "%s/%s", root, name);
        fd = open(file, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(ftruncate(fd, 16 * MIB), 0);
        close(fd);
        ck_assert_int_eq(loop_attach(file, d), 0);
}

static void write_at(const char *dev, off_t off, const void *buf, size_t n)
{
        int fd = open(dev, O_WRONLY | O_CLOEXEC);

        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(pwrite(fd, buf, n, off), (ssize_t)n);
        ck_assert_int_eq(fsync(fd), 0);
        close(fd);
}

START_TEST(test_empty)
{
        struct blkdev_signature s;
        struct loop_dev d;
        char file[256];

        attach_new("empty.img", &d, file, sizeof(file));
        ck_assert_int_eq(blkdev_probe(d.node, &s), 0);
        ck_assert_int_eq(s.content, BLKDEV_EMPTY);
        ck_assert_str_eq(s.type, "");
        ck_assert_int_eq(loop_detach(&d), 0);
}
END_TEST

START_TEST(test_filesystem)
{
        const char *argv[] = {"mkfs.ext4", "-q", NULL, NULL};
        struct blkdev_signature s;
        struct loop_dev d;
        char file[256], out[1024];

        attach_new("ext4.img", &d, file, sizeof(file));
        argv[2] = d.node;
        ck_assert_int_eq(spawn_run(argv, out, sizeof(out)), 0);
        ck_assert_int_eq(blkdev_probe(d.node, &s), 0);
        ck_assert_int_eq(s.content, BLKDEV_FILESYSTEM);
        ck_assert_str_eq(s.type, "ext4");
        ck_assert_int_eq(loop_detach(&d), 0);
}
END_TEST

START_TEST(test_partition_table)
{
        unsigned char mbr[512] = {0};
        struct blkdev_signature s;
        struct loop_dev d;
        char file[256];

        attach_new("mbr.img", &d, file, sizeof(file));
        /* One primary partition of type 0x83 from sector 2048, and the boot signature. */
        mbr[446 + 4] = 0x83;
        mbr[446 + 8] = 0x00;
        mbr[446 + 9] = 0x08;
        mbr[446 + 12] = 0x00;
        mbr[446 + 13] = 0x10;
        mbr[510] = 0x55;
        mbr[511] = 0xaa;
        write_at(d.node, 0, mbr, sizeof(mbr));
        ck_assert_int_eq(blkdev_probe(d.node, &s), 0);
        ck_assert_int_eq(s.content, BLKDEV_OTHER);
        ck_assert_str_eq(s.type, "dos");
        ck_assert_int_eq(loop_detach(&d), 0);
}
END_TEST

START_TEST(test_swap_is_other)
{
        const char *argv[] = {"mkswap", NULL, NULL};
        struct blkdev_signature s;
        struct loop_dev d;
        char file[256], out[1024];

        attach_new("swap.img", &d, file, sizeof(file));
        argv[1] = d.node;
        ck_assert_int_eq(spawn_run(argv, out, sizeof(out)), 0);
        ck_assert_int_eq(blkdev_probe(d.node, &s), 0);
        ck_assert_int_eq(s.content, BLKDEV_OTHER);
        ck_assert_str_eq(s.type, "swap");
        ck_assert_int_eq(loop_detach(&d), 0);
}
END_TEST

START_TEST(test_wait_node)
{
        struct loop_dev d;
        char file[256], node[32], small[8];

        attach_new("node.img", &d, file, sizeof(file));
        /* The kernel's name: taken as it is. */
        snprintf(node, sizeof(node), "%s", d.node);
        ck_assert_int_eq(blkdev_wait_node(node, sizeof(node), d.devno, 1000), 0);
        ck_assert_str_eq(node, d.node);
        /* A name that does not exist, or is another device: libudev's name is found. */
        snprintf(node, sizeof(node), "/dev/silo-test-no-such-node");
        ck_assert_int_eq(blkdev_wait_node(node, sizeof(node), d.devno, 1000), 0);
        ck_assert_str_eq(node, d.node);
        snprintf(node, sizeof(node), "/dev/null");
        ck_assert_int_eq(blkdev_wait_node(node, sizeof(node), d.devno, 1000), 0);
        ck_assert_str_eq(node, d.node);
        /* udev's name does not fit the caller's buffer. */
        snprintf(small, sizeof(small), "/dev/x");
        ck_assert_int_eq(blkdev_wait_node(small, strlen("/dev/x") + 1, d.devno, 200),
                         -ENAMETOOLONG);
        ck_assert_str_eq(small, "/dev/x");
        ck_assert_int_eq(loop_detach(&d), 0);
        /* No such block device: nothing to wait for. */
        snprintf(node, sizeof(node), "/dev/silo-test-no-such-node");
        ck_assert_int_eq(blkdev_wait_node(node, sizeof(node), makedev(7, 1U << 19), 1000), -ENODEV);
}
END_TEST

/* Neither name appears (a /dev without the node): -ETIMEDOUT after timeout_ms, node kept.
 * The empty /dev is a tmpfs in a mount namespace of a child's own. Never before the timeout;
 * how long after depends on the machine, so the upper bound only says it gives up. */
START_TEST(test_wait_node_timeout)
{
        struct loop_dev d;
        char file[256];
        int status;
        pid_t pid;

        attach_new("gone.img", &d, file, sizeof(file));
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                char node[32];
                struct timespec a, b;
                long ms;
                int r;

                if (unshare(CLONE_NEWNS) < 0 ||
                    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
                    mount("tmpfs", "/dev", "tmpfs", 0, NULL) < 0)
                        _exit(2);
                snprintf(node, sizeof(node), "%s", d.node);
                clock_gettime(CLOCK_MONOTONIC, &a);
                r = blkdev_wait_node(node, sizeof(node), d.devno, 300);
                clock_gettime(CLOCK_MONOTONIC, &b);
                ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
                _exit(r == -ETIMEDOUT && strcmp(node, d.node) == 0 && ms >= 300 && ms < 30000 ? 0
                                                                                              : 1);
        }
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert(WIFEXITED(status));
        ck_assert_int_eq(WEXITSTATUS(status), 0);
        ck_assert_int_eq(loop_detach(&d), 0);
}
END_TEST

START_TEST(test_probe_missing)
{
        struct blkdev_signature s;

        ck_assert_int_eq(blkdev_probe("/nonexistent/dev", &s), -ENOENT);
}
END_TEST

static Suite *blkdev_suite(void)
{
        Suite *s = suite_create("blkdev");
        TCase *tc = tcase_create("blkdev");

        tcase_add_unchecked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_empty);
        tcase_add_test(tc, test_filesystem);
        tcase_add_test(tc, test_partition_table);
        tcase_add_test(tc, test_swap_is_other);
        tcase_add_test(tc, test_wait_node);
        tcase_add_test(tc, test_wait_node_timeout);
        tcase_add_test(tc, test_probe_missing);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(blkdev_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
