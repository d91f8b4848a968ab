/* Unit tests: histogram, Prometheus text, address parsing, and the HTTP endpoint scraped over
 * a real socket. Attaches a loop device to a pool file to check the pool gauges.
 * ctest-labels: privileged */
#include <arpa/inet.h>
#include <check.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "common/server/config.h"
#include "common/err.h"
#include "common/metrics/histogram.h"
#include "common/metrics/metrics.h"
#include "common/netaddr.h"
#include "common/metrics/opstats.h"
#include "common/metrics/poolstat.h"
#include "common/silo.h"
#include "common/cleanup.h"

static char root[64];
static char pool[128];
static struct config cfg;
static struct silo silo;

static void make_file(const char *rel, off_t size, size_t written)
{
        char path[256];
        snprintf(path, sizeof(path), "%s/%s", pool, rel);
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(ftruncate(fd, size), 0);
        static const char block[4096] = {1};
        for (size_t off = 0; off < written; off += sizeof(block))
                ck_assert_int_eq(pwrite(fd, block, sizeof(block), (off_t)off), sizeof(block));
        ck_assert_int_eq(fsync(fd), 0);
}

static void setup(void)
{
        snprintf(root, sizeof(root), "/tmp/silo-metrics-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(root));
        snprintf(pool, sizeof(pool), "%s/pool", root);
        ck_assert_int_eq(mkdir(pool, 0700), 0);
        char dir[200];
        snprintf(dir, sizeof(dir), "%s/volumes", pool);
        ck_assert_int_eq(mkdir(dir, 0700), 0);
        snprintf(dir, sizeof(dir), "%s/snapshots", pool);
        ck_assert_int_eq(mkdir(dir, 0700), 0);
        cfg = (struct config){.pool = pool};
        silo = (struct silo){.cfg = &cfg};
}

static void teardown(void)
{
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        ck_assert_int_eq(system(cmd), 0);
}

/* Plain HTTP/1.0 GET over a socket; returns the status code and the body in buf. */
static int http_get(unsigned port, const char *method, const char *path, char *buf, size_t size)
{
        _cleanup_close_ int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ck_assert_int_ge(fd, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        char req[256];
        int n =
            snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\nHost: localhost\r\n\r\n", method, path);
        ck_assert_int_eq(write(fd, req, (size_t)n), n);
        size_t len = 0;
        ssize_t r;
        while (len + 1 < size && (r = read(fd, buf + len, size - 1 - len)) > 0)
                len += (size_t)r;
        buf[len] = '\0';
        ck_assert_int_eq(strncmp(buf, "HTTP/1.", 7), 0);
        int code = (int)strtol(buf + 9, NULL, 10); /* "HTTP/1.x NNN" */
        char *body = strstr(buf, "\r\n\r\n");
        ck_assert_ptr_nonnull(body);
        memmove(buf, body + 4, strlen(body + 4) + 1);
        return code;
}

/* The value of the sample line that starts with `series ` (name plus labels). */
static double sample_value(const char *text, const char *series)
{
        size_t n = strlen(series);
        for (const char *p = text; (p = strstr(p, series)); p += n)
                if ((p == text || p[-1] == '\n') && p[n] == ' ')
                        return strtod(p + n + 1, NULL);
        return -1;
}

START_TEST(histogram_buckets)
{
        struct histogram h = {0};
        histogram_observe(&h, 0.00005); /* <= 0.1 ms */
        histogram_observe(&h, 0.0001);  /* bounds are inclusive */
        histogram_observe(&h, 0.003);   /* <= 5 ms */
        histogram_observe(&h, 100);     /* +Inf */
        histogram_observe(&h, -1);      /* clamped to 0 */
        struct histogram_snapshot s;
        histogram_snapshot(&h, &s);
        ck_assert_uint_eq(s.count, 5);
        ck_assert_uint_eq(s.cumulative[0], 3);
        ck_assert_uint_eq(s.cumulative[4], 3); /* 2.5 ms */
        ck_assert_uint_eq(s.cumulative[5], 4); /* 5 ms */
        ck_assert_uint_eq(s.cumulative[HISTOGRAM_N_BOUNDS - 1], 4);
        ck_assert_uint_eq(s.cumulative[HISTOGRAM_N_BOUNDS], 5);
        ck_assert_double_eq_tol(s.sum_seconds, 100.00315, 1e-6);
}
END_TEST

START_TEST(opstats_keys)
{
        opstats_observe("csi.v1.Identity", "Probe", ERR_OK, 0.0002);
        opstats_observe("csi.v1.Identity", "Probe", ERR_OK, 0.0003);
        opstats_observe("csi.v1.Identity", "Probe", ERR_UNAVAILABLE, 0.0003);
        ck_assert_uint_eq(opstats_count("csi.v1.Identity", "Probe", ERR_OK), 2);
        ck_assert_uint_eq(opstats_count("csi.v1.Identity", "Probe", ERR_UNAVAILABLE), 1);
        ck_assert_uint_eq(opstats_count("csi.v1.Identity", "GetPluginInfo", ERR_OK), 0);
        /* Made-up method names (UNIMPLEMENTED) end up in one shared series... */
        char name[32];
        for (int i = 0; i < OPSTATS_SLOTS; i++) {
                snprintf(name, sizeof(name), "Bogus%d", i);
                opstats_observe("csi.v1.Identity", name, ERR_UNIMPLEMENTED, 0.001);
        }
        ck_assert_uint_ge(opstats_count("", "unknown", ERR_UNIMPLEMENTED), OPSTATS_SLOTS / 2);
        /* ... so real methods still get theirs. */
        opstats_observe("csi.v1.Node", "NodeGetInfo", ERR_OK, 0.001);
        ck_assert_uint_eq(opstats_count("csi.v1.Node", "NodeGetInfo", ERR_OK), 1);
        /* The table is bounded: beyond it calls are dropped, never crash. */
        for (int i = 0; i < OPSTATS_SLOTS + 10; i++) {
                snprintf(name, sizeof(name), "M%d", i);
                opstats_observe("x", name, ERR_OK, 0.001);
        }
        ck_assert_uint_eq(opstats_count("csi.v1.Identity", "Probe", ERR_OK), 2);
}
END_TEST

START_TEST(escape_labels)
{
        char buf[32];
        ck_assert_str_eq(promtext_escape("a\"b\\c\nd", buf, sizeof(buf)), "a\\\"b\\\\c\\nd");
        ck_assert_str_eq(promtext_escape("abcdefgh", buf, 5), "ab");
}
END_TEST

START_TEST(parse_address)
{
        struct sockaddr_storage sa;
        socklen_t len;
        ck_assert_int_eq(netaddr_parse("metrics address", "127.0.0.1:9808", &sa, &len), 0);
        ck_assert_int_eq(sa.ss_family, AF_INET);
        ck_assert_uint_eq(ntohs(((struct sockaddr_in *)&sa)->sin_port), 9808);
        ck_assert_int_eq(netaddr_parse("metrics address", "[::1]:80", &sa, &len), 0);
        ck_assert_int_eq(sa.ss_family, AF_INET6);
        ck_assert_int_eq(netaddr_parse("metrics address", ":9808", &sa, &len), 0);
        ck_assert_int_eq(netaddr_parse("metrics address", "localhost:1", &sa, &len), 0);
        const char *junk[] = {"",          "9808",           "127.0.0.1",     "127.0.0.1:",
                              "1.2.3.4:x", "1.2.3.4:-1",     "1.2.3.4:65536", "::1:80",
                              "[::1:80",   "example.com:80", "1.2.3.4:80 "};
        for (size_t i = 0; i < ARRAY_SIZE(junk); i++)
                ck_assert_msg(netaddr_parse("metrics address", junk[i], &sa, &len) == -EINVAL, "%s",
                              junk[i]);
        struct metrics *m = (struct metrics *)1;
        ck_assert_int_eq(metrics_start("bogus", &silo, NULL, &m), -EINVAL);
        ck_assert_ptr_null(m);
        ck_assert_int_eq(metrics_start(NULL, &silo, NULL, &m), 0);
        ck_assert_ptr_null(m);
        ck_assert_int_eq(metrics_start("", &silo, NULL, &m), 0);
        ck_assert_ptr_null(m);
}
END_TEST

START_TEST(port_in_use)
{
        struct metrics *a = NULL, *b = NULL;
        ck_assert_int_eq(metrics_start("127.0.0.1:0", &silo, NULL, &a), 0);
        char addr[64];
        snprintf(addr, sizeof(addr), "127.0.0.1:%u", metrics_port(a));
        ck_assert_int_eq(metrics_start(addr, &silo, NULL, &b), -EADDRINUSE);
        ck_assert_ptr_null(b);
        metrics_stop(a);
        metrics_stop(NULL);
}
END_TEST

START_TEST(scrape_counts_calls)
{
        static char body[1 << 20];
        struct metrics *m = NULL;
        ck_assert_int_eq(metrics_start("127.0.0.1:0", &silo, NULL, &m), 0);
        unsigned port = metrics_port(m);
        const char *series = "silo_operations_seconds_count{method_name=\"/csi.v1.Identity/"
                             "Probe\",grpc_status_code=\"OK\"}";

        metrics_observe("csi.v1.Identity", "Probe", ERR_OK, 0.0002);
        ck_assert_int_eq(http_get(port, "GET", "/metrics", body, sizeof(body)), 200);
        ck_assert_double_eq(sample_value(body, series), 1);
        ck_assert_ptr_nonnull(strstr(body, "# TYPE silo_operations_seconds histogram\n"));
        ck_assert_ptr_nonnull(strstr(body, "silo_build_info{version=\"" SILO_VERSION "\""));
        ck_assert_double_gt(sample_value(body, "process_resident_memory_bytes"), 0);
        ck_assert_double_gt(sample_value(body, "process_open_fds"), 2);

        for (int i = 0; i < 5; i++)
                metrics_observe("csi.v1.Identity", "Probe", ERR_OK, 0.02);
        ck_assert_int_eq(http_get(port, "GET", "/metrics", body, sizeof(body)), 200);
        ck_assert_double_eq(sample_value(body, series), 6);
        const char *le10ms = "silo_operations_seconds_bucket{method_name=\"/csi.v1.Identity/"
                             "Probe\",grpc_status_code=\"OK\",le=\"0.01\"}";
        ck_assert_double_eq(sample_value(body, le10ms), 1);
        metrics_stop(m);
}
END_TEST

START_TEST(healthz_follows_ready)
{
        static char body[4096];
        struct metrics *m = NULL;
        ck_assert_int_eq(metrics_start("127.0.0.1:0", &silo, NULL, &m), 0);
        unsigned port = metrics_port(m);
        ck_assert_int_eq(http_get(port, "GET", "/healthz", body, sizeof(body)), 503);
        atomic_store(&silo.ready, true);
        ck_assert_int_eq(http_get(port, "GET", "/healthz", body, sizeof(body)), 200);
        ck_assert_str_eq(body, "ok\n");
        ck_assert_int_eq(http_get(port, "GET", "/nope", body, sizeof(body)), 404);
        ck_assert_int_eq(http_get(port, "DELETE", "/metrics", body, sizeof(body)), 405);
        metrics_stop(m);
}
END_TEST

static void collect_test(struct promtext *w, void *userdata)
{
        promtext_family(w, "silo_test_gauge", "gauge", "Test.");
        promtext_sample_u64(w, "silo_test_gauge", "kind=\"x\"", *(unsigned *)userdata);
}

START_TEST(collectors_contribute)
{
        static char body[1 << 20];
        static unsigned value = 42;
        struct metrics *m = NULL;
        ck_assert_int_eq(metrics_start("127.0.0.1:0", &silo, NULL, &m), 0);
        ck_assert_int_eq(metrics_add_collector(collect_test, &value), 0);
        ck_assert_int_eq(http_get(metrics_port(m), "GET", "/metrics", body, sizeof(body)), 200);
        ck_assert_double_eq(sample_value(body, "silo_test_gauge{kind=\"x\"}"), 42);
        metrics_remove_collector(collect_test, &value);
        ck_assert_int_eq(http_get(metrics_port(m), "GET", "/metrics", body, sizeof(body)), 200);
        ck_assert_ptr_null(strstr(body, "silo_test_gauge"));
        metrics_stop(m);
}
END_TEST

/* Binds a loop device to path with autoclear: it detaches when fd closes. */
static int loop_attach(const char *path)
{
        _cleanup_close_ int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
        ck_assert_int_ge(ctl, 0);
        int nr = ioctl(ctl, LOOP_CTL_GET_FREE);
        ck_assert_int_ge(nr, 0);
        char dev[64];
        snprintf(dev, sizeof(dev), "/dev/loop%d", nr);
        int fd = open(dev, O_RDWR | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        _cleanup_close_ int backing = open(path, O_RDWR | O_CLOEXEC);
        ck_assert_int_ge(backing, 0);
        struct loop_config lc = {.fd = (unsigned)backing};
        lc.info.lo_flags = LO_FLAGS_AUTOCLEAR;
        ck_assert_int_eq(ioctl(fd, LOOP_CONFIGURE, &lc), 0);
        return fd;
}

START_TEST(pool_gauges)
{
        make_file("volumes/vol-a.img", 1 << 20, 8192);
        make_file("volumes/vol-b.img", 2 << 20, 0);
        make_file("volumes/vol-a.meta", 100, 0);
        make_file("snapshots/snap-a.img", 1 << 20, 4096);
        char path[256];
        snprintf(path, sizeof(path), "%s/volumes/vol-a.img", pool);
        _cleanup_close_ int loop = loop_attach(path);

        struct poolstat st;
        ck_assert_int_eq(poolstat_read(pool, &st), 0);
        ck_assert_uint_eq(st.volumes, 2);
        ck_assert_uint_eq(st.snapshots, 1);
        ck_assert_uint_eq(st.provisioned_bytes, 3 << 20);
        ck_assert_uint_ge(st.used_bytes, 12288);
        ck_assert_uint_lt(st.used_bytes, 1 << 20);
        ck_assert_uint_eq(st.loop_devices, 1);
        ck_assert_uint_eq(st.volumes_attached, 1);
        ck_assert_uint_gt(st.capacity_bytes, 0);

        static char body[1 << 20];
        struct metrics *m = NULL;
        ck_assert_int_eq(metrics_start("127.0.0.1:0", &silo, NULL, &m), 0);
        ck_assert_int_eq(http_get(metrics_port(m), "GET", "/metrics", body, sizeof(body)), 200);
        ck_assert_double_eq(sample_value(body, "silo_volumes{state=\"attached\"}"), 1);
        ck_assert_double_eq(sample_value(body, "silo_volumes{state=\"detached\"}"), 1);
        ck_assert_double_eq(sample_value(body, "silo_snapshots{state=\"ready\"}"), 1);
        ck_assert_double_eq(sample_value(body, "silo_loop_devices_attached"), 1);
        ck_assert_double_eq(sample_value(body, "silo_pool_provisioned_bytes"), 3 << 20);
        metrics_stop(m);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("metrics");
        TCase *tc = tcase_create("metrics");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, histogram_buckets);
        tcase_add_test(tc, opstats_keys);
        tcase_add_test(tc, escape_labels);
        tcase_add_test(tc, parse_address);
        tcase_add_test(tc, port_in_use);
        tcase_add_test(tc, scrape_counts_calls);
        tcase_add_test(tc, healthz_follows_ready);
        tcase_add_test(tc, collectors_contribute);
        tcase_add_test(tc, pool_gauges);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
