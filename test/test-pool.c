/* Unit tests: capacity rules, allocation, sparse copy, crash-leftover recovery. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/fileio.h"
#include "controller/controller.h"
#include "common/cleanup.h"

#define MIB (1024ll * 1024)
#define GIB (1024 * MIB)

static char root[64];

static void setup(void)
{
        snprintf(root, sizeof(root), "/tmp/silo-pool-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(root));
}

static void teardown(void)
{
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        ck_assert_int_eq(system(cmd), 0);
}

static struct controller *new_controller_scoped(enum config_scope scope)
{
        struct config cfg = {
            .pool = root, .node_id = (char *)"n1", .overcommit_ratio = 1.0, .scope = scope};
        struct controller *c = NULL;
        ck_assert_int_eq(controller_new(&cfg, &c), 0);
        return c;
}

static struct controller *new_controller(void)
{
        return new_controller_scoped(CONFIG_SCOPE_NODE);
}

static uint64_t pick(int64_t req, int64_t lim, int expect)
{
        uint64_t v = 0;
        ck_assert_int_eq(pool_capacity_pick(req, lim, &v), expect);
        return v;
}

START_TEST(capacity_rules)
{
        ck_assert_uint_eq(pick(0, 0, 0), GIB);
        ck_assert_uint_eq(pick(1, 0, 0), MIB);
        ck_assert_uint_eq(pick(MIB + 1, 0, 0), 2 * MIB);
        ck_assert_uint_eq(pick(0, 10 * MIB, 0), 10 * MIB);
        ck_assert_uint_eq(pick(0, 10 * MIB + 5, 0), 10 * MIB);
        ck_assert_uint_eq(pick(MIB + 1, MIB + 4096, 0), MIB + 4096);
        ck_assert_uint_eq(pick(5 * MIB, 5 * MIB, 0), 5 * MIB);
        pick(-1, 0, -SILO_EINVALID);
        pick(0, -1, -SILO_EINVALID);
        pick(10 * MIB, 5 * MIB, -SILO_EOUTOFRANGE);
        pick(MIB + 1, MIB + 2, -SILO_EOUTOFRANGE);
        pick(0, 4096, -SILO_EOUTOFRANGE);
        pick(INT64_MAX, 0, -SILO_EOUTOFRANGE);
}
END_TEST

static int make_file(const char *name)
{
        char path[128];
        snprintf(path, sizeof(path), "%s/%s", root, name);
        int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        ck_assert_int_ge(fd, 0);
        return fd;
}

START_TEST(allocate_thin_and_thick)
{
        _cleanup_close_ int thin = make_file("thin");
        _cleanup_close_ int thick = make_file("thick");
        struct stat st;
        ck_assert_int_eq(pool_allocate(thin, STORE_THIN, 0, 8 * MIB), 0);
        ck_assert_int_eq(fstat(thin, &st), 0);
        ck_assert_int_eq(st.st_size, 8 * MIB);
        ck_assert_int_lt(st.st_blocks * 512, MIB);
        ck_assert_int_eq(pool_allocate(thick, STORE_THICK, 0, 8 * MIB), 0);
        ck_assert_int_eq(pool_allocate(thick, STORE_THICK, 8 * MIB, 16 * MIB), 0);
        ck_assert_int_eq(fstat(thick, &st), 0);
        ck_assert_int_eq(st.st_size, 16 * MIB);
        ck_assert_int_ge(st.st_blocks * 512, 16 * MIB);
        ck_assert_int_eq(pool_allocate(thick, STORE_THICK, 16 * MIB, 8 * MIB), -EINVAL);
}
END_TEST

/* Two 8 KiB data extents in a 64 MiB file (one not block-aligned); the rest is a hole. */
static void fill_sparse(int src, char pattern[8192])
{
        ck_assert_int_eq(ftruncate(src, 64 * MIB), 0);
        for (size_t i = 0; i < 8192; i++)
                pattern[i] = (char)(i * 7 + 3);
        ck_assert_int_eq(pwrite(src, pattern, 8192, 0), 8192);
        ck_assert_int_eq(pwrite(src, pattern, 8192, 40 * MIB + 123), 8192);
}

static void check_sparse_copy(int dst, const char pattern[8192])
{
        struct stat st;
        ck_assert_int_eq(fstat(dst, &st), 0);
        ck_assert_int_eq(st.st_size, 64 * MIB);
        ck_assert_int_lt(st.st_blocks * 512, 4 * MIB);
        char buf[8192];
        ck_assert_int_eq(pread(dst, buf, sizeof(buf), 40 * MIB + 123), sizeof(buf));
        ck_assert_mem_eq(buf, pattern, sizeof(buf));
        ck_assert_int_eq(pread(dst, buf, sizeof(buf), 0), sizeof(buf));
        ck_assert_mem_eq(buf, pattern, sizeof(buf));
        ck_assert_int_eq(pread(dst, buf, 16, 20 * MIB), 16);
        for (int i = 0; i < 16; i++)
                ck_assert_int_eq(buf[i], 0);
}

