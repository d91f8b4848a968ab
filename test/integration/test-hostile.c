/* ctest-labels: privileged */
/* Every method of every service, fed empty requests, random bytes, and requests whose string
 * fields, at every depth, are hostile (traversal, absolute paths to system files, control
 * characters, huge):
 * the daemon never crashes (ASan runs this too), never answers UNKNOWN or INTERNAL, and
 * nothing appears outside its root. */
#include <check.h>
#include <csi.pb-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test/integration/harness.h"
#include "common/cleanup.h"

static struct harness h;

#define FORGED "ts=2000-01-01T00:00:00.000Z"

static const ProtobufCServiceDescriptor *const services[] = {
    &csi__v1__identity__descriptor,
    &csi__v1__controller__descriptor,
    &csi__v1__group_controller__descriptor,
    &csi__v1__snapshot_metadata__descriptor,
    &csi__v1__node__descriptor,
};

static char huge[8192];
/* A log line of its own, if a newline in a request reached the log as one. */
static const char forged[] = "vol-\n" FORGED " level=error rpc=DeleteVolume msg='forged'";

static const char *const hostile[] = {
    "../../../../etc/passwd",    "/etc", "/dev/null", "..",   ".", "/", "vol-\n-x", "a/b",
    "vol-0000000000000000/../x", huge,   "",          forged,
};

static void setup(void)
{
        memset(huge, 'a', sizeof(huge) - 1);
        ck_assert_int_eq(harness_start(&h, NULL, NULL), 0);
}

static void teardown(void)
{
        harness_stop(&h);
}

static void call_raw(const char *path, const void *data, size_t len,
                     const ProtobufCMessageDescriptor *out)
{
        struct client_result res;
        ck_assert_int_eq(client_call_raw(h.client, path, data, len, out, 30000, &res), 0);
        /* UNAVAILABLE: the daemon died on this request (nothing else overloads it here). */
        ck_assert_msg(res.status != ERR_UNKNOWN && res.status != ERR_INTERNAL &&
                          res.status != ERR_UNAVAILABLE,
                      "%s (%zu bytes) answered %s: %s", path, len, err_status_name(res.status),
                      res.message ? res.message : "");
        client_result_release(&res);
}

/* A valid single-node mount capability, so that requests get past their capability checks
 * and the hostile strings reach the code that uses them. */
static Csi__V1__VolumeCapability__MountVolume cap_mount =
    CSI__V1__VOLUME_CAPABILITY__MOUNT_VOLUME__INIT;
static Csi__V1__VolumeCapability__AccessMode cap_mode =
    CSI__V1__VOLUME_CAPABILITY__ACCESS_MODE__INIT;
static Csi__V1__VolumeCapability cap = CSI__V1__VOLUME_CAPABILITY__INIT;

/* Storage of one request's nested messages and lists: a bump allocator, dropped whole. */
struct arena {
        _Alignas(16) char buf[64 * 1024];
        size_t used;
};

static void *arena_alloc(struct arena *a, size_t size)
{
        size = (size + 15) & ~(size_t)15;
        ck_assert_uint_le(size, sizeof(a->buf) - a->used);
        void *p = a->buf + a->used;
        a->used += size;
        memset(p, 0, size);
        return p;
}

/* Stores one value in field f of m: the pointer itself, or a list of one for repeated
 * fields; a oneof member also becomes the chosen case. */
static void set_field(struct arena *a, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
                      void *value)
{
        char *at = (char *)m + f->offset;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
                void **list = arena_alloc(a, sizeof(void *));
                list[0] = value;
                *(size_t *)((char *)m + f->quantifier_offset) = 1;
                *(void ***)at = list;
        } else {
                *(void **)at = value;
        }
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
                *(uint32_t *)((char *)m + f->quantifier_offset) = f->id;
}

/* One request being built: either every string is the hostile one (all), or only string slot
 * number target is, the others are benign, and a repeated or nested message is only present
 * when it holds the target, so that the hostile string gets as far into the handler as the
 * request's other fields let it. */
struct fill {
        struct arena a;
        const char *hostile;
        bool all, with_cap;
        unsigned target, next; /* slots are numbered in visiting order */
        bool hit;              /* the target slot was filled */
        char benign[32];       /* fresh for each request: no name collides with an earlier one */
        char path[256];        /* of the field being filled: "volume_capability.mount.fs_type" */
        char expect[300];      /* how the server names the target slot when it refuses it */
};

static bool is_map_entry(const ProtobufCFieldDescriptor *f)
{
        const ProtobufCMessageDescriptor *d = f->descriptor;
        size_t n = strlen(d->name);
        return f->label == PROTOBUF_C_LABEL_REPEATED && n > 5 &&
               strcmp(d->name + n - 5, "Entry") == 0 && d->n_fields == 2;
}

