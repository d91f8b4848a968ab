/* CSI inline ephemeral volumes: NodePublishVolume with "csi.storage.k8s.io/ephemeral: true"
 * makes a volume in the pool (through the controller of this process), stages it at a
 * private directory and publishes it at the target; NodeUnpublishVolume undoes all of it.
 * No stage call comes for these, and kubelet keeps no record but the target: the volume's
 * metadata (ephemeral=1) is what tells an unpublish to remove it. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/units.h"
#include "node/fs.h"
#include "node/mount.h"
#include "node/node.h"
#include "node/place.h"
#include "node/volstate.h"
#include "common/cleanup.h"

#define EPHEMERAL_KEY_PREFIX "csi.storage.k8s.io/"
#define EPHEMERAL_ATTRS_MAX  64

/* What the volume attributes ask for. */
struct ephemeral_spec {
        uint64_t size;
        enum store_provisioning prov;
        const char *fs_type;
};

static int ephemeral_attr(const struct node_kv *kv, struct ephemeral_spec *s, bool *has_size)
{
        if (strcmp(kv->key, "size") == 0) {
                if (units_parse_size(kv->value, &s->size) < 0 || s->size == 0)
                        return node_fail(-SILO_EINVALID,
                                         "volume attribute 'size' must be a size such as 1Gi "
                                         "or 512Mi, not '%.64s'",
                                         kv->value);
                *has_size = true;
                return 0;
        }
        if (strcmp(kv->key, "provisioning") == 0) {
                if (strcmp(kv->value, "thin") != 0 && strcmp(kv->value, "thick") != 0)
                        return node_fail(-SILO_EINVALID,
                                         "volume attribute 'provisioning' must be thin or thick, "
                                         "not '%.64s'",
                                         kv->value);
                s->prov = strcmp(kv->value, "thick") == 0 ? STORE_THICK : STORE_THIN;
                return 0;
        }
        if (strcasecmp(kv->key, "fstype") == 0)
                return node_fail(-SILO_EINVALID,
                                 "volume attribute '%.16s' is not supported: set the volume's "
                                 "fsType (csi.fsType in the pod), which arrives as the "
                                 "capability's fs_type",
                                 kv->key);
        /* kubelet's pod information, with podInfoOnMount */
        if (strncmp(kv->key, EPHEMERAL_KEY_PREFIX, strlen(EPHEMERAL_KEY_PREFIX)) == 0)
                return 0;
        return node_fail(-SILO_EINVALID,
                         "unknown volume attribute '%.64s' (an inline volume takes size and "
                         "provisioning)",
                         kv->key);
}

static int ephemeral_parse(const struct node_kv *attrs, size_t n_attrs, const struct node_cap *cap,
                           struct ephemeral_spec *ret)
{
        struct ephemeral_spec s = {.prov = STORE_THIN};
        bool has_size = false;
        int r;

        if (n_attrs > EPHEMERAL_ATTRS_MAX)
                return node_fail(-SILO_EINVALID, "more than %d volume attributes",
                                 EPHEMERAL_ATTRS_MAX);
        for (size_t i = 0; i < n_attrs; i++) {
                r = ephemeral_attr(&attrs[i], &s, &has_size);
                if (r < 0)
                        return r;
        }
        if (!has_size)
                return node_fail(-SILO_EINVALID,
                                 "volume attribute 'size' is required for an inline volume");
        if (cap->block)
                return node_fail(-SILO_EINVALID, "an inline ephemeral volume is a filesystem, "
                                                 "not a raw block device");
        s.fs_type = cap->fs_type && *cap->fs_type ? cap->fs_type : "ext4";
        if (!fs_type_is_supported(s.fs_type))
                return node_fail(-SILO_EINVALID, "fs_type '%.32s' is not supported (ext4, xfs)",
                                 s.fs_type);
        *ret = s;
        return 0;
}

/* "<ephemeral dir>/<id>": where the volume is staged. */
static int ephemeral_staging(const struct node *n, const char *id, char **ret)
{
        if (asprintf(ret, "%s/%s", n->ephemeral_dir, id) < 0)
                return -ENOMEM;
        return 0;
}

