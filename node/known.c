#include "node/known.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "common/cleanup.h"

struct known {
        pthread_mutex_t lock;
        char **keys; /* "<id>\n<path>" */
        size_t n, cap;
};

int known_new(struct known **ret)
{
        struct known *k = calloc(1, sizeof(*k));

        if (!k)
                return -ENOMEM;
        pthread_mutex_init(&k->lock, NULL);
        *ret = k;
        return 0;
}

void known_free(struct known *k)
{
        if (!k)
                return;
        for (size_t i = 0; i < k->n; i++)
                free(k->keys[i]);
        free(k->keys);
        pthread_mutex_destroy(&k->lock);
        free(k);
}

/* Index of key or k->n. Called with the lock held. */
static size_t known_find(const struct known *k, const char *key)
{
        size_t i = 0;

        while (i < k->n && strcmp(k->keys[i], key) != 0)
                i++;
        return i;
}

static char *known_key(const char *id, const char *path)
{
        char *key = NULL;

        return asprintf(&key, "%s\n%s", id, path) < 0 ? NULL : key;
}

static void known_insert(struct known *k, char *key)
{
        if (known_find(k, key) < k->n) {
                free(key);
                return;
        }
        if (k->n == k->cap) {
                size_t cap = k->cap ? k->cap * 2 : 16;
                char **keys = realloc(k->keys, cap * sizeof(*keys));
                if (!keys) {
                        free(key);
                        return;
                }
                k->keys = keys;
                k->cap = cap;
        }
        k->keys[k->n++] = key;
}

void known_add(struct known *k, const char *id, const char *path)
{
        char *key = known_key(id, path);

        if (!key)
                return;
        pthread_mutex_lock(&k->lock);
        known_insert(k, key);
        pthread_mutex_unlock(&k->lock);
}

void known_remove(struct known *k, const char *id, const char *path)
{
        _cleanup_free_ char *key = known_key(id, path);
        size_t i;

        if (!key)
                return;
        pthread_mutex_lock(&k->lock);
        i = known_find(k, key);
        if (i < k->n) {
                free(k->keys[i]);
                k->keys[i] = k->keys[--k->n];
        }
        pthread_mutex_unlock(&k->lock);
}

bool known_has(struct known *k, const char *id, const char *path)
{
        _cleanup_free_ char *key = known_key(id, path);
        bool found;

        if (!key)
                return false;
        pthread_mutex_lock(&k->lock);
        found = known_find(k, key) < k->n;
        pthread_mutex_unlock(&k->lock);
        return found;
}
