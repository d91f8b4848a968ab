/* siloctl snapshot verbs. */
#include "cli/siloctl.h"

#include "common/cleanup.h"

static const struct cli_verb snapshot_verbs[] = {
        {NULL, NULL, NULL},
};

const struct cli_group cli_snapshot_group = {"snapshot", snapshot_verbs, 0};
