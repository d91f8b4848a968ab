/* Controller volume RPCs on the real binary: create/delete, validation, capacity.
 * test-controller-attach.c has publish, validate, get, expand, modify and capabilities. */
#include <check.h>
#include <dirent.h>
#include <csi.pb-c.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "test/integration/harness-ctl.h"
#include "common/cleanup.h"

#define MIB HCTL_MIB
#define GIB (1024 * MIB)

static struct harness h;

static void start(void)
{
        ck_assert_int_eq(harness_start(&h, NULL, NULL), 0);
}

static void stop(void)
{
        harness_ctl_stop(&h);
}

static Csi__V1__CreateVolumeResponse *create_full(Csi__V1__CreateVolumeRequest *req,
                                                  enum err_status want)
{
        Csi__V1__CreateVolumeResponse *resp = NULL;
        char msg[512];
        enum err_status st = harness_ctl_call(&h, "Controller", "CreateVolume", &req->base,
                                              &csi__v1__create_volume_response__descriptor,
                                              (void **)&resp, msg, sizeof(msg));
        ck_assert_msg(st == want, "status %d, want %d: %s", st, want, msg);
        return resp;
}

START_TEST(create_is_idempotent_by_name)
{
        char id[65], again[65];
        struct harness_ctl_vol o = {.required = 10 * MIB};
        ck_assert_int_eq(harness_ctl_create(&h, "pvc-1", &o, id), ERR_OK);
        ck_assert_int_eq(harness_ctl_create(&h, "pvc-1", &o, again), ERR_OK);
        ck_assert_str_eq(id, again);
        ck_assert_int_eq(harness_ctl_data_stat(&h, "volumes", id).st_size, 10 * MIB);
        o.required = 20 * MIB;
        ck_assert_int_eq(harness_ctl_create(&h, "pvc-1", &o, NULL), ERR_ALREADY_EXISTS);
        o.required = 10 * MIB;
        o.fs_type = "xfs";
        ck_assert_int_eq(harness_ctl_create(&h, "pvc-1", &o, NULL), ERR_ALREADY_EXISTS);
        o.fs_type = NULL;
        o.provisioning = "thick";
        ck_assert_int_eq(harness_ctl_create(&h, "pvc-1", &o, NULL), ERR_ALREADY_EXISTS);
        o.provisioning = NULL;
        o.block = true;
        ck_assert_int_eq(harness_ctl_create(&h, "pvc-1", &o, NULL), ERR_ALREADY_EXISTS);
        /* A different name is a different volume. */
        o.block = false;
        ck_assert_int_eq(harness_ctl_create(&h, "pvc-2", &o, again), ERR_OK);
        ck_assert_str_ne(id, again);
}
END_TEST

START_TEST(create_response_fields)
{
        Csi__V1__VolumeCapability cap = CSI__V1__VOLUME_CAPABILITY__INIT;
        Csi__V1__VolumeCapability__MountVolume mount =
            CSI__V1__VOLUME_CAPABILITY__MOUNT_VOLUME__INIT;
        Csi__V1__VolumeCapability__AccessMode am = CSI__V1__VOLUME_CAPABILITY__ACCESS_MODE__INIT;
        am.mode = HCTL_SNW;
        mount.fs_type = (char *)"xfs";
        cap.access_mode = &am;
        cap.access_type_case = CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_MOUNT;
        cap.mount = &mount;
        Csi__V1__VolumeCapability *caps[1] = {&cap};
        Csi__V1__CreateVolumeRequest req = CSI__V1__CREATE_VOLUME_REQUEST__INIT;
        req.name = (char *)"pvc-fields";
        req.n_volume_capabilities = 1;
        req.volume_capabilities = caps;
        Csi__V1__CreateVolumeResponse *resp = create_full(&req, ERR_OK);
        Csi__V1__Volume *v = resp->volume;
        ck_assert_int_eq(v->capacity_bytes, GIB); /* default */
        ck_assert_uint_eq(v->n_accessible_topology, 1);
        ck_assert_str_eq(v->accessible_topology[0]->segments[0]->key, "topology.silo.csi.io/node");
        ck_assert_str_eq(v->accessible_topology[0]->segments[0]->value, "test-node");
        bool xfs = false;
        for (size_t i = 0; i < v->n_volume_context; i++)
                xfs |= !strcmp(v->volume_context[i]->key, "fsType") &&
                       !strcmp(v->volume_context[i]->value, "xfs");
        ck_assert(xfs); /* fs_type of the capability is honoured */
        protobuf_c_message_free_unpacked(&resp->base, NULL);
}
END_TEST

