/* Parsing of sizes ("1Gi", "512M", "4096") and durations ("15s", "500ms", "2m"). */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Binary (Ki, Mi, Gi, Ti) and decimal (k, K, M, G, T) suffixes; plain bytes. -EINVAL on junk,
 * -ERANGE on overflow. */
int units_parse_size(const char *s, uint64_t *ret_bytes);

/* ms, s, m, h suffixes; a bare number is seconds. */
int units_parse_duration_ms(const char *s, uint64_t *ret_ms);

/* Parses a whole unsigned decimal number within [min, max]. */
int units_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret);

/* Formats bytes as "1Gi"/"512Mi"/"4096" (exact when possible) into buf. */
void units_format_size(uint64_t bytes, char *buf, size_t size);
