/* siloctl controller verbs: one CSI Controller call each. */
#include <csi.pb-c.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/siloctl.h"
#include "common/units.h"

#include "common/cleanup.h"

#define CMDCTL_PARAMS_MAX 16

#define CMDCTL_CAPS_MAX 8

static int cmdctl_usage(const struct cli *cli, const char *verb, const char *why)
{
        return cli_usage_error(cli, "controller", verb, why);
}

/* Capabilities from --cap (repeatable) or the short options; at least one. */
struct cmdctl_caps {
        struct cli_cap caps[CMDCTL_CAPS_MAX];
        Csi__V1__VolumeCapability *list[CMDCTL_CAPS_MAX];
        size_t n;
        const char *access, *fs;
        bool block;
};

static int cmdctl_caps_add(struct cmdctl_caps *c, const char *spec, const char **ret_why)
{
        if (c->n >= CMDCTL_CAPS_MAX) {
                *ret_why = "at most 8 --cap";
                return -E2BIG;
        }
        int r = cli_cap_parse(spec, &c->caps[c->n], ret_why);
        if (r < 0)
                return r;
        c->list[c->n] = &c->caps[c->n].cap;
        c->n++;
        return 0;
}

/* After option parsing: the short options make the one capability when no --cap was given. */
static int cmdctl_caps_finish(struct cmdctl_caps *c, const char **ret_why)
{
        if (c->n > 0 && (c->access || c->fs || c->block)) {
                *ret_why = "--cap replaces --access, --fs and --block: use one or the other";
                return -EINVAL;
        }
        if (c->n > 0)
                return 0;
        int r = cli_cap_short(c->access ? c->access : "rwo", c->fs, c->block, &c->caps[0], ret_why);
        if (r < 0)
                return r;
        c->list[0] = &c->caps[0].cap;
        c->n = 1;
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

/* getopt's view of a bad option: what to tell the user. */
static const char *cmdctl_bad_option(int c)
{
        return c == ':' ? "an option needs a value" : "unknown option (see --help)";
}

struct cmdctl_create_opts {
        Csi__V1__CapacityRange range;
        const char *from_snap, *from_vol;
        struct cmdctl_params params;
        struct cmdctl_caps caps;
};

static int cmdctl_create_parse(const struct cli *cli, int argc, char **argv,
                               struct cmdctl_create_opts *o)
{
        static const struct option opts[] = {
            {"size", required_argument, NULL, 's'},
            {"limit", required_argument, NULL, 'l'},
            {"fs", required_argument, NULL, 'f'},
            {"access", required_argument, NULL, 'a'},
            {"block", no_argument, NULL, 'b'},
            {"cap", required_argument, NULL, 'c'},
            {"param", required_argument, NULL, 'p'},
            {"from-snapshot", required_argument, NULL, 'S'},
            {"from-volume", required_argument, NULL, 'V'},
            {NULL, 0, NULL, 0},
        };
        int c;
        while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
                const char *why = NULL;
                if (c == 's')
                        (void)cli_parse_size(optarg, &o->range.required_bytes, &why);
                else if (c == 'l')
                        (void)cli_parse_size(optarg, &o->range.limit_bytes, &why);
                else if (c == 'f')
                        o->caps.fs = optarg;
                else if (c == 'a')
                        o->caps.access = optarg;
                else if (c == 'b')
                        o->caps.block = true;
                else if (c == 'c')
                        (void)cmdctl_caps_add(&o->caps, optarg, &why);
                else if (c == 'p' && cmdctl_param_add(&o->params, optarg) < 0)
                        why = "--param is KEY=VALUE (at most 16)";
                else if (c == 'S')
                        o->from_snap = optarg;
                else if (c == 'V')
                        o->from_vol = optarg;
                else if (c == '?' || c == ':')
                        why = cmdctl_bad_option(c);
                if (why)
                        return cmdctl_usage(cli, "create", why);
        }
        if (optind != argc - 1)
                return cmdctl_usage(cli, "create", "expected one NAME");
        if (o->from_snap && o->from_vol)
                return cmdctl_usage(cli, "create",
                                    "--from-snapshot and --from-volume: one source at most");
        const char *why;
        if (cmdctl_caps_finish(&o->caps, &why) < 0)
                return cmdctl_usage(cli, "create", why);
        return 0;
}

static int cmdctl_create(struct cli *cli, int argc, char **argv)
{
        struct cmdctl_create_opts o = {.range = CSI__V1__CAPACITY_RANGE__INIT};
        int r = cmdctl_create_parse(cli, argc, argv, &o);
        if (r != 0)
                return r;
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
        req.n_volume_capabilities = o.caps.n;
        req.volume_capabilities = o.caps.list;
        req.n_parameters = o.params.n;
        req.parameters = o.params.list;
        return cli_call(cli, "/csi.v1.Controller/CreateVolume", &req.base,
                        &csi__v1__create_volume_response__descriptor, NULL);
}

