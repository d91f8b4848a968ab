/* ctest-labels: privileged */
/* Startup on the real binary: one owner per node-scoped pool, shared pools shared, and every
 * startup failure found before listening, told in one line with the path, the errno text and
 * what to do. */
#include <check.h>
#include <csi.pb-c.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test/integration/harness.h"
#include "common/cleanup.h"

static struct harness h, h2;

static void setup(void)
{
        memset(&h, 0, sizeof(h));
        memset(&h2, 0, sizeof(h2));
}

static void teardown(void)
{
        harness_stop(&h2);
        harness_stop(&h);
}

static enum err_status probe(struct harness *hh)
{
        Csi__V1__ProbeRequest req = CSI__V1__PROBE_REQUEST__INIT;
        struct client_result res;
        ck_assert_int_eq(harness_call(hh, "/csi.v1.Identity/Probe", &req.base,
                                      &csi__v1__probe_response__descriptor, &res),
                         0);
        enum err_status st = res.status;
        client_result_release(&res);
        return st;
}

/* How long a silo that refuses to start may take to exit by itself: it never waits for
 * anything, so this only bounds a failure (a daemon that serves after all). */
#define REFUSE_MS 30000

/* A second node-scoped silo on the same pool (its own socket) exits by itself with one line
 * naming the pool and the owner's pid; the owner keeps serving. */
START_TEST(second_owner_of_a_node_pool_is_refused)
{
        ck_assert_int_eq(harness_start(&h, NULL, NULL), 0);
        char sock[400], out[4096], want[400];
        harness_path(&h, "second.sock", sock, sizeof(sock));
        const char *args[] = {"silo", "--endpoint",    sock,          "--pool",
                              h.pool, "--kubelet-dir", h.kubelet_dir, NULL};
        ck_assert_int_eq(harness_run(args, REFUSE_MS, out, sizeof(out)), 1);
        snprintf(want, sizeof(want), "pool is in use by another silo (pid=%d ", (int)h.pid);
        ck_assert_msg(strstr(out, want), "got: %s", out);
        snprintf(want, sizeof(want), "pool='%s'", h.pool);
        ck_assert_msg(strstr(out, want), "got: %s", out);
        ck_assert_ptr_null(strstr(out, "serving"));
        ck_assert_int_eq(access(sock, F_OK), -1);
        ck_assert_int_eq(probe(&h), ERR_OK);
        /* The claim dies with its owner. */
        harness_kill9(&h);
        ck_assert_int_eq(harness_restart(&h, NULL, NULL), 0);
}
END_TEST

/* Killed while it started a helper, an owner leaves its claim with that child until the
 * child's exec (test-crash-random's node case saw a restart refused so under load). A new
 * instance waits for such a claim when the owner the file names is gone, and starts once the
 * claim is dropped. The test holds the lock in the helper's place. */
