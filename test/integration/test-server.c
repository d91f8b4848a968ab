/* The server core on the real binary: Identity, unknown methods, bad input, the worker pool
 * bound, Probe under load, budgets, shutdown, the socket. */
#include <check.h>
#include <csi.pb-c.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test/integration/harness.h"
#include "common/cleanup.h"

static struct harness h;

static void stop(void)
{
        harness_stop(&h);
}

static enum err_status call_status(struct client *c, const char *path, const ProtobufCMessage *req,
                                   const ProtobufCMessageDescriptor *desc, uint64_t timeout_ms,
                                   char *msg, size_t msg_size)
{
        struct client_result res;
        ck_assert_int_eq(client_call(c, path, req, desc, timeout_ms, &res), 0);
        enum err_status st = res.status;
        if (msg)
                snprintf(msg, msg_size, "%s", res.message ? res.message : "");
        client_result_release(&res);
        return st;
}

static enum err_status sleep_call(struct client *c, const char *key, uint64_t timeout_ms)
{
        Csi__V1__DeleteVolumeRequest req = CSI__V1__DELETE_VOLUME_REQUEST__INIT;
        req.volume_id = (char *)key;
        return call_status(c, "/silo.test.Hooks/Sleep", &req.base,
                           &csi__v1__delete_volume_response__descriptor, timeout_ms, NULL, 0);
}

static enum err_status probe(struct client *c, uint64_t timeout_ms)
{
        Csi__V1__ProbeRequest req = CSI__V1__PROBE_REQUEST__INIT;
        return call_status(c, "/csi.v1.Identity/Probe", &req.base,
                           &csi__v1__probe_response__descriptor, timeout_ms, NULL, 0);
}

static void sleep_ms(long ms)
{
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
}

START_TEST(identity_rpcs)
{
        ck_assert_int_eq(harness_start(&h, NULL, NULL), 0);
        Csi__V1__GetPluginInfoRequest req = CSI__V1__GET_PLUGIN_INFO_REQUEST__INIT;
        struct client_result res;
        ck_assert_int_eq(harness_call(&h, "/csi.v1.Identity/GetPluginInfo", &req.base,
                                      &csi__v1__get_plugin_info_response__descriptor, &res),
                         0);
        ck_assert_int_eq(res.status, ERR_OK);
        Csi__V1__GetPluginInfoResponse *info = (Csi__V1__GetPluginInfoResponse *)res.resp;
        ck_assert_str_eq(info->name, "silo.csi.io");
        ck_assert_str_eq(info->vendor_version, SILO_VERSION "+" SILO_GIT_REV);
        client_result_release(&res);

        Csi__V1__GetPluginCapabilitiesRequest creq = CSI__V1__GET_PLUGIN_CAPABILITIES_REQUEST__INIT;
        ck_assert_int_eq(harness_call(&h, "/csi.v1.Identity/GetPluginCapabilities", &creq.base,
                                      &csi__v1__get_plugin_capabilities_response__descriptor, &res),
                         0);
        ck_assert_int_eq(res.status, ERR_OK);
        client_result_release(&res);

        ck_assert_int_eq(probe(h.client, 30000), ERR_OK);
        ck_assert(harness_log_contains(&h, "msg='serving'"));
}
END_TEST

START_TEST(driver_name_flag)
{
        const char *args[] = {"--driver-name", "other.csi.example", NULL};
        ck_assert_int_eq(harness_start(&h, args, NULL), 0);
        Csi__V1__GetPluginInfoRequest req = CSI__V1__GET_PLUGIN_INFO_REQUEST__INIT;
        struct client_result res;
        ck_assert_int_eq(harness_call(&h, "/csi.v1.Identity/GetPluginInfo", &req.base,
                                      &csi__v1__get_plugin_info_response__descriptor, &res),
                         0);
        ck_assert_str_eq(((Csi__V1__GetPluginInfoResponse *)res.resp)->name, "other.csi.example");
        client_result_release(&res);
}
END_TEST

