#include "common/mntflags.h"

#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/cleanup.h"

#ifndef MS_LAZYTIME
#define MS_LAZYTIME (1 << 25)
#endif

struct mntflags_entry {
        const char *name;
        unsigned long set;
        unsigned long clear;
};

static const struct mntflags_entry mntflags_table[] = {
    {"defaults", 0, 0},
    {"ro", MS_RDONLY, 0},
    {"rw", 0, MS_RDONLY},
    {"nosuid", MS_NOSUID, 0},
    {"suid", 0, MS_NOSUID},
    {"nodev", MS_NODEV, 0},
    {"dev", 0, MS_NODEV},
    {"noexec", MS_NOEXEC, 0},
    {"exec", 0, MS_NOEXEC},
    {"noatime", MS_NOATIME, MS_RELATIME | MS_STRICTATIME},
    {"atime", 0, MS_NOATIME},
    {"nodiratime", MS_NODIRATIME, 0},
    {"diratime", 0, MS_NODIRATIME},
    {"relatime", MS_RELATIME, MS_NOATIME | MS_STRICTATIME},
    {"norelatime", 0, MS_RELATIME},
    {"strictatime", MS_STRICTATIME, MS_NOATIME | MS_RELATIME},
    {"sync", MS_SYNCHRONOUS, 0},
    {"async", 0, MS_SYNCHRONOUS},
    {"dirsync", MS_DIRSYNC, 0},
    {"lazytime", MS_LAZYTIME, 0},
    {"nolazytime", 0, MS_LAZYTIME},
};

static int mntflags_apply(const char *name, size_t len, struct mntflags *o, char *why,
                          size_t why_size)
{
        if (len == 0)
                return 0;
        if (len == strlen("discard") && strncmp(name, "discard", len) == 0) {
                o->discard = true;
                return 0;
        }
        if (len == strlen("nodiscard") && strncmp(name, "nodiscard", len) == 0) {
                o->discard = false;
                return 0;
        }
        for (size_t i = 0; i < ARRAY_SIZE(mntflags_table); i++) {
                const struct mntflags_entry *e = &mntflags_table[i];

                if (strlen(e->name) == len && strncmp(e->name, name, len) == 0) {
                        o->flags = (o->flags & ~e->clear) | e->set;
                        return 0;
                }
        }
        snprintf(why, why_size, "mount flag '%.*s' is not supported", (int)(len < 64 ? len : 64),
                 name);
        return -SILO_EINVALID;
}

/* context="<label>" at s: sets o->context; *ret_len is the option's length. */
static int mntflags_context(const char *s, struct mntflags *o, size_t *ret_len, char *why,
                            size_t why_size)
{
        char label[MNTCONTEXT_MAX + 1];
        int r = mntcontext_parse(s, label, ret_len, why, why_size);

        if (r < 0)
                return r;
        if (o->context[0] && strcmp(o->context, label) != 0) {
                snprintf(why, why_size, "mount flag context= is given twice, with other labels");
                return -SILO_EINVALID;
        }
        memcpy(o->context, label, sizeof(label));
        return 0;
}

static bool mntflags_is_clean(const char *s)
{
        for (; *s; s++)
                if ((unsigned char)*s < 0x21 || *s == 0x7f)
                        return false;
        return true;
}

int mntflags_parse(const char *const *opts, size_t n, struct mntflags *ret, char *why,
                   size_t why_size)
{
        struct mntflags o = {0};
        int r;

        if (n > MNTFLAGS_MAX) {
                snprintf(why, why_size, "more than %d mount flags", MNTFLAGS_MAX);
                return -SILO_EINVALID;
        }
        for (size_t i = 0; i < n; i++) {
                const char *s = opts[i] ? opts[i] : "";

                if (strlen(s) > MNTFLAGS_MAX_LEN || !mntflags_is_clean(s)) {
                        snprintf(why, why_size,
                                 "mount flag #%zu is malformed (spaces, control characters or "
                                 "over %d bytes)",
                                 i, MNTFLAGS_MAX_LEN);
                        return -SILO_EINVALID;
                }
                for (const char *c = s;; c++) {
                        size_t len = 0;

                        if (c == s && mntcontext_is(s)) { /* its label holds commas */
                                r = mntflags_context(s, &o, &len, why, why_size);
                                c = s + (r < 0 ? 0 : len);
                        } else if (*c != ',' && *c != '\0') {
                                continue;
                        } else {
                                r = mntflags_apply(s, (size_t)(c - s), &o, why, why_size);
                        }
                        if (r < 0)
                                return r;
                        if (*c == '\0')
                                break;
                        s = c + 1;
                }
        }
        *ret = o;
        return 0;
}

bool mntflags_has(const char *optstr, const char *name)
{
        size_t len = strlen(name);

        for (const char *s = optstr; s && *s;) {
                const char *end = strchr(s, ',');
                size_t n = end ? (size_t)(end - s) : strlen(s);

                if (n == len && strncmp(s, name, len) == 0)
                        return true;
                s = end ? end + 1 : NULL;
        }
        return false;
}
