/* Writes the seed corpus of the RPC fuzz targets: for every method of every service a valid
 * request against fuzz-env.c's baseline pool, and variants of it with one field made hostile
 * (long, embedded NUL, invalid UTF-8, '..', a FIFO, a file, a missing parent, bad mount flags
 * and filesystem types, hostile map entries), plus the cases issue 9 reported. Usage:
 *   fuzz-seeds DIR    writes DIR/fuzz-<service>/<Method>-<variant> */
#include <csi.pb-c.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/id.h"
#include "common/store/store.h"
#include "controller/controller.h"
#include "test/fuzz/fuzz-env.h"

#define K FUZZ_KUBELET_DIR

/* A NUL cannot be written into a C string field: values carry this marker, and the packed
 * bytes get "\0x" in its place. */
#define NUL_MARK "\x1e\x1f"

static const ProtobufCServiceDescriptor *const services[] = {
    &csi__v1__identity__descriptor,
    &csi__v1__controller__descriptor,
    &csi__v1__group_controller__descriptor,
    &csi__v1__snapshot_metadata__descriptor,
    &csi__v1__node__descriptor,
};

static const char *out_dir;
static char vol_id[ID_MAX + 1], block_id[ID_MAX + 1], snap_id[ID_MAX + 1], snap2_id[ID_MAX + 1];
static char long_1k[1001], long_64k[65537];

static Csi__V1__VolumeCapability__AccessMode cap_mode =
    CSI__V1__VOLUME_CAPABILITY__ACCESS_MODE__INIT;
static Csi__V1__VolumeCapability__MountVolume cap_mount =
    CSI__V1__VOLUME_CAPABILITY__MOUNT_VOLUME__INIT;
static Csi__V1__VolumeCapability cap = CSI__V1__VOLUME_CAPABILITY__INIT;
static Csi__V1__VolumeCapability *caps[1] = {&cap};
static Csi__V1__CapacityRange range = CSI__V1__CAPACITY_RANGE__INIT;
static char *mount_flags[1];

/* The valid value of a string field, or NULL to leave it empty. */
static const char *valid_string(const char *method, const char *field)
{
        if (strcmp(field, "volume_id") == 0 || strcmp(field, "source_volume_id") == 0)
                return vol_id;
        if (strcmp(field, "target_snapshot_id") == 0)
                return snap2_id;
        if (strcmp(field, "snapshot_id") == 0 || strcmp(field, "base_snapshot_id") == 0)
                return snap_id;
        if (strcmp(field, "node_id") == 0)
                return FUZZ_NODE_ID;
        if (strcmp(field, "name") == 0)
                return "fuzz-seed";
        if (strcmp(field, "staging_target_path") == 0)
                return K "/dir/staging";
        if (strcmp(field, "target_path") == 0 || strcmp(field, "volume_path") == 0)
                return strstr(method, "Stats") || strstr(method, "Expand") ? K "/dir/staging"
                                                                           : K "/dir/target";
        return NULL;
}

static bool is_path(const char *field)
{
        return strstr(field, "path") != NULL;
}

static void reset_cap(void)
{
        cap_mode.mode = CSI__V1__VOLUME_CAPABILITY__ACCESS_MODE__MODE__SINGLE_NODE_WRITER;
        cap_mount.fs_type = "ext4";
        cap_mount.n_mount_flags = 0;
        cap_mount.mount_flags = mount_flags;
        cap.access_mode = &cap_mode;
        cap.access_type_case = CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_MOUNT;
        cap.mount = &cap_mount;
        range.required_bytes = 2 * 1024 * 1024;
        range.limit_bytes = 0;
}

