/* A thin volume whose pool fills up (a foreign file takes the space it was promised) is never
 * reported healthy: the condition turns abnormal with the cause on node and controller, the
 * metrics move, a write lost to the full pool stops the filesystem (read-only), and the
 * errors stay reported after space is freed and the volume is staged again. */
/* ctest-labels: privileged */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "test/integration/harness-ctl.h"
#include "test/integration/harness-integrity.h"
#include "test/integration/harness-node.h"

static struct harness h;
static unsigned port;

static double metric(const char *name)
{
        char cmd[128], out[65536], key[96];
        snprintf(cmd, sizeof(cmd), "curl -sf http://127.0.0.1:%u/metrics", port);
        ck_assert_int_eq(hi_run(cmd, out, sizeof(out)), 0);
        snprintf(key, sizeof(key), "\n%s ", name);
        const char *p = strstr(out, key);
        ck_assert_msg(p, "metric %s missing", name);
        return strtod(p + strlen(key), NULL);
}

/* Node condition at path and controller condition; messages into the buffers. */
static void conditions(const char *id, const char *path, bool *node_bad, char *node_msg,
                       bool *ctl_bad, char *ctl_msg)
{
        Csi__V1__NodeGetVolumeStatsResponse *st = NULL;
        ASSERT_STATUS(harness_node_stats(&h, id, path, &st), ERR_OK);
        ck_assert_ptr_nonnull(st->volume_condition);
        *node_bad = st->volume_condition->abnormal;
        snprintf(node_msg, 512, "%s", st->volume_condition->message);
        protobuf_c_message_free_unpacked(&st->base, NULL);
        Csi__V1__ControllerGetVolumeRequest req = CSI__V1__CONTROLLER_GET_VOLUME_REQUEST__INIT;
        Csi__V1__ControllerGetVolumeResponse *resp = NULL;
        req.volume_id = (char *)id;
        ck_assert_int_eq(harness_ctl_call(&h, "Controller", "ControllerGetVolume", &req.base,
                                          &csi__v1__controller_get_volume_response__descriptor,
                                          (void **)&resp, NULL, 0),
                         ERR_OK);
        *ctl_bad = resp->status->volume_condition->abnormal;
        snprintf(ctl_msg, 512, "%s", resp->status->volume_condition->message);
        protobuf_c_message_free_unpacked(&resp->base, NULL);
}

/* Takes every free byte of the pool's filesystem. */
static void fill_pool(const char *path)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        ck_assert_int_ge(fd, 0);
        off_t off = 0;
        for (off_t chunk = 16 << 20; chunk >= 4096; chunk /= 2)
                while (fallocate(fd, 0, off, chunk) == 0)
                        off += chunk;
        close(fd);
}

/* Writes until the volume refuses: returns the errno that stopped it (0: never refused). */
static int write_volume(const char *dir, size_t mib)
{
        char path[600], buf[1 << 16];
        snprintf(path, sizeof(path), "%s/data", dir);
        memset(buf, 'x', sizeof(buf));
        int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
                return errno;
        int err = 0;
        for (size_t i = 0; i < mib * 16 && !err; i++)
                if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
                        err = errno;
        if (!err && fsync(fd) < 0)
                err = errno;
        close(fd);
        return err;
}

START_TEST(test_full_pool_is_reported)
{
        char id[80], staging[512], foreign[400], probe[600];
        char nmsg[512], cmsg[512];
        bool nbad, cbad;
        const char *args[] = {"--metrics-address", "127.0.0.1:0", NULL};
        ck_assert_int_eq(harness_start_on_loop_pool(&h, 96, args, NULL), 0);
        port = harness_metrics_port(&h);
        ck_assert_uint_ne(port, 0);
        harness_node_track(&h);
        struct harness_ctl_vol o = {.required = 64 * HCTL_MIB, .fs_type = "ext4"};
        struct harness_node_cap cap = {.fs_type = "ext4"};
        ck_assert_int_eq(harness_ctl_create(&h, "thin", &o, id), ERR_OK);
        harness_node_mkdir(&h, "staging", staging, sizeof(staging));
        ASSERT_STATUS(harness_node_stage(&h, id, staging, &cap), ERR_OK);
        conditions(id, staging, &nbad, nmsg, &cbad, cmsg);
        ck_assert_msg(!nbad && !cbad, "%s / %s", nmsg, cmsg);
        ck_assert(metric("silo_volumes_abnormal") == 0);

        /* Something else writes into the pool's filesystem: the promise breaks. */
        snprintf(foreign, sizeof(foreign), "%s/foreign.bin", h.pool);
        fill_pool(foreign);
        struct timespec ts = {1, 200 * 1000000L}; /* pool figures are cached for a second */
        nanosleep(&ts, NULL);
        conditions(id, staging, &nbad, nmsg, &cbad, cmsg);
        ck_assert_msg(nbad && strstr(nmsg, "may still write"), "node: %s", nmsg);
        ck_assert_msg(cbad && strstr(cmsg, "may still write"), "controller: %s", cmsg);
        ck_assert(metric("silo_volumes_abnormal") == 1);
        ck_assert(metric("silo_pool_thin_unbacked_bytes") > metric("silo_pool_available_bytes"));

        /* A write the pool cannot take stops the filesystem. */
        int err = write_volume(staging, 40);
        sync();
        snprintf(probe, sizeof(probe), "%s/after", staging);
        int fd = open(probe, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        ck_assert_msg(fd < 0 && errno == EROFS, "still writable after a lost write (write: %s)",
                      strerror(err));
        conditions(id, staging, &nbad, nmsg, &cbad, cmsg);
        ck_assert_msg(nbad && strstr(nmsg, "recorded"), "node: %s", nmsg);
        ck_assert_msg(cbad && strstr(cmsg, "recorded"), "controller: %s", cmsg);

        /* Space comes back; the volume is staged again: the loss is still reported. */
        ck_assert_int_eq(unlink(foreign), 0);
        ASSERT_STATUS(harness_node_unstage(&h, id, staging), ERR_OK);
        ASSERT_STATUS(harness_node_stage(&h, id, staging, &cap), ERR_OK);
        conditions(id, staging, &nbad, nmsg, &cbad, cmsg);
        ck_assert_msg(nbad && cbad, "healthy after a lost write: %s / %s", nmsg, cmsg);
        ck_assert_msg(strstr(nmsg, "e2fsck"), "node: %s", nmsg);
        ck_assert(harness_log_contains(&h, "e2fsck"));
        ASSERT_STATUS(harness_node_unstage(&h, id, staging), ERR_OK);
}
END_TEST

static void teardown(void)
{
        harness_stop(&h);
}

int main(void)
{
        Suite *s = suite_create("integrity-pool-full");
        TCase *tc = tcase_create("pool-full");
        tcase_add_checked_fixture(tc, NULL, teardown);
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, test_full_pool_is_reported);
        suite_add_tcase(s, tc);
        return harness_node_run(s);
}
