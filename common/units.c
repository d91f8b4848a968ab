#include "common/units.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/cleanup.h"

struct units_suffix {
        const char *suffix;
        uint64_t factor;
};

static const struct units_suffix size_suffixes[] = {
    {"", 1},
    {"Ki", 1ULL << 10},
    {"Mi", 1ULL << 20},
    {"Gi", 1ULL << 30},
    {"Ti", 1ULL << 40},
    {"k", 1000ULL},
    {"K", 1000ULL},
    {"M", 1000000ULL},
    {"G", 1000000000ULL},
    {"T", 1000000000000ULL},
};

static const struct units_suffix duration_suffixes[] = {
    {"", 1000}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000},
};

/* Splits s into a decimal number and a suffix looked up in table. */
static int units_parse(const char *s, const struct units_suffix *table, size_t n, uint64_t *ret)
{
        if (!s || !isdigit((unsigned char)*s))
                return -EINVAL;
        errno = 0;
        char *end;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        for (size_t i = 0; i < n; i++) {
                if (strcmp(end, table[i].suffix) != 0)
                        continue;
                if (v > UINT64_MAX / table[i].factor)
                        return -ERANGE;
                *ret = (uint64_t)v * table[i].factor;
                return 0;
        }
        return -EINVAL;
}

int units_parse_size(const char *s, uint64_t *ret_bytes)
{
        return units_parse(s, size_suffixes, ARRAY_SIZE(size_suffixes), ret_bytes);
}

int units_parse_duration_ms(const char *s, uint64_t *ret_ms)
{
        return units_parse(s, duration_suffixes, ARRAY_SIZE(duration_suffixes), ret_ms);
}

int units_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
        uint64_t v;
        int r = units_parse(s, size_suffixes, 1, &v);
        if (r < 0)
                return r;
        if (v < min || v > max)
                return -ERANGE;
        *ret = v;
        return 0;
}

void units_format_size(uint64_t bytes, char *buf, size_t size)
{
        static const char *const names[] = {"Ti", "Gi", "Mi", "Ki"};
        static const unsigned shifts[] = {40, 30, 20, 10};
        for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
                uint64_t unit = 1ULL << shifts[i];
                if (bytes >= unit && bytes % unit == 0) {
                        snprintf(buf, size, "%llu%s", (unsigned long long)(bytes / unit), names[i]);
                        return;
                }
        }
        snprintf(buf, size, "%llu", (unsigned long long)bytes);
}
