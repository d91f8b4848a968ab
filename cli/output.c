/* Generic printing of any protobuf-c message: proto3 JSON mapping (-o json) or indented
 * "field: value" text, driven by the message descriptors. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/siloctl.h"

#include "common/cleanup.h"

struct out {
        FILE *f;
        bool json;
};

static void out_msg(const struct out *o, const ProtobufCMessage *m, int depth);

static void out_json_string(FILE *f, const char *s, size_t len)
{
        fputc('"', f);
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];
                if (c == '"' || c == '\\')
                        fprintf(f, "\\%c", c);
                else if (c < 0x20)
                        fprintf(f, "\\u%04x", c);
                else
                        fputc(c, f);
        }
        fputc('"', f);
}

static void out_name(const struct out *o, const char *name)
{
        if (!o->json) {
                fputs(name, o->f);
                return;
        }
        fputc('"', o->f);
        for (const char *p = name; *p; p++) {
                if (*p == '_' && p[1]) {
                        fputc(toupper((unsigned char)*++p), o->f);
                        continue;
                }
                fputc(*p, o->f);
        }
        fputc('"', o->f);
}

static void out_enum(const struct out *o, const ProtobufCEnumDescriptor *d, int v)
{
        const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(d, v);
        if (ev && o->json)
                fprintf(o->f, "\"%s\"", ev->name);
        else if (ev)
                fputs(ev->name, o->f);
        else
                fprintf(o->f, "%d", v);
}

/* One scalar or message value at p. */
static void out_value(const struct out *o, const ProtobufCFieldDescriptor *fd, const void *p,
                      int depth)
{
        FILE *f = o->f;
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
                fprintf(f, o->json ? "\"%" PRId64 "\"" : "%" PRId64, *(const int64_t *)p);
                break;
        case PROTOBUF_C_TYPE_UINT64:
        case PROTOBUF_C_TYPE_FIXED64:
                fprintf(f, o->json ? "\"%" PRIu64 "\"" : "%" PRIu64, *(const uint64_t *)p);
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
        case PROTOBUF_C_TYPE_ENUM:
                out_enum(o, fd->descriptor, *(const int *)p);
                break;
        case PROTOBUF_C_TYPE_STRING: {
                const char *s = *(char *const *)p ? *(char *const *)p : "";
                if (o->json)
                        out_json_string(f, s, strlen(s));
                else
                        fputs(s, f);
                break;
        }
        case PROTOBUF_C_TYPE_BYTES: {
                const ProtobufCBinaryData *b = p;
                out_json_string(f, (const char *)b->data, b->len);
                break;
        }
        case PROTOBUF_C_TYPE_MESSAGE:
                out_msg(o, *(ProtobufCMessage *const *)p, depth + 1);
                break;
        }
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

/* Number of values to print for the field: 0 (absent), 1, or the repeated count. */
static size_t out_count(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *fd)
{
        const char *base = (const char *)m;
        if (fd->label == PROTOBUF_C_LABEL_REPEATED)
                return *(const size_t *)(base + fd->quantifier_offset);
        if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
                return *(const uint32_t *)(base + fd->quantifier_offset) == fd->id;
        if (fd->label == PROTOBUF_C_LABEL_OPTIONAL && fd->quantifier_offset &&
            fd->type != PROTOBUF_C_TYPE_MESSAGE && fd->type != PROTOBUF_C_TYPE_STRING)
                return *(const protobuf_c_boolean *)(base + fd->quantifier_offset);
        return !out_is_default(fd, base + fd->offset);
}

static bool out_is_map(const ProtobufCFieldDescriptor *fd)
{
        if (fd->type != PROTOBUF_C_TYPE_MESSAGE || fd->label != PROTOBUF_C_LABEL_REPEATED)
                return false;
        /* protoc-c turns map<K, V> into a repeated "<Name>Entry" message of key and value. */
        const ProtobufCMessageDescriptor *d = fd->descriptor;
        return d->n_fields == 2 && strcmp(d->fields[0].name, "key") == 0 &&
               strcmp(d->fields[1].name, "value") == 0;
}

static void out_indent(const struct out *o, int depth)
{
        fprintf(o->f, "\n%*s", depth * 2, "");
}

static void out_map(const struct out *o, const ProtobufCFieldDescriptor *fd, const void *arr,
                    size_t n, int depth)
{
        const ProtobufCMessageDescriptor *d = fd->descriptor;
        fputs(o->json ? "{" : "", o->f);
        for (size_t i = 0; i < n; i++) {
                const char *entry = ((char *const *)arr)[i];
                if (o->json)
                        fputs(i ? "," : "", o->f);
                else
                        out_indent(o, depth + 1);
                out_value(o, &d->fields[0], entry + d->fields[0].offset, depth + 1);
                fputs(o->json ? ":" : ": ", o->f);
                out_value(o, &d->fields[1], entry + d->fields[1].offset, depth + 1);
        }
        fputs(o->json ? "}" : "", o->f);
}

static void out_field(const struct out *o, const ProtobufCMessage *m,
                      const ProtobufCFieldDescriptor *fd, size_t n, int depth)
{
        const char *p = (const char *)m + fd->offset;
        out_name(o, fd->name);
        fputc(':', o->f);
        if (out_is_map(fd)) {
                out_map(o, fd, *(void *const *)p, n, depth);
                return;
        }
        if (fd->label != PROTOBUF_C_LABEL_REPEATED) {
                fputs(o->json || fd->type == PROTOBUF_C_TYPE_MESSAGE ? "" : " ", o->f);
                out_value(o, fd, p, depth);
                return;
        }
        const char *arr = *(const char *const *)p;
        fputs(o->json ? "[" : "", o->f);
        for (size_t i = 0; i < n; i++) {
                if (o->json)
                        fputs(i ? "," : "", o->f);
                else
                        fprintf(o->f, "\n%*s-%s", (depth + 1) * 2, "",
                                fd->type == PROTOBUF_C_TYPE_MESSAGE ? "" : " ");
                out_value(o, fd, arr + i * out_elem_size(fd->type), depth + 1);
        }
        fputs(o->json ? "]" : "", o->f);
}

static void out_msg(const struct out *o, const ProtobufCMessage *m, int depth)
{
        const ProtobufCMessageDescriptor *d = m->descriptor;
        bool first = true;
        fputs(o->json ? "{" : "", o->f);
        for (unsigned i = 0; i < d->n_fields; i++) {
                const ProtobufCFieldDescriptor *fd = &d->fields[i];
                size_t n = out_count(m, fd);
                if (n == 0)
                        continue;
                if (o->json)
                        fputs(first ? "" : ",", o->f);
                else if (depth > 0 || !first)
                        out_indent(o, depth);
                first = false;
                out_field(o, m, fd, n, depth);
        }
        fputs(o->json ? "}" : "", o->f);
}

static bool out_is_empty(const ProtobufCMessage *m)
{
        for (unsigned i = 0; i < m->descriptor->n_fields; i++)
                if (out_count(m, &m->descriptor->fields[i]) > 0)
                        return false;
        return true;
}

void cli_print(const struct cli *cli, const ProtobufCMessage *msg)
{
        /* An empty reply (stage, publish, delete...) says nothing in text, like a shell tool. */
        if (!cli->json && out_is_empty(msg))
                return;
        struct out o = {stdout, cli->json};
        out_msg(&o, msg, 0);
        fputc('\n', stdout);
}
