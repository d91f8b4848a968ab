#include "common/wirecheck.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/cleanup.h"

#define WIRECHECK_PATH_MAX   256
#define WIRECHECK_KEY_SHOWN  64  /* bytes of a map key shown in a path */
#define WIRECHECK_FIELDS_MAX 128 /* fields of one message whose occurrences are counted */

enum { WIRE_VARINT = 0, WIRE_FIXED64 = 1, WIRE_LEN = 2, WIRE_FIXED32 = 5 };

struct wirecheck {
        char path[WIRECHECK_PATH_MAX];
        char *why;
        size_t why_size;
};

enum wirecheck_utf8 wirecheck_utf8(const uint8_t *s, size_t len)
{
        bool nul = false;
        for (size_t i = 0; i < len;) {
                uint8_t c = s[i];
                unsigned need;
                uint32_t cp, min;
                if (c < 0x80) {
                        nul = nul || c == 0;
                        i++;
                        continue;
                }
                if (c >= 0xc2 && c <= 0xdf) {
                        need = 1, cp = c & 0x1fu, min = 0x80;
                } else if ((c & 0xf0) == 0xe0) {
                        need = 2, cp = c & 0x0fu, min = 0x800;
                } else if (c >= 0xf0 && c <= 0xf4) {
                        need = 3, cp = c & 0x07u, min = 0x10000;
                } else {
                        return WIRECHECK_UTF8_BAD; /* continuation, 0xc0/0xc1, 0xf5..0xff */
                }
                if (len - i - 1 < need)
                        return WIRECHECK_UTF8_BAD;
                for (unsigned k = 1; k <= need; k++) {
                        if ((s[i + k] & 0xc0) != 0x80)
                                return WIRECHECK_UTF8_BAD;
                        cp = (cp << 6) | (s[i + k] & 0x3fu);
                }
                if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                        return WIRECHECK_UTF8_BAD;
                i += need + 1;
        }
        return nul ? WIRECHECK_UTF8_NUL : WIRECHECK_UTF8_OK;
}

static int wire_varint(const uint8_t **p, const uint8_t *end, uint64_t *ret)
{
        uint64_t v = 0;
        for (unsigned shift = 0; shift < 64 && *p < end; shift += 7) {
                uint8_t b = *(*p)++;
                v |= (uint64_t)(b & 0x7f) << shift;
                if (!(b & 0x80)) {
                        *ret = v;
                        return 0;
                }
        }
        return -EBADMSG;
}

/* Reads one field: its number and wire type, and for length-delimited ones the value. */
static int wire_field(const uint8_t **p, const uint8_t *end, uint64_t *ret_num, unsigned *ret_wt,
                      const uint8_t **ret_data, size_t *ret_len)
{
        uint64_t tag = 0, n = 0;
        if (wire_varint(p, end, &tag) < 0)
                return -EBADMSG;
        *ret_num = tag >> 3;
        *ret_wt = (unsigned)(tag & 7);
        switch (*ret_wt) {
        case WIRE_VARINT:
                return wire_varint(p, end, &n);
        case WIRE_FIXED64:
        case WIRE_FIXED32:
                n = *ret_wt == WIRE_FIXED64 ? 8 : 4;
                break;
        case WIRE_LEN:
                if (wire_varint(p, end, &n) < 0)
                        return -EBADMSG;
                *ret_data = *p;
                *ret_len = (size_t)n;
                break;
        default:
                return -EBADMSG; /* groups: not in proto3 */
        }
        if (n > (uint64_t)(end - *p))
                return -EBADMSG;
        *p += n;
        return 0;
}

/* "<path> <problem>", or "a key of <path> <problem>" for a map key. */
static int wirecheck_refuse(struct wirecheck *w, bool key, enum wirecheck_utf8 u)
{
        snprintf(w->why, w->why_size, "%s%s %s", key ? "a key of " : "", w->path,
                 u == WIRECHECK_UTF8_NUL ? "contains U+0000" : "is not valid UTF-8");
        return -SILO_EINVALID;
}

static int wirecheck_string(struct wirecheck *w, const uint8_t *data, size_t len)
{
        enum wirecheck_utf8 u = wirecheck_utf8(data, len);
        return u == WIRECHECK_UTF8_OK ? 0 : wirecheck_refuse(w, false, u);
}

/* Appends to the path (cut when it would not fit: it only names the field). */
__attribute__((format(printf, 2, 3))) static void wirecheck_path_add(struct wirecheck *w,
                                                                     const char *fmt, ...)
{
        size_t n = strlen(w->path);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(w->path + n, sizeof(w->path) - n, fmt, ap); /* NOLINT: clang 14 va_list */
        va_end(ap);
}

static int wirecheck_malformed(struct wirecheck *w)
{
        snprintf(w->why, w->why_size, "%s is malformed", w->path[0] ? w->path : "request");
        return -SILO_EINVALID;
}

/* `path["key"]`, the key shown up to WIRECHECK_KEY_SHOWN bytes with quotes, backslashes and
 * control characters as '?'. The key is valid UTF-8 here; the cut backs off to a boundary. */
