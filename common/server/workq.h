/* A bounded work queue: a fixed pool of worker threads, a bounded FIFO of waiting items, and
 * per-item deadlines. When an item's deadline passes while it waits or runs, its expire
 * callback fires once (on the timer thread); the item's work is never interrupted. Knows
 * nothing of gRPC. Thread-safe. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct workq;
struct workq_item;

struct workq_ops {
        /* Runs on a worker. Not called for an item that expired while waiting. */
        void (*run)(struct workq_item *it);
        /* The deadline passed before done; called at most once, never concurrently with done. */
        void (*expire)(struct workq_item *it);
        /* Last callback for an item: after run (or instead of it); the item may be freed. */
        void (*done)(struct workq_item *it);
};

struct workq_item {
        const struct workq_ops *ops;
        uint64_t deadline_ms; /* monotonic, from workq_now_ms(); 0: none */
        /* owned by workq */
        struct workq_item *next, *prev;
        bool expired, expiring, started;
};

/* CLOCK_MONOTONIC in milliseconds and nanoseconds. */
uint64_t workq_now_ms(void);
uint64_t workq_now_ns(void);
/* The CLOCK_REALTIME instant ms from now, for pthread_cond_timedwait on a default condvar. */
void workq_abstime(uint64_t ms, struct timespec *ret);

int workq_new(unsigned workers, unsigned max_queued, struct workq **ret);
/* Queues it. -SILO_EOVERLOAD when the queue is full or draining; the item is untouched. */
int workq_push(struct workq *q, struct workq_item *it);
/* Stops accepting and waits up to timeout_ms for every item to be done (its done callback
 * returned): 0 or -ETIMEDOUT. */
int workq_drain(struct workq *q, uint64_t timeout_ms);
/* Joins the threads (after a successful drain) and frees; accepts NULL. */
void workq_free(struct workq *q);

/* Closes fd once the calling worker's current item is done (its answer sent), or at once when
 * not called on a worker: for an fd whose last close is slow and nobody waits for. */
void workq_defer_close(int fd);

void workq_stats(struct workq *q, unsigned *ret_running, unsigned *ret_queued);
