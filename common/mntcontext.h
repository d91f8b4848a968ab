/* The SELinux context= mount option that kubelet adds to mount_flags when the CSIDriver says
 * seLinuxMount: true: context="<user>:<role>:<type>:<level>", for example
 * context="system_u:object_r:container_file_t:s0:c1,c2". The level's category set holds
 * commas inside the quotes, so the option is parsed here, on its own and strictly, before
 * anything splits mount flags on commas. No other form is accepted: the quotes are required,
 * user, role and type are [a-z0-9_]+, the level is an MLS range (s0, s0:c1,c2, s0-s0:c0.c1023)
 * and nothing but ',' or the end may follow the closing quote. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define MNTCONTEXT_MAX 200 /* bytes of a label, without the quotes */

/* True when the option at s starts with "context=" (then mntcontext_parse decides). */
bool mntcontext_is(const char *s);

/* Parses the option `context="<label>"` at the start of s, which must be followed by ',' or
 * the end of s. Writes the label without its quotes into ret_label (MNTCONTEXT_MAX + 1 bytes)
 * and the bytes of s the option takes into ret_len. -SILO_EINVALID with the reason in why
 * (may be NULL) otherwise; nothing written then. */
int mntcontext_parse(const char *s, char *ret_label, size_t *ret_len, char *why, size_t why_size);

/* Checks a label of len bytes (no quotes) against the grammar above: 0 or -SILO_EINVALID with
 * the reason in why (may be NULL). */
int mntcontext_check_label(const char *label, size_t len, char *why, size_t why_size);

/* The context a mounted filesystem carries, from its superblock options as
 * /proc/self/mountinfo shows them: "rw,context=<label>" or, when the label holds a comma,
 * "rw,context=\"<label>\"". 1 with the label in ret_label (MNTCONTEXT_MAX + 1 bytes), 0 when
 * there is none, -EINVAL when it does not read as a label. */
int mntcontext_of_options(const char *optstr, char *ret_label);

/* True when a mount with superblock options optstr (as above) carries exactly label, or no
 * context at all when label is "". A bind mount carries its superblock's context. */
bool mntcontext_options_match(const char *optstr, const char *label);
