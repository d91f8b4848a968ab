/* The clients of the random crash test: each picks random calls that are valid for what it
 * was told so far, sends them, and on the answer updates its model. */
#include "test/integration/harness-crash.h"

#include <check.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"

#define MIB   HCTL_MIB
#define TRIES 600 /* 50 ms apart: ABORTED or DEADLINE_EXCEEDED for up to 30 s */

static const unsigned hc_weights[HC_KINDS] = {
    [HC_CREATE] = 24, [HC_RECREATE] = 4,  [HC_CONFLICT] = 2, [HC_DELETE] = 10,   [HC_SNAP] = 12,
    [HC_DELSNAP] = 8, [HC_DELMEMBER] = 1, [HC_PUBLISH] = 9,  [HC_UNPUBLISH] = 8, [HC_EXPAND] = 6,
    [HC_MODIFY] = 3,  [HC_GROUP] = 4,     [HC_DELGROUP] = 3, [HC_WRITE] = 12,
};

static const char *const hc_kind_names[HC_KINDS] = {"CreateVolume",
                                                    "CreateVolume(again)",
                                                    "CreateVolume(conflict)",
                                                    "DeleteVolume",
                                                    "CreateSnapshot",
                                                    "DeleteSnapshot",
                                                    "DeleteSnapshot(member)",
                                                    "ControllerPublishVolume",
                                                    "ControllerUnpublishVolume",
                                                    "ControllerExpandVolume",
                                                    "ControllerModifyVolume",
                                                    "CreateVolumeGroupSnapshot",
                                                    "DeleteVolumeGroupSnapshot",
                                                    "write"};

/* splitmix64 */
uint64_t hc_rng(uint64_t *state)
{
        uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
}

uint64_t hc_rng_seed(unsigned seed, unsigned round, unsigned salt)
{
        uint64_t s = ((uint64_t)seed << 32) ^ ((uint64_t)round << 8) ^ salt;
        (void)hc_rng(&s);
        return s;
}

unsigned hc_below(struct hc_client *cl, unsigned n)
{
        return (unsigned)(hc_rng(&cl->rng) % n);
}

static void hc_sleep_ms(long ms)
{
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
}

void hc_fail(struct hc_model *m, const char *fmt, ...)
{
        pthread_mutex_lock(&m->lock);
        if (!m->failure[0]) {
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(m->failure, sizeof(m->failure), fmt, ap);
                va_end(ap);
        }
        pthread_mutex_unlock(&m->lock);
        atomic_store(&m->stop, true);
}

void hc_assert_no_failure(struct hc_model *m)
{
        pthread_mutex_lock(&m->lock);
        bool failed = m->failure[0] != '\0';
        pthread_mutex_unlock(&m->lock);
        ck_assert_msg(!failed, "seed %u round %u: %s", m->seed, m->round, m->failure);
}

void hc_model_init(struct hc_model *m, struct harness *h, unsigned seed)
{
        memset(m, 0, sizeof(*m));
        m->h = h;
        m->seed = seed;
        pthread_mutex_init(&m->lock, NULL);
        for (int i = 0; i < HC_CLIENTS; i++)
                m->clients[i].index = i;
}

static void hc_obj_drop(struct hc_obj *o)
{
        free(o->img);
        o->img = NULL;
        o->present = false;
}

void hc_model_release(struct hc_model *m)
{
        for (int i = 0; m->h && i < HC_CLIENTS; i++) {
                struct hc_client *cl = &m->clients[i];
                for (int j = 0; j < HC_VOLS; j++)
                        hc_obj_drop(&cl->vol[j].o);
                for (int j = 0; j < HC_SNAPS; j++)
                        hc_obj_drop(&cl->snap[j]);
                for (int j = 0; j < HC_MEMBERS; j++)
                        hc_obj_drop(&cl->group.member[j]);
        }
        if (m->h)
                pthread_mutex_destroy(&m->lock);
        m->h = NULL;
}

void hc_client_begin_round(struct hc_model *m, struct hc_client *cl, unsigned round)
{
        cl->rng = hc_rng_seed(m->seed, round, (unsigned)cl->index);
}

void hc_name(const struct hc_client *cl, char what, int slot, char *buf, size_t size)
{
        snprintf(buf, size, "crash-c%d-%c%d", cl->index, what, slot);
}

