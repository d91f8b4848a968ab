/* Test-only fault injection, compiled to nothing unless SILO_TEST_HOOKS is on (never in
 * release builds). SILO_TEST_DELAY="Method:ms[:count][,...]" makes a call of Method sleep
 * right after its handler takes its first operation lock (or before an unlocked handler),
 * so tests can observe timeouts, pending-operation conflicts and crashes mid-operation. Each
 * pause first logs "msg='test hook: pausing' point=<Method>" at debug: a test waits for that
 * line, never for a fixed time, to know the call is inside its pause. Once the file that
 * SILO_TEST_RELEASE names exists, a pause ends (a later one at once): a test holds a call with
 * a long delay for as long as it needs, then releases it. */
#pragma once

#include "common/server/rpc.h"

/* Plugs the delays into the server core (around each handler) and into vlock (after a lock
 * is taken). Call before serving. */
void testhook_install(void);
/* Pauses startup if "Startup" is configured to be slow (tests observe ready=false). */
void testhook_startup(void);

/* Sleeps when point (a name in SILO_TEST_DELAY like a method's: "Frozen") is configured;
 * code calls it where tests need to stop inside an operation. */
void testhook_pause_at(const char *point);

/* With hooks on: service "silo.test.Hooks", method "Sleep" (DeleteVolumeRequest in,
 * DeleteVolumeResponse out), a worker-pool call that holds the operation lock
 * "test/<volume_id>" for the configured delay. Without hooks it has no methods and is not
 * registered. */
extern const struct rpc_service testhook_service;
