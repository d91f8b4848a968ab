/* Test-only fault injection, compiled to nothing unless SILO_TEST_HOOKS is on (never in
 * release builds). SILO_TEST_DELAY="Method:ms[:count][,...]" makes a call of Method sleep
 * right after its handler takes its first operation lock (or before an unlocked handler),
 * so tests can observe timeouts, pending-operation conflicts and crashes mid-operation. */
#pragma once

#include "common/server/rpc.h"

/* Called by the server core on the worker thread before the handler. */
void testhook_begin_call(const char *method);
/* Sleeps once per call if the current method is configured to be slow. */
void testhook_pause_locked(void);
/* Called by the core after the handler: pauses if the handler took no lock. */
void testhook_end_call(void);

/* With hooks on: service "silo.test.Hooks", method "Sleep" (DeleteVolumeRequest in,
 * DeleteVolumeResponse out), a worker-pool call that holds the operation lock
 * "test/<volume_id>" for the configured delay. Without hooks it has no methods and is not
 * registered. */
extern const struct rpc_service testhook_service;
