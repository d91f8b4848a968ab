/* gRPC adapters of the Controller and GroupController services (thin: decode is done by the
 * core; these validate every field, take the per-object vlock, call the logic in
 * controller.h and build the reply). Registered by main() when --mode is all or controller,
 * after controller_new() has put the struct controller into struct silo. */
#pragma once

#include "common/server/rpc.h"

extern const struct rpc_service controller_service;        /* "csi.v1.Controller" */
extern const struct rpc_service group_controller_service;  /* "csi.v1.GroupController" */
extern const struct rpc_service snapshot_metadata_service; /* "csi.v1.SnapshotMetadata" */

/* Snapshot handlers (snapshot-rpc.c), listed in controller_service. */
int snapshot_rpc_create(struct rpc_call *call, const ProtobufCMessage *msg);
int snapshot_rpc_delete(struct rpc_call *call, const ProtobufCMessage *msg);
int snapshot_rpc_list(struct rpc_call *call, const ProtobufCMessage *msg);
int snapshot_rpc_get(struct rpc_call *call, const ProtobufCMessage *msg);

/* Handlers of the volume-changing RPCs (volume-rpc.c). */
int volume_rpc_publish(struct rpc_call *call, const ProtobufCMessage *msg);
int volume_rpc_unpublish(struct rpc_call *call, const ProtobufCMessage *msg);
int volume_rpc_expand(struct rpc_call *call, const ProtobufCMessage *msg);
int volume_rpc_modify(struct rpc_call *call, const ProtobufCMessage *msg);
