/* siloctl: global options, group/verb dispatch, and the call-and-print helper. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/siloctl.h"
#include "common/units.h"

#include "common/cleanup.h"

static const struct cli_group *const cli_groups[] = {
    &cli_identity_group, &cli_controller_group, &cli_snapshot_group,
    &cli_group_group,    &cli_node_group,
};

static void cli_help(FILE *f)
{
        fputs("Usage: siloctl [-e ENDPOINT] [-o text|json] [--timeout DURATION] GROUP VERB "
              "[ARGS]\n"
              "A command-line client for any CSI driver.\n\n"
              "  -e, --endpoint ADDR   unix:///path, /path or tcp://host:port\n"
              "                        (default $CSI_ENDPOINT or unix:///csi/csi.sock)\n"
              "  -o, --output FORMAT   text (default) or json\n"
              "  -t, --timeout DUR     per-call deadline (default 30s)\n\n"
              "Exit status: 0 OK, 1 the driver answered an error, 2 usage or connection "
              "error.\n\nVerbs:\n",
              f);
        for (size_t g = 0; g < ARRAY_SIZE(cli_groups); g++)
                for (size_t v = 0; v < cli_groups[g]->n_verbs; v++)
                        fprintf(f, "  %s %s %s\n", cli_groups[g]->name,
                                cli_groups[g]->verbs[v].verb, cli_groups[g]->verbs[v].usage);
}

int cli_usage_error(const char *group, const struct cli_verb *verb, const char *why)
{
        fprintf(stderr, "siloctl: %s\nusage: siloctl %s %s %s\n", why, group, verb->verb,
                verb->usage);
        return 2;
}

/* Reports a call that failed (r < 0: could not be made; else its status); the exit code, or
 * 0 when it succeeded. */
static int cli_failed(const char *path, int r, struct client_result *res)
{
        if (r < 0) {
                fprintf(stderr, "siloctl: cannot call %s: %s\n", path, strerror(-r));
                return 2;
        }
        if (res->status != ERR_OK) {
                fprintf(stderr, "siloctl: %s: %s\n", err_status_name(res->status),
                        res->message ? res->message : "");
                client_result_release(res);
                return 1;
        }
        return 0;
}

int cli_call_stream(struct cli *cli, const char *path, const ProtobufCMessage *req,
                    const ProtobufCMessageDescriptor *resp_desc, client_stream_fn on_message,
                    void *ctx)
{
        struct client_result res;
        int r = client_call_stream(cli->client, path, req, resp_desc, cli->timeout_ms, on_message,
                                   ctx, &res);
        int code = cli_failed(path, r, &res);
        if (code == 0)
                client_result_release(&res);
        return code;
}

int cli_call(struct cli *cli, const char *path, const ProtobufCMessage *req,
             const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **ret_resp)
{
        struct client_result res;
        int r = client_call(cli->client, path, req, resp_desc, cli->timeout_ms, &res);
        int code = cli_failed(path, r, &res);
        if (code)
                return code;
        if (ret_resp)
                *ret_resp = TAKE_PTR(res.resp);
        else
                cli_print(cli, res.resp);
        client_result_release(&res);
        return 0;
}

static int cli_dispatch(struct cli *cli, int argc, char **argv)
{
        if (argc < 2) {
                cli_help(stderr);
                return 2;
        }
        for (size_t g = 0; g < ARRAY_SIZE(cli_groups); g++) {
                const struct cli_group *grp = cli_groups[g];
                if (strcmp(grp->name, argv[0]) != 0)
                        continue;
                for (size_t v = 0; v < grp->n_verbs; v++) {
                        if (strcmp(grp->verbs[v].verb, argv[1]) != 0)
                                continue;
                        optind = 0; /* full getopt reset for the verb's own options */
                        return grp->verbs[v].run(cli, argc - 1, argv + 1);
                }
        }
        fprintf(stderr, "siloctl: unknown command '%s %s' (see --help)\n", argv[0], argv[1]);
        return 2;
}

static int cli_parse_globals(int argc, char **argv, struct cli *cli, const char **ret_endpoint)
{
        static const struct option opts[] = {
            {"endpoint", required_argument, NULL, 'e'},
            {"output", required_argument, NULL, 'o'},
            {"timeout", required_argument, NULL, 't'},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
        };
        int c;
        /* '+' stops at the group name so verbs keep their own options. */
        while ((c = getopt_long(argc, argv, "+e:o:t:h", opts, NULL)) != -1) {
                if (c == 'e') {
                        *ret_endpoint = optarg;
                } else if (c == 'o' && (!strcmp(optarg, "json") || !strcmp(optarg, "text"))) {
                        cli->json = strcmp(optarg, "json") == 0;
                } else if (c == 't' && units_parse_duration_ms(optarg, &cli->timeout_ms) == 0) {
                        continue;
                } else if (c == 'h') {
                        cli_help(stdout);
                        return 1;
                } else {
                        cli_help(stderr);
                        return -1;
                }
        }
        return 0;
}

int main(int argc, char **argv)
{
        struct cli cli = {.timeout_ms = 30000};
        const char *endpoint = getenv("CSI_ENDPOINT");
        if (!endpoint)
                endpoint = "unix:///csi/csi.sock";
        int r = cli_parse_globals(argc, argv, &cli, &endpoint);
        if (r != 0)
                return r > 0 ? 0 : 2;
        r = client_new(endpoint, &cli.client);
        if (r < 0) {
                fprintf(stderr, "siloctl: invalid endpoint '%s'\n", endpoint);
                return 2;
        }
        r = cli_dispatch(&cli, argc - optind, argv + optind);
        client_free(cli.client);
        return r;
}