START_TEST(sparse_copy_keeps_data_and_holes)
{
        _cleanup_close_ int src = make_file("src");
        _cleanup_close_ int dst = make_file("dst");
        char pattern[8192];
        fill_sparse(src, pattern);
        ck_assert_int_eq(pool_copy_sparse(src, dst, 64 * MIB), 0);
        check_sparse_copy(dst, pattern);
        /* pool_copy falls back to the same on a pool without reflinks, or reflinks. */
        _cleanup_close_ int dst2 = make_file("dst2");
        ck_assert_int_ge(pool_copy(src, dst2, 64 * MIB), 0);
        char buf[8192];
        ck_assert_int_eq(pread(dst2, buf, sizeof(buf), 40 * MIB + 123), sizeof(buf));
        ck_assert_mem_eq(buf, pattern, sizeof(buf));
}
END_TEST

/* Across filesystem types copy_file_range refuses (EXDEV): the copy goes through user space
 * and still keeps the holes. */
START_TEST(sparse_copy_across_filesystems)
{
        char shm[] = "/dev/shm/silo-pool-XXXXXX";
        _cleanup_close_ int src = mkstemp(shm);
        ck_assert_int_ge(src, 0);
        unlink(shm);
        _cleanup_close_ int dst = make_file("dst");
        char pattern[8192];
        fill_sparse(src, pattern);
        ck_assert_int_eq(pool_copy_sparse(src, dst, 64 * MIB), 0);
        check_sparse_copy(dst, pattern);
}
END_TEST

static bool exists(const char *rel)
{
        char path[256];
        snprintf(path, sizeof(path), "%s/%s", root, rel);
        return access(path, F_OK) == 0;
}

static void touch(const char *rel)
{
        char path[256];
        snprintf(path, sizeof(path), "%s/%s", root, rel);
        int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        ck_assert_int_ge(fd, 0);
        close(fd);
}

START_TEST(recovery_removes_leftovers_only)
{
        ck_assert_int_eq(store_init(root), 0);
        touch("volumes/vol-a.img"); /* committed */
        char dir[128];
        snprintf(dir, sizeof(dir), "%s/volumes", root);
        ck_assert_int_eq(fileio_write_atomic(dir, "vol-a.meta", "id=vol-a\nname=a\n", 16), 0);
        touch("volumes/vol-b.img");            /* never committed */
        touch("volumes/.vol-c.img.tmp-data");  /* half-made data */
        touch("volumes/.vol-a.meta.tmp-99-1"); /* half-written metadata */
        touch("snapshots/snap-x.img");         /* never committed */
        touch("volumes/.vol-d.img.tmp-data");  /* in use by a creator */
        char busy[256];
        snprintf(busy, sizeof(busy), "%s/volumes/.vol-d.img.tmp-data", root);
        _cleanup_close_ int held = open(busy, O_RDONLY | O_CLOEXEC);
        ck_assert_int_eq(flock(held, LOCK_EX | LOCK_NB), 0);
        struct controller *c = new_controller();
        ck_assert(exists("volumes/vol-a.img"));
        ck_assert(exists("volumes/vol-a.meta"));
        ck_assert(!exists("volumes/vol-b.img"));
        ck_assert(!exists("volumes/.vol-c.img.tmp-data"));
        ck_assert(!exists("volumes/.vol-a.meta.tmp-99-1"));
        ck_assert(!exists("snapshots/snap-x.img"));
        ck_assert(exists("volumes/.vol-d.img.tmp-data"));
        ck_assert_int_eq(controller_recover(c), 0);
        controller_free(c);
}
END_TEST

static void put_snapshot(const char *id, const char *group)
{
        struct store_snapshot sn = {.name = (char *)id, .source_volume_id = "vol-a"};
        memcpy(sn.id, id, strlen(id) + 1);
        memcpy(sn.group_id, group, strlen(group) + 1);
        ck_assert_int_eq(store_snapshot_save(root, &sn), 0);
        char rel[128];
        snprintf(rel, sizeof(rel), "snapshots/%s.img", id);
        touch(rel);
}

