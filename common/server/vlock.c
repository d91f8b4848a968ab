#include "common/server/vlock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/cleanup.h"

static void (*vlock_acquired_hook)(void);

void vlock_set_acquired_hook(void (*fn)(void))
{
        vlock_acquired_hook = fn;
}

/* Held keys live in a small chained hash table; the number held is bounded by the worker
 * pool, so the table never grows. */
#define VLOCK_BUCKETS 64

struct vlock {
        struct vlock_table *table;
        struct vlock *next;
        char key[];
};

struct vlock_table {
        pthread_mutex_t mutex;
        size_t count;
        struct vlock *buckets[VLOCK_BUCKETS];
};

int vlock_table_new(struct vlock_table **ret)
{
        struct vlock_table *t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        pthread_mutex_init(&t->mutex, NULL);
        *ret = t;
        return 0;
}

void vlock_table_free(struct vlock_table *t)
{
        if (!t)
                return;
        pthread_mutex_destroy(&t->mutex);
        free(t);
}

static size_t vlock_hash(const char *key)
{
        size_t h = 5381;
        for (const unsigned char *p = (const unsigned char *)key; *p; p++)
                h = h * 33 + *p;
        return h % VLOCK_BUCKETS;
}

static bool vlock_is_held_locked(struct vlock_table *t, const char *key, size_t bucket)
{
        for (struct vlock *l = t->buckets[bucket]; l; l = l->next)
                if (strcmp(l->key, key) == 0)
                        return true;
        return false;
}

int vlock_try(struct vlock_table *t, const char *ns, const char *id, struct vlock **ret)
{
        size_t klen = strlen(ns) + strlen(id) + 2;
        struct vlock *l = malloc(sizeof(*l) + klen);
        if (!l)
                return -ENOMEM;
        snprintf(l->key, klen, "%s/%s", ns, id);
        l->table = t;

        size_t b = vlock_hash(l->key);
        pthread_mutex_lock(&t->mutex);
        if (vlock_is_held_locked(t, l->key, b)) {
                pthread_mutex_unlock(&t->mutex);
                free(l);
                return -SILO_EPENDING;
        }
        l->next = t->buckets[b];
        t->buckets[b] = l;
        t->count++;
        pthread_mutex_unlock(&t->mutex);

        if (vlock_acquired_hook)
                vlock_acquired_hook();
        *ret = l;
        return 0;
}

void vlock_release(struct vlock *l)
{
        if (!l)
                return;
        struct vlock_table *t = l->table;
        pthread_mutex_lock(&t->mutex);
        for (struct vlock **p = &t->buckets[vlock_hash(l->key)]; *p; p = &(*p)->next) {
                if (*p == l) {
                        *p = l->next;
                        break;
                }
        }
        t->count--;
        pthread_mutex_unlock(&t->mutex);
        free(l);
}

size_t vlock_count(struct vlock_table *t)
{
        pthread_mutex_lock(&t->mutex);
        size_t n = t->count;
        pthread_mutex_unlock(&t->mutex);
        return n;
}
