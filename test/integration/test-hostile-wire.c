/* ctest-labels: privileged */
/* Strings that protobuf-c would misread: an embedded NUL cuts a C string short ("vol-X\0x"
 * read as "vol-X"), and bytes that are not UTF-8 name nothing a UTF-8 client could name
 * again. On the real binary each is INVALID_ARGUMENT naming the field, and nothing happens to
 * the object the cut string would have named. Requests are packed with a marker string and
 * the marker's bytes replaced on the wire (our client packs C strings). */
#include <check.h>
#include <csi.pb-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "test/integration/harness-ctl.h"
#include "test/integration/harness-node.h"
#include "common/cleanup.h"

static struct harness h;
static char staging[512], target[512];

static void setup(void)
{
        harness_node_start(&h, NULL, "plugins/staging/pv1", staging, target, sizeof(staging));
}

static void teardown(void)
{
        harness_stop(&h);
}

/* Packs req, replaces marker's bytes by bytes (same length), sends it to
 * /csi.v1.<method>; returns the status, the message in msg. */
static enum err_status patched(const char *method, const ProtobufCMessage *req,
                               const ProtobufCMessageDescriptor *out, const char *marker,
                               const char *bytes, char *msg, size_t size)
{
        char path[128];
        snprintf(path, sizeof(path), "/csi.v1.%s", method);
        size_t len = protobuf_c_message_get_packed_size(req);
        _cleanup_free_ uint8_t *buf = malloc(len + 1);
        ck_assert_ptr_nonnull(buf);
        protobuf_c_message_pack(req, buf);
        uint8_t *at = memmem(buf, len, marker, strlen(marker));
        ck_assert_msg(at != NULL, "marker '%s' not in the packed request", marker);
        memcpy(at, bytes, strlen(marker));
        struct client_result res;
        ck_assert_int_eq(client_call_raw(h.client, path, buf, len, out, 30000, &res), 0);
        enum err_status st = res.status;
        snprintf(msg, size, "%s", res.message ? res.message : "");
        client_result_release(&res);
        return st;
}

#define ASSERT_INVALID(call, field)                                                                \
        do {                                                                                       \
                char msg_[512];                                                                    \
                enum err_status st_ = (call);                                                      \
                ck_assert_msg(st_ == ERR_INVALID_ARGUMENT, "%s: %s (%s)", #call,                   \
                              err_status_name(st_), msg_);                                         \
                ck_assert_msg(strstr(msg_, field), "message does not name %s: %s", field, msg_);   \
        } while (0)
#define MSG msg_, sizeof(msg_)

static bool volume_exists(const char *id)
{
        char path[600];
        struct stat st;
        snprintf(path, sizeof(path), "%s/volumes/%s.meta", h.pool, id);
        return stat(path, &st) == 0;
}

START_TEST(delete_volume_with_nul_keeps_the_volume)
{
        char id[65], marked[70], bytes[70];
        ck_assert_int_eq(harness_ctl_create(&h, "pvc-nul", NULL, id), ERR_OK);
        snprintf(marked, sizeof(marked), "%s#x", id);
        memcpy(bytes, marked, strlen(marked) + 1);
        bytes[strlen(id)] = '\0';
        Csi__V1__DeleteVolumeRequest req = CSI__V1__DELETE_VOLUME_REQUEST__INIT;
        req.volume_id = marked;
        ASSERT_INVALID(patched("Controller/DeleteVolume", &req.base,
                               &csi__v1__delete_volume_response__descriptor, marked, bytes, MSG),
                       "volume_id contains U+0000");
        ck_assert(volume_exists(id));
        /* Invalid UTF-8 after the id: refused the same way. */
        ASSERT_INVALID(patched("Controller/DeleteVolume", &req.base,
                               &csi__v1__delete_volume_response__descriptor, "#x", "\xff\xfe", MSG),
                       "volume_id is not valid UTF-8");
        ck_assert(volume_exists(id));
        ck_assert_int_eq(harness_ctl_delete(&h, id), ERR_OK);
}
END_TEST

