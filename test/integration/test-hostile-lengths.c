/* Over-long ids, names and strings in every position a request can carry them, on the real
 * binary: each answers a clean status that names the field, and the daemon stays alive (a
 * content source id used to be copied unbounded into a fixed stack buffer). */
#include <check.h>
#include <csi.pb-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/id.h"
#include "test/integration/harness-ctl.h"
#include "common/cleanup.h"

static struct harness h;

static void start(void)
{
        ck_assert_int_eq(harness_start(&h, NULL, NULL), 0);
}

static void stop(void)
{
        harness_ctl_stop(&h);
}

static char *long_id(size_t n)
{
        char *s = malloc(n + 1);
        ck_assert_ptr_nonnull(s);
        memset(s, 'a', n);
        s[n] = '\0';
        return s;
}

static void assert_alive(void)
{
        Csi__V1__ProbeRequest req = CSI__V1__PROBE_REQUEST__INIT;
        ck_assert_int_eq(harness_ctl_call(&h, "Identity", "Probe", &req.base,
                                          &csi__v1__probe_response__descriptor, NULL, NULL, 0),
                         ERR_OK);
}

static enum err_status create_from(const char *snap, const char *vol, char *msg, size_t size)
{
        Csi__V1__VolumeCapability__MountVolume mount =
            CSI__V1__VOLUME_CAPABILITY__MOUNT_VOLUME__INIT;
        Csi__V1__VolumeCapability__AccessMode am = CSI__V1__VOLUME_CAPABILITY__ACCESS_MODE__INIT;
        Csi__V1__VolumeCapability cap = CSI__V1__VOLUME_CAPABILITY__INIT;
        Csi__V1__VolumeCapability *caps[1] = {&cap};
        am.mode = HCTL_SNW;
        cap.access_mode = &am;
        cap.access_type_case = CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_MOUNT;
        cap.mount = &mount;
        Csi__V1__VolumeContentSource src = CSI__V1__VOLUME_CONTENT_SOURCE__INIT;
        Csi__V1__VolumeContentSource__SnapshotSource ss =
            CSI__V1__VOLUME_CONTENT_SOURCE__SNAPSHOT_SOURCE__INIT;
        Csi__V1__VolumeContentSource__VolumeSource vs =
            CSI__V1__VOLUME_CONTENT_SOURCE__VOLUME_SOURCE__INIT;
        if (snap) {
                ss.snapshot_id = (char *)snap;
                src.type_case = CSI__V1__VOLUME_CONTENT_SOURCE__TYPE_SNAPSHOT;
                src.snapshot = &ss;
        } else {
                vs.volume_id = (char *)vol;
                src.type_case = CSI__V1__VOLUME_CONTENT_SOURCE__TYPE_VOLUME;
                src.volume = &vs;
        }
        Csi__V1__CreateVolumeRequest req = CSI__V1__CREATE_VOLUME_REQUEST__INIT;
        req.name = (char *)"pvc-long-source";
        req.n_volume_capabilities = 1;
        req.volume_capabilities = caps;
        req.volume_content_source = &src;
        return harness_ctl_call(&h, "Controller", "CreateVolume", &req.base,
                                &csi__v1__create_volume_response__descriptor, NULL, msg, size);
}

START_TEST(long_content_source_ids)
{
        static const size_t lens[] = {ID_MAX + 1, 1000, 64 * 1024}; /* one past the bound */
        for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
                _cleanup_free_ char *id = long_id(lens[i]);
                char msg[512];
                enum err_status st = create_from(id, NULL, msg, sizeof(msg));
                ck_assert_msg(st == ERR_NOT_FOUND, "snapshot source of %zu bytes: %s (%s)", lens[i],
                              err_status_name(st), msg);
                ck_assert_msg(strstr(msg, "volume_content_source.snapshot.snapshot_id"), "%s", msg);
                assert_alive();
                st = create_from(NULL, id, msg, sizeof(msg));
                ck_assert_msg(st == ERR_NOT_FOUND, "volume source of %zu bytes: %s (%s)", lens[i],
                              err_status_name(st), msg);
                ck_assert_msg(strstr(msg, "volume_content_source.volume.volume_id"), "%s", msg);
                assert_alive();
        }
        ck_assert(!harness_log_contains(&h, "AddressSanitizer"));
}
END_TEST

int main(void)
{
        Suite *s = suite_create("hostile-lengths");
        TCase *tc = tcase_create("lengths");
        tcase_add_checked_fixture(tc, start, stop);
        tcase_add_test(tc, long_content_source_ids);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
