/* One key=value line per event on stderr. Thread-safe (one write(2) per line). */
#pragma once

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

/* Sets the threshold: lines above it are dropped. Default LOG_INFO. */
void log_set_level(enum log_level level);
int log_would_log(enum log_level level);

/* fmt produces the rest of the line after "level=..."; conventionally key=value pairs. */
void log_line(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_line(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_line(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_line(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_line(LOG_DEBUG, __VA_ARGS__)