/* Fills req with valid values: strings by name, capabilities, capacity ranges. */
static void fill_valid(ProtobufCMessage *req, const char *method)
{
        const ProtobufCMessageDescriptor *d = req->descriptor;
        static char *one_volume[1];
        one_volume[0] = vol_id;
        for (unsigned i = 0; i < d->n_fields; i++) {
                const ProtobufCFieldDescriptor *f = &d->fields[i];
                char *at = (char *)req + f->offset;
                bool repeated = f->label == PROTOBUF_C_LABEL_REPEATED;
                if (f->type == PROTOBUF_C_TYPE_STRING && !repeated) {
                        const char *v = valid_string(method, f->name);
                        if (v)
                                *(const char **)at = v;
                } else if (f->type == PROTOBUF_C_TYPE_STRING && repeated &&
                           strcmp(f->name, "source_volume_ids") == 0) {
                        *(size_t *)((char *)req + f->quantifier_offset) = 1;
                        *(char ***)at = one_volume;
                } else if (f->type == PROTOBUF_C_TYPE_MESSAGE &&
                           f->descriptor == &csi__v1__volume_capability__descriptor) {
                        if (repeated) {
                                *(size_t *)((char *)req + f->quantifier_offset) = 1;
                                *(Csi__V1__VolumeCapability ***)at = caps;
                        } else {
                                *(Csi__V1__VolumeCapability **)at = &cap;
                        }
                } else if (f->type == PROTOBUF_C_TYPE_MESSAGE &&
                           f->descriptor == &csi__v1__capacity_range__descriptor) {
                        *(Csi__V1__CapacityRange **)at = &range;
                }
        }
}

static void write_seed(const char *service, const char *method, unsigned index, const char *variant,
                       const ProtobufCMessage *req)
{
        char path[512];
        snprintf(path, sizeof(path), "%s/fuzz-%s", out_dir, service);
        if (mkdir(path, 0755) < 0 && errno != EEXIST) {
                perror(path);
                exit(1);
        }
        size_t len = protobuf_c_message_get_packed_size(req);
        uint8_t *buf = malloc(len + 1);
        if (!buf)
                exit(1);
        buf[0] = (uint8_t)index;
        protobuf_c_message_pack(req, buf + 1);
        for (size_t i = 1; i + 1 < len + 1; i++)
                if (buf[i] == 0x1e && buf[i + 1] == 0x1f) {
                        buf[i] = '\0';
                        buf[i + 1] = 'x';
                }
        snprintf(path, sizeof(path), "%s/fuzz-%s/%s-%s", out_dir, service, method, variant);
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(buf, 1, len + 1, f) != len + 1 || fclose(f) != 0) {
                perror(path);
                exit(1);
        }
        free(buf);
}

struct seed {
        const char *service; /* "controller" */
        const ProtobufCMethodDescriptor *m;
        unsigned index;
};

static ProtobufCMessage *new_request(const struct seed *s)
{
        ProtobufCMessage *req = calloc(1, s->m->input->sizeof_message);
        if (!req)
                exit(1);
        s->m->input->message_init(req);
        reset_cap();
        fill_valid(req, s->m->name);
        return req;
}

static void emit(const struct seed *s, const char *variant, ProtobufCMessage *req)
{
        write_seed(s->service, s->m->name, s->index, variant, req);
        free(req);
}

/* One string field of a valid request set to value. */
static void emit_string(const struct seed *s, const ProtobufCFieldDescriptor *f,
                        const char *variant, const char *value)
{
        ProtobufCMessage *req = new_request(s);
        char name[128];
        *(const char **)((char *)req + f->offset) = value;
        snprintf(name, sizeof(name), "%s-%s", f->name, variant);
        emit(s, name, req);
}

static void string_variants(const struct seed *s, const ProtobufCFieldDescriptor *f)
{
        const char *v = valid_string(s->m->name, f->name);
        char nul[256], utf8[256];
        snprintf(nul, sizeof(nul), "%s" NUL_MARK, v ? v : "x");
        snprintf(utf8, sizeof(utf8), "%s\xff\xfe", v ? v : "x");
        emit_string(s, f, "long", long_1k);
        emit_string(s, f, "nul", nul);
        emit_string(s, f, "utf8", utf8);
        if (!is_path(f->name)) {
                emit_string(s, f, "dotdot", "../../etc/passwd");
                return;
        }
        emit_string(s, f, "fifo", K "/fifo");
        emit_string(s, f, "file", K "/file");
        emit_string(s, f, "noparent", K "/missing/x");
        emit_string(s, f, "relative", "dir/target");
        emit_string(s, f, "outside", "/etc");
}

