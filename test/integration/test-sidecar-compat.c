/* Requests exactly as the sidecar versions in the field send them, on the real binary:
 * external-provisioner's GetCapacity (v5+: no capability; up to v4: a placeholder capability
 * whose access mode is UNKNOWN), with the class's parameters unstripped. */
#include <check.h>
#include <csi.pb-c.h>
#include <stdlib.h>
#include <string.h>

#include "test/integration/harness-ctl.h"

#define MIB     HCTL_MIB
#define MODE(x) CSI__V1__VOLUME_CAPABILITY__ACCESS_MODE__MODE__##x

static struct harness h;

static void start(void)
{
        ck_assert_int_eq(harness_start(&h, NULL, NULL), 0);
}

static void stop(void)
{
        harness_ctl_stop(&h);
}

/* How a capability is shaped in the request. */
enum shape {
        NO_CAP,         /* v5+: volume_capabilities empty */
        MOUNT_EMPTY,    /* v4: mount access type with an empty MountVolume */
        TYPE_UNSET,     /* the Go placeholder's Mount wrapper with a nil message: no type */
        NO_ACCESS_MODE, /* access_mode absent altogether */
        BLOCK,
};

/* GetCapacity with the shipped xfs class's parameters (what the provisioner passes) for our
 * node's topology; returns available_capacity, *ret_min the minimum volume size. */
static int64_t capacity(enum shape shape, int mode, int64_t *ret_min)
{
        Csi__V1__VolumeCapability cap = CSI__V1__VOLUME_CAPABILITY__INIT;
        Csi__V1__VolumeCapability__MountVolume mount =
            CSI__V1__VOLUME_CAPABILITY__MOUNT_VOLUME__INIT;
        Csi__V1__VolumeCapability__BlockVolume block =
            CSI__V1__VOLUME_CAPABILITY__BLOCK_VOLUME__INIT;
        Csi__V1__VolumeCapability__AccessMode am = CSI__V1__VOLUME_CAPABILITY__ACCESS_MODE__INIT;
        Csi__V1__VolumeCapability *caps[1] = {&cap};
        am.mode = mode;
        cap.access_mode = shape == NO_ACCESS_MODE ? NULL : &am;
        if (shape == MOUNT_EMPTY || shape == NO_ACCESS_MODE) {
                cap.access_type_case = CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_MOUNT;
                cap.mount = &mount;
        } else if (shape == BLOCK) {
                cap.access_type_case = CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_BLOCK;
                cap.block = &block;
        }
        Csi__V1__GetCapacityRequest__ParametersEntry p[2];
        Csi__V1__GetCapacityRequest__ParametersEntry *pp[2] = {&p[0], &p[1]};
        const char *kv[2][2] = {{"csi.storage.k8s.io/fstype", "xfs"}, {"provisioning", "thin"}};
        for (int i = 0; i < 2; i++) {
                csi__v1__get_capacity_request__parameters_entry__init(&p[i]);
                p[i].key = (char *)kv[i][0];
                p[i].value = (char *)kv[i][1];
        }
        Csi__V1__Topology__SegmentsEntry seg = CSI__V1__TOPOLOGY__SEGMENTS_ENTRY__INIT;
        Csi__V1__Topology__SegmentsEntry *segs[1] = {&seg};
        Csi__V1__Topology topo = CSI__V1__TOPOLOGY__INIT;
        seg.key = (char *)"topology.silo.csi.io/node";
        seg.value = (char *)"test-node";
        topo.n_segments = 1;
        topo.segments = segs;
        Csi__V1__GetCapacityRequest req = CSI__V1__GET_CAPACITY_REQUEST__INIT;
        req.n_parameters = 2;
        req.parameters = pp;
        req.accessible_topology = &topo;
        if (shape != NO_CAP) {
                req.n_volume_capabilities = 1;
                req.volume_capabilities = caps;
        }
        Csi__V1__GetCapacityResponse *resp = NULL;
        ck_assert_int_eq(harness_ctl_call(&h, "Controller", "GetCapacity", &req.base,
                                          &csi__v1__get_capacity_response__descriptor,
                                          (void **)&resp, NULL, 0),
                         ERR_OK);
        int64_t v = resp->available_capacity;
        *ret_min = resp->minimum_volume_size ? resp->minimum_volume_size->value : -1;
        protobuf_c_message_free_unpacked(&resp->base, NULL);
        return v;
}

/* The provisioner's v4 placeholder got 0 ("no capacity") before: with storageCapacity: true
 * the scheduler then never placed a pod. Every placeholder shape is answered as v5+'s. */
START_TEST(get_capacity_placeholder_capability)
{
        int64_t min = 0;
        int64_t want = capacity(NO_CAP, 0, &min);
        ck_assert_int_gt(want, 0);
        ck_assert_int_eq(min, 300 * MIB); /* the class is xfs */
        /* Others share the disk: the same answer within a sixteenth. */
        int64_t slack = want / 16;
        const enum shape shapes[] = {MOUNT_EMPTY, TYPE_UNSET, NO_ACCESS_MODE};
        for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
                int64_t got = capacity(shapes[i], MODE(UNKNOWN), &min);
                ck_assert_msg(got > want - slack && got < want + slack,
                              "shape %zu: %lld, want about %lld", i, (long long)got,
                              (long long)want);
                ck_assert_int_eq(min, 300 * MIB);
        }
        /* UNKNOWN with a block type: capacity too, and a block volume has no xfs minimum. */
        ck_assert_int_gt(capacity(BLOCK, MODE(UNKNOWN), &min), want - slack);
        ck_assert_int_eq(min, MIB);
        /* A mode silo does not serve is still no capacity at all. */
        ck_assert_int_eq(capacity(MOUNT_EMPTY, MODE(MULTI_NODE_MULTI_WRITER), &min), 0);
        ck_assert_int_eq(capacity(BLOCK, MODE(MULTI_NODE_READER_ONLY), &min), 0);
        ck_assert_int_gt(capacity(MOUNT_EMPTY, MODE(SINGLE_NODE_WRITER), &min), want - slack);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("sidecar-compat");
        TCase *tc = tcase_create("provisioner");
        tcase_add_checked_fixture(tc, start, stop);
        tcase_add_test(tc, get_capacity_placeholder_capability);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
