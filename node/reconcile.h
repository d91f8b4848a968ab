/* Startup reconciliation: sits above node.c and volstate.c and uses both. */
#pragma once

#include "node/node.h"

/* Detaches loop devices backed by this pool's volumes that nothing mounts (leftovers of a
 * crash or of a reboot-less restart); everything a pod uses is left alone, except that a
 * filesystem left frozen by a crash during a snapshot is thawed. Returns how many it
 * detached. */
int node_reconcile(struct node *n);
