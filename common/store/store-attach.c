#include "common/store/store-attach.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/err.h"
#include "common/fileio.h"
#include "common/str.h"
#include "common/store/store-format.h"
#include "common/cleanup.h"

static const char store_attach_magic[8] = {'S', 'I', 'L', 'O', 'A', 'T', 'T', '1'};

/* "publish=" + node + " 1 1 64\n" */
#define STORE_ATTACH_RECORD_MAX (8 + ID_NODE_MAX + 8)

/* Splits "<node> <ro 0|1> <block 0|1> <mode>" into p. */
static int store_attach_fields(char *buf, struct store_publish *p)
{
        char *save = NULL, *tok[4];
        uint64_t num[3];
        for (int i = 0; i < 4; i++)
                if (!(tok[i] = strtok_r(i ? NULL : buf, " ", &save)))
                        return -EBADMSG;
        for (int i = 0; i < 3; i++)
                if (store_format_u64(tok[i + 1], &num[i]) < 0 || num[i] > 64)
                        return -EBADMSG;
        if (strtok_r(NULL, " ", &save) || !id_node_is_valid(tok[0]))
                return -EBADMSG;
        if (STR_COPY(p->node_id, tok[0]) < 0)
                return -EBADMSG;
        p->readonly = num[0] != 0;
        p->block = num[1] != 0;
        p->mode = (int)num[2];
        return 0;
}

int store_attach_parse_record(struct store_volume *v, const char *value)
{
        if (v->n_published >= STORE_PUBLISH_MAX)
                return -EBADMSG;
        struct store_publish p = {0};
        char *buf = strdup(value);
        if (!buf)
                return -ENOMEM;
        int r = store_attach_fields(buf, &p);
        free(buf);
        if (r < 0)
                return r;
        struct store_publish *a =
            realloc(v->published, (v->n_published + 1) * sizeof(struct store_publish));
        if (!a)
                return -ENOMEM;
        a[v->n_published++] = p;
        v->published = a;
        return 0;
}

static uint64_t store_attach_fnv(uint64_t h, const char *p, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                h ^= (unsigned char)p[i];
                h *= 0x100000001b3ULL;
        }
        return h;
}

static uint64_t store_attach_sum(const char *slot, size_t text_len)
{
        uint64_t h = store_attach_fnv(0xcbf29ce484222325ULL, slot, 24);
        return store_attach_fnv(h, slot + STORE_ATTACH_HEADER, text_len);
}

static void store_attach_put(char *p, uint64_t v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                p[i] = (char)(v >> (8 * i));
}

static uint64_t store_attach_get(const char *p, size_t n)
{
        uint64_t v = 0;
        for (size_t i = 0; i < n; i++)
                v |= (uint64_t)(unsigned char)p[i] << (8 * i);
        return v;
}

static size_t store_attach_text_len(const struct store_volume *v)
{
        size_t n = 0;
        for (size_t i = 0; i < v->n_published; i++)
                n += (size_t)snprintf(NULL, 0, "publish=%s %d %d %d\n", v->published[i].node_id,
                                      v->published[i].readonly, v->published[i].block,
                                      v->published[i].mode);
        return n;
}

size_t store_attach_slot_size(const struct store_volume *v)
{
        size_t need = STORE_ATTACH_HEADER + store_attach_text_len(v) + STORE_ATTACH_RECORD_MAX;
        size_t size = (need + STORE_ATTACH_BLOCK - 1) / STORE_ATTACH_BLOCK * STORE_ATTACH_BLOCK;
        return size < STORE_ATTACH_SLOT_MAX ? size : STORE_ATTACH_SLOT_MAX;
}

int store_attach_encode(const struct store_volume *v, uint64_t gen, char *slot, size_t size)
{
        if (STORE_ATTACH_HEADER + store_attach_text_len(v) >= size) /* room for the NUL */
                return -E2BIG;
        size_t n = STORE_ATTACH_HEADER;
        for (size_t i = 0; i < v->n_published; i++)
                n += (size_t)snprintf(slot + n, size - n, "publish=%s %d %d %d\n",
                                      v->published[i].node_id, v->published[i].readonly,
                                      v->published[i].block, v->published[i].mode);
        memcpy(slot, store_attach_magic, sizeof(store_attach_magic));
        store_attach_put(slot + 8, gen, 8);
        store_attach_put(slot + 16, n - STORE_ATTACH_HEADER, 4);
        store_attach_put(slot + 20, 0, 4);
        store_attach_put(slot + 24, store_attach_sum(slot, n - STORE_ATTACH_HEADER), 8);
        return (int)n;
}

/* The text length of a valid slot, or -EBADMSG. */
static int store_attach_check(const char *slot, size_t size)
{
        uint64_t len = store_attach_get(slot + 16, 4);
        if (memcmp(slot, store_attach_magic, sizeof(store_attach_magic)) != 0 ||
            len > size - STORE_ATTACH_HEADER || store_attach_get(slot + 20, 4) != 0 ||
            store_attach_get(slot + 24, 8) != store_attach_sum(slot, (size_t)len))
                return -EBADMSG;
        return (int)len;
}

/* "publish=..." lines, each ending in '\n'; nothing else. */
static int store_attach_records(struct store_volume *v, const char *text, size_t len)
{
        static const char key[] = "publish=";
        char line[STORE_ATTACH_RECORD_MAX + 1];
        while (len > 0) {
                const char *nl = memchr(text, '\n', len);
                size_t n = nl ? (size_t)(nl - text) : len;
                if (!nl || n >= sizeof(line) || n < sizeof(key) - 1 ||
                    memcmp(text, key, sizeof(key) - 1) != 0 || memchr(text, '\0', n))
                        return -EBADMSG;
                memcpy(line, text + sizeof(key) - 1, n - (sizeof(key) - 1));
                line[n - (sizeof(key) - 1)] = '\0';
                int r = store_attach_parse_record(v, line);
                if (r < 0)
                        return r;
                text += n + 1;
                len -= n + 1;
        }
        return 0;
}

