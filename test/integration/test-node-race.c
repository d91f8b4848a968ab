/* ctest-labels: privileged */
/* Staging and target paths are checked and used as one object: a racer that keeps swapping a
 * directory of the path with a symlink to a directory outside the kubelet dir never gets a
 * mount or a file outside it, never loses a foreign mount there, and every call either works
 * on the real directory or fails cleanly. SILO_RACE_ROUNDS sets the rounds (default 150). */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>

#include "node/mount.h"
#include "test/integration/harness-node.h"
#include "common/cleanup.h"

static struct harness h;
static char real[400], link_[400], outside[400];
static atomic_bool racer_stop;

static void mkdir_in(const char *dir, const char *name)
{
        char p[600];

        snprintf(p, sizeof(p), "%s/%s", dir, name);
        ck_assert_int_eq(mkdir(p, 0750), 0);
}

/* kdir/race/par holds stage, bstage and pod; kdir/race/link -> outside holds the same names,
 * with a foreign tmpfs on outside/stage. */
static void setup(void)
{
        char race[400], foreign[600];

        ck_assert_int_eq(harness_start(&h, NULL, NULL), 0);
        harness_node_track(&h);
        harness_node_kpath(&h, "race", race, sizeof(race));
        ck_assert_int_eq(mkdir(race, 0750), 0);
        harness_node_kpath(&h, "race/par", real, sizeof(real));
        harness_node_kpath(&h, "race/link", link_, sizeof(link_));
        harness_path(&h, "outside", outside, sizeof(outside));
        ck_assert_int_eq(mkdir(real, 0750), 0);
        ck_assert_int_eq(mkdir(outside, 0750), 0);
        ck_assert_int_eq(symlink(outside, link_), 0);
        for (int i = 0; i < 2; i++) {
                const char *d = i ? outside : real;

                mkdir_in(d, "stage");
                mkdir_in(d, "bstage");
                mkdir_in(d, "pod");
        }
        snprintf(foreign, sizeof(foreign), "%s/stage", outside);
        ck_assert_int_eq(mount("foreign", foreign, "tmpfs", 0, "size=1m"), 0);
}

static void teardown(void)
{
        harness_stop(&h);
}

static void *racer(void *arg)
{
        unsigned seed = 1;

        (void)arg;
        while (!atomic_load(&racer_stop)) {
                struct timespec ts = {0, (long)(rand_r(&seed) % 300) * 1000};

                (void)renameat2(AT_FDCWD, real, AT_FDCWD, link_, RENAME_EXCHANGE);
                nanosleep(&ts, NULL);
        }
        return NULL;
}

static int dir_entries(const char *path)
{
        DIR *d = opendir(path);
        struct dirent *de;
        int n = 0;

        ck_assert_ptr_nonnull(d);
        while ((de = readdir(d)))
                n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
        closedir(d);
        return n;
}

/* Nothing of ours outside the kubelet dir: only the foreign tmpfs is mounted there, it is
 * still mounted, and no directory there gained an entry. */
static void assert_outside_untouched(const char *after)
{
        _cleanup_mount_table_ struct mount_table *t = NULL;
        char foreign[600], sub[600];
        int foreign_seen = 0;

        ck_assert_int_eq(mount_table_load(&t), 0);
        snprintf(foreign, sizeof(foreign), "%s/stage", outside);
        for (size_t i = 0; i < t->n; i++) {
                const char *tg = t->entries[i].target;

                if (strncmp(tg, outside, strlen(outside)) != 0)
                        continue;
                ck_assert_msg(strcmp(tg, foreign) == 0 &&
                                  strcmp(t->entries[i].fstype, "tmpfs") == 0,
                              "after %s: mount of %s (%s) outside the kubelet dir at '%s'", after,
                              t->entries[i].source, t->entries[i].fstype, tg);
                foreign_seen++;
        }
        ck_assert_msg(foreign_seen == 1, "after %s: the foreign tmpfs was unmounted", after);
        for (int i = 0; i < 3; i++) {
                static const char *const names[] = {"stage", "bstage", "pod"};

                snprintf(sub, sizeof(sub), "%s/%s", outside, names[i]);
                ck_assert_msg(dir_entries(sub) == 0, "after %s: '%s' gained an entry", after, sub);
        }
        ck_assert_int_eq(dir_entries(outside), 3);
}