START_TEST(create_fs_type_and_names)
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
        mount.fs_type = (char *)"xfs#ext4";
        Csi__V1__CreateVolumeRequest__ParametersEntry p0 =
            CSI__V1__CREATE_VOLUME_REQUEST__PARAMETERS_ENTRY__INIT;
        Csi__V1__CreateVolumeRequest__ParametersEntry *params[1] = {&p0};
        p0.key = (char *)"provisioning";
        p0.value = (char *)"thin@";
        Csi__V1__CreateVolumeRequest req = CSI__V1__CREATE_VOLUME_REQUEST__INIT;
        req.name = (char *)"pvc-wire%";
        req.n_volume_capabilities = 1;
        req.volume_capabilities = caps;
        req.n_parameters = 1;
        req.parameters = params;
        const ProtobufCMessageDescriptor *out = &csi__v1__create_volume_response__descriptor;
        ASSERT_INVALID(
            patched("Controller/CreateVolume", &req.base, out, "xfs#ext4", "xfs\0ext4", MSG),
            "volume_capabilities[0].mount.fs_type contains U+0000");
        ASSERT_INVALID(patched("Controller/CreateVolume", &req.base, out, "thin@", "thin\0", MSG),
                       "parameters[\"provisioning\"] contains U+0000");
        ASSERT_INVALID(patched("Controller/CreateVolume", &req.base, out, "provisioning",
                               "provisionin\xff", MSG),
                       "a key of parameters is not valid UTF-8");
        static const char *const bad[] = {
            "\xc0\xae", /* overlong '.' */
            "\xed\xa0", /* start of a surrogate, cut */
            "\xc3\x00", /* lead byte then NUL */
        };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
                ASSERT_INVALID(
                    patched("Controller/CreateVolume", &req.base, out, "e%", bad[i], MSG), "name ");
        req.name = (char *)"pvc-\xf4\x90\x80\x80"; /* above U+10FFFF */
        mount.fs_type = NULL;
        ASSERT_INVALID(patched("Controller/CreateVolume", &req.base, out, "thin@", "thin ", MSG),
                       "name is not valid UTF-8");
        req.name = (char *)"pvc-\xed\xa0\x80"; /* U+D800 */
        ASSERT_INVALID(patched("Controller/CreateVolume", &req.base, out, "thin@", "thin ", MSG),
                       "name is not valid UTF-8");
        /* Nothing was created by any of them. */
        Csi__V1__ListVolumesRequest lreq = CSI__V1__LIST_VOLUMES_REQUEST__INIT;
        Csi__V1__ListVolumesResponse *list = NULL;
        ck_assert_int_eq(harness_ctl_call(&h, "Controller", "ListVolumes", &lreq.base,
                                          &csi__v1__list_volumes_response__descriptor,
                                          (void **)&list, NULL, 0),
                         ERR_OK);
        ck_assert_uint_eq(list->n_entries, 0);
        protobuf_c_message_free_unpacked(&list->base, NULL);
}
END_TEST

START_TEST(publish_to_node_with_nul)
{
        char id[65];
        ck_assert_int_eq(harness_ctl_create(&h, "pvc-pub", NULL, id), ERR_OK);
        Csi__V1__VolumeCapability__MountVolume mount =
            CSI__V1__VOLUME_CAPABILITY__MOUNT_VOLUME__INIT;
        Csi__V1__VolumeCapability__AccessMode am = CSI__V1__VOLUME_CAPABILITY__ACCESS_MODE__INIT;
        Csi__V1__VolumeCapability cap = CSI__V1__VOLUME_CAPABILITY__INIT;
        am.mode = HCTL_SNW;
        cap.access_mode = &am;
        cap.access_type_case = CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_MOUNT;
        cap.mount = &mount;
        Csi__V1__ControllerPublishVolumeRequest req =
            CSI__V1__CONTROLLER_PUBLISH_VOLUME_REQUEST__INIT;
        req.volume_id = id;
        req.node_id = (char *)"test-node#x";
        req.volume_capability = &cap;
        ASSERT_INVALID(patched("Controller/ControllerPublishVolume", &req.base,
                               &csi__v1__controller_publish_volume_response__descriptor,
                               "test-node#x", "test-node\0x", MSG),
                       "node_id contains U+0000");
        /* Not published to test-node. */
        Csi__V1__ControllerGetVolumeRequest g = CSI__V1__CONTROLLER_GET_VOLUME_REQUEST__INIT;
        Csi__V1__ControllerGetVolumeResponse *resp = NULL;
        g.volume_id = id;
        ck_assert_int_eq(harness_ctl_call(&h, "Controller", "ControllerGetVolume", &g.base,
                                          &csi__v1__controller_get_volume_response__descriptor,
                                          (void **)&resp, NULL, 0),
                         ERR_OK);
        ck_assert_uint_eq(resp->status->n_published_node_ids, 0);
        protobuf_c_message_free_unpacked(&resp->base, NULL);
}
END_TEST