/* Appends field f to x->path (a map entry's key or value to the map's path); returns the
 * length to cut back to. */
static size_t path_push(struct fill *x, const ProtobufCMessageDescriptor *d,
                        const ProtobufCFieldDescriptor *f, bool in_map)
{
        size_t at = strlen(x->path);
        if (in_map && strcmp(f->name, "value") == 0)
                snprintf(x->path + at, sizeof(x->path) - at, "[\"%s\"]", x->benign);
        else if (!in_map)
                snprintf(x->path + at, sizeof(x->path) - at, "%s%s%s", at ? "." : "", f->name,
                         f->label == PROTOBUF_C_LABEL_REPEATED &&
                                 !(f->type == PROTOBUF_C_TYPE_MESSAGE && is_map_entry(f))
                             ? "[0]"
                             : "");
        (void)d;
        return at;
}

/* Visits every string field of m at every depth: nested messages, repeated fields, map keys
 * and values, the first member of each oneof. */
static void fill_message(struct fill *x, ProtobufCMessage *m, int depth, bool in_map)
{
        const ProtobufCMessageDescriptor *d = m->descriptor;
        for (unsigned i = 0; i < d->n_fields; i++) {
                const ProtobufCFieldDescriptor *f = &d->fields[i];
                bool repeated = f->label == PROTOBUF_C_LABEL_REPEATED;
                if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
                    *(uint32_t *)((char *)m + f->quantifier_offset) != 0)
                        continue;
                size_t at = path_push(x, d, f, in_map);
                if (f->type == PROTOBUF_C_TYPE_STRING) {
                        bool mine = x->all || x->next == x->target;
                        x->next++;
                        x->hit = x->hit || mine;
                        if (mine && !x->all)
                                snprintf(x->expect, sizeof(x->expect), "%s%s",
                                         in_map && strcmp(f->name, "key") == 0 ? "a key of " : "",
                                         x->path);
                        if (mine || !repeated)
                                set_field(&x->a, m, f, (void *)(mine ? x->hostile : x->benign));
                } else if (x->with_cap && f->type == PROTOBUF_C_TYPE_MESSAGE &&
                           f->descriptor == &csi__v1__volume_capability__descriptor) {
                        set_field(&x->a, m, f, &cap);
                } else if (f->type == PROTOBUF_C_TYPE_MESSAGE && depth < 6) {
                        const ProtobufCMessageDescriptor *sd = f->descriptor;
                        ProtobufCMessage *sub = arena_alloc(&x->a, sd->sizeof_message);
                        sd->message_init(sub);
                        bool before = x->hit;
                        x->hit = false;
                        fill_message(x, sub, depth + 1, is_map_entry(f));
                        if (x->all || x->hit)
                                set_field(&x->a, m, f, sub);
                        x->hit = x->hit || before;
                }
                x->path[at] = '\0';
        }
}

static struct fill fill; /* static: the arena is large */

/* Builds and packs the request (see struct fill) into *ret (caller frees); returns its size.
 * fill.next is then the number of string slots, fill.expect names the target slot. */
static size_t build(const ProtobufCMethodDescriptor *m, const char *s, bool with_cap, bool all,
                    unsigned target, uint8_t **ret)
{
        static unsigned serial;
        struct fill *x = &fill;
        x->a.used = 0;
        x->hostile = s;
        x->all = all;
        x->with_cap = with_cap;
        x->target = target;
        x->next = 0;
        x->hit = false;
        x->path[0] = x->expect[0] = '\0';
        snprintf(x->benign, sizeof(x->benign), "pvc-%u", ++serial);
        ProtobufCMessage *req = arena_alloc(&x->a, m->input->sizeof_message);
        m->input->message_init(req);
        fill_message(x, req, 0, false);
        size_t len = protobuf_c_message_get_packed_size(req);
        *ret = malloc(len + 1);
        ck_assert_ptr_nonnull(*ret);
        protobuf_c_message_pack(req, *ret);
        return len;
}

/* Sends the request build() makes; returns the number of string slots. */
static unsigned call_with_strings(const char *path, const ProtobufCMethodDescriptor *m,
                                  const char *s, bool with_cap, bool all, unsigned target)
{
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len = build(m, s, with_cap, all, target, &buf);
        call_raw(path, buf, len, m->output);
        return fill.next;
}

static void for_each_method(void (*fn)(const char *path, const ProtobufCMethodDescriptor *m))
{
        for (size_t s = 0; s < sizeof(services) / sizeof(services[0]); s++) {
                for (unsigned i = 0; i < services[s]->n_methods; i++) {
                        char path[160];
                        snprintf(path, sizeof(path), "/%s/%s", services[s]->name,
                                 services[s]->methods[i].name);
                        fn(path, &services[s]->methods[i]);
                }
        }
}

