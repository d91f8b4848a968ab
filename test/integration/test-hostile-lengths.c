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

/* Sends req to /csi.v1.<method> and checks the status and that the message names field. */
static void expect(const char *method, const ProtobufCMessage *req,
                   const ProtobufCMessageDescriptor *out, enum err_status want, const char *field)
{
        char path[128], msg[512];
        snprintf(path, sizeof(path), "/csi.v1.%s", method);
        struct client_result res;
        ck_assert_int_eq(harness_call(&h, path, req, out, &res), 0);
        snprintf(msg, sizeof(msg), "%s", res.message ? res.message : "");
        ck_assert_msg(res.status == want, "%s: %s, want %s (%s)", method,
                      err_status_name(res.status), err_status_name(want), msg);
        if (field)
                ck_assert_msg(strstr(msg, field), "%s: message does not name %s: %s", method, field,
                              msg);
        client_result_release(&res);
        assert_alive();
}

START_TEST(long_ids_name_the_field)
{
        _cleanup_free_ char *id = long_id(1000);
        char vol[65];
        ck_assert_int_eq(harness_ctl_create(&h, "pvc-real", NULL, vol), ERR_OK);
        Csi__V1__VolumeCapability__MountVolume mount =
            CSI__V1__VOLUME_CAPABILITY__MOUNT_VOLUME__INIT;
        Csi__V1__VolumeCapability__AccessMode am = CSI__V1__VOLUME_CAPABILITY__ACCESS_MODE__INIT;
        Csi__V1__VolumeCapability cap = CSI__V1__VOLUME_CAPABILITY__INIT;
        Csi__V1__VolumeCapability *caps[1] = {&cap};
        am.mode = HCTL_SNW;
        cap.access_mode = &am;
        cap.access_type_case = CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_MOUNT;
        cap.mount = &mount;
        Csi__V1__CapacityRange range = CSI__V1__CAPACITY_RANGE__INIT;
        range.required_bytes = HCTL_MIB * 64;

        Csi__V1__ControllerGetVolumeRequest get = CSI__V1__CONTROLLER_GET_VOLUME_REQUEST__INIT;
        get.volume_id = id;
        expect("Controller/ControllerGetVolume", &get.base,
               &csi__v1__controller_get_volume_response__descriptor, ERR_NOT_FOUND, "volume_id");
        Csi__V1__ValidateVolumeCapabilitiesRequest val =
            CSI__V1__VALIDATE_VOLUME_CAPABILITIES_REQUEST__INIT;
        val.volume_id = id;
        val.n_volume_capabilities = 1;
        val.volume_capabilities = caps;
        expect("Controller/ValidateVolumeCapabilities", &val.base,
               &csi__v1__validate_volume_capabilities_response__descriptor, ERR_NOT_FOUND,
               "volume_id");
        Csi__V1__ControllerPublishVolumeRequest pub =
            CSI__V1__CONTROLLER_PUBLISH_VOLUME_REQUEST__INIT;
        pub.volume_id = id;
        pub.node_id = (char *)"test-node";
        pub.volume_capability = &cap;
        expect("Controller/ControllerPublishVolume", &pub.base,
               &csi__v1__controller_publish_volume_response__descriptor, ERR_NOT_FOUND,
               "volume_id");
        pub.volume_id = vol;
        pub.node_id = id;
        expect("Controller/ControllerPublishVolume", &pub.base,
               &csi__v1__controller_publish_volume_response__descriptor, ERR_NOT_FOUND, "node");
        Csi__V1__ControllerExpandVolumeRequest exp =
            CSI__V1__CONTROLLER_EXPAND_VOLUME_REQUEST__INIT;
        exp.volume_id = id;
        exp.capacity_range = &range;
        expect("Controller/ControllerExpandVolume", &exp.base,
               &csi__v1__controller_expand_volume_response__descriptor, ERR_NOT_FOUND, "volume_id");
        Csi__V1__ControllerModifyVolumeRequest__MutableParametersEntry mp =
            CSI__V1__CONTROLLER_MODIFY_VOLUME_REQUEST__MUTABLE_PARAMETERS_ENTRY__INIT;
        Csi__V1__ControllerModifyVolumeRequest__MutableParametersEntry *mps[1] = {&mp};
        mp.key = (char *)"provisioning";
        mp.value = (char *)"thin";
        Csi__V1__ControllerModifyVolumeRequest mod =
            CSI__V1__CONTROLLER_MODIFY_VOLUME_REQUEST__INIT;
        mod.volume_id = id;
        mod.n_mutable_parameters = 1;
        mod.mutable_parameters = mps;
        expect("Controller/ControllerModifyVolume", &mod.base,
               &csi__v1__controller_modify_volume_response__descriptor, ERR_NOT_FOUND, "volume_id");
        Csi__V1__CreateSnapshotRequest cs = CSI__V1__CREATE_SNAPSHOT_REQUEST__INIT;
        cs.name = (char *)"snap-long";
        cs.source_volume_id = id;
        expect("Controller/CreateSnapshot", &cs.base,
               &csi__v1__create_snapshot_response__descriptor, ERR_NOT_FOUND, "source_volume_id");
        cs.name = id;
        cs.source_volume_id = vol;
        expect("Controller/CreateSnapshot", &cs.base,
               &csi__v1__create_snapshot_response__descriptor, ERR_INVALID_ARGUMENT, "name");
        Csi__V1__GetSnapshotRequest gs = CSI__V1__GET_SNAPSHOT_REQUEST__INIT;
        gs.snapshot_id = id;
        expect("Controller/GetSnapshot", &gs.base, &csi__v1__get_snapshot_response__descriptor,
               ERR_NOT_FOUND, "snapshot_id");
        char *ids[2] = {vol, id};
        Csi__V1__CreateVolumeGroupSnapshotRequest cg =
            CSI__V1__CREATE_VOLUME_GROUP_SNAPSHOT_REQUEST__INIT;
        cg.name = (char *)"grp-long";
        cg.n_source_volume_ids = 2;
        cg.source_volume_ids = ids;
        expect("GroupController/CreateVolumeGroupSnapshot", &cg.base,
               &csi__v1__create_volume_group_snapshot_response__descriptor, ERR_NOT_FOUND,
               "source_volume_ids[1]");
        Csi__V1__CreateVolumeRequest cv = CSI__V1__CREATE_VOLUME_REQUEST__INIT;
        cv.name = id;
        cv.n_volume_capabilities = 1;
        cv.volume_capabilities = caps;
        expect("Controller/CreateVolume", &cv.base, &csi__v1__create_volume_response__descriptor,
               ERR_INVALID_ARGUMENT, "name");
        Csi__V1__NodeUnstageVolumeRequest un = CSI__V1__NODE_UNSTAGE_VOLUME_REQUEST__INIT;
        un.volume_id = id;
        un.staging_target_path = (char *)"/x";
        expect("Node/NodeUnstageVolume", &un.base,
               &csi__v1__node_unstage_volume_response__descriptor, ERR_NOT_FOUND, "volume_id");
        /* Deletes and unpublishes of what cannot exist are done. */
        Csi__V1__DeleteVolumeRequest dv = CSI__V1__DELETE_VOLUME_REQUEST__INIT;
        dv.volume_id = id;
        expect("Controller/DeleteVolume", &dv.base, &csi__v1__delete_volume_response__descriptor,
               ERR_OK, NULL);
        Csi__V1__ControllerUnpublishVolumeRequest cu =
            CSI__V1__CONTROLLER_UNPUBLISH_VOLUME_REQUEST__INIT;
        cu.volume_id = id;
        cu.node_id = id;
        expect("Controller/ControllerUnpublishVolume", &cu.base,
               &csi__v1__controller_unpublish_volume_response__descriptor, ERR_OK, NULL);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("hostile-lengths");
        TCase *tc = tcase_create("lengths");
        tcase_add_checked_fixture(tc, start, stop);
        tcase_add_test(tc, long_content_source_ids);
        tcase_add_test(tc, long_ids_name_the_field);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