START_TEST(create_rejects_bad_requests)
{
        struct harness_ctl_vol o = {.required = MIB};
        ck_assert_int_eq(harness_ctl_create(&h, "", &o, NULL), ERR_INVALID_ARGUMENT);
        o.fs_type = "btrfs";
        ck_assert_int_eq(harness_ctl_create(&h, "a", &o, NULL), ERR_INVALID_ARGUMENT);
        o.fs_type = NULL;
        o.provisioning = "fat";
        ck_assert_int_eq(harness_ctl_create(&h, "a", &o, NULL), ERR_INVALID_ARGUMENT);
        o.provisioning = NULL;
        o.mode = CSI__V1__VOLUME_CAPABILITY__ACCESS_MODE__MODE__MULTI_NODE_MULTI_WRITER;
        ck_assert_int_eq(harness_ctl_create(&h, "a", &o, NULL), ERR_INVALID_ARGUMENT);
        o.mode = HCTL_MNRO; /* only on shared pools */
        ck_assert_int_eq(harness_ctl_create(&h, "a", &o, NULL), ERR_INVALID_ARGUMENT);
        o.mode = 99;
        ck_assert_int_eq(harness_ctl_create(&h, "a", &o, NULL), ERR_INVALID_ARGUMENT);
        o.mode = 0;
        o.required = -1;
        ck_assert_int_eq(harness_ctl_create(&h, "a", &o, NULL), ERR_INVALID_ARGUMENT);
        o.required = 10 * MIB;
        o.limit = 5 * MIB;
        ck_assert_int_eq(harness_ctl_create(&h, "a", &o, NULL), ERR_OUT_OF_RANGE);
        o.limit = 0;
        o.from_snap = "snap-0000000000000000";
        ck_assert_int_eq(harness_ctl_create(&h, "a", &o, NULL), ERR_NOT_FOUND);
        o.from_snap = NULL;
        o.from_vol = "../../etc";
        ck_assert_int_eq(harness_ctl_create(&h, "a", &o, NULL), ERR_NOT_FOUND);
        /* Nothing was left behind by the refusals. */
        char path[512];
        harness_path(&h, "pool/volumes", path, sizeof(path));
        DIR *d = opendir(path);
        ck_assert_ptr_nonnull(d);
        int entries = 0;
        for (struct dirent *de = readdir(d); de; de = readdir(d))
                entries += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
        closedir(d);
        ck_assert_int_eq(entries, 0);
}
END_TEST

static Csi__V1__CreateVolumeRequest *base_request(Csi__V1__CreateVolumeRequest *req,
                                                  Csi__V1__VolumeCapability **caps,
                                                  Csi__V1__VolumeCapability *cap,
                                                  Csi__V1__VolumeCapability__AccessMode *am,
                                                  Csi__V1__VolumeCapability__MountVolume *mount)
{
        csi__v1__create_volume_request__init(req);
        csi__v1__volume_capability__init(cap);
        csi__v1__volume_capability__access_mode__init(am);
        csi__v1__volume_capability__mount_volume__init(mount);
        am->mode = HCTL_SNW;
        cap->access_mode = am;
        cap->access_type_case = CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_MOUNT;
        cap->mount = mount;
        caps[0] = cap;
        req->name = (char *)"pvc-x";
        req->n_volume_capabilities = 1;
        req->volume_capabilities = caps;
        return req;
}