START_TEST(unknown_methods_are_unimplemented)
{
        ck_assert_int_eq(harness_start(&h, NULL, NULL), 0);
        Csi__V1__ProbeRequest req = CSI__V1__PROBE_REQUEST__INIT;
        char msg[256];
        ck_assert_int_eq(call_status(h.client, "/csi.v1.Identity/Nope", &req.base,
                                     &csi__v1__probe_response__descriptor, 30000, msg, sizeof(msg)),
                         ERR_UNIMPLEMENTED);
        ck_assert_ptr_nonnull(strstr(msg, "/csi.v1.Identity/Nope"));
        ck_assert_int_eq(call_status(h.client, "/no.such.Service/Probe", &req.base,
                                     &csi__v1__probe_response__descriptor, 30000, NULL, 0),
                         ERR_UNIMPLEMENTED);
}
END_TEST

START_TEST(undecodable_and_oversize_requests)
{
        ck_assert_int_eq(harness_start(&h, NULL, NULL), 0);
        struct client_result res;
        static const unsigned char junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
        ck_assert_int_eq(client_call_raw(h.client, "/csi.v1.Identity/Probe", junk, sizeof(junk),
                                         &csi__v1__probe_response__descriptor, 30000, &res),
                         0);
        ck_assert_int_eq(res.status, ERR_INVALID_ARGUMENT);
        client_result_release(&res);

        size_t big = 5 * 1024 * 1024;
        void *buf = calloc(1, big);
        ck_assert_int_eq(client_call_raw(h.client, "/csi.v1.Identity/Probe", buf, big,
                                         &csi__v1__probe_response__descriptor, 30000, &res),
                         0);
        free(buf);
        ck_assert_int_eq(res.status, ERR_RESOURCE_EXHAUSTED);
        client_result_release(&res);
        /* Still serving. */
        ck_assert_int_eq(probe(h.client, 30000), ERR_OK);
}
END_TEST

struct slow_arg {
        char key[32];
        enum err_status status;
        pthread_t thread;
};

/* Slow calls that have returned. */
static atomic_uint slow_returned;

static void *slow_thread(void *p)
{
        struct slow_arg *a = p;
        a->status = sleep_call(h.client, a->key, 30000);
        atomic_fetch_add(&slow_returned, 1);
        return NULL;
}

static void start_slow(struct slow_arg *a, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                snprintf(a[i].key, sizeof(a[i].key), "k%zu", i);
                pthread_create(&a[i].thread, NULL, slow_thread, &a[i]);
        }
}

static size_t join_count(struct slow_arg *a, size_t n, enum err_status want)
{
        size_t count = 0;
        for (size_t i = 0; i < n; i++) {
                pthread_join(a[i].thread, NULL);
                count += a[i].status == want;
        }
        return count;
}

/* Waits until n slow calls have returned; false after 30 s. */
static bool wait_returned(unsigned n)
{
        for (int i = 0; i < 3000 && atomic_load(&slow_returned) < n; i++)
                sleep_ms(10);
        return atomic_load(&slow_returned) >= n;
}

/* 2 workers + 1 queued slot: of 5 concurrent slow calls 3 succeed and 2 are turned away
 * with the retryable UNAVAILABLE, never RESOURCE_EXHAUSTED. The calls are held until the two
 * are turned away: a slot freed early would take a third. */
