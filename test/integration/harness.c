#include "test/integration/harness.h"

#include <csi.pb-c.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <check.h>
#include <ftw.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"

#define HARNESS_MAX_ARGS 48
#define HARNESS_MAX_LIVE 16

/* Harnesses not yet stopped: a failed assertion exits the test process, and the exit handler
 * still releases their mounts, loop devices and files. */
static struct harness *harness_live[HARNESS_MAX_LIVE];

static bool harness_exiting;

static void harness_atexit(void)
{
        harness_exiting = true;
        for (size_t i = 0; i < HARNESS_MAX_LIVE; i++)
                if (harness_live[i])
                        harness_stop(harness_live[i]);
}

static void harness_track(struct harness *h, bool live)
{
        static bool registered;
        if (!registered) {
                registered = true;
                atexit(harness_atexit);
        }
        for (size_t i = 0; i < HARNESS_MAX_LIVE; i++) {
                if (live && !harness_live[i]) {
                        harness_live[i] = h;
                        return;
                }
                if (!live && harness_live[i] == h)
                        harness_live[i] = NULL;
        }
}

void harness_path(const struct harness *h, const char *rel, char *buf, size_t size)
{
        snprintf(buf, size, "%s/%s", h->root, rel);
}

static void harness_sleep_ms(long ms)
{
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
}

static void harness_exec(const struct harness *h, const char *const *extra, const char *const *env)
{
        const char *argv[HARNESS_MAX_ARGS];
        size_t n = 0;
        argv[n++] = SILO_BIN;
        argv[n++] = "--endpoint";
        argv[n++] = h->endpoint;
        argv[n++] = "--pool";
        argv[n++] = h->pool;
        argv[n++] = "--kubelet-dir";
        argv[n++] = h->kubelet_dir;
        argv[n++] = "--nodeid";
        argv[n++] = "test-node";
        argv[n++] = "-v";
        for (size_t i = 0; extra && extra[i] && n < HARNESS_MAX_ARGS - 1; i++)
                argv[n++] = extra[i];
        argv[n] = NULL;
        setenv("SILO_TEST_RELEASE", h->release, 1);
        for (size_t i = 0; env && env[i]; i++)
                putenv((char *)env[i]);
        /* A test that dies (timeout, crash) takes its daemon with it. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open(h->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd >= 0)
                dup2(fd, STDERR_FILENO);
        execv(SILO_BIN, (char *const *)argv);
        _exit(127);
}

static uint64_t harness_now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int harness_probe_ready(struct harness *h)
{
        for (uint64_t until = harness_now_ms() + 30000; harness_now_ms() < until;) {
                int status;
                if (waitpid(h->pid, &status, WNOHANG) == h->pid) {
                        h->pid = 0;
                        return -ECHILD;
                }
                /* Calling before the socket exists would put the channel into backoff. */
                if (access(h->socket, F_OK) < 0) {
                        harness_sleep_ms(5);
                        continue;
                }
                Csi__V1__ProbeRequest req = CSI__V1__PROBE_REQUEST__INIT;
                struct client_result res;
                if (client_call(h->client, "/csi.v1.Identity/Probe", &req.base,
                                &csi__v1__probe_response__descriptor, 1000, &res) == 0 &&
                    res.status == ERR_OK) {
                        Csi__V1__ProbeResponse *p = (Csi__V1__ProbeResponse *)res.resp;
                        bool ready = p->ready && p->ready->value;
                        client_result_release(&res);
                        if (ready)
                                return 0;
                } else {
                        client_result_release(&res);
                }
                harness_sleep_ms(20);
        }
        return -ETIMEDOUT;
}

/* Waits until Probe answers ready=true, the daemon exits, or 30 s pass. */
static int harness_wait_ready(struct harness *h)
{
        /* The probes wait for the connection: failing at once while a restarted daemon's
         * socket is still the stale one left its handshake to gRPC's backup poller (up to 5 s
         * per restart). */
        client_set_wait_for_ready(h->client, true);
        int r = harness_probe_ready(h);
        client_set_wait_for_ready(h->client, false);
        return r;
}

static int harness_touch(const char *path)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
                return neg_errno();
        close(fd);
        return 0;
}

void harness_release(const struct harness *h)
{
        ck_assert_int_eq(harness_touch(h->release), 0);
}

static int harness_spawn(struct harness *h, const char *const *extra_args, const char *const *env)
{
        if (unlink(h->release) < 0 && errno != ENOENT)
                return neg_errno();
        h->pid = fork();
        if (h->pid < 0)
                return neg_errno();
        if (h->pid == 0)
                harness_exec(h, extra_args, env);
        return 0;
}

int harness_restart(struct harness *h, const char *const *extra_args, const char *const *env)
{
        int r = harness_spawn(h, extra_args, env);
        return r < 0 ? r : harness_wait_ready(h);
}

int harness_respawn(struct harness *h, const char *const *extra_args, const char *const *env)
{
        return harness_spawn(h, extra_args, env);
}

