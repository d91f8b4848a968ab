/* The metrics endpoint on the real binary: counters move with real calls, load and build
 * gauges are there, /healthz answers, a junk --metrics-address stops the daemon. */
#include <arpa/inet.h>
#include <check.h>
#include <csi.pb-c.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "test/integration/harness.h"
#include "common/cleanup.h"

static struct harness h;
static unsigned port;
static char body[1 << 20];

static void start(void)
{
        const char *args[] = {"--metrics-address", "127.0.0.1:0", NULL};
        ck_assert_int_eq(harness_start(&h, args, NULL), 0);
        port = harness_metrics_port(&h);
        ck_assert_uint_ne(port, 0);
}

static void stop(void)
{
        harness_stop(&h);
}

/* HTTP/1.0 GET over a plain socket; returns the status code, body in `body`. */
static int http_get(const char *path)
{
        _cleanup_close_ int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        char req[128];
        int n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\n\r\n", path);
        ck_assert_int_eq(write(fd, req, (size_t)n), n);
        size_t len = 0;
        ssize_t r;
        while (len + 1 < sizeof(body) && (r = read(fd, body + len, sizeof(body) - 1 - len)) > 0)
                len += (size_t)r;
        body[len] = '\0';
        ck_assert_int_eq(strncmp(body, "HTTP/1.", 7), 0);
        int code = (int)strtol(body + 9, NULL, 10); /* "HTTP/1.x NNN" */
        char *start_of_body = strstr(body, "\r\n\r\n");
        ck_assert_ptr_nonnull(start_of_body);
        memmove(body, start_of_body + 4, strlen(start_of_body + 4) + 1);
        return code;
}

/* Value of the sample `series` in the last scrape; -1 when absent. */
static double sample(const char *series)
{
        size_t n = strlen(series);
        for (const char *p = body; (p = strstr(p, series)); p += n)
                if ((p == body || p[-1] == '\n') && p[n] == ' ')
                        return strtod(p + n + 1, NULL);
        return -1;
}

static double scrape(const char *series)
{
        ck_assert_int_eq(http_get("/metrics"), 200);
        return sample(series);
}

static void call(const char *path, const ProtobufCMessage *req,
                 const ProtobufCMessageDescriptor *desc)
{
        struct client_result res;
        ck_assert_int_eq(harness_call(&h, path, req, desc, &res), 0);
        ck_assert_int_eq(res.status, ERR_OK);
        client_result_release(&res);
}

#define PROBE_OK                                                                                   \
        "silo_operations_seconds_count{method_name=\"/csi.v1.Identity/Probe\","                    \
        "grpc_status_code=\"OK\"}"
#define INFO_OK                                                                                    \
        "silo_operations_seconds_count{method_name=\"/csi.v1.Identity/GetPluginInfo\","            \
        "grpc_status_code=\"OK\"}"

START_TEST(counters_follow_calls)
{
        double probes = scrape(PROBE_OK), infos = sample(INFO_OK);
        ck_assert_double_ge(probes, 1); /* the harness probed until ready */
        Csi__V1__ProbeRequest probe = CSI__V1__PROBE_REQUEST__INIT;
        Csi__V1__GetPluginInfoRequest info = CSI__V1__GET_PLUGIN_INFO_REQUEST__INIT;
        for (int i = 0; i < 3; i++)
                call("/csi.v1.Identity/Probe", &probe.base, &csi__v1__probe_response__descriptor);
        for (int i = 0; i < 2; i++)
                call("/csi.v1.Identity/GetPluginInfo", &info.base,
                     &csi__v1__get_plugin_info_response__descriptor);
        ck_assert_double_eq(scrape(PROBE_OK), probes + 3);
        ck_assert_double_eq(sample(INFO_OK), (infos < 0 ? 0 : infos) + 2);
        ck_assert_double_eq(sample("silo_operations_seconds_bucket{method_name=\"/csi.v1.Identity/"
                                   "GetPluginInfo\",grpc_status_code=\"OK\",le=\"+Inf\"}"),
                            sample(INFO_OK));
}
END_TEST

START_TEST(gauges_present)
{
        ck_assert_int_eq(http_get("/metrics"), 200);
        ck_assert_double_eq(sample("silo_rpc_workers"), 8); /* --max-concurrent-requests */
        ck_assert_double_eq(sample("silo_rpc_in_flight"), 0);
        ck_assert_double_eq(sample("silo_rpc_queued"), 0);
        ck_assert_double_eq(sample("silo_ready"), 1);
        ck_assert_double_gt(sample("process_resident_memory_bytes"), 0);
        ck_assert_double_gt(sample("process_open_fds"), 0);
        ck_assert_double_gt(sample("silo_pool_capacity_bytes"), 0);
        ck_assert_double_eq(sample("silo_loop_devices_attached"), 0);
        ck_assert_ptr_nonnull(strstr(body, "\nsilo_build_info{version=\""));
}
END_TEST

START_TEST(healthz_ok_when_ready)
{
        ck_assert_int_eq(http_get("/healthz"), 200);
        ck_assert_str_eq(body, "ok\n");
        ck_assert_int_eq(http_get("/elsewhere"), 404);
}
END_TEST

START_TEST(junk_address_refused)
{
        /* Refused by the flag parser, which uses the endpoint's own parser: a host name (no
         * lookups at start-up) as much as junk. */
        struct harness bad;
        const char *args[] = {"--metrics-address", "example.com:9808", NULL};
        ck_assert_int_lt(harness_start(&bad, args, NULL), 0);
        ck_assert(harness_log_contains(&bad, "invalid metrics address"));
        harness_stop(&bad);
        const char *junk[] = {"--metrics-address", "not-an-address", NULL};
        ck_assert_int_lt(harness_start(&bad, junk, NULL), 0);
        ck_assert(harness_log_contains(&bad, "invalid metrics address"));
        harness_stop(&bad);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("metrics-endpoint");
        TCase *tc = tcase_create("endpoint");
        tcase_add_checked_fixture(tc, start, stop);
        tcase_add_test(tc, counters_follow_calls);
        tcase_add_test(tc, gauges_present);
        tcase_add_test(tc, healthz_ok_when_ready);
        suite_add_tcase(s, tc);
        TCase *bad = tcase_create("bad-address");
        tcase_add_test(bad, junk_address_refused);
        suite_add_tcase(s, bad);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
