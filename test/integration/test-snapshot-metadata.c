/* ctest-labels: privileged */
/* SnapshotMetadata on the real binary: allocated ranges and deltas are exactly what was
 * written, on a plain ext4 pool, on a reflink (XFS) pool and on a tmpfs (no FIEMAP); streams
 * resume, page, cancel and refuse bad requests. Privileged: the reflink pool is a loop-mounted XFS.
 */
#include <check.h>
#include <csi.pb-c.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test/integration/harness-ctl.h"
#include "common/cleanup.h"

#define MIB   HCTL_MIB
#define KIB   1024ll
#define RMAX  64
#define VOLSZ (64 * MIB)

static struct harness h;

static void stop(void)
{
        harness_ctl_stop(&h);
}

struct range {
        int64_t off, len;
};

struct stream {
        struct range r[RMAX];
        size_t n, msgs, per_msg_max;
        int64_t capacity;
        int stop_after; /* cancel after this many messages; 0: never */
        bool bad;       /* a message broke the format rules */
};

static int on_message(void *ctx, const ProtobufCMessage *msg)
{
        struct stream *s = ctx;
        /* Both response types share their layout; read through the delta one. */
        const Csi__V1__GetMetadataDeltaResponse *m = (const void *)msg;
        if (m->block_metadata_type != CSI__V1__BLOCK_METADATA_TYPE__VARIABLE_LENGTH ||
            (s->msgs && m->volume_capacity_bytes != s->capacity) || m->n_block_metadata == 0)
                s->bad = true;
        s->capacity = m->volume_capacity_bytes;
        if (m->n_block_metadata > s->per_msg_max)
                s->per_msg_max = m->n_block_metadata;
        for (size_t i = 0; i < m->n_block_metadata && s->n < RMAX; i++) {
                struct range r = {m->block_metadata[i]->byte_offset,
                                  m->block_metadata[i]->size_bytes};
                if (s->n && r.off < s->r[s->n - 1].off + s->r[s->n - 1].len)
                        s->bad = true; /* out of order or overlapping */
                s->r[s->n++] = r;
        }
        s->msgs++;
        return s->stop_after && (int)s->msgs >= s->stop_after ? -ECANCELED : 0;
}

/* Merges adjacent ranges so that comparisons do not depend on how messages were cut. */
static void coalesce(struct stream *s)
{
        size_t w = 0;
        for (size_t i = 0; i < s->n; i++) {
                if (w && s->r[w - 1].off + s->r[w - 1].len == s->r[i].off)
                        s->r[w - 1].len += s->r[i].len;
                else
                        s->r[w++] = s->r[i];
        }
        s->n = w;
}

static enum err_status allocated(const char *snap, int64_t start, int32_t max, struct stream *s)
{
        Csi__V1__GetMetadataAllocatedRequest req = CSI__V1__GET_METADATA_ALLOCATED_REQUEST__INIT;
        req.snapshot_id = (char *)snap;
        req.starting_offset = start;
        req.max_results = max;
        struct client_result res;
        int r = client_call_stream(h.client, "/csi.v1.SnapshotMetadata/GetMetadataAllocated",
                                   &req.base, &csi__v1__get_metadata_allocated_response__descriptor,
                                   30000, on_message, s, &res);
        ck_assert_int_ge(r == -ECANCELED ? 0 : r, 0);
        enum err_status st = res.status;
        client_result_release(&res);
        ck_assert(!s->bad);
        return st;
}

static enum err_status delta(const char *base, const char *target, int64_t start, int32_t max,
                             struct stream *s)
{
        Csi__V1__GetMetadataDeltaRequest req = CSI__V1__GET_METADATA_DELTA_REQUEST__INIT;
        req.base_snapshot_id = (char *)base;
        req.target_snapshot_id = (char *)target;
        req.starting_offset = start;
        req.max_results = max;
        struct client_result res;
        int r = client_call_stream(h.client, "/csi.v1.SnapshotMetadata/GetMetadataDelta", &req.base,
                                   &csi__v1__get_metadata_delta_response__descriptor, 30000,
                                   on_message, s, &res);
        ck_assert_int_ge(r == -ECANCELED ? 0 : r, 0);
        enum err_status st = res.status;
        client_result_release(&res);
        ck_assert(!s->bad);
        return st;
}