START_TEST(recovery_removes_orphaned_group_members)
{
        ck_assert_int_eq(store_init(root), 0);
        struct store_group_member m = {"snap-kept", "vol-a"};
        struct store_group g = {.name = (char *)"g", .members = &m, .n_members = 1};
        memcpy(g.id, "grp-done", 9);
        ck_assert_int_eq(store_group_save(root, &g), 0);
        put_snapshot("snap-kept", "grp-done");
        put_snapshot("snap-orphan", "grp-crashed");
        put_snapshot("snap-plain", "");
        struct controller *c = new_controller();
        ck_assert(exists("snapshots/snap-kept.meta"));
        ck_assert(exists("snapshots/snap-plain.meta"));
        ck_assert(!exists("snapshots/snap-orphan.meta"));
        ck_assert(!exists("snapshots/snap-orphan.img"));
        controller_free(c);
        /* In a shared pool another instance may be between members and group: kept. */
        put_snapshot("snap-orphan", "grp-crashed");
        struct config cfg = {.pool = root, .node_id = (char *)"n1", .scope = CONFIG_SCOPE_SHARED};
        ck_assert_int_eq(controller_new(&cfg, &c), 0);
        ck_assert(exists("snapshots/snap-orphan.meta"));
        controller_free(c);
}
END_TEST

START_TEST(thin_accounting)
{
        struct controller *c = new_controller_scoped(CONFIG_SCOPE_SHARED);
        uint64_t before, after, unbacked;
        ck_assert_int_eq(pool_available(c, STORE_THIN, &before), 0);
        _cleanup_close_ int fd = -1;
        ck_assert_int_eq(pool_tmp_create(c, STORE_VOLUMES, "vol-t", &fd), 0);
        ck_assert_int_eq(pool_tmp_create(c, STORE_VOLUMES, "vol-t", &(int){-1}), -SILO_EPENDING);
        ck_assert_int_eq(ftruncate(fd, 100 * MIB), 0);
        ck_assert_int_eq(pool_unbacked_bytes(c, &unbacked), 0);
        ck_assert_uint_eq(unbacked, 100 * MIB);
        /* Free space x a tiny ratio is below the 100 MiB already promised: nothing left.
         * The cached sum learns of the new file when told or after a second. */
        c->overcommit_ratio = 1e-9;
        ck_assert_int_eq(pool_available(c, STORE_THIN, &after), 0);
        ck_assert_uint_gt(after, 0);
        pool_unbacked_forget(c);
        ck_assert_int_eq(pool_available(c, STORE_THIN, &after), 0);
        ck_assert_uint_eq(after, 0);
        ck_assert_int_eq(pool_available(c, STORE_THICK, &after), 0);
        ck_assert_uint_gt(after, 0);
        ck_assert_int_eq(pool_tmp_commit(c, STORE_VOLUMES, "vol-t", fd, false), 0);
        ck_assert(exists("volumes/vol-t.img"));
        c->overcommit_ratio = 3.0;
        ck_assert_int_eq(pool_available(c, STORE_THIN, &after), 0);
        ck_assert_uint_gt(after, before);
        controller_free(c);
}
END_TEST

static uint64_t cached_unbacked(struct controller *c)
{
        pthread_mutex_lock(&c->cache_lock);
        uint64_t v = c->unbacked;
        pthread_mutex_unlock(&c->cache_lock);
        return v;
}

/* Synchronous scans of the sum so far: a caller's rescan (or forget) bumps it, the
 * refresher's does not. */
static uint64_t unbacked_gen(struct controller *c)
{
        pthread_mutex_lock(&c->cache_lock);
        uint64_t v = c->unbacked_gen;
        pthread_mutex_unlock(&c->cache_lock);
        return v;
}

/* Calls pool_available() as a thin create does. Returns false when the sum may have been
 * older than a caller serves as is (2 s) by the time it looked, as on a machine that stalled
 * the test: then the caller may rightly rescan. (The clock is pool.c's: monotonic ms + 1,
 * read after the call, so never behind the one the caller compared.) */
static bool available_while_young(struct controller *c)
{
        pthread_mutex_lock(&c->cache_lock);
        uint64_t at = c->unbacked_at_ms;
        pthread_mutex_unlock(&c->cache_lock);
        uint64_t avail;
        ck_assert_int_eq(pool_available(c, STORE_THIN, &avail), 0);
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        uint64_t now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000 + 1;
        return now - at <= 2000;
}

/* Shared scope: a file written behind the driver's back (another instance) is picked up by
 * the refresher within about a second while creates keep asking, without any caller
 * rescanning. */