START_TEST(create_parameters_and_capabilities)
{
        Csi__V1__CreateVolumeRequest req;
        Csi__V1__VolumeCapability *caps[1], cap;
        Csi__V1__VolumeCapability__AccessMode am;
        Csi__V1__VolumeCapability__MountVolume mount;
        base_request(&req, caps, &cap, &am, &mount);
        Csi__V1__CreateVolumeRequest__ParametersEntry p =
            CSI__V1__CREATE_VOLUME_REQUEST__PARAMETERS_ENTRY__INIT;
        Csi__V1__CreateVolumeRequest__ParametersEntry *pp[1] = {&p};
        req.n_parameters = 1;
        req.parameters = pp;
        p.key = (char *)"color";
        p.value = (char *)"blue";
        create_full(&req, ERR_INVALID_ARGUMENT);
        p.key = (char *)"csi.storage.k8s.io/pvc/name";
        protobuf_c_message_free_unpacked(&create_full(&req, ERR_OK)->base, NULL);
        req.n_parameters = 0;
        req.name = (char *)"pvc-nocap";
        req.n_volume_capabilities = 0;
        create_full(&req, ERR_INVALID_ARGUMENT);
        req.n_volume_capabilities = 1;
        cap.access_type_case = CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE__NOT_SET;
        create_full(&req, ERR_INVALID_ARGUMENT);
        cap.access_type_case = CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_MOUNT;
        cap.access_mode = NULL;
        create_full(&req, ERR_INVALID_ARGUMENT);
        cap.access_mode = &am;
        /* The filesystem is the capability's only: external-provisioner refuses a class with a
         * key spelled "fstype" (any case) beside csi.storage.k8s.io/fstype, and passes a lone
         * one on as a parameter, so silo refuses it and says what to use instead. */
        mount.fs_type = (char *)"ext4";
        req.name = (char *)"pvc-fstype";
        p.value = (char *)"xfs";
        const char *spellings[] = {"fsType", "fstype", "FSTYPE", "FsType"};
        for (size_t i = 0; i < 4; i++) {
                p.key = (char *)spellings[i];
                req.n_parameters = 1;
                Csi__V1__CreateVolumeResponse *resp = NULL;
                char msg[512];
                ck_assert_int_eq(harness_ctl_call(&h, "Controller", "CreateVolume", &req.base,
                                                  &csi__v1__create_volume_response__descriptor,
                                                  (void **)&resp, msg, sizeof(msg)),
                                 ERR_INVALID_ARGUMENT);
                ck_assert_msg(strstr(msg, spellings[i]) && strstr(msg, "csi.storage.k8s.io/fstype"),
                              "%s", msg);
        }
        /* csi.storage.k8s.io/ keys are the sidecars': never a filesystem for silo. */
        p.key = (char *)"csi.storage.k8s.io/fstype";
        mount.fs_type = (char *)"";
        Csi__V1__CreateVolumeResponse *resp = create_full(&req, ERR_OK);
        bool ext4 = false;
        for (size_t i = 0; i < resp->volume->n_volume_context; i++)
                ext4 |= !strcmp(resp->volume->volume_context[i]->key, "fsType") &&
                        !strcmp(resp->volume->volume_context[i]->value, "ext4");
        ck_assert(ext4);
        protobuf_c_message_free_unpacked(&resp->base, NULL);
}
END_TEST

/* mkfs.xfs refuses less than 300 MB: a smaller xfs request is rounded up (capacity may exceed
 * required_bytes), a limit below it is OUT_OF_RANGE, and GetCapacity says so. Block volumes
 * carry no filesystem and keep the 1 MiB minimum. */
