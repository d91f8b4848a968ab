/* The checks of the random crash test: the pool's files, the listings and the data files
 * against what the clients were told. */
#include "test/integration/harness-crash.h"

#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"

#define HC_LISTED_MAX 64

static bool hc_sibling_exists(const char *dir, const char *name, size_t stem, const char *ext)
{
        char path[1024];
        snprintf(path, sizeof(path), "%s/%.*s%s", dir, (int)stem, name, ext);
        return access(path, F_OK) == 0;
}

/* The group a snapshot's metadata names, "" for none. */
static void hc_meta_group(const char *path, char *group, size_t size)
{
        char line[512];
        FILE *f = fopen(path, "re");
        group[0] = '\0';
        while (f && fgets(line, sizeof(line), f))
                if (strncmp(line, "group_id=", 9) == 0)
                        snprintf(group, size, "%.*s", (int)strcspn(line + 9, "\n"), line + 9);
        if (f)
                fclose(f);
}

/* Each entry of a directory of objects: no temp file, data and metadata in pairs (groups:
 * metadata only), a group member only with its group. */
static void hc_check_dir(struct hc_model *m, const char *kind)
{
        char dir[512];
        snprintf(dir, sizeof(dir), "%s/%s", m->h->pool, kind);
        bool groups = strcmp(kind, "groups") == 0;
        DIR *d = opendir(dir);
        ck_assert_ptr_nonnull(d);
        struct dirent *de;
        while ((de = readdir(d))) {
                const char *name = de->d_name;
                if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                        continue;
                const char *ext = strrchr(name, '.');
                size_t stem = ext ? (size_t)(ext - name) : 0;
                bool img = ext && strcmp(ext, ".img") == 0, meta = ext && strcmp(ext, ".meta") == 0;
                ck_assert_msg(name[0] != '.' && (meta || (img && !groups)),
                              "seed %u round %u: leftover '%s/%s' after recovery", m->seed,
                              m->round, dir, name);
                ck_assert_msg(groups || hc_sibling_exists(dir, name, stem, img ? ".meta" : ".img"),
                              "seed %u round %u: '%s/%s' has no %s", m->seed, m->round, dir, name,
                              img ? "metadata" : "data file");
                char path[1024], group[256];
                snprintf(path, sizeof(path), "%s/%s", dir, name);
                if (strcmp(kind, "snapshots") == 0 && meta)
                        hc_meta_group(path, group, sizeof(group));
                else
                        group[0] = '\0';
                snprintf(path, sizeof(path), "%s/groups/%s.meta", m->h->pool, group);
                ck_assert_msg(
                    !group[0] || access(path, F_OK) == 0,
                    "seed %u round %u: snapshot '%s' is a member of group '%s', which does not "
                    "exist",
                    m->seed, m->round, name, group);
        }
        closedir(d);
}

void hc_check_pool(struct hc_model *m)
{
        hc_check_dir(m, "volumes");
        hc_check_dir(m, "snapshots");
        hc_check_dir(m, "groups");
}

void hc_check_pool_empty(struct hc_model *m)
{
        static const char *const kinds[] = {"volumes", "snapshots", "groups"};
        for (size_t i = 0; i < 3; i++) {
                char dir[512];
                snprintf(dir, sizeof(dir), "%s/%s", m->h->pool, kinds[i]);
                DIR *d = opendir(dir);
                ck_assert_ptr_nonnull(d);
                struct dirent *de;
                while ((de = readdir(d)))
                        ck_assert_msg(strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0,
                                      "seed %u round %u: '%s/%s' left after everything was deleted",
                                      m->seed, m->round, dir, de->d_name);
                closedir(d);
        }
}

/* An object as a listing showed it. */
struct hc_listed {
        char id[HC_ID];
        uint64_t size;
        int published; /* volumes: node ids; -1 when not ours alone */
        bool seen;     /* matched to the model */
};

struct hc_listing {
        struct hc_listed e[HC_LISTED_MAX];
        size_t n;
};

