/* siloctl controller verbs. */
#include "cli/siloctl.h"

#include "common/cleanup.h"

static const struct cli_verb controller_verbs[] = {
        {NULL, NULL, NULL},
};

const struct cli_group cli_controller_group = {"controller", controller_verbs, 0};