static int harness_prepare(struct harness *h)
{
        *h = (struct harness){0};
        snprintf(h->root, sizeof(h->root), "/tmp/silo-test-XXXXXX");
        if (!mkdtemp(h->root))
                return neg_errno();
        harness_path(h, "pool", h->pool, sizeof(h->pool));
        harness_path(h, "kubelet", h->kubelet_dir, sizeof(h->kubelet_dir));
        harness_path(h, "csi.sock", h->socket, sizeof(h->socket));
        harness_path(h, "silo.log", h->log_path, sizeof(h->log_path));
        harness_path(h, "release", h->release, sizeof(h->release));
        snprintf(h->endpoint, sizeof(h->endpoint), "unix://%s", h->socket);
        harness_track(h, true);
        if (mkdir(h->pool, 0750) < 0 || mkdir(h->kubelet_dir, 0750) < 0)
                return neg_errno();
        return client_new(h->endpoint, &h->client);
}

int harness_start(struct harness *h, const char *const *extra_args, const char *const *env)
{
        int r = harness_prepare(h);
        return r < 0 ? r : harness_restart(h, extra_args, env);
}

int harness_start_on_loop_pool(struct harness *h, unsigned mib, const char *const *extra_args,
                               const char *const *env)
{
        int r = harness_prepare(h);
        if (r < 0)
                return r;
        char img[320], cmd[1400];
        harness_path(h, "pool.img", img, sizeof(img));
        snprintf(cmd, sizeof(cmd),
                 "truncate -s %uM '%s' && mkfs.ext4 -q -m 0 '%s' && mount -o loop '%s' '%s'", mib,
                 img, img, img, h->pool);
        if (system(cmd) != 0)
                return -EIO;
        return harness_restart(h, extra_args, env);
}

int harness_start_nowait(struct harness *h, const char *const *extra_args, const char *const *env)
{
        int r = harness_prepare(h);
        if (r == 0)
                r = harness_spawn(h, extra_args, env);
        for (int i = 0; r == 0 && i < 6000 && access(h->socket, F_OK) < 0; i++)
                harness_sleep_ms(5);
        return r;
}

static int harness_reap(struct harness *h, int timeout_ms)
{
        for (int waited = 0; waited <= timeout_ms; waited += 10) {
                int status;
                if (waitpid(h->pid, &status, WNOHANG) == h->pid) {
                        h->pid = 0;
                        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
                }
                harness_sleep_ms(10);
        }
        return -2;
}

int harness_terminate(struct harness *h)
{
        if (h->pid <= 0)
                return -1;
        kill(h->pid, SIGTERM);
        int r = harness_reap(h, 30000);
        if (r == -2) {
                harness_kill9(h);
                return -1;
        }
        return r;
}

void harness_kill9(struct harness *h)
{
        if (h->pid <= 0)
                return;
        kill(h->pid, SIGKILL);
        waitpid(h->pid, NULL, 0);
        h->pid = 0;
}

static bool harness_under_root(const struct harness *h, const char *path)
{
        size_t n = strlen(h->root);
        return strncmp(path, h->root, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* Unmounts everything below root, innermost (latest) first. */
static void harness_unmount_all(const struct harness *h)
{
        for (int pass = 0; pass < 64; pass++) {
                FILE *f = fopen("/proc/self/mountinfo", "re");
                if (!f)
                        return;
                char line[4096], target[4096], last[4096] = "";
                while (fgets(line, sizeof(line), f))
                        if (sscanf(line, "%*s %*s %*s %*s %4095s", target) == 1 &&
                            harness_under_root(h, target))
                                snprintf(last, sizeof(last), "%s", target);
                fclose(f);
                if (!last[0])
                        return;
                /* A test that failed inside a snapshot's frozen window: an unmounted frozen
                 * filesystem would pin its loop device for good. */
                _cleanup_close_ int fd = open(last, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd >= 0)
                        (void)ioctl(fd, FITHAW, 0);
                umount2(last, MNT_DETACH);
        }
}

/* Detaches loop devices whose backing file lies below root. */
static void harness_detach_loops(const struct harness *h)
{
        DIR *d = opendir("/sys/block");
        if (!d)
                return;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (strncmp(de->d_name, "loop", 4) != 0)
                        continue;
                char path[512], backing[4096] = "";
                snprintf(path, sizeof(path), "/sys/block/%s/loop/backing_file", de->d_name);
                FILE *f = fopen(path, "re");
                if (!f)
                        continue;
                if (fgets(backing, sizeof(backing), f))
                        backing[strcspn(backing, "\n")] = '\0';
                fclose(f);
                if (!harness_under_root(h, backing))
                        continue;
                snprintf(path, sizeof(path), "/dev/%s", de->d_name);
                _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd >= 0)
                        ioctl(fd, LOOP_CLR_FD, 0);
        }
        closedir(d);
}

static int harness_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st;
        (void)ftw;
        if (flag == FTW_DP)
                rmdir(path);
        else
                unlink(path);
        return 0;
}

/* A sanitizer report or a failed exit of the daemon is a failure of the test that ran it:
 * returns true after printing the end of the daemon's log. */
