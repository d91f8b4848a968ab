/* Connections on the real binary: idle connections past the fd limit or past
 * --max-connections never leave the socket deaf, and the soft fd limit is raised at start. */
#include <check.h>
#include <csi.pb-c.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "test/integration/harness.h"
#include "common/cleanup.h"

#define IDLE_MAX 400

static struct harness h;
static int idle[IDLE_MAX];
static size_t n_idle;

static void close_idle(void)
{
        for (size_t i = 0; i < n_idle; i++)
                close(idle[i]);
        n_idle = 0;
}

static void stop(void)
{
        close_idle();
        harness_stop(&h);
}

static void sleep_ms(long ms)
{
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
}

/* Opens n connections that never say a word. */
static void open_idle(size_t n)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        ck_assert_uint_lt(strlen(h.socket), sizeof(sa.sun_path));
        memcpy(sa.sun_path, h.socket, strlen(h.socket) + 1);
        for (size_t i = 0; i < n && n_idle < IDLE_MAX; i++) {
                int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
                ck_assert_int_ge(fd, 0);
                /* A full backlog says EAGAIN: give the server time to take some. */
                int r = -1;
                for (int tries = 0; tries < 200; tries++) {
                        r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
                        if (r == 0 || errno != EAGAIN)
                                break;
                        sleep_ms(10);
                }
                if (r < 0) {
                        close(fd);
                        return;
                }
                idle[n_idle++] = fd;
        }
}

/* Clients in one process share connections to one target: drop the harness's, so probes
 * need a connection of their own. */
static void drop_harness_client(void)
{
        client_free(h.client);
        h.client = NULL;
        sleep_ms(200);
}

/* Probe on a fresh connection, so no earlier channel state (backoff) hides the answer. */
static enum err_status probe_fresh(uint64_t timeout_ms)
{
        struct client *c;
        ck_assert_int_eq(client_new(h.endpoint, &c), 0);
        Csi__V1__ProbeRequest req = CSI__V1__PROBE_REQUEST__INIT;
        struct client_result res;
        ck_assert_int_eq(client_call(c, "/csi.v1.Identity/Probe", &req.base,
                                     &csi__v1__probe_response__descriptor, timeout_ms, &res),
                         0);
        enum err_status st = res.status;
        client_result_release(&res);
        client_free(c);
        return st;
}

/* True once Probe answers, trying for up to ms (each try on a fresh connection gets 5 s: a
 * handshake on a loaded machine is slow, and that is not what fails here). */
static bool answers_within(long ms)
{
        for (long waited = 0; waited < ms; waited += 250) {
                if (probe_fresh(5000) == ERR_OK)
                        return true;
                sleep_ms(250);
        }
        return false;
}

/* Open fds of pid, or only its sockets. */
static size_t count_fds_of(pid_t pid, bool sockets)
{
        char dir[64], link[384], target[128];
        snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
        DIR *d = opendir(dir);
        ck_assert_ptr_nonnull(d);
        size_t n = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                snprintf(link, sizeof(link), "%s/%s", dir, de->d_name);
                ssize_t len = readlink(link, target, sizeof(target) - 1);
                if (len > 0 && (!sockets || strncmp(target, "socket:", 7) == 0))
                        n++;
        }
        closedir(d);
        return n;
}

static size_t count_sockets(pid_t pid)
{
        return count_fds_of(pid, true);
}

static size_t count_fds(pid_t pid)
{
        return count_fds_of(pid, false);
}

/* The outage: more idle connections than the daemon has fds made accept fail with
 * EMFILE, and the socket never answered again, not even Probe. */
START_TEST(fd_exhaustion_does_not_leave_the_socket_deaf)
{
        ck_assert_int_eq(harness_start(&h, NULL, NULL), 0);
        drop_harness_client();
        /* A few fds to spare, so accept itself runs out (the connection bound is half of the
         * limit, and would not be reached). */
        rlim_t n = (rlim_t)count_fds(h.pid) + 3;
        struct rlimit lim = {n, n};
        ck_assert_int_eq(prlimit(h.pid, RLIMIT_NOFILE, &lim, NULL), 0);
        open_idle(300);
        ck_assert(harness_wait_log(&h, "refusing connections: Too many open files", 1));
        close_idle();
        ck_assert(answers_within(30000));
        ck_assert_int_eq(probe_fresh(10000), ERR_OK);
        ck_assert_int_eq(client_new(h.endpoint, &h.client), 0);
}
END_TEST