/* A map field with one entry whose key or value is hostile. */
static void map_variants(const struct seed *s, const ProtobufCFieldDescriptor *f)
{
        static const char *const kv[][2] = {
            {"provisioning", "thin"},
            {"provisioning", "thin" NUL_MARK},
            {"provisioning\xff", "thin"},
            {"k" NUL_MARK, "v\xc3"},
        };
        static const char *const names[] = {"valid", "nul-value", "utf8-key", "nul-key"};
        for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++) {
                ProtobufCMessage *req = new_request(s);
                const ProtobufCMessageDescriptor *ed = f->descriptor;
                ProtobufCMessage *entry = calloc(1, ed->sizeof_message);
                ProtobufCMessage *list[1] = {entry};
                char name[128];
                ed->message_init(entry);
                *(const char **)((char *)entry + ed->fields[0].offset) = kv[i][0];
                *(const char **)((char *)entry + ed->fields[1].offset) = kv[i][1];
                *(size_t *)((char *)req + f->quantifier_offset) = 1;
                *(ProtobufCMessage ***)((char *)req + f->offset) = list;
                snprintf(name, sizeof(name), "%s-%s", f->name, names[i]);
                emit(s, name, req);
                free(entry);
        }
}

/* Capabilities with flags and filesystem types the node refuses, and block access. */
static void cap_variants(const struct seed *s)
{
        static const char *const flags[] = {"bind", "remount",         "helper=/bin/sh", "--",
                                            "-o",   "rw,exec;touch x", "noatime"};
        static const char *const fs[] = {"xfs" NUL_MARK "ext4", "nfs", "../../bin/sh", "xfs"};
        char name[64];
        for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
                ProtobufCMessage *req = new_request(s);
                mount_flags[0] = (char *)flags[i];
                cap_mount.n_mount_flags = 1;
                snprintf(name, sizeof(name), "flag%zu", i);
                emit(s, name, req);
        }
        for (size_t i = 0; i < sizeof(fs) / sizeof(fs[0]); i++) {
                ProtobufCMessage *req = new_request(s);
                cap_mount.fs_type = (char *)fs[i];
                snprintf(name, sizeof(name), "fstype%zu", i);
                emit(s, name, req);
        }
        ProtobufCMessage *req = new_request(s);
        static Csi__V1__VolumeCapability__BlockVolume blk =
            CSI__V1__VOLUME_CAPABILITY__BLOCK_VOLUME__INIT;
        cap.access_type_case = CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_BLOCK;
        cap.block = &blk;
        for (unsigned i = 0; i < s->m->input->n_fields; i++)
                if (strcmp(s->m->input->fields[i].name, "volume_id") == 0)
                        *(const char **)((char *)req + s->m->input->fields[i].offset) = block_id;
        emit(s, "block", req);
        req = new_request(s);
        cap_mode.mode = CSI__V1__VOLUME_CAPABILITY__ACCESS_MODE__MODE__SINGLE_NODE_SINGLE_WRITER;
        emit(s, "rwop", req);
}

/* The content-source overflow of issue 9 (finding 1), with the ids as long as reported. */
static void create_volume_sources(const struct seed *s)
{
        Csi__V1__VolumeContentSource src = CSI__V1__VOLUME_CONTENT_SOURCE__INIT;
        Csi__V1__VolumeContentSource__SnapshotSource snap =
            CSI__V1__VOLUME_CONTENT_SOURCE__SNAPSHOT_SOURCE__INIT;
        Csi__V1__VolumeContentSource__VolumeSource vol =
            CSI__V1__VOLUME_CONTENT_SOURCE__VOLUME_SOURCE__INIT;
        const char *ids[] = {snap_id, long_1k, long_64k};
        const char *names[] = {"valid", "long", "huge"};
        char name[64];
        for (size_t i = 0; i < 3; i++) {
                Csi__V1__CreateVolumeRequest *req = (void *)new_request(s);
                src.type_case = CSI__V1__VOLUME_CONTENT_SOURCE__TYPE_SNAPSHOT;
                src.snapshot = &snap;
                snap.snapshot_id = (char *)ids[i];
                req->volume_content_source = &src;
                snprintf(name, sizeof(name), "source-snapshot-%s", names[i]);
                emit(s, name, &req->base);
                if (i == 2)
                        continue;
                req = (void *)new_request(s);
                src.type_case = CSI__V1__VOLUME_CONTENT_SOURCE__TYPE_VOLUME;
                src.volume = &vol;
                vol.volume_id = i ? (char *)ids[i] : vol_id;
                req->volume_content_source = &src;
                snprintf(name, sizeof(name), "source-volume-%s", names[i]);
                emit(s, name, &req->base);
        }
}

