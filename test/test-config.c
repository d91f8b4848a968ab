#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/server/config.h"
#include "common/cleanup.h"

static int parse(struct config *cfg, int argc, const char **argv)
{
        return config_parse(argc, (char **)argv, cfg);
}

START_TEST(defaults)
{
        const char *argv[] = {"silo"};
        struct config cfg;
        ck_assert_int_eq(parse(&cfg, 1, argv), CONFIG_RUN);
        ck_assert_str_eq(cfg.endpoint, "unix:///csi/csi.sock");
        ck_assert_str_eq(cfg.driver_name, "silo.csi.io");
        ck_assert_str_eq(cfg.kubelet_dir, "/var/lib/kubelet");
        ck_assert_uint_eq(cfg.max_concurrent, 8);
        ck_assert_uint_eq(cfg.timeout_ms, 15000);
        ck_assert_uint_eq(cfg.drain_ms, 10000);
        ck_assert_int_eq(cfg.mode, CONFIG_MODE_ALL);
        ck_assert_int_eq(cfg.scope, CONFIG_SCOPE_NODE);
        ck_assert_ptr_null(cfg.metrics_address);
        ck_assert(!cfg.skip_attach);
        ck_assert(cfg.node_id && *cfg.node_id);
        config_release(&cfg);
}
END_TEST

START_TEST(every_flag)
{
        const char *argv[] = {"silo",
                              "--endpoint",
                              "tcp://127.0.0.1:9000",
                              "--nodeid",
                              "n1",
                              "--driver-name",
                              "x.csi.io",
                              "--pool",
                              "/p",
                              "--pool-scope",
                              "shared",
                              "--mode",
                              "node",
                              "--max-concurrent-requests",
                              "3",
                              "--max-queued-requests",
                              "0",
                              "--timeout",
                              "500ms",
                              "--drain-timeout",
                              "3s",
                              "--skip-attach",
                              "--max-volumes-per-node",
                              "16",
                              "--kubelet-dir",
                              "/k",
                              "--metrics-address",
                              "127.0.0.1:9808",
                              "--overcommit-ratio",
                              "2.5",
                              "-v",
                              "-v"};
        struct config cfg;
        ck_assert_int_eq(parse(&cfg, sizeof(argv) / sizeof(argv[0]), argv), CONFIG_RUN);
        ck_assert_str_eq(cfg.endpoint, "tcp://127.0.0.1:9000");
        ck_assert_str_eq(cfg.node_id, "n1");
        ck_assert_str_eq(cfg.driver_name, "x.csi.io");
        ck_assert_str_eq(cfg.pool, "/p");
        ck_assert_int_eq(cfg.scope, CONFIG_SCOPE_SHARED);
        ck_assert_int_eq(cfg.mode, CONFIG_MODE_NODE);
        ck_assert_uint_eq(cfg.max_concurrent, 3);
        ck_assert_uint_eq(cfg.max_queued, 0);
        ck_assert_uint_eq(cfg.timeout_ms, 500);
        ck_assert_uint_eq(cfg.drain_ms, 3000);
        ck_assert(cfg.skip_attach);
        ck_assert_uint_eq(cfg.max_volumes_per_node, 16);
        ck_assert_str_eq(cfg.kubelet_dir, "/k");
        ck_assert_str_eq(cfg.metrics_address, "127.0.0.1:9808");
        ck_assert(cfg.overcommit_ratio > 2.4 && cfg.overcommit_ratio < 2.6);
        ck_assert_int_eq(cfg.log_level, LOG_DEBUG);
        config_release(&cfg);
}
END_TEST

static void assert_rejected(const char *flag, const char *value)
{
        const char *argv[] = {"silo", flag, value};
        struct config cfg;
        ck_assert_msg(parse(&cfg, value ? 3 : 2, argv) == -EINVAL, "%s %s accepted", flag,
                      value ? value : "");
}

START_TEST(bad_values)
{
        assert_rejected("--endpoint", "relative/path");
        assert_rejected("--endpoint", "unix://relative");
        assert_rejected("--endpoint", "tcp://nohostport");
        assert_rejected("--pool", "relative");
        assert_rejected("--pool", "/a/../b");
        assert_rejected("--kubelet-dir", "/var/..");
        assert_rejected("--pool", "/a/./b");
        assert_rejected("--pool", "");
        assert_rejected("--mode", "everything");
        assert_rejected("--pool-scope", "cluster");
        assert_rejected("--max-concurrent-requests", "0");
        assert_rejected("--max-concurrent-requests", "abc");
        assert_rejected("--max-concurrent-requests", "100000");
        assert_rejected("--timeout", "0s");
        assert_rejected("--timeout", "soon");
        assert_rejected("--drain-timeout", "0s");
        assert_rejected("--drain-timeout", "2h");
        assert_rejected("--metrics-address", "9808");
        assert_rejected("--metrics-address", "host:99999");
        assert_rejected("--metrics-address", "example.com:9808"); /* no lookups at start */
        assert_rejected("--overcommit-ratio", "-1");
        assert_rejected("--overcommit-ratio", "x");
        assert_rejected("--nodeid", "has space");
        assert_rejected("--driver-name", "a/b");
        assert_rejected("--no-such-flag", NULL);
        assert_rejected("--endpoint", NULL);
}
END_TEST

START_TEST(help_and_version_exit)
{
        const char *help[] = {"silo", "--help"};
        const char *version[] = {"silo", "--version"};
        struct config cfg;
        ck_assert_int_eq(parse(&cfg, 2, help), CONFIG_EXIT);
        ck_assert_int_eq(parse(&cfg, 2, version), CONFIG_EXIT);
}
END_TEST

START_TEST(directories_are_normalised)
{
        const char *argv[] = {"silo", "--pool", "/srv//pool/", "--kubelet-dir",
                              "/var/lib/kubelet/"};
        struct config cfg;
        ck_assert_int_eq(parse(&cfg, 5, argv), CONFIG_RUN);
        ck_assert_str_eq(cfg.pool, "/srv/pool");
        ck_assert_str_eq(cfg.kubelet_dir, "/var/lib/kubelet");
        config_release(&cfg);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("config");
        TCase *tc = tcase_create("parse");
        tcase_add_test(tc, defaults);
        tcase_add_test(tc, every_flag);
        tcase_add_test(tc, bad_values);
        tcase_add_test(tc, directories_are_normalised);
        tcase_add_test(tc, help_and_version_exit);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
