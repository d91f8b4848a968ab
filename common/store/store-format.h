/* The "key=value" line format of the store's metadata files, shared by store*.c. */
#pragma once

#include <stdint.h>
#include <stdio.h>

#include "common/store/store.h"

typedef int (*store_format_fn)(const char *key, const char *value, void *ctx);

/* Reads <pool>/<kind>/<id>.meta and calls fn for each line. -SILO_ENOTFOUND when absent,
 * -EBADMSG for a malformed line or a missing/mismatched "id". */
int store_format_load(const char *pool, enum store_kind kind, const char *id, store_format_fn fn,
                      void *ctx);
/* The two halves of store_format_load(): reads the whole file (NUL-terminated; *ret_len,
 * when not NULL, its length), then calls fn for each line of text up to its first NUL. */
int store_format_read(const char *pool, enum store_kind kind, const char *id, char **ret_buf,
                      size_t *ret_len);
int store_format_parse(char *text, const char *id, store_format_fn fn, void *ctx);
/* store_format_load() for a record that must have a "name": -EBADMSG when *name (set by fn)
 * is still NULL afterwards. On error the caller releases what fn filled in. */
int store_format_load_named(const char *pool, enum store_kind kind, const char *id,
                            store_format_fn fn, void *ctx, char *const *name);

/* Opens an in-memory writer; store_format_commit() writes it as <id>.meta atomically and
 * closes it either way. */
FILE *store_format_open(char **buf, size_t *len);
int store_format_commit(const char *pool, enum store_kind kind, const char *id, FILE *f, char **buf,
                        size_t *len);
/* Writes buf as <id>.meta atomically. */
int store_format_write(const char *pool, enum store_kind kind, const char *id, const char *buf,
                       size_t len);

/* Parses helpers for values; -EBADMSG on junk or overflow. */
int store_format_u64(const char *value, uint64_t *ret);
int store_format_copy(char *dst, size_t size, const char *value);
int store_format_dup(char **dst, const char *value);

/* Removes <pool>/<kind>/<id><ext>; absent is fine. */
int store_format_unlink(const char *pool, enum store_kind kind, const char *id, const char *ext);
/* Removes <id>.meta and syncs the directory, then removes <id><data_ext> unless data_ext is
 * NULL: the record goes first, so a crash never leaves metadata without its data. Absent
 * files are fine. */
int store_format_remove(const char *pool, enum store_kind kind, const char *id,
                        const char *data_ext);
