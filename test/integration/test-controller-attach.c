/* Controller RPCs on a volume that exists, on the real binary: publish/unpublish and the
 * attach limit, validate, get, expand, modify; and the controller's capabilities. */
#include <check.h>
#include <csi.pb-c.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "test/integration/harness-ctl.h"

#define MIB HCTL_MIB

static struct harness h;

static void start(void)
{
        ck_assert_int_eq(harness_start(&h, NULL, NULL), 0);
}

static void stop(void)
{
        harness_ctl_stop(&h);
}

static void get_volume(const char *id, enum err_status want, size_t want_nodes, bool abnormal)
{
        Csi__V1__ControllerGetVolumeRequest req = CSI__V1__CONTROLLER_GET_VOLUME_REQUEST__INIT;
        req.volume_id = (char *)id;
        Csi__V1__ControllerGetVolumeResponse *resp = NULL;
        ck_assert_int_eq(harness_ctl_call(&h, "Controller", "ControllerGetVolume", &req.base,
                                          &csi__v1__controller_get_volume_response__descriptor,
                                          (void **)&resp, NULL, 0),
                         want);
        if (want != ERR_OK)
                return;
        ck_assert_str_eq(resp->volume->volume_id, id);
        ck_assert_uint_eq(resp->status->n_published_node_ids, want_nodes);
        if (want_nodes)
                ck_assert_str_eq(resp->status->published_node_ids[0], "test-node");
        ck_assert_int_eq(resp->status->volume_condition->abnormal, abnormal);
        protobuf_c_message_free_unpacked(&resp->base, NULL);
}

START_TEST(publish_unpublish)
{
        char id[65];
        ck_assert_int_eq(harness_ctl_create(&h, "pub", NULL, id), ERR_OK);
        ck_assert_int_eq(harness_ctl_publish(&h, "vol-0000000000000000", "test-node", false, 0),
                         ERR_NOT_FOUND);
        ck_assert_int_eq(harness_ctl_publish(&h, id, "no-such-node", false, 0), ERR_NOT_FOUND);
        ck_assert_int_eq(harness_ctl_publish(&h, id, "../x", false, 0), ERR_NOT_FOUND);
        ck_assert_int_eq(harness_ctl_publish(&h, id, "", false, 0), ERR_INVALID_ARGUMENT);
        get_volume(id, ERR_OK, 0, false);
        ck_assert_int_eq(harness_ctl_publish(&h, id, "test-node", false, 0), ERR_OK);
        ck_assert_int_eq(harness_ctl_publish(&h, id, "test-node", false, 0), ERR_OK);
        ck_assert_int_eq(harness_ctl_publish(&h, id, "test-node", true, 0), ERR_ALREADY_EXISTS);
        get_volume(id, ERR_OK, 1, false);
        ck_assert_int_eq(harness_ctl_unpublish(&h, id, "test-node"), ERR_OK);
        ck_assert_int_eq(harness_ctl_unpublish(&h, id, "test-node"), ERR_OK);
        /* No such volume: unpublished (test-controller-refusals). */
        ck_assert_int_eq(harness_ctl_unpublish(&h, "vol-0000000000000000", "test-node"), ERR_OK);
        get_volume(id, ERR_OK, 0, false);
        get_volume("vol-0000000000000000", ERR_NOT_FOUND, 0, false);
        get_volume("", ERR_INVALID_ARGUMENT, 0, false);
        char path[512];
        harness_ctl_data(&h, "volumes", id, path, sizeof(path));
        ck_assert_int_eq(unlink(path), 0);
        get_volume(id, ERR_OK, 0, true);
}
END_TEST