static void wirecheck_path_key(struct wirecheck *w, const uint8_t *key, size_t len)
{
        char shown[WIRECHECK_KEY_SHOWN + 1];
        size_t n = len < WIRECHECK_KEY_SHOWN ? len : WIRECHECK_KEY_SHOWN;
        while (n < len && n > 0 && (key[n] & 0xc0) == 0x80)
                n--;
        for (size_t i = 0; i < n; i++)
                shown[i] = key[i] < 0x20 || key[i] == 0x7f || key[i] == '"' || key[i] == '\\'
                               ? '?'
                               : (char)key[i];
        shown[n] = '\0';
        wirecheck_path_add(w, "[\"%s%s\"]", shown, n < len ? "..." : "");
}

static bool wirecheck_is_map_entry(const ProtobufCFieldDescriptor *f)
{
        const ProtobufCMessageDescriptor *d = f->descriptor;
        size_t n = d && d->name ? strlen(d->name) : 0;
        return f->label == PROTOBUF_C_LABEL_REPEATED && n > 5 &&
               strcmp(d->name + n - 5, "Entry") == 0 && d->n_fields == 2 && d->fields[0].id == 1 &&
               strcmp(d->fields[0].name, "key") == 0 && d->fields[1].id == 2 &&
               strcmp(d->fields[1].name, "value") == 0;
}

static int wirecheck_message(struct wirecheck *w, const ProtobufCMessageDescriptor *d,
                             const uint8_t *p, const uint8_t *end, int depth);

/* A value of type f (string or message) at the current path. */
static int wirecheck_value(struct wirecheck *w, const ProtobufCFieldDescriptor *f,
                           const uint8_t *data, size_t len, int depth)
{
        if (f->type == PROTOBUF_C_TYPE_STRING)
                return wirecheck_string(w, data, len);
        return wirecheck_message(w, f->descriptor, data, data + len, depth + 1);
}

/* One map entry: every key first (the path of the value names the key), then the value. */
static int wirecheck_map_entry(struct wirecheck *w, const ProtobufCMessageDescriptor *d,
                               const uint8_t *start, const uint8_t *end, int depth)
{
        const uint8_t *key = NULL, *p = start, *data = NULL;
        size_t key_len = 0, len = 0;
        uint64_t num;
        unsigned wt;
        while (p < end) {
                if (wire_field(&p, end, &num, &wt, &data, &len) < 0)
                        return wirecheck_malformed(w);
                if (num != 1 || wt != WIRE_LEN || d->fields[0].type != PROTOBUF_C_TYPE_STRING)
                        continue;
                enum wirecheck_utf8 u = wirecheck_utf8(data, len);
                if (u != WIRECHECK_UTF8_OK)
                        return wirecheck_refuse(w, true, u);
                key = data, key_len = len;
        }
        const ProtobufCFieldDescriptor *vf = &d->fields[1];
        if (vf->type != PROTOBUF_C_TYPE_STRING && vf->type != PROTOBUF_C_TYPE_MESSAGE)
                return 0;
        if (key)
                wirecheck_path_key(w, key, key_len);
        else
                wirecheck_path_add(w, "[\"\"]");
        for (p = start; p < end;) {
                if (wire_field(&p, end, &num, &wt, &data, &len) < 0)
                        return wirecheck_malformed(w);
                if (num != 2 || wt != WIRE_LEN)
                        continue;
                int r = wirecheck_value(w, vf, data, len, depth);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int wirecheck_message(struct wirecheck *w, const ProtobufCMessageDescriptor *d,
                             const uint8_t *p, const uint8_t *end, int depth)
{
        unsigned seen[WIRECHECK_FIELDS_MAX] = {0};
        size_t at = strlen(w->path);
        if (depth > WIRECHECK_DEPTH_MAX) {
                snprintf(w->why, w->why_size, "%s is nested too deeply", at ? w->path : "request");
                return -SILO_EINVALID;
        }
        while (p < end) {
                const uint8_t *data = NULL;
                size_t len = 0;
                uint64_t num;
                unsigned wt;
                if (wire_field(&p, end, &num, &wt, &data, &len) < 0)
                        return wirecheck_malformed(w);
                const ProtobufCFieldDescriptor *f =
                    wt == WIRE_LEN && num <= UINT32_MAX
                        ? protobuf_c_message_descriptor_get_field(d, (unsigned)num)
                        : NULL;
                if (!f || (f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE))
                        continue; /* scalars, bytes, unknown fields: nothing to read as text */
                size_t idx = (size_t)(f - d->fields);
                unsigned i = idx < WIRECHECK_FIELDS_MAX ? seen[idx]++ : 0;
                bool map = f->type == PROTOBUF_C_TYPE_MESSAGE && wirecheck_is_map_entry(f);
                wirecheck_path_add(w, "%s%s", at ? "." : "", f->name);
                if (f->label == PROTOBUF_C_LABEL_REPEATED && !map)
                        wirecheck_path_add(w, "[%u]", i);
                int r = map ? wirecheck_map_entry(w, f->descriptor, data, data + len, depth + 1)
                            : wirecheck_value(w, f, data, len, depth);
                if (r < 0)
                        return r;
                w->path[at] = '\0';
        }
        return 0;
}

int wirecheck_strings(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len,
                      char *why, size_t why_size)
{
        struct wirecheck w = {.why = why, .why_size = why_size};
        if (why_size)
                why[0] = '\0';
        return wirecheck_message(&w, desc, data, data + len, 0);
}
