/* Mount flags from a request's capability: one fixed allow-list, never passed through. The
 * node parses them to mount; the controller checks them with the same list, so that it never
 * accepts (CreateVolume) or confirms (ValidateVolumeCapabilities) what its node would refuse. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/mount.h>

#include "common/mntcontext.h"

#define MNTFLAGS_MAX     64  /* entries of mount_flags */
#define MNTFLAGS_MAX_LEN 256 /* bytes of one entry */

/* Per-mount flags: what a bind mount can carry and what we compare on a repeated call. */
#define MNTFLAGS_BIND_MASK                                                                         \
        (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME)

struct mntflags {
        unsigned long flags;              /* MS_* for the filesystem mount */
        bool discard;                     /* "discard" filesystem option */
        char context[MNTCONTEXT_MAX + 1]; /* SELinux label of context="...", "" for none */
};

/* Parses mount_flags (each may hold several comma-separated options). Accepted: defaults,
 * ro, rw, nosuid, suid, nodev, dev, noexec, exec, noatime, atime, nodiratime, diratime,
 * relatime, norelatime, strictatime, sync, async, dirsync, lazytime, nolazytime, discard,
 * nodiscard, and kubelet's SELinux context="<user>:<role>:<type>:<level>" (common/mntcontext.h:
 * parsed whole before the split on commas; at most one label). Anything else (bind, rbind,
 * remount, move, helper=, "-o", fscontext=, unknown) is -SILO_EINVALID with the reason
 * ("mount flag 'bind' is not supported") in why. */
int mntflags_parse(const char *const *opts, size_t n, struct mntflags *ret, char *why,
                   size_t why_size);

/* True when the comma-separated option string optstr holds option name. */
bool mntflags_has(const char *optstr, const char *name);
