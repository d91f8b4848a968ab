/* The fuzz targets' private world: a temp pool and kubelet dir on a small tmpfs of their own
 * (when the process may make one), the daemon state of `silo --mode all` on them, and fakes
 * for the side effects (common/seam.h). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/server/rpc.h"

/* The kubelet dir as requests name it: a fixed spelling whatever the temp dir is called (a
 * descriptor of the real directory, kept open at FUZZ_KUBELET_FD), so that the checked-in
 * corpus can name paths beneath it. */
#define FUZZ_KUBELET_FD  700
#define FUZZ_KUBELET_DIR "/proc/self/fd/700"
#define FUZZ_NODE_ID     "fuzz-node"

/* Objects every input finds in the pool (created again after each input that changed it). */
#define FUZZ_BASE_VOLUME    "fuzz-base"       /* 1 MiB thin ext4, mount access */
#define FUZZ_BASE_BLOCK     "fuzz-block"      /* 1 MiB thin, block access */
#define FUZZ_BASE_SNAPSHOT  "fuzz-base-snap"  /* of FUZZ_BASE_VOLUME: data at 0-8K, 512K */
#define FUZZ_BASE_SNAPSHOT2 "fuzz-base-snap2" /* later: 4K and 256K rewritten */
#define FUZZ_BASE_GROUP     "fuzz-group"      /* group snapshot of FUZZ_BASE_BLOCK */

/* Entries beneath the kubelet dir that requests may name: "dir" (a directory), "file" (a
 * regular file), "fifo" (a FIFO, which no open may block on). */

/* Sets everything up once (node-scoped pool; shared: --pool-scope shared, where the
 * controller reads every object's metadata from the pool on each call); aborts on failure.
 * Returns the daemon state. */
struct silo *fuzz_env(void);
struct silo *fuzz_env_shared(void);
/* The real temp directories (for targets that work on the pool directly). */
const char *fuzz_env_pool(void);

/* Runs one request through the server core (rpc_local_call) against every service, then
 * puts the pool and kubelet dir back the way the next input expects them. Aborts when the
 * answer breaks what any request may expect: UNKNOWN; an error without a message; an OK
 * reply that does not decode as out (may be NULL: not checked); INTERNAL before any side
 * effect was reached, unless SILO_FUZZ_STRICT=0. */
void fuzz_env_call(const char *path, const uint8_t *data, size_t len,
                   const ProtobufCMessageDescriptor *out);

/* fuzz_env_call() of a request built in C. */
void fuzz_env_call_msg(const char *path, const ProtobufCMessage *req);

/* True when a fake side effect was reached since the last fuzz_env_call() started. */
bool fuzz_env_seam_reached(void);
