/* Generic printing of any protobuf-c message, driven by the descriptors: the canonical proto3
 * JSON mapping (-o json) or one "path=value ..." line per result (text). */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/siloctl.h"

#include "common/cleanup.h"

static void out_json_msg(FILE *f, const ProtobufCMessage *m, const char *redact);
static void out_text_msg(FILE *f, const ProtobufCMessage *m, const char *prefix, bool *first);

static void out_json_string(FILE *f, const char *s, size_t len)
{
        fputc('"', f);
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];
                if (c == '"' || c == '\\')
                        fprintf(f, "\\%c", c);
                else if (c < 0x20 || c == 0x7f)
                        fprintf(f, "\\u%04x", c);
                else
                        fputc(c, f);
        }
        fputc('"', f);
}

static void out_base64(FILE *f, const ProtobufCBinaryData *b)
{
        static const char tab[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        fputc('"', f);
        for (size_t i = 0; i < b->len; i += 3) {
                uint32_t v = (uint32_t)b->data[i] << 16;
                size_t n = b->len - i < 3 ? b->len - i : 3;
                if (n > 1)
                        v |= (uint32_t)b->data[i + 1] << 8;
                if (n > 2)
                        v |= b->data[i + 2];
                for (size_t k = 0; k < 4; k++)
                        fputc(k <= n ? tab[(v >> (18 - 6 * k)) & 63] : '=', f);
        }
        fputc('"', f);
}

/* The proto3 JSON name: lowerCamelCase of the field name. */
static void out_json_name(FILE *f, const char *name)
{
        fputc('"', f);
        for (const char *p = name; *p; p++) {
                if (*p == '_' && p[1]) {
                        fputc(toupper((unsigned char)*++p), f);
                        continue;
                }
                fputc(*p, f);
        }
        fputs("\":", f);
}

static bool out_is_wrapper(const ProtobufCMessageDescriptor *d)
{
        return strncmp(d->name, "google.protobuf.", 16) == 0 && strstr(d->name, "Value") &&
               d->n_fields == 1 && strcmp(d->fields[0].name, "value") == 0;
}

static bool out_is_timestamp(const ProtobufCMessageDescriptor *d)
{
        return strcmp(d->name, "google.protobuf.Timestamp") == 0;
}

/* RFC 3339 in UTC, with as many fractional digits as needed (0, 3, 6 or 9). */
static void out_timestamp(FILE *f, const ProtobufCMessage *m)
{
        const Google__Protobuf__Timestamp *ts = (const Google__Protobuf__Timestamp *)m;
        time_t t = (time_t)ts->seconds;
        struct tm tm;
        char buf[64];
        if (!gmtime_r(&t, &tm) || !strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm)) {
                fprintf(f, "%" PRId64, ts->seconds);
                return;
        }
        fputs(buf, f);
        int32_t ns = ts->nanos;
        if (ns > 0 && ns % 1000000 == 0)
                fprintf(f, ".%03d", ns / 1000000);
        else if (ns > 0 && ns % 1000 == 0)
                fprintf(f, ".%06d", ns / 1000);
        else if (ns > 0)
                fprintf(f, ".%09d", ns);
        fputc('Z', f);
}

static size_t out_elem_size(ProtobufCType t)
{
        switch (t) {
        case PROTOBUF_C_TYPE_INT64:
        case PROTOBUF_C_TYPE_SINT64:
        case PROTOBUF_C_TYPE_SFIXED64:
        case PROTOBUF_C_TYPE_UINT64:
        case PROTOBUF_C_TYPE_FIXED64:
        case PROTOBUF_C_TYPE_DOUBLE:
                return 8;
        case PROTOBUF_C_TYPE_BOOL:
                return sizeof(protobuf_c_boolean);
        case PROTOBUF_C_TYPE_STRING:
        case PROTOBUF_C_TYPE_MESSAGE:
                return sizeof(void *);
        case PROTOBUF_C_TYPE_BYTES:
                return sizeof(ProtobufCBinaryData);
        default:
                return 4;
        }
}

static bool out_is_default(const ProtobufCFieldDescriptor *fd, const void *p)
{
        static const char zero[sizeof(ProtobufCBinaryData)];
        switch (fd->type) {
        case PROTOBUF_C_TYPE_STRING:
                return !*(char *const *)p || !**(char *const *)p;
        case PROTOBUF_C_TYPE_MESSAGE:
                return !*(void *const *)p;
        case PROTOBUF_C_TYPE_BYTES:
                return ((const ProtobufCBinaryData *)p)->len == 0;
        default:
                return memcmp(p, zero, out_elem_size(fd->type)) == 0;
        }
}

