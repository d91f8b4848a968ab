/* siloctl identity verbs. */
#include <csi.pb-c.h>
#include <google/protobuf/wrappers.pb-c.h>
#include <stdio.h>

#include "cli/siloctl.h"

#include "common/cleanup.h"

static int identity_info(struct cli *cli, int argc, char **argv)
{
        (void)argc;
        (void)argv;
        Csi__V1__GetPluginInfoRequest req = CSI__V1__GET_PLUGIN_INFO_REQUEST__INIT;
        return cli_call(cli, "/csi.v1.Identity/GetPluginInfo", &req.base,
                        &csi__v1__get_plugin_info_response__descriptor, NULL);
}

static int identity_caps(struct cli *cli, int argc, char **argv)
{
        (void)argc;
        (void)argv;
        Csi__V1__GetPluginCapabilitiesRequest req = CSI__V1__GET_PLUGIN_CAPABILITIES_REQUEST__INIT;
        return cli_call(cli, "/csi.v1.Identity/GetPluginCapabilities", &req.base,
                        &csi__v1__get_plugin_capabilities_response__descriptor, NULL);
}

/* Prints "ready" or "not ready"; exit CLI_EXIT_NO when not ready so scripts can wait on it. */
static int identity_probe(struct cli *cli, int argc, char **argv)
{
        (void)argc;
        (void)argv;
        Csi__V1__ProbeRequest req = CSI__V1__PROBE_REQUEST__INIT;
        ProtobufCMessage *m = NULL;
        int r = cli_call(cli, "/csi.v1.Identity/Probe", &req.base,
                         &csi__v1__probe_response__descriptor, &m);
        if (r != 0)
                return r;
        Csi__V1__ProbeResponse *resp = (Csi__V1__ProbeResponse *)m;
        /* An absent ready field means ready (CSI spec, Probe). */
        bool ready = !resp->ready || resp->ready->value;
        if (cli->json)
                printf("{\"ready\":%s}\n", ready ? "true" : "false");
        else
                puts(ready ? "ready" : "not ready");
        protobuf_c_message_free_unpacked(m, NULL);
        return ready ? 0 : CLI_EXIT_NO;
}

static const struct cli_verb identity_verbs[] = {
    {"info", "", identity_info},
    {"caps", "", identity_caps},
    {"probe", "", identity_probe},
};

const struct cli_group cli_identity_group = {"identity", identity_verbs,
                                             ARRAY_SIZE(identity_verbs)};
