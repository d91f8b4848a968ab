/* siloctl node verbs: one CSI Node call each. */
#include <csi.pb-c.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/siloctl.h"
#include "common/units.h"

#include "common/cleanup.h"

#define CMDNODE_FLAGS_MAX 16

static int cmdnode_usage(const char *verb, const char *why)
{
        const struct cli_group *g = &cli_node_group;

        for (size_t i = 0; i < g->n_verbs; i++)
                if (strcmp(g->verbs[i].verb, verb) == 0)
                        return cli_usage_error(g->name, &g->verbs[i], why);
        return 2;
}

/* Options shared by stage and publish, and the capability built from them. */
struct cmdnode_opts {
        const char *fs, *group, *access;
        bool block, readonly;
        char *flags[CMDNODE_FLAGS_MAX];
        size_t n_flags;
        Csi__V1__VolumeCapability cap;
        Csi__V1__VolumeCapability__MountVolume mount;
        Csi__V1__VolumeCapability__BlockVolume blk;
        Csi__V1__VolumeCapability__AccessMode mode;
};

static int cmdnode_mode(const char *access, int *ret)
{
        static const struct {
                const char *name;
                int mode;
        } modes[] = {
            {"rwo", CSI__V1__VOLUME_CAPABILITY__ACCESS_MODE__MODE__SINGLE_NODE_WRITER},
            {"rwop", CSI__V1__VOLUME_CAPABILITY__ACCESS_MODE__MODE__SINGLE_NODE_SINGLE_WRITER},
            {"rwx", CSI__V1__VOLUME_CAPABILITY__ACCESS_MODE__MODE__SINGLE_NODE_MULTI_WRITER},
            {"rox", CSI__V1__VOLUME_CAPABILITY__ACCESS_MODE__MODE__MULTI_NODE_READER_ONLY},
        };

        for (size_t i = 0; i < ARRAY_SIZE(modes); i++)
                if (strcmp(modes[i].name, access) == 0) {
                        *ret = modes[i].mode;
                        return 0;
                }
        return -EINVAL;
}

static int cmdnode_cap(struct cmdnode_opts *o)
{
        int mode, r = cmdnode_mode(o->access, &mode);

        if (r < 0)
                return r;
        csi__v1__volume_capability__init(&o->cap);
        csi__v1__volume_capability__mount_volume__init(&o->mount);
        csi__v1__volume_capability__block_volume__init(&o->blk);
        csi__v1__volume_capability__access_mode__init(&o->mode);
        o->mode.mode = mode;
        o->cap.access_mode = &o->mode;
        if (o->block) {
                o->cap.access_type_case = CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_BLOCK;
                o->cap.block = &o->blk;
                return 0;
        }
        o->cap.access_type_case = CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_MOUNT;
        o->cap.mount = &o->mount;
        o->mount.fs_type = (char *)(o->fs ? o->fs : "");
        o->mount.volume_mount_group = (char *)(o->group ? o->group : "");
        o->mount.mount_flags = o->flags;
        o->mount.n_mount_flags = o->n_flags;
        return 0;
}

static int cmdnode_parse(const char *verb, int argc, char **argv, int positional,
                         struct cmdnode_opts *o)
{
        static const struct option opts[] = {
            {"fs", required_argument, NULL, 'f'},
            {"block", no_argument, NULL, 'b'},
            {"flag", required_argument, NULL, 'o'},
            {"group", required_argument, NULL, 'g'},
            {"access", required_argument, NULL, 'a'},
            {"readonly", no_argument, NULL, 'r'},
            {NULL, 0, NULL, 0},
        };
        int c;

        o->access = "rwo";
        while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                if (c == 'f')
                        o->fs = optarg;
                else if (c == 'b')
                        o->block = true;
                else if (c == 'o' && o->n_flags < CMDNODE_FLAGS_MAX)
                        o->flags[o->n_flags++] = optarg;
                else if (c == 'g')
                        o->group = optarg;
                else if (c == 'a')
                        o->access = optarg;
                else if (c == 'r')
                        o->readonly = true;
                else
                        return cmdnode_usage(verb, "bad option");
        }
        if (argc - optind != positional)
                return cmdnode_usage(verb, "wrong number of arguments");
        if (cmdnode_cap(o) < 0)
                return cmdnode_usage(verb, "--access must be rwo, rwop, rwx or rox");
        return 0;
}

static int cmdnode_plain(const char *verb, int argc, char **argv, int positional)
{
        if (getopt_long(argc, argv, "", (const struct option[]){{NULL, 0, NULL, 0}}, NULL) != -1 ||
            argc - optind != positional)
                return cmdnode_usage(verb, "wrong arguments");
        return 0;
}

static int cmdnode_stage(struct cli *cli, int argc, char **argv)
{
        Csi__V1__NodeStageVolumeRequest req = CSI__V1__NODE_STAGE_VOLUME_REQUEST__INIT;
        struct cmdnode_opts o = {0};
        int r = cmdnode_parse("stage", argc, argv, 2, &o);

        if (r != 0)
                return r;
        req.volume_id = argv[optind];
        req.staging_target_path = argv[optind + 1];
        req.volume_capability = &o.cap;
        return cli_call(cli, "/csi.v1.Node/NodeStageVolume", &req.base,
                        &csi__v1__node_stage_volume_response__descriptor, NULL);
}

static int cmdnode_unstage(struct cli *cli, int argc, char **argv)
{
        Csi__V1__NodeUnstageVolumeRequest req = CSI__V1__NODE_UNSTAGE_VOLUME_REQUEST__INIT;
        int r = cmdnode_plain("unstage", argc, argv, 2);

        if (r != 0)
                return r;
        req.volume_id = argv[optind];
        req.staging_target_path = argv[optind + 1];
        return cli_call(cli, "/csi.v1.Node/NodeUnstageVolume", &req.base,
                        &csi__v1__node_unstage_volume_response__descriptor, NULL);
}

