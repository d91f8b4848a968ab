/* Unit tests: atomic write and bounded read. */
#include <check.h>
#include <pthread.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/fileio.h"
#include "common/cleanup.h"

static char root[64];

static void setup(void)
{
        snprintf(root, sizeof(root), "/tmp/silo-fileio-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(root));
}

static void teardown(void)
{
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        ck_assert_int_eq(system(cmd), 0);
}

static int count_entries(const char *dir)
{
        DIR *d = opendir(dir);
        ck_assert_ptr_nonnull(d);
        int n = 0;
        struct dirent *de;
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                        n++;
        closedir(d);
        return n;
}

START_TEST(write_then_read)
{
        char path[128];
        snprintf(path, sizeof(path), "%s/a.meta", root);
        ck_assert_int_eq(fileio_write_atomic(root, "a.meta", "one\n", 4), 0);
        ck_assert_int_eq(fileio_write_atomic(root, "a.meta", "two!\n", 5), 0);
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        ck_assert_int_eq(fileio_read_all(path, 100, &buf, &len), 0);
        ck_assert_uint_eq(len, 5);
        ck_assert_str_eq(buf, "two!\n");
        /* No temp file stays behind. */
        ck_assert_int_eq(count_entries(root), 1);
}
END_TEST

START_TEST(read_bounds)
{
        char path[128];
        snprintf(path, sizeof(path), "%s/big", root);
        ck_assert_int_eq(fileio_write_atomic(root, "big", "0123456789", 10), 0);
        char *buf = NULL;
        size_t len = 0;
        ck_assert_int_eq(fileio_read_all(path, 9, &buf, &len), -EFBIG);
        ck_assert_ptr_null(buf);
        ck_assert_int_eq(fileio_read_all(path, 10, &buf, &len), 0);
        ck_assert_uint_eq(len, 10);
        free(buf);
        snprintf(path, sizeof(path), "%s/absent", root);
        ck_assert_int_eq(fileio_read_all(path, 10, &buf, &len), -ENOENT);
}
END_TEST

/* Around the size read on the stack (16384): every byte, and the bound still holds. */
START_TEST(read_sizes)
{
        static const size_t sizes[] = {0, 1, 4095, 4097, 16383, 16384, 16385, 40000};
        static char data[40000];
        char path[128];

        for (size_t i = 0; i < sizeof(data); i++)
                data[i] = (char)('a' + i % 26);
        snprintf(path, sizeof(path), "%s/f", root);
        for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
                size_t n = sizes[i], len = 0;
                char *buf = NULL;

                ck_assert_int_eq(fileio_write_atomic(root, "f", data, n), 0);
                ck_assert_int_eq(fileio_read_all(path, 65536, &buf, &len), 0);
                ck_assert_uint_eq(len, n);
                ck_assert_int_eq(memcmp(buf, data, n), 0);
                ck_assert_int_eq(buf[n], '\0');
                free(buf);
                buf = NULL;
                ck_assert_int_eq(fileio_read_all(path, 4096, &buf, &len), n > 4096 ? -EFBIG : 0);
                if (n <= 4096)
                        ck_assert_int_eq(memcmp(buf, data, n), 0);
                free(buf);
                buf = NULL;
                if (n > 0) {
                        ck_assert_int_eq(fileio_read_all(path, n - 1, &buf, &len), -EFBIG);
                        ck_assert_int_eq(fileio_read_all(path, n, &buf, &len), 0);
                        ck_assert_uint_eq(len, n);
                        free(buf);
                }
        }
}
END_TEST

START_TEST(write_failure_leaves_old)
{
        char path[128];
        snprintf(path, sizeof(path), "%s/a", root);
        ck_assert_int_eq(fileio_write_atomic(root, "a", "old", 3), 0);
        /* A directory in the way of the rename: the old file is untouched, no temp remains. */
        char sub[128];
        snprintf(sub, sizeof(sub), "%s/d", root);
        ck_assert_int_eq(mkdir(sub, 0700), 0);
        ck_assert_int_lt(fileio_write_atomic(root, "d", "new", 3), 0);
        ck_assert_int_eq(count_entries(root), 2);
        ck_assert_int_eq(fileio_write_atomic("/nonexistent-dir-silo", "a", "x", 1), -ENOENT);
        _cleanup_free_ char *buf = NULL;
        ck_assert_int_eq(fileio_read_all(path, 10, &buf, NULL), 0);
        ck_assert_str_eq(buf, "old");
}
END_TEST

struct sync_worker {
        char dir[96];
        int failures;
};