/* The valid slot with the higher generation of the two at slots (size bytes each): its
 * number, generation and text length. -EBADMSG when neither is valid. */
static int store_attach_current(const char *slots, size_t size, unsigned *ret_slot,
                                uint64_t *ret_gen, size_t *ret_len)
{
        int best = -1, best_len = 0;
        uint64_t best_gen = 0;
        for (int s = 0; s < 2; s++) {
                const char *slot = slots + (size_t)s * size;
                int n = store_attach_check(slot, size);
                uint64_t gen = store_attach_get(slot + 8, 8);
                if (n < 0)
                        continue;
                if (best >= 0 && gen == best_gen)
                        return -EBADMSG; /* never written so: not ours */
                if (best < 0 || gen > best_gen) {
                        best = s;
                        best_gen = gen;
                        best_len = n;
                }
        }
        if (best < 0)
                return -EBADMSG;
        *ret_slot = (unsigned)best;
        *ret_gen = best_gen;
        *ret_len = (size_t)best_len;
        return 0;
}

int store_attach_decode(struct store_volume *v, const char *buf, size_t len, size_t text)
{
        size_t size = v->attach_size;
        if (size < STORE_ATTACH_BLOCK || size > STORE_ATTACH_SLOT_MAX ||
            size % STORE_ATTACH_BLOCK != 0 || len != STORE_ATTACH_BLOCK + 2 * size)
                return -EBADMSG;
        /* After the text only NUL bytes up to the first slot. */
        if (text >= STORE_ATTACH_BLOCK)
                return -EBADMSG;
        for (size_t i = text; i < STORE_ATTACH_BLOCK; i++)
                if (buf[i])
                        return -EBADMSG;
        unsigned slot = 0;
        uint64_t gen = 0;
        size_t n = 0;
        int r = store_attach_current(buf + STORE_ATTACH_BLOCK, size, &slot, &gen, &n);
        if (r < 0)
                return r;
        v->attach_slot = slot;
        v->attach_gen = gen;
        return store_attach_records(v, buf + STORE_ATTACH_BLOCK + slot * size + STORE_ATTACH_HEADER,
                                    n);
}

bool store_volume_attach_fits(const struct store_volume *v)
{
        return v->attach_size && STORE_ATTACH_HEADER + store_attach_text_len(v) < v->attach_size;
}

int store_volume_attach_write(const char *pool, const struct store_volume *v, int *ret_fd)
{
        size_t size = v->attach_size;
        _cleanup_free_ char *path = NULL;
        struct stat st;
        unsigned cur = 0;
        uint64_t gen = 0;
        size_t len = 0, done = 0;
        if (store_path(pool, STORE_VOLUMES, v->id, ".meta", &path) < 0)
                return -ENOMEM;
        /* slots[0..2*size): what is on disk; new: the slot to write (36 KiB at most) */
        static_assert(3 * STORE_ATTACH_SLOT_MAX <= 65536, "slots on the stack");
        char slots[3 * STORE_ATTACH_SLOT_MAX];
        if (size > STORE_ATTACH_SLOT_MAX)
                return -EINVAL;
        char *new = slots + 2 * size;
        int n = store_attach_encode(v, v->attach_gen + 1, new, size);
        if (n < 0)
                return n;
        _cleanup_close_ int fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? -SILO_ENOTFOUND : neg_errno();
        if (fstat(fd, &st) < 0)
                return neg_errno();
        /* The file must still hold the state v was read from (callers hold the data file's
         * flock, so only a writer that does not is caught here): never undo a decision. */
        if (!S_ISREG(st.st_mode) || st.st_size != (off_t)(STORE_ATTACH_BLOCK + 2 * size) ||
            fileio_pread_full(fd, slots, 2 * size, STORE_ATTACH_BLOCK, &done) < 0 ||
            done != 2 * size || store_attach_current(slots, size, &cur, &gen, &len) < 0 ||
            cur != v->attach_slot || gen != v->attach_gen)
                return -ESTALE;
        off_t next = (off_t)(STORE_ATTACH_BLOCK + (cur ^ 1u) * size);
        int r = fileio_pwrite_full(fd, new, (size_t)n, (uint64_t)next);
        if (r < 0)
                return r;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int store_volume_attach_sync(struct store_volume *v, int fd)
{
        off_t next = (off_t)(STORE_ATTACH_BLOCK + (v->attach_slot ^ 1u) * v->attach_size);
        if (fdatasync(fd) < 0) {
                int r = neg_errno();
                /* The page cache may still hold the new slot: void it, so that nobody reads a
                 * state that was not made durable. */
                static const char zero[STORE_ATTACH_HEADER];
                (void)fileio_pwrite_full(fd, zero, sizeof(zero), (uint64_t)next);
                return r;
        }
        v->attach_slot ^= 1u;
        v->attach_gen++;
        return 0;
}

int store_volume_sync(const char *pool, const struct store_volume *v)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_free_ char *dir = NULL;
        if (store_path(pool, STORE_VOLUMES, v->id, ".meta", &path) < 0 ||
            store_dir(pool, STORE_VOLUMES, &dir) < 0)
                return -ENOMEM;
        _cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? -SILO_ENOTFOUND : neg_errno();
        if (fdatasync(fd) < 0)
                return neg_errno();
        /* A file from before the slots was last changed by a rename. */
        return v->attach_size ? 0 : fileio_fsync_dir(dir);
}
