/* Strings of a request checked on the wire, before anyone reads the decoded message.
 * protobuf-c hands a string field to C cut at its first NUL ("vol-1\0x" reads as "vol-1"), and
 * never checks UTF-8 (proto3 requires it; CSI forbids U+0000 in names and ids). So the encoded
 * bytes are walked with the message's descriptor: every string field at every depth (nested
 * messages, repeated fields, oneof members, map keys and values). Needs only protobuf-c. */
#pragma once

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#define WIRECHECK_DEPTH_MAX 32 /* nested messages; deeper is refused */

enum wirecheck_utf8 {
        WIRECHECK_UTF8_OK = 0,
        WIRECHECK_UTF8_NUL, /* well-formed, but holds U+0000 */
        WIRECHECK_UTF8_BAD, /* not UTF-8: stray or missing continuation bytes, overlong forms,
                             * surrogates (U+D800..U+DFFF), code points above U+10FFFF */
};

/* Classifies s[len]. */
enum wirecheck_utf8 wirecheck_utf8(const uint8_t *s, size_t len);

/* Checks the message of type desc encoded in data[len] (already accepted by
 * protobuf_c_message_unpack). Returns 0 when every string is valid UTF-8 without U+0000;
 * -SILO_EINVALID with the reason in why when not, naming the field by its path:
 * "volume_content_source.snapshot.snapshot_id contains U+0000",
 * "volume_capabilities[0].mount.mount_flags[1] is not valid UTF-8",
 * "parameters[\"provisioning\"] contains U+0000", "a key of secrets is not valid UTF-8".
 * Values are never quoted (they may be secrets). Malformed wire data is -SILO_EINVALID too. */
int wirecheck_strings(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len,
                      char *why, size_t why_size);