START_TEST(xfs_minimum_size)
{
        Csi__V1__CreateVolumeRequest req;
        Csi__V1__VolumeCapability *caps[1], cap;
        Csi__V1__VolumeCapability__AccessMode am;
        Csi__V1__VolumeCapability__MountVolume mount;
        base_request(&req, caps, &cap, &am, &mount);
        mount.fs_type = (char *)"xfs";
        Csi__V1__CapacityRange range = CSI__V1__CAPACITY_RANGE__INIT;
        range.required_bytes = 64 * MIB;
        req.capacity_range = &range;
        req.name = (char *)"pvc-xfs-small";
        Csi__V1__CreateVolumeResponse *resp = create_full(&req, ERR_OK);
        ck_assert_int_eq(resp->volume->capacity_bytes, 300 * MIB);
        protobuf_c_message_free_unpacked(&resp->base, NULL);
        resp = create_full(&req, ERR_OK); /* the retry finds it compatible */
        ck_assert_int_eq(resp->volume->capacity_bytes, 300 * MIB);
        protobuf_c_message_free_unpacked(&resp->base, NULL);
        range.limit_bytes = 200 * MIB;
        req.name = (char *)"pvc-xfs-limited";
        create_full(&req, ERR_OUT_OF_RANGE);
        Csi__V1__VolumeCapability__BlockVolume block =
            CSI__V1__VOLUME_CAPABILITY__BLOCK_VOLUME__INIT;
        cap.access_type_case = CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_BLOCK;
        cap.block = &block;
        req.name = (char *)"pvc-block-small";
        resp = create_full(&req, ERR_OK);
        ck_assert_int_eq(resp->volume->capacity_bytes, 64 * MIB);
        protobuf_c_message_free_unpacked(&resp->base, NULL);

        /* GetCapacity: external-provisioner passes the class's parameters unstripped, so an xfs
         * class's csi.storage.k8s.io/fstype sets the minimum; so does a capability's fs_type. */
        Csi__V1__GetCapacityRequest creq = CSI__V1__GET_CAPACITY_REQUEST__INIT;
        Csi__V1__GetCapacityRequest__ParametersEntry p =
            CSI__V1__GET_CAPACITY_REQUEST__PARAMETERS_ENTRY__INIT;
        Csi__V1__GetCapacityRequest__ParametersEntry *pp[1] = {&p};
        p.key = (char *)"csi.storage.k8s.io/fstype";
        p.value = (char *)"xfs";
        creq.n_parameters = 1;
        creq.parameters = pp;
        Csi__V1__GetCapacityResponse *cresp = NULL;
        ck_assert_int_eq(harness_ctl_call(&h, "Controller", "GetCapacity", &creq.base,
                                          &csi__v1__get_capacity_response__descriptor,
                                          (void **)&cresp, NULL, 0),
                         ERR_OK);
        ck_assert_int_eq(cresp->minimum_volume_size->value, 300 * MIB);
        protobuf_c_message_free_unpacked(&cresp->base, NULL);
        creq.n_parameters = 0;
        cap.access_type_case = CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_MOUNT;
        cap.mount = &mount;
        creq.n_volume_capabilities = 1;
        creq.volume_capabilities = caps;
        ck_assert_int_eq(harness_ctl_call(&h, "Controller", "GetCapacity", &creq.base,
                                          &csi__v1__get_capacity_response__descriptor,
                                          (void **)&cresp, NULL, 0),
                         ERR_OK);
        ck_assert_int_eq(cresp->minimum_volume_size->value, 300 * MIB);
        protobuf_c_message_free_unpacked(&cresp->base, NULL);
        p.key = (char *)"fsType"; /* refused as in CreateVolume */
        creq.n_parameters = 1;
        ck_assert_int_eq(harness_ctl_call(&h, "Controller", "GetCapacity", &creq.base,
                                          &csi__v1__get_capacity_response__descriptor, NULL, NULL,
                                          0),
                         ERR_INVALID_ARGUMENT);
}
END_TEST

