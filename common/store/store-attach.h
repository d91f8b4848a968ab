/* A volume's attach records in two fixed slots of its .meta file, written in place so that a
 * ControllerPublish/Unpublish costs one pwrite and one fdatasync (no rename, no journal
 * commit). Layout of a .meta with slots:
 *   [0, 4096)               the "key=value" text, with "attach=<size>", then NUL bytes
 *   [4096, 4096 + size)     slot 0
 *   [4096 + size, + size)   slot 1
 * A slot: 32-byte header (little endian: magic "SILOATT1", u64 generation, u32 length of the
 * text, u32 zero, u64 FNV-1a of the header's first 24 bytes and the text), then the text:
 * "publish=<node> <ro> <block> <mode>\n" lines. The valid slot with the higher generation
 * holds the records; a write goes to the other one with generation + 1, so a torn or unsynced
 * write fails its checksum and the previous state stands. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "common/store/store.h"

#define STORE_ATTACH_BLOCK    4096u /* the text block, and the unit of slot sizes */
#define STORE_ATTACH_HEADER   32u
#define STORE_ATTACH_SLOT_MAX (3 * STORE_ATTACH_BLOCK) /* holds STORE_PUBLISH_MAX records */

/* Parses one "publish=" value into a new record of v. -EBADMSG on junk. */
int store_attach_parse_record(struct store_volume *v, const char *value);

/* The slot size a full rewrite gives v: its records and one more always fit. */
size_t store_attach_slot_size(const struct store_volume *v);

/* Writes slot `slot` (0 or 1) of a file of slot size `size` holding v's records with
 * generation gen into buf at the slot's offset; buf holds the whole file. -E2BIG when the
 * records do not fit. Returns the bytes of the slot used (header + text). */
int store_attach_encode(const struct store_volume *v, uint64_t gen, char *slot, size_t size);

/* Reads the records of a .meta with slots of size v->attach_size (file buf of len bytes, its
 * text the first `text` bytes): fills v->published, v->attach_slot and v->attach_gen.
 * -EBADMSG when the text does not end in NUL bytes up to the first slot, the file's length
 * does not match, no slot is valid or the valid one's records are malformed. */
int store_attach_decode(struct store_volume *v, const char *buf, size_t len, size_t text);
