/* Unit tests for mounts and the mount table (node/mount.c). */
/* ctest-labels: privileged */
#include <check.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "node/mount.h"
#include "node/spawn.h"
#include "common/cleanup.h"

static char root[128];

static void sub(const char *name, char *buf, size_t n)
{
        snprintf(buf, n, "%s/%s", root, name);
}

static void make_dir(const char *name, char *buf, size_t n)
{
        sub(name, buf, n);
        ck_assert_int_eq(mkdir(buf, 0755), 0);
}

/* Unmounts everything below root, deepest and latest first. */
static int umount_all_under_root(void)
{
        struct mount_table *t = NULL;
        int n = 0;

        for (int pass = 0; pass < 64; pass++) {
                bool any = false;

                if (mount_table_load(&t) < 0)
                        return -1;
                for (size_t i = t->n; i > 0; i--)
                        if (strncmp(t->entries[i - 1].target, root, strlen(root)) == 0) {
                                any = true;
                                n++;
                                umount2(t->entries[i - 1].target, MNT_DETACH);
                                break;
                        }
                mount_table_free(t);
                if (!any)
                        return n;
        }
        return -1;
}

static void setup(void)
{
        snprintf(root, sizeof(root), "/tmp/silo-test-mount-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(root));
}

static void teardown(void)
{
        char cmd[256];
        int n = umount_all_under_root();

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        if (system(cmd) != 0 || n < 0) {
                fprintf(stderr, "teardown: could not clean '%s'\n", root);
                _exit(EXIT_FAILURE);
        }
}

static const struct mount_info *find(struct mount_table **t, const char *target)
{
        mount_table_free(*t);
        *t = NULL;
        ck_assert_int_eq(mount_table_load(t), 0);
        return mount_table_find_target(*t, target);
}

/* An O_PATH fd of root/name. */
static int at(const char *name)
{
        char p[256];
        int fd;

        sub(name, p, sizeof(p));
        fd = open(p, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        return fd;
}

/* Mounts a tmpfs at root/name (a directory) through the fd API; returns the mount id. */
static int tmpfs_at(const char *name, unsigned long flags)
{
        _cleanup_close_ int mnt = -1, fd = at(name), top = -1;
        char why[128] = "";
        bool is_root = false;
        int id = 0;

        ck_assert_int_eq(
            mount_fs_new("silo-test", "tmpfs", flags, "size=1m", why, sizeof(why), &mnt), 0);
        ck_assert_int_eq(mount_attach(mnt, fd), 0);
        top = at(name);
        ck_assert_int_eq(mount_fd_id(top, &id, &is_root), 0);
        ck_assert(is_root);
        return id;
}

static int root_fd(void)
{
        int fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);

        ck_assert_int_ge(fd, 0);
        return fd;
}

START_TEST(test_fs_mount_and_table)
{
        _cleanup_mount_table_ struct mount_table *t = NULL;
        _cleanup_close_ int rfd = root_fd(), plain = -1;
        char dir[256];
        const struct mount_info *m;
        struct stat st;
        bool is_root = true;
        int id, pid = 0;

        make_dir("tmpfs", dir, sizeof(dir));
        ck_assert_ptr_null(find(&t, dir));
        plain = at("tmpfs");
        ck_assert_int_eq(mount_fd_id(plain, &pid, &is_root), 0);
        ck_assert(!is_root); /* a plain directory: no mount root */
        id = tmpfs_at("tmpfs", MS_NOSUID);
        m = find(&t, dir);
        ck_assert_ptr_nonnull(m);
        ck_assert_ptr_eq(mount_table_find_id(t, id), m);
        ck_assert_int_ne(id, pid);
        ck_assert_str_eq(m->fstype, "tmpfs");
        ck_assert_str_eq(m->source, "silo-test");
        ck_assert_str_eq(m->root, "/");
        ck_assert(m->flags & MS_NOSUID);
        ck_assert(!(m->flags & MS_RDONLY));
        ck_assert(!m->sb_readonly);
        ck_assert_int_eq(stat(dir, &st), 0);
        ck_assert_uint_eq(m->devno, st.st_dev);
        ck_assert_ptr_eq(mount_table_find_devno(t, st.st_dev, NULL), m);
        ck_assert_ptr_null(mount_table_find_devno(t, st.st_dev, dir));
        ck_assert_int_eq(mount_umount_at(rfd, "tmpfs", id + 1000), -ESTALE); /* not that one */
        ck_assert_ptr_nonnull(find(&t, dir));
        ck_assert_int_eq(mount_umount_at(rfd, "tmpfs", id), 0);
        ck_assert_ptr_null(find(&t, dir));
        ck_assert_int_eq(mount_umount_at(rfd, "tmpfs", id), -ESTALE);
}
END_TEST

START_TEST(test_fs_options_refused)
{
        _cleanup_close_ int mnt = -1;
        char why[128] = "";

        ck_assert_int_eq(
            mount_fs_new("silo-test", "tmpfs", 0, "nosuchoption", why, sizeof(why), &mnt), -EINVAL);
        ck_assert_msg(why[0], "the kernel's reason is kept");
        ck_assert_int_lt(mount_fs_new("silo-test", "nosuchfs", 0, NULL, NULL, 0, &mnt), 0);
}
END_TEST

/* A quoted value keeps its commas and reaches the kernel without its quotes (kubelet's
 * context="...:s0:c1,c2"); a quote anywhere else is refused before the kernel sees it. */
START_TEST(test_fs_options_quoted)
{
        _cleanup_close_ int m1 = -1, m2 = -1, m3 = -1, probe = -1;
        char why[128] = "";
        struct statvfs sv;

        ck_assert_int_eq(
            mount_fs_new("silo-test", "tmpfs", 0, "size=\"1m\"", why, sizeof(why), &m1), 0);
        ck_assert_int_eq(fstatvfs(m1, &sv), 0);
        ck_assert_uint_eq((uint64_t)sv.f_blocks * sv.f_frsize, 1024 * 1024);
        /* tmpfs's NUMA policy is the one option here whose value may hold a comma. */
        if (mount_fs_new("silo-test", "tmpfs", 0, "mpol=bind:0", NULL, 0, &probe) == 0)
                ck_assert_int_eq(mount_fs_new("silo-test", "tmpfs", 0, "mpol=\"bind:0,0\",size=1m",
                                              why, sizeof(why), &m2),
                                 0);
        ck_assert_int_eq(
            mount_fs_new("silo-test", "tmpfs", 0, "size=\"1m,nr_inodes=9", NULL, 0, &m3), -EINVAL);
        ck_assert_int_eq(mount_fs_new("silo-test", "tmpfs", 0, "size=1\"m\"", NULL, 0, &m3),
                         -EINVAL);
        ck_assert_int_eq(mount_fs_new("silo-test", "tmpfs", 0, "\"size\"=1m", NULL, 0, &m3),
                         -EINVAL);
        ck_assert_int_eq(mount_fs_new("silo-test", "tmpfs", 0, "size=\"\"\"", NULL, 0, &m3),
                         -EINVAL);
        ck_assert_int_eq(m3, -1);
        /* Without SELinux no filesystem knows context=; the kernel says so by name. */
        if (!mount_has_selinux()) {
                why[0] = '\0';
                ck_assert_int_eq(mount_fs_new("silo-test", "tmpfs", 0,
                                              "size=1m,context=\"system_u:object_r:"
                                              "container_file_t:s0:c1,c2\"",
                                              why, sizeof(why), &m3),
                                 -EINVAL);
                ck_assert_str_eq(why, "tmpfs: Unknown parameter 'context'");
        }
}
END_TEST

START_TEST(test_bind_rw_and_ro)
{
        _cleanup_mount_table_ struct mount_table *t = NULL;
        _cleanup_close_ int rfd = root_fd(), src = -1, rwfd = -1, rofd = -1, m1 = -1, m2 = -1;
        char srcp[256], rw[256], ro[256], file[300];
        const struct mount_info *m;
        int fd;

        make_dir("src", srcp, sizeof(srcp));
        make_dir("rw", rw, sizeof(rw));
        make_dir("ro", ro, sizeof(ro));
        int sid = tmpfs_at("src", 0);
        src = at("src");
        rwfd = at("rw");
        rofd = at("ro");
        ck_assert_int_eq(mount_clone(src, 0, &m1), 0);
        ck_assert_int_eq(mount_attach(m1, rwfd), 0);
        ck_assert_int_eq(mount_clone(src, MS_RDONLY, &m2), 0);
        ck_assert_int_eq(mount_attach(m2, rofd), 0);
        m = find(&t, ro);
        ck_assert_ptr_nonnull(m);
        ck_assert(m->flags & MS_RDONLY);
        ck_assert(!m->sb_readonly); /* only this mount is read-only */
        ck_assert_uint_eq(m->devno, find(&t, srcp)->devno);
        ck_assert(!(find(&t, rw)->flags & MS_RDONLY));
        snprintf(file, sizeof(file), "%s/f", ro);
        ck_assert_int_eq(open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0600), -1);
        ck_assert_int_eq(errno, EROFS);
        snprintf(file, sizeof(file), "%s/f", rw);
        fd = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        ck_assert_int_ge(fd, 0);
        close(fd);
        close(TAKE_FD(m1)); /* an fd on a mount keeps it busy */
        close(TAKE_FD(m2));
        ck_assert_int_eq(mount_umount_at(rfd, "ro", find(&t, ro)->id), 0);
        ck_assert_int_eq(mount_umount_at(rfd, "rw", find(&t, rw)->id), 0);
        close(TAKE_FD(src));
        ck_assert_int_eq(mount_umount_at(rfd, "src", sid), 0);
}
END_TEST