START_TEST(node_paths_with_nul_or_bad_utf8)
{
        struct harness_node_cap cap = {.fs_type = "ext4"};
        char marked[600], bytes[600];
        ck_assert_int_eq(harness_node_volume(&h, "vol-wire", 64 * HN_MIB, "ext4", false), 0);
        ASSERT_STATUS(harness_node_stage(&h, "vol-wire", staging, &cap), ERR_OK);

        /* NodeUnstageVolume of the staging path plus "\0x" leaves it staged. */
        snprintf(marked, sizeof(marked), "%s#x", staging);
        memcpy(bytes, marked, strlen(marked) + 1);
        bytes[strlen(staging)] = '\0';
        Csi__V1__NodeUnstageVolumeRequest un = CSI__V1__NODE_UNSTAGE_VOLUME_REQUEST__INIT;
        un.volume_id = (char *)"vol-wire";
        un.staging_target_path = marked;
        ASSERT_INVALID(patched("Node/NodeUnstageVolume", &un.base,
                               &csi__v1__node_unstage_volume_response__descriptor, marked, bytes,
                               MSG),
                       "staging_target_path contains U+0000");
        ck_assert(harness_node_is_mountpoint(staging));

        /* NodePublishVolume at a target ending in 0xff 0xfe mounts nothing. */
        Csi__V1__VolumeCapability__MountVolume mount =
            CSI__V1__VOLUME_CAPABILITY__MOUNT_VOLUME__INIT;
        Csi__V1__VolumeCapability__AccessMode am = CSI__V1__VOLUME_CAPABILITY__ACCESS_MODE__INIT;
        Csi__V1__VolumeCapability vc = CSI__V1__VOLUME_CAPABILITY__INIT;
        am.mode = HCTL_SNW;
        vc.access_mode = &am;
        vc.access_type_case = CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_MOUNT;
        vc.mount = &mount;
        char tmarked[600], tbytes[600];
        snprintf(tmarked, sizeof(tmarked), "%s@@", target);
        snprintf(tbytes, sizeof(tbytes), "%s\xff\xfe", target);
        Csi__V1__NodePublishVolumeRequest pub = CSI__V1__NODE_PUBLISH_VOLUME_REQUEST__INIT;
        pub.volume_id = (char *)"vol-wire";
        pub.staging_target_path = staging;
        pub.target_path = tmarked;
        pub.volume_capability = &vc;
        ASSERT_INVALID(patched("Node/NodePublishVolume", &pub.base,
                               &csi__v1__node_publish_volume_response__descriptor, tmarked, tbytes,
                               MSG),
                       "target_path is not valid UTF-8");
        struct stat st;
        ck_assert_int_ne(lstat(tbytes, &st), 0);
        ck_assert_int_eq(harness_node_count_mounts(&h), 1); /* the staging mount alone */

        ASSERT_STATUS(harness_node_unstage(&h, "vol-wire", staging), ERR_OK);
        harness_node_assert_clean(&h);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("hostile-wire");
        TCase *tc = tcase_create("wire");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, delete_volume_with_nul_keeps_the_volume);
        tcase_add_test(tc, create_fs_type_and_names);
        tcase_add_test(tc, publish_to_node_with_nul);
        tcase_add_test(tc, node_paths_with_nul_or_bad_utf8);
        suite_add_tcase(s, tc);
        return harness_node_run(s);
}
