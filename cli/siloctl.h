/* Folder cli: siloctl and the client library (client.c) that siloctl, the tests and the
 * benchmarks share. Includes only common/ and cli/. */
/* siloctl: a command-line client for any CSI endpoint. Each cmd-<group>.c holds one group's
 * verbs as a table; siloctl.c parses the global options and dispatches. */
#pragma once

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stdint.h>

#include "cli/client.h"

struct cli {
        struct client *client;
        bool json;           /* -o json */
        uint64_t timeout_ms; /* --timeout */
};

/* argv[0] is the verb itself; parse the rest with getopt_long (optind is reset for you).
 * Return the process exit code. */
typedef int (*cli_run_fn)(struct cli *cli, int argc, char **argv);

struct cli_verb {
        const char *verb;
        const char *usage; /* "NAME [--size 1Gi] [--fs ext4|xfs] [--access rwo|rwop|rox|block]" */
        cli_run_fn run;
};

struct cli_group {
        const char *name; /* "controller" */
        const struct cli_verb *verbs;
        size_t n_verbs;
};

extern const struct cli_group cli_identity_group;
extern const struct cli_group cli_controller_group;
extern const struct cli_group cli_snapshot_group;
extern const struct cli_group cli_group_group;
extern const struct cli_group cli_node_group;

/* Makes the call and prints the reply (text, or JSON with -o json) on stdout, or
 * "siloctl: CODE: message" on stderr. Returns the exit code: 0 OK, 1 a gRPC error, 2 could
 * not call. On success *ret_resp (when not NULL) receives the reply, owned by the caller
 * (protobuf_c_message_free_unpacked); then nothing is printed. */
int cli_call(struct cli *cli, const char *path, const ProtobufCMessage *req,
             const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **ret_resp);

/* A server-streaming call: on_message prints each reply. Errors and exit codes as cli_call. */
int cli_call_stream(struct cli *cli, const char *path, const ProtobufCMessage *req,
                    const ProtobufCMessageDescriptor *resp_desc, client_stream_fn on_message,
                    void *ctx);

/* Prints any message as JSON (proto3 JSON mapping, lowerCamel names) or as indented
 * "field: value" text. */
void cli_print(const struct cli *cli, const ProtobufCMessage *msg);

/* Prints a usage error for the verb and returns 2. */
int cli_usage_error(const char *group, const struct cli_verb *verb, const char *why);