START_TEST(publish_context)
{
        char id[65];
        ck_assert_int_eq(harness_ctl_create(&h, "ctx", NULL, id), ERR_OK);
        Csi__V1__VolumeCapability cap = CSI__V1__VOLUME_CAPABILITY__INIT;
        Csi__V1__VolumeCapability__BlockVolume blk = CSI__V1__VOLUME_CAPABILITY__BLOCK_VOLUME__INIT;
        Csi__V1__VolumeCapability__AccessMode am = CSI__V1__VOLUME_CAPABILITY__ACCESS_MODE__INIT;
        am.mode = HCTL_SNW;
        cap.access_mode = &am;
        cap.access_type_case = CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_BLOCK;
        cap.block = &blk;
        Csi__V1__ControllerPublishVolumeRequest req =
            CSI__V1__CONTROLLER_PUBLISH_VOLUME_REQUEST__INIT;
        req.volume_id = id;
        req.node_id = (char *)"test-node";
        req.readonly = true;
        Csi__V1__ControllerPublishVolumeResponse *resp = NULL;
        ck_assert_int_eq(harness_ctl_call(&h, "Controller", "ControllerPublishVolume", &req.base,
                                          &csi__v1__controller_publish_volume_response__descriptor,
                                          (void **)&resp, NULL, 0),
                         ERR_INVALID_ARGUMENT);
        req.volume_capability = &cap;
        ck_assert_int_eq(harness_ctl_call(&h, "Controller", "ControllerPublishVolume", &req.base,
                                          &csi__v1__controller_publish_volume_response__descriptor,
                                          (void **)&resp, NULL, 0),
                         ERR_OK);
        ck_assert_uint_eq(resp->n_publish_context, 2);
        ck_assert_str_eq(resp->publish_context[0]->key, "readonly");
        ck_assert_str_eq(resp->publish_context[0]->value, "true");
        ck_assert_str_eq(resp->publish_context[1]->value, "ext4");
        protobuf_c_message_free_unpacked(&resp->base, NULL);
        /* Same node, other access type: conflicting capability. */
        ck_assert_int_eq(harness_ctl_publish(&h, id, "test-node", true, 0), ERR_ALREADY_EXISTS);
}
END_TEST

START_TEST(attach_limit)
{
        harness_ctl_stop(&h);
        const char *args[] = {"--max-volumes-per-node", "1", NULL};
        ck_assert_int_eq(harness_start(&h, args, NULL), 0);
        char a[65], b[65];
        ck_assert_int_eq(harness_ctl_create(&h, "a", NULL, a), ERR_OK);
        ck_assert_int_eq(harness_ctl_create(&h, "b", NULL, b), ERR_OK);
        ck_assert_int_eq(harness_ctl_publish(&h, a, "test-node", false, 0), ERR_OK);
        ck_assert_int_eq(harness_ctl_publish(&h, b, "test-node", false, 0), ERR_RESOURCE_EXHAUSTED);
        ck_assert_int_eq(harness_ctl_publish(&h, a, "test-node", false, 0), ERR_OK);
        ck_assert_int_eq(harness_ctl_unpublish(&h, a, "test-node"), ERR_OK);
        ck_assert_int_eq(harness_ctl_publish(&h, b, "test-node", false, 0), ERR_OK);
}
END_TEST

static enum err_status validate(const char *id, int mode, const char *fs, bool *confirmed)
{
        Csi__V1__VolumeCapability cap = CSI__V1__VOLUME_CAPABILITY__INIT;
        Csi__V1__VolumeCapability__MountVolume mount =
            CSI__V1__VOLUME_CAPABILITY__MOUNT_VOLUME__INIT;
        Csi__V1__VolumeCapability__AccessMode am = CSI__V1__VOLUME_CAPABILITY__ACCESS_MODE__INIT;
        Csi__V1__VolumeCapability *caps[1] = {&cap};
        am.mode = mode;
        mount.fs_type = (char *)fs;
        cap.access_mode = &am;
        cap.access_type_case = CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_MOUNT;
        cap.mount = &mount;
        Csi__V1__ValidateVolumeCapabilitiesRequest req =
            CSI__V1__VALIDATE_VOLUME_CAPABILITIES_REQUEST__INIT;
        req.volume_id = (char *)id;
        req.n_volume_capabilities = 1;
        req.volume_capabilities = caps;
        Csi__V1__ValidateVolumeCapabilitiesResponse *resp = NULL;
        enum err_status st = harness_ctl_call(
            &h, "Controller", "ValidateVolumeCapabilities", &req.base,
            &csi__v1__validate_volume_capabilities_response__descriptor, (void **)&resp, NULL, 0);
        if (resp) {
                *confirmed = resp->confirmed != NULL;
                if (resp->confirmed)
                        ck_assert_uint_eq(resp->confirmed->n_volume_capabilities, 1);
                else
                        ck_assert_str_ne(resp->message, "");
                protobuf_c_message_free_unpacked(&resp->base, NULL);
        }
        return st;
}