static void write_at(const char *vol, int64_t off, int64_t len, unsigned seed)
{
        char path[512];
        harness_ctl_data(&h, "volumes", vol, path, sizeof(path));
        harness_ctl_write_pattern(path, off, (size_t)len, seed);
}

static void expect(struct stream *s, const struct range *want, size_t n)
{
        coalesce(s);
        for (size_t i = 0; i < s->n; i++)
                fprintf(stderr, "  got [%lld, +%lld)\n", (long long)s->r[i].off,
                        (long long)s->r[i].len);
        ck_assert_uint_eq(s->n, n);
        for (size_t i = 0; i < n; i++) {
                ck_assert_int_eq(s->r[i].off, want[i].off);
                ck_assert_int_eq(s->r[i].len, want[i].len);
        }
}

/* First write set, and what the second adds (incl. an overwrite of a first-set block). */
static const struct range first[] = {{0, 8 * KIB}, {MIB + 4 * KIB, 4 * KIB}, {10 * MIB, 64 * KIB}};
static const struct range second[] = {
    {4 * KIB, 4 * KIB}, {5 * MIB, 4 * KIB}, {20 * MIB + 8 * KIB, 12 * KIB}, {63 * MIB, 4 * KIB}};
/* Allocated in the second snapshot: the union, merged. */
static const struct range both[] = {
    {0, 8 * KIB},         {MIB + 4 * KIB, 4 * KIB},       {5 * MIB, 4 * KIB},
    {10 * MIB, 64 * KIB}, {20 * MIB + 8 * KIB, 12 * KIB}, {63 * MIB, 4 * KIB}};

/* Two snapshots of one volume around the second write set. */
static void two_snapshots(char *vol, char *s1, char *s2)
{
        struct harness_ctl_vol o = {.required = VOLSZ, .block = true};
        ck_assert_int_eq(harness_ctl_create(&h, "cbt", &o, vol), ERR_OK);
        for (size_t i = 0; i < 3; i++)
                write_at(vol, first[i].off, first[i].len, 1 + (unsigned)i);
        ck_assert_int_eq(harness_ctl_snapshot(&h, "cbt-1", vol, s1), ERR_OK);
        for (size_t i = 0; i < 4; i++)
                write_at(vol, second[i].off, second[i].len, 10 + (unsigned)i);
        ck_assert_int_eq(harness_ctl_snapshot(&h, "cbt-2", vol, s2), ERR_OK);
}

static void check_ranges(void)
{
        char vol[65], s1[65], s2[65];
        two_snapshots(vol, s1, s2);

        struct stream a = {0};
        ck_assert_int_eq(allocated(s1, 0, 0, &a), ERR_OK);
        ck_assert_int_eq(a.capacity, VOLSZ);
        /* {0,8K} written first; the second set's 4K overwrite at 4K is inside it. */
        expect(&a, first, 3);

        struct stream b = {0};
        ck_assert_int_eq(allocated(s2, 0, 0, &b), ERR_OK);
        expect(&b, both, 6);

        struct stream d = {0};
        ck_assert_int_eq(delta(s1, s2, 0, 0, &d), ERR_OK);
        ck_assert_int_eq(d.capacity, VOLSZ);
        expect(&d, second, 4);

        /* Paced: one range per message. */
        struct stream p = {0};
        ck_assert_int_eq(allocated(s2, 0, 1, &p), ERR_OK);
        ck_assert_uint_eq(p.per_msg_max, 1);
        ck_assert_uint_ge(p.msgs, 6);

        /* Resumed from the middle of a range: continues exactly there. */
        struct stream r = {0};
        ck_assert_int_eq(allocated(s2, 10 * MIB + 16 * KIB, 0, &r), ERR_OK);
        const struct range tail[] = {
            {10 * MIB + 16 * KIB, 48 * KIB}, {20 * MIB + 8 * KIB, 12 * KIB}, {63 * MIB, 4 * KIB}};
        expect(&r, tail, 3);
        struct stream rd = {0};
        ck_assert_int_eq(delta(s1, s2, 6 * MIB, 0, &rd), ERR_OK);
        expect(&rd, &second[2], 2);

        /* The same snapshot on both sides: nothing changed. */
        struct stream same = {0};
        ck_assert_int_eq(delta(s2, s2, 0, 0, &same), ERR_OK);
        ck_assert_uint_eq(same.n, 0);
}

