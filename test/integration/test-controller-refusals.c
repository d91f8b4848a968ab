/* The controller refuses what its node would refuse, and answers the codes the spec and the
 * sidecars expect: mount flags through the node's one allow-list, ModifyVolume without
 * mutable_parameters, Unpublish of a volume that is gone, Expand to a size already had. */
#include <check.h>
#include <csi.pb-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test/integration/harness-ctl.h"
#include "common/cleanup.h"

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

/* A SINGLE_NODE_WRITER mount capability with one mount flag. */
struct flag_cap {
        Csi__V1__VolumeCapability__MountVolume mount;
        Csi__V1__VolumeCapability__AccessMode am;
        Csi__V1__VolumeCapability cap;
        Csi__V1__VolumeCapability *caps[1];
        char *flags[1];
};

static void flag_cap_init(struct flag_cap *c, const char *flag)
{
        csi__v1__volume_capability__mount_volume__init(&c->mount);
        csi__v1__volume_capability__access_mode__init(&c->am);
        csi__v1__volume_capability__init(&c->cap);
        c->am.mode = HCTL_SNW;
        c->cap.access_mode = &c->am;
        c->cap.access_type_case = CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_MOUNT;
        c->cap.mount = &c->mount;
        c->flags[0] = (char *)flag;
        c->mount.n_mount_flags = 1;
        c->mount.mount_flags = c->flags;
        c->caps[0] = &c->cap;
}

static enum err_status create_with_flag(const char *name, const char *flag, char *msg, size_t size)
{
        struct flag_cap c;
        flag_cap_init(&c, flag);
        Csi__V1__CreateVolumeRequest req = CSI__V1__CREATE_VOLUME_REQUEST__INIT;
        req.name = (char *)name;
        req.n_volume_capabilities = 1;
        req.volume_capabilities = c.caps;
        return harness_ctl_call(&h, "Controller", "CreateVolume", &req.base,
                                &csi__v1__create_volume_response__descriptor, NULL, msg, size);
}

/* ValidateVolumeCapabilities: true when confirmed; the refusal's text in msg. */
static bool validate_with_flag(const char *id, const char *flag, char *msg, size_t size)
{
        struct flag_cap c;
        flag_cap_init(&c, flag);
        Csi__V1__ValidateVolumeCapabilitiesRequest req =
            CSI__V1__VALIDATE_VOLUME_CAPABILITIES_REQUEST__INIT;
        req.volume_id = (char *)id;
        req.n_volume_capabilities = 1;
        req.volume_capabilities = c.caps;
        Csi__V1__ValidateVolumeCapabilitiesResponse *resp = NULL;
        ck_assert_int_eq(
            harness_ctl_call(&h, "Controller", "ValidateVolumeCapabilities", &req.base,
                             &csi__v1__validate_volume_capabilities_response__descriptor,
                             (void **)&resp, NULL, 0),
            ERR_OK);
        bool confirmed = resp->confirmed != NULL;
        snprintf(msg, size, "%s", resp->message ? resp->message : "");
        protobuf_c_message_free_unpacked(&resp->base, NULL);
        return confirmed;
}

START_TEST(mount_flags_refused_as_the_node_does)
{
        static const char *const refused[] = {
            "bind",
            "remount",
            "helper=/bin/sh",
            "--",
            "-o",
            "rw,exec;touch x",
            "rbind",
            "move",
            "context=system_u:object_r:container_file_t:s0",
            "context=\"system_u:object_r:container_file_t:s0:c1,c2\",bind",
            "context=\"system_u:object_r:container_file_t:s0:c1,c2",
            "context=\"system_u:object_r:container_file_t\"",
            "fscontext=\"system_u:object_r:container_file_t:s0\"",
        };
        static const char *const accepted[] = {
            "noatime",
            "ro,nosuid",
            "nodev,noexec",
            "discard",
            "context=\"system_u:object_r:container_file_t:s0:c1,c2\"", /* kubelet's */
        };
        char id[65], msg[512];
        ck_assert_int_eq(harness_ctl_create(&h, "pvc-flags", NULL, id), ERR_OK);
        for (size_t i = 0; i < ARRAY_SIZE(refused); i++) {
                enum err_status st = create_with_flag("pvc-refused", refused[i], msg, sizeof(msg));
                ck_assert_msg(st == ERR_INVALID_ARGUMENT, "create with '%s': %s (%s)", refused[i],
                              err_status_name(st), msg);
                ck_assert_msg(strstr(msg, "mount flag"), "'%s': %s", refused[i], msg);
                ck_assert_msg(!validate_with_flag(id, refused[i], msg, sizeof(msg)),
                              "'%s' confirmed", refused[i]);
                ck_assert_msg(strstr(msg, "mount flag"), "'%s': %s", refused[i], msg);
        }
        for (size_t i = 0; i < ARRAY_SIZE(accepted); i++) {
                char name[32];
                snprintf(name, sizeof(name), "pvc-ok-%zu", i);
                enum err_status st = create_with_flag(name, accepted[i], msg, sizeof(msg));
                ck_assert_msg(st == ERR_OK, "create with '%s': %s (%s)", accepted[i],
                              err_status_name(st), msg);
                ck_assert_msg(validate_with_flag(id, accepted[i], msg, sizeof(msg)),
                              "'%s' not confirmed: %s", accepted[i], msg);
        }
}
END_TEST

