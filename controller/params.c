#include "controller/controller.h"

#include <string.h>
#include <strings.h>

#include "common/err.h"
#include "common/mntflags.h"
#include "common/str.h"
#include "common/cleanup.h"

#define PARAMS_SIDECAR_PREFIX "csi.storage.k8s.io/"

/* csi.v1 VolumeCapability.AccessMode.Mode numbers. */
enum {
        MODE_SINGLE_NODE_WRITER = 1,
        MODE_SINGLE_NODE_READER_ONLY = 2,
        MODE_MULTI_NODE_READER_ONLY = 3,
        MODE_SINGLE_NODE_SINGLE_WRITER = 6,
        MODE_SINGLE_NODE_MULTI_WRITER = 7,
        MODE_MAX = 7,
};

const char *params_mode_name(int mode)
{
        static const char *const names[] = {
            "UNKNOWN",
            "SINGLE_NODE_WRITER",
            "SINGLE_NODE_READER_ONLY",
            "MULTI_NODE_READER_ONLY",
            "MULTI_NODE_SINGLE_WRITER",
            "MULTI_NODE_MULTI_WRITER",
            "SINGLE_NODE_SINGLE_WRITER",
            "SINGLE_NODE_MULTI_WRITER",
        };
        return mode >= 0 && mode <= MODE_MAX ? names[mode] : "an unknown access mode";
}

static bool params_fs_is_known(const char *fs)
{
        return strcmp(fs, "ext4") == 0 || strcmp(fs, "xfs") == 0;
}

static int params_one(const struct params_kv *kv, bool mutable_only, struct params *p)
{
        if (strcmp(kv->key, "provisioning") == 0) {
                if (strcmp(kv->value, "thin") != 0 && strcmp(kv->value, "thick") != 0)
                        return controller_fail(-SILO_EINVALID,
                                               "parameter 'provisioning' must be thin or thick, "
                                               "not '%.64s'",
                                               kv->value);
                p->has_provisioning = true;
                p->provisioning = strcmp(kv->value, "thick") == 0 ? STORE_THICK : STORE_THIN;
                return 0;
        }
        /* external-provisioner reads any key spelled "fstype" as its deprecated filesystem key
         * and refuses a class that has it beside csi.storage.k8s.io/fstype: the filesystem can
         * only be the capability's mount.fs_type, which it fills from that key. */
        if (strcasecmp(kv->key, "fstype") == 0)
                return controller_fail(-SILO_EINVALID,
                                       "parameter '%.16s' is not supported: set the filesystem "
                                       "with 'csi.storage.k8s.io/fstype' in the StorageClass (or "
                                       "the volume capability's fs_type)",
                                       kv->key);
        if (!mutable_only &&
            strncmp(kv->key, PARAMS_SIDECAR_PREFIX, strlen(PARAMS_SIDECAR_PREFIX)) == 0)
                return 0;
        return controller_fail(-SILO_EINVALID, "unknown %sparameter '%.64s'",
                               mutable_only ? "mutable " : "", kv->key);
}

int params_parse(const struct params_kv *kv, size_t n, bool mutable_only, struct params *ret)
{
        struct params p = {.provisioning = STORE_THIN};
        if (n > CONTROLLER_PARAMS_MAX)
                return controller_fail(-SILO_EINVALID, "too many parameters (%zu, at most %d)", n,
                                       CONTROLLER_PARAMS_MAX);
        for (size_t i = 0; i < n; i++) {
                int r = params_one(&kv[i], mutable_only, &p);
                if (r < 0)
                        return r;
        }
        *ret = p;
        return 0;
}

const char *params_class_fs_type(const struct params_kv *kv, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(kv[i].key, PARAMS_SIDECAR_PREFIX "fstype") == 0 &&
                    params_fs_is_known(kv[i].value))
                        return kv[i].value;
        return "";
}

bool params_mode_is_single_node(int mode)
{
        return mode == MODE_SINGLE_NODE_WRITER || mode == MODE_SINGLE_NODE_READER_ONLY ||
               mode == MODE_SINGLE_NODE_SINGLE_WRITER || mode == MODE_SINGLE_NODE_MULTI_WRITER;
}

static bool params_mode_is_allowed(const struct controller *c, int mode)
{
        if (params_mode_is_single_node(mode))
                return true;
        return mode == MODE_MULTI_NODE_READER_ONLY && c->scope == CONFIG_SCOPE_SHARED;
}

static int params_cap_check(const struct controller *c, const struct params_cap *cap)
{
        if (cap->access == PARAMS_ACCESS_NONE)
                return controller_fail(-SILO_EINVALID, "volume capability has no access type");
        if (cap->mode <= 0 || cap->mode > MODE_MAX)
                return controller_fail(-SILO_EINVALID,
                                       "volume capability has no or an unknown access mode");
        if (!params_mode_is_allowed(c, cap->mode))
                return controller_fail(-SILO_EINVALID,
                                       "access mode %s is not supported by a %s-scoped pool",
                                       params_mode_name(cap->mode),
                                       c->scope == CONFIG_SCOPE_SHARED ? "shared" : "node");
        if (cap->access == PARAMS_ACCESS_MOUNT && cap->fs_type && cap->fs_type[0] &&
            !params_fs_is_known(cap->fs_type))
                return controller_fail(-SILO_EINVALID, "fs_type '%.32s' is not supported",
                                       cap->fs_type);
        /* The node's own allow-list: never accept or confirm what the node would refuse. */
        char why[320];
        struct mntflags flags;
        int r = cap->access == PARAMS_ACCESS_MOUNT
                    ? mntflags_parse(cap->mount_flags, cap->n_mount_flags, &flags, why, sizeof(why))
                    : 0;
        return r < 0 ? controller_fail(r, "%s", why) : 0;
}

int params_caps(const struct controller *c, const struct params_cap *caps, size_t n,
                unsigned *ret_mask, char ret_fs_type[16])
{
        unsigned mask = 0;
        const char *fs = "";
        if (n == 0)
                return controller_fail(-SILO_EINVALID, "volume capabilities are missing");
        if (n > CONTROLLER_PARAMS_MAX)
                return controller_fail(-SILO_EINVALID, "too many volume capabilities");
        for (size_t i = 0; i < n; i++) {
                int r = params_cap_check(c, &caps[i]);
                if (r < 0)
                        return r;
                mask |= caps[i].access == PARAMS_ACCESS_BLOCK ? STORE_CAP_BLOCK : STORE_CAP_MOUNT;
                mask |= STORE_CAP_MODE0 << caps[i].mode;
                const char *f = caps[i].fs_type ? caps[i].fs_type : "";
                if (*f && *fs && strcmp(f, fs) != 0)
                        return controller_fail(-SILO_EINVALID,
                                               "volume capabilities ask for two fs types");
                if (*f)
                        fs = f;
        }
        *ret_mask = mask;
        return str_copy(ret_fs_type, 16, fs);
}

void params_cap_placeholder(struct params_cap *cap)
{
        if (cap->mode == 0)
                cap->mode = MODE_SINGLE_NODE_WRITER;
        if (cap->access == PARAMS_ACCESS_NONE)
                cap->access = PARAMS_ACCESS_MOUNT;
}

bool params_cap_is_supported(const struct controller *c, const struct store_volume *v,
                             const struct params_cap *cap)
{
        if (params_cap_check(c, cap) < 0)
                return false;
        if (cap->access == PARAMS_ACCESS_MOUNT && cap->fs_type && cap->fs_type[0] &&
            strcmp(cap->fs_type, v->fs_type) != 0)
                return false;
        return true;
}
