/* Mount options from a request's capability: a fixed allow-list, never passed through. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/mount.h>

#define MNTOPT_MAX_FLAGS 64
#define MNTOPT_MAX_LEN   256

/* Per-mount flags: what a bind mount can carry and what we compare on a repeated call. */
#define MNTOPT_BIND_MASK (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME)

struct mntopt {
        unsigned long flags; /* MS_* for the filesystem mount */
        bool discard;        /* "discard" filesystem option */
};

/* Parses mount_flags (each may hold several comma-separated options). Accepted: defaults,
 * ro, rw, nosuid, suid, nodev, dev, noexec, exec, noatime, atime, nodiratime, diratime,
 * relatime, norelatime, strictatime, sync, async, dirsync, lazytime, nolazytime, discard,
 * nodiscard. Anything else (bind, rbind, remount, move, unknown) is -SILO_EINVALID with the
 * reason in node_why(). */
int mntopt_parse(const char *const *opts, size_t n, struct mntopt *ret);

/* True when the comma-separated option string optstr holds option name. */
bool mntopt_has(const char *optstr, const char *name);
