/* siloctl node verbs: one CSI Node call each. */
#include <csi.pb-c.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/siloctl.h"
#include "common/units.h"

#include "common/cleanup.h"

#define CMDNODE_FLAGS_MAX 16

static int cmdnode_usage(const struct cli *cli, const char *verb, const char *why)
{
        return cli_usage_error(cli, "node", verb, why);
}

/* Options shared by stage and publish, and the capability built from them. */
struct cmdnode_opts {
        const char *fs, *group, *access, *cap;
        bool block, readonly;
        char *flags[CMDNODE_FLAGS_MAX];
        size_t n_flags;
        struct cli_cap c;
};

/* --cap, or --access/--fs/--block; --flag and --group add to a mount capability. */
static int cmdnode_cap(struct cmdnode_opts *o, const char **ret_why)
{
        int r;
        if (o->cap && (o->access || o->fs || o->block)) {
                *ret_why = "--cap replaces --access, --fs and --block: use one or the other";
                return -EINVAL;
        }
        if (o->cap)
                r = cli_cap_parse(o->cap, &o->c, ret_why);
        else
                r = cli_cap_short(o->access ? o->access : "rwo", o->fs, o->block, &o->c, ret_why);
        if (r < 0)
                return r;
        Csi__V1__VolumeCapability__MountVolume *m = &o->c.mount;
        if (o->c.cap.access_type_case != CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_MOUNT) {
                if (o->n_flags || o->group) {
                        *ret_why = "--flag and --group go with mount volumes, not block";
                        return -EINVAL;
                }
                return 0;
        }
        if (m->n_mount_flags + o->n_flags > CLI_CAP_FLAGS_MAX) {
                *ret_why = "at most 16 mount flags";
                return -E2BIG;
        }
        for (size_t i = 0; i < o->n_flags; i++)
                o->c.flags[m->n_mount_flags++] = o->flags[i];
        m->volume_mount_group = (char *)(o->group ? o->group : "");
        return 0;
}

static int cmdnode_parse(const struct cli *cli, const char *verb, int argc, char **argv,
                         int positional, struct cmdnode_opts *o)
{
        static const struct option opts[] = {
            {"fs", required_argument, NULL, 'f'},     {"block", no_argument, NULL, 'b'},
            {"flag", required_argument, NULL, 'o'},   {"group", required_argument, NULL, 'g'},
            {"access", required_argument, NULL, 'a'}, {"readonly", no_argument, NULL, 'r'},
            {"cap", required_argument, NULL, 'c'},    {NULL, 0, NULL, 0},
        };
        int c;

        while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
                if (c == 'f')
                        o->fs = optarg;
                else if (c == 'b')
                        o->block = true;
                else if (c == 'o' && o->n_flags < CMDNODE_FLAGS_MAX)
                        o->flags[o->n_flags++] = optarg;
                else if (c == 'o')
                        return cmdnode_usage(cli, verb, "at most 16 --flag");
                else if (c == 'c')
                        o->cap = optarg;
                else if (c == 'g')
                        o->group = optarg;
                else if (c == 'a')
                        o->access = optarg;
                else if (c == 'r')
                        o->readonly = true;
                else
                        return cmdnode_usage(cli, verb,
                                             c == ':' ? "an option needs a value"
                                                      : "unknown option (see --help)");
        }
        if (argc - optind != positional)
                return cmdnode_usage(cli, verb,
                                     positional == 2 ? "expected VOLUME_ID and STAGING_PATH"
                                                     : "expected VOLUME_ID, STAGING_PATH and "
                                                       "TARGET_PATH");
        const char *why;
        if (cmdnode_cap(o, &why) < 0)
                return cmdnode_usage(cli, verb, why);
        return 0;
}

static int cmdnode_plain(const struct cli *cli, const char *verb, int argc, char **argv,
                         int positional, const char *expected)
{
        if (getopt_long(argc, argv, ":", (const struct option[]){{NULL, 0, NULL, 0}}, NULL) != -1)
                return cmdnode_usage(cli, verb, "unknown option (see --help)");
        if (argc - optind != positional)
                return cmdnode_usage(cli, verb, expected);
        return 0;
}

static int cmdnode_stage(struct cli *cli, int argc, char **argv)
{
        Csi__V1__NodeStageVolumeRequest req = CSI__V1__NODE_STAGE_VOLUME_REQUEST__INIT;
        struct cmdnode_opts o = {0};
        int r = cmdnode_parse(cli, "stage", argc, argv, 2, &o);

        if (r != 0)
                return r;
        req.volume_id = argv[optind];
        req.staging_target_path = argv[optind + 1];
        req.volume_capability = &o.c.cap;
        return cli_call(cli, "/csi.v1.Node/NodeStageVolume", &req.base,
                        &csi__v1__node_stage_volume_response__descriptor, NULL);
}