START_TEST(worker_pool_bound)
{
        const char *args[] = {"--max-concurrent-requests", "2", "--max-queued-requests", "1", NULL};
        const char *env[] = {"SILO_TEST_DELAY=Sleep:60000", NULL};
        ck_assert_int_eq(harness_start(&h, args, env), 0);
        struct slow_arg a[5] = {0};
        atomic_store(&slow_returned, 0);
        start_slow(a, 5);
        ck_assert(wait_returned(2));
        ck_assert(harness_wait_log(&h, "point=Sleep", 2));
        ck_assert_uint_eq(harness_log_count(&h, "point=Sleep"), 2); /* the third waits */
        ck_assert_uint_eq(atomic_load(&slow_returned), 2);
        harness_release(&h);
        size_t ok = 0, unavailable = 0;
        for (size_t i = 0; i < 5; i++) {
                pthread_join(a[i].thread, NULL);
                ok += a[i].status == ERR_OK;
                unavailable += a[i].status == ERR_UNAVAILABLE;
        }
        ck_assert_uint_eq(ok, 3);
        ck_assert_uint_eq(unavailable, 2);
}
END_TEST

struct probe_arg {
        pthread_t thread;
        enum err_status status;
};

static void *probe_thread(void *p)
{
        struct probe_arg *a = p;
        a->status = probe(h.client, 30000);
        return NULL;
}

/* With every worker held busy, 100 concurrent Probes are all answered before any of that
 * work ends: Identity never waits behind volume work. (Not a fixed deadline per Probe: on a
 * loaded machine 100 calls may take seconds, and that is not what this tests.) */
START_TEST(probe_under_load)
{
        const char *env[] = {"SILO_TEST_DELAY=Sleep:60000", NULL};
        ck_assert_int_eq(harness_start(&h, NULL, env), 0);
        struct slow_arg slow[8] = {0};
        atomic_store(&slow_returned, 0);
        start_slow(slow, 8);
        ck_assert(harness_wait_log(&h, "point=Sleep", 8)); /* all 8 workers paused */
        static struct probe_arg p[100];
        for (size_t i = 0; i < 100; i++)
                pthread_create(&p[i].thread, NULL, probe_thread, &p[i]);
        for (size_t i = 0; i < 100; i++)
                pthread_join(p[i].thread, NULL);
        ck_assert_uint_eq(atomic_load(&slow_returned), 0);
        for (size_t i = 0; i < 100; i++)
                ck_assert_int_eq(p[i].status, ERR_OK);
        harness_release(&h);
        ck_assert_uint_eq(join_count(slow, 8, ERR_OK), 8);
}
END_TEST

/* A call on a key whose first call is held: ABORTED at once, or, when the machine is too
 * slow to answer within a short --timeout, DEADLINE_EXCEEDED, and then it is asked again. */
static enum err_status sleep_call_while_held(const char *key)
{
        enum err_status st = ERR_DEADLINE_EXCEEDED;
        for (int i = 0; i < 30 && st == ERR_DEADLINE_EXCEEDED; i++)
                st = sleep_call(h.client, key, 30000);
        return st;
}

/* Past the budget: DEADLINE_EXCEEDED; the work goes on holding its lock (held by the test),
 * so a retry is ABORTED; once it finished, the retry succeeds. */
START_TEST(budget_then_aborted_then_ok)
{
        const char *args[] = {"--timeout", "1s", NULL};
        const char *env[] = {"SILO_TEST_DELAY=Sleep:60000:1", NULL};
        ck_assert_int_eq(harness_start(&h, args, env), 0);
        ck_assert_int_eq(sleep_call(h.client, "vol-a", 30000), ERR_DEADLINE_EXCEEDED);
        ck_assert_int_eq(sleep_call_while_held("vol-a"), ERR_ABORTED);
        harness_release(&h);
        ck_assert(harness_wait_log(&h, "completed_after_deadline=true", 1));
        ck_assert_int_eq(HARNESS_RETRY_SLOW(sleep_call(h.client, "vol-a", 30000)), ERR_OK);
}
END_TEST

/* The client's own deadline is honoured too (shorter than --timeout, which is long here:
 * only the client's deadline can end the held call while the test waits). */
