/* Controller volume RPCs on the real binary: create/delete, validation, capacity, publish,
 * validate, get, expand, modify, capabilities. */
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

static struct stat data_stat(const char *id)
{
        char path[512];
        struct stat st;
        harness_ctl_data(&h, "volumes", id, path, sizeof(path));
        ck_assert_int_eq(stat(path, &st), 0);
        return st;
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
        ck_assert_int_eq(data_stat(id).st_size, 10 * MIB);
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
        struct stat a = data_stat(thin), b = data_stat(thick);
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
        ck_assert_int_eq(data_stat(id).st_size, o.required);
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
        ck_assert_int_eq(data_stat(id).st_size, 20 * MIB);
        ck_assert_int_eq(expand(id, 20 * MIB, &cap), ERR_OK); /* repeat */
        ck_assert_int_eq(expand(id, 10 * MIB, &cap), ERR_OK); /* has more already */
        ck_assert_int_eq(cap, 20 * MIB);
        ck_assert_int_eq(data_stat(id).st_size, 20 * MIB);
        ck_assert_int_eq(expand(id, -5, &cap), ERR_INVALID_ARGUMENT);
        ck_assert_int_eq(expand("vol-0000000000000000", 20 * MIB, &cap), ERR_NOT_FOUND);
        ck_assert_int_eq(expand("/etc/passwd", 20 * MIB, &cap), ERR_NOT_FOUND);
        o.provisioning = "thick";
        ck_assert_int_eq(harness_ctl_create(&h, "grow-thick", &o, thick), ERR_OK);
        ck_assert_int_eq(expand(thick, 30 * MIB, &cap), ERR_OK);
        ck_assert_int_ge(data_stat(thick).st_blocks * 512, 30 * MIB);
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
        ck_assert_int_lt(data_stat(id).st_blocks * 512, MIB);
        ck_assert_int_eq(modify(id, "iops", "100"), ERR_INVALID_ARGUMENT);
        ck_assert_int_eq(modify(id, "fsType", "xfs"), ERR_INVALID_ARGUMENT);
        ck_assert_int_eq(modify(id, "provisioning", "warm"), ERR_INVALID_ARGUMENT);
        ck_assert_int_eq(modify("vol-0000000000000000", "provisioning", "thick"), ERR_NOT_FOUND);
        ck_assert_int_eq(modify(id, "provisioning", "thin"), ERR_OK); /* already */
        ck_assert_int_eq(modify(id, "provisioning", "thick"), ERR_OK);
        ck_assert_int_ge(data_stat(id).st_blocks * 512, 32 * MIB);
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
