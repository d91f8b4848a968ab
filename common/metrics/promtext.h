/* Writer for the Prometheus text exposition format (version 0.0.4). Collectors get a
 * struct promtext and write whole families: one promtext_family() then its samples. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct promtext {
        FILE *out;
};

/* Writes "# HELP" and "# TYPE" (counter, gauge, histogram) for name. */
void promtext_family(struct promtext *w, const char *name, const char *type, const char *help);

/* Writes `name{labels} value`. labels is `key="value",...` without braces (values already
 * escaped with promtext_escape), or NULL for none. */
void promtext_sample(struct promtext *w, const char *name, const char *labels, double value);
void promtext_sample_u64(struct promtext *w, const char *name, const char *labels, uint64_t value);

/* Copies s into buf escaping '\\', '"' and newlines for a label value; truncates to fit.
 * Returns buf. */
char *promtext_escape(const char *s, char *buf, size_t size);
