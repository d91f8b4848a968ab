/* siloctl group verbs. */
#include "cli/siloctl.h"

#include "common/cleanup.h"

static const struct cli_verb group_verbs[] = {
        {NULL, NULL, NULL},
};

const struct cli_group cli_group_group = {"group", group_verbs, 0};