START_TEST(create_honours_topology)
{
        Csi__V1__CreateVolumeRequest req;
        Csi__V1__VolumeCapability *caps[1], cap;
        Csi__V1__VolumeCapability__AccessMode am;
        Csi__V1__VolumeCapability__MountVolume mount;
        base_request(&req, caps, &cap, &am, &mount);
        Csi__V1__Topology__SegmentsEntry seg = CSI__V1__TOPOLOGY__SEGMENTS_ENTRY__INIT;
        Csi__V1__Topology__SegmentsEntry *segs[1] = {&seg};
        Csi__V1__Topology topo = CSI__V1__TOPOLOGY__INIT;
        Csi__V1__Topology *topos[1] = {&topo};
        Csi__V1__TopologyRequirement tr = CSI__V1__TOPOLOGY_REQUIREMENT__INIT;
        topo.n_segments = 1;
        topo.segments = segs;
        seg.key = (char *)"topology.silo.csi.io/node";
        seg.value = (char *)"other-node";
        tr.n_requisite = 1;
        tr.requisite = topos;
        req.accessibility_requirements = &tr;
        create_full(&req, ERR_RESOURCE_EXHAUSTED);
        tr.n_requisite = 0;
        tr.n_preferred = 1;
        tr.preferred = topos;
        create_full(&req, ERR_RESOURCE_EXHAUSTED);
        seg.value = (char *)"test-node";
        protobuf_c_message_free_unpacked(&create_full(&req, ERR_OK)->base, NULL);
}
END_TEST

START_TEST(thin_and_thick_allocation)
{
        char thin[65], thick[65];
        struct harness_ctl_vol o = {.required = 64 * MIB};
        ck_assert_int_eq(harness_ctl_create(&h, "thin", &o, thin), ERR_OK);
        o.provisioning = "thick";
        ck_assert_int_eq(harness_ctl_create(&h, "thick", &o, thick), ERR_OK);
        struct stat a = harness_ctl_data_stat(&h, "volumes", thin),
                    b = harness_ctl_data_stat(&h, "volumes", thick);
        ck_assert_int_eq(a.st_size, 64 * MIB);
        ck_assert_int_eq(b.st_size, 64 * MIB);
        ck_assert_int_lt(a.st_blocks * 512, MIB);
        ck_assert_int_ge(b.st_blocks * 512, 64 * MIB);
}
END_TEST

static int64_t capacity(const char *prov, const char *node, enum err_status want)
{
        Csi__V1__GetCapacityRequest req = CSI__V1__GET_CAPACITY_REQUEST__INIT;
        Csi__V1__GetCapacityRequest__ParametersEntry p =
            CSI__V1__GET_CAPACITY_REQUEST__PARAMETERS_ENTRY__INIT;
        Csi__V1__GetCapacityRequest__ParametersEntry *pp[1] = {&p};
        Csi__V1__Topology__SegmentsEntry seg = CSI__V1__TOPOLOGY__SEGMENTS_ENTRY__INIT;
        Csi__V1__Topology__SegmentsEntry *segs[1] = {&seg};
        Csi__V1__Topology topo = CSI__V1__TOPOLOGY__INIT;
        if (prov) {
                p.key = (char *)"provisioning";
                p.value = (char *)prov;
                req.n_parameters = 1;
                req.parameters = pp;
        }
        if (node) {
                seg.key = (char *)"topology.silo.csi.io/node";
                seg.value = (char *)node;
                topo.n_segments = 1;
                topo.segments = segs;
                req.accessible_topology = &topo;
        }
        Csi__V1__GetCapacityResponse *resp = NULL;
        enum err_status st =
            harness_ctl_call(&h, "Controller", "GetCapacity", &req.base,
                             &csi__v1__get_capacity_response__descriptor, (void **)&resp, NULL, 0);
        ck_assert_int_eq(st, want);
        if (st != ERR_OK)
                return -1;
        int64_t v = resp->available_capacity;
        ck_assert_ptr_nonnull(resp->maximum_volume_size);
        ck_assert_ptr_nonnull(resp->minimum_volume_size);
        ck_assert_int_eq(resp->minimum_volume_size->value, MIB);
        ck_assert_int_le(resp->maximum_volume_size->value, v);
        protobuf_c_message_free_unpacked(&resp->base, NULL);
        return v;
}

