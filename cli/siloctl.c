/* siloctl: global and common options, dispatch to the verb. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/siloctl.h"
#include "common/fileio.h"
#include "common/units.h"

#include "common/cleanup.h"

#define CLI_MAP_MAX       64
#define CLI_MAP_FILE_MAX  (64 * 1024)
#define CLI_KEY_VALUE_MAX 4096

static int cli_dispatch(struct cli *cli, int argc, char **argv)
{
        if (argc < 2) {
                if (!cli->json)
                        cli_help(stderr);
                return cli_usage_error(cli, NULL, NULL, "expected GROUP VERB (see --help)");
        }
        const struct cli_verb *v = cli_find_verb(argv[0], argv[1]);
        if (v) {
                optind = 0; /* full getopt reset for the verb's own options */
                opterr = 0; /* the verb says what is wrong itself */
                return v->run(cli, argc - 1, argv + 1);
        }
        char why[256];
        snprintf(why, sizeof(why), "unknown command '%s %s' (see --help)", argv[0], argv[1]);
        return cli_usage_error(cli, NULL, NULL, why);
}

static int cli_map_add(struct cli_map *m, const char *kv, const char *what, const char **ret_why)
{
        const char *eq = strchr(kv, '=');
        if (!eq || eq == kv || strlen(kv) > CLI_KEY_VALUE_MAX) {
                *ret_why = what;
                return -EINVAL;
        }
        if (m->n >= CLI_MAP_MAX) {
                *ret_why = "at most 64 entries per map";
                return -E2BIG;
        }
        char **k = realloc(m->keys, (m->n + 1) * sizeof(*k));
        if (k)
                m->keys = k;
        char **v = realloc(m->values, (m->n + 1) * sizeof(*v));
        if (v)
                m->values = v;
        if (!k || !v)
                return -ENOMEM;
        m->keys[m->n] = strndup(kv, (size_t)(eq - kv));
        m->values[m->n] = strdup(eq + 1);
        if (!m->keys[m->n] || !m->values[m->n]) {
                free(m->keys[m->n]);
                free(m->values[m->n]);
                return -ENOMEM;
        }
        m->n++;
        return 0;
}

static void cli_map_release(struct cli_map *m)
{
        for (size_t i = 0; i < m->n; i++) {
                free(m->keys[i]);
                free(m->values[i]);
        }
        free(m->keys);
        free(m->values);
        *m = (struct cli_map){0};
}

/* KEY=VALUE lines; blank lines and lines starting with '#' are skipped. */
static int cli_map_file(struct cli_map *m, const char *path, const char **ret_why)
{
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r = fileio_read_all(path, CLI_MAP_FILE_MAX, &buf, &len);
        if (r < 0) {
                *ret_why = "cannot read the file (missing, unreadable or over 64 KiB)";
                return r;
        }
        char *rest = buf;
        for (char *line; (line = strsep(&rest, "\n"));) {
                size_t n = strlen(line);
                if (n && line[n - 1] == '\r')
                        line[n - 1] = '\0';
                if (!*line || *line == '#')
                        continue;
                r = cli_map_add(m, line, "file lines are KEY=VALUE", ret_why);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* gRPC metadata keys: lowercase letters, digits, '-', '_', '.'; not reserved. */
static bool cli_metadata_key_ok(const char *kv)
{
        size_t n = strcspn(kv, "=");
        if (n == 0 || strncmp(kv, "grpc-", 5) == 0)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!islower((unsigned char)kv[i]) && !isdigit((unsigned char)kv[i]) &&
                    !strchr("-_.", kv[i]))
                        return false;
        return true;
}

/* Options that may stand anywhere on the command line: taken out of argv before the verb
 * parses the rest. Returns the new argc, or -1 after printing a usage error. */
static int cli_take_common(struct cli *cli, int argc, char **argv)
{
        static const struct {
                const char *name;
                int kind; /* 0 flag, 1 map entry, 2 map file */
                size_t offset;
                const char *what;
        } opts[] = {
            {"--secret", 1, offsetof(struct cli, secrets), "--secret KEY=VALUE"},
            {"--secrets-file", 2, offsetof(struct cli, secrets), NULL},
            {"--vol-context", 1, offsetof(struct cli, vol_ctx), "--vol-context KEY=VALUE"},
            {"--vol-context-file", 2, offsetof(struct cli, vol_ctx), NULL},
            {"--pub-context", 1, offsetof(struct cli, pub_ctx), "--pub-context KEY=VALUE"},
            {"--pub-context-file", 2, offsetof(struct cli, pub_ctx), NULL},
            {"--metadata", 1, offsetof(struct cli, metadata), "--metadata KEY=VALUE"},
            {"-m", 1, offsetof(struct cli, metadata), "-m KEY=VALUE"},
            {"--debug", 0, offsetof(struct cli, debug), NULL},
            {"--paging", 0, offsetof(struct cli, paging), NULL},
            {"--already-exists-ok", 0, offsetof(struct cli, exists_ok), NULL},
            {"--not-found-ok", 0, offsetof(struct cli, not_found_ok), NULL},
            {"--quiet", 0, offsetof(struct cli, quiet), NULL},
            {"-q", 0, offsetof(struct cli, quiet), NULL},
        };
        int out = 1;
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--") == 0) {
                        while (i < argc)
                                argv[out++] = argv[i++];
                        break;
                }
                size_t k = 0;
                const char *val = NULL;
                for (; k < ARRAY_SIZE(opts); k++) {
                        size_t n = strlen(opts[k].name);
                        if (strncmp(argv[i], opts[k].name, n) != 0)
                                continue;
                        if (argv[i][n] == '\0')
                                break;
                        if (argv[i][n] == '=' && opts[k].kind != 0) {
                                val = argv[i] + n + 1;
                                break;
                        }
                }
                if (k == ARRAY_SIZE(opts)) {
                        argv[out++] = argv[i];
                        continue;
                }
                void *field = (char *)cli + opts[k].offset;
                if (opts[k].kind == 0) {
                        *(bool *)field = true;
                        continue;
                }
                if (!val && ++i >= argc) {
                        char why[80];
                        snprintf(why, sizeof(why), "%s needs a value", opts[k].name);
                        cli_usage_error(cli, NULL, NULL, why);
                        return -1;
                }
                val = val ? val : argv[i];
                const char *why = "out of memory";
                int r = opts[k].kind == 1 ? cli_map_add(field, val, opts[k].what, &why)
                                          : cli_map_file(field, val, &why);
                if (r == 0 && field == &cli->metadata && !cli_metadata_key_ok(val)) {
                        why = "metadata keys are lowercase letters, digits, '-', '_' and '.', "
                              "and not grpc-*";
                        r = -EINVAL;
                }
                if (r < 0) {
                        char msg[300];
                        snprintf(msg, sizeof(msg), "%s '%s': %s", opts[k].name, val, why);
                        cli_usage_error(cli, NULL, NULL, msg);
                        return -1;
                }
        }
        argv[out] = NULL;
        return out;
}