static void *sync_worker_main(void *arg)
{
        struct sync_worker *w = arg;
        for (int i = 0; i < 50; i++) {
                char name[32];
                snprintf(name, sizeof(name), "f%d", i);
                if (fileio_write_atomic(w->dir, name, "x", 1) != 0)
                        w->failures++;
        }
        return NULL;
}

/* Concurrent writers share directory syncs; more directories than the group commit has slots
 * still sync (alone), and a failed sync reaches its caller. */
START_TEST(concurrent_dir_syncs)
{
        enum { N = 12 };
        struct sync_worker w[N];
        pthread_t t[N];
        for (int i = 0; i < N; i++) {
                w[i] = (struct sync_worker){0};
                snprintf(w[i].dir, sizeof(w[i].dir), "%s/d%d", root, i % 10);
                mkdir(w[i].dir, 0700);
        }
        for (int i = 0; i < N; i++)
                ck_assert_int_eq(pthread_create(&t[i], NULL, sync_worker_main, &w[i]), 0);
        for (int i = 0; i < N; i++) {
                pthread_join(t[i], NULL);
                ck_assert_int_eq(w[i].failures, 0);
        }
        char missing[96];
        snprintf(missing, sizeof(missing), "%s/d0", root);
        ck_assert_int_eq(count_entries(missing), 50);
        snprintf(missing, sizeof(missing), "%s/gone", root);
        ck_assert_int_eq(fileio_fsync_dir(missing), -ENOENT);
        ck_assert_int_eq(fileio_fsync_dir(root), 0);
}
END_TEST

/* A read-write opener (as a loop device is) is seen through a refused read lease. */
START_TEST(has_writer)
{
        char path[96];
        snprintf(path, sizeof(path), "%s/f", root);
        ck_assert_int_eq(fileio_write_atomic(root, "f", "x", 1), 0);
        _cleanup_close_ int ro = open(path, O_RDONLY | O_CLOEXEC);
        ck_assert_int_ge(ro, 0);
        ck_assert_int_eq(fileio_has_writer(ro), 0);
        int rw = open(path, O_RDWR | O_CLOEXEC);
        ck_assert_int_ge(rw, 0);
        ck_assert_int_eq(fileio_has_writer(ro), 1);
        close(rw);
        ck_assert_int_eq(fileio_has_writer(ro), 0);
}
END_TEST

START_TEST(positional_io)
{
        char path[128];
        snprintf(path, sizeof(path), "%s/pos", root);
        _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(fileio_pwrite_full(fd, "0123456789", 10, 5), 0);
        char buf[32];
        size_t done = 99;
        /* A read past the end stops there and says how much it read. */
        ck_assert_int_eq(fileio_pread_full(fd, buf, sizeof(buf), 0, &done), 0);
        ck_assert_uint_eq(done, 15);
        ck_assert_int_eq(memcmp(buf,
                                "\0\0\0\0\0"
                                "0123456789",
                                15),
                         0);
        ck_assert_int_eq(fileio_pread_full(fd, buf, 4, 8, &done), 0);
        ck_assert_uint_eq(done, 4);
        ck_assert_int_eq(memcmp(buf, "3456", 4), 0);
        ck_assert_int_eq(fileio_pread_full(fd, buf, 4, 100, &done), 0);
        ck_assert_uint_eq(done, 0);
        _cleanup_close_ int ro = open(path, O_RDONLY | O_CLOEXEC);
        ck_assert_int_eq(fileio_pwrite_full(ro, "x", 1, 0), -EBADF);
        _cleanup_close_ int wo = open(path, O_WRONLY | O_CLOEXEC);
        ck_assert_int_eq(fileio_pread_full(wo, buf, 1, 0, &done), -EBADF);
}
END_TEST

START_TEST(temp_names)
{
        ck_assert(fileio_is_temp_name(".vol-1.meta.tmp-12-0"));
        ck_assert(fileio_is_temp_name(".vol-1.img.tmp-data"));
        ck_assert(!fileio_is_temp_name("vol-1.meta"));
        ck_assert(!fileio_is_temp_name("vol.tmp-1"));
}
END_TEST

int main(void)
{
        Suite *s = suite_create("fileio");
        TCase *tc = tcase_create("fileio");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, write_then_read);
        tcase_add_test(tc, read_bounds);
        tcase_add_test(tc, read_sizes);
        tcase_add_test(tc, write_failure_leaves_old);
        tcase_add_test(tc, positional_io);
        tcase_add_test(tc, temp_names);
        tcase_add_test(tc, concurrent_dir_syncs);
        tcase_add_test(tc, has_writer);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
