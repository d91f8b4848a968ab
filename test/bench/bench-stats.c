/* Samples, percentiles and the figure table. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "test/bench/bench.h"
#include "common/cleanup.h"

#define BENCH_MAX_FIGURES 256

struct bench_fig {
        struct bench_figure_spec spec;
        char name[64], floor[64]; /* spec.name and spec.floor point here */
        double median, min, max, load;
        size_t runs;
        char skipped[160]; /* non-empty: not measured, and why */
};

static struct bench_fig bench_figs[BENCH_MAX_FIGURES];
static size_t bench_n_figs;

void bench_samples_add(struct bench_samples *s, double seconds)
{
        if (s->n == s->cap) {
                size_t cap = s->cap ? s->cap * 2 : 1024;
                double *v = realloc(s->v, cap * sizeof(*v));
                if (!v)
                        abort(); /* a benchmark that cannot record is useless */
                s->v = v;
                s->cap = cap;
        }
        s->v[s->n++] = seconds;
}

void bench_samples_merge(struct bench_samples *into, const struct bench_samples *from)
{
        for (size_t i = 0; i < from->n; i++)
                bench_samples_add(into, from->v[i]);
}

static int bench_cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return (x > y) - (x < y);
}

static double bench_sorted_percentile(const double *v, size_t n, double p)
{
        if (n == 0)
                return NAN;
        /* Nearest rank: the smallest sample with at least p% of samples at or below it. */
        double rank = ceil(p / 100.0 * (double)n);
        size_t i = rank < 1 ? 0 : (size_t)rank - 1;
        return v[i < n ? i : n - 1];
}

double bench_samples_percentile(struct bench_samples *s, double p)
{
        qsort(s->v, s->n, sizeof(double), bench_cmp_double);
        return bench_sorted_percentile(s->v, s->n, p);
}

void bench_samples_release(struct bench_samples *s)
{
        free(s->v);
        *s = (struct bench_samples){0};
}

double bench_now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double bench_loadavg(void)
{
        char text[64] = "";
        FILE *f = fopen("/proc/loadavg", "re");
        if (!f)
                return NAN;
        bool got = fgets(text, sizeof(text), f) != NULL;
        fclose(f);
        char *end;
        double load = got ? strtod(text, &end) : NAN;
        return got && end != text ? load : NAN;
}

static struct bench_fig *bench_fig_new(const struct bench_figure_spec *spec)
{
        if (bench_n_figs == BENCH_MAX_FIGURES)
                return NULL;
        struct bench_fig *f = &bench_figs[bench_n_figs++];
        *f = (struct bench_fig){.spec = *spec, .load = bench_loadavg()};
        snprintf(f->name, sizeof(f->name), "%s", spec->name);
        f->spec.name = f->name;
        if (spec->floor) {
                snprintf(f->floor, sizeof(f->floor), "%s", spec->floor);
                f->spec.floor = f->floor;
        }
        return f;
}

static const char *bench_verdict(double value, double max)
{
        if (max <= 0 || isnan(value))
                return "";
        return value <= max ? "met" : "MISSED";
}

void bench_figure(const struct bench_figure_spec *spec, const double *runs, size_t n)
{
        struct bench_fig *f = bench_fig_new(spec);
        if (!f)
                return;
        double v[BENCH_MAX_RUNS];
        if (n > BENCH_MAX_RUNS)
                n = BENCH_MAX_RUNS;
        memcpy(v, runs, n * sizeof(*v));
        qsort(v, n, sizeof(*v), bench_cmp_double);
        f->runs = n;
        f->median = n ? (n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2) : NAN;
        f->min = n ? v[0] : NAN;
        f->max = n ? v[n - 1] : NAN;
        fprintf(stderr, "  %-10s %-34s %12.4g %-6s (runs %zu, load %.2f) %s\n", spec->phase,
                spec->name, f->median, spec->unit, n, f->load, bench_verdict(f->median, spec->max));
}

