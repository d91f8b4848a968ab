/* The command-line parser (common/server/config.c): an input is argv after "silo", its
 * arguments separated by NUL bytes. A parse that succeeds must leave a usable config. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/server/config.h"

#define FUZZ_ARGS_MAX 64

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        (void)argc;
        (void)argv;
        /* --help and refusals print; the sanitizers write to the descriptor, not to these. */
        FILE *null = fopen("/dev/null", "w");
        if (null) {
                stdout = null;
                stderr = null;
        }
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *buf = malloc(size + 1);
        char *argv[FUZZ_ARGS_MAX + 2];
        int argc = 0;
        struct config cfg;

        if (!buf)
                return 0;
        memcpy(buf, data, size);
        buf[size] = '\0';
        argv[argc++] = "silo";
        for (char *p = buf; p < buf + size && argc <= FUZZ_ARGS_MAX; p += strlen(p) + 1)
                argv[argc++] = p;
        argv[argc] = NULL;
        if (config_parse(argc, argv, &cfg) == CONFIG_RUN) {
                if (!cfg.endpoint || !cfg.node_id || !cfg.driver_name || !cfg.pool ||
                    !cfg.kubelet_dir || cfg.pool[0] != '/' || cfg.kubelet_dir[0] != '/' ||
                    cfg.max_concurrent == 0 || cfg.timeout_ms == 0 || !(cfg.overcommit_ratio > 0))
                        abort();
                config_release(&cfg);
        }
        free(buf);
        return 0;
}