START_TEST(dead_owners_leftover_claim_is_waited_for)
{
        char lock[400];
        ck_assert_int_eq(harness_start(&h, NULL, NULL), 0);
        harness_kill9(&h);
        snprintf(lock, sizeof(lock), "%s/owner.lock", h.pool);
        int fd = open(lock, O_RDONLY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(flock(fd, LOCK_EX | LOCK_NB), 0);
        ck_assert_int_eq(harness_respawn(&h, NULL, NULL), 0);
        ck_assert(harness_wait_log(&h, "its previous owner is gone", 1));
        close(fd);
        ck_assert(harness_wait_log(&h, "msg='serving'", 2));
        /* A fresh channel: the old one lost its daemon and may still be in its backoff. */
        client_free(h.client);
        ck_assert_int_eq(client_new(h.endpoint, &h.client), 0);
        ck_assert_int_eq(probe(&h), ERR_OK);
        ck_assert(!harness_log_contains(&h, "pool is in use by another silo"));
}
END_TEST

/* Shared scope keeps its design: any number of instances on one pool, but never beside a
 * node-scoped owner. */
START_TEST(shared_pool_instances_run_together)
{
        const char *a_args[] = {"--pool-scope", "shared", "--nodeid", "node-a", NULL};
        ck_assert_int_eq(harness_start(&h, a_args, NULL), 0);
        const char *b_args[] = {"--pool-scope", "shared", "--nodeid", "node-b",
                                "--pool",       h.pool,   NULL};
        ck_assert_int_eq(harness_start(&h2, b_args, NULL), 0);
        ck_assert_int_eq(probe(&h), ERR_OK);
        ck_assert_int_eq(probe(&h2), ERR_OK);

        char sock[400], out[4096];
        harness_path(&h, "node.sock", sock, sizeof(sock));
        const char *args[] = {"silo",          "--endpoint",  sock,       "--pool", h.pool,
                              "--kubelet-dir", h.kubelet_dir, "--nodeid", "node-c", NULL};
        ck_assert_int_eq(harness_run(args, REFUSE_MS, out, sizeof(out)), 1);
        ck_assert_msg(strstr(out, "instances with --pool-scope shared"), "got: %s", out);
}
END_TEST

/* Runs silo on these paths with extra args; expects it to refuse to start (exit want by
 * itself), never listening, with exactly one error line. */
static void refuses(const char *pool, const char *kubelet, const char *sock, const char *extra,
                    int want, char *out, size_t size)
{
        char ep[400];
        snprintf(ep, sizeof(ep), "unix://%s", sock);
        const char *args[] = {"silo",          "--endpoint", ep,    "--pool", pool,
                              "--kubelet-dir", kubelet,      extra, NULL};
        ck_assert_int_eq(harness_run(args, REFUSE_MS, out, size), want);
        ck_assert_ptr_null(strstr(out, "serving"));
        ck_assert_ptr_null(strstr(out, "listening"));
        ck_assert_int_eq(access(sock, F_OK), -1);
        if (want == 1) {
                const char *first = strstr(out, "level=error");
                ck_assert_msg(first, "no error line: %s", out);
                ck_assert_msg(!strstr(first + 1, "level=error"), "more than one: %s", out);
                ck_assert_msg(!strchr(out, '\n') || !strstr(out, "\nE"), "gRPC noise: %s", out);
        }
}

static void contains(const char *out, const char *needle)
{
        ck_assert_msg(strstr(out, needle), "'%s' not in: %s", needle, out);
}

static char root[64];

static void make_root(char *pool, char *kubelet, char *sock, size_t size)
{
        snprintf(root, sizeof(root), "/tmp/silo-start-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(root));
        snprintf(pool, size, "%s/pool", root);
        snprintf(kubelet, size, "%s/kubelet", root);
        snprintf(sock, size, "%s/csi.sock", root);
        ck_assert_int_eq(mkdir(kubelet, 0750), 0);
}

static void remove_root(void)
{
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        ck_assert_int_eq(system(cmd), 0);
}

START_TEST(missing_kubelet_dir)
{
        char pool[128], kubelet[128], sock[128], out[4096];
        make_root(pool, kubelet, sock, sizeof(pool));
        rmdir(kubelet);
        refuses(pool, kubelet, sock, NULL, 1, out, sizeof(out));
        contains(out, "cannot use the kubelet directory: No such file or directory: set "
                      "--kubelet-dir");
        contains(out, kubelet);
        remove_root();
}
END_TEST

START_TEST(socket_in_a_missing_directory)
{
        char pool[128], kubelet[128], sock[128], out[4096];
        make_root(pool, kubelet, sock, sizeof(pool));
        snprintf(sock, sizeof(sock), "%s/plugins/silo/csi.sock", root);
        refuses(pool, kubelet, sock, NULL, 1, out, sizeof(out));
        contains(out, "cannot use the directory of the endpoint: No such file or directory: "
                      "create it");
        contains(out, "plugins/silo'");
        remove_root();
}
END_TEST

START_TEST(mode_lists_the_allowed_values)
{
        char pool[128], kubelet[128], sock[128], out[4096];
        make_root(pool, kubelet, sock, sizeof(pool));
        const char *args[] = {"silo", "--mode", "both", NULL};
        ck_assert_int_eq(harness_run(args, REFUSE_MS, out, sizeof(out)), 2);
        contains(out, "'both' for --mode: expected one of: all, controller, node");
        const char *args2[] = {"silo", "--pool-scope", "cluster", NULL};
        ck_assert_int_eq(harness_run(args2, REFUSE_MS, out, sizeof(out)), 2);
        contains(out, "expected one of: node, shared");
        remove_root();
}
END_TEST

/* An empty pool directory on a read-only mount: the errno, not just "cannot create". */
START_TEST(read_only_pool)
{
        char pool[128], kubelet[128], sock[128], out[4096];
        make_root(pool, kubelet, sock, sizeof(pool));
        ck_assert_int_eq(mkdir(pool, 0750), 0);
        ck_assert_int_eq(mount(pool, pool, NULL, MS_BIND, NULL), 0);
        ck_assert_int_eq(mount(NULL, pool, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL), 0);
        refuses(pool, kubelet, sock, NULL, 1, out, sizeof(out));
        umount2(pool, MNT_DETACH);
        contains(out, "Read-only file system: the pool directory must be writable");
        contains(out, pool);
        remove_root();
}
END_TEST

/* A missing pool is created when its parent exists (and that is logged), never with its
 * parents. */
START_TEST(missing_pool_created_only_under_an_existing_parent)
{
        char pool[128], kubelet[128], sock[128], out[4096];
        make_root(pool, kubelet, sock, sizeof(pool));
        snprintf(pool, sizeof(pool), "%s/mnt/pool", root);
        refuses(pool, kubelet, sock, NULL, 1, out, sizeof(out));
        contains(out, "pool directory does not exist and its parent cannot be used: No such "
                      "file or directory: create the pool directory or mount the pool there");
        ck_assert_int_eq(access(pool, F_OK), -1);

        ck_assert_int_eq(harness_start(&h, NULL, NULL), 0);
        harness_kill9(&h);
        char fresh[400];
        harness_path(&h, "fresh-pool", fresh, sizeof(fresh));
        const char *args[] = {"--pool", fresh, NULL};
        ck_assert_int_eq(harness_restart(&h, args, NULL), 0);
        ck_assert_int_eq(access(fresh, F_OK), 0);
        ck_assert(harness_log_contains(&h, "msg='created the pool directory'"));
        remove_root();
}
END_TEST

int main(void)
{
        Suite *s = suite_create("startup");
        TCase *tc = tcase_create("startup");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 300);
        tcase_add_test(tc, second_owner_of_a_node_pool_is_refused);
        tcase_add_test(tc, dead_owners_leftover_claim_is_waited_for);
        tcase_add_test(tc, shared_pool_instances_run_together);
        tcase_add_test(tc, missing_kubelet_dir);
        tcase_add_test(tc, socket_in_a_missing_directory);
        tcase_add_test(tc, mode_lists_the_allowed_values);
        tcase_add_test(tc, read_only_pool);
        tcase_add_test(tc, missing_pool_created_only_under_an_existing_parent);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
