/* siloctl snapshot verbs. */
#include <csi.pb-c.h>
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cli/siloctl.h"
#include "common/units.h"

#include "common/cleanup.h"

static int cmdsnap_usage(const struct cli *cli, const char *verb, const char *why)
{
        return cli_usage_error(cli, "snapshot", verb, why);
}

static int cmdsnap_create(struct cli *cli, int argc, char **argv)
{
        if (argc != 3)
                return cmdsnap_usage(cli, "create", "expected NAME and source VOLUME_ID");
        Csi__V1__CreateSnapshotRequest req = CSI__V1__CREATE_SNAPSHOT_REQUEST__INIT;
        req.name = argv[1];
        req.source_volume_id = argv[2];
        return cli_call(cli, "/csi.v1.Controller/CreateSnapshot", &req.base,
                        &csi__v1__create_snapshot_response__descriptor, NULL);
}

static int cmdsnap_delete_one(struct cli *cli, char *id)
{
        Csi__V1__DeleteSnapshotRequest req = CSI__V1__DELETE_SNAPSHOT_REQUEST__INIT;
        req.snapshot_id = id;
        return cli_call(cli, "/csi.v1.Controller/DeleteSnapshot", &req.base,
                        &csi__v1__delete_snapshot_response__descriptor, NULL);
}

static int cmdsnap_get_one(struct cli *cli, char *id)
{
        Csi__V1__GetSnapshotRequest req = CSI__V1__GET_SNAPSHOT_REQUEST__INIT;
        req.snapshot_id = id;
        return cli_call(cli, "/csi.v1.Controller/GetSnapshot", &req.base,
                        &csi__v1__get_snapshot_response__descriptor, NULL);
}

/* One call per ID; the exit status is the first failure's. */
static int cmdsnap_each_id(struct cli *cli, const char *verb, int argc, char **argv,
                           int (*one)(struct cli *cli, char *id))
{
        if (argc < 2 || argv[1][0] == '-')
                return cmdsnap_usage(cli, verb, "expected one or more SNAPSHOT_IDs");
        int first = 0;
        for (int i = 1; i < argc; i++) {
                int r = one(cli, argv[i]);
                if (r != 0 && first == 0)
                        first = r;
        }
        return first;
}

static int cmdsnap_delete(struct cli *cli, int argc, char **argv)
{
        return cmdsnap_each_id(cli, "delete", argc, argv, cmdsnap_delete_one);
}

static int cmdsnap_get(struct cli *cli, int argc, char **argv)
{
        return cmdsnap_each_id(cli, "get", argc, argv, cmdsnap_get_one);
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
        while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
                if (c == 'm' && units_parse_u64(optarg, 0, INT32_MAX, &max) < 0)
                        return cmdsnap_usage(cli, "list", "--max is a whole number, 0 or more");
                if (c == 'm')
                        continue;
                if (c == 't')
                        req.starting_token = optarg;
                else if (c == 's')
                        req.source_volume_id = optarg;
                else if (c == 'i')
                        req.snapshot_id = optarg;
                else
                        return cmdsnap_usage(cli, "list",
                                             c == ':' ? "an option needs a value"
                                                      : "unknown option (see --help)");
        }
        if (optind != argc)
                return cmdsnap_usage(cli, "list", "unexpected argument");
        req.max_entries = (int32_t)max;
        return cli_list(cli, "/csi.v1.Controller/ListSnapshots", &req.base,
                        &csi__v1__list_snapshots_response__descriptor);
}

/* Block metadata ranges: "OFFSET LENGTH" lines, or one JSON object whose blockMetadata
 * array grows as the stream arrives. */
#define CMDSNAP_SAME_FIELD(f)                                                                      \
        _Static_assert(offsetof(Csi__V1__GetMetadataAllocatedResponse, f) ==                       \
                           offsetof(Csi__V1__GetMetadataDeltaResponse, f),                         \
                       "response layouts differ")
CMDSNAP_SAME_FIELD(block_metadata_type);
CMDSNAP_SAME_FIELD(volume_capacity_bytes);
CMDSNAP_SAME_FIELD(n_block_metadata);
CMDSNAP_SAME_FIELD(block_metadata);

struct cmdsnap_ranges {
        const struct cli *cli;
        bool started;
        size_t n;
};