/* A random slot whose presence is want; -1 when there is none. */
static int hc_vol_slot(struct hc_client *cl, bool want)
{
        unsigned start = hc_below(cl, HC_VOLS);
        for (int i = 0; i < HC_VOLS; i++) {
                int s = (int)((start + (unsigned)i) % HC_VOLS);
                if (cl->vol[s].o.present == want)
                        return s;
        }
        return -1;
}

static int hc_snap_slot(struct hc_client *cl, bool want)
{
        unsigned start = hc_below(cl, HC_SNAPS);
        for (int i = 0; i < HC_SNAPS; i++) {
                int s = (int)((start + (unsigned)i) % HC_SNAPS);
                if (cl->snap[s].present == want)
                        return s;
        }
        return -1;
}

/* A present snapshot or group member to restore from; NULL when there is none. */
static const struct hc_obj *hc_any_snapshot(struct hc_client *cl)
{
        int s = hc_snap_slot(cl, true);
        if (cl->group.present && (s < 0 || hc_below(cl, 2)))
                return &cl->group.member[hc_below(cl, HC_MEMBERS)];
        return s < 0 ? NULL : &cl->snap[s];
}

static void hc_pick_source(struct hc_client *cl, struct hc_op *op)
{
        const struct hc_obj *src = NULL;
        unsigned how = hc_below(cl, 4);
        if (how == 2 && (src = hc_any_snapshot(cl)))
                op->src_kind = HC_SRC_SNAP;
        int v = how == 3 ? hc_vol_slot(cl, true) : -1;
        if (v >= 0) {
                src = &cl->vol[v].o;
                op->src_kind = HC_SRC_VOL;
        }
        if (!src) {
                op->size = (int64_t)(1 + hc_below(cl, 3)) * (int64_t)MIB;
                return;
        }
        snprintf(op->src_id, sizeof(op->src_id), "%s", src->id);
        op->src_img = src->img;
        op->src_size = src->size;
        op->size = hc_below(cl, 2) ? 0 : (int64_t)(src->size + hc_below(cl, 2) * MIB);
}

/* Fills op for kind from the state of the slots the kind needs; false when there is none. */
static bool hc_prepare_vol(struct hc_client *cl, struct hc_op *op)
{
        struct hc_vol *v;
        switch (op->kind) {
        case HC_CREATE:
                if ((op->slot = hc_vol_slot(cl, false)) < 0)
                        return false;
                op->thick = hc_below(cl, 3) == 0;
                hc_pick_source(cl, op);
                return true;
        case HC_RECREATE:
        case HC_CONFLICT:
                if ((op->slot = hc_vol_slot(cl, true)) < 0 || cl->vol[op->slot].modified)
                        return false;
                v = &cl->vol[op->slot];
                *op = (struct hc_op){.kind = op->kind,
                                     .slot = op->slot,
                                     .thick = v->create.thick,
                                     .size = v->create.size,
                                     .src_kind = v->create.src_kind};
                memcpy(op->src_id, v->create.src_id, sizeof(op->src_id));
                op->thick ^= op->kind == HC_CONFLICT;
                op->want = op->kind == HC_CONFLICT ? ERR_ALREADY_EXISTS : ERR_OK;
                return true;
        case HC_DELETE:
        case HC_PUBLISH:
        case HC_WRITE:
        case HC_EXPAND:
        case HC_MODIFY:
                if ((op->slot = hc_vol_slot(cl, true)) < 0)
                        return false;
                v = &cl->vol[op->slot];
                if (op->kind == HC_DELETE && v->published)
                        op->want = ERR_FAILED_PRECONDITION;
                op->size = (int64_t)(v->o.size + MIB);
                return (op->kind != HC_EXPAND || v->o.size < 6 * MIB) &&
                       (op->kind != HC_MODIFY || !v->thick);
        case HC_UNPUBLISH:
                op->slot = (int)hc_below(cl, HC_VOLS);
                return cl->vol[op->slot].o.id[0] != '\0';
        default:
                return false;
        }
}

static bool hc_prepare_snap(struct hc_client *cl, struct hc_op *op)
{
        switch (op->kind) {
        case HC_SNAP:
                op->slot = hc_snap_slot(cl, false);
                op->vols[0] = hc_vol_slot(cl, true);
                return op->slot >= 0 && op->vols[0] >= 0;
        case HC_DELSNAP:
                return (op->slot = hc_snap_slot(cl, true)) >= 0;
        case HC_DELMEMBER:
                op->slot = (int)hc_below(cl, HC_MEMBERS);
                op->want = ERR_FAILED_PRECONDITION;
                return cl->group.present;
        case HC_GROUP:
                op->vols[0] = hc_vol_slot(cl, true);
                op->vols[1] = op->vols[0] < 0
                                  ? -1
                                  : (op->vols[0] + 1 + (int)hc_below(cl, HC_VOLS - 1)) % HC_VOLS;
                return !cl->group.present && op->vols[0] >= 0 && cl->vol[op->vols[1]].o.present;
        case HC_DELGROUP:
                return cl->group.present;
        default:
                return hc_prepare_vol(cl, op);
        }
}

