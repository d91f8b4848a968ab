/* Lock-free latency histogram with fixed buckets from 0.1 ms to 60 s. Observing is three
 * relaxed atomic adds, cheap enough for every RPC (Probe included). A snapshot taken while
 * others observe may lag by a few samples but is always internally consistent: its count is
 * the sum of its buckets. */
#pragma once

#include <stdatomic.h>
#include <stdint.h>

#define HISTOGRAM_N_BOUNDS 18

/* Upper bounds in seconds, ascending; the last bucket (+Inf) is implicit. */
extern const double histogram_bounds[HISTOGRAM_N_BOUNDS];
/* The same bounds as Prometheus `le` label text ("0.0001", ... "60"). */
extern const char *const histogram_bound_labels[HISTOGRAM_N_BOUNDS];

struct histogram {
        atomic_uint_fast64_t buckets[HISTOGRAM_N_BOUNDS + 1]; /* not cumulative */
        atomic_uint_fast64_t sum_ns;
};

struct histogram_snapshot {
        uint64_t cumulative[HISTOGRAM_N_BOUNDS + 1]; /* [i] = samples <= bound i; last = all */
        uint64_t count;
        double sum_seconds;
};

/* A zeroed struct histogram is empty and ready; no init needed. */
void histogram_observe(struct histogram *h, double seconds);
void histogram_snapshot(const struct histogram *h, struct histogram_snapshot *ret);