static int cmdnode_unstage(struct cli *cli, int argc, char **argv)
{
        Csi__V1__NodeUnstageVolumeRequest req = CSI__V1__NODE_UNSTAGE_VOLUME_REQUEST__INIT;
        int r = cmdnode_plain(cli, "unstage", argc, argv, 2, "expected VOLUME_ID and STAGING_PATH");

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
        int r = cmdnode_parse(cli, "publish", argc, argv, 3, &o);

        if (r != 0)
                return r;
        req.volume_id = argv[optind];
        req.staging_target_path = argv[optind + 1];
        req.target_path = argv[optind + 2];
        req.volume_capability = &o.c.cap;
        req.readonly = o.readonly;
        return cli_call(cli, "/csi.v1.Node/NodePublishVolume", &req.base,
                        &csi__v1__node_publish_volume_response__descriptor, NULL);
}

static int cmdnode_unpublish(struct cli *cli, int argc, char **argv)
{
        Csi__V1__NodeUnpublishVolumeRequest req = CSI__V1__NODE_UNPUBLISH_VOLUME_REQUEST__INIT;
        int r =
            cmdnode_plain(cli, "unpublish", argc, argv, 2, "expected VOLUME_ID and TARGET_PATH");

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
        int r = cmdnode_plain(cli, "stats", argc, argv, 2, "expected VOLUME_ID and PATH");

        if (r != 0)
                return r;
        req.volume_id = argv[optind];
        req.volume_path = argv[optind + 1];
        return cli_call(cli, "/csi.v1.Node/NodeGetVolumeStats", &req.base,
                        &csi__v1__node_get_volume_stats_response__descriptor, NULL);
}

static int cmdnode_expand_parse(const struct cli *cli, int argc, char **argv, int64_t *size,
                                bool *block)
{
        static const struct option opts[] = {
            {"size", required_argument, NULL, 's'},
            {"block", no_argument, NULL, 'b'},
            {NULL, 0, NULL, 0},
        };
        const char *why = NULL;
        int c;

        while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
                if (c == 'b')
                        *block = true;
                else if (c == 's')
                        (void)cli_parse_size(optarg, size, &why);
                else
                        why = c == ':' ? "an option needs a value" : "unknown option (see --help)";
                if (why)
                        return cmdnode_usage(cli, "expand", why);
        }
        if (argc - optind != 2)
                return cmdnode_usage(cli, "expand", "expected VOLUME_ID and PATH");
        return 0;
}

static int cmdnode_expand(struct cli *cli, int argc, char **argv)
{
        Csi__V1__NodeExpandVolumeRequest req = CSI__V1__NODE_EXPAND_VOLUME_REQUEST__INIT;
        Csi__V1__CapacityRange range = CSI__V1__CAPACITY_RANGE__INIT;
        struct cmdnode_opts o = {.access = NULL};
        const char *why;
        int r = cmdnode_expand_parse(cli, argc, argv, &range.required_bytes, &o.block);

        if (r != 0)
                return r;
        if (cmdnode_cap(&o, &why) < 0)
                return cmdnode_usage(cli, "expand", why);
        req.volume_id = argv[optind];
        req.volume_path = argv[optind + 1];
        req.capacity_range = &range;
        req.volume_capability = &o.c.cap;
        return cli_call(cli, "/csi.v1.Node/NodeExpandVolume", &req.base,
                        &csi__v1__node_expand_volume_response__descriptor, NULL);
}

static int cmdnode_info(struct cli *cli, int argc, char **argv)
{
        Csi__V1__NodeGetInfoRequest req = CSI__V1__NODE_GET_INFO_REQUEST__INIT;
        int r = cmdnode_plain(cli, "info", argc, argv, 0, "no arguments expected");

        if (r != 0)
                return r;
        return cli_call(cli, "/csi.v1.Node/NodeGetInfo", &req.base,
                        &csi__v1__node_get_info_response__descriptor, NULL);
}

static int cmdnode_caps(struct cli *cli, int argc, char **argv)
{
        Csi__V1__NodeGetCapabilitiesRequest req = CSI__V1__NODE_GET_CAPABILITIES_REQUEST__INIT;
        int r = cmdnode_plain(cli, "caps", argc, argv, 0, "no arguments expected");

        if (r != 0)
                return r;
        return cli_call(cli, "/csi.v1.Node/NodeGetCapabilities", &req.base,
                        &csi__v1__node_get_capabilities_response__descriptor, NULL);
}

static const struct cli_verb node_verbs[] = {
    {"stage",
     "VOLUME_ID STAGING_PATH [--fs ext4|xfs] [--block] [--flag OPT]... [--group GID] "
     "[--access rwo|rwop|rwx|rox] [--cap MODE,TYPE[,FS[,FLAG...]]]",
     cmdnode_stage},
    {"unstage", "VOLUME_ID STAGING_PATH", cmdnode_unstage},
    {"publish",
     "VOLUME_ID STAGING_PATH TARGET_PATH [--readonly] [--fs ext4|xfs] [--block] "
     "[--flag OPT]... [--group GID] [--access rwo|rwop|rwx|rox] [--cap MODE,TYPE[,FS[,FLAG...]]]",
     cmdnode_publish},
    {"unpublish", "VOLUME_ID TARGET_PATH", cmdnode_unpublish},
    {"stats", "VOLUME_ID PATH", cmdnode_stats},
    {"expand", "VOLUME_ID PATH [--size SIZE] [--block]", cmdnode_expand},
    {"info", "", cmdnode_info},
    {"caps", "", cmdnode_caps},
};

const struct cli_group cli_node_group = {"node", node_verbs, ARRAY_SIZE(node_verbs)};