START_TEST(ranges_on_plain_pool)
{
        ck_assert_int_eq(harness_start(&h, NULL, NULL), 0);
        check_ranges();
}
END_TEST

START_TEST(ranges_on_reflink_pool)
{
        /* Restart the driver on a loop-mounted XFS with reflink over the same pool path. */
        ck_assert_int_eq(harness_start(&h, NULL, NULL), 0);
        client_free(h.client);
        h.client = NULL;
        ck_assert_int_eq(harness_terminate(&h), 0);
        char img[512], cmd[2048];
        harness_path(&h, "xfs.img", img, sizeof(img));
        int fd = open(img, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(ftruncate(fd, 512 * MIB), 0);
        close(fd);
        snprintf(cmd, sizeof(cmd), "mkfs.xfs -q -m reflink=1 '%s' && mount -o loop '%s' '%s'", img,
                 img, h.pool);
        ck_assert_int_eq(system(cmd), 0);
        const char *args[] = {"-v", NULL};
        ck_assert_int_eq(client_new(h.endpoint, &h.client), 0);
        ck_assert_int_eq(harness_restart(&h, args, NULL), 0);
        check_ranges();
        /* On a reflink pool the delta came from the block maps alone. */
        ck_assert(harness_log_contains(&h, "compared_bytes=0"));
}
END_TEST

/* A pool filesystem without FIEMAP (tmpfs): the delta compares the data instead. */
START_TEST(ranges_on_pool_without_block_maps)
{
        ck_assert_int_eq(harness_start(&h, NULL, NULL), 0);
        client_free(h.client);
        h.client = NULL;
        ck_assert_int_eq(harness_terminate(&h), 0);
        ck_assert_int_eq(mount("silo-test", h.pool, "tmpfs", MS_NOSUID | MS_NODEV, "size=512m"), 0);
        ck_assert_int_eq(client_new(h.endpoint, &h.client), 0);
        ck_assert_int_eq(harness_restart(&h, NULL, NULL), 0);
        check_ranges();
}
END_TEST

START_TEST(refusals)
{
        ck_assert_int_eq(harness_start(&h, NULL, NULL), 0);
        char vol[65], other[65], s1[65], s2[65], s3[65];
        two_snapshots(vol, s1, s2);
        struct harness_ctl_vol o = {.required = 8 * MIB, .block = true};
        ck_assert_int_eq(harness_ctl_create(&h, "other", &o, other), ERR_OK);
        ck_assert_int_eq(harness_ctl_snapshot(&h, "other-1", other, s3), ERR_OK);
        struct stream s = {0};
        ck_assert_int_eq(allocated("snap-0000000000000000", 0, 0, &s), ERR_NOT_FOUND);
        ck_assert_int_eq(allocated("../volumes/x", 0, 0, &s), ERR_NOT_FOUND);
        ck_assert_int_eq(allocated("", 0, 0, &s), ERR_INVALID_ARGUMENT);
        ck_assert_int_eq(allocated(s1, -1, 0, &s), ERR_INVALID_ARGUMENT);
        ck_assert_int_eq(allocated(s1, 0, -5, &s), ERR_INVALID_ARGUMENT);
        /* The spec: a starting offset at or past the size is OUT_OF_RANGE. */
        ck_assert_int_eq(allocated(s1, VOLSZ, 0, &s), ERR_OUT_OF_RANGE);
        ck_assert_int_eq(delta(s1, s2, VOLSZ + 1, 0, &s), ERR_OUT_OF_RANGE);
        ck_assert_int_eq(delta(s1, s3, 0, 0, &s), ERR_INVALID_ARGUMENT);
        ck_assert_int_eq(delta(s1, "snap-0000000000000000", 0, 0, &s), ERR_NOT_FOUND);
        ck_assert_int_eq(delta("", s2, 0, 0, &s), ERR_INVALID_ARGUMENT);
        ck_assert_uint_eq(s.n, 0);

        /* The plugin says it serves the service. */
        Csi__V1__GetPluginCapabilitiesRequest creq = CSI__V1__GET_PLUGIN_CAPABILITIES_REQUEST__INIT;
        Csi__V1__GetPluginCapabilitiesResponse *caps = NULL;
        ck_assert_int_eq(harness_ctl_call(&h, "Identity", "GetPluginCapabilities", &creq.base,
                                          &csi__v1__get_plugin_capabilities_response__descriptor,
                                          (void **)&caps, NULL, 0),
                         ERR_OK);
        bool found = false;
        for (size_t i = 0; i < caps->n_capabilities; i++)
                found |= caps->capabilities[i]->service &&
                         caps->capabilities[i]->service->type ==
                             CSI__V1__PLUGIN_CAPABILITY__SERVICE__TYPE__SNAPSHOT_METADATA_SERVICE;
        protobuf_c_message_free_unpacked(&caps->base, NULL);
        ck_assert(found);
}
END_TEST

START_TEST(cancel_mid_stream_frees_the_snapshot)
{
        ck_assert_int_eq(harness_start(&h, NULL, NULL), 0);
        char vol[65], s1[65], s2[65];
        two_snapshots(vol, s1, s2);
        struct stream s = {.stop_after = 1};
        allocated(s2, 0, 1, &s);
        ck_assert_uint_eq(s.msgs, 1);
        /* The stream's lock goes with it: the snapshot can be deleted, the driver serves. */
        Csi__V1__DeleteSnapshotRequest del = CSI__V1__DELETE_SNAPSHOT_REQUEST__INIT;
        del.snapshot_id = s2;
        enum err_status st = ERR_ABORTED;
        for (int i = 0; i < 1200 && st == ERR_ABORTED; i++) { /* 60 s */
                st =
                    harness_ctl_call(&h, "Controller", "DeleteSnapshot", &del.base,
                                     &csi__v1__delete_snapshot_response__descriptor, NULL, NULL, 0);
                if (st == ERR_ABORTED)
                        usleep(50 * 1000);
        }
        ck_assert_int_eq(st, ERR_OK);
        struct stream again = {0};
        ck_assert_int_eq(allocated(s1, 0, 0, &again), ERR_OK);
        ck_assert_uint_eq(again.n, 3);
}
END_TEST

/* A reader that stalls: after the first message it reads nothing until the driver has given
 * up on it (its log says so). */
struct stall {
        size_t msgs;
        enum err_status delete_meanwhile;
        const char *snapshot;
};

static int on_stalling_message(void *ctx, const ProtobufCMessage *msg)
{
        (void)msg;
        struct stall *s = ctx;
        if (s->msgs++ > 0)
                return 0;
        /* The line is written once the handler has returned: the stream's lock is free.
         * Another connection, since this one's window is the stalled one's too. */
        ck_assert(harness_wait_log(&h, "read no message for 1000 ms", 1));
        struct client *other = NULL;
        ck_assert_int_eq(client_new(h.endpoint, &other), 0);
        Csi__V1__DeleteSnapshotRequest del = CSI__V1__DELETE_SNAPSHOT_REQUEST__INIT;
        del.snapshot_id = (char *)s->snapshot;
        /* The delete may outlast the 1 s budget on a loaded machine (DEADLINE_EXCEEDED, it
         * goes on in the background, and a retry is ABORTED until it is done): retried for a
         * minute (its directory fsync took over 12 s once on a machine busy with I/O). */
        s->delete_meanwhile = ERR_ABORTED;
        for (int i = 0; i < 300 && (s->delete_meanwhile == ERR_ABORTED ||
                                    s->delete_meanwhile == ERR_DEADLINE_EXCEEDED);
             i++) {
                struct client_result res;
                ck_assert_int_eq(client_call(other, "/csi.v1.Controller/DeleteSnapshot", &del.base,
                                             &csi__v1__delete_snapshot_response__descriptor, 10000,
                                             &res),
                                 0);
                s->delete_meanwhile = res.status;
                client_result_release(&res);
                if (s->delete_meanwhile != ERR_OK)
                        usleep(200 * 1000);
        }
        client_free(other);
        return 0;
}

START_TEST(stalled_reader_is_cut_off)
{
        /* Thousands of one-range messages: more than the HTTP/2 window holds unread. */
        const char *args[] = {"--timeout", "1s", NULL};
        ck_assert_int_eq(harness_start(&h, args, NULL), 0);
        char vol[65], snap[65];
        struct harness_ctl_vol o = {.required = VOLSZ, .block = true};
        /* The 1 s --timeout is for the stream: setup calls may outlast it on a loaded
         * machine. */
        ck_assert_int_eq(HARNESS_RETRY_SLOW(harness_ctl_create(&h, "stall", &o, vol)), ERR_OK);
        char path[512];
        harness_ctl_data(&h, "volumes", vol, path, sizeof(path));
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        char block[4096];
        memset(block, 0x33, sizeof(block));
        for (int64_t off = 0; off < VOLSZ; off += 8 * KIB)
                ck_assert_int_eq(pwrite(fd, block, sizeof(block), off), sizeof(block));
        close(fd);
        ck_assert_int_eq(HARNESS_RETRY_SLOW(harness_ctl_snapshot(&h, "stall-1", vol, snap)),
                         ERR_OK);

        Csi__V1__GetMetadataAllocatedRequest req = CSI__V1__GET_METADATA_ALLOCATED_REQUEST__INIT;
        req.snapshot_id = snap;
        req.max_results = 1;
        struct stall st = {.snapshot = snap};
        struct client_result res;
        ck_assert_int_eq(
            client_call_stream(h.client, "/csi.v1.SnapshotMetadata/GetMetadataAllocated", &req.base,
                               &csi__v1__get_metadata_allocated_response__descriptor, 30000,
                               on_stalling_message, &st, &res),
            0);
        ck_assert_int_eq(res.status, ERR_DEADLINE_EXCEEDED);
        ck_assert_int_lt(st.msgs, VOLSZ / (8 * KIB));
        ck_assert_int_eq(st.delete_meanwhile, ERR_OK);
        client_result_release(&res);
        ck_assert(harness_log_contains(&h, "read no message for 1000 ms"));
}
END_TEST

START_TEST(siloctl_prints_ranges)
{
        ck_assert_int_eq(harness_start(&h, NULL, NULL), 0);
        char vol[65], s1[65], s2[65], args[256], out[4096];
        two_snapshots(vol, s1, s2);
        snprintf(args, sizeof(args), "snapshot allocated %s", s1);
        ck_assert_int_eq(harness_siloctl(h.endpoint, args, out, sizeof(out)), 0);
        ck_assert_str_eq(out, "0 8192\n1052672 4096\n10485760 65536\n");
        snprintf(args, sizeof(args), "-o json snapshot delta --from 6291456 --max 1 %s %s", s1, s2);
        ck_assert_int_eq(harness_siloctl(h.endpoint, args, out, sizeof(out)), 0);
        ck_assert_str_eq(out, "{\"blockMetadataType\":\"VARIABLE_LENGTH\",\"volumeCapacityBytes\":"
                              "\"67108864\",\"blockMetadata\":[{\"byteOffset\":\"20979712\","
                              "\"sizeBytes\":\"12288\"},{\"byteOffset\":\"66060288\","
                              "\"sizeBytes\":\"4096\"}]}\n");
        snprintf(args, sizeof(args), "snapshot allocated --from 1.5Mi %s", s1);
        ck_assert_int_eq(harness_siloctl(h.endpoint, args, out, sizeof(out)), 64); /* usage error */
        ck_assert_int_eq(harness_siloctl(h.endpoint, "snapshot allocated snap-0000000000000000",
                                         out, sizeof(out)),
                         5); /* NOT_FOUND */
        ck_assert_ptr_nonnull(strstr(out, "NOT_FOUND"));
}
END_TEST

int main(void)
{
        Suite *s = suite_create("snapshot-metadata");
        TCase *tc = tcase_create("snapshot-metadata");
        tcase_add_checked_fixture(tc, NULL, stop);
        tcase_set_timeout(tc, 300);
        tcase_add_test(tc, ranges_on_plain_pool);
        tcase_add_test(tc, ranges_on_reflink_pool);
        tcase_add_test(tc, ranges_on_pool_without_block_maps);
        tcase_add_test(tc, refusals);
        tcase_add_test(tc, cancel_mid_stream_frees_the_snapshot);
        tcase_add_test(tc, siloctl_prints_ranges);
        tcase_add_test(tc, stalled_reader_is_cut_off);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