START_TEST(client_deadline_honoured)
{
        const char *args[] = {"--timeout", "300s", NULL};
        const char *env[] = {"SILO_TEST_DELAY=Sleep:600000:1", NULL};
        ck_assert_int_eq(harness_start(&h, args, env), 0);
        ck_assert_int_eq(sleep_call(h.client, "k", 2000), ERR_DEADLINE_EXCEEDED);
        ck_assert(harness_wait_log(&h, "code=DEADLINE_EXCEEDED", 1));
        ck_assert(!harness_log_contains(&h, "within 300000 ms"));
}
END_TEST

START_TEST(same_object_twice_is_aborted)
{
        const char *env[] = {"SILO_TEST_DELAY=Sleep:60000:1", NULL};
        ck_assert_int_eq(harness_start(&h, NULL, env), 0);
        struct slow_arg a = {.key = "k0"};
        pthread_create(&a.thread, NULL, slow_thread, &a);
        ck_assert(harness_wait_log(&h, "point=Sleep", 1)); /* holds the lock on k0 */
        ck_assert_int_eq(sleep_call(h.client, "k0", 30000), ERR_ABORTED);
        ck_assert_int_eq(sleep_call(h.client, "k1", 30000), ERR_OK);
        harness_release(&h);
        pthread_join(a.thread, NULL);
        ck_assert_int_eq(a.status, ERR_OK);
}
END_TEST

/* SIGTERM while a call runs: the call completes, the daemon exits 0, the socket is gone. The
 * call is held until the daemon is shutting down. */
START_TEST(graceful_shutdown)
{
        const char *env[] = {"SILO_TEST_DELAY=Sleep:60000", NULL};
        ck_assert_int_eq(harness_start(&h, NULL, env), 0);
        struct slow_arg a = {.key = "k0"};
        pthread_create(&a.thread, NULL, slow_thread, &a);
        ck_assert(harness_wait_log(&h, "point=Sleep", 1)); /* the call runs */
        ck_assert_int_eq(kill(h.pid, SIGTERM), 0);
        ck_assert(harness_wait_log(&h, "msg='shutting down'", 1));
        harness_release(&h);
        ck_assert_int_eq(harness_terminate(&h), 0);
        pthread_join(a.thread, NULL);
        ck_assert_int_eq(a.status, ERR_OK);
        ck_assert_int_eq(access(h.socket, F_OK), -1);
        ck_assert(harness_log_contains(&h, "msg='shutting down'"));
}
END_TEST

static void make_stale_socket(const char *path)
{
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        ck_assert_uint_lt(strlen(path), sizeof(sa.sun_path));
        memcpy(sa.sun_path, path, strlen(path) + 1);
        ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        close(fd); /* the file stays; nobody listens: what a crash leaves */
}

START_TEST(stale_socket_replaced_and_mode_0660)
{
        ck_assert_int_eq(harness_start(&h, NULL, NULL), 0);
        harness_kill9(&h);
        ck_assert_int_eq(access(h.socket, F_OK), 0);
        ck_assert_int_eq(unlink(h.socket), 0);
        make_stale_socket(h.socket);
        ck_assert_int_eq(harness_restart(&h, NULL, NULL), 0);
        ck_assert(harness_log_contains(&h, "removing stale socket"));
        struct stat st;
        ck_assert_int_eq(stat(h.socket, &st), 0);
        ck_assert_int_eq(st.st_mode & 0777, 0660);
}
END_TEST

