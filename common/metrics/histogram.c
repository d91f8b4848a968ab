#include "common/metrics/histogram.h"

#include "common/cleanup.h"

const double histogram_bounds[HISTOGRAM_N_BOUNDS] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
    0.1,    0.25,    0.5,    1,     2.5,    5,     10,   30,    60,
};

const char *const histogram_bound_labels[HISTOGRAM_N_BOUNDS] = {
    "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
    "0.1",    "0.25",    "0.5",    "1",     "2.5",    "5",     "10",   "30",    "60",
};

static unsigned histogram_bucket_of(double seconds)
{
        unsigned i = 0;
        while (i < HISTOGRAM_N_BOUNDS && seconds > histogram_bounds[i])
                i++;
        return i;
}

void histogram_observe(struct histogram *h, double seconds)
{
        if (!(seconds >= 0)) /* also catches NaN */
                seconds = 0;
        atomic_fetch_add_explicit(&h->buckets[histogram_bucket_of(seconds)], 1,
                                  memory_order_relaxed);
        /* Clamp so a bogus duration cannot wrap the sum: 1e6 s is far beyond any budget. */
        double ns = seconds < 1e6 ? seconds * 1e9 : 1e15;
        atomic_fetch_add_explicit(&h->sum_ns, (uint_fast64_t)(ns + 0.5), memory_order_relaxed);
}

void histogram_snapshot(const struct histogram *h, struct histogram_snapshot *ret)
{
        uint64_t total = 0;
        for (unsigned i = 0; i <= HISTOGRAM_N_BOUNDS; i++) {
                total += atomic_load_explicit(&h->buckets[i], memory_order_relaxed);
                ret->cumulative[i] = total;
        }
        ret->count = total;
        ret->sum_seconds = (double)atomic_load_explicit(&h->sum_ns, memory_order_relaxed) / 1e9;
}
