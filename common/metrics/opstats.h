/* Per-method, per-status latency histograms of finished RPCs (silo_operations_seconds).
 * Process-wide: the rpc observer has no user data. Lock-free: a series is created once per
 * (service, method, status) with a compare-and-swap and never freed; afterwards an
 * observation is a hash, a probe, a compare and three relaxed atomic adds. The table is
 * bounded; observations that find it full are counted as dropped. UNIMPLEMENTED calls (whose
 * method names come from the client) get their own series only while the table is less than
 * a quarter full, and share method "unknown" after that. */
#pragma once

#include "common/metrics/promtext.h"

#define OPSTATS_SLOTS    512 /* power of two */
#define OPSTATS_NAME_MAX 96  /* longer service/method names are cut */

/* status is a gRPC status code (enum err_status). Thread-safe. */
void opstats_observe(const char *service, const char *method, int status, double seconds);

/* Writes the silo_operations_seconds family, sorted by method and status. */
void opstats_render(struct promtext *w);

/* Count of finished calls recorded for that key (tests, the benchmark's sanity checks). */
unsigned long long opstats_count(const char *service, const char *method, int status);