/* Verbs that take only IDs: one call per ID; the exit status is the first failure's. */
static int cmdctl_each_id(struct cli *cli, const char *verb, int argc, char **argv,
                          int (*one)(struct cli *cli, char *id))
{
        if (argc < 2 || argv[1][0] == '-')
                return cmdctl_usage(cli, verb, "expected one or more volume IDs");
        int first = 0;
        for (int i = 1; i < argc; i++) {
                int r = one(cli, argv[i]);
                if (r != 0 && first == 0)
                        first = r;
        }
        return first;
}

static int cmdctl_delete_one(struct cli *cli, char *id)
{
        Csi__V1__DeleteVolumeRequest req = CSI__V1__DELETE_VOLUME_REQUEST__INIT;
        req.volume_id = id;
        return cli_call(cli, "/csi.v1.Controller/DeleteVolume", &req.base,
                        &csi__v1__delete_volume_response__descriptor, NULL);
}

static int cmdctl_delete(struct cli *cli, int argc, char **argv)
{
        return cmdctl_each_id(cli, "delete", argc, argv, cmdctl_delete_one);
}

static int cmdctl_get_one(struct cli *cli, char *id)
{
        Csi__V1__ControllerGetVolumeRequest req = CSI__V1__CONTROLLER_GET_VOLUME_REQUEST__INIT;
        req.volume_id = id;
        return cli_call(cli, "/csi.v1.Controller/ControllerGetVolume", &req.base,
                        &csi__v1__controller_get_volume_response__descriptor, NULL);
}

static int cmdctl_get(struct cli *cli, int argc, char **argv)
{
        return cmdctl_each_id(cli, "get", argc, argv, cmdctl_get_one);
}

/* --max N and --token T. */
static int cmdctl_list(struct cli *cli, int argc, char **argv)
{
        static const struct option opts[] = {
            {"max", required_argument, NULL, 'm'},
            {"token", required_argument, NULL, 't'},
            {NULL, 0, NULL, 0},
        };
        Csi__V1__ListVolumesRequest req = CSI__V1__LIST_VOLUMES_REQUEST__INIT;
        uint64_t max = 0;
        int c;
        while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
                if (c == 'm' && units_parse_u64(optarg, 0, INT32_MAX, &max) < 0)
                        return cmdctl_usage(cli, "list", "--max is a whole number, 0 or more");
                if (c == 't')
                        req.starting_token = optarg;
                if (c == '?' || c == ':')
                        return cmdctl_usage(cli, "list", cmdctl_bad_option(c));
        }
        if (optind != argc)
                return cmdctl_usage(cli, "list", "unexpected argument");
        req.max_entries = (int32_t)max;
        return cli_list(cli, "/csi.v1.Controller/ListVolumes", &req.base,
                        &csi__v1__list_volumes_response__descriptor);
}

/* --cap (once) or --access/--fs/--block, for publish. */
static int cmdctl_one_cap(const struct cli *cli, const char *verb, int argc, char **argv,
                          struct cmdctl_caps *caps, bool *ret_readonly)
{
        static const struct option opts[] = {
            {"readonly", no_argument, NULL, 'r'},  {"access", required_argument, NULL, 'a'},
            {"fs", required_argument, NULL, 'f'},  {"block", no_argument, NULL, 'b'},
            {"cap", required_argument, NULL, 'c'}, {NULL, 0, NULL, 0},
        };
        int c;
        while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
                const char *why = NULL;
                if (c == 'r' && ret_readonly)
                        *ret_readonly = true;
                else if (c == 'a')
                        caps->access = optarg;
                else if (c == 'f')
                        caps->fs = optarg;
                else if (c == 'b')
                        caps->block = true;
                else if (c == 'c')
                        (void)cmdctl_caps_add(caps, optarg, &why);
                else
                        why = cmdctl_bad_option(c);
                if (why)
                        return cmdctl_usage(cli, verb, why);
        }
        const char *why;
        if (cmdctl_caps_finish(caps, &why) < 0)
                return cmdctl_usage(cli, verb, why);
        return 0;
}

