#include "common/metrics/opstats.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/metrics/histogram.h"
#include "common/cleanup.h"

struct opstats_series {
        uint64_t hash;
        int status;
        char service[OPSTATS_NAME_MAX + 1];
        char method[OPSTATS_NAME_MAX + 1];
        struct histogram h;
};

static _Atomic(struct opstats_series *) opstats_table[OPSTATS_SLOTS];
static atomic_uint_fast64_t opstats_dropped;
static atomic_uint opstats_used; /* slots filled */

static uint64_t opstats_hash_str(uint64_t h, const char *s)
{
        size_t n = strnlen(s, OPSTATS_NAME_MAX);
        for (size_t i = 0; i < n; i++) {
                h ^= (unsigned char)s[i];
                h *= 0x100000001b3ULL; /* FNV-1a */
        }
        return h;
}

static uint64_t opstats_hash(const char *service, const char *method, int status)
{
        uint64_t h = opstats_hash_str(0xcbf29ce484222325ULL, service);
        h = opstats_hash_str(h ^ '/', method);
        return (h ^ (uint64_t)(unsigned)status) * 0x9e3779b97f4a7c15ULL;
}

static bool opstats_matches(const struct opstats_series *s, uint64_t hash, const char *service,
                            const char *method, int status)
{
        return s->hash == hash && s->status == status &&
               strncmp(s->method, method, OPSTATS_NAME_MAX) == 0 &&
               strncmp(s->service, service, OPSTATS_NAME_MAX) == 0;
}

static struct opstats_series *opstats_series_new(uint64_t hash, const char *service,
                                                 const char *method, int status)
{
        struct opstats_series *s = calloc(1, sizeof(*s));
        if (!s)
                return NULL;
        s->hash = hash;
        s->status = status;
        snprintf(s->service, sizeof(s->service), "%s", service);
        snprintf(s->method, sizeof(s->method), "%s", method);
        return s;
}

/* Returns the series in slot i after trying to claim it for the key; NULL when out of memory. */
static struct opstats_series *opstats_claim(unsigned i, uint64_t hash, const char *service,
                                            const char *method, int status)
{
        struct opstats_series *fresh = opstats_series_new(hash, service, method, status);
        if (!fresh)
                return NULL;
        struct opstats_series *expected = NULL;
        if (atomic_compare_exchange_strong_explicit(&opstats_table[i], &expected, fresh,
                                                    memory_order_acq_rel, memory_order_acquire)) {
                atomic_fetch_add_explicit(&opstats_used, 1, memory_order_relaxed);
                return fresh;
        }
        free(fresh); /* another thread filled the slot first: expected is its series */
        return expected;
}

static struct opstats_series *opstats_find(const char *service, const char *method, int status,
                                           bool create)
{
        uint64_t hash = opstats_hash(service, method, status);
        for (unsigned probe = 0; probe < OPSTATS_SLOTS; probe++) {
                unsigned i = (unsigned)(hash + probe) & (OPSTATS_SLOTS - 1);
                struct opstats_series *s =
                    atomic_load_explicit(&opstats_table[i], memory_order_acquire);
                if (!s && !create)
                        return NULL;
                if (!s)
                        s = opstats_claim(i, hash, service, method, status);
                if (!s)
                        return NULL;
                if (opstats_matches(s, hash, service, method, status))
                        return s;
        }
        return NULL;
}

void opstats_observe(const char *service, const char *method, int status, double seconds)
{
        /* Names of unknown methods come from the client: past a quarter of the table they
         * share one series, so that a flood of made-up names cannot crowd out real ones. */
        if (status == ERR_UNIMPLEMENTED &&
            (!service ||
             atomic_load_explicit(&opstats_used, memory_order_relaxed) > OPSTATS_SLOTS / 4)) {
                service = "";
                method = "unknown";
        }
        struct opstats_series *s =
            opstats_find(service ? service : "", method ? method : "", status, true);
        if (!s) {
                atomic_fetch_add_explicit(&opstats_dropped, 1, memory_order_relaxed);
                return;
        }
        histogram_observe(&s->h, seconds);
}

unsigned long long opstats_count(const char *service, const char *method, int status)
{
        struct opstats_series *s = opstats_find(service, method, status, false);
        if (!s)
                return 0;
        struct histogram_snapshot snap;
        histogram_snapshot(&s->h, &snap);
        return snap.count;
}

static int opstats_compare(const void *a, const void *b)
{
        const struct opstats_series *x = *(const struct opstats_series *const *)a;
        const struct opstats_series *y = *(const struct opstats_series *const *)b;
        int r = strcmp(x->service, y->service);
        if (r == 0)
                r = strcmp(x->method, y->method);
        return r ? r : x->status - y->status;
}

static void opstats_render_series(struct promtext *w, const struct opstats_series *s)
{
        char service[2 * OPSTATS_NAME_MAX + 1], method[2 * OPSTATS_NAME_MAX + 1];
        char base[5 * OPSTATS_NAME_MAX], labels[5 * OPSTATS_NAME_MAX + 32];
        snprintf(base, sizeof(base), "method_name=\"/%s/%s\",grpc_status_code=\"%s\"",
                 promtext_escape(s->service, service, sizeof(service)),
                 promtext_escape(s->method, method, sizeof(method)),
                 err_status_name((enum err_status)s->status));

        struct histogram_snapshot snap;
        histogram_snapshot(&s->h, &snap);
        for (unsigned i = 0; i < HISTOGRAM_N_BOUNDS; i++) {
                snprintf(labels, sizeof(labels), "%s,le=\"%s\"", base, histogram_bound_labels[i]);
                promtext_sample_u64(w, "silo_operations_seconds_bucket", labels,
                                    snap.cumulative[i]);
        }
        snprintf(labels, sizeof(labels), "%s,le=\"+Inf\"", base);
        promtext_sample_u64(w, "silo_operations_seconds_bucket", labels, snap.count);
        promtext_sample(w, "silo_operations_seconds_sum", base, snap.sum_seconds);
        promtext_sample_u64(w, "silo_operations_seconds_count", base, snap.count);
}

void opstats_render(struct promtext *w)
{
        struct opstats_series *all[OPSTATS_SLOTS] = {0};
        size_t n = 0;
        for (unsigned i = 0; i < OPSTATS_SLOTS; i++) {
                struct opstats_series *s =
                    atomic_load_explicit(&opstats_table[i], memory_order_acquire);
                if (s)
                        all[n++] = s;
        }
        qsort(all, n, sizeof(struct opstats_series *), opstats_compare);

        promtext_family(w, "silo_operations_seconds", "histogram",
                        "Duration of finished CSI calls by method and gRPC status code.");
        for (size_t i = 0; i < n; i++)
                opstats_render_series(w, all[i]);
        promtext_family(w, "silo_operations_dropped_total", "counter",
                        "Finished calls not recorded because the series table was full.");
        promtext_sample_u64(w, "silo_operations_dropped_total", NULL,
                            atomic_load_explicit(&opstats_dropped, memory_order_relaxed));
}
