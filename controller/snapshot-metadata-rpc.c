/* csi.v1.SnapshotMetadata: listed so that its methods answer UNIMPLEMENTED by name. Changed
 * block tracking needs a block map of each snapshot, which a file pool does not keep; the
 * plugin does not advertise SNAPSHOT_METADATA_SERVICE. */
#include <csi.pb-c.h>

#include "controller/controller-rpc.h"
#include "common/cleanup.h"

static const struct rpc_method snapshot_metadata_methods[] = {
    {"GetMetadataAllocated", &csi__v1__get_metadata_allocated_request__descriptor, NULL,
     RPC_WORKER},
    {"GetMetadataDelta", &csi__v1__get_metadata_delta_request__descriptor, NULL, RPC_WORKER},
};

const struct rpc_service snapshot_metadata_service = {
    "csi.v1.SnapshotMetadata", snapshot_metadata_methods, ARRAY_SIZE(snapshot_metadata_methods)};
