/* Daemon configuration from the command line. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/log.h"

enum config_mode { CONFIG_MODE_ALL, CONFIG_MODE_CONTROLLER, CONFIG_MODE_NODE };
enum config_scope { CONFIG_SCOPE_NODE, CONFIG_SCOPE_SHARED };

struct config {
        char *endpoint;        /* unix:///abs, bare path, or tcp://host:port */
        char *node_id;         /* --nodeid, default: the host name */
        char *driver_name;     /* --driver-name, default silo.csi.io */
        char *pool;            /* --pool: absolute directory holding volumes */
        char *kubelet_dir;     /* --kubelet-dir: staging/target paths must be beneath it */
        char *metrics_address; /* --metrics-address host:port, NULL when off */
        enum config_mode mode;
        enum config_scope scope;       /* --pool-scope node|shared */
        unsigned max_concurrent;       /* --max-concurrent-requests (worker threads) */
        unsigned max_queued;           /* --max-queued-requests beyond the workers */
        unsigned max_connections;      /* --max-connections open at once */
        uint64_t timeout_ms;           /* --timeout per operation */
        uint64_t drain_ms;             /* --drain-timeout: shutdown waits this, twice at most */
        uint64_t max_volumes_per_node; /* 0 = no limit reported */
        double overcommit_ratio;       /* thin provisioning: free space x ratio */
        bool skip_attach;
        enum log_level log_level;
};

/* Outcome of config_parse besides errors. */
enum { CONFIG_RUN = 0, CONFIG_EXIT = 1 };

/* Parses argv into ret (which config_release frees). Prints --help/--version itself and then
 * returns CONFIG_EXIT. On a bad flag, prints why on stderr and returns -EINVAL. */
int config_parse(int argc, char **argv, struct config *ret);
void config_release(struct config *cfg);

/* Text of --help (also what the README documents). */
void config_usage(FILE *out);

/* "all", "controller", "node": the spelling --mode takes. */
const char *config_mode_name(enum config_mode mode);