START_TEST(validate_capabilities)
{
        char id[65];
        bool ok = false;
        ck_assert_int_eq(harness_ctl_create(&h, "val", NULL, id), ERR_OK);
        ck_assert_int_eq(validate(id, HCTL_SNW, "", &ok), ERR_OK);
        ck_assert(ok);
        ck_assert_int_eq(validate(id, HCTL_SNW, "ext4", &ok), ERR_OK);
        ck_assert(ok);
        ck_assert_int_eq(validate(id, HCTL_SNW, "xfs", &ok), ERR_OK);
        ck_assert(!ok);
        ck_assert_int_eq(
            validate(id, CSI__V1__VOLUME_CAPABILITY__ACCESS_MODE__MODE__MULTI_NODE_MULTI_WRITER, "",
                     &ok),
            ERR_OK);
        ck_assert(!ok);
        ck_assert_int_eq(validate(id, 0, "", &ok), ERR_INVALID_ARGUMENT);
        ck_assert_int_eq(validate("vol-0000000000000000", HCTL_SNW, "", &ok), ERR_NOT_FOUND);
        ck_assert_int_eq(validate("", HCTL_SNW, "", &ok), ERR_INVALID_ARGUMENT);
}
END_TEST

static enum err_status expand(const char *id, int64_t req_bytes, int64_t *ret)
{
        Csi__V1__CapacityRange range = CSI__V1__CAPACITY_RANGE__INIT;
        range.required_bytes = req_bytes;
        Csi__V1__ControllerExpandVolumeRequest req =
            CSI__V1__CONTROLLER_EXPAND_VOLUME_REQUEST__INIT;
        req.volume_id = (char *)id;
        req.capacity_range = &range;
        Csi__V1__ControllerExpandVolumeResponse *resp = NULL;
        enum err_status st = harness_ctl_call(
            &h, "Controller", "ControllerExpandVolume", &req.base,
            &csi__v1__controller_expand_volume_response__descriptor, (void **)&resp, NULL, 0);
        if (resp) {
                ck_assert(resp->node_expansion_required);
                *ret = resp->capacity_bytes;
                protobuf_c_message_free_unpacked(&resp->base, NULL);
        }
        return st;
}

START_TEST(expand_volume)
{
        char id[65], thick[65];
        int64_t cap = 0;
        struct harness_ctl_vol o = {.required = 10 * MIB};
        ck_assert_int_eq(harness_ctl_create(&h, "grow", &o, id), ERR_OK);
        ck_assert_int_eq(expand(id, 20 * MIB, &cap), ERR_OK);
        ck_assert_int_eq(cap, 20 * MIB);
        ck_assert_int_eq(harness_ctl_data_stat(&h, "volumes", id).st_size, 20 * MIB);
        ck_assert_int_eq(expand(id, 20 * MIB, &cap), ERR_OK); /* repeat */
        ck_assert_int_eq(expand(id, 10 * MIB, &cap), ERR_OK); /* has more already */
        ck_assert_int_eq(cap, 20 * MIB);
        ck_assert_int_eq(harness_ctl_data_stat(&h, "volumes", id).st_size, 20 * MIB);
        ck_assert_int_eq(expand(id, -5, &cap), ERR_INVALID_ARGUMENT);
        ck_assert_int_eq(expand("vol-0000000000000000", 20 * MIB, &cap), ERR_NOT_FOUND);
        ck_assert_int_eq(expand("/etc/passwd", 20 * MIB, &cap), ERR_NOT_FOUND);
        o.provisioning = "thick";
        ck_assert_int_eq(harness_ctl_create(&h, "grow-thick", &o, thick), ERR_OK);
        ck_assert_int_eq(expand(thick, 30 * MIB, &cap), ERR_OK);
        ck_assert_int_ge(harness_ctl_data_stat(&h, "volumes", thick).st_blocks * 512, 30 * MIB);
        /* The new size is what the volume now reports. */
        get_volume(thick, ERR_OK, 0, false);
}
END_TEST

static enum err_status modify(const char *id, const char *key, const char *value)
{
        Csi__V1__ControllerModifyVolumeRequest__MutableParametersEntry p =
            CSI__V1__CONTROLLER_MODIFY_VOLUME_REQUEST__MUTABLE_PARAMETERS_ENTRY__INIT;
        Csi__V1__ControllerModifyVolumeRequest__MutableParametersEntry *pp[1] = {&p};
        p.key = (char *)key;
        p.value = (char *)value;
        Csi__V1__ControllerModifyVolumeRequest req =
            CSI__V1__CONTROLLER_MODIFY_VOLUME_REQUEST__INIT;
        req.volume_id = (char *)id;
        req.n_mutable_parameters = 1;
        req.mutable_parameters = pp;
        return harness_ctl_call(&h, "Controller", "ControllerModifyVolume", &req.base,
                                &csi__v1__controller_modify_volume_response__descriptor, NULL, NULL,
                                0);
}

