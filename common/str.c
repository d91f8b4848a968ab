#include "common/str.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/cleanup.h"

int str_copy(char *dst, size_t size, const char *src)
{
        size_t n = strnlen(src, size);
        if (n >= size) {
                if (size)
                        dst[0] = '\0';
                return -ENAMETOOLONG;
        }
        memcpy(dst, src, n + 1);
        return 0;
}

int str_format(char *dst, size_t size, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(dst, size, fmt, ap); /* NOLINT: clang 14 va_list */
        va_end(ap);
        if (n < 0 || (size_t)n >= size) {
                if (size)
                        dst[0] = '\0';
                return n < 0 ? -EINVAL : -ENAMETOOLONG;
        }
        return 0;
}