/* Whether the field has presence (message, oneof member, proto3 optional) and is absent. */
static bool out_is_absent(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *fd)
{
        const char *base = (const char *)m;
        if (fd->label == PROTOBUF_C_LABEL_REPEATED)
                return false;
        if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
                return *(const uint32_t *)(base + fd->quantifier_offset) != fd->id;
        if (fd->type == PROTOBUF_C_TYPE_MESSAGE)
                return !*(void *const *)(base + fd->offset);
        if (fd->label == PROTOBUF_C_LABEL_OPTIONAL && fd->quantifier_offset &&
            fd->type != PROTOBUF_C_TYPE_STRING)
                return !*(const protobuf_c_boolean *)(base + fd->quantifier_offset);
        return false;
}

/* Number of values: the repeated count, or 1 (0 when absent or, if skip_defaults, default). */
static size_t out_count(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *fd,
                        bool skip_defaults)
{
        const char *base = (const char *)m;
        if (fd->label == PROTOBUF_C_LABEL_REPEATED)
                return *(const size_t *)(base + fd->quantifier_offset);
        if (out_is_absent(m, fd))
                return 0;
        return skip_defaults && out_is_default(fd, base + fd->offset) ? 0 : 1;
}

static bool out_is_map(const ProtobufCFieldDescriptor *fd)
{
        if (fd->type != PROTOBUF_C_TYPE_MESSAGE || fd->label != PROTOBUF_C_LABEL_REPEATED)
                return false;
        /* protoc-c turns map<K, V> into a repeated "<Name>Entry" message of key and value. */
        const ProtobufCMessageDescriptor *d = fd->descriptor;
        size_t n = strlen(d->name);
        return d->n_fields == 2 && n > 5 && strcmp(d->name + n - 5, "Entry") == 0 &&
               strcmp(d->fields[0].name, "key") == 0 && strcmp(d->fields[1].name, "value") == 0;
}

/* A scalar as JSON (quote: 64-bit integers as strings) or as text. */
static void out_scalar(FILE *f, const ProtobufCFieldDescriptor *fd, const void *p, bool json)
{
        switch (fd->type) {
        case PROTOBUF_C_TYPE_INT32:
        case PROTOBUF_C_TYPE_SINT32:
        case PROTOBUF_C_TYPE_SFIXED32:
                fprintf(f, "%" PRId32, *(const int32_t *)p);
                break;
        case PROTOBUF_C_TYPE_UINT32:
        case PROTOBUF_C_TYPE_FIXED32:
                fprintf(f, "%" PRIu32, *(const uint32_t *)p);
                break;
        case PROTOBUF_C_TYPE_INT64:
        case PROTOBUF_C_TYPE_SINT64:
        case PROTOBUF_C_TYPE_SFIXED64:
                fprintf(f, json ? "\"%" PRId64 "\"" : "%" PRId64, *(const int64_t *)p);
                break;
        case PROTOBUF_C_TYPE_UINT64:
        case PROTOBUF_C_TYPE_FIXED64:
                fprintf(f, json ? "\"%" PRIu64 "\"" : "%" PRIu64, *(const uint64_t *)p);
                break;
        case PROTOBUF_C_TYPE_FLOAT:
                fprintf(f, "%g", (double)*(const float *)p);
                break;
        case PROTOBUF_C_TYPE_DOUBLE:
                fprintf(f, "%g", *(const double *)p);
                break;
        case PROTOBUF_C_TYPE_BOOL:
                fputs(*(const protobuf_c_boolean *)p ? "true" : "false", f);
                break;
        case PROTOBUF_C_TYPE_ENUM: {
                const ProtobufCEnumValue *ev =
                    protobuf_c_enum_descriptor_get_value(fd->descriptor, *(const int *)p);
                if (ev)
                        fprintf(f, json ? "\"%s\"" : "%s", ev->name);
                else
                        fprintf(f, "%d", *(const int *)p);
                break;
        }
        case PROTOBUF_C_TYPE_STRING: {
                const char *s = *(char *const *)p ? *(char *const *)p : "";
                bool plain = !json && *s && strcspn(s, " \t\n\"\\=") == strlen(s);
                if (plain)
                        fputs(s, f);
                else
                        out_json_string(f, s, strlen(s));
                break;
        }
        case PROTOBUF_C_TYPE_BYTES:
                out_base64(f, p);
                break;
        case PROTOBUF_C_TYPE_MESSAGE:
                break;
        }
}

