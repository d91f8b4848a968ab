/* Validation of staging and target paths from requests (CSI-NOTES "Hostile input"). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define PATH_CHECK_MAX 4095

/* Checks a path from a request before anything touches the filesystem:
 *   - absolute, at most PATH_CHECK_MAX bytes, no control characters, no "." or ".."
 *     component;
 *   - strictly beneath kubelet_dir;
 *   - not the pool, not inside it, not one of its ancestors;
 *   - every component that exists resolves beneath kubelet_dir without following any
 *     symlink (openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS); missing components are fine
 *     (unpublish/unstage after the directory was removed), and the existing part must not
 *     be the pool directory itself (a bind mount of it).
 * On success *ret is a normalised copy (repeated and trailing slashes removed), owned by the
 * caller. Every refusal is -SILO_EINVALID with the reason in why (may be NULL). */
int path_check(const char *path, const char *kubelet_dir, const char *pool, char *why,
               size_t why_size, char **ret);

/* path_check without the filesystem: the text checks only, for a caller that opens the path
 * itself beneath the kubelet dir without symlinks and checks what it opened against the pool
 * (node/place.c). */
int path_check_name(const char *path, const char *kubelet_dir, const char *pool, char *why,
                    size_t why_size, char **ret);

/* Normalises an absolute path: collapses repeated slashes, drops a trailing one. -EINVAL for
 * relative or empty paths; -ENAMETOOLONG above PATH_CHECK_MAX. */
int path_normalise(const char *path, char **ret);

/* True when path equals dir or lies beneath it (both normalised). */
bool path_is_within(const char *path, const char *dir);
