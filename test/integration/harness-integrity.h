/* Data-integrity helpers for integration tests: a writer process appending fsync'd sequence
 * records to files inside volumes, and checks of volume images (fsck, records). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HI_RECORD    16 /* "%015llu\n": record n holds n, counting from 1 */
#define HI_MAX_FILES 4

struct hi_writer;

/* Forks a process that appends record 1, 2, ... to each of the n files in turn (lock-step),
 * fsyncing each append, and publishes the last record that every file holds fsync'd. */
int hi_writer_start(const char *const *paths, size_t n, struct hi_writer **ret);
/* The last sequence number fsync'd to every file. */
uint64_t hi_writer_fsynced(const struct hi_writer *w);
/* Waits until the writer passed at least seq (up to 60 s); false when it did not. */
bool hi_writer_wait(const struct hi_writer *w, uint64_t seq);
/* Stops and reaps the writer; accepts NULL. */
void hi_writer_stop(struct hi_writer *w);

/* Checks a volume image: ext4 "e2fsck -fn" on the image itself; xfs "xfs_repair -n" on a copy
 * whose log a mount replayed (a frozen XFS leaves a covered log that repair -n does not
 * replay). Then reads file ("/log") from it and checks that it holds records 1..k and nothing
 * else. Returns k, or -1 with the reason in why (fsck findings, torn or foreign bytes). */
long hi_image_verify(const char *img, const char *fs_type, const char *file, char *why,
                     size_t size);

/* Runs a shell command; its exit status (-1 when it did not run). Output goes to the test's
 * stderr only on failure when quiet. */
int hi_run(const char *cmd, char *out, size_t size);

/* True when the filesystem mounted at path is frozen (FIFREEZE answers EBUSY); a probe that
 * froze it thaws it again. */
bool hi_is_frozen(const char *path);
