/* siloctl: a command-line client for any CSI endpoint. Each cmd-<group>.c holds one group's
 * verbs as a table; siloctl.c parses the global options and dispatches; call.c makes calls
 * and prints them; usage.c holds the verb table and prints errors; output.c formats
 * messages; cap.c builds capabilities and sizes. */
#pragma once

#include <csi.pb-c.h>
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cli/client.h"

/* Exit status: 0 OK; 1..16 the gRPC status code of the failing call; these for the rest. */
#define CLI_EXIT_NO    65 /* the call succeeded, the answer is no: not ready, not confirmed */
#define CLI_EXIT_USAGE 64 /* a usage error: nothing was called */

/* key=value pairs from flags and files; the strings are owned. */
struct cli_map {
        char **keys, **values;
        size_t n;
};

struct cli {
        struct client *client;
        bool json;           /* -o json */
        bool quiet;          /* -q: no confirmation for empty replies */
        bool debug;          /* --debug: requests and replies on stderr */
        bool paging;         /* --paging: list verbs follow next_token */
        bool exists_ok;      /* --already-exists-ok */
        bool not_found_ok;   /* --not-found-ok */
        uint64_t timeout_ms; /* --timeout */
        struct cli_map secrets, vol_ctx, pub_ctx, metadata;
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

/* Makes the call and prints the reply on stdout (text: one line per result, or a short
 * confirmation for an empty reply unless -q; JSON: the proto3 mapping), or the error on
 * stderr ("siloctl: CODE: message", or {"code":..,"message":..} with -o json). Adds the
 * secrets, contexts and metadata given on the command line to the request. Returns the exit
 * status. On success *ret_resp (when not NULL) receives the reply, owned by the caller
 * (protobuf_c_message_free_unpacked); then nothing is printed. */
int cli_call(struct cli *cli, const char *path, ProtobufCMessage *req,
             const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **ret_resp);

/* A server-streaming call: on_message prints each reply. Errors and exit status as cli_call. */
int cli_call_stream(struct cli *cli, const char *path, ProtobufCMessage *req,
                    const ProtobufCMessageDescriptor *resp_desc, client_stream_fn on_message,
                    void *ctx);

/* A List* call; with --paging it follows next_token and prints all entries as one reply. */
int cli_list(struct cli *cli, const char *path, ProtobufCMessage *req,
             const ProtobufCMessageDescriptor *resp_desc);

/* The verb, or NULL; and the --help text. */
const struct cli_verb *cli_find_verb(const char *group, const char *verb);
void cli_help(FILE *f);

/* Prints "siloctl: CODE: message" on stderr, or {"code":..,"message":..} with -o json. */
void cli_error(const struct cli *cli, const char *code, const char *message);

/* Prints a usage error for the verb (JSON on stderr with -o json) and returns CLI_EXIT_USAGE.
 * why says what is wrong; in text mode the verb's usage follows (group, verb may be NULL). */
int cli_usage_error(const struct cli *cli, const char *group, const char *verb, const char *why);

/* Prints msg as proto3 JSON on f, map fields named redact (NULL: none) with values hidden. */
void cli_print_json(FILE *f, const ProtobufCMessage *msg, const char *redact);

/* Prints the reply's results as text lines on f; returns how many lines. */
size_t cli_print_text(FILE *f, const ProtobufCMessage *msg);

/* Parses a size for --size/--limit; a usage message in *ret_why on failure. */
int cli_parse_size(const char *s, int64_t *ret, const char **ret_why);

/* A VolumeCapability built from --cap MODE,TYPE[,FS[,FLAG...]] or --access/--fs/--block. */
#define CLI_CAP_FLAGS_MAX 16
struct cli_cap {
        Csi__V1__VolumeCapability cap;
        Csi__V1__VolumeCapability__MountVolume mount;
        Csi__V1__VolumeCapability__BlockVolume block;
        Csi__V1__VolumeCapability__AccessMode mode;
        char spec[512]; /* the flags point into this copy of the --cap argument */
        char *flags[CLI_CAP_FLAGS_MAX];
};

/* MODE: an access mode name (SINGLE_NODE_WRITER, any case) or rwo, rwop, rwx, rox; TYPE:
 * mount or block. Returns 0, or -EINVAL with *ret_why saying what is wrong. */
int cli_cap_parse(const char *spec, struct cli_cap *ret, const char **ret_why);

/* The short options (--access rwo|rwop|rwx|rox, --fs, --block). */
int cli_cap_short(const char *access, const char *fs, bool block, struct cli_cap *ret,
                  const char **ret_why);