static int cmdctl_publish(struct cli *cli, int argc, char **argv)
{
        Csi__V1__ControllerPublishVolumeRequest req =
            CSI__V1__CONTROLLER_PUBLISH_VOLUME_REQUEST__INIT;
        struct cmdctl_caps caps = {.n = 0};
        bool readonly = false;
        int r = cmdctl_one_cap(cli, "publish", argc, argv, &caps, &readonly);
        if (r != 0)
                return r;
        if (optind != argc - 2)
                return cmdctl_usage(cli, "publish", "expected VOLUME_ID and NODE_ID");
        if (caps.n != 1)
                return cmdctl_usage(cli, "publish", "publish takes one --cap");
        req.readonly = readonly;
        req.volume_id = argv[optind];
        req.node_id = argv[optind + 1];
        req.volume_capability = caps.list[0];
        return cli_call(cli, "/csi.v1.Controller/ControllerPublishVolume", &req.base,
                        &csi__v1__controller_publish_volume_response__descriptor, NULL);
}

static int cmdctl_unpublish(struct cli *cli, int argc, char **argv)
{
        if (argc != 2 && argc != 3)
                return cmdctl_usage(cli, "unpublish", "expected VOLUME_ID and optional NODE_ID");
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
        const char *why;
        if (argc != 3)
                return cmdctl_usage(cli, "expand", "expected VOLUME_ID and SIZE");
        if (cli_parse_size(argv[2], &range.required_bytes, &why) < 0)
                return cmdctl_usage(cli, "expand", why);
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
            {"cap", required_argument, NULL, 'c'},
            {NULL, 0, NULL, 0},
        };
        struct cmdctl_params p = {.n = 0};
        struct cmdctl_caps caps = {.n = 0};
        Csi__V1__Topology__SegmentsEntry seg = CSI__V1__TOPOLOGY__SEGMENTS_ENTRY__INIT;
        Csi__V1__Topology__SegmentsEntry *segs[1] = {&seg};
        Csi__V1__Topology topo = CSI__V1__TOPOLOGY__INIT;
        Csi__V1__GetCapacityRequest req = CSI__V1__GET_CAPACITY_REQUEST__INIT;
        int c;
        while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
                const char *why = NULL;
                if (c == 'p' && cmdctl_param_add(&p, optarg) < 0)
                        why = "--param is KEY=VALUE (at most 16)";
                else if (c == 'c')
                        (void)cmdctl_caps_add(&caps, optarg, &why);
                else if (c == 'n') {
                        seg.key = (char *)"topology.silo.csi.io/node";
                        seg.value = optarg;
                        topo.n_segments = 1;
                        topo.segments = segs;
                        req.accessible_topology = &topo;
                } else if (c != 'p')
                        why = cmdctl_bad_option(c);
                if (why)
                        return cmdctl_usage(cli, "capacity", why);
        }
        if (optind != argc)
                return cmdctl_usage(cli, "capacity", "unexpected argument");
        req.n_volume_capabilities = caps.n;
        req.volume_capabilities = caps.list;
        req.n_parameters = p.n;
        req.parameters = (Csi__V1__GetCapacityRequest__ParametersEntry **)p.list;
        return cli_call(cli, "/csi.v1.Controller/GetCapacity", &req.base,
                        &csi__v1__get_capacity_response__descriptor, NULL);
}

static int cmdctl_modify(struct cli *cli, int argc, char **argv)
{
        struct cmdctl_params p = {.n = 0};
        if (argc < 3)
                return cmdctl_usage(cli, "modify", "expected VOLUME_ID and KEY=VALUE...");
        for (int i = 2; i < argc; i++)
                if (cmdctl_param_add(&p, argv[i]) < 0)
                        return cmdctl_usage(cli, "modify", "parameters are KEY=VALUE");
        Csi__V1__ControllerModifyVolumeRequest req =
            CSI__V1__CONTROLLER_MODIFY_VOLUME_REQUEST__INIT;
        req.volume_id = argv[1];
        req.n_mutable_parameters = p.n;
        req.mutable_parameters =
            (Csi__V1__ControllerModifyVolumeRequest__MutableParametersEntry **)p.list;
        return cli_call(cli, "/csi.v1.Controller/ControllerModifyVolume", &req.base,
                        &csi__v1__controller_modify_volume_response__descriptor, NULL);
}

