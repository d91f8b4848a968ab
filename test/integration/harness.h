/* Integration-test harness: starts the real silo binary on a private temp root (pool,
 * kubelet dir, socket) and talks to it with our client. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cli/client.h"

struct harness {
        char root[256];        /* mkdtemp'd directory owning everything below */
        char pool[300];        /* <root>/pool */
        char kubelet_dir[300]; /* <root>/kubelet */
        char socket[300];      /* <root>/csi.sock */
        char endpoint[310];    /* unix://<socket> */
        char log_path[300];    /* <root>/silo.log: the daemon's stderr */
        char release[300];     /* <root>/release: SILO_TEST_RELEASE of the daemon */
        pid_t pid;
        struct client *client;
};

/* Creates the temp root and starts silo with --endpoint/--pool/--kubelet-dir/--nodeid test-node
 * plus extra_args (NULL-terminated, may be NULL), then waits until Probe answers ready.
 * Returns 0 or a negative errno. Environment variables in env (NULL-terminated "K=V", may be
 * NULL) are set for the daemon only. */
int harness_start(struct harness *h, const char *const *extra_args, const char *const *env);

/* Like harness_start, with the pool on its own ext4 filesystem of mib MiB, loop-mounted from
 * <root>/pool.img (released by harness_stop like everything under root). */
int harness_start_on_loop_pool(struct harness *h, unsigned mib, const char *const *extra_args,
                               const char *const *env);

/* Like harness_start but returns as soon as the socket exists (or after 30 s), before Probe
 * says ready. */
int harness_start_nowait(struct harness *h, const char *const *extra_args, const char *const *env);

/* Releases its test-hook pauses, stops the daemon with SIGTERM (waits up to 30 s, then
 * SIGKILL), unmounts anything still mounted under root, detaches loop devices backed by files
 * under root, removes root. */
void harness_stop(struct harness *h);

/* Sends SIGTERM and waits up to 30 s: returns the exit status (0..255), or -1 when it had to
 * be killed or did not exit normally. The root stays. */
int harness_terminate(struct harness *h);

/* Kills the daemon with SIGKILL (crash) and reaps it; root stays. */
void harness_kill9(struct harness *h);

/* Starts the daemon again on the same root (after harness_kill9 or a stop without cleanup). */
int harness_restart(struct harness *h, const char *const *extra_args, const char *const *env);

/* Ends the test-hook pauses of the daemon (SILO_TEST_DELAY), those under way and those to
 * come: a test holds calls with a long delay ("Sleep:60000") until it has seen what it needs,
 * then releases them. harness_stop releases; a restart starts held again. */
void harness_release(const struct harness *h);

/* Starts the daemon again on the same root and returns at once (to kill it while it starts). */
int harness_respawn(struct harness *h, const char *const *extra_args, const char *const *env);

/* Calls path ("/csi.v1.Controller/CreateVolume") with a 30 s deadline. */
int harness_call(struct harness *h, const char *path, const ProtobufCMessage *req,
                 const ProtobufCMessageDescriptor *resp_desc, struct client_result *res);

/* Joins root and rel into buf. */
void harness_path(const struct harness *h, const char *rel, char *buf, size_t size);

/* Runs "siloctl -e <endpoint> <args>" (a shell command line); its stdout and stderr into out;
 * returns the exit status, -1 when it did not exit normally. */
int harness_siloctl(const char *endpoint, const char *args, char *out, size_t size);

/* True when the daemon's log contains needle. */
bool harness_log_contains(const struct harness *h, const char *needle);

/* The port of the daemon's /metrics endpoint, from its "serving metrics" line (written before
 * it is ready), or 0. Start it with --metrics-address 127.0.0.1:0: the kernel picks a free
 * port as it binds, where a port picked beforehand could be taken by then. */
unsigned harness_metrics_port(const struct harness *h);

/* Lines of the daemon's log that contain needle. */
unsigned harness_log_count(const struct harness *h, const char *needle);

/* Waits until at least n lines of the daemon's log contain needle; false after 30 s. For
 * what the daemon does on its own time (a timer, a background thread, a test-hook pause:
 * "msg='test hook: pausing' point=Sleep"); returns as soon as the lines are there. */
bool harness_wait_log(const struct harness *h, const char *needle, unsigned n);

/* Evaluates call (an expression giving an enum err_status) again while it comes back
 * DEADLINE_EXCEEDED or ABORTED, for at least 30 s; gives the last status. Only for idempotent
 * calls in a test that runs the daemon with a short --timeout for another purpose: on a
 * loaded machine such a call may outlast it (its work goes on, and a retry is ABORTED until
 * that work is done). */
#define HARNESS_RETRY_SLOW(call)                                                                   \
        ({                                                                                         \
                enum err_status _retry_st;                                                         \
                int _retry_tries = 0;                                                              \
                do                                                                                 \
                        _retry_st = (call);                                                        \
                while (harness_retry_slow(_retry_st, &_retry_tries));                              \
                _retry_st;                                                                         \
        })
bool harness_retry_slow(enum err_status st, int *tries);

/* Runs silo with argv (argv[0] is ignored; NULL-terminated) to completion, with stdout and
 * stderr captured into out (NUL-terminated, truncated to size). Returns the exit status
 * (0..255), -1 for a death by signal, or -2 when it still ran after timeout_ms (then killed):
 * for daemons that must refuse to start. */
int harness_run(const char *const *argv, int timeout_ms, char *out, size_t size);