START_TEST(modify_needs_mutable_parameters)
{
        char id[65], msg[256];
        ck_assert_int_eq(harness_ctl_create(&h, "pvc-modify", NULL, id), ERR_OK);
        Csi__V1__ControllerModifyVolumeRequest req =
            CSI__V1__CONTROLLER_MODIFY_VOLUME_REQUEST__INIT;
        req.volume_id = id;
        enum err_status st = harness_ctl_call(
            &h, "Controller", "ControllerModifyVolume", &req.base,
            &csi__v1__controller_modify_volume_response__descriptor, NULL, msg, sizeof(msg));
        ck_assert_msg(st == ERR_INVALID_ARGUMENT, "%s (%s)", err_status_name(st), msg);
        ck_assert_msg(strstr(msg, "mutable_parameters"), "%s", msg);
}
END_TEST

START_TEST(unpublish_of_a_volume_that_is_gone)
{
        char id[65];
        ck_assert_int_eq(harness_ctl_create(&h, "pvc-gone", NULL, id), ERR_OK);
        ck_assert_int_eq(harness_ctl_publish(&h, id, "test-node", false, 0), ERR_OK);
        ck_assert_int_eq(harness_ctl_unpublish(&h, id, "test-node"), ERR_OK);
        ck_assert_int_eq(harness_ctl_delete(&h, id), ERR_OK);
        /* The attacher retries until OK: a deleted volume is unpublished everywhere. */
        ck_assert_int_eq(harness_ctl_unpublish(&h, id, "test-node"), ERR_OK);
        ck_assert_int_eq(harness_ctl_unpublish(&h, id, ""), ERR_OK);
        ck_assert_int_eq(harness_ctl_unpublish(&h, "vol-0000000000000000", "test-node"), ERR_OK);
        ck_assert_int_eq(harness_ctl_unpublish(&h, "../../etc", "test-node"), ERR_OK);
        ck_assert_int_eq(harness_ctl_unpublish(&h, "", "test-node"), ERR_INVALID_ARGUMENT);
}
END_TEST

static enum err_status expand(const char *id, int64_t required, int64_t limit, int64_t *ret)
{
        Csi__V1__CapacityRange range = CSI__V1__CAPACITY_RANGE__INIT;
        range.required_bytes = required;
        range.limit_bytes = limit;
        Csi__V1__ControllerExpandVolumeRequest req =
            CSI__V1__CONTROLLER_EXPAND_VOLUME_REQUEST__INIT;
        req.volume_id = (char *)id;
        req.capacity_range = &range;
        Csi__V1__ControllerExpandVolumeResponse *resp = NULL;
        enum err_status st = harness_ctl_call(
            &h, "Controller", "ControllerExpandVolume", &req.base,
            &csi__v1__controller_expand_volume_response__descriptor, (void **)&resp, NULL, 0);
        if (resp) {
                *ret = resp->capacity_bytes;
                protobuf_c_message_free_unpacked(&resp->base, NULL);
        }
        return st;
}

START_TEST(expand_to_a_size_already_had)
{
        char id[65];
        int64_t cap = 0;
        struct harness_ctl_vol o = {.required = 20 * MIB};
        ck_assert_int_eq(harness_ctl_create(&h, "pvc-grown", &o, id), ERR_OK);
        ck_assert_int_eq(expand(id, 20 * MIB, 0, &cap), ERR_OK);
        ck_assert_int_eq(cap, 20 * MIB);
        ck_assert_int_eq(expand(id, 10 * MIB, 0, &cap), ERR_OK);
        ck_assert_int_eq(cap, 20 * MIB);
        ck_assert_int_eq(expand(id, 1, 0, &cap), ERR_OK);
        ck_assert_int_eq(cap, 20 * MIB);
        ck_assert_int_eq(expand(id, 10 * MIB, 30 * MIB, &cap), ERR_OK);
        ck_assert_int_eq(cap, 20 * MIB);
        /* A limit the volume already exceeds cannot be met. */
        ck_assert_int_eq(expand(id, 5 * MIB, 10 * MIB, &cap), ERR_OUT_OF_RANGE);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("controller-refusals");
        TCase *tc = tcase_create("refusals");
        tcase_add_checked_fixture(tc, start, stop);
        tcase_add_test(tc, mount_flags_refused_as_the_node_does);
        tcase_add_test(tc, modify_needs_mutable_parameters);
        tcase_add_test(tc, unpublish_of_a_volume_that_is_gone);
        tcase_add_test(tc, expand_to_a_size_already_had);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
