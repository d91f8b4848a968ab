/* Unit tests: a volume's attach records in the two slots of its .meta (store-attach.c): in-place
 * writes alternate slots, a torn slot leaves the other one's state, damaged layouts are
 * errors, a .meta from before the slots is read as before. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/err.h"
#include "common/fileio.h"
#include "common/store/store-attach.h"
#include "common/store/store.h"
#include "common/cleanup.h"

static char root[64];
static char meta[128];

static void setup(void)
{
        snprintf(root, sizeof(root), "/tmp/silo-attach-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(root));
        ck_assert_int_eq(store_init(root), 0);
        snprintf(meta, sizeof(meta), "%s/volumes/vol-1.meta", root);
}

static void teardown(void)
{
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        ck_assert_int_eq(system(cmd), 0);
}

static struct store_publish pubs[2] = {{"node-a", false, false, 1}, {"node-b", true, true, 3}};

/* vol-1 saved whole with the first n of pubs, loaded back into *l. */
static void save_and_load(size_t n, struct store_volume *l)
{
        struct store_volume v = {
            .name = (char *)"pvc-1", .fs_type = "ext4", .published = pubs, .n_published = n};
        memcpy(v.id, "vol-1", 6);
        ck_assert_int_eq(store_volume_save(root, &v), 0);
        ck_assert_int_eq(store_volume_load(root, "vol-1", l), 0);
}

/* The in-place path: write + sync, as pool_volume_save_attach does. */
static int write_in_place(struct store_volume *v)
{
        ck_assert(store_volume_attach_fits(v));
        int fd = -1;
        int r = store_volume_attach_write(root, v, &fd);
        if (r < 0)
                return r;
        r = store_volume_attach_sync(v, fd);
        close(fd);
        return r;
}

