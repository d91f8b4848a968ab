/* siloctl: the verb table, --help, and how errors and usage errors are printed. */
#include <stdio.h>
#include <string.h>

#include "cli/siloctl.h"

#include "common/cleanup.h"

static const struct cli_group *const cli_groups[] = {
    &cli_identity_group, &cli_controller_group, &cli_snapshot_group,
    &cli_group_group,    &cli_node_group,
};

void cli_help(FILE *f)
{
        fputs("Usage: siloctl [OPTIONS] GROUP VERB [ARGS] [OPTIONS]\n"
              "A command-line client for any CSI driver.\n\n"
              "  -e, --endpoint ADDR       unix:///path, /path or tcp://host:port\n"
              "                            (default $CSI_ENDPOINT or unix:///csi/csi.sock)\n"
              "  -o, --output FORMAT       text (default: one line per result) or json (the\n"
              "                            proto3 JSON mapping; errors as JSON on stderr)\n"
              "  -t, --timeout DUR         per-call deadline (default 30s)\n"
              "  -q, --quiet               no confirmation line for calls with empty replies\n"
              "  -m, --metadata KEY=VALUE  gRPC metadata sent with every call (repeatable)\n"
              "      --debug               log each request and reply as JSON on stderr\n"
              "                            (secrets hidden)\n"
              "      --paging              list verbs follow next_token to the end\n"
              "      --already-exists-ok   ALREADY_EXISTS counts as success\n"
              "      --not-found-ok        NOT_FOUND counts as success\n"
              "      --secret KEY=VALUE    request secrets (repeatable); --secrets-file FILE\n"
              "      --vol-context KEY=VALUE  volume_context (repeatable); --vol-context-file\n"
              "      --pub-context KEY=VALUE  publish_context (repeatable); --pub-context-file\n"
              "                            files hold KEY=VALUE lines; '#' starts a comment\n\n"
              "Exit status: 0 OK; 1-16 the gRPC status code of the failing call (5 NOT_FOUND,\n"
              "14 UNAVAILABLE: nothing answers, ...); 64 usage error; 65 the call succeeded\n"
              "but the answer is no (probe: not ready; validate: not confirmed).\n\nVerbs:\n",
              f);
        for (size_t g = 0; g < ARRAY_SIZE(cli_groups); g++)
                for (size_t v = 0; v < cli_groups[g]->n_verbs; v++)
                        fprintf(f, "  %s %s%s%s\n", cli_groups[g]->name,
                                cli_groups[g]->verbs[v].verb,
                                *cli_groups[g]->verbs[v].usage ? " " : "",
                                cli_groups[g]->verbs[v].usage);
}

int cli_usage_error(const struct cli *cli, const char *group, const char *verb, const char *why)
{
        cli_error(cli, "USAGE", why);
        if (cli->json || !group || !verb)
                return CLI_EXIT_USAGE;
        const struct cli_verb *v = cli_find_verb(group, verb);
        if (v)
                fprintf(stderr, "usage: siloctl %s %s %s\n", group, verb, v->usage);
        return CLI_EXIT_USAGE;
}

const struct cli_verb *cli_find_verb(const char *group, const char *verb)
{
        for (size_t g = 0; g < ARRAY_SIZE(cli_groups); g++)
                for (size_t v = 0; v < cli_groups[g]->n_verbs; v++)
                        if (strcmp(cli_groups[g]->name, group) == 0 &&
                            strcmp(cli_groups[g]->verbs[v].verb, verb) == 0)
                                return &cli_groups[g]->verbs[v];
        return NULL;
}

void cli_error(const struct cli *cli, const char *code, const char *message)
{
        if (!cli->json) {
                fprintf(stderr, "siloctl: %s: %s\n", code, message ? message : "");
                return;
        }
        fputs("{\"code\":\"", stderr);
        fputs(code, stderr);
        fputs("\",\"message\":", stderr);
        const char *m = message ? message : "";
        fputc('"', stderr);
        for (const char *p = m; *p; p++) {
                unsigned char c = (unsigned char)*p;
                if (c == '"' || c == '\\')
                        fprintf(stderr, "\\%c", c);
                else if (c < 0x20)
                        fprintf(stderr, "\\u%04x", c);
                else
                        fputc(c, stderr);
        }
        fputs("\"}\n", stderr);
}