/* Creates the staging directory and what is missing of its parents below the kubelet dir
 * (made on first use: the plugin's directory exists where kubelet runs it). */
static int ephemeral_mkdirs(const char *kubelet_dir, const char *staging)
{
        char *p = strdup(staging);
        int r = 0;

        if (!p)
                return -ENOMEM;
        for (char *s = p + strlen(kubelet_dir) + 1; r == 0; s++) {
                if (*s != '/' && *s != '\0')
                        continue;
                char c = *s;
                *s = '\0';
                if (mkdir(p, 0750) < 0 && errno != EEXIST)
                        r = node_fail(neg_errno(), "cannot create '%s'", p);
                if (c == '\0')
                        break;
                *s = c;
        }
        free(p);
        return r;
}

/* Unstages (detaching the loop device), removes the staging directory and the volume. */
static int ephemeral_remove(struct node *n, const char *id)
{
        _cleanup_free_ char *staging = NULL;
        int r = ephemeral_staging(n, id, &staging);

        if (r == 0)
                r = node_unstage(n, id, staging);
        if (r < 0)
                return r;
        if (rmdir(staging) < 0 && errno != ENOENT)
                return node_fail(neg_errno(), "cannot remove '%s'", staging);
        n->volume_ops->why_clear();
        r = n->volume_ops->remove(n->volume_ops->ctx, id);
        if (r < 0)
                return node_fail(r, "cannot remove inline volume '%s': %s", id,
                                 n->volume_ops->why());
        return 0;
}

static int ephemeral_make(struct node *n, const char *id, const struct ephemeral_spec *s,
                          bool *ret_created)
{
        const struct node_volume_ops *ops = n->volume_ops;
        int r;

        ops->why_clear();
        r = ops->create(ops->ctx, id, s->size, s->prov, s->fs_type, ret_created);
        if (r < 0)
                return node_fail(r, "cannot make inline volume '%s': %s", id, ops->why());
        return 0;
}

int node_ephemeral_publish(struct node *n, const char *id, const char *target,
                           const struct node_cap *cap, bool readonly, const struct node_kv *attrs,
                           size_t n_attrs)
{
        _cleanup_free_ char *tp = NULL, *staging = NULL;
        struct ephemeral_spec s;
        bool created = false;
        int r;

        if (!n->volume_ops)
                return node_fail(-SILO_EPRECOND,
                                 "inline ephemeral volumes need the controller in the same "
                                 "process (--mode all, --pool-scope node)");
        r = ephemeral_parse(attrs, n_attrs, cap, &s);
        if (r < 0)
                return r;
        r = node_path(n, "target path", target, &tp);
        if (r < 0)
                return r;
        if (ephemeral_staging(n, id, &staging) < 0 || !staging)
                return -ENOMEM;
        r = ephemeral_mkdirs(n->kubelet_dir, staging);
        if (r < 0)
                return r;
        r = ephemeral_make(n, id, &s, &created);
        if (r < 0)
                return r;
        struct node_cap fs = *cap;
        fs.fs_type = s.fs_type;
        r = node_stage(n, id, staging, &fs);
        if (r == 0)
                r = node_publish(n, id, staging, target, cap, readonly);
        if (r < 0 && created) {
                /* Nothing of it reached the pod: leave nothing behind. */
                char why[NODE_WHY_MAX];
                snprintf(why, sizeof(why), "%s", node_why());
                (void)node_unpublish(n, id, target);
                if (ephemeral_remove(n, id) < 0)
                        log_warn("msg='cannot undo a failed inline volume; the next start "
                                 "removes it' volume_id='%s' why='%s'",
                                 id, node_why());
                node_why_set("%s", why);
        }
        return r;
}

/* kubelet's handle of an inline volume: "csi-" and a sha256 in hex. */
static bool ephemeral_is_kubelet_handle(const char *id)
{
        if (strncmp(id, "csi-", 4) != 0 || strlen(id + 4) != 64)
                return false;
        return strspn(id + 4, "0123456789abcdef") == 64;
}

/* The volume is gone: a repeat of an unpublish that removed it. Done, unless the target
 * still holds a mount. */
