/* siloctl node verbs. */
#include "cli/siloctl.h"

#include "common/cleanup.h"

static const struct cli_verb node_verbs[] = {
        {NULL, NULL, NULL},
};

const struct cli_group cli_node_group = {"node", node_verbs, 0};
