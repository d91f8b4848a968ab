#include "common/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"

static atomic_int log_threshold = LOG_INFO;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void log_set_level(enum log_level level)
{
        atomic_store(&log_threshold, (int)level);
}

int log_would_log(enum log_level level)
{
        return (int)level <= atomic_load(&log_threshold);
}

void log_line(enum log_level level, const char *fmt, ...)
{
        if (!log_would_log(level))
                return;

        char line[2048];
        struct timespec ts;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        int n = snprintf(line, sizeof(line), "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s ",
                         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                         tm.tm_sec, ts.tv_nsec / 1000000, level_names[level]);
        va_list ap;
        va_start(ap, fmt);
        int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
        va_end(ap);
        size_t len = (size_t)n + (size_t)(m < 0 ? 0 : m);
        if (len > sizeof(line) - 2)
                len = sizeof(line) - 2;
        /* One event, one line: a newline or other control character in a value (a request's
         * id or path quoted in a message) must not start a line of its own. */
        for (size_t i = (size_t)n; i < len; i++)
                if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
                        line[i] = '?';
        line[len++] = '\n';
        ssize_t w = write(STDERR_FILENO, line, len);
        (void)w;
}
