/* siloctl: volume capabilities from --cap or the short options, and sizes. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cli/siloctl.h"
#include "common/str.h"
#include "common/units.h"

#include "common/cleanup.h"

static const struct {
        const char *alias;
        Csi__V1__VolumeCapability__AccessMode__Mode mode;
} cap_aliases[] = {
    {"rwo", CSI__V1__VOLUME_CAPABILITY__ACCESS_MODE__MODE__SINGLE_NODE_WRITER},
    {"rwop", CSI__V1__VOLUME_CAPABILITY__ACCESS_MODE__MODE__SINGLE_NODE_SINGLE_WRITER},
    {"rwx", CSI__V1__VOLUME_CAPABILITY__ACCESS_MODE__MODE__SINGLE_NODE_MULTI_WRITER},
    {"rox", CSI__V1__VOLUME_CAPABILITY__ACCESS_MODE__MODE__MULTI_NODE_READER_ONLY},
};

/* An alias or any access mode's name (case-insensitive), UNKNOWN excepted. */
static int cap_mode(const char *s, int *ret)
{
        for (size_t i = 0; i < ARRAY_SIZE(cap_aliases); i++)
                if (strcmp(s, cap_aliases[i].alias) == 0) {
                        *ret = cap_aliases[i].mode;
                        return 0;
                }
        const ProtobufCEnumDescriptor *d =
            &csi__v1__volume_capability__access_mode__mode__descriptor;
        for (unsigned i = 0; i < d->n_values; i++)
                if (strcasecmp(s, d->values[i].name) == 0 && d->values[i].value != 0) {
                        *ret = d->values[i].value;
                        return 0;
                }
        return -EINVAL;
}

static void cap_init(struct cli_cap *c, int mode, bool block, const char *fs)
{
        csi__v1__volume_capability__init(&c->cap);
        csi__v1__volume_capability__mount_volume__init(&c->mount);
        csi__v1__volume_capability__block_volume__init(&c->block);
        csi__v1__volume_capability__access_mode__init(&c->mode);
        c->mode.mode = mode;
        c->cap.access_mode = &c->mode;
        if (block) {
                c->cap.access_type_case = CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_BLOCK;
                c->cap.block = &c->block;
        } else {
                c->cap.access_type_case = CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_MOUNT;
                c->cap.mount = &c->mount;
                c->mount.fs_type = (char *)(fs ? fs : "");
                c->mount.mount_flags = c->flags;
        }
}

int cli_cap_parse(const char *spec, struct cli_cap *ret, const char **ret_why)
{
        static const char modes[] =
            "--cap MODE,TYPE[,FS[,FLAG...]]: MODE is an access mode (SINGLE_NODE_WRITER, "
            "SINGLE_NODE_READER_ONLY, SINGLE_NODE_SINGLE_WRITER, SINGLE_NODE_MULTI_WRITER, "
            "MULTI_NODE_READER_ONLY, MULTI_NODE_SINGLE_WRITER, MULTI_NODE_MULTI_WRITER, or rwo, "
            "rwop, rwx, rox)";
        if (STR_COPY(ret->spec, spec) < 0) {
                *ret_why = "--cap is too long";
                return -EINVAL;
        }
        char *rest = ret->spec;
        char *mode_s = strsep(&rest, ",");
        char *type_s = strsep(&rest, ",");
        int mode;
        if (cap_mode(mode_s, &mode) < 0) {
                *ret_why = modes;
                return -EINVAL;
        }
        if (!type_s || (strcmp(type_s, "mount") != 0 && strcmp(type_s, "block") != 0)) {
                *ret_why = "--cap MODE,TYPE[,FS[,FLAG...]]: TYPE is mount or block";
                return -EINVAL;
        }
        bool block = strcmp(type_s, "block") == 0;
        char *fs = strsep(&rest, ",");
        if (block && (fs || rest)) {
                *ret_why = "--cap MODE,block takes no filesystem or mount flags";
                return -EINVAL;
        }
        cap_init(ret, mode, block, fs);
        for (char *fl; (fl = strsep(&rest, ","));) {
                if (!*fl)
                        continue;
                if (ret->mount.n_mount_flags >= CLI_CAP_FLAGS_MAX) {
                        *ret_why = "--cap: at most 16 mount flags";
                        return -EINVAL;
                }
                ret->flags[ret->mount.n_mount_flags++] = fl;
        }
        return 0;
}

int cli_cap_short(const char *access, const char *fs, bool block, struct cli_cap *ret,
                  const char **ret_why)
{
        int mode;
        /* "block" as an access is the older spelling of --block with rwo. */
        if (strcmp(access, "block") == 0) {
                access = "rwo";
                block = true;
        }
        if (cap_mode(access, &mode) < 0) {
                *ret_why = "--access is rwo, rwop, rwx, rox or an access mode name "
                           "(or use --cap MODE,TYPE[,FS[,FLAG...]])";
                return -EINVAL;
        }
        if (block && fs) {
                *ret_why = "a block volume has no filesystem: --fs goes with mount volumes";
                return -EINVAL;
        }
        ret->spec[0] = '\0';
        cap_init(ret, mode, block, fs);
        return 0;
}

int cli_parse_size(const char *s, int64_t *ret, const char **ret_why)
{
        uint64_t v;
        int r = units_parse_size(s, &v);
        if (r == -ERANGE || (r == 0 && v > INT64_MAX)) {
                *ret_why = "size too large";
                return -ERANGE;
        }
        if (r < 0) {
                *ret_why = strpbrk(s, ".,") ? "sizes are whole numbers (e.g. 1536Mi, not 1.5Gi)"
                                            : "sizes are whole numbers with an optional unit: "
                                              "Ki, Mi, Gi, Ti (1024) or k, M, G, T (1000)";
                return -EINVAL;
        }
        *ret = (int64_t)v;
        return 0;
}
