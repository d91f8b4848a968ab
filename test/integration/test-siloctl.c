/* siloctl against the real daemon: output formats and exit codes. */
#include <check.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "test/integration/harness.h"
#include "common/cleanup.h"

static struct harness h;

static void setup(void)
{
        ck_assert_int_eq(harness_start(&h, NULL, NULL), 0);
}

static void teardown(void)
{
        harness_stop(&h);
}

/* Only stderr of siloctl into out; returns the exit status. */
static int siloctl_err(const char *args, char *out, size_t size)
{
        char cmd[1024];
        snprintf(cmd, sizeof(cmd), "%s -e '%s' %s 2>&1 >/dev/null", SILOCTL_BIN, h.endpoint, args);
        FILE *p = popen(cmd, "r");
        ck_assert_ptr_nonnull(p);
        size_t n = fread(out, 1, size - 1, p);
        out[n] = '\0';
        int status = pclose(p);
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* True when text is one valid JSON document (python3's parser, strict about the grammar). */
static bool is_json(const char *text)
{
        FILE *p =
            popen("python3 -c 'import json,sys; json.loads(sys.stdin.read())' 2>/dev/null", "w");
        ck_assert_ptr_nonnull(p);
        fputs(text, p);
        int status = pclose(p);
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* "2026-12-04T18:04:31[.147287107]Z" followed by a quote. */
static bool is_rfc3339(const char *s)
{
        static const char form[] = "dddd-dd-ddTdd:dd:dd";
        for (size_t i = 0; i < sizeof(form) - 1; i++)
                if (form[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != form[i])
                        return false;
        s += sizeof(form) - 1;
        if (*s == '.')
                for (s++; isdigit((unsigned char)*s);)
                        s++;
        return s[0] == 'Z' && s[1] == '"';
}

static void write_file(const char *name, const char *text, char *path, size_t size)
{
        snprintf(path, size, "%s/%s", h.root, name);
        FILE *f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fputs(text, f);
        ck_assert_int_eq(fclose(f), 0);
}

START_TEST(probe_prints_ready)
{
        char out[4096];
        ck_assert_int_eq(harness_siloctl(h.endpoint, "identity probe", out, sizeof(out)), 0);
        ck_assert_str_eq(out, "ready\n");
        ck_assert_int_eq(harness_siloctl(h.endpoint, "-o json identity probe", out, sizeof(out)),
                         0);
        ck_assert_str_eq(out, "{\"ready\":true}\n");
}
END_TEST

START_TEST(info_text_and_json)
{
        char out[4096];
        ck_assert_int_eq(harness_siloctl(h.endpoint, "identity info", out, sizeof(out)), 0);
        ck_assert_msg(strncmp(out, "name=silo.csi.io vendor_version=" SILO_VERSION "+",
                              strlen("name=silo.csi.io vendor_version=" SILO_VERSION "+")) == 0,
                      "%s", out);
        ck_assert_ptr_eq(strchr(out, '\n'), out + strlen(out) - 1); /* one line */
        ck_assert_int_eq(harness_siloctl(h.endpoint, "-o json identity info", out, sizeof(out)), 0);
        ck_assert_ptr_nonnull(strstr(out, "{\"name\":\"silo.csi.io\",\"vendorVersion\":\""));
}
END_TEST

START_TEST(caps_lists_services)
{
        char out[4096];
        ck_assert_int_eq(harness_siloctl(h.endpoint, "-o json identity caps", out, sizeof(out)), 0);
        ck_assert_ptr_nonnull(strstr(out, "\"CONTROLLER_SERVICE\""));
        ck_assert_ptr_nonnull(strstr(out, "\"VOLUME_ACCESSIBILITY_CONSTRAINTS\""));
}
END_TEST

START_TEST(errors_have_codes_and_exit_status)
{
        char out[4096], ep[400];
        snprintf(ep, sizeof(ep), "unix://%s/nobody-here.sock", h.root);
        ck_assert_int_eq(harness_siloctl(ep, "identity probe", out, sizeof(out)), 14);
        ck_assert_ptr_nonnull(strstr(out, "UNAVAILABLE"));
        ck_assert_int_eq(harness_siloctl(h.endpoint, "identity nope", out, sizeof(out)), 64);
        ck_assert_ptr_nonnull(strstr(out, "unknown command 'identity nope'"));
        ck_assert_int_eq(harness_siloctl("relative", "identity probe", out, sizeof(out)), 64);
        ck_assert_ptr_nonnull(strstr(out, "invalid endpoint 'relative'"));
}
END_TEST

/* Repeated messages print as JSON arrays and maps as objects. */
START_TEST(json_lists_and_maps)
{
        char out[8192];
        ck_assert_int_eq(
            harness_siloctl(h.endpoint, "controller create pvc-a --size 8Mi", out, sizeof(out)), 0);
        ck_assert_int_eq(
            harness_siloctl(h.endpoint, "controller create pvc-b --size 8Mi", out, sizeof(out)), 0);
        ck_assert_int_eq(harness_siloctl(h.endpoint, "-o json controller list", out, sizeof(out)),
                         0);
        static const char prefix[] = "{\"entries\":[{\"volume\":{";
        ck_assert_msg(strncmp(out, prefix, sizeof(prefix) - 1) == 0, "%s", out);
        ck_assert_ptr_nonnull(strstr(out, "},{\"volume\":{"));
        ck_assert_ptr_nonnull(strstr(out, "\"volumeContext\":{\"fsType\":\"ext4\""));
        ck_assert_ptr_nonnull(strstr(out, "\"capacityBytes\":\"8388608\""));
}
END_TEST

/* An empty reply prints a confirmation in text (nothing with -q) and {} in JSON. */
START_TEST(empty_reply)
{
        char out[4096];
        ck_assert_int_eq(
            harness_siloctl(h.endpoint, "controller delete vol-0000000000000000", out, sizeof(out)),
            0);
        ck_assert_str_eq(out, "DeleteVolume vol-0000000000000000: OK\n");
        ck_assert_int_eq(harness_siloctl(h.endpoint, "-q controller delete vol-0000000000000000",
                                         out, sizeof(out)),
                         0);
        ck_assert_str_eq(out, "");
        ck_assert_int_eq(harness_siloctl(h.endpoint,
                                         "-o json controller delete vol-0000000000000000", out,
                                         sizeof(out)),
                         0);
        ck_assert_str_eq(out, "{}\n");
}
END_TEST

/* The proto3 JSON mapping: every field without presence at its zero value too ([] for an
 * empty list), Timestamps as RFC 3339, wrappers bare, 64-bit integers as strings. */
START_TEST(json_is_the_proto3_mapping)
{
        char out[8192], cmd[256];
        ck_assert_int_eq(harness_siloctl(h.endpoint, "-o json snapshot list", out, sizeof(out)), 0);
        ck_assert_str_eq(out, "{\"entries\":[],\"nextToken\":\"\"}\n");
        ck_assert_int_eq(
            harness_siloctl(h.endpoint, "-q controller create src --size 8Mi", out, sizeof(out)),
            0);
        ck_assert_int_eq(harness_siloctl(h.endpoint,
                                         "-o json snapshot create s1 vol-1f5e4ed0cd0ba571", out,
                                         sizeof(out)),
                         5);
        ck_assert_int_eq(harness_siloctl(h.endpoint, "-o json controller list", out, sizeof(out)),
                         0);
        ck_assert(is_json(out));
        char *id = strstr(out, "\"volumeId\":\"");
        ck_assert_ptr_nonnull(id);
        char vol[32] = "";
        sscanf(id + strlen("\"volumeId\":\""), "%24[a-z0-9-]", vol);
        ck_assert_ptr_nonnull(strstr(out, "\"publishedNodeIds\":[]"));
        ck_assert_ptr_nonnull(strstr(out, "\"abnormal\":false"));
        snprintf(cmd, sizeof(cmd), "-o json snapshot create s1 %s", vol);
        ck_assert_int_eq(harness_siloctl(h.endpoint, cmd, out, sizeof(out)), 0);
        ck_assert(is_json(out));
        /* "creationTime":"2026-12-04T18:04:31.147287107Z" */
        char *t = strstr(out, "\"creationTime\":\"");
        ck_assert_ptr_nonnull(t);
        ck_assert_msg(is_rfc3339(t + 16), "%s", t);
        ck_assert_ptr_nonnull(strstr(out, "\"readyToUse\":true"));
        ck_assert_ptr_nonnull(strstr(out, "\"sizeBytes\":\"8388608\""));
        ck_assert_int_eq(
            harness_siloctl(h.endpoint, "-o json controller capacity", out, sizeof(out)), 0);
        ck_assert(is_json(out));
        ck_assert_ptr_nonnull(strstr(out, "\"minimumVolumeSize\":\"1048576\""));
        ck_assert_ptr_null(strstr(out, "\"value\""));
        ck_assert_int_eq(harness_siloctl(h.endpoint, "-o json identity caps", out, sizeof(out)), 0);
        ck_assert(is_json(out));
        ck_assert_int_eq(harness_siloctl(h.endpoint, "-o json controller caps", out, sizeof(out)),
                         0);
        ck_assert(is_json(out));
}
END_TEST

/* Errors: JSON on stderr in JSON mode; the exit status is the gRPC code. */
START_TEST(json_errors)
{
        char out[4096];
        ck_assert_int_eq(
            siloctl_err("-o json controller get vol-0000000000000000", out, sizeof(out)), 5);
        ck_assert_str_eq(out, "{\"code\":\"NOT_FOUND\",\"message\":\"volume 'vol-0000000000000000' "
                              "not found\"}\n");
        ck_assert_int_eq(siloctl_err("-o json controller create x --size 1.5Gi", out, sizeof(out)),
                         64);
        ck_assert(is_json(out));
        ck_assert_ptr_nonnull(strstr(out, "\"code\":\"USAGE\""));
        ck_assert_ptr_nonnull(strstr(out, "sizes are whole numbers"));
}
END_TEST

/* --paging follows next_token; several IDs per call; treat-as-success flags. */
START_TEST(paging_ids_and_idempotence)
{
        char out[16384];
        ck_assert_int_eq(
            harness_siloctl(h.endpoint, "-q controller create a --size 8Mi", out, sizeof(out)), 0);
        ck_assert_int_eq(
            harness_siloctl(h.endpoint, "-q controller create b --size 8Mi", out, sizeof(out)), 0);
        ck_assert_int_eq(
            harness_siloctl(h.endpoint, "controller create c --size 8Mi", out, sizeof(out)), 0);
        char c_id[32] = "";
        ck_assert_int_eq(sscanf(strstr(out, "volume_id=") + 10, "%24[a-z0-9-]", c_id), 1);
        ck_assert_int_eq(harness_siloctl(h.endpoint, "-o json controller list --max 1 --paging",
                                         out, sizeof(out)),
                         0);
        ck_assert(is_json(out));
        int n = 0;
        for (const char *p = out; (p = strstr(p, "\"volumeId\"")); p++)
                n++;
        ck_assert_int_eq(n, 3);
        ck_assert_ptr_nonnull(strstr(out, "],\"nextToken\":\"\"}"));
        ck_assert_int_eq(
            harness_siloctl(h.endpoint, "controller list --max 1 --paging", out, sizeof(out)), 0);
        n = 0;
        for (const char *p = out; (p = strchr(p, '\n')); p++)
                n++;
        ck_assert_int_eq(n, 3); /* one line per volume */
        char cmd[256];
        snprintf(cmd, sizeof(cmd), "controller get %s vol-0000000000000000 %s", c_id, c_id);
        ck_assert_int_eq(harness_siloctl(h.endpoint, cmd, out, sizeof(out)), 5);
        ck_assert_int_eq(strstr(strstr(out, c_id) + 1, c_id) != NULL, 1); /* both answered */
        ck_assert_ptr_nonnull(strstr(out, "NOT_FOUND"));
        ck_assert_int_eq(
            harness_siloctl(h.endpoint, "controller create c --size 16Mi", out, sizeof(out)), 6);
        ck_assert_int_eq(harness_siloctl(h.endpoint,
                                         "--already-exists-ok controller create c --size 16Mi", out,
                                         sizeof(out)),
                         0);
        ck_assert_int_eq(harness_siloctl(h.endpoint,
                                         "controller get vol-0000000000000000 --not-found-ok", out,
                                         sizeof(out)),
                         0);
}
END_TEST

/* --cap with every access mode; validate says no with exit 65; the daemon names modes. */
START_TEST(capabilities)
{
        char out[8192], cmd[512];
        ck_assert_int_eq(
            harness_siloctl(h.endpoint,
                            "controller create m --size 8Mi --cap SINGLE_NODE_MULTI_WRITER,"
                            "mount,ext4 --cap single_node_single_writer,mount",
                            out, sizeof(out)),
            0);
        char id[32] = "";
        ck_assert_int_eq(sscanf(strstr(out, "volume_id=") + 10, "%24[a-z0-9-]", id), 1);
        snprintf(cmd, sizeof(cmd), "controller validate %s --cap rwx,mount,ext4 --cap rwop,mount",
                 id);
        ck_assert_int_eq(harness_siloctl(h.endpoint, cmd, out, sizeof(out)), 0);
        ck_assert_ptr_nonnull(strstr(out, "confirmed "));
        ck_assert_ptr_nonnull(strstr(out, "SINGLE_NODE_MULTI_WRITER"));
        snprintf(cmd, sizeof(cmd), "controller validate %s --cap MULTI_NODE_MULTI_WRITER,mount",
                 id);
        ck_assert_int_eq(harness_siloctl(h.endpoint, cmd, out, sizeof(out)), 65);
        ck_assert_ptr_nonnull(strstr(out, "not confirmed: "));
        static const char *const modes[] = {
            "SINGLE_NODE_WRITER",       "SINGLE_NODE_READER_ONLY", "MULTI_NODE_READER_ONLY",
            "MULTI_NODE_SINGLE_WRITER", "MULTI_NODE_MULTI_WRITER", "SINGLE_NODE_SINGLE_WRITER",
            "SINGLE_NODE_MULTI_WRITER",
        };
        for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
                snprintf(cmd, sizeof(cmd), "--debug controller validate %s --cap %s,block", id,
                         modes[i]);
                harness_siloctl(h.endpoint, cmd, out, sizeof(out));
                ck_assert_msg(strstr(out, modes[i]) != NULL, "%s: %s", modes[i], out);
        }
        /* node scope: MULTI_NODE_READER_ONLY is refused, by name */
        ck_assert_int_eq(harness_siloctl(h.endpoint,
                                         "controller create r --size 8Mi --cap rox,mount", out,
                                         sizeof(out)),
                         3);
        ck_assert_msg(strstr(out, "access mode MULTI_NODE_READER_ONLY is not supported") != NULL,
                      "%s", out);
}
END_TEST

/* Secrets, contexts and metadata from flags and files reach the request; --debug logs it
 * with secrets hidden. */
START_TEST(request_options_and_debug)
{
        char out[8192], secrets[512], ctx[512], cmd[1600];
        write_file("secrets", "# test\nuser=admin\r\npassword=hunter2\n\n", secrets,
                   sizeof(secrets));
        write_file("ctx", "a=b\n", ctx, sizeof(ctx));
        ck_assert_int_eq(
            harness_siloctl(h.endpoint, "controller create v --size 8Mi", out, sizeof(out)), 0);
        char id[32] = "";
        ck_assert_int_eq(sscanf(strstr(out, "volume_id=") + 10, "%24[a-z0-9-]", id), 1);
        snprintf(cmd, sizeof(cmd),
                 "--debug -m x-request-id=42 --secrets-file %s --secret=token=t0 "
                 "controller validate %s --vol-context-file %s --vol-context c=d",
                 secrets, id, ctx);
        ck_assert_int_eq(harness_siloctl(h.endpoint, cmd, out, sizeof(out)), 0);
        ck_assert_ptr_nonnull(strstr(out, "siloctl: > metadata x-request-id=42"));
        ck_assert_ptr_nonnull(
            strstr(out, "siloctl: > /csi.v1.Controller/ValidateVolumeCapabilities {"));
        ck_assert_ptr_nonnull(strstr(out, "\"volumeContext\":{\"a\":\"b\",\"c\":\"d\"}"));
        ck_assert_ptr_nonnull(
            strstr(out, "\"secrets\":{\"user\":\"***\",\"password\":\"***\",\"token\":\"***\"}"));
        ck_assert_ptr_null(strstr(out, "hunter2"));
        ck_assert_ptr_nonnull(strstr(out, "siloctl: < OK {\"confirmed\":"));
        snprintf(cmd, sizeof(cmd), "--secrets-file %s/none controller caps", h.root);
        ck_assert_int_eq(harness_siloctl(h.endpoint, cmd, out, sizeof(out)), 64);
        ck_assert_ptr_nonnull(strstr(out, "cannot read the file"));
}
END_TEST

int main(void)
{
        Suite *s = suite_create("siloctl");
        TCase *tc = tcase_create("identity");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 300);
        tcase_add_test(tc, probe_prints_ready);
        tcase_add_test(tc, info_text_and_json);
        tcase_add_test(tc, caps_lists_services);
        tcase_add_test(tc, errors_have_codes_and_exit_status);
        tcase_add_test(tc, json_lists_and_maps);
        tcase_add_test(tc, empty_reply);
        tcase_add_test(tc, json_is_the_proto3_mapping);
        tcase_add_test(tc, json_errors);
        tcase_add_test(tc, paging_ids_and_idempotence);
        tcase_add_test(tc, capabilities);
        tcase_add_test(tc, request_options_and_debug);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