static int cmdnode_publish(struct cli *cli, int argc, char **argv)
{
        Csi__V1__NodePublishVolumeRequest req = CSI__V1__NODE_PUBLISH_VOLUME_REQUEST__INIT;
        struct cmdnode_opts o = {0};
        int r = cmdnode_parse("publish", argc, argv, 3, &o);

        if (r != 0)
                return r;
        req.volume_id = argv[optind];
        req.staging_target_path = argv[optind + 1];
        req.target_path = argv[optind + 2];
        req.volume_capability = &o.cap;
        req.readonly = o.readonly;
        return cli_call(cli, "/csi.v1.Node/NodePublishVolume", &req.base,
                        &csi__v1__node_publish_volume_response__descriptor, NULL);
}

static int cmdnode_unpublish(struct cli *cli, int argc, char **argv)
{
        Csi__V1__NodeUnpublishVolumeRequest req = CSI__V1__NODE_UNPUBLISH_VOLUME_REQUEST__INIT;
        int r = cmdnode_plain("unpublish", argc, argv, 2);

        if (r != 0)
                return r;
        req.volume_id = argv[optind];
        req.target_path = argv[optind + 1];
        return cli_call(cli, "/csi.v1.Node/NodeUnpublishVolume", &req.base,
                        &csi__v1__node_unpublish_volume_response__descriptor, NULL);
}

static int cmdnode_stats(struct cli *cli, int argc, char **argv)
{
        Csi__V1__NodeGetVolumeStatsRequest req = CSI__V1__NODE_GET_VOLUME_STATS_REQUEST__INIT;
        int r = cmdnode_plain("stats", argc, argv, 2);

        if (r != 0)
                return r;
        req.volume_id = argv[optind];
        req.volume_path = argv[optind + 1];
        return cli_call(cli, "/csi.v1.Node/NodeGetVolumeStats", &req.base,
                        &csi__v1__node_get_volume_stats_response__descriptor, NULL);
}

static int cmdnode_expand_parse(int argc, char **argv, int64_t *size, bool *block)
{
        static const struct option opts[] = {
            {"size", required_argument, NULL, 's'},
            {"block", no_argument, NULL, 'b'},
            {NULL, 0, NULL, 0},
        };
        uint64_t v;
        int c;

        while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                if (c == 'b')
                        *block = true;
                else if (c == 's' && units_parse_size(optarg, &v) == 0 && v <= INT64_MAX)
                        *size = (int64_t)v;
                else
                        return cmdnode_usage("expand", "bad option");
        }
        if (argc - optind != 2)
                return cmdnode_usage("expand", "wrong number of arguments");
        return 0;
}

static int cmdnode_expand(struct cli *cli, int argc, char **argv)
{
        Csi__V1__NodeExpandVolumeRequest req = CSI__V1__NODE_EXPAND_VOLUME_REQUEST__INIT;
        Csi__V1__CapacityRange range = CSI__V1__CAPACITY_RANGE__INIT;
        struct cmdnode_opts o = {.access = "rwo"};
        int r = cmdnode_expand_parse(argc, argv, &range.required_bytes, &o.block);

        if (r != 0)
                return r;
        (void)cmdnode_cap(&o);
        req.volume_id = argv[optind];
        req.volume_path = argv[optind + 1];
        req.capacity_range = &range;
        req.volume_capability = &o.cap;
        return cli_call(cli, "/csi.v1.Node/NodeExpandVolume", &req.base,
                        &csi__v1__node_expand_volume_response__descriptor, NULL);
}

static int cmdnode_info(struct cli *cli, int argc, char **argv)
{
        Csi__V1__NodeGetInfoRequest req = CSI__V1__NODE_GET_INFO_REQUEST__INIT;
        int r = cmdnode_plain("info", argc, argv, 0);

        if (r != 0)
                return r;
        return cli_call(cli, "/csi.v1.Node/NodeGetInfo", &req.base,
                        &csi__v1__node_get_info_response__descriptor, NULL);
}

static int cmdnode_caps(struct cli *cli, int argc, char **argv)
{
        Csi__V1__NodeGetCapabilitiesRequest req = CSI__V1__NODE_GET_CAPABILITIES_REQUEST__INIT;
        int r = cmdnode_plain("caps", argc, argv, 0);

        if (r != 0)
                return r;
        return cli_call(cli, "/csi.v1.Node/NodeGetCapabilities", &req.base,
                        &csi__v1__node_get_capabilities_response__descriptor, NULL);
}

static const struct cli_verb node_verbs[] = {
    {"stage",
     "VOLUME_ID STAGING_PATH [--fs ext4|xfs] [--block] [--flag OPT]... [--group GID] "
     "[--access rwo|rwop|rwx|rox]",
     cmdnode_stage},
    {"unstage", "VOLUME_ID STAGING_PATH", cmdnode_unstage},
    {"publish",
     "VOLUME_ID STAGING_PATH TARGET_PATH [--readonly] [--fs ext4|xfs] [--block] "
     "[--flag OPT]... [--group GID] [--access rwo|rwop|rwx|rox]",
     cmdnode_publish},
    {"unpublish", "VOLUME_ID TARGET_PATH", cmdnode_unpublish},
    {"stats", "VOLUME_ID PATH", cmdnode_stats},
    {"expand", "VOLUME_ID PATH [--size BYTES] [--block]", cmdnode_expand},
    {"info", "", cmdnode_info},
    {"caps", "", cmdnode_caps},
};

const struct cli_group cli_node_group = {"node", node_verbs, ARRAY_SIZE(node_verbs)};