/* Inline ephemeral volumes: NodePublishVolume with kubelet's marker and a volume handle,
 * with sizes, provisioning and handles a node must refuse or take. */
static void publish_ephemeral(const struct seed *s)
{
        static const char handle[] =
            "csi-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        static const struct {
                const char *name, *id, *size, *prov;
        } cases[] = {
            {"valid", handle, "1Mi", "thin"},        {"thick", handle, "1Mi", "thick"},
            {"huge", handle, "8Ei", "thick"},        {"size-bad", handle, "1e30", "thin"},
            {"size-zero", handle, "0", "thin"},      {"base-volume", vol_id, "1Mi", "thin"},
            {"snapshot-id", snap_id, "1Mi", "thin"}, {"dotdot", "../../etc", "1Mi", "thin"},
        };
        Csi__V1__NodePublishVolumeRequest__VolumeContextEntry e[3];
        Csi__V1__NodePublishVolumeRequest__VolumeContextEntry *list[3] = {&e[0], &e[1], &e[2]};
        char name[64];
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                Csi__V1__NodePublishVolumeRequest *req = (void *)new_request(s);
                for (size_t j = 0; j < 3; j++)
                        csi__v1__node_publish_volume_request__volume_context_entry__init(&e[j]);
                e[0].key = "csi.storage.k8s.io/ephemeral";
                e[0].value = "true";
                e[1].key = "size";
                e[1].value = (char *)cases[i].size;
                e[2].key = "provisioning";
                e[2].value = (char *)cases[i].prov;
                req->volume_id = (char *)cases[i].id;
                req->staging_target_path = NULL;
                req->n_volume_context = 3;
                req->volume_context = list;
                snprintf(name, sizeof(name), "ephemeral-%s", cases[i].name);
                emit(s, name, &req->base);
        }
}

/* Group snapshots of more than one volume: both baseline volumes, one twice, one missing. */
static void group_sources(const struct seed *s)
{
        static char missing[] = "vol-0000000000000000";
        char *two[] = {vol_id, block_id}, *twice[] = {vol_id, vol_id}, *gone[] = {vol_id, missing};
        char **lists[] = {two, twice, gone};
        const char *names[] = {"sources-two", "sources-twice", "sources-missing"};
        for (size_t i = 0; i < 3; i++) {
                Csi__V1__CreateVolumeGroupSnapshotRequest *req = (void *)new_request(s);
                req->n_source_volume_ids = 2;
                req->source_volume_ids = lists[i];
                emit(s, names[i], &req->base);
        }
}

/* Topologies naming this node, another one, and this node with a second segment, for
 * CreateVolume (requisite, preferred) and GetCapacity. */
static void topology_seeds(const struct seed *s)
{
        static const char *const nodes[] = {FUZZ_NODE_ID, "other-node", FUZZ_NODE_ID};
        static const char *const names[] = {"ours", "other", "two-segments"};
        Csi__V1__Topology__SegmentsEntry seg[2];
        Csi__V1__Topology__SegmentsEntry *segs[2] = {&seg[0], &seg[1]};
        Csi__V1__Topology topo = CSI__V1__TOPOLOGY__INIT;
        Csi__V1__Topology *list[1] = {&topo};
        Csi__V1__TopologyRequirement want = CSI__V1__TOPOLOGY_REQUIREMENT__INIT;
        bool create = strcmp(s->m->name, "CreateVolume") == 0;
        char name[64];
        for (size_t i = 0; i < 3; i++) {
                for (size_t j = 0; j < 2; j++)
                        csi__v1__topology__segments_entry__init(&seg[j]);
                seg[0].key = CONTROLLER_TOPOLOGY_KEY;
                seg[0].value = (char *)nodes[i];
                seg[1].key = "topology.kubernetes.io/zone";
                seg[1].value = "z";
                topo.n_segments = i == 2 ? 2 : 1;
                topo.segments = segs;
                ProtobufCMessage *req = new_request(s);
                if (create) {
                        want.n_requisite = i == 2 ? 0 : 1;
                        want.requisite = list;
                        want.n_preferred = i == 2 ? 1 : 0;
                        want.preferred = list;
                        ((Csi__V1__CreateVolumeRequest *)(void *)req)->accessibility_requirements =
                            &want;
                } else {
                        ((Csi__V1__GetCapacityRequest *)(void *)req)->accessible_topology = &topo;
                }
                snprintf(name, sizeof(name), "topology-%s", names[i]);
                emit(s, name, req);
        }
}

