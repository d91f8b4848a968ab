/* csi.v1.Controller: snapshot RPCs. */
#include "controller/controller-rpc.h"

#include <string.h>

#include "common/err.h"
#include "common/str.h"
#include "common/silo.h"
#include "common/server/vlock.h"
#include "controller/msg.h"
#include "common/cleanup.h"

#define REQ(type, msg) ((const type *)(const void *)(msg))

static int snapshot_rpc_reply_one(struct rpc_call *call, const struct store_snapshot *s, bool get)
{
        struct msg_snapshot m;
        msg_snapshot_fill(s, &m);
        if (get) {
                Csi__V1__GetSnapshotResponse resp = CSI__V1__GET_SNAPSHOT_RESPONSE__INIT;
                resp.snapshot = &m.snap;
                return rpc_reply(call, &resp.base);
        }
        Csi__V1__CreateSnapshotResponse resp = CSI__V1__CREATE_SNAPSHOT_RESPONSE__INIT;
        resp.snapshot = &m.snap;
        return rpc_reply(call, &resp.base);
}

static int snapshot_rpc_check(const Csi__V1__CreateSnapshotRequest *req)
{
        struct params_kv kv[CONTROLLER_PARAMS_MAX];
        size_t n = 0;
        int r = msg_check_name(req->name);
        if (r < 0)
                return r;
        r = msg_check_id("source_volume_id", req->source_volume_id);
        if (r < 0)
                return r;
        if (MSG_KV(req->parameters, req->n_parameters, kv, &n) < 0)
                return controller_fail(-SILO_EINVALID, "too many parameters");
        return msg_sidecar_params_only(kv, n);
}

int snapshot_rpc_create(struct rpc_call *call, const ProtobufCMessage *msg)
{
        const Csi__V1__CreateSnapshotRequest *req = REQ(Csi__V1__CreateSnapshotRequest, msg);
        struct silo *silo = rpc_silo(call);
        controller_why_clear();
        int r = snapshot_rpc_check(req);
        if (r < 0)
                return msg_fail(call, r);
        _cleanup_vlock_ struct vlock *l = NULL;
        r = vlock_try(silo->locks, "snapname", req->name, &l);
        if (r < 0)
                return msg_pending(call, r, "snapshot", req->name);
        struct store_snapshot s = {0};
        r = snapshots_create(silo->controller, req->name, req->source_volume_id, "", &s);
        if (r < 0)
                return msg_fail(call, r);
        rpc_set_object(call, "snapshot_id", s.id);
        r = snapshot_rpc_reply_one(call, &s, false);
        store_snapshot_release(&s);
        return r;
}

int snapshot_rpc_delete(struct rpc_call *call, const ProtobufCMessage *msg)
{
        const Csi__V1__DeleteSnapshotRequest *req = REQ(Csi__V1__DeleteSnapshotRequest, msg);
        _cleanup_vlock_ struct vlock *l = NULL;
        int r = msg_lock(call, "snapshot_id", "snap", "snapshot", req->snapshot_id, &l);
        if (r < 0)
                return r;
        r = snapshots_delete(rpc_silo(call)->controller, req->snapshot_id);
        if (r < 0)
                return msg_fail(call, r);
        Csi__V1__DeleteSnapshotResponse resp = CSI__V1__DELETE_SNAPSHOT_RESPONSE__INIT;
        return rpc_reply(call, &resp.base);
}

int snapshot_rpc_get(struct rpc_call *call, const ProtobufCMessage *msg)
{
        const Csi__V1__GetSnapshotRequest *req = REQ(Csi__V1__GetSnapshotRequest, msg);
        int r = msg_id(call, "snapshot_id", req->snapshot_id);
        if (r < 0)
                return r;
        controller_why_clear();
        struct store_snapshot s = {0};
        r = snapshots_get(rpc_silo(call)->controller, req->snapshot_id, &s);
        if (r < 0)
                return msg_fail(call, r);
        r = snapshot_rpc_reply_one(call, &s, true);
        store_snapshot_release(&s);
        return r;
}

struct snapshot_rpc_entry {
        Csi__V1__ListSnapshotsResponse__Entry entry;
        struct msg_snapshot m;
        struct store_snapshot s;
};

static bool snapshot_rpc_keep(struct controller *c, const char *id, void *ctx)
{
        const char *source = ctx;
        struct store_snapshot s = {0};
        if (store_snapshot_load(c->pool, id, &s) < 0)
                return false;
        bool keep = strcmp(s.source_volume_id, source) == 0;
        store_snapshot_release(&s);
        return keep;
}

static int snapshot_rpc_list_reply(struct rpc_call *call, struct snapshot_rpc_entry *e, size_t n,
                                   const char *next)
{
        Csi__V1__ListSnapshotsResponse__Entry **list =
            calloc(n + 1, sizeof(Csi__V1__ListSnapshotsResponse__Entry *));
        if (!list)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                csi__v1__list_snapshots_response__entry__init(&e[i].entry);
                msg_snapshot_fill(&e[i].s, &e[i].m);
                e[i].entry.snapshot = &e[i].m.snap;
                list[i] = &e[i].entry;
        }
        Csi__V1__ListSnapshotsResponse resp = CSI__V1__LIST_SNAPSHOTS_RESPONSE__INIT;
        resp.n_entries = n;
        resp.entries = list;
        resp.next_token = (char *)next;
        int r = rpc_reply(call, &resp.base);
        free(list);
        return r;
}

/* One page of ids (or the single id asked for), loaded. */
static int snapshot_rpc_collect(struct controller *c, const Csi__V1__ListSnapshotsRequest *req,
                                struct volumes_page *p)
{
        const char *sid = req->snapshot_id ? req->snapshot_id : "";
        const char *src = req->source_volume_id ? req->source_volume_id : "";
        if (!*sid)
                return volumes_page(c, STORE_SNAPSHOTS, "snap", req->starting_token,
                                    req->max_entries, *src ? snapshot_rpc_keep : NULL, (void *)src,
                                    p);
        if (req->max_entries < 0)
                return controller_fail(-SILO_EINVALID, "max_entries must not be negative");
        memset(p, 0, sizeof(*p));
        p->ids = calloc(1, sizeof(store_id_t));
        if (!p->ids)
                return -ENOMEM;
        /* A filter naming a snapshot that does not exist lists nothing. */
        if (id_is_valid(sid) && (!*src || snapshot_rpc_keep(c, sid, (void *)src))) {
                p->n = STR_COPY(p->ids[0], sid) == 0;
        }
        return 0;
}

int snapshot_rpc_list(struct rpc_call *call, const ProtobufCMessage *msg)
{
        const Csi__V1__ListSnapshotsRequest *req = REQ(Csi__V1__ListSnapshotsRequest, msg);
        struct controller *c = rpc_silo(call)->controller;
        struct volumes_page p = {0};
        controller_why_clear();
        int r = snapshot_rpc_collect(c, req, &p);
        if (r < 0)
                return msg_fail(call, r);
        struct snapshot_rpc_entry *e = calloc(p.n + 1, sizeof(*e));
        size_t n = 0;
        for (size_t i = 0; e && i < p.n; i++)
                if (store_snapshot_load(c->pool, p.ids[i], &e[n].s) == 0)
                        n++;
        r = e ? snapshot_rpc_list_reply(call, e, n, p.next_token) : -ENOMEM;
        for (size_t i = 0; i < n; i++)
                store_snapshot_release(&e[i].s);
        free(e);
        volumes_page_release(&p);
        return r;
}
