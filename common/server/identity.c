#include "common/server/identity.h"

#include <csi.pb-c.h>
#include <google/protobuf/wrappers.pb-c.h>

#include "common/server/config.h"
#include "common/silo.h"
#include "common/cleanup.h"

const char *identity_version(void)
{
        return SILO_VERSION "+" SILO_GIT_REV;
}

static int identity_get_plugin_info(struct rpc_call *call, const ProtobufCMessage *req)
{
        (void)req;
        Csi__V1__GetPluginInfoResponse resp = CSI__V1__GET_PLUGIN_INFO_RESPONSE__INIT;
        resp.name = rpc_silo(call)->cfg->driver_name;
        resp.vendor_version = (char *)identity_version();
        return rpc_reply(call, &resp.base);
}

/* Capability entries, in the order GetPluginCapabilities lists them. */
struct identity_cap {
        unsigned flag;
        bool expansion;
        int type;
};

static const struct identity_cap identity_caps[] = {
    {SILO_CAP_CONTROLLER, false, CSI__V1__PLUGIN_CAPABILITY__SERVICE__TYPE__CONTROLLER_SERVICE},
    {SILO_CAP_ACCESSIBILITY, false,
     CSI__V1__PLUGIN_CAPABILITY__SERVICE__TYPE__VOLUME_ACCESSIBILITY_CONSTRAINTS},
    {SILO_CAP_GROUP_CONTROLLER, false,
     CSI__V1__PLUGIN_CAPABILITY__SERVICE__TYPE__GROUP_CONTROLLER_SERVICE},
    {SILO_CAP_SNAPSHOT_METADATA, false,
     CSI__V1__PLUGIN_CAPABILITY__SERVICE__TYPE__SNAPSHOT_METADATA_SERVICE},
    {SILO_CAP_EXPAND_ONLINE, true, CSI__V1__PLUGIN_CAPABILITY__VOLUME_EXPANSION__TYPE__ONLINE},
};

static int identity_get_plugin_capabilities(struct rpc_call *call, const ProtobufCMessage *req)
{
        (void)req;
        unsigned have = rpc_silo(call)->plugin_caps;
        Csi__V1__PluginCapability caps[ARRAY_SIZE(identity_caps)];
        Csi__V1__PluginCapability__Service services[ARRAY_SIZE(identity_caps)];
        Csi__V1__PluginCapability__VolumeExpansion expansions[ARRAY_SIZE(identity_caps)];
        Csi__V1__PluginCapability *list[ARRAY_SIZE(identity_caps)];
        size_t n = 0;
        for (size_t i = 0; i < ARRAY_SIZE(identity_caps); i++) {
                const struct identity_cap *c = &identity_caps[i];
                if (!(have & c->flag))
                        continue;
                csi__v1__plugin_capability__init(&caps[n]);
                if (c->expansion) {
                        csi__v1__plugin_capability__volume_expansion__init(&expansions[n]);
                        expansions[n].type = c->type;
                        caps[n].type_case = CSI__V1__PLUGIN_CAPABILITY__TYPE_VOLUME_EXPANSION;
                        caps[n].volume_expansion = &expansions[n];
                } else {
                        csi__v1__plugin_capability__service__init(&services[n]);
                        services[n].type = c->type;
                        caps[n].type_case = CSI__V1__PLUGIN_CAPABILITY__TYPE_SERVICE;
                        caps[n].service = &services[n];
                }
                list[n] = &caps[n];
                n++;
        }
        Csi__V1__GetPluginCapabilitiesResponse resp =
            CSI__V1__GET_PLUGIN_CAPABILITIES_RESPONSE__INIT;
        resp.n_capabilities = n;
        resp.capabilities = list;
        return rpc_reply(call, &resp.base);
}

static int identity_probe(struct rpc_call *call, const ProtobufCMessage *req)
{
        (void)req;
        Google__Protobuf__BoolValue ready = GOOGLE__PROTOBUF__BOOL_VALUE__INIT;
        ready.value = atomic_load(&rpc_silo(call)->ready);
        Csi__V1__ProbeResponse resp = CSI__V1__PROBE_RESPONSE__INIT;
        resp.ready = &ready;
        return rpc_reply(call, &resp.base);
}

static const struct rpc_method identity_methods[] = {
    {"GetPluginInfo", &csi__v1__get_plugin_info_request__descriptor, identity_get_plugin_info,
     RPC_INLINE},
    {"GetPluginCapabilities", &csi__v1__get_plugin_capabilities_request__descriptor,
     identity_get_plugin_capabilities, RPC_INLINE},
    {"Probe", &csi__v1__probe_request__descriptor, identity_probe, RPC_INLINE},
};

const struct rpc_service identity_service = {"csi.v1.Identity", identity_methods,
                                             ARRAY_SIZE(identity_methods)};