static bool is_map_entry(const ProtobufCMessageDescriptor *d)
{
        return d->n_fields == 2 && strcmp(d->fields[0].name, "key") == 0;
}

static void method_seeds(const struct seed *s)
{
        const ProtobufCMessageDescriptor *d = s->m->input;
        bool has_cap = false;
        emit(s, "valid", new_request(s));
        for (unsigned i = 0; i < d->n_fields; i++) {
                const ProtobufCFieldDescriptor *f = &d->fields[i];
                if (f->type == PROTOBUF_C_TYPE_STRING && f->label != PROTOBUF_C_LABEL_REPEATED)
                        string_variants(s, f);
                else if (f->type == PROTOBUF_C_TYPE_MESSAGE && is_map_entry(f->descriptor))
                        map_variants(s, f);
                else if (f->type == PROTOBUF_C_TYPE_MESSAGE &&
                         f->descriptor == &csi__v1__volume_capability__descriptor)
                        has_cap = true;
        }
        if (has_cap)
                cap_variants(s);
        if (strcmp(s->m->name, "CreateVolume") == 0)
                create_volume_sources(s);
        if (strcmp(s->m->name, "NodePublishVolume") == 0)
                publish_ephemeral(s);
        if (strcmp(s->m->name, "CreateVolumeGroupSnapshot") == 0)
                group_sources(s);
        if (strcmp(s->m->name, "CreateVolume") == 0 || strcmp(s->m->name, "GetCapacity") == 0)
                topology_seeds(s);
}

static void write_raw(const char *target, const char *name, const void *data, size_t len)
{
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", out_dir, target);
        if (mkdir(path, 0755) < 0 && errno != EEXIST) {
                perror(path);
                exit(1);
        }
        snprintf(path, sizeof(path), "%s/%s/%s", out_dir, target, name);
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
                perror(path);
                exit(1);
        }
}

/* A seed that is a string literal, NULs and all. */
#define WRITE_LITERAL(target, name, lit) write_raw(target, name, lit, sizeof(lit) - 1)

