/* Attach decisions on disk, on the real binary: a kill -9 between the in-place slot write and
 * its flush leaves the volume published or not, never damaged, and keeps every decision that
 * was answered OK; a .meta from before the slots is read and gets them at its first publish;
 * a torn slot leaves the previous decision. */
#include <check.h>
#include <csi.pb-c.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "test/integration/harness-ctl.h"
#include "common/store/store.h"
#include "common/cleanup.h"

static struct harness h;

static void teardown(void)
{
        harness_ctl_stop(&h);
}

/* Nodes ControllerGetVolume reports for id (it reads the .meta on every call). */
static size_t published_nodes(const char *id)
{
        Csi__V1__ControllerGetVolumeRequest req = CSI__V1__CONTROLLER_GET_VOLUME_REQUEST__INIT;
        req.volume_id = (char *)id;
        Csi__V1__ControllerGetVolumeResponse *resp = NULL;
        ck_assert_int_eq(harness_ctl_call(&h, "Controller", "ControllerGetVolume", &req.base,
                                          &csi__v1__controller_get_volume_response__descriptor,
                                          (void **)&resp, NULL, 0),
                         ERR_OK);
        size_t n = resp->status->n_published_node_ids;
        protobuf_c_message_free_unpacked(&resp->base, NULL);
        return n;
}

static void meta_path(const char *id, char *buf, size_t size)
{
        snprintf(buf, size, "%s/volumes/%s.meta", h.pool, id);
}

static ino_t meta_inode(const char *id)
{
        char path[600];
        struct stat st;
        meta_path(id, path, sizeof(path));
        ck_assert_int_eq(stat(path, &st), 0);
        return st.st_ino;
}

struct bg_publish {
        const char *id;
        enum err_status st;
};

static void *bg_publish_run(void *arg)
{
        struct bg_publish *b = arg;
        b->st = harness_ctl_publish(&h, b->id, "test-node", false, 0);
        return NULL;
}

START_TEST(kill_between_slot_write_and_flush)
{
        /* The first in-place attach write stops before its fdatasync. */
        const char *env[] = {"SILO_TEST_DELAY=AttachWritten:60000:1", NULL};
        ck_assert_int_eq(harness_start(&h, NULL, env), 0);
        char a[65], b[65];
        ck_assert_int_eq(harness_ctl_create(&h, "pvc-a", NULL, a), ERR_OK);
        ck_assert_int_eq(harness_ctl_create(&h, "pvc-b", NULL, b), ERR_OK);
        ino_t ino = meta_inode(a);
        struct bg_publish bg = {.id = a};
        pthread_t t;
        ck_assert_int_eq(pthread_create(&t, NULL, bg_publish_run, &bg), 0);
        /* Once the hook says the publish is held (a retry sent before could win the lock and
         * be held itself), a retry is refused. */
        ck_assert(harness_wait_log(&h, "point=AttachWritten", 1));
        ck_assert_int_eq(harness_ctl_publish(&h, a, "test-node", false, 0), ERR_ABORTED);
        /* Decisions answered OK meanwhile must survive the crash. */
        ck_assert_int_eq(harness_ctl_publish(&h, b, "test-node", false, 0), ERR_OK);
        harness_kill9(&h);
        pthread_join(t, NULL);
        ck_assert_int_ne(bg.st, ERR_OK);
        ck_assert_int_eq(harness_restart(&h, NULL, NULL), 0);
        ck_assert_uint_eq(published_nodes(b), 1);
        size_t n = published_nodes(a); /* either outcome, never an error */
        ck_assert_uint_le(n, 1);
        struct store_volume v;
        ck_assert_int_eq(store_volume_load(h.pool, a, &v), 0);
        ck_assert_uint_eq(v.n_published, n);
        store_volume_release(&v);
        /* The CO's retry, then the normal life goes on in place. */
        ck_assert_int_eq(harness_ctl_publish(&h, a, "test-node", false, 0), ERR_OK);
        ck_assert_uint_eq(published_nodes(a), 1);
        ck_assert_int_eq(harness_ctl_unpublish(&h, a, "test-node"), ERR_OK);
        ck_assert_int_eq(harness_ctl_unpublish(&h, b, "test-node"), ERR_OK);
        ck_assert_uint_eq(published_nodes(a), 0);
        ck_assert_uint_eq(published_nodes(b), 0);
        ck_assert_uint_eq(meta_inode(a), ino); /* never rewritten whole */
        ck_assert_int_eq(harness_ctl_delete(&h, a), ERR_OK);
        ck_assert_int_eq(harness_ctl_delete(&h, b), ERR_OK);
}
END_TEST

