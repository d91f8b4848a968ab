#include <check.h>
#include <csi.pb-c.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/wirecheck.h"
#include "common/cleanup.h"

#define U8(s) ((const uint8_t *)(s))

START_TEST(utf8_classes)
{
        static const struct {
                const char *s;
                size_t len;
                enum wirecheck_utf8 want;
        } cases[] = {
            {"", 0, WIRECHECK_UTF8_OK},
            {"vol-1", 5, WIRECHECK_UTF8_OK},
            {"\xc3\xbc", 2, WIRECHECK_UTF8_OK},         /* U+00FC */
            {"\xe2\x82\xac", 3, WIRECHECK_UTF8_OK},     /* U+20AC */
            {"\xef\xbf\xbf", 3, WIRECHECK_UTF8_OK},     /* U+FFFF */
            {"\xf0\x9f\x98\x80", 4, WIRECHECK_UTF8_OK}, /* U+1F600 */
            {"\xf4\x8f\xbf\xbf", 4, WIRECHECK_UTF8_OK}, /* U+10FFFF */
            {"vol\0x", 5, WIRECHECK_UTF8_NUL},
            {"\0", 1, WIRECHECK_UTF8_NUL},
            {"\xff\xfe", 2, WIRECHECK_UTF8_BAD},
            {"\x80", 1, WIRECHECK_UTF8_BAD},                 /* stray continuation */
            {"\xc3", 1, WIRECHECK_UTF8_BAD},                 /* truncated */
            {"\xe2\x82", 2, WIRECHECK_UTF8_BAD},             /* truncated */
            {"\xc3\x28", 2, WIRECHECK_UTF8_BAD},             /* bad continuation */
            {"\xc0\x80", 2, WIRECHECK_UTF8_BAD},             /* overlong NUL */
            {"\xc1\xbf", 2, WIRECHECK_UTF8_BAD},             /* overlong */
            {"\xe0\x80\xaf", 3, WIRECHECK_UTF8_BAD},         /* overlong '/' */
            {"\xf0\x80\x80\xaf", 4, WIRECHECK_UTF8_BAD},     /* overlong '/' */
            {"\xed\xa0\x80", 3, WIRECHECK_UTF8_BAD},         /* U+D800 surrogate */
            {"\xed\xbf\xbf", 3, WIRECHECK_UTF8_BAD},         /* U+DFFF surrogate */
            {"\xf4\x90\x80\x80", 4, WIRECHECK_UTF8_BAD},     /* U+110000 */
            {"\xf5\x80\x80\x80", 4, WIRECHECK_UTF8_BAD},     /* lead byte past U+10FFFF */
            {"\xf8\x88\x80\x80\x80", 5, WIRECHECK_UTF8_BAD}, /* 5-byte form */
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
                ck_assert_msg(wirecheck_utf8(U8(cases[i].s), cases[i].len) == cases[i].want,
                              "case %zu", i);
}
END_TEST

/* Packs m, replaces the first occurrence of marker with bytes (same length), checks it. */
static int check_patched(const ProtobufCMessage *m, const char *marker, const char *bytes,
                         char *why, size_t size)
{
        size_t len = protobuf_c_message_get_packed_size(m);
        _cleanup_free_ uint8_t *buf = malloc(len + 1);
        ck_assert_ptr_nonnull(buf);
        protobuf_c_message_pack(m, buf);
        if (marker) {
                uint8_t *at = memmem(buf, len, marker, strlen(marker));
                ck_assert_ptr_nonnull(at);
                memcpy(at, bytes, strlen(marker));
        }
        return wirecheck_strings(m->descriptor, buf, len, why, size);
}

#define ASSERT_REFUSED(m, marker, bytes, want)                                                     \
        do {                                                                                       \
                char why_[512];                                                                    \
                ck_assert_int_eq(check_patched((m), (marker), (bytes), why_, sizeof(why_)),        \
                                 -SILO_EINVALID);                                                  \
                ck_assert_str_eq(why_, (want));                                                    \
        } while (0)

START_TEST(top_level_and_nested)
{
        char why[256];
        Csi__V1__DeleteVolumeRequest del = CSI__V1__DELETE_VOLUME_REQUEST__INIT;
        del.volume_id = (char *)"vol-X#x";
        ck_assert_int_eq(check_patched(&del.base, NULL, NULL, why, sizeof(why)), 0);
        ASSERT_REFUSED(&del.base, "vol-X#x", "vol-X\0x", "volume_id contains U+0000");
        ASSERT_REFUSED(&del.base, "#x", "\xff\xfe", "volume_id is not valid UTF-8");

        Csi__V1__VolumeContentSource__SnapshotSource ss =
            CSI__V1__VOLUME_CONTENT_SOURCE__SNAPSHOT_SOURCE__INIT;
        Csi__V1__VolumeContentSource src = CSI__V1__VOLUME_CONTENT_SOURCE__INIT;
        Csi__V1__CreateVolumeRequest cr = CSI__V1__CREATE_VOLUME_REQUEST__INIT;
        ss.snapshot_id = (char *)"snap-#";
        src.type_case = CSI__V1__VOLUME_CONTENT_SOURCE__TYPE_SNAPSHOT;
        src.snapshot = &ss;
        cr.name = (char *)"pvc-\xc3\xbc"; /* valid UTF-8 passes */
        cr.volume_content_source = &src;
        ck_assert_int_eq(check_patched(&cr.base, NULL, NULL, why, sizeof(why)), 0);
        ASSERT_REFUSED(&cr.base, "snap-#", "snap-\0",
                       "volume_content_source.snapshot.snapshot_id contains U+0000");
        ASSERT_REFUSED(&cr.base, "\xc3\xbc", "\xc0\x80", "name is not valid UTF-8");
}
END_TEST

START_TEST(repeated_and_maps)
{
        char why[256];
        Csi__V1__VolumeCapability__MountVolume mount =
            CSI__V1__VOLUME_CAPABILITY__MOUNT_VOLUME__INIT;
        Csi__V1__VolumeCapability c0 = CSI__V1__VOLUME_CAPABILITY__INIT;
        Csi__V1__VolumeCapability c1 = CSI__V1__VOLUME_CAPABILITY__INIT;
        Csi__V1__VolumeCapability *caps[2] = {&c0, &c1};
        char *flags[2] = {(char *)"noatime", (char *)"ro#"};
        mount.fs_type = (char *)"xfs#ext4";
        mount.n_mount_flags = 2;
        mount.mount_flags = flags;
        c1.access_type_case = CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_MOUNT;
        c1.mount = &mount;
        Csi__V1__CreateVolumeRequest__ParametersEntry p0 =
            CSI__V1__CREATE_VOLUME_REQUEST__PARAMETERS_ENTRY__INIT;
        Csi__V1__CreateVolumeRequest__ParametersEntry *params[1] = {&p0};
        p0.key = (char *)"provisioning";
        p0.value = (char *)"thin@";
        Csi__V1__CreateVolumeRequest__SecretsEntry s0 =
            CSI__V1__CREATE_VOLUME_REQUEST__SECRETS_ENTRY__INIT;
        Csi__V1__CreateVolumeRequest__SecretsEntry *secrets[1] = {&s0};
        s0.key = (char *)"tok%en";
        s0.value = (char *)"hunter2!";
        Csi__V1__CreateVolumeRequest cr = CSI__V1__CREATE_VOLUME_REQUEST__INIT;
        cr.name = (char *)"pvc-1";
        cr.n_volume_capabilities = 2;
        cr.volume_capabilities = caps;
        cr.n_parameters = 1;
        cr.parameters = params;
        cr.n_secrets = 1;
        cr.secrets = secrets;
        ck_assert_int_eq(check_patched(&cr.base, NULL, NULL, why, sizeof(why)), 0);
        ASSERT_REFUSED(&cr.base, "xfs#ext4", "xfs\0ext4",
                       "volume_capabilities[1].mount.fs_type contains U+0000");
        ASSERT_REFUSED(&cr.base, "ro#", "ro\xed",
                       "volume_capabilities[1].mount.mount_flags[1] is not valid UTF-8");
        ASSERT_REFUSED(&cr.base, "thin@", "thin\0", "parameters[\"provisioning\"] contains U+0000");
        ASSERT_REFUSED(&cr.base, "provisioning", "provisionin\xff",
                       "a key of parameters is not valid UTF-8");
        /* A secret's value is never shown, only its key. */
        ASSERT_REFUSED(&cr.base, "hunter2!", "hunter\0!", "secrets[\"tok%en\"] contains U+0000");
}
END_TEST

START_TEST(long_key_and_malformed)
{
        char why[512], key[200];
        memset(key, 'k', sizeof(key) - 1);
        key[sizeof(key) - 1] = '\0';
        key[0] = '"';
        Csi__V1__CreateVolumeRequest__ParametersEntry p0 =
            CSI__V1__CREATE_VOLUME_REQUEST__PARAMETERS_ENTRY__INIT;
        Csi__V1__CreateVolumeRequest__ParametersEntry *params[1] = {&p0};
        p0.key = key;
        p0.value = (char *)"v#";
        Csi__V1__CreateVolumeRequest cr = CSI__V1__CREATE_VOLUME_REQUEST__INIT;
        cr.n_parameters = 1;
        cr.parameters = params;
        ck_assert_int_eq(check_patched(&cr.base, "v#", "v\0", why, sizeof(why)), -SILO_EINVALID);
        ck_assert_msg(strncmp(why, "parameters[\"?kkk", 16) == 0, "%s", why);
        ck_assert_msg(strstr(why, "k...\"] contains U+0000"), "%s", why);
        /* A length running past the end, a group wire type. */
        static const uint8_t past[] = {0x0a, 0x05, 'a'}, group[] = {0x0b};
        ck_assert_int_eq(wirecheck_strings(&csi__v1__delete_volume_request__descriptor, past,
                                           sizeof(past), why, sizeof(why)),
                         -SILO_EINVALID);
        ck_assert_int_eq(wirecheck_strings(&csi__v1__delete_volume_request__descriptor, group,
                                           sizeof(group), why, sizeof(why)),
                         -SILO_EINVALID);
        /* Unknown fields and scalars are skipped. */
        static const uint8_t unknown[] = {0xfa, 0x01, 0x02, 0xff, 0x00, 0x08, 0x01};
        ck_assert_int_eq(wirecheck_strings(&csi__v1__delete_volume_request__descriptor, unknown,
                                           sizeof(unknown), why, sizeof(why)),
                         0);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("wirecheck");
        TCase *tc = tcase_create("wirecheck");
        tcase_add_test(tc, utf8_classes);
        tcase_add_test(tc, top_level_and_nested);
        tcase_add_test(tc, repeated_and_maps);
        tcase_add_test(tc, long_key_and_malformed);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