START_TEST(capacity_and_exhaustion)
{
        int64_t thick = capacity("thick", NULL, ERR_OK);
        int64_t thin = capacity(NULL, "test-node", ERR_OK);
        ck_assert_int_gt(thick, GIB);
        ck_assert_int_eq(capacity(NULL, "other-node", ERR_OK), 0);
        capacity("slow", NULL, ERR_INVALID_ARGUMENT);
        /* A thin volume's unbacked size comes off the thin capacity. Others share the disk,
         * so comparisons leave a slack of an eighth of it. */
        int64_t slack = thin / 8;
        struct harness_ctl_vol o = {.required = thin / 2 / MIB * MIB};
        char id[65];
        ck_assert_int_eq(harness_ctl_create(&h, "big-thin", &o, id), ERR_OK);
        int64_t after = capacity(NULL, NULL, ERR_OK);
        ck_assert_int_le(after, thin - o.required + slack);
        o.required = (after + slack) / MIB * MIB;
        ck_assert_int_eq(harness_ctl_create(&h, "too-thin", &o, NULL), ERR_RESOURCE_EXHAUSTED);
        o.required = (thick + slack) / MIB * MIB;
        o.provisioning = "thick";
        ck_assert_int_eq(harness_ctl_create(&h, "too-thick", &o, NULL), ERR_RESOURCE_EXHAUSTED);
        /* Refusals leave nothing behind; deleting gives the capacity back. */
        ck_assert_int_eq(harness_ctl_delete(&h, id), ERR_OK);
        ck_assert_int_ge(capacity(NULL, NULL, ERR_OK), thin - slack);
}
END_TEST

START_TEST(overcommit_ratio)
{
        int64_t thin = capacity(NULL, NULL, ERR_OK);
        harness_ctl_stop(&h);
        const char *args[] = {"--overcommit-ratio", "2.5", NULL};
        ck_assert_int_eq(harness_start(&h, args, NULL), 0);
        int64_t over = capacity(NULL, NULL, ERR_OK);
        int64_t thick = capacity("thick", NULL, ERR_OK);
        /* Others share the disk: compare with a wide margin. */
        ck_assert_int_gt(over, thin * 2);
        ck_assert_int_gt(over, thick * 2);
        struct harness_ctl_vol o = {.required = (thick + thick / 4) / MIB * MIB};
        char id[65];
        ck_assert_int_eq(harness_ctl_create(&h, "overcommitted", &o, id), ERR_OK);
        ck_assert_int_eq(harness_ctl_data_stat(&h, "volumes", id).st_size, o.required);
}
END_TEST

START_TEST(delete_rules)
{
        char id[65];
        ck_assert_int_eq(harness_ctl_create(&h, "del", NULL, id), ERR_OK);
        ck_assert_int_eq(harness_ctl_delete(&h, ""), ERR_INVALID_ARGUMENT);
        ck_assert_int_eq(harness_ctl_delete(&h, "../volumes"), ERR_OK);
        ck_assert_int_eq(harness_ctl_delete(&h, "vol-0000000000000000"), ERR_OK);
        ck_assert_int_eq(harness_ctl_publish(&h, id, "test-node", false, 0), ERR_OK);
        ck_assert_int_eq(harness_ctl_delete(&h, id), ERR_FAILED_PRECONDITION);
        ck_assert_int_eq(harness_ctl_unpublish(&h, id, "test-node"), ERR_OK);
        ck_assert_int_eq(harness_ctl_delete(&h, id), ERR_OK);
        ck_assert_int_eq(harness_ctl_delete(&h, id), ERR_OK);
        char path[512];
        harness_ctl_data(&h, "volumes", id, path, sizeof(path));
        ck_assert_int_ne(access(path, F_OK), 0);
        snprintf(path, sizeof(path), "%s/volumes/%s.meta", h.pool, id);
        ck_assert_int_ne(access(path, F_OK), 0);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("controller-volumes");
        TCase *tc = tcase_create("volumes");
        tcase_add_checked_fixture(tc, start, stop);
        tcase_add_test(tc, create_is_idempotent_by_name);
        tcase_add_test(tc, create_response_fields);
        tcase_add_test(tc, create_rejects_bad_requests);
        tcase_add_test(tc, create_parameters_and_capabilities);
        tcase_add_test(tc, xfs_minimum_size);
        tcase_add_test(tc, create_honours_topology);
        tcase_add_test(tc, thin_and_thick_allocation);
        tcase_add_test(tc, capacity_and_exhaustion);
        tcase_add_test(tc, overcommit_ratio);
        tcase_add_test(tc, delete_rules);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
