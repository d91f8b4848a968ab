/* One fuzz target per CSI service (FUZZ_SERVICE names its protobuf-c service descriptor):
 * the first byte of an input picks the method (in csi.proto's order), the rest is the request
 * as it would arrive on the wire. It runs through the server core's own decode, validation
 * and handler (rpc_local_call), against the private pool and kubelet dir of fuzz-env.c. */
#include <csi.pb-c.h>
#include <stdio.h>

#include "test/fuzz/fuzz-env.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        (void)argc;
        (void)argv;
        (void)fuzz_env();
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const ProtobufCServiceDescriptor *s = &FUZZ_SERVICE;
        char path[160];
        if (size == 0)
                return 0;
        const ProtobufCMethodDescriptor *m = &s->methods[data[0] % s->n_methods];
        snprintf(path, sizeof(path), "/%s/%s", s->name, m->name);
        fuzz_env_call(path, data + 1, size - 1, m->output);
        return 0;
}