/* ---- JSON ---- */

static void out_json_value(FILE *f, const ProtobufCFieldDescriptor *fd, const void *p,
                           const char *redact)
{
        if (fd->type != PROTOBUF_C_TYPE_MESSAGE) {
                out_scalar(f, fd, p, true);
                return;
        }
        const ProtobufCMessage *m = *(ProtobufCMessage *const *)p;
        if (out_is_wrapper(m->descriptor))
                out_json_value(f, &m->descriptor->fields[0],
                               (const char *)m + m->descriptor->fields[0].offset, redact);
        else if (out_is_timestamp(m->descriptor)) {
                fputc('"', f);
                out_timestamp(f, m);
                fputc('"', f);
        } else
                out_json_msg(f, m, redact);
}

static void out_json_field(FILE *f, const ProtobufCMessage *m, const ProtobufCFieldDescriptor *fd,
                           size_t n, const char *redact)
{
        const char *p = (const char *)m + fd->offset;
        out_json_name(f, fd->name);
        if (fd->label != PROTOBUF_C_LABEL_REPEATED) {
                out_json_value(f, fd, p, redact);
                return;
        }
        bool map = out_is_map(fd);
        bool hide = map && redact && strcmp(fd->name, redact) == 0;
        const char *arr = *(const char *const *)p;
        fputc(map ? '{' : '[', f);
        for (size_t i = 0; i < n; i++) {
                fputs(i ? "," : "", f);
                if (!map) {
                        out_json_value(f, fd, arr + i * out_elem_size(fd->type), redact);
                        continue;
                }
                const ProtobufCMessageDescriptor *d = fd->descriptor;
                const char *entry = ((char *const *)arr)[i];
                /* Map keys are always strings in JSON. */
                if (d->fields[0].type == PROTOBUF_C_TYPE_STRING)
                        out_scalar(f, &d->fields[0], entry + d->fields[0].offset, true);
                else {
                        fputc('"', f);
                        out_scalar(f, &d->fields[0], entry + d->fields[0].offset, false);
                        fputc('"', f);
                }
                fputc(':', f);
                if (hide)
                        fputs("\"***\"", f);
                else
                        out_json_value(f, &d->fields[1], entry + d->fields[1].offset, redact);
        }
        fputc(map ? '}' : ']', f);
}

/* Every field without presence is printed, at its zero value too (empty lists as [], maps as
 * {}), so that scripts find what they look for; absent messages and oneofs are left out. */
static void out_json_msg(FILE *f, const ProtobufCMessage *m, const char *redact)
{
        const ProtobufCMessageDescriptor *d = m->descriptor;
        bool first = true;
        fputc('{', f);
        for (unsigned i = 0; i < d->n_fields; i++) {
                const ProtobufCFieldDescriptor *fd = &d->fields[i];
                if (out_is_absent(m, fd))
                        continue;
                fputs(first ? "" : ",", f);
                first = false;
                out_json_field(f, m, fd, out_count(m, fd, false), redact);
        }
        fputc('}', f);
}

void cli_print_json(FILE *f, const ProtobufCMessage *msg, const char *redact)
{
        out_json_msg(f, msg, redact);
}

/* ---- text ---- */

static void out_text_key(FILE *f, const char *prefix, const char *name, bool *first)
{
        fputs(*first ? "" : " ", f);
        *first = false;
        fprintf(f, "%s%s%s=", prefix, *prefix ? "." : "", name);
}

static void out_text_value(FILE *f, const ProtobufCFieldDescriptor *fd, const void *p,
                           const char *path, bool *first)
{
        if (fd->type != PROTOBUF_C_TYPE_MESSAGE) {
                out_text_key(f, "", path, first);
                out_scalar(f, fd, p, false);
                return;
        }
        const ProtobufCMessage *m = *(ProtobufCMessage *const *)p;
        if (out_is_wrapper(m->descriptor)) {
                out_text_value(f, &m->descriptor->fields[0],
                               (const char *)m + m->descriptor->fields[0].offset, path, first);
        } else if (out_is_timestamp(m->descriptor)) {
                out_text_key(f, "", path, first);
                out_timestamp(f, m);
        } else {
                out_text_msg(f, m, path, first);
        }
}

/* The set fields of m as "path=value" pairs: nested messages and map keys joined with '.',
 * repeated messages indexed ("usage[1].unit"), repeated scalars joined with ','. */
