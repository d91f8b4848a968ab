/* siloctl snapshot verbs. */
#include <csi.pb-c.h>
#include <getopt.h>
#include <string.h>

#include "cli/siloctl.h"
#include "common/units.h"

#include "common/cleanup.h"

static int cmdsnap_usage(const char *verb, const char *why)
{
        const struct cli_group *g = &cli_snapshot_group;
        for (size_t i = 0; i < g->n_verbs; i++)
                if (strcmp(g->verbs[i].verb, verb) == 0)
                        return cli_usage_error(g->name, &g->verbs[i], why);
        return 2;
}

static int cmdsnap_create(struct cli *cli, int argc, char **argv)
{
        if (argc != 3)
                return cmdsnap_usage("create", "expected NAME and source VOLUME_ID");
        Csi__V1__CreateSnapshotRequest req = CSI__V1__CREATE_SNAPSHOT_REQUEST__INIT;
        req.name = argv[1];
        req.source_volume_id = argv[2];
        return cli_call(cli, "/csi.v1.Controller/CreateSnapshot", &req.base,
                        &csi__v1__create_snapshot_response__descriptor, NULL);
}

static int cmdsnap_delete(struct cli *cli, int argc, char **argv)
{
        if (argc != 2)
                return cmdsnap_usage("delete", "expected one SNAPSHOT_ID");
        Csi__V1__DeleteSnapshotRequest req = CSI__V1__DELETE_SNAPSHOT_REQUEST__INIT;
        req.snapshot_id = argv[1];
        return cli_call(cli, "/csi.v1.Controller/DeleteSnapshot", &req.base,
                        &csi__v1__delete_snapshot_response__descriptor, NULL);
}

static int cmdsnap_get(struct cli *cli, int argc, char **argv)
{
        if (argc != 2)
                return cmdsnap_usage("get", "expected one SNAPSHOT_ID");
        Csi__V1__GetSnapshotRequest req = CSI__V1__GET_SNAPSHOT_REQUEST__INIT;
        req.snapshot_id = argv[1];
        return cli_call(cli, "/csi.v1.Controller/GetSnapshot", &req.base,
                        &csi__v1__get_snapshot_response__descriptor, NULL);
}

static int cmdsnap_list(struct cli *cli, int argc, char **argv)
{
        static const struct option opts[] = {
            {"max", required_argument, NULL, 'm'},
            {"token", required_argument, NULL, 't'},
            {"source", required_argument, NULL, 's'},
            {"id", required_argument, NULL, 'i'},
            {NULL, 0, NULL, 0},
        };
        Csi__V1__ListSnapshotsRequest req = CSI__V1__LIST_SNAPSHOTS_REQUEST__INIT;
        uint64_t max = 0;
        int c;
        while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                if (c == 'm' && units_parse_u64(optarg, 0, INT32_MAX, &max) == 0)
                        continue;
                if (c == 't')
                        req.starting_token = optarg;
                else if (c == 's')
                        req.source_volume_id = optarg;
                else if (c == 'i')
                        req.snapshot_id = optarg;
                else
                        return cmdsnap_usage("list", "bad option");
        }
        if (optind != argc)
                return cmdsnap_usage("list", "unexpected argument");
        req.max_entries = (int32_t)max;
        return cli_call(cli, "/csi.v1.Controller/ListSnapshots", &req.base,
                        &csi__v1__list_snapshots_response__descriptor, NULL);
}

static const struct cli_verb snapshot_verbs[] = {
    {"create", "NAME VOLUME_ID", cmdsnap_create},
    {"delete", "SNAPSHOT_ID", cmdsnap_delete},
    {"get", "SNAPSHOT_ID", cmdsnap_get},
    {"list", "[--max N] [--token TOKEN] [--source VOLUME_ID] [--id SNAPSHOT_ID]", cmdsnap_list},
};

const struct cli_group cli_snapshot_group = {"snapshot", snapshot_verbs,
                                             ARRAY_SIZE(snapshot_verbs)};
