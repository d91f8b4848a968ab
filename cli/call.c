/* siloctl: one call (or a followed list) with the command line's secrets, contexts and
 * metadata added, its debug log, its output and its exit status. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/siloctl.h"
#include "common/err.h"

#include "common/cleanup.h"

/* Request map fields that options fill, and the option that fills each. */
static const struct {
        const char *field, *option;
        size_t offset; /* of the struct cli_map in struct cli */
} call_maps[] = {
    {"secrets", "--secret", offsetof(struct cli, secrets)},
    {"volume_context", "--vol-context", offsetof(struct cli, vol_ctx)},
    {"publish_context", "--pub-context", offsetof(struct cli, pub_ctx)},
};

/* Entries of the map field fd, pointing at the strings of m (the call borrows them). */
static int call_map_entries(const ProtobufCFieldDescriptor *fd, const struct cli_map *m,
                            ProtobufCMessage ***ret)
{
        const ProtobufCMessageDescriptor *d = fd->descriptor;
        ProtobufCMessage **arr = calloc(m->n, sizeof(ProtobufCMessage *));
        if (!arr)
                return -ENOMEM;
        for (size_t i = 0; i < m->n; i++) {
                arr[i] = calloc(1, d->sizeof_message);
                if (!arr[i]) {
                        while (i--)
                                free(arr[i]);
                        free(arr);
                        return -ENOMEM;
                }
                d->message_init(arr[i]);
                *(char **)((char *)arr[i] + d->fields[0].offset) = m->keys[i];
                *(char **)((char *)arr[i] + d->fields[1].offset) = m->values[i];
        }
        *ret = arr;
        return 0;
}

static void call_maps_free(ProtobufCMessage **arrs[], const size_t *ns)
{
        for (size_t k = 0; k < ARRAY_SIZE(call_maps); k++) {
                for (size_t i = 0; arrs[k] && i < ns[k]; i++)
                        free(arrs[k][i]);
                free(arrs[k]);
        }
}

/* Sets the request's secrets and contexts from the options; a usage error when an option
 * was given for a request that has no such field. */
static int call_maps_apply(const struct cli *cli, ProtobufCMessage *req, ProtobufCMessage **arrs[],
                           size_t *ns)
{
        for (size_t k = 0; k < ARRAY_SIZE(call_maps); k++) {
                const struct cli_map *m = (const void *)((const char *)cli + call_maps[k].offset);
                if (m->n == 0)
                        continue;
                const ProtobufCFieldDescriptor *fd =
                    protobuf_c_message_descriptor_get_field_by_name(req->descriptor,
                                                                    call_maps[k].field);
                if (!fd) {
                        char why[160];
                        snprintf(why, sizeof(why), "%s does not apply to %s", call_maps[k].option,
                                 req->descriptor->short_name);
                        return cli_usage_error(cli, NULL, NULL, why);
                }
                if (call_map_entries(fd, m, &arrs[k]) < 0)
                        return cli_usage_error(cli, NULL, NULL, "out of memory");
                ns[k] = m->n;
                *(size_t *)((char *)req + fd->quantifier_offset) = m->n;
                *(ProtobufCMessage ***)((char *)req + fd->offset) = arrs[k];
        }
        return 0;
}

/* What an empty reply confirms: the request's first ID or name. */
static const char *call_subject(const ProtobufCMessage *req)
{
        static const char *const names[] = {"volume_id", "snapshot_id", "group_snapshot_id",
                                            "name"};
        for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
                const ProtobufCFieldDescriptor *fd =
                    protobuf_c_message_descriptor_get_field_by_name(req->descriptor, names[i]);
                const char *s = fd && fd->type == PROTOBUF_C_TYPE_STRING
                                    ? *(char *const *)((const char *)req + fd->offset)
                                    : NULL;
                if (s && *s)
                        return s;
        }
        return "";
}

/* Fills in the command line's maps and logs the request (--debug); 0 or a usage exit. */
static int call_begin(const struct cli *cli, const char *path, ProtobufCMessage *req,
                      ProtobufCMessage **arrs[], size_t *ns)
{
        int r = call_maps_apply(cli, req, arrs, ns);
        if (r != 0 || !cli->debug)
                return r;
        for (size_t i = 0; i < cli->metadata.n; i++)
                fprintf(stderr, "siloctl: > metadata %s=%s\n", cli->metadata.keys[i],
                        cli->metadata.values[i]);
        fprintf(stderr, "siloctl: > %s ", path);
        cli_print_json(stderr, req, "secrets");
        fputc('\n', stderr);
        return 0;
}

/* Logs the reply (--debug), reports an error; the exit status, 0 for OK and for an error
 * taken as success (res->status tells which). r < 0: the call could not be made. */
static int call_end(const struct cli *cli, const char *path, int r, struct client_result *res)
{
        if (r < 0) {
                char msg[300];
                snprintf(msg, sizeof(msg), "cannot call %s: %s", path, strerror(-r));
                cli_error(cli, "UNAVAILABLE", msg);
                return ERR_UNAVAILABLE;
        }
        if (cli->debug) {
                fprintf(stderr, "siloctl: < %s", err_status_name(res->status));
                if (res->status == ERR_OK && res->resp) {
                        fputc(' ', stderr);
                        cli_print_json(stderr, res->resp, NULL);
                } else if (res->status != ERR_OK) {
                        fprintf(stderr, " %s", res->message ? res->message : "");
                }
                fputc('\n', stderr);
        }
        bool ok = (res->status == ERR_ALREADY_EXISTS && cli->exists_ok) ||
                  (res->status == ERR_NOT_FOUND && cli->not_found_ok);
        if (res->status == ERR_OK || ok)
                return 0;
        cli_error(cli, err_status_name(res->status), res->message);
        int code = (int)res->status;
        client_result_release(res);
        return code;
}