static void empty_and_random(const char *path, const ProtobufCMethodDescriptor *m)
{
        call_raw(path, "", 0, m->output);
        unsigned seed = 1;
        uint8_t buf[64];
        for (int round = 0; round < 20; round++) {
                for (size_t i = 0; i < sizeof(buf); i++)
                        buf[i] = (uint8_t)rand_r(&seed);
                call_raw(path, buf, (size_t)(rand_r(&seed) % sizeof(buf)), m->output);
        }
}

static void hostile_strings(const char *path, const ProtobufCMethodDescriptor *m)
{
        cap_mode.mode = CSI__V1__VOLUME_CAPABILITY__ACCESS_MODE__MODE__SINGLE_NODE_WRITER;
        cap.access_mode = &cap_mode;
        cap.access_type_case = CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_MOUNT;
        cap.mount = &cap_mount;
        for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
                for (int with_cap = 0; with_cap < 2; with_cap++) {
                        unsigned n = call_with_strings(path, m, hostile[i], with_cap, true, 0);
                        for (unsigned slot = 0; slot < n; slot++)
                                call_with_strings(path, m, hostile[i], with_cap, false, slot);
                }
        }
}

static void assert_alive_and_contained(void)
{
        struct client_result res;
        Csi__V1__ProbeRequest req = CSI__V1__PROBE_REQUEST__INIT;
        ck_assert_int_eq(harness_call(&h, "/csi.v1.Identity/Probe", &req.base,
                                      &csi__v1__probe_response__descriptor, &res),
                         0);
        ck_assert_int_eq(res.status, ERR_OK);
        client_result_release(&res);
        ck_assert_int_eq(access("/etc/passwd", F_OK), 0);
        ck_assert_int_ne(access("/etc/vol-0000000000000000", F_OK), 0);
        /* A request's bytes never start a line of the daemon's log. */
        FILE *f = fopen(h.log_path, "re");
        ck_assert_ptr_nonnull(f);
        char line[4096];
        while (fgets(line, sizeof(line), f))
                ck_assert_msg(strncmp(line, FORGED, strlen(FORGED)) != 0, "forged log line: %s",
                              line);
        fclose(f);
}

START_TEST(empty_and_random_bytes)
{
        for_each_method(empty_and_random);
        assert_alive_and_contained();
}
END_TEST

/* Every string slot of every method, with an embedded NUL and with a byte that is not UTF-8
 * put on the wire: refused as INVALID_ARGUMENT naming that field, before any handler reads
 * the cut string. */
static void wire_strings(const char *path, const ProtobufCMethodDescriptor *m)
{
        static const char marker[] = "h0st1le!";
        static const char *const bytes[] = {"h0st\0le!",
                                            "h0st\xff"
                                            "le!",
                                            "h0st\xed\xa0\x80"
                                            "e!"};
        uint8_t *buf = NULL;
        build(m, marker, true, true, 0, &buf);
        free(buf);
        unsigned n = fill.next;
        for (unsigned slot = 0; slot < n; slot++) {
                for (size_t b = 0; b < ARRAY_SIZE(bytes); b++) {
                        size_t len = build(m, marker, true, false, slot, &buf);
                        uint8_t *at = memmem(buf, len, marker, sizeof(marker) - 1);
                        ck_assert_ptr_nonnull(at);
                        memcpy(at, bytes[b], sizeof(marker) - 1);
                        struct client_result res;
                        ck_assert_int_eq(
                            client_call_raw(h.client, path, buf, len, m->output, 30000, &res), 0);
                        free(buf);
                        const char *msg = res.message ? res.message : "";
                        if (res.status != ERR_UNIMPLEMENTED) {
                                ck_assert_msg(res.status == ERR_INVALID_ARGUMENT,
                                              "%s with bad bytes in %s: %s (%s)", path, fill.expect,
                                              err_status_name(res.status), msg);
                                ck_assert_msg(strstr(msg, fill.expect),
                                              "%s: message does not name %s: %s", path, fill.expect,
                                              msg);
                        }
                        client_result_release(&res);
                }
        }
}

START_TEST(nul_and_bad_utf8_in_every_string)
{
        cap_mode.mode = CSI__V1__VOLUME_CAPABILITY__ACCESS_MODE__MODE__SINGLE_NODE_WRITER;
        cap.access_mode = &cap_mode;
        cap.access_type_case = CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_MOUNT;
        cap.mount = &cap_mount;
        for_each_method(wire_strings);
        assert_alive_and_contained();
}
END_TEST

START_TEST(hostile_string_fields)
{
        for_each_method(hostile_strings);
        assert_alive_and_contained();
}
END_TEST

int main(void)
{
        Suite *s = suite_create("hostile");
        TCase *tc = tcase_create("input");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 300);
        tcase_add_test(tc, empty_and_random_bytes);
        tcase_add_test(tc, hostile_string_fields);
        tcase_add_test(tc, nul_and_bad_utf8_in_every_string);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
