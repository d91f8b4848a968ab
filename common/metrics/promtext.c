#include "common/metrics/promtext.h"

#include <inttypes.h>
#include <math.h>

#include "common/cleanup.h"

void promtext_family(struct promtext *w, const char *name, const char *type, const char *help)
{
        fprintf(w->out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void promtext_name(struct promtext *w, const char *name, const char *labels)
{
        if (labels && labels[0])
                fprintf(w->out, "%s{%s} ", name, labels);
        else
                fprintf(w->out, "%s ", name);
}

void promtext_sample(struct promtext *w, const char *name, const char *labels, double value)
{
        promtext_name(w, name, labels);
        if (isnan(value))
                fputs("NaN\n", w->out);
        else if (isinf(value))
                fputs(value > 0 ? "+Inf\n" : "-Inf\n", w->out);
        else
                fprintf(w->out, "%.15g\n", value);
}

void promtext_sample_u64(struct promtext *w, const char *name, const char *labels, uint64_t value)
{
        promtext_name(w, name, labels);
        fprintf(w->out, "%" PRIu64 "\n", value);
}

char *promtext_escape(const char *s, char *buf, size_t size)
{
        size_t n = 0;
        for (; *s && n + 3 < size; s++) {
                if (*s == '\\' || *s == '"') {
                        buf[n++] = '\\';
                        buf[n++] = *s;
                } else if (*s == '\n') {
                        buf[n++] = '\\';
                        buf[n++] = 'n';
                } else {
                        buf[n++] = *s;
                }
        }
        if (size > 0)
                buf[n] = '\0';
        return buf;
}