/* Beyond --max-connections silo accepts and closes; the idle ones hold no more than the
 * bound, and once they are gone silo answers again. */
START_TEST(connections_are_bounded)
{
        const char *args[] = {"--max-connections", "8", NULL};
        ck_assert_int_eq(harness_start(&h, args, NULL), 0);
        drop_harness_client();
        size_t base = count_sockets(h.pid);
        open_idle(40);
        /* Once silo refuses, it holds all it will take (a fixed wait was too short when the
         * machine was busy). */
        ck_assert(harness_wait_log(&h, "refusing connections: 8 are open, the limit is 8", 1));
        /* A socket accepted to be closed at once may be seen open for a moment. */
        size_t held = count_sockets(h.pid);
        for (int i = 0; i < 100 && held > base + 8; i++) {
                sleep_ms(100);
                held = count_sockets(h.pid);
        }
        ck_assert_uint_le(held, base + 8);
        ck_assert_int_ne(probe_fresh(1000), ERR_OK); /* the bound holds for everybody */
        close_idle();
        ck_assert(answers_within(30000));
        ck_assert_int_eq(client_new(h.endpoint, &h.client), 0);
}
END_TEST

struct siloctl_run {
        char out[1024];
        int status;
};

static void *siloctl_probe_thread(void *arg)
{
        struct siloctl_run *r = arg;
        r->status = harness_siloctl(h.endpoint, "identity probe", r->out, sizeof(r->out));
        return NULL;
}

/* A client's first call waits for a slow connection handshake (a busy driver, a loaded
 * node) within its deadline: it used to give the handshake 100 ms and fail UNAVAILABLE
 * ("connection attempt timed out before receiving SETTINGS frame"). siloctl is a process of
 * its own: a client in this one may reuse a connection. */
START_TEST(slow_handshake_is_waited_for)
{
        ck_assert_int_eq(harness_start(&h, NULL, NULL), 0);
        /* Stopped, the daemon neither accepts nor answers; the kernel queues the connect. */
        ck_assert_int_eq(kill(h.pid, SIGSTOP), 0);
        struct siloctl_run r = {.status = -1};
        pthread_t t;
        ck_assert_int_eq(pthread_create(&t, NULL, siloctl_probe_thread, &r), 0);
        sleep_ms(1000);
        ck_assert_int_eq(kill(h.pid, SIGCONT), 0);
        pthread_join(t, NULL);
        ck_assert_msg(r.status == 0, "siloctl exited %d: %s", r.status, r.out);
}
END_TEST

/* The soft fd limit is raised to the hard one before anything opens. */
START_TEST(soft_fd_limit_raised_to_hard)
{
        struct rlimit old, low;
        ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
        ck_assert_uint_gt(old.rlim_max, 256);
        low = (struct rlimit){256, old.rlim_max};
        ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
        int r = harness_start(&h, NULL, NULL);
        ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
        ck_assert_int_eq(r, 0);
        struct rlimit got;
        ck_assert_int_eq(prlimit(h.pid, RLIMIT_NOFILE, NULL, &got), 0);
        ck_assert_uint_eq(got.rlim_cur, old.rlim_max);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("connections");
        TCase *tc = tcase_create("connections");
        tcase_add_checked_fixture(tc, NULL, stop);
        tcase_set_timeout(tc, 300);
        tcase_add_test(tc, fd_exhaustion_does_not_leave_the_socket_deaf);
        tcase_add_test(tc, connections_are_bounded);
        tcase_add_test(tc, soft_fd_limit_raised_to_hard);
        tcase_add_test(tc, slow_handshake_is_waited_for);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
