#include "common/id.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "common/cleanup.h"

#define ID_HEX_LEN 16

bool id_is_valid(const char *id)
{
        if (!id || !*id || *id == '-')
                return false;
        size_t n = 0;
        for (const char *p = id; *p; p++, n++) {
                bool ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-';
                if (!ok || n >= ID_MAX)
                        return false;
        }
        return true;
}

bool id_has_form(const char *id, const char *prefix)
{
        size_t pl = strlen(prefix);
        if (!id || strncmp(id, prefix, pl) != 0 || id[pl] != '-')
                return false;
        const char *hex = id + pl + 1;
        if (strlen(hex) != ID_HEX_LEN)
                return false;
        for (const char *p = hex; *p; p++)
                if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
                        return false;
        return true;
}

bool id_node_is_valid(const char *node_id)
{
        if (!node_id || !*node_id || *node_id == '.')
                return false;
        size_t n = 0;
        for (const char *p = node_id; *p; p++, n++) {
                bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                          (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.';
                if (!ok || n >= ID_NODE_MAX)
                        return false;
        }
        return true;
}

static int id_format(const char *prefix, uint64_t v, char *buf, size_t size)
{
        if (!prefix || size < strlen(prefix) + ID_HEX_LEN + 2)
                return -EINVAL;
        snprintf(buf, size, "%s-%016llx", prefix, (unsigned long long)v);
        return 0;
}

int id_generate(const char *prefix, char *buf, size_t size)
{
        uint64_t v;
        if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v))
                return neg_errno();
        return id_format(prefix, v, buf, size);
}

/* FNV-1a over the bytes, then a splitmix64 finaliser to spread the bits. */
static uint64_t id_hash(const char *s)
{
        uint64_t h = 0xcbf29ce484222325ULL;
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                h ^= *p;
                h *= 0x100000001b3ULL;
        }
        h ^= h >> 30;
        h *= 0xbf58476d1ce4e5b9ULL;
        h ^= h >> 27;
        h *= 0x94d049bb133111ebULL;
        h ^= h >> 31;
        return h;
}

int id_from_name(const char *prefix, const char *name, char *buf, size_t size)
{
        if (!name)
                return -EINVAL;
        return id_format(prefix, id_hash(name), buf, size);
}