static int ephemeral_gone(struct node *n, const char *id, const char *target)
{
        struct place tp;
        int r = place_open(n, "target path", target, &tp);

        if (r < 0)
                return r;
        if (tp.mnt_id)
                r = node_fail(-SILO_EPRECOND,
                              "target path '%s' holds a mount, and inline volume '%s' does "
                              "not exist",
                              tp.path, id);
        else if (tp.dir >= 0 && tp.type == S_IFDIR)
                (void)unlinkat(tp.dir, tp.name, AT_REMOVEDIR);
        place_release(&tp);
        return r < 0 ? r : 1;
}

int node_ephemeral_unpublish(struct node *n, const char *id, const char *target)
{
        struct store_volume v = {0};
        int r = store_volume_load(n->pool, id, &v);
        bool ephemeral = r == 0 && v.ephemeral;

        if (r == 0 && !ephemeral) { /* the common case: read the metadata once */
                r = node_unpublish_meta(n, &v, target);
                return r < 0 ? r : 1;
        }
        store_volume_release(&v);
        if (r == -SILO_ENOTFOUND && ephemeral_is_kubelet_handle(id))
                return ephemeral_gone(n, id, target);
        if (!ephemeral)
                return 0;
        if (!n->volume_ops)
                return node_fail(-SILO_EPRECOND,
                                 "inline volume '%s' can only be removed with the controller in "
                                 "the same process",
                                 id);
        r = node_unpublish(n, id, target);
        if (r == 0)
                r = ephemeral_remove(n, id);
        return r < 0 ? r : 1;
}

/* An inline volume no target uses is one a crash left half-made or half-removed: kubelet
 * either retries the publish (which makes it again) or has forgotten it. */
static int ephemeral_reconcile_one(struct node *n, const struct mount_table *t, const char *id)
{
        _cleanup_free_ char *staging = NULL;
        struct place sp = {.dir = -1, .fd = -1};
        struct volstate v;
        int r = volstate_load(n, id, &v);

        if (r < 0)
                return 0;
        bool ours = v.meta.ephemeral && strcmp(v.meta.node_id, n->node_id) == 0;
        if (ours)
                r = volstate_find_loop(&v);
        if (ours && r == 0 && v.attached && ephemeral_staging(n, id, &staging) == 0 &&
            place_open(n, "staging path", staging, &sp) == 0 &&
            volstate_holder(t, &v.loop, sp.mnt_id, 0))
                ours = false; /* published: the pod still uses it */
        place_release(&sp);
        volstate_release(&v);
        if (!ours || r < 0)
                return 0;
        r = ephemeral_remove(n, id);
        if (r < 0) {
                log_warn("msg='cannot remove a half-made inline volume' volume_id='%s' why='%s'",
                         id, node_why());
                return 0;
        }
        log_info("msg='removed an inline volume no pod uses' volume_id='%s'", id);
        return 1;
}

static int ephemeral_reconcile(struct node *n)
{
        _cleanup_mount_table_ struct mount_table *t = NULL;
        store_id_t *ids = NULL;
        size_t count = 0;
        int removed = 0;
        int r = store_list_ids(n->pool, STORE_VOLUMES, &ids, &count);

        if (r == 0)
                r = mount_table_load(&t);
        for (size_t i = 0; r == 0 && i < count; i++)
                if (!id_has_form(ids[i], "vol"))
                        removed += ephemeral_reconcile_one(n, t, ids[i]);
        free(ids);
        return r < 0 ? r : removed;
}

int node_ephemeral_enable(struct node *n, const struct node_volume_ops *ops,
                          const char *driver_name)
{
        if (!id_node_is_valid(driver_name))
                return node_fail(-SILO_EINVALID, "driver name '%s' cannot name a directory",
                                 driver_name);
        if (asprintf(&n->ephemeral_dir, "%s/plugins/%s/ephemeral", n->kubelet_dir, driver_name) < 0)
                return -ENOMEM;
        n->volume_ops = ops;
        int r = ephemeral_reconcile(n);
        if (r < 0)
                return node_fail(r, "cannot reconcile inline volumes");
        if (r > 0)
                log_info("msg='inline volumes reconciled' removed=%d", r);
        return 0;
}