void bench_skip(const char *phase, const char *what, const char *why)
{
        struct bench_figure_spec spec = {.phase = phase, .name = what, .unit = ""};
        struct bench_fig *f = bench_fig_new(&spec);
        if (!f)
                return;
        f->median = NAN;
        snprintf(f->skipped, sizeof(f->skipped), "%s", why);
        for (char *c = f->skipped; *c; c++) /* stays valid inside a JSON string */
                if (*c == '"' || *c == '\\' || (unsigned char)*c < 0x20)
                        *c = '\'';
        fprintf(stderr, "  %-10s %-34s skipped: %s\n", phase, what, why);
}

double bench_figure_value(const char *name)
{
        for (size_t i = 0; i < bench_n_figs; i++)
                if (strcmp(bench_figs[i].spec.name, name) == 0 && !bench_figs[i].skipped[0])
                        return bench_figs[i].median;
        return NAN;
}

static double bench_ratio(const struct bench_fig *f)
{
        if (!f->spec.floor)
                return NAN;
        double floor = bench_figure_value(f->spec.floor);
        return floor > 0 ? f->median / floor : NAN;
}

static void bench_report_row(FILE *out, const struct bench_fig *f)
{
        if (f->skipped[0]) {
                fprintf(out, "%-10s %-34s skipped: %s\n", f->spec.phase, f->spec.name, f->skipped);
                return;
        }
        char target[48] = "", ratio[48] = "";
        if (f->spec.max > 0)
                snprintf(target, sizeof(target), "<= %g %s", f->spec.max,
                         bench_verdict(f->median, f->spec.max));
        double r = bench_ratio(f);
        if (!isnan(r))
                snprintf(ratio, sizeof(ratio), "%.2fx %s %s", r,
                         strncmp(f->spec.floor, "floor_", 6) == 0 ? "floor" : "ref",
                         bench_verdict(r, f->spec.max_ratio));
        fprintf(out, "%-10s %-34s %12.4g %-6s %10.4g %10.4g %5.2f  %-18s %s\n", f->spec.phase,
                f->spec.name, f->median, f->spec.unit, f->min, f->max, f->load, target, ratio);
}

static void bench_json_number(FILE *out, const char *key, double v)
{
        if (isnan(v))
                fprintf(out, ",\"%s\":null", key);
        else
                fprintf(out, ",\"%s\":%.6g", key, v);
}

static void bench_report_json(FILE *out, const struct bench_fig *f)
{
        fprintf(out, "{\"phase\":\"%s\",\"figure\":\"%s\"", f->spec.phase, f->spec.name);
        if (f->skipped[0]) {
                fprintf(out, ",\"skipped\":\"%s\"}\n", f->skipped);
                return;
        }
        fprintf(out, ",\"unit\":\"%s\",\"runs\":%zu", f->spec.unit, f->runs);
        bench_json_number(out, "median", f->median);
        bench_json_number(out, "min", f->min);
        bench_json_number(out, "max", f->max);
        bench_json_number(out, "loadavg", f->load);
        if (f->spec.max > 0)
                bench_json_number(out, "target_max", f->spec.max);
        double r = bench_ratio(f);
        if (!isnan(r)) {
                fprintf(out, ",\"floor\":\"%s\"", f->spec.floor);
                bench_json_number(out, "floor_ratio", r);
                if (f->spec.max_ratio > 0)
                        bench_json_number(out, "target_max_ratio", f->spec.max_ratio);
        }
        fputs("}\n", out);
}

void bench_report(FILE *out)
{
        fprintf(out, "\n%-10s %-34s %12s %-6s %10s %10s %5s  %-18s %s\n", "phase", "figure",
                "median", "unit", "min", "max", "load", "target",
                "ratio (floor, or ref: first level)");
        for (size_t i = 0; i < bench_n_figs; i++)
                bench_report_row(out, &bench_figs[i]);
        fputc('\n', out);
        for (size_t i = 0; i < bench_n_figs; i++)
                bench_report_json(out, &bench_figs[i]);
}