/* fuzz-meta: kind byte (0 volume, 1 snapshot, 2 group), then the .meta text. */
static void meta_seeds(void)
{
        char grp_id[ID_MAX + 1], buf[4096];
        if (id_from_name("grp", FUZZ_BASE_GROUP, grp_id, sizeof(grp_id)) < 0)
                exit(1);
        const struct {
                const char *name;
                const char *fmt;
        } metas[] = {
            {"volume", "\x00version=1\nid=@V\nname=fuzz-base\ncapacity=1048576\nfs_type=ext4\n"
                       "provisioning=thin\nsource_kind=none\nsource_id=\nnode=fuzz-node\ncaps=6\n"
                       "created_ns=1\npublish=fuzz-node 0 0 1\n"},
            {"volume-huge-capacity",
             "\x00version=1\nid=@V\nname=x\ncapacity=18446744073709551615\nfs_type=xfs\n"
             "provisioning=thick\nsource_kind=snapshot\nsource_id=../../etc\nnode=other\n"
             "caps=4294967295\ncreated_ns=99999999999999999999\n"},
            {"volume-bad-publish",
             "\x00id=@V\nname=n\npublish=\npublish=a b c d e\n"
             "publish=fuzz-node -1 2147483648 99\nfs_type=ext4ext4ext4ext4ext4\n"},
            {"volume-no-id", "\x00version=1\nname=x\n"},
            {"volume-other-id", "\x00id=vol-0000000000000000\nname=x\n"},
            {"snapshot", "\x01version=1\nid=@S\nname=fuzz-base-snap\nsource_volume_id=@V\n"
                         "group_id=\nfs_type=ext4\nsize=1048576\ncreated_ns=1\n"},
            {"snapshot-bad", "\x01id=@S\nname=\nsource_volume_id=../x\ngroup_id=grp-x\n"
                             "size=-1\nfs_type=\n"},
            {"group", "\x02version=1\nid=@G\nname=fuzz-group\ncreated_ns=1\nmember=@S @V\n"},
            {"group-bad", "\x02id=@G\nname=g\nmember=\nmember=a\nmember=@S\nmember=x y z\n"},
        };
        for (size_t i = 0; i < sizeof(metas) / sizeof(metas[0]); i++) {
                /* the kind byte may be 0: write it apart from the text */
                size_t n = 0;
                for (const char *c = metas[i].fmt; *c || c == metas[i].fmt; c++) {
                        const char *id = NULL;
                        if (c[0] == '@' && c[1] == 'V')
                                id = vol_id;
                        else if (c[0] == '@' && c[1] == 'S')
                                id = snap_id;
                        else if (c[0] == '@' && c[1] == 'G')
                                id = grp_id;
                        if (id) {
                                n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s", id);
                                c++;
                        } else {
                                buf[n++] = *c;
                        }
                }
                write_raw("fuzz-meta", metas[i].name, buf, n);
        }
        WRITE_LITERAL("fuzz-meta", "volume-empty", "\x00");
        WRITE_LITERAL("fuzz-meta", "volume-nul", "\x00id=\0\nname=\0");
}

/* Appends the .meta the store writes for the base volume (with slots) as seed name, after
 * the kind byte; flip: offsets of bytes to damage (0: none). */
static void slot_seed(const char *pool, const char *name, const off_t *flip, size_t n_flip)
{
        static char buf[1 + STORE_META_MAX];
        char path[512];
        snprintf(path, sizeof(path), "%s/volumes/%s.meta", pool, vol_id);
        FILE *f = fopen(path, "rbe");
        size_t n = f ? fread(buf + 1, 1, sizeof(buf) - 1, f) : 0;
        if (!f || fclose(f) != 0 || n == 0)
                exit(1);
        buf[0] = 0;
        for (size_t i = 0; i < n_flip; i++)
                buf[1 + flip[i]] ^= 0x20;
        write_raw("fuzz-meta", name, buf, n + 1);
}

/* fuzz-meta seeds in the layout with attach slots (common/store/store-attach.h), written by
 * the store itself: one slot valid, both (the newer wins), the newer torn, both torn. */
static void meta_slot_seeds(void)
{
        char pool[] = "/tmp/silo-seeds-XXXXXX";
        struct store_publish pub = {.node_id = "fuzz-node", .mode = 1};
        struct store_volume v = {.name = (char *)"fuzz-base",
                                 .capacity_bytes = 1048576,
                                 .fs_type = "ext4",
                                 .node_id = "fuzz-node",
                                 .caps = 6,
                                 .created_ns = 1,
                                 .published = &pub,
                                 .n_published = 1};
        snprintf(v.id, sizeof(v.id), "%s", vol_id);
        int fd = -1;
        if (!mkdtemp(pool) || store_init(pool) < 0 || store_volume_save(pool, &v) < 0)
                exit(1);
        slot_seed(pool, "volume-slots", NULL, 0);
        struct store_volume l;
        if (store_volume_load(pool, vol_id, &l) < 0)
                exit(1);
        l.n_published = 0;
        if (store_volume_attach_write(pool, &l, &fd) < 0 || store_volume_attach_sync(&l, fd) < 0)
                exit(1);
        close(fd);
        store_volume_release(&l);
        const off_t gen1 = 2 * 4096 + 8, text0 = 4096 + 40, magic0 = 4096;
        slot_seed(pool, "volume-slots-both", NULL, 0);
        slot_seed(pool, "volume-slots-torn", &gen1, 1);
        const off_t both[] = {gen1, text0};
        slot_seed(pool, "volume-slots-none-valid", both, 2);
        const off_t magic[] = {gen1, magic0};
        slot_seed(pool, "volume-slots-no-magic", magic, 2);
        char cmd[64];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", pool);
        if (system(cmd) != 0)
                exit(1);
}