static void hc_listed_add(struct hc_model *m, struct hc_listing *l, const char *id, uint64_t size,
                          int published)
{
        for (size_t i = 0; i < l->n; i++)
                ck_assert_msg(strcmp(l->e[i].id, id) != 0, "seed %u round %u: '%s' listed twice",
                              m->seed, m->round, id);
        ck_assert_msg(l->n < HC_LISTED_MAX, "seed %u round %u: more objects than the clients made",
                      m->seed, m->round);
        struct hc_listed *e = &l->e[l->n++];
        snprintf(e->id, sizeof(e->id), "%s", id);
        e->size = size;
        e->published = published;
        e->seen = false;
}

static int hc_published(size_t n, char **nodes)
{
        if (n == 0)
                return 0;
        return n == 1 && strcmp(nodes[0], "test-node") == 0 ? 1 : -1;
}

static void hc_list_volumes(struct hc_model *m, struct hc_listing *l)
{
        char token[HC_ID] = "";
        l->n = 0;
        do {
                Csi__V1__ListVolumesRequest req = CSI__V1__LIST_VOLUMES_REQUEST__INIT;
                req.max_entries = 3;
                req.starting_token = token;
                Csi__V1__ListVolumesResponse *resp = NULL;
                ck_assert_int_eq(harness_ctl_call(m->h, "Controller", "ListVolumes", &req.base,
                                                  &csi__v1__list_volumes_response__descriptor,
                                                  (void **)&resp, NULL, 0),
                                 ERR_OK);
                for (size_t i = 0; i < resp->n_entries; i++) {
                        const Csi__V1__ListVolumesResponse__Entry *e = resp->entries[i];
                        int pub = e->status ? hc_published(e->status->n_published_node_ids,
                                                           e->status->published_node_ids)
                                            : 0;
                        hc_listed_add(m, l, e->volume->volume_id,
                                      (uint64_t)e->volume->capacity_bytes, pub);
                }
                snprintf(token, sizeof(token), "%s", resp->next_token ? resp->next_token : "");
                protobuf_c_message_free_unpacked(&resp->base, NULL);
        } while (token[0]);
}

static void hc_list_snapshots(struct hc_model *m, struct hc_listing *l)
{
        char token[HC_ID] = "";
        l->n = 0;
        do {
                Csi__V1__ListSnapshotsRequest req = CSI__V1__LIST_SNAPSHOTS_REQUEST__INIT;
                req.max_entries = 3;
                req.starting_token = token;
                Csi__V1__ListSnapshotsResponse *resp = NULL;
                ck_assert_int_eq(harness_ctl_call(m->h, "Controller", "ListSnapshots", &req.base,
                                                  &csi__v1__list_snapshots_response__descriptor,
                                                  (void **)&resp, NULL, 0),
                                 ERR_OK);
                for (size_t i = 0; i < resp->n_entries; i++) {
                        const Csi__V1__Snapshot *s = resp->entries[i]->snapshot;
                        ck_assert_msg(s->ready_to_use,
                                      "seed %u round %u: snapshot '%s' is not ready", m->seed,
                                      m->round, s->snapshot_id);
                        hc_listed_add(m, l, s->snapshot_id, (uint64_t)s->size_bytes, 0);
                }
                snprintf(token, sizeof(token), "%s", resp->next_token ? resp->next_token : "");
                protobuf_c_message_free_unpacked(&resp->base, NULL);
        } while (token[0]);
}

static struct hc_listed *hc_find(struct hc_listing *l, const char *id)
{
        for (size_t i = 0; id[0] && i < l->n; i++)
                if (strcmp(l->e[i].id, id) == 0)
                        return &l->e[i];
        return NULL;
}

/* Whether the client's unanswered call may have changed volume slot v (or, with v < 0,
 * snapshot slot s, or with both < 0 the group). */
static bool hc_touched(const struct hc_client *cl, bool unanswered, int v, int s)
{
        if (!unanswered || !cl->pending)
                return false;
        const struct hc_op *op = &cl->op;
        switch (op->kind) {
        case HC_SNAP:
        case HC_DELSNAP:
                return v < 0 && op->slot == s;
        case HC_GROUP:
        case HC_DELGROUP:
                return v < 0 && s < 0;
        case HC_WRITE:
        case HC_DELMEMBER:
                return false;
        default:
                return op->slot == v;
        }
}

