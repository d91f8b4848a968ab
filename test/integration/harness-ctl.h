/* Controller helpers for integration tests: short calls that build the usual requests. */
#pragma once

#include <csi.pb-c.h>
#include <stdint.h>
#include <sys/stat.h>

#include "test/integration/harness.h"

#define HCTL_MIB  (1024ll * 1024)
#define HCTL_SNW  CSI__V1__VOLUME_CAPABILITY__ACCESS_MODE__MODE__SINGLE_NODE_WRITER
#define HCTL_MNRO CSI__V1__VOLUME_CAPABILITY__ACCESS_MODE__MODE__MULTI_NODE_READER_ONLY

/* Calls "/csi.v1.<service>/<method>"; returns the status. On OK and when ret is not NULL,
 * *ret receives the reply (free with protobuf_c_message_free_unpacked(*ret, NULL)). When msg
 * is not NULL it receives the status message. */
enum err_status harness_ctl_call(struct harness *h, const char *service, const char *method,
                                 const ProtobufCMessage *req,
                                 const ProtobufCMessageDescriptor *desc, void **ret, char *msg,
                                 size_t msg_size);

/* Options of a CreateVolume call. */
struct harness_ctl_vol {
        int64_t required, limit;
        const char *fs_type;      /* capability mount.fs_type, NULL: none */
        const char *provisioning; /* parameter, NULL: none */
        bool block;
        int mode;              /* 0: SINGLE_NODE_WRITER */
        const char *from_snap; /* content source */
        const char *from_vol;
};

/* CreateVolume; on OK copies the id into ret_id (>= 65 bytes) when not NULL. */
enum err_status harness_ctl_create(struct harness *h, const char *name,
                                   const struct harness_ctl_vol *o, char *ret_id);
/* The same, with the capacity on OK and the status message into msg (may be NULL). */
enum err_status harness_ctl_create_full(struct harness *h, const char *name,
                                        const struct harness_ctl_vol *o, char *ret_id,
                                        int64_t *ret_capacity, char *msg, size_t msg_size);
enum err_status harness_ctl_delete(struct harness *h, const char *id);
enum err_status harness_ctl_publish(struct harness *h, const char *id, const char *node,
                                    bool readonly, int mode);
enum err_status harness_ctl_unpublish(struct harness *h, const char *id, const char *node);
enum err_status harness_ctl_snapshot(struct harness *h, const char *name, const char *vol,
                                     char *ret_id);

/* harness_stop() with the client closed first: the daemon's shutdown does not wait for an
 * idle connection to drop. */
void harness_ctl_stop(struct harness *h);

/* "<pool>/<dir>/<id>.img" */
void harness_ctl_data(const struct harness *h, const char *dir, const char *id, char *buf,
                      size_t size);
/* stat(2) of the data file of `id`; fails the test when it is missing. */
struct stat harness_ctl_data_stat(const struct harness *h, const char *dir, const char *id);
/* Fills a file region with a pattern derived from seed / compares two files' full content. */
void harness_ctl_write_pattern(const char *path, off_t off, size_t len, unsigned seed);
bool harness_ctl_same_content(const char *a, const char *b);