START_TEST(test_bind_flags)
{
        _cleanup_mount_table_ struct mount_table *t = NULL;
        _cleanup_close_ int rfd = root_fd(), src = -1, dstfd = -1, mnt = -1;
        char srcp[256], dst[256];
        const struct mount_info *m;
        unsigned long want = MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME;

        make_dir("fsrc", srcp, sizeof(srcp));
        make_dir("fdst", dst, sizeof(dst));
        src = at("fsrc");
        dstfd = at("fdst");
        ck_assert_int_eq(mount_clone(src, MS_BIND, &mnt), -EINVAL);
        ck_assert_int_eq(mount_clone(src, MS_REMOUNT, &mnt), -EINVAL);
        ck_assert_ptr_null(find(&t, dst));
        ck_assert_int_eq(mount_clone(src, want, &mnt), 0);
        ck_assert_int_eq(mount_attach(mnt, dstfd), 0);
        m = find(&t, dst);
        ck_assert_ptr_nonnull(m);
        ck_assert_uint_eq(m->flags & want, want);
        ck_assert(!(m->flags & MS_RDONLY));
        close(TAKE_FD(mnt));
        ck_assert_int_eq(mount_umount_at(rfd, "fdst", m->id), 0);
}
END_TEST

START_TEST(test_node_bind)
{
        _cleanup_mount_table_ struct mount_table *t = NULL;
        _cleanup_close_ int rfd = root_fd(), null = -1, ffd = -1, mnt = -1;
        char file[256];
        const struct mount_info *m;
        struct stat st;
        int fd;

        sub("nodefile", file, sizeof(file));
        fd = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        ck_assert_int_ge(fd, 0);
        close(fd);
        null = open("/dev/null", O_PATH | O_CLOEXEC);
        ffd = at("nodefile");
        ck_assert_int_eq(mount_clone(null, 0, &mnt), 0);
        ck_assert_int_eq(mount_attach(mnt, ffd), 0);
        ck_assert_int_eq(stat(file, &st), 0);
        ck_assert(S_ISCHR(st.st_mode));
        m = find(&t, file);
        ck_assert_ptr_nonnull(m);
        ck_assert_ptr_eq(mount_table_find_node_bind(t, "null", NULL), m);
        ck_assert_ptr_null(mount_table_find_node_bind(t, "null", file));
        close(TAKE_FD(mnt));
        ck_assert_int_eq(mount_umount_at(rfd, "nodefile", m->id), 0);
        ck_assert_int_eq(stat(file, &st), 0);
        ck_assert(S_ISREG(st.st_mode));
}
END_TEST

