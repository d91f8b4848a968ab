/* Per-object operation locks. A second operation on the same key while the first runs is
 * refused at once (-SILO_EPENDING) rather than queued: the CSI spec asks for ABORTED so that
 * the caller retries later. Keys are namespaced strings ("vol/<id>", "name/<name>",
 * "snap/<id>"). Thread-safe. */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

struct vlock_table;
struct vlock;

int vlock_table_new(struct vlock_table **ret);
void vlock_table_free(struct vlock_table *t);

/* Takes the lock on "<ns>/<id>". Returns 0 and a handle, or -SILO_EPENDING when held, or
 * -ENOMEM. */
int vlock_try(struct vlock_table *t, const char *ns, const char *id, struct vlock **ret);
/* Releases; accepts NULL. */
void vlock_release(struct vlock *l);
static inline void vlock_releasep(struct vlock **l)
{
        vlock_release(*l);
}
#define _cleanup_vlock_ __attribute__((cleanup(vlock_releasep)))

/* Called after every lock taken (test fault injection). Set before any lock is taken. */
void vlock_set_acquired_hook(void (*fn)(void));

/* Number of locks held now (metrics, tests). */
size_t vlock_count(struct vlock_table *t);
