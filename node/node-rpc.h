/* The CSI Node service: thin adapters from protobuf requests to node/node.h. */
#pragma once

#include "common/server/rpc.h"

extern const struct rpc_service node_service;