/* A symlink swapped in for the mount point is never followed: nothing is unmounted. */
START_TEST(test_umount_symlink_not_followed)
{
        _cleanup_mount_table_ struct mount_table *t = NULL;
        _cleanup_close_ int rfd = root_fd();
        char dir[256], link[256];
        int id;

        make_dir("real", dir, sizeof(dir));
        sub("link", link, sizeof(link));
        ck_assert_int_eq(symlink(dir, link), 0);
        id = tmpfs_at("real", 0);
        ck_assert_int_eq(mount_umount_at(rfd, "link", id), -ESTALE);
        ck_assert_ptr_nonnull(find(&t, dir));
        ck_assert_int_eq(mount_umount_at(rfd, "real", id), 0);
}
END_TEST

START_TEST(test_sb_readonly)
{
        _cleanup_mount_table_ struct mount_table *t = NULL;
        _cleanup_close_ int rfd = root_fd();
        char dir[256];
        int id;

        make_dir("rofs", dir, sizeof(dir));
        id = tmpfs_at("rofs", MS_RDONLY);
        ck_assert(find(&t, dir)->sb_readonly);
        ck_assert(find(&t, dir)->flags & MS_RDONLY);
        ck_assert_int_eq(mount_umount_at(rfd, "rofs", id), 0);
}
END_TEST

/* The table read by mount ID (statmount) says what /proc/self/mountinfo says of the same
 * mounts: a bind with per-mount flags, a read-only bind, and "/". */
static atomic_bool spawner_stop;

static void *spawner_run(void *arg)
{
        static const char *const argv[] = {"true", NULL};
        (void)arg;
        while (!atomic_load(&spawner_stop))
                ck_assert_int_eq(spawn_run(argv, NULL, 0), 0);
        return NULL;
}

