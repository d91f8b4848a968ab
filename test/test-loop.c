/* Unit tests for loop devices (node/loop.c). */
/* ctest-labels: privileged */
#include <check.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "node/loop.h"
#include "common/cleanup.h"

#define MIB (1024 * 1024)

static char root[128];

static void make_file(const char *name, off_t size, char *path, size_t n)
{
        int fd;

        snprintf(path, n, "%s/%s", root, name);
        fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(ftruncate(fd, size), 0);
        close(fd);
}

static int detach_ours(const struct loop_dev *d, const char *backing, bool deleted, void *userdata)
{
        (void)deleted;
        (void)userdata;
        if (strncmp(backing, root, strlen(root)) == 0)
                loop_detach(d);
        return 0;
}

static int count_ours(const struct loop_dev *d, const char *backing, bool deleted, void *userdata)
{
        (void)d;
        (void)deleted;
        if (strncmp(backing, root, strlen(root)) == 0)
                (*(int *)userdata)++;
        return 0;
}

static void setup(void)
{
        snprintf(root, sizeof(root), "/tmp/silo-test-loop-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(root));
}

/* Runs in the runner process even when a test failed: releases every loop device. */
static void teardown(void)
{
        char cmd[256];
        int n = 0;

        loop_foreach(detach_ours, NULL);
        loop_foreach(count_ours, &n);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        if (system(cmd) != 0 || n != 0) {
                fprintf(stderr, "teardown: %d loop devices left under '%s'\n", n, root);
                _exit(EXIT_FAILURE);
        }
}

START_TEST(test_attach_find_detach)
{
        char file[256];
        struct loop_dev d, f;
        _cleanup_free_ char *backing = NULL;
        bool deleted = true;
        struct stat st;
        uint64_t size;

        make_file("a.img", 8 * MIB, file, sizeof(file));
        ck_assert_int_eq(loop_attach(file, &d), 0);
        ck_assert_int_eq(stat(d.node, &st), 0);
        ck_assert(S_ISBLK(st.st_mode));
        ck_assert_uint_eq(st.st_rdev, d.devno);
        ck_assert_int_eq(loop_find(file, &f), 0);
        ck_assert_int_eq(f.nr, d.nr);
        ck_assert_int_eq(loop_backing_file(&d, &backing, &deleted), 0);
        ck_assert_str_eq(backing, file);
        ck_assert(!deleted);
        ck_assert(loop_is_backed_by(&d, file));
        ck_assert_int_eq(loop_size(&d, &size), 0);
        ck_assert_uint_eq(size, 8 * MIB);
        ck_assert_int_eq(loop_detach(&d), 0);
        ck_assert_int_eq(loop_find(file, &f), -ENOENT);
        ck_assert_int_eq(loop_detach(&d), 0); /* already detached */
}
END_TEST

START_TEST(test_from_devno)
{
        char file[256];
        struct loop_dev d, f;
        struct stat st;

        make_file("b.img", 1 * MIB, file, sizeof(file));
        ck_assert_int_eq(loop_attach(file, &d), 0);
        ck_assert_int_eq(loop_from_devno(d.devno, &f), 0);
        ck_assert_int_eq(f.nr, d.nr);
        ck_assert_str_eq(f.node, d.node);
        ck_assert_int_eq(stat("/", &st), 0);
        ck_assert_int_eq(loop_from_devno(st.st_dev, &f), -ENODEV);
        ck_assert_int_eq(loop_detach(&d), 0);
        ck_assert_int_eq(loop_from_devno(d.devno, &f), -ENODEV);
}
END_TEST

START_TEST(test_set_capacity)
{
        char file[256];
        struct loop_dev d;
        uint64_t size;

        make_file("c.img", 4 * MIB, file, sizeof(file));
        ck_assert_int_eq(loop_attach(file, &d), 0);
        ck_assert_int_eq(truncate(file, 12 * MIB), 0);
        ck_assert_int_eq(loop_size(&d, &size), 0);
        ck_assert_uint_eq(size, 4 * MIB);
        ck_assert_int_eq(loop_set_capacity(&d, &size), 0);
        ck_assert_uint_eq(size, 12 * MIB);
        ck_assert_int_eq(loop_detach(&d), 0);
}
END_TEST

START_TEST(test_deleted_and_replaced)
{
        char file[256], other[256];
        struct loop_dev d, f;
        _cleanup_free_ char *backing = NULL;
        bool deleted = false;

        make_file("d.img", 1 * MIB, file, sizeof(file));
        make_file("e.img", 1 * MIB, other, sizeof(other));
        ck_assert_int_eq(loop_attach(file, &d), 0);
        /* Another file now has the path: same name, different inode. */
        ck_assert_int_eq(rename(other, file), 0);
        ck_assert_int_eq(loop_find(file, &f), -ENOENT);
        ck_assert(!loop_is_backed_by(&d, file));
        ck_assert_int_eq(loop_backing_file(&d, &backing, &deleted), 0);
        ck_assert(deleted);
        ck_assert_int_eq(loop_detach(&d), 0);
}
END_TEST

/* A device attached elsewhere is found by a scan and remembered; once detached behind
 * loop_find()'s back, the remembered entry is checked and not found any more. loop_remember()
 * (reconcile) makes a device known without a scan. */
START_TEST(test_find_foreign_and_remembered)
{
        char file[256], cmd[512], line[64] = "";
        struct loop_dev d, f;

        make_file("k.img", 1 * MIB, file, sizeof(file));
        snprintf(cmd, sizeof(cmd), "losetup -f --show '%s'", file);
        FILE *p = popen(cmd, "r");
        ck_assert_ptr_nonnull(p);
        ck_assert_ptr_nonnull(fgets(line, sizeof(line), p));
        ck_assert_int_eq(pclose(p), 0);
        ck_assert_int_eq(loop_find(file, &d), 0);
        ck_assert_int_eq(strncmp(line, d.node, strlen(d.node)), 0);
        ck_assert_int_eq(loop_remember(&d), 0);
        ck_assert_int_eq(loop_find(file, &f), 0);
        ck_assert_int_eq(f.nr, d.nr);
        snprintf(cmd, sizeof(cmd), "losetup -d '%s'", d.node);
        ck_assert_int_eq(system(cmd), 0);
        /* The kernel may defer the detach to udev's last close: up to 30 s on a busy machine. */
        for (int i = 0; i < 6000 && loop_find_scan(file, &f) == 0; i++)
                usleep(5000);
        ck_assert_int_eq(loop_find(file, &f), -ENOENT);
}
END_TEST

#define RACERS    4
#define PER_RACER 4

struct holder {
        int nr;
        int fd;
};

/* Closes the device once loop_detach has asked for the detach, which the kernel defers while
 * the device is held by setting autoclear (ours attach without it): the close comes after
 * the request, whatever the machine's speed, as udev's would. */
static void *close_once_detaching(void *arg)
{
        struct holder *hd = arg;
        char path[96], v[8] = "";
        snprintf(path, sizeof(path), "/sys/block/loop%d/loop/autoclear", hd->nr);
        for (int i = 0; i < 30000 && v[0] != '1'; i++) { /* 30 s */
                FILE *f = fopen(path, "re");
                if (!f || !fgets(v, sizeof(v), f))
                        v[0] = '\0';
                if (f)
                        fclose(f);
                struct timespec ts = {0, 1000 * 1000};
                if (v[0] != '1')
                        nanosleep(&ts, NULL);
        }
        close(hd->fd);
        return NULL;
}

/* Someone else (udev, a prober) holding the device open defers the kernel's detach to its
 * last close: loop_detach waits for it, so the next lookup does not find the device. */
START_TEST(test_detach_while_held)
{
        char file[256];
        struct loop_dev d, f;
        make_file("h.img", 1 * MIB, file, sizeof(file));
        ck_assert_int_eq(loop_attach(file, &d), 0);
        struct holder hd = {d.nr, open(d.node, O_RDONLY | O_CLOEXEC)};
        ck_assert_int_ge(hd.fd, 0);
        pthread_t t;
        pthread_create(&t, NULL, close_once_detaching, &hd);
        ck_assert_int_eq(loop_detach(&d), 0);
        int found = loop_find(file, &f); /* before the holder is joined */
        int scanned = loop_find_scan(file, &f);
        pthread_join(t, NULL);
        ck_assert_int_eq(found, -ENOENT);
        ck_assert_int_eq(scanned, -ENOENT);
}
END_TEST

static void *attach_many(void *arg)
{
        struct loop_dev *out = arg;
        char file[256], name[32];

        for (int i = 0; i < PER_RACER; i++) {
                snprintf(name, sizeof(name), "r%p-%d.img", arg, i);
                make_file(name, 1 * MIB, file, sizeof(file));
                if (loop_attach(file, &out[i]) < 0)
                        out[i].nr = -1;
        }
        return NULL;
}

START_TEST(test_concurrent_attach)
{
        struct loop_dev devs[RACERS][PER_RACER];
        pthread_t th[RACERS];
        int n = 0;

        for (int i = 0; i < RACERS; i++)
                ck_assert_int_eq(pthread_create(&th[i], NULL, attach_many, devs[i]), 0);
        for (int i = 0; i < RACERS; i++)
                pthread_join(th[i], NULL);
        for (int i = 0; i < RACERS * PER_RACER; i++) {
                const struct loop_dev *a = &devs[i / PER_RACER][i % PER_RACER];
                ck_assert_int_ge(a->nr, 0);
                for (int j = 0; j < i; j++)
                        ck_assert_int_ne(a->nr, devs[j / PER_RACER][j % PER_RACER].nr);
        }
        loop_foreach(count_ours, &n);
        ck_assert_int_eq(n, RACERS * PER_RACER);
        loop_foreach(detach_ours, NULL);
}
END_TEST

static Suite *loop_suite(void)
{
        Suite *s = suite_create("loop");
        TCase *tc = tcase_create("loop");

        tcase_add_unchecked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_attach_find_detach);
        tcase_add_test(tc, test_from_devno);
        tcase_add_test(tc, test_detach_while_held);
        tcase_add_test(tc, test_find_foreign_and_remembered);
        tcase_add_test(tc, test_set_capacity);
        tcase_add_test(tc, test_deleted_and_replaced);
        tcase_add_test(tc, test_concurrent_attach);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(loop_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