/* Writes id's .meta as silo did before the slots: text only, records as publish= lines. */
static void write_old_layout(const char *id)
{
        struct store_volume v;
        ck_assert_int_eq(store_volume_load(h.pool, id, &v), 0);
        char path[600];
        meta_path(id, path, sizeof(path));
        FILE *f = fopen(path, "we");
        ck_assert_ptr_nonnull(f);
        fprintf(f,
                "version=1\nid=%s\nname=%s\ncapacity=%" PRIu64 "\nfs_type=%s\n"
                "provisioning=thin\nsource_kind=none\nsource_id=\nnode=%s\ncaps=%u\n"
                "created_ns=%" PRIu64 "\npublish=test-node 0 0 1\n",
                v.id, v.name, v.capacity_bytes, v.fs_type, v.node_id, v.caps, v.created_ns);
        ck_assert_int_eq(fclose(f), 0);
        store_volume_release(&v);
}

static void flip_byte(const char *id, off_t off)
{
        char path[600];
        meta_path(id, path, sizeof(path));
        int fd = open(path, O_RDWR | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        unsigned char c = 0;
        ck_assert_int_eq(pread(fd, &c, 1, off), 1);
        c ^= 0x01;
        ck_assert_int_eq(pwrite(fd, &c, 1, off), 1);
        close(fd);
}

START_TEST(old_layout_upgrade_and_torn_slot)
{
        ck_assert_int_eq(harness_start(&h, NULL, NULL), 0);
        char id[65];
        ck_assert_int_eq(harness_ctl_create(&h, "pvc-old", NULL, id), ERR_OK);
        ck_assert_int_eq(harness_terminate(&h), 0);
        write_old_layout(id);
        ck_assert_int_eq(harness_restart(&h, NULL, NULL), 0);
        ck_assert_uint_eq(published_nodes(id), 1);
        /* Idempotent on the old record; then the first change writes the file whole, with
         * slots. */
        ck_assert_int_eq(harness_ctl_publish(&h, id, "test-node", false, 0), ERR_OK);
        ck_assert_int_eq(harness_ctl_unpublish(&h, id, "test-node"), ERR_OK);
        ck_assert_uint_eq(published_nodes(id), 0);
        struct store_volume v;
        ck_assert_int_eq(store_volume_load(h.pool, id, &v), 0);
        ck_assert_uint_ne(v.attach_size, 0);
        store_volume_release(&v);
        ino_t ino = meta_inode(id);
        ck_assert_int_eq(harness_ctl_publish(&h, id, "test-node", false, 0), ERR_OK);
        ck_assert_uint_eq(meta_inode(id), ino); /* in place from now on */
        ck_assert_uint_eq(published_nodes(id), 1);
        /* The slot holding the publish torn on disk: the unpublished state before it stands. */
        ck_assert_int_eq(store_volume_load(h.pool, id, &v), 0);
        off_t slot = 4096 + (off_t)v.attach_slot * (off_t)v.attach_size;
        store_volume_release(&v);
        flip_byte(id, slot + 40);
        ck_assert_uint_eq(published_nodes(id), 0);
        ck_assert_int_eq(harness_ctl_publish(&h, id, "test-node", false, 0), ERR_OK);
        ck_assert_uint_eq(published_nodes(id), 1);
        ck_assert_int_eq(harness_ctl_unpublish(&h, id, "test-node"), ERR_OK);
        ck_assert_int_eq(harness_ctl_delete(&h, id), ERR_OK);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("controller-attach-durability");
        TCase *tc = tcase_create("durability");
        tcase_add_checked_fixture(tc, NULL, teardown);
        tcase_set_timeout(tc, 300);
        tcase_add_test(tc, kill_between_slot_write_and_flush);
        tcase_add_test(tc, old_layout_upgrade_and_torn_slot);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