/* One object of the model against the listing. */
static void hc_match(struct hc_model *m, struct hc_listing *l, const struct hc_obj *o, bool touched,
                     int published, const char *what)
{
        struct hc_listed *e = hc_find(l, o->id);
        if (e)
                e->seen = true;
        if (touched)
                return;
        ck_assert_msg(!o->present || e,
                      "seed %u round %u: %s '%s' the client was given is not listed", m->seed,
                      m->round, what, o->id);
        ck_assert_msg(o->present || !e, "seed %u round %u: %s '%s' the client deleted is listed",
                      m->seed, m->round, what, o->id);
        if (!e)
                return;
        ck_assert_msg(e->size == o->size,
                      "seed %u round %u: %s '%s' is listed with %llu bytes, not %llu", m->seed,
                      m->round, what, o->id, (unsigned long long)e->size,
                      (unsigned long long)o->size);
        ck_assert_msg(published < 0 || e->published == published,
                      "seed %u round %u: volume '%s' is listed as published to %d nodes, want %d",
                      m->seed, m->round, o->id, e->published, published);
}

/* Listed objects no client knows of: at most what its unanswered calls may have made. */
static void hc_unknown(struct hc_model *m, const struct hc_listing *l, size_t allowed,
                       const char *what)
{
        size_t unknown = 0;
        for (size_t i = 0; i < l->n; i++)
                if (!l->e[i].seen && ++unknown > allowed)
                        ck_abort_msg(
                            "seed %u round %u: %s '%s' is listed, but no client asked for it",
                            m->seed, m->round, what, l->e[i].id);
}

static void hc_check_get_volume(struct hc_model *m, const struct hc_vol *v)
{
        Csi__V1__ControllerGetVolumeRequest req = CSI__V1__CONTROLLER_GET_VOLUME_REQUEST__INIT;
        req.volume_id = (char *)v->o.id;
        Csi__V1__ControllerGetVolumeResponse *resp = NULL;
        ck_assert_int_eq(harness_ctl_call(m->h, "Controller", "ControllerGetVolume", &req.base,
                                          &csi__v1__controller_get_volume_response__descriptor,
                                          (void **)&resp, NULL, 0),
                         ERR_OK);
        int pub = resp->status ? hc_published(resp->status->n_published_node_ids,
                                              resp->status->published_node_ids)
                               : 0;
        protobuf_c_message_free_unpacked(&resp->base, NULL);
        ck_assert_msg(pub == (v->published ? 1 : 0),
                      "seed %u round %u: ControllerGetVolume '%s': published to %d nodes, want %d",
                      m->seed, m->round, v->o.id, pub, v->published);
}

static void hc_check_volumes(struct hc_model *m, bool unanswered)
{
        struct hc_listing *l = calloc(1, sizeof(*l));
        ck_assert_ptr_nonnull(l);
        size_t allowed = 0;
        hc_list_volumes(m, l);
        for (int i = 0; i < HC_CLIENTS; i++) {
                const struct hc_client *cl = &m->clients[i];
                allowed += unanswered && cl->pending && cl->op.kind == HC_CREATE;
                for (int j = 0; j < HC_VOLS; j++) {
                        const struct hc_vol *v = &cl->vol[j];
                        bool touched = hc_touched(cl, unanswered, j, -1);
                        hc_match(m, l, &v->o, touched, v->published ? 1 : 0, "volume");
                        if (!unanswered && v->o.present)
                                hc_check_get_volume(m, v);
                }
        }
        hc_unknown(m, l, allowed, "volume");
        free(l);
}

static void hc_check_snapshots(struct hc_model *m, bool unanswered)
{
        struct hc_listing *l = calloc(1, sizeof(*l));
        ck_assert_ptr_nonnull(l);
        size_t allowed = 0;
        hc_list_snapshots(m, l);
        for (int i = 0; i < HC_CLIENTS; i++) {
                const struct hc_client *cl = &m->clients[i];
                if (unanswered && cl->pending && cl->op.kind == HC_SNAP)
                        allowed++;
                if (unanswered && cl->pending && cl->op.kind == HC_GROUP)
                        allowed += HC_MEMBERS;
                for (int j = 0; j < HC_SNAPS; j++)
                        hc_match(m, l, &cl->snap[j], hc_touched(cl, unanswered, -1, j), -1,
                                 "snapshot");
                for (int j = 0; j < HC_MEMBERS; j++)
                        hc_match(m, l, &cl->group.member[j], hc_touched(cl, unanswered, -1, -1), -1,
                                 "group member snapshot");
        }
        hc_unknown(m, l, allowed, "snapshot");
        free(l);
}