static void hc_pick(struct hc_client *cl, struct hc_op *op)
{
        unsigned total = 0;
        for (int k = 0; k < HC_KINDS; k++)
                total += hc_weights[k];
        for (;;) {
                unsigned x = hc_below(cl, total);
                int k = 0;
                while (x >= hc_weights[k])
                        x -= hc_weights[k++];
                *op = (struct hc_op){.kind = (enum hc_kind)k, .want = ERR_OK};
                if (hc_prepare_snap(cl, op))
                        return;
        }
}

static unsigned char *hc_img_copy(struct hc_model *m, const unsigned char *src)
{
        unsigned char *img = calloc(1, HC_IMG);
        if (!img)
                hc_fail(m, "out of memory");
        else if (src)
                memcpy(img, src, HC_IMG);
        return img;
}

static void hc_set_obj(struct hc_model *m, struct hc_obj *o, const char *id, uint64_t size,
                       const unsigned char *img)
{
        free(o->img);
        o->present = true;
        snprintf(o->id, sizeof(o->id), "%s", id);
        o->size = size;
        o->img = hc_img_copy(m, img);
}

static void hc_apply_create(struct hc_model *m, struct hc_client *cl, const struct hc_op *op,
                            const struct hc_reply *rep)
{
        struct hc_vol *v = &cl->vol[op->slot];
        uint64_t want = op->size ? (uint64_t)op->size : op->src_size;
        if (op->kind == HC_RECREATE) {
                if (strcmp(rep->id, v->o.id) != 0 || (uint64_t)rep->size != v->o.size)
                        hc_fail(m,
                                "client %d: CreateVolume again gave '%s' of %lld bytes, not "
                                "'%s' of %llu",
                                cl->index, rep->id, (long long)rep->size, v->o.id,
                                (unsigned long long)v->o.size);
                return;
        }
        if ((uint64_t)rep->size != want)
                hc_fail(m, "client %d: CreateVolume '%s' gave %lld bytes, want %llu", cl->index,
                        rep->id, (long long)rep->size, (unsigned long long)want);
        hc_set_obj(m, &v->o, rep->id, want, op->src_img);
        v->published = v->modified = false;
        v->thick = op->thick;
        v->create = *op;
        v->create.src_img = NULL; /* the source may go; a retry needs only its id */
}

static void hc_apply_group(struct hc_model *m, struct hc_client *cl, const struct hc_op *op,
                           const struct hc_reply *rep)
{
        struct hc_group *g = &cl->group;
        if (rep->size != HC_MEMBERS)
                hc_fail(m, "client %d: group snapshot '%s' has %lld members", cl->index, rep->id,
                        (long long)rep->size);
        g->present = true;
        snprintf(g->id, sizeof(g->id), "%s", rep->id);
        for (int i = 0; i < HC_MEMBERS; i++) {
                /* Members come in any order: match them by source. */
                int at = strcmp(rep->member_src[i], cl->vol[op->vols[0]].o.id) == 0 ? 0 : 1;
                const struct hc_obj *src = &cl->vol[op->vols[at]].o;
                if (strcmp(rep->member_src[i], src->id) != 0 ||
                    (uint64_t)rep->member_size[i] != src->size)
                        hc_fail(m,
                                "client %d: group member '%s' of '%s' (%lld bytes) is not "
                                "of the volumes asked for",
                                cl->index, rep->member_id[i], rep->member_src[i],
                                (long long)rep->member_size[i]);
                hc_set_obj(m, &g->member[at], rep->member_id[i], src->size, src->img);
                g->vols[at] = op->vols[at];
        }
}