/* Fails the test when anything is still mounted under the test root, naming it. */
static void assert_no_mounts(void)
{
        _cleanup_mount_table_ struct mount_table *t = NULL;
        char foreign[600];

        ck_assert_int_eq(mount_table_load(&t), 0);
        snprintf(foreign, sizeof(foreign), "%s/stage", outside);
        for (size_t i = 0; i < t->n; i++) {
                const char *tg = t->entries[i].target;

                ck_assert_msg(strncmp(tg, h.root, strlen(h.root)) != 0 || strcmp(tg, foreign) == 0,
                              "left mounted: %s (%s) at '%s'", t->entries[i].source,
                              t->entries[i].fstype, tg);
        }
}

/* A call under the race answers OK or a clean refusal, never INTERNAL or UNKNOWN. */
static void check_call(enum err_status st, const char *what, int round)
{
        char after[64];

        ck_assert_msg(st == ERR_OK || st == ERR_INVALID_ARGUMENT || st == ERR_FAILED_PRECONDITION ||
                          st == ERR_NOT_FOUND,
                      "round %d %s: %s (%s)", round, what, err_status_name(st),
                      harness_node_message());
        snprintf(after, sizeof(after), "round %d %s", round, what);
        assert_outside_untouched(after);
}

static void paths(const char *staging_name, const char *target_name, char *staging, char *target)
{
        snprintf(staging, 600, "%s/%s", real, staging_name);
        snprintf(target, 600, "%s/pod/%s", real, target_name);
}

static void race_rounds(const char *id, const struct harness_node_cap *cap, const char *sname,
                        const char *tname)
{
        const char *env = getenv("SILO_RACE_ROUNDS");
        int rounds = env ? (int)strtol(env, NULL, 10) : 150;
        char staging[600], target[600];
        pthread_t th;
        int ok = 0;

        paths(sname, tname, staging, target);
        atomic_store(&racer_stop, false);
        ck_assert_int_eq(pthread_create(&th, NULL, racer, NULL), 0);
        for (int i = 0; i < rounds; i++) {
                enum err_status st = harness_node_stage(&h, id, staging, cap);

                check_call(st, "stage", i);
                check_call(harness_node_publish(&h, id, staging, target, cap, false), "publish", i);
                check_call(harness_node_unpublish(&h, id, target), "unpublish", i);
                check_call(harness_node_unstage(&h, id, staging), "unstage", i);
                ok += st == ERR_OK;
        }
        atomic_store(&racer_stop, true);
        pthread_join(th, NULL);
        struct stat st;
        if (lstat(real, &st) == 0 && S_ISLNK(st.st_mode))
                ck_assert_int_eq(renameat2(AT_FDCWD, real, AT_FDCWD, link_, RENAME_EXCHANGE), 0);
        /* With the path still, everything is undone through the requested paths. */
        ASSERT_STATUS(harness_node_unpublish(&h, id, target), ERR_OK);
        ASSERT_STATUS(harness_node_unstage(&h, id, staging), ERR_OK);
        assert_outside_untouched("the race");
        assert_no_mounts();
        ck_assert_int_eq(harness_node_count_loops(&h), 0);
        fprintf(stderr, "%s: %d of %d stages succeeded under the race\n", id, ok, rounds);
        ck_assert_msg(ok > 0, "no stage succeeded in %d rounds", rounds);
}

START_TEST(test_race_mount_volume)
{
        struct harness_node_cap cap = {.fs_type = "ext4"};

        ck_assert_int_eq(harness_node_volume(&h, "vol-race", 16 * HN_MIB, "ext4", false), 0);
        race_rounds("vol-race", &cap, "stage", "mount");
}
END_TEST

START_TEST(test_race_block_volume)
{
        struct harness_node_cap cap = {.block = true};

        ck_assert_int_eq(harness_node_volume(&h, "vol-rblk", 8 * HN_MIB, "", false), 0);
        race_rounds("vol-rblk", &cap, "bstage", "dev");
}
END_TEST

int main(void)
{
        Suite *s = suite_create("node-race");
        TCase *tc = tcase_create("race");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 300);
        tcase_add_test(tc, test_race_mount_volume);
        tcase_add_test(tc, test_race_block_volume);
        suite_add_tcase(s, tc);
        return harness_node_run(s);
}
