/* siloctl controller verbs: one CSI Controller call each. */
#include <csi.pb-c.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/siloctl.h"
#include "common/units.h"

#include "common/cleanup.h"

#define CMDCTL_PARAMS_MAX 16

static int cmdctl_usage(const char *verb, const char *why)
{
        const struct cli_group *g = &cli_controller_group;
        for (size_t i = 0; i < g->n_verbs; i++)
                if (strcmp(g->verbs[i].verb, verb) == 0)
                        return cli_usage_error(g->name, &g->verbs[i], why);
        return 2;
}

/* A VolumeCapability built from --access and --fs. */
struct cmdctl_cap {
        Csi__V1__VolumeCapability cap;
        Csi__V1__VolumeCapability__MountVolume mount;
        Csi__V1__VolumeCapability__BlockVolume block;
        Csi__V1__VolumeCapability__AccessMode mode;
        Csi__V1__VolumeCapability *list[1];
};

static int cmdctl_cap_init(struct cmdctl_cap *c, const char *access, const char *fs)
{
        csi__v1__volume_capability__init(&c->cap);
        csi__v1__volume_capability__mount_volume__init(&c->mount);
        csi__v1__volume_capability__block_volume__init(&c->block);
        csi__v1__volume_capability__access_mode__init(&c->mode);
        bool block = strcmp(access, "block") == 0;
        if (strcmp(access, "rwo") == 0 || block)
                c->mode.mode = CSI__V1__VOLUME_CAPABILITY__ACCESS_MODE__MODE__SINGLE_NODE_WRITER;
        else if (strcmp(access, "rwop") == 0)
                c->mode.mode =
                    CSI__V1__VOLUME_CAPABILITY__ACCESS_MODE__MODE__SINGLE_NODE_SINGLE_WRITER;
        else if (strcmp(access, "rox") == 0)
                c->mode.mode =
                    CSI__V1__VOLUME_CAPABILITY__ACCESS_MODE__MODE__MULTI_NODE_READER_ONLY;
        else
                return -EINVAL;
        c->cap.access_mode = &c->mode;
        c->cap.access_type_case = block ? CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_BLOCK
                                        : CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_MOUNT;
        if (block)
                c->cap.block = &c->block;
        else
                c->cap.mount = &c->mount;
        c->mount.fs_type = (char *)(fs ? fs : "");
        c->list[0] = &c->cap;
        return 0;
}

/* "k=v" arguments as map entries (all CSI map entry types share this layout). */
struct cmdctl_params {
        Csi__V1__CreateVolumeRequest__ParametersEntry e[CMDCTL_PARAMS_MAX];
        Csi__V1__CreateVolumeRequest__ParametersEntry *list[CMDCTL_PARAMS_MAX];
        size_t n;
};

static int cmdctl_param_add(struct cmdctl_params *p, char *kv)
{
        char *eq = strchr(kv, '=');
        if (!eq || eq == kv || p->n >= CMDCTL_PARAMS_MAX)
                return -EINVAL;
        *eq = '\0';
        csi__v1__create_volume_request__parameters_entry__init(&p->e[p->n]);
        p->e[p->n].key = kv;
        p->e[p->n].value = eq + 1;
        p->list[p->n] = &p->e[p->n];
        p->n++;
        return 0;
}

static int cmdctl_size(const char *s, int64_t *ret)
{
        uint64_t v;
        if (units_parse_size(s, &v) < 0 || v > INT64_MAX)
                return -EINVAL;
        *ret = (int64_t)v;
        return 0;
}

struct cmdctl_create_opts {
        Csi__V1__CapacityRange range;
        const char *access, *fs, *from_snap, *from_vol;
        struct cmdctl_params params;
};

static int cmdctl_create_parse(int argc, char **argv, struct cmdctl_create_opts *o)
{
        static const struct option opts[] = {
            {"size", required_argument, NULL, 's'},
            {"limit", required_argument, NULL, 'l'},
            {"fs", required_argument, NULL, 'f'},
            {"access", required_argument, NULL, 'a'},
            {"param", required_argument, NULL, 'p'},
            {"from-snapshot", required_argument, NULL, 'S'},
            {"from-volume", required_argument, NULL, 'V'},
            {NULL, 0, NULL, 0},
        };
        int c;
        while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                int r = 0;
                if (c == 's')
                        r = cmdctl_size(optarg, &o->range.required_bytes);
                else if (c == 'l')
                        r = cmdctl_size(optarg, &o->range.limit_bytes);
                else if (c == 'f')
                        o->fs = optarg;
                else if (c == 'a')
                        o->access = optarg;
                else if (c == 'p')
                        r = cmdctl_param_add(&o->params, optarg);
                else if (c == 'S')
                        o->from_snap = optarg;
                else if (c == 'V')
                        o->from_vol = optarg;
                else
                        r = -EINVAL;
                if (r < 0)
                        return cmdctl_usage("create", "bad option");
        }
        if (optind != argc - 1 || (o->from_snap && o->from_vol))
                return cmdctl_usage("create", "expected one NAME and at most one source");
        return 0;
}