static void hc_apply(struct hc_model *m, struct hc_client *cl, const struct hc_op *op,
                     const struct hc_reply *rep)
{
        struct hc_vol *v = &cl->vol[op->slot];
        switch (op->kind) {
        case HC_CREATE:
        case HC_RECREATE:
                hc_apply_create(m, cl, op, rep);
                break;
        case HC_DELETE:
                if (op->want == ERR_OK)
                        hc_obj_drop(&v->o);
                break;
        case HC_SNAP:
                if ((uint64_t)rep->size != cl->vol[op->vols[0]].o.size)
                        hc_fail(m, "client %d: snapshot '%s' has %lld bytes, its volume %llu",
                                cl->index, rep->id, (long long)rep->size,
                                (unsigned long long)cl->vol[op->vols[0]].o.size);
                hc_set_obj(m, &cl->snap[op->slot], rep->id, cl->vol[op->vols[0]].o.size,
                           cl->vol[op->vols[0]].o.img);
                break;
        case HC_DELSNAP:
                hc_obj_drop(&cl->snap[op->slot]);
                break;
        case HC_PUBLISH:
        case HC_UNPUBLISH:
                v->published = op->kind == HC_PUBLISH;
                break;
        case HC_EXPAND:
                if (rep->size != op->size)
                        hc_fail(m, "client %d: expand of '%s' to %lld gave %lld bytes", cl->index,
                                v->o.id, (long long)op->size, (long long)rep->size);
                v->o.size = (uint64_t)op->size;
                break;
        case HC_MODIFY:
                v->thick = v->modified = true;
                break;
        case HC_GROUP:
                hc_apply_group(m, cl, op, rep);
                break;
        case HC_DELGROUP:
                cl->group.present = false;
                for (int i = 0; i < HC_MEMBERS; i++)
                        hc_obj_drop(&cl->group.member[i]);
                break;
        default:
                break;
        }
}

bool hc_is_unanswered(enum err_status st)
{
        return st == ERR_UNAVAILABLE || st == ERR_CANCELLED || st == ERR_DEADLINE_EXCEEDED ||
               st == ERR_ABORTED;
}

static void hc_answered(struct hc_model *m, struct hc_client *cl, const struct hc_op *op,
                        enum err_status st, const struct hc_reply *rep)
{
        if (st != op->want) {
                hc_fail(m, "client %d: %s on slot %d answered %s, want %s ('%s')", cl->index,
                        hc_kind_names[op->kind], op->slot, err_status_name(st),
                        err_status_name(op->want), rep->msg);
                return;
        }
        hc_apply(m, cl, op, rep);
}

void hc_client_stream(struct hc_model *m, struct hc_client *cl)
{
        while (!atomic_load(&m->stop)) {
                struct hc_op op;
                struct hc_reply rep;
                enum err_status st;
                hc_pick(cl, &op);
                cl->calls[op.kind]++;
                /* A sidecar retries ABORTED and DEADLINE_EXCEEDED at once; so does this one
                 * while the daemon lives. */
                for (int i = 0; i < TRIES; i++) {
                        st = hc_send(m, cl, &op, &rep);
                        if (atomic_load(&m->stop) ||
                            (st != ERR_ABORTED && st != ERR_DEADLINE_EXCEEDED))
                                break;
                        hc_sleep_ms(50);
                }
                if (atomic_load(&m->stop) && hc_is_unanswered(st)) {
                        cl->pending = true;
                        cl->op = op;
                        cl->unanswered[op.kind]++;
                        return;
                }
                hc_answered(m, cl, &op, st, &rep);
        }
}

void hc_client_retry(struct hc_model *m, struct hc_client *cl)
{
        if (!cl->pending)
                return;
        struct hc_reply rep;
        enum err_status st = ERR_UNAVAILABLE;
        for (int i = 0; i < TRIES && hc_is_unanswered(st); i++) {
                if (i > 0)
                        hc_sleep_ms(50);
                st = hc_send(m, cl, &cl->op, &rep);
        }
        cl->pending = false;
        hc_answered(m, cl, &cl->op, st, &rep);
}

const char *hc_stats(const struct hc_model *m)
{
        static char buf[2048];
        size_t at = 0;
        for (int k = 0; k < HC_KINDS && at < sizeof(buf); k++) {
                unsigned calls = 0, unanswered = 0;
                for (int i = 0; i < HC_CLIENTS; i++) {
                        calls += m->clients[i].calls[k];
                        unanswered += m->clients[i].unanswered[k];
                }
                int n = snprintf(buf + at, sizeof(buf) - at, "%s%s=%u/%u", k ? " " : "",
                                 hc_kind_names[k], calls, unanswered);
                at += n > 0 ? (size_t)n : 0;
        }
        return buf;
}
