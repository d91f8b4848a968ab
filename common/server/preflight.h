/* Checks made before silo listens, so that a daemon that cannot work never looks alive: each
 * failure is logged as one line naming the path, the errno text and what to do about it. */
#pragma once

#include "common/server/config.h"

struct preflight {
        int pool_lock_fd; /* the pool claim (store_owner_claim), held until release; -1: none */
};

/* Checks that the endpoint's directory and (when serving Node) the kubelet dir exist,
 * prepares the pool (creating it when only it is missing, never its parents) and claims it:
 * exclusively in node scope, so a second instance on the same pool stops here. 0 or the
 * first failure's negative errno, already logged. */
int preflight_run(const struct config *cfg, struct preflight *ret);
void preflight_release(struct preflight *p);