/* A helper another call starts holds copies of our descriptors until its exec: an unmount
 * right after we closed ours must wait for that, not fail EBUSY (test-crash-random saw
 * NodeUnpublishVolume answer 'busy' beside a NodeStageVolume's e2fsck). */
START_TEST(test_umount_beside_spawns)
{
        _cleanup_close_ int rfd = root_fd();
        pthread_t th;
        char dir[256];

        make_dir("beside", dir, sizeof(dir));
        atomic_store(&spawner_stop, false);
        ck_assert_int_eq(pthread_create(&th, NULL, spawner_run, NULL), 0);
        for (int i = 0; i < 300; i++) {
                int id = tmpfs_at("beside", 0), fd = at("beside"), r;
                struct timespec ts = {0, 200000}; /* 0.2 ms: spawns copy fd meanwhile */
                nanosleep(&ts, NULL);
                close(fd);
                r = mount_umount_at(rfd, "beside", id);
                ck_assert_msg(r == 0, "unmount %d: %s", i, strerror(-r));
        }
        atomic_store(&spawner_stop, true);
        pthread_join(th, NULL);
}
END_TEST

START_TEST(test_table_by_id_matches_mountinfo)
{
        _cleanup_mount_table_ struct mount_table *all = NULL, *byid = NULL;
        _cleanup_close_ int src = -1, a = -1, b = -1, mnt = -1;
        _cleanup_close_ int at_a = -1, at_b = -1, slash = -1;
        char srcp[256], pa[256], pb[256];
        const unsigned long cmp = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME |
                                  MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME;

        make_dir("isrc", srcp, sizeof(srcp));
        make_dir("ia", pa, sizeof(pa));
        make_dir("ib", pb, sizeof(pb));
        src = at("isrc");
        a = at("ia");
        b = at("ib");
        ck_assert_int_eq(mount_clone(src, MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME, &mnt), 0);
        ck_assert_int_eq(mount_attach(mnt, a), 0);
        close(TAKE_FD(mnt));
        ck_assert_int_eq(mount_clone(src, MS_RDONLY, &mnt), 0);
        ck_assert_int_eq(mount_attach(mnt, b), 0);
        close(TAKE_FD(mnt));
        at_a = at("ia");
        at_b = at("ib");
        slash = open("/", O_PATH | O_CLOEXEC);
        int fds[] = {at_a, -1, at_b, slash};
        int r = mount_table_load_at(fds, 4, &byid);
        if (r == -EOPNOTSUPP) { /* a kernel before 6.8: callers read the whole table */
                ck_assert_ptr_null(byid);
        } else {
                ck_assert_int_eq(r, 0);
                ck_assert_int_eq(mount_table_load(&all), 0);
                ck_assert_uint_eq(byid->n, 3);
                for (size_t i = 0; i < byid->n; i++) {
                        const struct mount_info *m = &byid->entries[i];
                        const struct mount_info *w = mount_table_find_id(all, m->id);
                        ck_assert_ptr_nonnull(w);
                        ck_assert_int_eq(m->parent_id, w->parent_id);
                        ck_assert_uint_eq(m->devno, w->devno);
                        ck_assert_str_eq(m->root, w->root);
                        ck_assert_str_eq(m->target, w->target);
                        ck_assert_str_eq(m->fstype, w->fstype);
                        ck_assert_uint_eq(m->flags & cmp, w->flags & cmp);
                        ck_assert_int_eq(m->sb_readonly, w->sb_readonly);
                }
                ck_assert_str_eq(byid->entries[0].target, pa);
                ck_assert(byid->entries[1].flags & MS_RDONLY);
        }
        close(TAKE_FD(at_a)); /* our own references would keep the mounts busy */
        close(TAKE_FD(at_b));
        ck_assert_int_eq(umount2(pa, 0), 0);
        ck_assert_int_eq(umount2(pb, 0), 0);
}
END_TEST

static Suite *mount_suite(void)
{
        Suite *s = suite_create("mount");
        TCase *tc = tcase_create("mount");

        tcase_add_unchecked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_fs_mount_and_table);
        tcase_add_test(tc, test_fs_options_refused);
        tcase_add_test(tc, test_fs_options_quoted);
        tcase_add_test(tc, test_bind_rw_and_ro);
        tcase_add_test(tc, test_bind_flags);
        tcase_add_test(tc, test_node_bind);
        tcase_add_test(tc, test_umount_symlink_not_followed);
        tcase_add_test(tc, test_umount_beside_spawns);
        tcase_add_test(tc, test_sb_readonly);
        tcase_add_test(tc, test_table_by_id_matches_mountinfo);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(mount_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
