/* Bounded string copies into fixed-size buffers. The unbounded and silently truncating forms
 * (strcpy, strncpy, sprintf, ...) are poisoned by banned.h; these say when a string does not
 * fit instead of overflowing or cutting it. */
#pragma once

#include <stddef.h>

/* Copies src into dst[size] with its NUL. -ENAMETOOLONG (dst set to "") when it does not fit. */
int str_copy(char *dst, size_t size, const char *src);

/* snprintf into dst[size]: -ENAMETOOLONG (dst set to "") when the result would be cut. */
int str_format(char *dst, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Refuses anything but an array as dst, so that sizeof(dst) is its real size. */
#define STR_IS_ARRAY(a) (!__builtin_types_compatible_p(__typeof__(a), __typeof__(&(a)[0])))

/* str_copy()/str_format() into a char array, sized by the compiler. */
#define STR_COPY(dst, src)                                                                         \
        ({                                                                                         \
                _Static_assert(STR_IS_ARRAY(dst), "STR_COPY needs an array destination");          \
                str_copy((dst), sizeof(dst), (src));                                               \
        })
#define STR_FORMAT(dst, ...)                                                                       \
        ({                                                                                         \
                _Static_assert(STR_IS_ARRAY(dst), "STR_FORMAT needs an array destination");        \
                str_format((dst), sizeof(dst), __VA_ARGS__);                                       \
        })