/* fuzz-config: arguments after "silo", NUL-separated. */
static void config_seeds(void)
{
        static const char valid[] = "--endpoint\0unix:///csi/csi.sock\0--pool\0/var/lib/silo/pool"
                                    "\0--kubelet-dir\0/var/lib/kubelet\0--nodeid\0node-1\0--mode"
                                    "\0node\0--pool-scope\0shared\0--timeout\0"
                                    "30s\0-v";
        static const char bad[] = "--timeout\0-1\0--max-concurrent-requests\0"
                                  "0\0--overcommit-"
                                  "ratio\0nan\0--pool\0relative/../x\0--metrics-address\0:99999";
        static const char flags[] = "-vvh\0--skip-attach\0--max-volumes-per-node\0"
                                    "18446744073709551616\0--driver-name\0a..b\0--endpoint\0tcp://";
        write_raw("fuzz-config", "valid", valid, sizeof(valid) - 1);
        write_raw("fuzz-config", "bad-values", bad, sizeof(bad) - 1);
        write_raw("fuzz-config", "flags", flags, sizeof(flags) - 1);
        WRITE_LITERAL("fuzz-config", "help", "--help");
        WRITE_LITERAL("fuzz-config", "unknown", "--nope\0x\0--pool");
}

/* fuzz-listing: max_entries (4 bytes, little endian), then the token. */
static void listing_seeds(void)
{
        char buf[4 + ID_MAX + 1];
        WRITE_LITERAL("fuzz-listing", "first-page", "\0\0\0\0");
        WRITE_LITERAL("fuzz-listing", "one", "\1\0\0\0");
        WRITE_LITERAL("fuzz-listing", "negative", "\xff\xff\xff\xff");
        buf[0] = 1;
        buf[1] = buf[2] = buf[3] = 0;
        int n = snprintf(buf + 4, sizeof(buf) - 4, "%s", vol_id);
        write_raw("fuzz-listing", "after-volume", buf, 4 + (size_t)n);
        n = snprintf(buf + 4, sizeof(buf) - 4, "%s", snap_id);
        write_raw("fuzz-listing", "after-snapshot", buf, 4 + (size_t)n);
        WRITE_LITERAL("fuzz-listing", "not-issued", "\2\0\0\0vol-zzzzzzzzzzzzzzzz");
        WRITE_LITERAL("fuzz-listing", "nul",
                      "\2\0\0\0vol-0\0"
                      "000000000000000");
}

int main(int argc, char **argv)
{
        if (argc != 2) {
                fprintf(stderr, "usage: %s DIR\n", argv[0]);
                return 2;
        }
        out_dir = argv[1];
        memset(long_1k, 'a', sizeof(long_1k) - 1);
        memset(long_64k, 'b', sizeof(long_64k) - 1);
        if (id_from_name("vol", FUZZ_BASE_VOLUME, vol_id, sizeof(vol_id)) < 0 ||
            id_from_name("vol", FUZZ_BASE_BLOCK, block_id, sizeof(block_id)) < 0 ||
            id_from_name("snap", FUZZ_BASE_SNAPSHOT, snap_id, sizeof(snap_id)) < 0 ||
            id_from_name("snap", FUZZ_BASE_SNAPSHOT2, snap2_id, sizeof(snap2_id)) < 0)
                return 1;
        meta_seeds();
        meta_slot_seeds();
        config_seeds();
        listing_seeds();
        for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++) {
                char service[64];
                /* "csi.v1.GroupController" -> "group-controller" */
                const char *n = strrchr(services[i]->name, '.') + 1;
                size_t k = 0;
                for (; *n && k + 2 < sizeof(service); n++) {
                        if (*n >= 'A' && *n <= 'Z' && k > 0)
                                service[k++] = '-';
                        service[k++] = (char)(*n | 0x20);
                }
                service[k] = '\0';
                for (unsigned j = 0; j < services[i]->n_methods; j++) {
                        struct seed s = {service, &services[i]->methods[j], j};
                        method_seeds(&s);
                }
        }
        return 0;
}
