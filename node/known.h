/* Paths where this process staged or published a volume, kept only to tell "the mount
 * vanished" (abnormal VolumeCondition) from "never there" (NOT_FOUND) in NodeGetVolumeStats.
 * Nothing else reads it: what is staged where always comes from the kernel. Thread-safe. */
#pragma once

#include <stdbool.h>

struct known;

int known_new(struct known **ret);
void known_free(struct known *k);

/* Records (volume id, path); repeated adds are one entry. Out of memory is ignored: the
 * record only sharpens a diagnosis. */
void known_add(struct known *k, const char *id, const char *path);
void known_remove(struct known *k, const char *id, const char *path);
bool known_has(struct known *k, const char *id, const char *path);