START_TEST(thin_accounting_refreshes_in_background)
{
        struct controller *c = new_controller_scoped(CONFIG_SCOPE_SHARED);
        uint64_t avail;
        ck_assert_int_eq(pool_available(c, STORE_THIN, &avail), 0);
        ck_assert_uint_eq(cached_unbacked(c), 0);
        uint64_t gen = unbacked_gen(c);
        char path[128];
        snprintf(path, sizeof(path), "%s/volumes/vol-ext.img", root);
        _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(ftruncate(fd, 100 * MIB), 0);
        bool young = available_while_young(c);
        for (int i = 0; i < 600 && cached_unbacked(c) != 100 * MIB; i++) { /* 30 s */
                usleep(50 * 1000);
                young &= available_while_young(c);
        }
        ck_assert_uint_eq(cached_unbacked(c), 100 * MIB);
        if (young) /* the refresher found it, no caller */
                ck_assert_uint_eq(unbacked_gen(c), gen);
        /* This instance's own change still counts at once. */
        pool_unbacked_adjust(c, -100 * MIB);
        ck_assert_uint_eq(cached_unbacked(c), 0);
        controller_free(c);
}
END_TEST

static void create_thin(struct controller *c, const char *name, uint64_t bytes,
                        struct store_volume *ret)
{
        struct volume_spec spec = {.name = name, .required_bytes = (int64_t)bytes};
        ck_assert_int_eq(volumes_create(c, &spec, ret), 0);
}

/* Node scope: the sum follows this process's creates, expands and deletes exactly, and only
 * committed volumes count: the refresher measures volumes from the index again, never walks
 * the pool (a stray file there is not a volume). A volume file filled behind the driver's
 * back (a pod writing) is measured again while creates keep asking. */
START_TEST(thin_accounting_node_scope_is_incremental)
{
        struct controller *c = new_controller();
        uint64_t avail, cap = 0;
        ck_assert_int_eq(pool_available(c, STORE_THIN, &avail), 0);
        struct store_volume a = {0}, b = {0};
        create_thin(c, "a", 100 * MIB, &a);
        create_thin(c, "b", 50 * MIB, &b);
        ck_assert_uint_eq(cached_unbacked(c), 150 * MIB);
        ck_assert_int_eq(volumes_expand(c, b.id, 60 * MIB, 0, &cap), 0);
        ck_assert_uint_eq(cached_unbacked(c), 160 * MIB);

        char path[256];
        snprintf(path, sizeof(path), "%s/volumes/vol-stray.img", root);
        _cleanup_close_ int stray = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        ck_assert_int_ge(stray, 0);
        ck_assert_int_eq(ftruncate(stray, 500 * MIB), 0);
        snprintf(path, sizeof(path), "%s/volumes/%s.img", root, a.id);
        _cleanup_close_ int fd = open(path, O_RDWR | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(fallocate(fd, 0, 0, 40 * MIB), 0);
        for (int i = 0; i < 600 && cached_unbacked(c) != 120 * MIB; i++) { /* 30 s */
                usleep(50 * 1000);
                ck_assert_int_eq(pool_available(c, STORE_THIN, &avail), 0);
        }
        ck_assert_uint_eq(cached_unbacked(c), 120 * MIB);
        /* Delete takes back what the sum counted for the volume, and a full measurement
         * (forget) agrees with the incremental sum. */
        ck_assert_int_eq(volumes_delete(c, a.id), 0);
        ck_assert_uint_eq(cached_unbacked(c), 60 * MIB);
        pool_unbacked_forget(c);
        ck_assert_int_eq(pool_available(c, STORE_THIN, &avail), 0);
        ck_assert_uint_eq(cached_unbacked(c), 60 * MIB);
        ck_assert_int_eq(volumes_delete(c, b.id), 0);
        ck_assert_uint_eq(cached_unbacked(c), 0);
        store_volume_release(&a);
        store_volume_release(&b);
        controller_free(c);
}
END_TEST

START_TEST(bad_pool_and_node)
{
        struct controller *c = NULL;
        struct config cfg = {.pool = (char *)"relative", .node_id = (char *)"n1"};
        ck_assert_int_eq(controller_new(&cfg, &c), -SILO_EINVALID);
        cfg.pool = (char *)"/nonexistent/silo-pool";
        ck_assert_int_eq(controller_new(&cfg, &c), -ENOENT);
        cfg.pool = root;
        cfg.node_id = (char *)"../n";
        ck_assert_int_eq(controller_new(&cfg, &c), -SILO_EINVALID);
        ck_assert_ptr_null(c);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("pool");
        TCase *tc = tcase_create("pool");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, capacity_rules);
        tcase_add_test(tc, allocate_thin_and_thick);
        tcase_add_test(tc, sparse_copy_keeps_data_and_holes);
        tcase_add_test(tc, sparse_copy_across_filesystems);
        tcase_add_test(tc, recovery_removes_leftovers_only);
        tcase_add_test(tc, recovery_removes_orphaned_group_members);
        tcase_add_test(tc, thin_accounting);
        tcase_add_test(tc, thin_accounting_refreshes_in_background);
        tcase_add_test(tc, thin_accounting_node_scope_is_incremental);
        tcase_add_test(tc, bad_pool_and_node);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
