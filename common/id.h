/* Object IDs: short, safe as file names. Every ID from a request passes id_is_valid() before
 * it is joined to any path. Volume, snapshot and group IDs are derived from the CO-given name
 * (id_from_name), so that a retried create finds the object a crashed or timed-out attempt
 * made, whichever driver instance made it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* CSI's bound on identifiers; kubelet names an inline ephemeral volume "csi-<64 hex>". */
#define ID_MAX      128
#define ID_NODE_MAX 128

/* 1..ID_MAX chars of [a-z0-9-], not starting with '-'. No '/', no '.', no '..'. */
bool id_is_valid(const char *id);

/* True for "<prefix>-<16 lower-case hex>", the form id_from_name() and id_generate() write. */
bool id_has_form(const char *id, const char *prefix);

/* Node IDs (host names): 1..ID_NODE_MAX chars of [A-Za-z0-9._-], not starting with '.'. */
bool id_node_is_valid(const char *node_id);

/* Writes "<prefix>-<16 hex random chars>" into buf (size >= strlen(prefix) + 18). */
int id_generate(const char *prefix, char *buf, size_t size);

/* Writes "<prefix>-<16 hex>" derived from name (a 64-bit hash) into buf. Same name, same id. */
int id_from_name(const char *prefix, const char *name, char *buf, size_t size);