static int call_once(struct cli *cli, const char *path, ProtobufCMessage *req,
                     const ProtobufCMessageDescriptor *resp_desc, struct client_result *res)
{
        ProtobufCMessage **arrs[ARRAY_SIZE(call_maps)] = {NULL};
        size_t ns[ARRAY_SIZE(call_maps)] = {0};
        int r = call_begin(cli, path, req, arrs, ns);
        if (r == 0)
                r = call_end(cli, path,
                             client_call(cli->client, path, req, resp_desc, cli->timeout_ms, res),
                             res);
        call_maps_free(arrs, ns);
        return r;
}

int cli_call_stream(struct cli *cli, const char *path, ProtobufCMessage *req,
                    const ProtobufCMessageDescriptor *resp_desc, client_stream_fn on_message,
                    void *ctx)
{
        ProtobufCMessage **arrs[ARRAY_SIZE(call_maps)] = {NULL};
        size_t ns[ARRAY_SIZE(call_maps)] = {0};
        struct client_result res = {0};
        int r = call_begin(cli, path, req, arrs, ns);
        if (r == 0) {
                r = call_end(cli, path,
                             client_call_stream(cli->client, path, req, resp_desc, cli->timeout_ms,
                                                on_message, ctx, &res),
                             &res);
                if (r == 0)
                        client_result_release(&res);
        }
        call_maps_free(arrs, ns);
        return r;
}

int cli_call(struct cli *cli, const char *path, ProtobufCMessage *req,
             const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **ret_resp)
{
        struct client_result res = {0};
        int r = call_once(cli, path, req, resp_desc, &res);
        if (r != 0)
                return r;
        if (res.status != ERR_OK) {
                /* An error treated as success (--already-exists-ok, --not-found-ok). */
                if (!cli->quiet && !cli->json)
                        printf("%s %s: %s, taken as success\n", strrchr(path, '/') + 1,
                               call_subject(req), err_status_name(res.status));
                else if (cli->json && !ret_resp)
                        puts("{}");
                client_result_release(&res);
                return ret_resp ? CLI_EXIT_NO : 0;
        }
        if (ret_resp) {
                *ret_resp = TAKE_PTR(res.resp);
        } else if (cli->json) {
                cli_print_json(stdout, res.resp, NULL);
                fputc('\n', stdout);
        } else if (cli_print_text(stdout, res.resp) == 0 && !cli->quiet) {
                printf("%s %s: OK\n", strrchr(path, '/') + 1, call_subject(req));
        }
        client_result_release(&res);
        return 0;
}

static char *call_next_token(const ProtobufCMessage *resp)
{
        const ProtobufCFieldDescriptor *fd =
            protobuf_c_message_descriptor_get_field_by_name(resp->descriptor, "next_token");
        const char *t = fd ? *(char *const *)((const char *)resp + fd->offset) : NULL;
        return t && *t ? strdup(t) : NULL;
}

static void call_print_entries(const struct cli *cli, const ProtobufCMessage *resp, bool *first)
{
        if (!cli->json) {
                cli_print_text(stdout, resp);
                return;
        }
        const ProtobufCFieldDescriptor *fd =
            protobuf_c_message_descriptor_get_field_by_name(resp->descriptor, "entries");
        size_t n = *(const size_t *)((const char *)resp + fd->quantifier_offset);
        ProtobufCMessage *const *arr =
            *(ProtobufCMessage *const *const *)((const char *)resp + fd->offset);
        for (size_t i = 0; i < n; i++) {
                fputs(*first ? "" : ",", stdout);
                *first = false;
                cli_print_json(stdout, arr[i], NULL);
        }
}

int cli_list(struct cli *cli, const char *path, ProtobufCMessage *req,
             const ProtobufCMessageDescriptor *resp_desc)
{
        if (!cli->paging) {
                ProtobufCMessage *resp = NULL;
                int r = cli_call(cli, path, req, resp_desc, &resp);
                if (r != 0)
                        return r;
                if (cli->json) {
                        cli_print_json(stdout, resp, NULL);
                        fputc('\n', stdout);
                } else {
                        cli_print_text(stdout, resp);
                        char *next = call_next_token(resp);
                        if (next)
                                fprintf(stderr, "siloctl: more: --token %s, or --paging\n", next);
                        free(next);
                }
                protobuf_c_message_free_unpacked(resp, NULL);
                return 0;
        }
        const ProtobufCFieldDescriptor *tok =
            protobuf_c_message_descriptor_get_field_by_name(req->descriptor, "starting_token");
        char **slot = (char **)((char *)req + tok->offset);
        _cleanup_free_ char *token = NULL;
        bool first = true;
        if (cli->json)
                fputs("{\"entries\":[", stdout);
        for (;;) {
                ProtobufCMessage *resp = NULL;
                int r = cli_call(cli, path, req, resp_desc, &resp);
                if (r != 0) {
                        if (cli->json)
                                fputs("]}\n", stdout);
                        return r;
                }
                call_print_entries(cli, resp, &first);
                free(token);
                token = call_next_token(resp);
                protobuf_c_message_free_unpacked(resp, NULL);
                if (!token)
                        break;
                *slot = token;
        }
        if (cli->json)
                fputs("],\"nextToken\":\"\"}\n", stdout);
        return 0;
}