/* Returns 0 to go on, 1 after --help, -1 after a usage error. */
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
        opterr = 0;
        /* '+' stops at the group name so verbs keep their own options. */
        while ((c = getopt_long(argc, argv, "+:e:o:t:h", opts, NULL)) != -1) {
                const char *why = NULL;
                if (c == 'e')
                        *ret_endpoint = optarg;
                else if (c == 'o' && (!strcmp(optarg, "json") || !strcmp(optarg, "text")))
                        cli->json = strcmp(optarg, "json") == 0;
                else if (c == 'o')
                        why = "output is text or json";
                else if (c == 't' && units_parse_duration_ms(optarg, &cli->timeout_ms) < 0)
                        why = "--timeout is a duration: 500ms, 30s, 2m";
                else if (c == 'h') {
                        cli_help(stdout);
                        return 1;
                } else if (c == ':')
                        why = "an option needs a value (see --help)";
                else if (c == '?')
                        why = "unknown option (see --help)";
                if (why) {
                        cli_usage_error(cli, NULL, NULL, why);
                        return -1;
                }
        }
        return 0;
}

int main(int argc, char **argv)
{
        struct cli cli = {.timeout_ms = 30000};
        const char *endpoint = getenv("CSI_ENDPOINT");
        if (!endpoint || !*endpoint)
                endpoint = "unix:///csi/csi.sock";
        /* -o json early, so that usage errors in the common options print as JSON too. */
        for (int i = 1; i + 1 < argc; i++)
                if ((!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) &&
                    !strcmp(argv[i + 1], "json"))
                        cli.json = true;
        int r = cli_take_common(&cli, argc, argv);
        if (r >= 0) {
                argc = r;
                r = cli_parse_globals(argc, argv, &cli, &endpoint);
        }
        if (r == 0 && client_new(endpoint, &cli.client) < 0) {
                char why[300];
                snprintf(why, sizeof(why),
                         "invalid endpoint '%s': unix:///abs/path, /abs/path or tcp://host:port",
                         endpoint);
                cli_usage_error(&cli, NULL, NULL, why);
                r = -1;
        }
        if (r == 0) {
                for (size_t i = 0; i < cli.metadata.n; i++)
                        if (client_add_metadata(cli.client, cli.metadata.keys[i],
                                                cli.metadata.values[i]) < 0)
                                r = -1;
                r = r == 0 ? cli_dispatch(&cli, argc - optind, argv + optind) : CLI_EXIT_USAGE;
        } else {
                r = r > 0 ? 0 : CLI_EXIT_USAGE;
        }
        client_free(cli.client);
        cli_map_release(&cli.secrets);
        cli_map_release(&cli.vol_ctx);
        cli_map_release(&cli.pub_ctx);
        cli_map_release(&cli.metadata);
        return r;
}
