/* Node-service helpers for integration tests: volumes written straight into the pool, one
 * call per RPC returning the status, and checks of the kernel state under the test root. */
#pragma once

#include <check.h>
#include <csi.pb-c.h>
#include <stdbool.h>
#include <stdint.h>

#include "test/integration/harness.h"

#define HN_MIB     (1024ull * 1024)
#define HN_XFS_MIN (320 * HN_MIB) /* mkfs.xfs refuses below 300 MB */

/* Creates volume id (data file + committed metadata) of size bytes in the pool. fs_type may
 * be "" (raw block volume). */
int harness_node_volume(struct harness *h, const char *id, uint64_t size, const char *fs_type,
                        bool thick);

/* "<kubelet_dir>/<rel>" into buf. */
void harness_node_kpath(const struct harness *h, const char *rel, char *buf, size_t size);

/* A capability for requests: block, or mount with fs_type ("" = unset), flags (NULL-terminated,
 * may be NULL) and group ("" = none). mode 0 = SINGLE_NODE_WRITER. */
struct harness_node_cap {
        bool block;
        const char *fs_type;
        const char *const *flags;
        const char *group;
        int mode;
};

/* Each returns the gRPC status; the message of the last call is in harness_node_message(). */
enum err_status harness_node_stage(struct harness *h, const char *id, const char *staging,
                                   const struct harness_node_cap *cap);
enum err_status harness_node_unstage(struct harness *h, const char *id, const char *staging);
enum err_status harness_node_publish(struct harness *h, const char *id, const char *staging,
                                     const char *target, const struct harness_node_cap *cap,
                                     bool readonly);
/* NodePublishVolume without a staging path, with volume context ctx: key, value, ...,
 * NULL (at most 16 pairs; may be NULL), as kubelet publishes an inline ephemeral volume. */
enum err_status harness_node_publish_ctx(struct harness *h, const char *id, const char *target,
                                         const struct harness_node_cap *cap, bool readonly,
                                         const char *const *ctx);
enum err_status harness_node_unpublish(struct harness *h, const char *id, const char *target);
/* *ret owned by the caller (protobuf_c_message_free_unpacked) when ERR_OK. */
enum err_status harness_node_stats(struct harness *h, const char *id, const char *path,
                                   Csi__V1__NodeGetVolumeStatsResponse **ret);
enum err_status harness_node_expand(struct harness *h, const char *id, const char *path,
                                    int64_t required, bool block, int64_t *ret_capacity);
const char *harness_node_message(void);

/* Fails the test unless call returns want; the message names both statuses and the server's
 * message. */
#define ASSERT_STATUS(call, want)                                                                  \
        do {                                                                                       \
                enum err_status _st = (call);                                                      \
                ck_assert_msg(_st == (want), "%s: got %s, want %s (%s)", #call,                    \
                              err_status_name(_st), err_status_name(want),                         \
                              harness_node_message());                                             \
        } while (0)

/* Mount table and loop devices. */
bool harness_node_is_mountpoint(const char *path);
bool harness_node_mount_has_flag(const char *path, unsigned long ms_flag);
int harness_node_count_mounts(const struct harness *h);
int harness_node_count_loops(const struct harness *h);
/* The loop device node backing the volume's file into buf; false when none. */
bool harness_node_loop_of(const struct harness *h, const char *id, char *buf, size_t size);

/* Fails the test unless no mount and no loop device is left under the test root. */
void harness_node_assert_clean(const struct harness *h);

/* Test fixtures; each fails the test when a step fails. */
/* Creates "<kubelet_dir>/<rel>" into buf, and before it each parent below kubelet_dir; none of
 * them may exist yet. */
void harness_node_mkdir(const struct harness *h, const char *rel, char *buf, size_t size);
/* Starts the daemon (env may be NULL), tracks its root (see below), creates the staging
 * directory "<kubelet_dir>/<staging_rel>" into staging and "<kubelet_dir>/pods", and writes
 * the target path "<kubelet_dir>/pods/mount" (not created) into target; both buffers hold
 * size bytes. */
void harness_node_start(struct harness *h, const char *const *env, const char *staging_rel,
                        char *staging, char *target, size_t size);
/* Stages and publishes (read-write), then unpublishes and unstages plus
 * harness_node_assert_clean(), each call asserted ERR_OK. */
void harness_node_up(struct harness *h, const char *id, const char *staging, const char *target,
                     const struct harness_node_cap *cap);
void harness_node_down(struct harness *h, const char *id, const char *staging, const char *target);

/* Runs suite s in forked tests between harness_node_track_init() and
 * harness_node_release_tracked(), frees it; EXIT_SUCCESS when no test failed. */
int harness_node_run(Suite *s);

/* Cleanup after failed checks. check runs each test in a forked process that exits at once
 * on a failed assertion, before any teardown, which would leave that test's loop devices
 * behind. The runner calls harness_node_track_init() before srunner_run_all() and
 * harness_node_release_tracked() after it; each test calls harness_node_track(h) after
 * harness_start(), which records the root in memory shared with the runner. Release
 * unmounts everything below each recorded root, detaches loop devices backed by files
 * below it and removes it (nothing is left when the test passed). */
void harness_node_track_init(void);
void harness_node_track(const struct harness *h);
void harness_node_release_tracked(void);

/* Small file I/O. */
int harness_node_write_file(const char *path, const char *content);
int harness_node_read_file(const char *path, char *buf, size_t size);
/* Grows the volume's data file (what ControllerExpandVolume does). */
int harness_node_grow_file(const struct harness *h, const char *id, uint64_t size);