static bool harness_daemon_failed(const struct harness *h, int status)
{
        bool sanitizer =
            harness_log_contains(h, "Sanitizer") || harness_log_contains(h, "runtime error:");
        if (!sanitizer && (status == 0 || status == -3))
                return false;
        char cmd[400];
        snprintf(cmd, sizeof(cmd), "tail -n 60 '%s' >&2", h->log_path);
        if (system(cmd) < 0)
                perror("tail");
        fprintf(stderr, "silo exited with status %d%s\n", status,
                sanitizer ? " and a sanitizer report" : "");
        return true;
}

void harness_stop(struct harness *h)
{
        harness_track(h, false);
        /* Our client polls its connection only during a call, so an idle connection would
         * hold up the server's graceful GOAWAY for seconds: close it first. */
        client_free(h->client);
        h->client = NULL;
        if (h->pid > 0)
                (void)harness_touch(h->release);
        int status = h->pid > 0 ? harness_terminate(h) : -3;
        bool failed = !harness_exiting && h->root[0] && harness_daemon_failed(h, status);
        if (!h->root[0])
                return;
        harness_unmount_all(h);
        harness_detach_loops(h);
        nftw(h->root, harness_rm, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
        h->root[0] = '\0';
        ck_assert_msg(!failed, "the daemon failed or reported a sanitizer error (log above)");
}

int harness_call(struct harness *h, const char *path, const ProtobufCMessage *req,
                 const ProtobufCMessageDescriptor *resp_desc, struct client_result *res)
{
        return client_call(h->client, path, req, resp_desc, 30000, res);
}

bool harness_log_contains(const struct harness *h, const char *needle)
{
        FILE *f = fopen(h->log_path, "re");
        if (!f)
                return false;
        char line[4096];
        bool found = false;
        while (!found && fgets(line, sizeof(line), f))
                found = strstr(line, needle) != NULL;
        fclose(f);
        return found;
}

unsigned harness_metrics_port(const struct harness *h)
{
        FILE *f = fopen(h->log_path, "re");
        if (!f)
                return 0;
        char line[4096];
        unsigned port = 0;
        while (!port && fgets(line, sizeof(line), f)) {
                const char *p = strstr(line, "msg='serving metrics'");
                p = p ? strstr(p, " port=") : NULL;
                char *end;
                unsigned long v = p ? strtoul(p + strlen(" port="), &end, 10) : 0;
                if (p && end != p + strlen(" port=") && v < 65536)
                        port = (unsigned)v;
        }
        fclose(f);
        return port;
}

unsigned harness_log_count(const struct harness *h, const char *needle)
{
        FILE *f = fopen(h->log_path, "re");
        if (!f)
                return 0;
        char line[4096];
        unsigned n = 0;
        while (fgets(line, sizeof(line), f))
                n += strstr(line, needle) != NULL;
        fclose(f);
        return n;
}

bool harness_retry_slow(enum err_status st, int *tries)
{
        if ((st != ERR_DEADLINE_EXCEEDED && st != ERR_ABORTED) || (*tries)++ >= 300)
                return false;
        harness_sleep_ms(100);
        return true;
}

bool harness_wait_log(const struct harness *h, const char *needle, unsigned n)
{
        for (int i = 0; i < 3000; i++) {
                if (harness_log_count(h, needle) >= n)
                        return true;
                harness_sleep_ms(10);
        }
        return harness_log_count(h, needle) >= n;
}

int harness_run(const char *const *argv, int timeout_ms, char *out, size_t size)
{
        char path[] = "/tmp/silo-run-XXXXXX";
        _cleanup_close_ int fd = mkostemp(path, O_CLOEXEC);
        if (fd < 0)
                return neg_errno();
        unlink(path);
        pid_t pid = fork();
        if (pid < 0)
                return neg_errno();
        if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                dup2(fd, STDOUT_FILENO);
                dup2(fd, STDERR_FILENO);
                const char *args[HARNESS_MAX_ARGS];
                size_t n = 0;
                args[n++] = SILO_BIN;
                for (size_t i = 1; argv[i] && n < HARNESS_MAX_ARGS - 1; i++)
                        args[n++] = argv[i];
                args[n] = NULL;
                execv(SILO_BIN, (char *const *)args);
                _exit(127);
        }
        struct harness child = {.pid = pid};
        int r = harness_reap(&child, timeout_ms);
        if (r == -2)
                harness_kill9(&child);
        ssize_t len = pread(fd, out, size - 1, 0);
        out[len > 0 ? len : 0] = '\0';
        return r;
}

int harness_siloctl(const char *endpoint, const char *args, char *out, size_t size)
{
        char cmd[4096];
        snprintf(cmd, sizeof(cmd), "%s -e '%s' %s 2>&1", SILOCTL_BIN, endpoint, args);
        FILE *p = popen(cmd, "r");
        if (!p)
                return -1;
        size_t n = fread(out, 1, size - 1, p);
        out[n] = '\0';
        int status = pclose(p);
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