/* Exit CLI_EXIT_NO with the driver's message when nothing is confirmed. */
static int cmdctl_validate(struct cli *cli, int argc, char **argv)
{
        static const struct option opts[] = {
            {"access", required_argument, NULL, 'a'}, {"fs", required_argument, NULL, 'f'},
            {"block", no_argument, NULL, 'b'},        {"cap", required_argument, NULL, 'c'},
            {"param", required_argument, NULL, 'p'},  {NULL, 0, NULL, 0},
        };
        struct cmdctl_caps caps = {.n = 0};
        struct cmdctl_params p = {.n = 0};
        int c;
        while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
                const char *why = NULL;
                if (c == 'a')
                        caps.access = optarg;
                else if (c == 'f')
                        caps.fs = optarg;
                else if (c == 'b')
                        caps.block = true;
                else if (c == 'c')
                        (void)cmdctl_caps_add(&caps, optarg, &why);
                else if (c == 'p' && cmdctl_param_add(&p, optarg) < 0)
                        why = "--param is KEY=VALUE (at most 16)";
                else if (c != 'p')
                        why = cmdctl_bad_option(c);
                if (why)
                        return cmdctl_usage(cli, "validate", why);
        }
        const char *why;
        if (optind != argc - 1)
                return cmdctl_usage(cli, "validate", "expected one VOLUME_ID");
        if (cmdctl_caps_finish(&caps, &why) < 0)
                return cmdctl_usage(cli, "validate", why);
        Csi__V1__ValidateVolumeCapabilitiesRequest req =
            CSI__V1__VALIDATE_VOLUME_CAPABILITIES_REQUEST__INIT;
        req.volume_id = argv[optind];
        req.n_volume_capabilities = caps.n;
        req.volume_capabilities = caps.list;
        req.n_parameters = p.n;
        req.parameters = (Csi__V1__ValidateVolumeCapabilitiesRequest__ParametersEntry **)p.list;
        ProtobufCMessage *m = NULL;
        int r = cli_call(cli, "/csi.v1.Controller/ValidateVolumeCapabilities", &req.base,
                         &csi__v1__validate_volume_capabilities_response__descriptor, &m);
        if (r != 0)
                return r;
        const Csi__V1__ValidateVolumeCapabilitiesResponse *resp = (const void *)m;
        bool confirmed = resp->confirmed != NULL;
        if (cli->json) {
                cli_print_json(stdout, m, NULL);
                fputc('\n', stdout);
        } else if (confirmed) {
                fputs("confirmed ", stdout);
                cli_print_text(stdout, m);
        }
        if (!confirmed && !cli->json)
                fprintf(stderr, "siloctl: not confirmed: %s\n",
                        resp->message && *resp->message ? resp->message
                                                        : "(the driver gave no reason)");
        protobuf_c_message_free_unpacked(m, NULL);
        return confirmed ? 0 : CLI_EXIT_NO;
}

static int cmdctl_caps_verb(struct cli *cli, int argc, char **argv)
{
        (void)argv;
        if (argc != 1)
                return cmdctl_usage(cli, "caps", "no arguments expected");
        Csi__V1__ControllerGetCapabilitiesRequest req =
            CSI__V1__CONTROLLER_GET_CAPABILITIES_REQUEST__INIT;
        return cli_call(cli, "/csi.v1.Controller/ControllerGetCapabilities", &req.base,
                        &csi__v1__controller_get_capabilities_response__descriptor, NULL);
}

#define CMDCTL_CAP_USAGE "[--cap MODE,TYPE[,FS[,FLAG...]]]"

static const struct cli_verb controller_verbs[] = {
    {"create",
     "NAME [--size 1Gi] [--limit SIZE] [--fs ext4|xfs] [--access rwo|rwop|rwx|rox] [--block] "
     "[--cap MODE,TYPE[,FS[,FLAG...]]]... [--param k=v]... "
     "[--from-snapshot ID|--from-volume ID]",
     cmdctl_create},
    {"delete", "VOLUME_ID...", cmdctl_delete},
    {"get", "VOLUME_ID...", cmdctl_get},
    {"list", "[--max N] [--token TOKEN] [--paging]", cmdctl_list},
    {"publish",
     "VOLUME_ID NODE_ID [--readonly] [--access rwo|rwop|rwx|rox] [--fs FS] [--block] "
     "" CMDCTL_CAP_USAGE,
     cmdctl_publish},
    {"unpublish", "VOLUME_ID [NODE_ID]", cmdctl_unpublish},
    {"expand", "VOLUME_ID SIZE", cmdctl_expand},
    {"capacity", "[--param k=v]... [--node NODE_ID] " CMDCTL_CAP_USAGE "...", cmdctl_capacity},
    {"modify", "VOLUME_ID KEY=VALUE...", cmdctl_modify},
    {"validate",
     "VOLUME_ID [--access rwo|rwop|rwx|rox] [--fs FS] [--block] " CMDCTL_CAP_USAGE
     "... [--param k=v]...",
     cmdctl_validate},
    {"caps", "", cmdctl_caps_verb},
};

const struct cli_group cli_controller_group = {"controller", controller_verbs,
                                               ARRAY_SIZE(controller_verbs)};
