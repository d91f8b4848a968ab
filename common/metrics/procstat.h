/* Resource usage of a process from /proc: CPU time, memory, threads, open fds. Used by the
 * metrics endpoint (for itself) and by the benchmark (for the driver under test). */
#pragma once

#include <stdint.h>
#include <sys/types.h>

struct procstat {
        double cpu_seconds;      /* utime + stime, all threads (clock-tick resolution) */
        uint64_t vm_rss_bytes;   /* VmRSS */
        uint64_t rss_anon_bytes; /* RssAnon */
        uint64_t vm_hwm_bytes;   /* VmHWM: peak RSS */
        uint64_t threads;
        uint64_t open_fds;
};

/* Reads /proc/<pid> (pid 0: this process). Returns 0 or a negative errno (-ENOENT once the
 * process is gone). */
int procstat_read(pid_t pid, struct procstat *ret);
