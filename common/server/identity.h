/* The CSI Identity service: plugin info, capabilities, readiness. Answered inline on the
 * server's I/O thread, so Probe never waits behind volume work. */
#pragma once

#include "common/server/rpc.h"

extern const struct rpc_service identity_service;

/* "0.1.0+<git revision>" */
const char *identity_version(void);
