/* siloctl group verbs: volume group snapshots (csi.v1.GroupController). */
#include <csi.pb-c.h>
#include <string.h>

#include "cli/siloctl.h"

#include "common/cleanup.h"

static int cmdgrp_usage(const struct cli *cli, const char *verb, const char *why)
{
        return cli_usage_error(cli, "group", verb, why);
}

static int cmdgrp_create(struct cli *cli, int argc, char **argv)
{
        if (argc < 3)
                return cmdgrp_usage(cli, "create", "expected NAME and at least one VOLUME_ID");
        Csi__V1__CreateVolumeGroupSnapshotRequest req =
            CSI__V1__CREATE_VOLUME_GROUP_SNAPSHOT_REQUEST__INIT;
        req.name = argv[1];
        req.n_source_volume_ids = (size_t)argc - 2;
        req.source_volume_ids = argv + 2;
        return cli_call(cli, "/csi.v1.GroupController/CreateVolumeGroupSnapshot", &req.base,
                        &csi__v1__create_volume_group_snapshot_response__descriptor, NULL);
}

static int cmdgrp_delete(struct cli *cli, int argc, char **argv)
{
        if (argc < 2)
                return cmdgrp_usage(cli, "delete", "expected GROUP_ID");
        Csi__V1__DeleteVolumeGroupSnapshotRequest req =
            CSI__V1__DELETE_VOLUME_GROUP_SNAPSHOT_REQUEST__INIT;
        req.group_snapshot_id = argv[1];
        req.n_snapshot_ids = (size_t)argc - 2;
        req.snapshot_ids = argv + 2;
        return cli_call(cli, "/csi.v1.GroupController/DeleteVolumeGroupSnapshot", &req.base,
                        &csi__v1__delete_volume_group_snapshot_response__descriptor, NULL);
}

static int cmdgrp_get(struct cli *cli, int argc, char **argv)
{
        if (argc < 2)
                return cmdgrp_usage(cli, "get", "expected GROUP_ID");
        Csi__V1__GetVolumeGroupSnapshotRequest req =
            CSI__V1__GET_VOLUME_GROUP_SNAPSHOT_REQUEST__INIT;
        req.group_snapshot_id = argv[1];
        req.n_snapshot_ids = (size_t)argc - 2;
        req.snapshot_ids = argv + 2;
        return cli_call(cli, "/csi.v1.GroupController/GetVolumeGroupSnapshot", &req.base,
                        &csi__v1__get_volume_group_snapshot_response__descriptor, NULL);
}

static int cmdgrp_caps(struct cli *cli, int argc, char **argv)
{
        (void)argv;
        if (argc != 1)
                return cmdgrp_usage(cli, "caps", "no arguments expected");
        Csi__V1__GroupControllerGetCapabilitiesRequest req =
            CSI__V1__GROUP_CONTROLLER_GET_CAPABILITIES_REQUEST__INIT;
        return cli_call(cli, "/csi.v1.GroupController/GroupControllerGetCapabilities", &req.base,
                        &csi__v1__group_controller_get_capabilities_response__descriptor, NULL);
}

static const struct cli_verb group_verbs[] = {
    {"create", "NAME VOLUME_ID...", cmdgrp_create},
    {"delete", "GROUP_ID [SNAPSHOT_ID...]", cmdgrp_delete},
    {"get", "GROUP_ID [SNAPSHOT_ID...]", cmdgrp_get},
    {"caps", "", cmdgrp_caps},
};

const struct cli_group cli_group_group = {"group", group_verbs, ARRAY_SIZE(group_verbs)};
