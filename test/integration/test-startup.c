/* ctest-labels: privileged */
/* Startup on the real binary: one owner per node-scoped pool, shared pools shared. */
#include <check.h>
#include <csi.pb-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

static uint64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A second node-scoped silo on the same pool (its own socket) exits at once with one line
 * naming the pool and the owner's pid; the owner keeps serving. */
START_TEST(second_owner_of_a_node_pool_is_refused)
{
        ck_assert_int_eq(harness_start(&h, NULL, NULL), 0);
        char sock[400], out[4096], want[400];
        harness_path(&h, "second.sock", sock, sizeof(sock));
        const char *args[] = {"silo", "--endpoint",    sock,          "--pool",
                              h.pool, "--kubelet-dir", h.kubelet_dir, NULL};
        uint64_t t0 = now_ms();
        ck_assert_int_eq(harness_run(args, 10000, out, sizeof(out)), 1);
        ck_assert_uint_lt(now_ms() - t0, 5000);
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
        ck_assert_int_eq(harness_run(args, 10000, out, sizeof(out)), 1);
        ck_assert_msg(strstr(out, "instances with --pool-scope shared"), "got: %s", out);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("startup");
        TCase *tc = tcase_create("startup");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, second_owner_of_a_node_pool_is_refused);
        tcase_add_test(tc, shared_pool_instances_run_together);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