static int cmdctl_create(struct cli *cli, int argc, char **argv)
{
        struct cmdctl_create_opts o = {.range = CSI__V1__CAPACITY_RANGE__INIT, .access = "rwo"};
        int r = cmdctl_create_parse(argc, argv, &o);
        if (r != 0)
                return r;
        struct cmdctl_cap cap;
        if (cmdctl_cap_init(&cap, o.access, o.fs) < 0)
                return cmdctl_usage("create", "--access must be rwo, rwop, rox or block");
        Csi__V1__VolumeContentSource src = CSI__V1__VOLUME_CONTENT_SOURCE__INIT;
        Csi__V1__VolumeContentSource__SnapshotSource ss =
            CSI__V1__VOLUME_CONTENT_SOURCE__SNAPSHOT_SOURCE__INIT;
        Csi__V1__VolumeContentSource__VolumeSource vs =
            CSI__V1__VOLUME_CONTENT_SOURCE__VOLUME_SOURCE__INIT;
        Csi__V1__CreateVolumeRequest req = CSI__V1__CREATE_VOLUME_REQUEST__INIT;
        if (o.from_snap) {
                ss.snapshot_id = (char *)o.from_snap;
                src.type_case = CSI__V1__VOLUME_CONTENT_SOURCE__TYPE_SNAPSHOT;
                src.snapshot = &ss;
                req.volume_content_source = &src;
        } else if (o.from_vol) {
                vs.volume_id = (char *)o.from_vol;
                src.type_case = CSI__V1__VOLUME_CONTENT_SOURCE__TYPE_VOLUME;
                src.volume = &vs;
                req.volume_content_source = &src;
        }
        req.name = argv[optind];
        if (o.range.required_bytes || o.range.limit_bytes)
                req.capacity_range = &o.range;
        req.n_volume_capabilities = 1;
        req.volume_capabilities = cap.list;
        req.n_parameters = o.params.n;
        req.parameters = o.params.list;
        return cli_call(cli, "/csi.v1.Controller/CreateVolume", &req.base,
                        &csi__v1__create_volume_response__descriptor, NULL);
}

static int cmdctl_delete(struct cli *cli, int argc, char **argv)
{
        if (argc != 2)
                return cmdctl_usage("delete", "expected one volume ID");
        Csi__V1__DeleteVolumeRequest req = CSI__V1__DELETE_VOLUME_REQUEST__INIT;
        req.volume_id = argv[1];
        return cli_call(cli, "/csi.v1.Controller/DeleteVolume", &req.base,
                        &csi__v1__delete_volume_response__descriptor, NULL);
}

static int cmdctl_get(struct cli *cli, int argc, char **argv)
{
        if (argc != 2)
                return cmdctl_usage("get", "expected one volume ID");
        Csi__V1__ControllerGetVolumeRequest req = CSI__V1__CONTROLLER_GET_VOLUME_REQUEST__INIT;
        req.volume_id = argv[1];
        return cli_call(cli, "/csi.v1.Controller/ControllerGetVolume", &req.base,
                        &csi__v1__controller_get_volume_response__descriptor, NULL);
}

/* --max N and --token T. */
static int cmdctl_list_opts(int argc, char **argv, int32_t *ret_max, const char **ret_token)
{
        static const struct option opts[] = {
            {"max", required_argument, NULL, 'm'},
            {"token", required_argument, NULL, 't'},
            {NULL, 0, NULL, 0},
        };
        int c;
        uint64_t max = 0;
        while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                if (c == 'm' && units_parse_u64(optarg, 0, INT32_MAX, &max) < 0)
                        return -EINVAL;
                if (c == 't')
                        *ret_token = optarg;
                if (c == '?')
                        return -EINVAL;
        }
        *ret_max = (int32_t)max;
        return optind == argc ? 0 : -EINVAL;
}