static int run_silo(const char *const *args)
{
        pid_t pid = fork();
        if (pid == 0) {
                int null = open("/dev/null", O_WRONLY);
                dup2(null, STDERR_FILENO);
                dup2(null, STDOUT_FILENO);
                execv(SILO_BIN, (char *const *)args);
                _exit(127);
        }
        int status;
        waitpid(pid, &status, 0);
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

START_TEST(live_instance_is_not_displaced)
{
        ck_assert_int_eq(harness_start(&h, NULL, NULL), 0);
        const char *args[] = {SILO_BIN, "--endpoint", h.endpoint, "--pool", h.pool, NULL};
        ck_assert_int_eq(run_silo(args), 1);
        ck_assert_int_eq(probe(h.client, 30000), ERR_OK);
}
END_TEST

START_TEST(non_socket_endpoint_is_refused)
{
        char dir[] = "/tmp/silo-ep-XXXXXX";
        ck_assert_ptr_nonnull(mkdtemp(dir));
        char path[64], pool[64];
        snprintf(path, sizeof(path), "%s/file", dir);
        snprintf(pool, sizeof(pool), "%s/pool", dir);
        FILE *f = fopen(path, "w");
        fputs("precious", f);
        fclose(f);
        const char *args[] = {SILO_BIN, "--endpoint", path, "--pool", pool, NULL};
        ck_assert_int_eq(run_silo(args), 1);
        ck_assert_int_eq(access(path, F_OK), 0); /* never deleted */
        unlink(path);
        rmdir(pool);
        rmdir(dir);
}
END_TEST

START_TEST(bad_flags_exit_2)
{
        const char *a1[] = {SILO_BIN, "--timeout", "soon", NULL};
        const char *a2[] = {SILO_BIN, "--mode", "everything", NULL};
        const char *a3[] = {SILO_BIN, "--bogus", NULL};
        const char *a4[] = {SILO_BIN, "--help", NULL};
        ck_assert_int_eq(run_silo(a1), 2);
        ck_assert_int_eq(run_silo(a2), 2);
        ck_assert_int_eq(run_silo(a3), 2);
        ck_assert_int_eq(run_silo(a4), 0);
}
END_TEST

static bool probe_ready(void)
{
        Csi__V1__ProbeRequest req = CSI__V1__PROBE_REQUEST__INIT;
        struct client_result res;
        ck_assert_int_eq(harness_call(&h, "/csi.v1.Identity/Probe", &req.base,
                                      &csi__v1__probe_response__descriptor, &res),
                         0);
        ck_assert_int_eq(res.status, ERR_OK);
        Csi__V1__ProbeResponse *p = (Csi__V1__ProbeResponse *)res.resp;
        ck_assert_ptr_nonnull(p->ready);
        bool ready = p->ready->value;
        client_result_release(&res);
        return ready;
}

/* Until the pool scan and node reconciliation finish, Probe says not ready and volume calls
 * are refused with the retryable UNAVAILABLE. Startup is held until the test has seen that. */
START_TEST(not_ready_during_startup)
{
        const char *env[] = {"SILO_TEST_DELAY=Startup:60000", NULL};
        ck_assert_int_eq(harness_start_nowait(&h, NULL, env), 0);
        ck_assert(!probe_ready());
        ck_assert_int_eq(sleep_call(h.client, "k", 30000), ERR_UNAVAILABLE);
        harness_release(&h);
        for (int i = 0; i < 1500 && !probe_ready(); i++)
                sleep_ms(20);
        ck_assert(probe_ready());
        ck_assert_int_eq(sleep_call(h.client, "k", 30000), ERR_OK);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("server");
        TCase *tc = tcase_create("core");
        tcase_add_checked_fixture(tc, NULL, stop);
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, identity_rpcs);
        tcase_add_test(tc, driver_name_flag);
        tcase_add_test(tc, unknown_methods_are_unimplemented);
        tcase_add_test(tc, undecodable_and_oversize_requests);
        tcase_add_test(tc, worker_pool_bound);
        tcase_add_test(tc, probe_under_load);
        tcase_add_test(tc, budget_then_aborted_then_ok);
        tcase_add_test(tc, client_deadline_honoured);
        tcase_add_test(tc, same_object_twice_is_aborted);
        tcase_add_test(tc, graceful_shutdown);
        tcase_add_test(tc, stale_socket_replaced_and_mode_0660);
        tcase_add_test(tc, live_instance_is_not_displaced);
        tcase_add_test(tc, non_socket_endpoint_is_refused);
        tcase_add_test(tc, bad_flags_exit_2);
        tcase_add_test(tc, not_ready_during_startup);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
