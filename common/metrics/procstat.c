#include "common/metrics/procstat.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"

static int procstat_slurp(const char *path, char *buf, size_t size)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return neg_errno();
        size_t n = 0;
        while (n + 1 < size) {
                ssize_t r = read(fd, buf + n, size - 1 - n);
                if (r < 0)
                        return neg_errno();
                if (r == 0)
                        break;
                n += (size_t)r;
        }
        buf[n] = '\0';
        return (int)n;
}

/* /proc/<pid>/stat: the command name may hold spaces and ')', so fields are counted from
 * the last ')'. utime and stime are fields 14 and 15. */
static int procstat_parse_stat(const char *text, struct procstat *ret)
{
        const char *p = strrchr(text, ')');
        if (!p)
                return -EINVAL;
        /* After ')' come field 3 (state) onwards, one space apart: utime is the 12th. */
        unsigned long long utime = 0, stime = 0;
        int field = 2;
        for (const char *t = p + 1; *t && field < 15; t++) {
                if (*t != ' ')
                        continue;
                field++;
                if (field == 14)
                        utime = strtoull(t + 1, NULL, 10);
                else if (field == 15)
                        stime = strtoull(t + 1, NULL, 10);
        }
        if (field < 15)
                return -EINVAL;
        long hz = sysconf(_SC_CLK_TCK);
        ret->cpu_seconds = (double)(utime + stime) / (double)(hz > 0 ? hz : 100);
        return 0;
}

static uint64_t procstat_status_field(const char *text, const char *key)
{
        size_t klen = strlen(key);
        for (const char *line = text; line && *line; line = strchr(line, '\n')) {
                if (*line == '\n')
                        line++;
                if (strncmp(line, key, klen) == 0 && line[klen] == ':')
                        return strtoull(line + klen + 1, NULL, 10);
        }
        return 0;
}

static void procstat_parse_status(const char *text, struct procstat *ret)
{
        ret->vm_rss_bytes = procstat_status_field(text, "VmRSS") * 1024;
        ret->rss_anon_bytes = procstat_status_field(text, "RssAnon") * 1024;
        ret->vm_hwm_bytes = procstat_status_field(text, "VmHWM") * 1024;
        ret->threads = procstat_status_field(text, "Threads");
}

static int procstat_count_fds(const char *dir)
{
        DIR *d = opendir(dir);
        if (!d)
                return neg_errno();
        int n = 0;
        struct dirent *e;
        while ((e = readdir(d)))
                if (e->d_name[0] != '.')
                        n++;
        closedir(d);
        return n;
}

int procstat_read(pid_t pid, struct procstat *ret)
{
        char base[32], path[64], text[4096] = "";
        if (pid > 0)
                snprintf(base, sizeof(base), "/proc/%d", (int)pid);
        else
                snprintf(base, sizeof(base), "/proc/self");

        struct procstat st = {0};
        snprintf(path, sizeof(path), "%s/stat", base);
        int r = procstat_slurp(path, text, sizeof(text));
        if (r < 0)
                return r;
        r = procstat_parse_stat(text, &st);
        if (r < 0)
                return r;
        snprintf(path, sizeof(path), "%s/status", base);
        r = procstat_slurp(path, text, sizeof(text));
        if (r < 0)
                return r;
        procstat_parse_status(text, &st);
        snprintf(path, sizeof(path), "%s/fd", base);
        r = procstat_count_fds(path);
        if (r < 0)
                return r;
        /* Reading our own fd directory holds one fd open while counting it. */
        st.open_fds = (uint64_t)r - (pid <= 0 && r > 0);
        *ret = st;
        return 0;
}