static int cmdsnap_on_ranges(void *ctx, const ProtobufCMessage *msg)
{
        struct cmdsnap_ranges *o = ctx;
        /* Both response messages have these fields in this order. */
        const Csi__V1__GetMetadataDeltaResponse *m = (const void *)msg;
        if (o->cli->json && !o->started)
                printf("{\"blockMetadataType\":\"%s\",\"volumeCapacityBytes\":\"%lld\","
                       "\"blockMetadata\":[",
                       m->block_metadata_type == CSI__V1__BLOCK_METADATA_TYPE__FIXED_LENGTH
                           ? "FIXED_LENGTH"
                           : "VARIABLE_LENGTH",
                       (long long)m->volume_capacity_bytes);
        o->started = true;
        for (size_t i = 0; i < m->n_block_metadata; i++, o->n++) {
                long long off = (long long)m->block_metadata[i]->byte_offset;
                long long len = (long long)m->block_metadata[i]->size_bytes;
                if (o->cli->json)
                        printf("%s{\"byteOffset\":\"%lld\",\"sizeBytes\":\"%lld\"}",
                               o->n ? "," : "", off, len);
                else
                        printf("%lld %lld\n", off, len);
        }
        return 0;
}

static int cmdsnap_ranges(struct cli *cli, const char *path, ProtobufCMessage *req,
                          const ProtobufCMessageDescriptor *desc)
{
        struct cmdsnap_ranges o = {.cli = cli};
        int code = cli_call_stream(cli, path, req, desc, cmdsnap_on_ranges, &o);
        if (cli->json && code == 0)
                printf(o.started ? "]}\n" : "{\"blockMetadata\":[]}\n");
        return code;
}

/* [--from OFFSET] [--max N]: the stream's starting_offset and max_results. */
static int cmdsnap_range_opts(int argc, char **argv, int64_t *from, int32_t *max)
{
        static const struct option opts[] = {
            {"from", required_argument, NULL, 'f'},
            {"max", required_argument, NULL, 'm'},
            {NULL, 0, NULL, 0},
        };
        uint64_t v;
        int c;
        while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                if (c == 'f' && units_parse_u64(optarg, 0, INT64_MAX, &v) == 0)
                        *from = (int64_t)v;
                else if (c == 'm' && units_parse_u64(optarg, 0, INT32_MAX, &v) == 0)
                        *max = (int32_t)v;
                else
                        return -1;
        }
        return optind;
}

static int cmdsnap_allocated(struct cli *cli, int argc, char **argv)
{
        Csi__V1__GetMetadataAllocatedRequest req = CSI__V1__GET_METADATA_ALLOCATED_REQUEST__INIT;
        int i = cmdsnap_range_opts(argc, argv, &req.starting_offset, &req.max_results);
        if (i < 0 || argc - i != 1)
                return cmdsnap_usage(cli, "allocated",
                                     "expected one SNAPSHOT_ID, --from OFFSET and "
                                     "--max N take whole numbers");
        req.snapshot_id = argv[i];
        return cmdsnap_ranges(cli, "/csi.v1.SnapshotMetadata/GetMetadataAllocated", &req.base,
                              &csi__v1__get_metadata_allocated_response__descriptor);
}

static int cmdsnap_delta(struct cli *cli, int argc, char **argv)
{
        Csi__V1__GetMetadataDeltaRequest req = CSI__V1__GET_METADATA_DELTA_REQUEST__INIT;
        int i = cmdsnap_range_opts(argc, argv, &req.starting_offset, &req.max_results);
        if (i < 0 || argc - i != 2)
                return cmdsnap_usage(cli, "delta",
                                     "expected BASE_SNAPSHOT_ID and TARGET_SNAPSHOT_ID, "
                                     "--from OFFSET and --max N take whole numbers");
        req.base_snapshot_id = argv[i];
        req.target_snapshot_id = argv[i + 1];
        return cmdsnap_ranges(cli, "/csi.v1.SnapshotMetadata/GetMetadataDelta", &req.base,
                              &csi__v1__get_metadata_delta_response__descriptor);
}

static const struct cli_verb snapshot_verbs[] = {
    {"create", "NAME VOLUME_ID", cmdsnap_create},
    {"delete", "SNAPSHOT_ID...", cmdsnap_delete},
    {"get", "SNAPSHOT_ID...", cmdsnap_get},
    {"list", "[--max N] [--token TOKEN] [--paging] [--source VOLUME_ID] [--id SNAPSHOT_ID]",
     cmdsnap_list},
    {"allocated", "SNAPSHOT_ID [--from OFFSET] [--max N]", cmdsnap_allocated},
    {"delta", "BASE_SNAPSHOT_ID TARGET_SNAPSHOT_ID [--from OFFSET] [--max N]", cmdsnap_delta},
};

const struct cli_group cli_snapshot_group = {"snapshot", snapshot_verbs,
                                             ARRAY_SIZE(snapshot_verbs)};
