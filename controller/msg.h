/* Conversions between protobuf messages and the controller's plain structs, for the *-rpc.c
 * adapters. Builders fill caller-owned storage (usually on the stack); the strings they point
 * to are borrowed from the store structs, which must outlive the reply. */
#pragma once

#include <csi.pb-c.h>
#include <google/protobuf/timestamp.pb-c.h>

#include "common/server/rpc.h"
#include "controller/controller.h"

struct vlock;

/* Copies map entries ({base, key, value}) into kv; -SILO_EINVALID past CONTROLLER_PARAMS_MAX. */
#define MSG_KV(entries, n, kv, ret_n)                                                              \
        ({                                                                                         \
                int r_ = (n) > CONTROLLER_PARAMS_MAX ? -SILO_EINVALID : 0;                         \
                for (size_t i_ = 0; r_ == 0 && i_ < (n); i_++) {                                   \
                        (kv)[i_].key = (entries)[i_]->key ? (entries)[i_]->key : "";               \
                        (kv)[i_].value = (entries)[i_]->value ? (entries)[i_]->value : "";         \
                }                                                                                  \
                *(ret_n) = (n);                                                                    \
                r_;                                                                                \
        })

/* One VolumeCapability (may be NULL: no access type). */
void msg_cap(const Csi__V1__VolumeCapability *in, struct params_cap *ret);

/* A Volume with its topology, content source and context. */
struct msg_volume {
        Csi__V1__Volume vol;
        Csi__V1__Topology topo;
        Csi__V1__Topology *topos[1];
        Csi__V1__Topology__SegmentsEntry seg;
        Csi__V1__Topology__SegmentsEntry *segs[1];
        Csi__V1__VolumeContentSource src;
        Csi__V1__VolumeContentSource__SnapshotSource src_snap;
        Csi__V1__VolumeContentSource__VolumeSource src_vol;
        Csi__V1__Volume__VolumeContextEntry ctx[2];
        Csi__V1__Volume__VolumeContextEntry *ctxs[2];
};
void msg_volume_fill(const struct store_volume *v, struct msg_volume *m);

/* Published node ids and condition of a volume (ListVolumes/ControllerGetVolume status). */
struct msg_status {
        char *nodes[STORE_PUBLISH_MAX];
        size_t n_nodes;
        Csi__V1__VolumeCondition cond;
        char why[320];
};
void msg_status_fill(struct controller *c, const struct store_volume *v, struct msg_status *m);

struct msg_snapshot {
        Csi__V1__Snapshot snap;
        Google__Protobuf__Timestamp ts;
};
void msg_snapshot_fill(const struct store_snapshot *s, struct msg_snapshot *m);

/* Keys a sidecar adds (csi.storage.k8s.io/...) are fine; anything else is -SILO_EINVALID. */
int msg_sidecar_params_only(const struct params_kv *kv, size_t n);

/* Replies with the message recorded by the logic (controller_why()). */
int msg_fail(struct rpc_call *call, int r);

/* The standard refusal when a vlock is held. */
int msg_pending(struct rpc_call *call, int r, const char *what, const char *id);

/* A request's name: -SILO_EINVALID (with controller_why()) when empty or not a valid store
 * name. */
int msg_check_name(const char *name);

/* An id from field of a request that must name an existing object: -SILO_EINVALID "<field> is
 * required" when empty, -SILO_ENOTFOUND "<field> '<id>' not found" when it is not an id silo
 * could have issued (too long, other characters); the message is in controller_why(). */
int msg_check_id(const char *field, const char *id);

/* msg_object(), then msg_check_id(): fails the call naming the field. */
int msg_id(struct rpc_call *call, const char *field, const char *id);

/* The object a call acts on: fails the call with "<field> is required" when id is empty,
 * otherwise names it in the call's log line under the key field. 0 or the rpc_fail() result. */
int msg_object(struct rpc_call *call, const char *field, const char *id);

/* msg_object(), then takes the vlock "<lock>/<id>" into *ret (msg_pending() naming it as
 * "<what> '<id>'" when held) and clears controller_why() for the logic call that follows.
 * 0, or the negative result the handler returns as is. */
int msg_lock(struct rpc_call *call, const char *field, const char *lock, const char *what,
             const char *id, struct vlock **ret);