static void flip_byte(off_t off)
{
        int fd = open(meta, O_RDWR | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        unsigned char b = 0;
        ck_assert_int_eq(pread(fd, &b, 1, off), 1);
        b ^= 0x40;
        ck_assert_int_eq(pwrite(fd, &b, 1, off), 1);
        close(fd);
}

static off_t file_size(void)
{
        struct stat st;
        ck_assert_int_eq(stat(meta, &st), 0);
        return st.st_size;
}

START_TEST(in_place_alternates_slots)
{
        struct store_volume v;
        save_and_load(0, &v);
        ck_assert_uint_eq(v.attach_size, STORE_ATTACH_BLOCK);
        ck_assert_uint_eq(v.attach_slot, 0);
        off_t size = file_size();
        ck_assert_int_eq(size, STORE_ATTACH_BLOCK * 3);
        struct stat before, after;
        ck_assert_int_eq(stat(meta, &before), 0);
        /* publish node-a, then node-b, then unpublish node-a */
        v.published = calloc(2, sizeof(*v.published));
        v.published[0] = pubs[0];
        v.n_published = 1;
        ck_assert_int_eq(write_in_place(&v), 0);
        ck_assert_uint_eq(v.attach_slot, 1);
        v.published[1] = pubs[1];
        v.n_published = 2;
        ck_assert_int_eq(write_in_place(&v), 0);
        ck_assert_uint_eq(v.attach_slot, 0);
        v.published[0] = pubs[1];
        v.n_published = 1;
        ck_assert_int_eq(write_in_place(&v), 0);
        uint64_t gen = v.attach_gen;
        store_volume_release(&v);
        ck_assert_int_eq(stat(meta, &after), 0);
        ck_assert_uint_eq(before.st_ino, after.st_ino); /* never renamed */
        ck_assert_int_eq(after.st_size, size);          /* never grown */
        struct store_volume l;
        ck_assert_int_eq(store_volume_load(root, "vol-1", &l), 0);
        ck_assert_uint_eq(l.attach_gen, gen);
        ck_assert_uint_eq(l.attach_slot, 1);
        ck_assert_uint_eq(l.n_published, 1);
        ck_assert_str_eq(l.published[0].node_id, "node-b");
        ck_assert(l.published[0].readonly && l.published[0].block);
        ck_assert_int_eq(l.published[0].mode, 3);
        store_volume_release(&l);
}
END_TEST

START_TEST(torn_slot_keeps_previous_state)
{
        struct store_volume v;
        save_and_load(1, &v); /* slot 0: node-a */
        v.n_published = 0;
        ck_assert_int_eq(write_in_place(&v), 0); /* slot 1: nothing */
        store_volume_release(&v);
        /* A write of slot 1 that did not reach the disk whole: it fails the checksum. */
        flip_byte(STORE_ATTACH_BLOCK * 2 + 9);
        struct store_volume l;
        ck_assert_int_eq(store_volume_load(root, "vol-1", &l), 0);
        ck_assert_uint_eq(l.attach_slot, 0);
        ck_assert_uint_eq(l.n_published, 1);
        ck_assert_str_eq(l.published[0].node_id, "node-a");
        /* The next write goes over the torn slot, never over the state that stands. */
        l.published[0] = pubs[1];
        ck_assert_int_eq(write_in_place(&l), 0);
        ck_assert_uint_eq(l.attach_slot, 1);
        store_volume_release(&l);
        /* A torn record byte of the current slot: the other slot's state is read. */
        flip_byte(STORE_ATTACH_BLOCK * 2 + STORE_ATTACH_HEADER + 10);
        ck_assert_int_eq(store_volume_load(root, "vol-1", &l), 0);
        ck_assert_uint_eq(l.attach_slot, 0);
        ck_assert_str_eq(l.published[0].node_id, "node-a");
        store_volume_release(&l);
        /* Both slots bad: the file is damaged, never read as "no records". */
        flip_byte(STORE_ATTACH_BLOCK + 3);
        ck_assert_int_eq(store_volume_load(root, "vol-1", &l), -EBADMSG);
}
END_TEST

START_TEST(stale_writer_refused)
{
        struct store_volume a, b;
        save_and_load(0, &a);
        ck_assert_int_eq(store_volume_load(root, "vol-1", &b), 0);
        a.published = calloc(1, sizeof(*a.published));
        a.published[0] = pubs[0];
        a.n_published = 1;
        ck_assert_int_eq(write_in_place(&a), 0);
        /* b was read before a's write: its write would undo a's decision. */
        int fd = -1;
        ck_assert_int_eq(store_volume_attach_write(root, &b, &fd), -ESTALE);
        store_volume_release(&a);
        store_volume_release(&b);
}
END_TEST

START_TEST(records_outgrowing_slots_need_a_full_write)
{
        struct store_volume v;
        save_and_load(0, &v);
        v.published = calloc(STORE_PUBLISH_MAX, sizeof(*v.published));
        for (size_t i = 0; i < STORE_PUBLISH_MAX; i++) {
                memset(v.published[i].node_id, 'n', ID_NODE_MAX);
                snprintf(v.published[i].node_id + ID_NODE_MAX - 3, 4, "%03zu", i);
                v.published[i].mode = 5;
        }
        v.n_published = 29; /* 29 of 143 bytes: more than a block */
        ck_assert(!store_volume_attach_fits(&v));
        v.n_published = STORE_PUBLISH_MAX;
        ck_assert_int_eq(store_volume_save(root, &v), 0);
        store_volume_release(&v);
        ck_assert_int_eq(store_volume_load(root, "vol-1", &v), 0);
        ck_assert_uint_eq(v.n_published, STORE_PUBLISH_MAX);
        ck_assert_uint_eq(v.attach_size, STORE_ATTACH_SLOT_MAX);
        v.n_published--;
        ck_assert_int_eq(write_in_place(&v), 0);
        store_volume_release(&v);
        ck_assert_int_eq(store_volume_load(root, "vol-1", &v), 0);
        ck_assert_uint_eq(v.n_published, STORE_PUBLISH_MAX - 1);
        store_volume_release(&v);
}
END_TEST

START_TEST(old_layout_is_read_and_upgraded)
{
        static const char old[] = "version=1\nid=vol-1\nname=pvc-1\ncapacity=5\nfs_type=ext4\n"
                                  "publish=node-a 0 0 1\npublish=node-b 1 1 3\n";
        char dir[128];
        snprintf(dir, sizeof(dir), "%s/volumes", root);
        ck_assert_int_eq(fileio_write_atomic(dir, "vol-1.meta", old, sizeof(old) - 1), 0);
        struct store_volume v;
        ck_assert_int_eq(store_volume_load(root, "vol-1", &v), 0);
        ck_assert_uint_eq(v.attach_size, 0);
        ck_assert_uint_eq(v.n_published, 2);
        ck_assert(!store_volume_attach_fits(&v)); /* no slots: the caller writes it whole */
        v.n_published = 1;
        ck_assert_int_eq(store_volume_save(root, &v), 0);
        store_volume_release(&v);
        ck_assert_int_eq(file_size(), STORE_ATTACH_BLOCK * 3);
        ck_assert_int_eq(store_volume_load(root, "vol-1", &v), 0);
        ck_assert_uint_eq(v.attach_size, STORE_ATTACH_BLOCK);
        ck_assert_uint_eq(v.capacity_bytes, 5);
        ck_assert_uint_eq(v.n_published, 1);
        ck_assert_str_eq(v.published[0].node_id, "node-a");
        v.n_published = 0;
        ck_assert_int_eq(write_in_place(&v), 0);
        store_volume_release(&v);
}
END_TEST

/* Writes the saved vol-1 with its text replaced by len bytes of text (NUL padded to the
 * first slot). */
static void replace_text(const char *text, size_t len)
{
        int fd = open(meta, O_RDWR | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        char block[STORE_ATTACH_BLOCK] = {0};
        memcpy(block, text, len);
        ck_assert_int_eq(pwrite(fd, block, sizeof(block), 0), (ssize_t)sizeof(block));
        close(fd);
}

START_TEST(damaged_layouts_are_errors)
{
        struct store_volume l;
        static const char head[] = "version=2\nid=vol-1\nname=pvc-1\nfs_type=ext4\n";
        char text[512];
        int n;
        save_and_load(1, &l);
        store_volume_release(&l);
        /* the text's records beside slots */
        n = snprintf(text, sizeof(text), "%sattach=4096\npublish=node-a 0 0 1\n", head);
        replace_text(text, (size_t)n);
        ck_assert_int_eq(store_volume_load(root, "vol-1", &l), -EBADMSG);
        /* slot sizes that do not match the file, or are not whole blocks */
        const char *const sizes[] = {"8192", "4095", "0", "99999999999", "-1", "4096 4096"};
        for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
                n = snprintf(text, sizeof(text), "%sattach=%s\n", head, sizes[i]);
                replace_text(text, (size_t)n);
                ck_assert_msg(store_volume_load(root, "vol-1", &l) == -EBADMSG, "%s", sizes[i]);
        }
        n = snprintf(text, sizeof(text), "%sattach=4096\nattach=4096\n", head);
        replace_text(text, (size_t)n);
        ck_assert_int_eq(store_volume_load(root, "vol-1", &l), -EBADMSG);
        /* bytes after the text's NUL */
        n = snprintf(text, sizeof(text), "%sattach=4096\n", head);
        text[n + 1] = 'x';
        replace_text(text, (size_t)n + 2);
        ck_assert_int_eq(store_volume_load(root, "vol-1", &l), -EBADMSG);
        /* the good text again: loads */
        replace_text(text, (size_t)n);
        ck_assert_int_eq(store_volume_load(root, "vol-1", &l), 0);
        ck_assert_uint_eq(l.n_published, 1);
        store_volume_release(&l);
        /* a file cut short */
        ck_assert_int_eq(truncate(meta, STORE_ATTACH_BLOCK * 2), 0);
        ck_assert_int_eq(store_volume_load(root, "vol-1", &l), -EBADMSG);
}
END_TEST

/* Seals slot as the format says: text length, then FNV-1a of the first 24 bytes and the
 * text (written here from the format's description, not with the code under test). */
static void seal(char *slot, size_t len)
{
        slot[16] = (char)len;
        slot[17] = (char)(len >> 8);
        uint64_t h = 0xcbf29ce484222325ULL;
        for (size_t k = 0; k < 24; k++)
                h = (h ^ (unsigned char)slot[k]) * 0x100000001b3ULL;
        for (size_t k = 0; k < len; k++)
                h = (h ^ (unsigned char)slot[STORE_ATTACH_HEADER + k]) * 0x100000001b3ULL;
        for (int k = 0; k < 8; k++)
                slot[24 + k] = (char)(h >> (8 * k));
}

/* A slot whose checksum is right but whose records are not: an error, not a crash. */
START_TEST(bad_records_in_a_valid_slot)
{
        struct store_volume l;
        save_and_load(0, &l);
        store_volume_release(&l);
        static char file[STORE_ATTACH_BLOCK * 3];
        int fd = open(meta, O_RDONLY | O_CLOEXEC);
        ck_assert_int_eq(read(fd, file, sizeof(file)), (ssize_t)sizeof(file));
        close(fd);
        static const struct {
                const char *text;
                size_t len;
        } bad[] = {
            {"publish=../x 0 0 1\n", 19},
            {"publish=node-a 0 0 1", 20},
            {"other=1\n", 8},
            {"publish=node-a 0 0 65\n", 22},
            {"\n", 1},
            {"publish=node-a 0 0 1\0\n", 22},
            {"publish=node-a 0 0 1\n", 21}, /* the good one, as a check of seal() */
        };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                char *slot = file + STORE_ATTACH_BLOCK * 2;
                memset(slot, 0, STORE_ATTACH_BLOCK);
                memcpy(slot, "SILOATT1", 8);
                slot[8] = 7; /* generation 7: newer than slot 0's */
                memcpy(slot + STORE_ATTACH_HEADER, bad[i].text, bad[i].len);
                seal(slot, bad[i].len);
                struct store_volume d = {.attach_size = STORE_ATTACH_BLOCK};
                int want = i + 1 == ARRAY_SIZE(bad) ? 0 : -EBADMSG;
                ck_assert_msg(store_attach_decode(&d, file, sizeof(file), strlen(file)) == want,
                              "record %zu", i);
                if (want == 0)
                        ck_assert_uint_eq(d.attach_gen, 7);
                store_volume_release(&d);
        }
}
END_TEST

int main(void)
{
        Suite *s = suite_create("store-attach");
        TCase *tc = tcase_create("store-attach");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, in_place_alternates_slots);
        tcase_add_test(tc, torn_slot_keeps_previous_state);
        tcase_add_test(tc, stale_writer_refused);
        tcase_add_test(tc, records_outgrowing_slots_need_a_full_write);
        tcase_add_test(tc, old_layout_is_read_and_upgraded);
        tcase_add_test(tc, damaged_layouts_are_errors);
        tcase_add_test(tc, bad_records_in_a_valid_slot);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
