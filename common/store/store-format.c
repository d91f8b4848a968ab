#include "common/store/store-format.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>

#include "common/err.h"
#include "common/str.h"
#include "common/fileio.h"
#include "common/cleanup.h"

static const char *const store_dirs[] = {"volumes", "snapshots", "groups", "nodes"};

int store_dir(const char *pool, enum store_kind kind, char **ret)
{
        char *p = NULL;
        if (asprintf(&p, "%s/%s", pool, store_dirs[kind]) < 0)
                return -ENOMEM;
        *ret = p;
        return 0;
}

int store_path(const char *pool, enum store_kind kind, const char *id, const char *ext, char **ret)
{
        char *p = NULL;
        if (asprintf(&p, "%s/%s/%s%s", pool, store_dirs[kind], id, ext) < 0)
                return -ENOMEM;
        *ret = p;
        return 0;
}

static int store_format_line(char *line, store_format_fn fn, void *ctx, bool *seen_id,
                             const char *id)
{
        char *eq = strchr(line, '=');
        if (!eq)
                return -EBADMSG;
        *eq = '\0';
        if (strcmp(line, "id") == 0) {
                if (strcmp(eq + 1, id) != 0)
                        return -EBADMSG;
                *seen_id = true;
        }
        return fn(line, eq + 1, ctx);
}

int store_format_read(const char *pool, enum store_kind kind, const char *id, char **ret_buf,
                      size_t *ret_len)
{
        _cleanup_free_ char *path = NULL;
        int r = store_path(pool, kind, id, ".meta", &path);
        if (r < 0)
                return r;
        r = fileio_read_all(path, STORE_META_MAX, ret_buf, ret_len);
        return r == -ENOENT ? -SILO_ENOTFOUND : r;
}

int store_format_parse(char *text, const char *id, store_format_fn fn, void *ctx)
{
        bool seen_id = false;
        char *save = NULL;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                int r = store_format_line(line, fn, ctx, &seen_id, id);
                if (r < 0)
                        return r;
        }
        return seen_id ? 0 : -EBADMSG;
}

int store_format_load(const char *pool, enum store_kind kind, const char *id, store_format_fn fn,
                      void *ctx)
{
        _cleanup_free_ char *buf = NULL;
        int r = store_format_read(pool, kind, id, &buf, NULL);
        return r < 0 ? r : store_format_parse(buf, id, fn, ctx);
}

int store_format_load_named(const char *pool, enum store_kind kind, const char *id,
                            store_format_fn fn, void *ctx, char *const *name)
{
        int r = store_format_load(pool, kind, id, fn, ctx);
        if (r >= 0 && !*name)
                r = -EBADMSG;
        return r;
}

FILE *store_format_open(char **buf, size_t *len)
{
        *buf = NULL;
        *len = 0;
        return open_memstream(buf, len);
}

int store_format_write(const char *pool, enum store_kind kind, const char *id, const char *buf,
                       size_t len)
{
        _cleanup_free_ char *dir = NULL;
        _cleanup_free_ char *name = NULL;
        if (store_dir(pool, kind, &dir) < 0 || asprintf(&name, "%s.meta", id) < 0)
                return -ENOMEM;
        return fileio_write_atomic(dir, name, buf, len);
}

int store_format_commit(const char *pool, enum store_kind kind, const char *id, FILE *f, char **buf,
                        size_t *len)
{
        bool bad = ferror(f);
        if (fclose(f) != 0 || bad)
                return -ENOMEM;
        return store_format_write(pool, kind, id, *buf, *len);
}

int store_format_u64(const char *value, uint64_t *ret)
{
        if (!*value || *value < '0' || *value > '9')
                return -EBADMSG;
        errno = 0;
        char *end = NULL;
        unsigned long long v = strtoull(value, &end, 10);
        if (errno != 0 || *end != '\0')
                return -EBADMSG;
        *ret = v;
        return 0;
}

int store_format_copy(char *dst, size_t size, const char *value)
{
        return str_copy(dst, size, value) < 0 ? -EBADMSG : 0;
}

int store_format_dup(char **dst, const char *value)
{
        char *p = strdup(value);
        if (!p)
                return -ENOMEM;
        free(*dst);
        *dst = p;
        return 0;
}

int store_format_unlink(const char *pool, enum store_kind kind, const char *id, const char *ext)
{
        _cleanup_free_ char *path = NULL;
        int r = store_path(pool, kind, id, ext, &path);
        if (r < 0)
                return r;
        if (unlink(path) < 0 && errno != ENOENT)
                return neg_errno();
        return 0;
}

/* True unless something other than a regular file of the pool's filesystem is there (absent:
 * true). */
static bool store_format_is_regular(const char *pool, enum store_kind kind, const char *id,
                                    const char *ext)
{
        _cleanup_free_ char *path = NULL, *dir = NULL;
        struct stat st, d;
        if (store_path(pool, kind, id, ext, &path) < 0 || store_dir(pool, kind, &dir) < 0 ||
            !path || !dir)
                return true;
        if (lstat(path, &st) < 0 || stat(dir, &d) < 0)
                return true;
        return S_ISREG(st.st_mode) && st.st_dev == d.st_dev;
}

int store_format_remove(const char *pool, enum store_kind kind, const char *id,
                        const char *data_ext)
{
        _cleanup_free_ char *dir = NULL;
        int r = store_format_unlink(pool, kind, id, ".meta");
        if (r >= 0)
                r = store_dir(pool, kind, &dir);
        if (r >= 0)
                r = fileio_fsync_dir(dir);
        /* A foreign object under the data file's name is not ours to remove. */
        if (r >= 0 && data_ext && store_format_is_regular(pool, kind, id, data_ext))
                r = store_format_unlink(pool, kind, id, data_ext);
        return r;
}