static void out_text_msg(FILE *f, const ProtobufCMessage *m, const char *prefix, bool *first)
{
        const ProtobufCMessageDescriptor *d = m->descriptor;
        for (unsigned i = 0; i < d->n_fields; i++) {
                const ProtobufCFieldDescriptor *fd = &d->fields[i];
                size_t n = out_count(m, fd, true);
                if (n == 0)
                        continue;
                char path[512];
                int w =
                    snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", fd->name);
                if (w < 0 || (size_t)w >= sizeof(path))
                        continue;
                const char *p = (const char *)m + fd->offset;
                if (fd->label != PROTOBUF_C_LABEL_REPEATED) {
                        out_text_value(f, fd, p, path, first);
                        continue;
                }
                const char *arr = *(const char *const *)p;
                if (out_is_map(fd)) {
                        const ProtobufCMessageDescriptor *ed = fd->descriptor;
                        for (size_t k = 0; k < n; k++) {
                                const char *e = ((char *const *)arr)[k];
                                char key[512];
                                int kw = snprintf(key, sizeof(key), "%s.%s", path,
                                                  *(char *const *)(e + ed->fields[0].offset));
                                if (kw < 0 || (size_t)kw >= sizeof(key))
                                        continue;
                                out_text_value(f, &ed->fields[1], e + ed->fields[1].offset, key,
                                               first);
                        }
                } else if (fd->type == PROTOBUF_C_TYPE_MESSAGE) {
                        for (size_t k = 0; k < n; k++) {
                                char key[512];
                                int kw = snprintf(key, sizeof(key), "%s[%zu]", path, k);
                                if (kw < 0 || (size_t)kw >= sizeof(key))
                                        continue;
                                out_text_value(f, fd, arr + k * sizeof(void *), key, first);
                        }
                } else {
                        out_text_key(f, "", path, first);
                        for (size_t k = 0; k < n; k++) {
                                fputs(k ? "," : "", f);
                                out_scalar(f, fd, arr + k * out_elem_size(fd->type), false);
                        }
                }
        }
}

static void out_text_line(FILE *f, const ProtobufCMessage *m)
{
        bool first = true;
        out_text_msg(f, m, "", &first);
        fputc('\n', f);
}

/* The one repeated message field that holds the reply's results (entries, capabilities),
 * when nothing but it and next_token is set; else NULL. */
static const ProtobufCFieldDescriptor *out_results_field(const ProtobufCMessage *m)
{
        const ProtobufCFieldDescriptor *res = NULL;
        for (unsigned i = 0; i < m->descriptor->n_fields; i++) {
                const ProtobufCFieldDescriptor *fd = &m->descriptor->fields[i];
                if (strcmp(fd->name, "next_token") == 0)
                        continue;
                if (fd->label == PROTOBUF_C_LABEL_REPEATED && fd->type == PROTOBUF_C_TYPE_MESSAGE &&
                    !out_is_map(fd) && !res)
                        res = fd;
                else if (out_count(m, fd, true) > 0)
                        return NULL;
        }
        return res;
}

/* The single message field that is the result (volume, snapshot, group_snapshot), or NULL. */
static const ProtobufCMessage *out_single_result(const ProtobufCMessage *m)
{
        const ProtobufCMessage *res = NULL;
        for (unsigned i = 0; i < m->descriptor->n_fields; i++) {
                const ProtobufCFieldDescriptor *fd = &m->descriptor->fields[i];
                if (out_count(m, fd, true) == 0)
                        continue;
                if (res || fd->type != PROTOBUF_C_TYPE_MESSAGE ||
                    fd->label == PROTOBUF_C_LABEL_REPEATED)
                        return NULL;
                res = *(ProtobufCMessage *const *)((const char *)m + fd->offset);
                if (out_is_wrapper(res->descriptor) || out_is_timestamp(res->descriptor))
                        return NULL;
        }
        return res;
}

size_t cli_print_text(FILE *f, const ProtobufCMessage *msg)
{
        const ProtobufCFieldDescriptor *fd = out_results_field(msg);
        if (fd) {
                size_t n = out_count(msg, fd, false);
                ProtobufCMessage *const *arr =
                    *(ProtobufCMessage *const *const *)((const char *)msg + fd->offset);
                for (size_t i = 0; i < n; i++)
                        out_text_line(f, arr[i]);
                return n;
        }
        const ProtobufCMessage *one = out_single_result(msg);
        bool empty = true;
        for (unsigned i = 0; i < msg->descriptor->n_fields; i++)
                empty = empty && out_count(msg, &msg->descriptor->fields[i], true) == 0;
        if (empty)
                return 0;
        out_text_line(f, one ? one : msg);
        return 1;
}