static int cmdctl_list(struct cli *cli, int argc, char **argv)
{
        Csi__V1__ListVolumesRequest req = CSI__V1__LIST_VOLUMES_REQUEST__INIT;
        const char *token = "";
        if (cmdctl_list_opts(argc, argv, &req.max_entries, &token) < 0)
                return cmdctl_usage("list", "bad option");
        req.starting_token = (char *)token;
        return cli_call(cli, "/csi.v1.Controller/ListVolumes", &req.base,
                        &csi__v1__list_volumes_response__descriptor, NULL);
}

static int cmdctl_publish(struct cli *cli, int argc, char **argv)
{
        static const struct option opts[] = {
            {"readonly", no_argument, NULL, 'r'},
            {"access", required_argument, NULL, 'a'},
            {"fs", required_argument, NULL, 'f'},
            {NULL, 0, NULL, 0},
        };
        Csi__V1__ControllerPublishVolumeRequest req =
            CSI__V1__CONTROLLER_PUBLISH_VOLUME_REQUEST__INIT;
        const char *access = "rwo", *fs = NULL;
        int c;
        while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                if (c == 'r')
                        req.readonly = true;
                else if (c == 'a')
                        access = optarg;
                else if (c == 'f')
                        fs = optarg;
                else
                        return cmdctl_usage("publish", "bad option");
        }
        struct cmdctl_cap cap;
        if (optind != argc - 2 || cmdctl_cap_init(&cap, access, fs) < 0)
                return cmdctl_usage("publish", "expected volume ID and NODE, valid --access");
        req.volume_id = argv[optind];
        req.node_id = argv[optind + 1];
        req.volume_capability = &cap.cap;
        return cli_call(cli, "/csi.v1.Controller/ControllerPublishVolume", &req.base,
                        &csi__v1__controller_publish_volume_response__descriptor, NULL);
}

static int cmdctl_unpublish(struct cli *cli, int argc, char **argv)
{
        if (argc != 2 && argc != 3)
                return cmdctl_usage("unpublish", "expected volume ID and optional NODE");
        Csi__V1__ControllerUnpublishVolumeRequest req =
            CSI__V1__CONTROLLER_UNPUBLISH_VOLUME_REQUEST__INIT;
        req.volume_id = argv[1];
        req.node_id = argc == 3 ? argv[2] : (char *)"";
        return cli_call(cli, "/csi.v1.Controller/ControllerUnpublishVolume", &req.base,
                        &csi__v1__controller_unpublish_volume_response__descriptor, NULL);
}

static int cmdctl_expand(struct cli *cli, int argc, char **argv)
{
        Csi__V1__CapacityRange range = CSI__V1__CAPACITY_RANGE__INIT;
        if (argc != 3 || cmdctl_size(argv[2], &range.required_bytes) < 0)
                return cmdctl_usage("expand", "expected volume ID and SIZE");
        Csi__V1__ControllerExpandVolumeRequest req =
            CSI__V1__CONTROLLER_EXPAND_VOLUME_REQUEST__INIT;
        req.volume_id = argv[1];
        req.capacity_range = &range;
        return cli_call(cli, "/csi.v1.Controller/ControllerExpandVolume", &req.base,
                        &csi__v1__controller_expand_volume_response__descriptor, NULL);
}

static int cmdctl_capacity(struct cli *cli, int argc, char **argv)
{
        static const struct option opts[] = {
            {"param", required_argument, NULL, 'p'},
            {"node", required_argument, NULL, 'n'},
            {NULL, 0, NULL, 0},
        };
        struct cmdctl_params p = {.n = 0};
        Csi__V1__Topology__SegmentsEntry seg = CSI__V1__TOPOLOGY__SEGMENTS_ENTRY__INIT;
        Csi__V1__Topology__SegmentsEntry *segs[1] = {&seg};
        Csi__V1__Topology topo = CSI__V1__TOPOLOGY__INIT;
        Csi__V1__GetCapacityRequest req = CSI__V1__GET_CAPACITY_REQUEST__INIT;
        int c;
        while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                if (c == 'p' && cmdctl_param_add(&p, optarg) == 0)
                        continue;
                if (c != 'n')
                        return cmdctl_usage("capacity", "bad option");
                seg.key = (char *)"topology.silo.csi.io/node";
                seg.value = optarg;
                topo.n_segments = 1;
                topo.segments = segs;
                req.accessible_topology = &topo;
        }
        if (optind != argc)
                return cmdctl_usage("capacity", "unexpected argument");
        req.n_parameters = p.n;
        req.parameters = (Csi__V1__GetCapacityRequest__ParametersEntry **)p.list;
        return cli_call(cli, "/csi.v1.Controller/GetCapacity", &req.base,
                        &csi__v1__get_capacity_response__descriptor, NULL);
}

