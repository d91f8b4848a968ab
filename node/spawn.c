#include "node/spawn.h"

#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "common/cleanup.h"
#include "common/seam.h"

/* Held shared while a child is between fork and exec (posix_spawn returns after its exec has
 * begun); spawn_settle() takes it exclusively to wait that out. */
static pthread_rwlock_t spawn_lock = PTHREAD_RWLOCK_INITIALIZER;

void spawn_settle(void)
{
        pthread_rwlock_wrlock(&spawn_lock);
        pthread_rwlock_unlock(&spawn_lock);
}

static const char *const spawn_dirs[] = {"/usr/sbin", "/usr/bin", "/sbin", "/bin"};

static int spawn_lookup(const char *name, char *buf, size_t size)
{
        if (strchr(name, '/'))
                return -EINVAL;
        for (size_t i = 0; i < ARRAY_SIZE(spawn_dirs); i++) {
                snprintf(buf, size, "%s/%s", spawn_dirs[i], name);
                if (access(buf, X_OK) == 0)
                        return 0;
        }
        return -ENOENT;
}

/* Reads the pipe to EOF, keeping what fits. */
static void spawn_collect(int fd, char *out, size_t size)
{
        size_t used = 0;
        char sink[512] = {0};

        for (;;) {
                bool keep = out && used + 1 < size;
                char *dst = keep ? out + used : sink;
                size_t room = keep ? size - 1 - used : sizeof(sink);
                ssize_t n = read(fd, dst, room);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                if (keep)
                        used += (size_t)n;
        }
        if (out && size)
                out[used] = '\0';
}

static int spawn_wait(pid_t pid)
{
        int status;

        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return neg_errno();
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        return -ECANCELED;
}

static int spawn_start(const char *path, const char *const *argv, int out_fd, pid_t *ret)
{
        static const char *const envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL};
        posix_spawn_file_actions_t fa;
        int r;

        r = posix_spawn_file_actions_init(&fa);
        if (r != 0)
                return -r;
        r = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        if (r == 0)
                r = posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
        if (r == 0)
                r = posix_spawn_file_actions_adddup2(&fa, out_fd, 2);
        if (r == 0) {
                pthread_rwlock_rdlock(&spawn_lock);
                r = posix_spawn(ret, path, &fa, NULL, (char *const *)argv, (char *const *)envp);
                pthread_rwlock_unlock(&spawn_lock);
        }
        posix_spawn_file_actions_destroy(&fa);
        return -r;
}

SILO_SEAM int spawn_run(const char *const *argv, char *out, size_t out_size)
{
        _cleanup_close_ int rd = -1, wr = -1;
        char path[256];
        int fds[2], r;
        pid_t pid = 0;

        if (out && out_size)
                out[0] = '\0';
        r = spawn_lookup(argv[0], path, sizeof(path));
        if (r < 0)
                return r;
        if (pipe2(fds, O_CLOEXEC) < 0)
                return neg_errno();
        rd = fds[0];
        wr = fds[1];
        r = spawn_start(path, argv, wr, &pid);
        if (r < 0 || pid <= 0)
                return r < 0 ? r : -ECHILD;
        closep(&wr);
        wr = -1;
        spawn_collect(rd, out, out_size);
        return spawn_wait(pid);
}

static void spawn_last_line(const char *out, char *buf, size_t size)
{
        size_t end = strlen(out), start;

        while (end > 0 && (out[end - 1] == '\n' || out[end - 1] == ' '))
                end--;
        start = end;
        while (start > 0 && out[start - 1] != '\n')
                start--;
        while (start < end && (out[start] == ' ' || out[start] == '\t'))
                start++;
        snprintf(buf, size, "%.*s", (int)(end - start), out + start);
}

/* "mke2fs 1.47.0 (5-Feb-2023)": a word, then a dotted version number. */
static bool spawn_is_banner(const char *line)
{
        const char *sp = strchr(line, ' ');
        const char *nl = strchr(line, '\n');
        if (!sp || (nl && nl < sp))
                return false;
        size_t digits = strspn(sp + 1, "0123456789");
        return digits > 0 && sp[1 + digits] == '.';
}

void spawn_error_line(const char *out, char *buf, size_t size)
{
        const char *line = out ? out : "";
        while (*line) {
                size_t len = strcspn(line, "\n");
                if (strncmp(line, "Usage", 5) == 0 || strncmp(line, "usage", 5) == 0)
                        break;
                if (len > 0 && line[0] != ' ' && !spawn_is_banner(line)) {
                        snprintf(buf, size, "%.*s", (int)len, line);
                        return;
                }
                line += len + (line[len] == '\n');
        }
        spawn_last_line(out ? out : "", buf, size);
}