void hc_check_listings(struct hc_model *m, bool unanswered)
{
        hc_check_volumes(m, unanswered);
        hc_check_snapshots(m, unanswered);
}

/* A data file: its size, its head byte by byte, zeros after it, and for a thick volume no
 * hole. */
static void hc_check_file(struct hc_model *m, const char *kind, const struct hc_obj *o, bool thick)
{
        char path[512];
        harness_ctl_data(m->h, kind, o->id, path, sizeof(path));
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        ck_assert_msg(fd >= 0 && fstat(fd, &st) == 0, "seed %u round %u: '%s': %m", m->seed,
                      m->round, path);
        ck_assert_msg((uint64_t)st.st_size == o->size,
                      "seed %u round %u: '%s' has %lld bytes, want %llu", m->seed, m->round, path,
                      (long long)st.st_size, (unsigned long long)o->size);
        ck_assert_msg(!thick || (uint64_t)st.st_blocks * 512 >= o->size,
                      "seed %u round %u: thick '%s' has holes (%lld blocks)", m->seed, m->round,
                      path, (long long)st.st_blocks);
        static unsigned char buf[HC_IMG];
        for (uint64_t off = 0; off < o->size; off += HC_IMG) {
                ck_assert_int_eq(pread(fd, buf, HC_IMG, (off_t)off), HC_IMG);
                for (size_t i = 0; i < HC_IMG; i++) {
                        unsigned char want = off == 0 ? o->img[i] : 0;
                        if (buf[i] != want)
                                ck_abort_msg(
                                    "seed %u round %u: '%s' byte %llu is 0x%02x, want 0x%02x",
                                    m->seed, m->round, path, (unsigned long long)(off + i), buf[i],
                                    want);
                }
        }
}

void hc_check_data(struct hc_model *m)
{
        for (int i = 0; i < HC_CLIENTS; i++) {
                const struct hc_client *cl = &m->clients[i];
                for (int j = 0; j < HC_VOLS; j++)
                        if (cl->vol[j].o.present)
                                hc_check_file(m, "volumes", &cl->vol[j].o, cl->vol[j].thick);
                for (int j = 0; j < HC_SNAPS; j++)
                        if (cl->snap[j].present)
                                hc_check_file(m, "snapshots", &cl->snap[j], false);
                for (int j = 0; cl->group.present && j < HC_MEMBERS; j++)
                        hc_check_file(m, "snapshots", &cl->group.member[j], false);
        }
}

void hc_teardown_all(struct hc_model *m)
{
        for (int i = 0; i < HC_CLIENTS; i++) {
                struct hc_client *cl = &m->clients[i];
                for (int j = 0; j < HC_VOLS; j++)
                        if (cl->vol[j].o.present)
                                ck_assert_int_eq(
                                    harness_ctl_unpublish(m->h, cl->vol[j].o.id, "test-node"),
                                    ERR_OK);
                for (int j = 0; j < HC_VOLS; j++)
                        if (cl->vol[j].o.present)
                                ck_assert_int_eq(harness_ctl_delete(m->h, cl->vol[j].o.id), ERR_OK);
                cl->op = (struct hc_op){.kind = HC_DELGROUP, .want = ERR_OK};
                cl->pending = cl->group.present;
                hc_client_retry(m, cl);
                for (int j = 0; j < HC_SNAPS; j++) {
                        cl->op = (struct hc_op){.kind = HC_DELSNAP, .slot = j, .want = ERR_OK};
                        cl->pending = cl->snap[j].present;
                        hc_client_retry(m, cl);
                }
                for (int j = 0; j < HC_VOLS; j++)
                        cl->vol[j].o.present = false;
        }
        hc_assert_no_failure(m);
}