START_TEST(modify_volume)
{
        char id[65];
        struct harness_ctl_vol o = {.required = 32 * MIB};
        ck_assert_int_eq(harness_ctl_create(&h, "mod", &o, id), ERR_OK);
        ck_assert_int_lt(harness_ctl_data_stat(&h, "volumes", id).st_blocks * 512, MIB);
        ck_assert_int_eq(modify(id, "iops", "100"), ERR_INVALID_ARGUMENT);
        ck_assert_int_eq(modify(id, "fsType", "xfs"), ERR_INVALID_ARGUMENT);
        ck_assert_int_eq(modify(id, "provisioning", "warm"), ERR_INVALID_ARGUMENT);
        ck_assert_int_eq(modify("vol-0000000000000000", "provisioning", "thick"), ERR_NOT_FOUND);
        ck_assert_int_eq(modify(id, "provisioning", "thin"), ERR_OK); /* already */
        ck_assert_int_eq(modify(id, "provisioning", "thick"), ERR_OK);
        ck_assert_int_ge(harness_ctl_data_stat(&h, "volumes", id).st_blocks * 512, 32 * MIB);
        ck_assert_int_eq(modify(id, "provisioning", "thick"), ERR_OK);
        ck_assert_int_eq(modify(id, "provisioning", "thin"), ERR_INVALID_ARGUMENT);
        /* The volume now answers as thick: an idempotent create must ask for thick. */
        o.provisioning = "thick";
        ck_assert_int_eq(harness_ctl_create(&h, "mod", &o, NULL), ERR_OK);
}
END_TEST

static bool has_cap(int type)
{
        Csi__V1__ControllerGetCapabilitiesRequest req =
            CSI__V1__CONTROLLER_GET_CAPABILITIES_REQUEST__INIT;
        Csi__V1__ControllerGetCapabilitiesResponse *resp = NULL;
        ck_assert_int_eq(
            harness_ctl_call(&h, "Controller", "ControllerGetCapabilities", &req.base,
                             &csi__v1__controller_get_capabilities_response__descriptor,
                             (void **)&resp, NULL, 0),
            ERR_OK);
        bool found = false;
        for (size_t i = 0; i < resp->n_capabilities; i++)
                found |= (int)resp->capabilities[i]->rpc->type == type;
        protobuf_c_message_free_unpacked(&resp->base, NULL);
        return found;
}

#define RPC_CAP(x) CSI__V1__CONTROLLER_SERVICE_CAPABILITY__RPC__TYPE__##x

START_TEST(capabilities)
{
        ck_assert(has_cap(RPC_CAP(CREATE_DELETE_VOLUME)));
        ck_assert(has_cap(RPC_CAP(PUBLISH_UNPUBLISH_VOLUME)));
        ck_assert(has_cap(RPC_CAP(CLONE_VOLUME)));
        ck_assert(has_cap(RPC_CAP(MODIFY_VOLUME)));
        ck_assert(has_cap(RPC_CAP(GET_SNAPSHOT)));
        harness_ctl_stop(&h);
        const char *args[] = {"--skip-attach", NULL};
        ck_assert_int_eq(harness_start(&h, args, NULL), 0);
        ck_assert(!has_cap(RPC_CAP(PUBLISH_UNPUBLISH_VOLUME)));
        ck_assert(!has_cap(RPC_CAP(PUBLISH_READONLY)));
        ck_assert(has_cap(RPC_CAP(LIST_VOLUMES)));
        char id[65];
        ck_assert_int_eq(harness_ctl_create(&h, "noattach", NULL, id), ERR_OK);
        ck_assert_int_eq(harness_ctl_publish(&h, id, "test-node", false, 0), ERR_UNIMPLEMENTED);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("controller-attach");
        TCase *tc = tcase_create("attach");
        tcase_add_checked_fixture(tc, start, stop);
        tcase_add_test(tc, publish_unpublish);
        tcase_add_test(tc, publish_context);
        tcase_add_test(tc, attach_limit);
        tcase_add_test(tc, validate_capabilities);
        tcase_add_test(tc, expand_volume);
        tcase_add_test(tc, modify_volume);
        tcase_add_test(tc, capabilities);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