static int cmdctl_modify(struct cli *cli, int argc, char **argv)
{
        struct cmdctl_params p = {.n = 0};
        if (argc < 3)
                return cmdctl_usage("modify", "expected volume ID and KEY=VALUE...");
        for (int i = 2; i < argc; i++)
                if (cmdctl_param_add(&p, argv[i]) < 0)
                        return cmdctl_usage("modify", "parameters are KEY=VALUE");
        Csi__V1__ControllerModifyVolumeRequest req =
            CSI__V1__CONTROLLER_MODIFY_VOLUME_REQUEST__INIT;
        req.volume_id = argv[1];
        req.n_mutable_parameters = p.n;
        req.mutable_parameters =
            (Csi__V1__ControllerModifyVolumeRequest__MutableParametersEntry **)p.list;
        return cli_call(cli, "/csi.v1.Controller/ControllerModifyVolume", &req.base,
                        &csi__v1__controller_modify_volume_response__descriptor, NULL);
}

static int cmdctl_validate(struct cli *cli, int argc, char **argv)
{
        static const struct option opts[] = {
            {"access", required_argument, NULL, 'a'},
            {"fs", required_argument, NULL, 'f'},
            {NULL, 0, NULL, 0},
        };
        const char *access = "rwo", *fs = NULL;
        int c;
        while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                if (c == 'a')
                        access = optarg;
                else if (c == 'f')
                        fs = optarg;
                else
                        return cmdctl_usage("validate", "bad option");
        }
        struct cmdctl_cap cap;
        if (optind != argc - 1 || cmdctl_cap_init(&cap, access, fs) < 0)
                return cmdctl_usage("validate", "expected one volume ID, valid --access");
        Csi__V1__ValidateVolumeCapabilitiesRequest req =
            CSI__V1__VALIDATE_VOLUME_CAPABILITIES_REQUEST__INIT;
        req.volume_id = argv[optind];
        req.n_volume_capabilities = 1;
        req.volume_capabilities = cap.list;
        return cli_call(cli, "/csi.v1.Controller/ValidateVolumeCapabilities", &req.base,
                        &csi__v1__validate_volume_capabilities_response__descriptor, NULL);
}

static int cmdctl_caps(struct cli *cli, int argc, char **argv)
{
        (void)argv;
        if (argc != 1)
                return cmdctl_usage("caps", "no arguments expected");
        Csi__V1__ControllerGetCapabilitiesRequest req =
            CSI__V1__CONTROLLER_GET_CAPABILITIES_REQUEST__INIT;
        return cli_call(cli, "/csi.v1.Controller/ControllerGetCapabilities", &req.base,
                        &csi__v1__controller_get_capabilities_response__descriptor, NULL);
}

static const struct cli_verb controller_verbs[] = {
    {"create",
     "NAME [--size 1Gi] [--limit SIZE] [--fs ext4|xfs] [--access rwo|rwop|rox|block] "
     "[--param k=v]... [--from-snapshot ID|--from-volume ID]",
     cmdctl_create},
    {"delete", "VOLUME_ID", cmdctl_delete},
    {"get", "VOLUME_ID", cmdctl_get},
    {"list", "[--max N] [--token TOKEN]", cmdctl_list},
    {"publish", "VOLUME_ID NODE_ID [--readonly] [--access rwo|rwop|rox|block] [--fs FS]",
     cmdctl_publish},
    {"unpublish", "VOLUME_ID [NODE_ID]", cmdctl_unpublish},
    {"expand", "VOLUME_ID SIZE", cmdctl_expand},
    {"capacity", "[--param k=v]... [--node NODE_ID]", cmdctl_capacity},
    {"modify", "VOLUME_ID KEY=VALUE...", cmdctl_modify},
    {"validate", "VOLUME_ID [--access rwo|rwop|rox|block] [--fs FS]", cmdctl_validate},
    {"caps", "", cmdctl_caps},
};

const struct cli_group cli_controller_group = {"controller", controller_verbs,
                                               ARRAY_SIZE(controller_verbs)};
