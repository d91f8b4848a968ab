/* Folder common: the base every layer uses (errors, logging, paths and IDs, file I/O, units,
 * addresses, cleanup helpers, banned functions). Files here include only common/. */
/* The daemon's shared state, handed to every handler through rpc_silo(). common/ knows the
 * services only as opaque pointers. */
#pragma once

#include <stdatomic.h>

struct config;
struct vlock_table;
struct controller;
struct node;

/* Plugin capabilities main() derives from what is served (GetPluginCapabilities). */
enum {
        SILO_CAP_CONTROLLER = 1 << 0,
        SILO_CAP_ACCESSIBILITY = 1 << 1,
        SILO_CAP_GROUP_CONTROLLER = 1 << 2,
        SILO_CAP_EXPAND_ONLINE = 1 << 3,
        SILO_CAP_SNAPSHOT_METADATA = 1 << 4,
};

struct silo {
        const struct config *cfg;
        struct vlock_table *locks;
        struct controller *controller; /* NULL in --mode node */
        struct node *node;             /* NULL in --mode controller */
        unsigned plugin_caps;          /* SILO_CAP_* */
        atomic_bool ready;             /* Probe: pool usable and reconciliation done */
};
