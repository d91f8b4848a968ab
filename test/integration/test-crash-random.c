/* Random kill -9 under streams of calls. Controller: in each round two client threads send
 * a random mix of named, idempotent calls (creates thin and thick, from a snapshot and from a
 * volume, snapshots, group snapshots, deletes, publish, unpublish, expand, modify) while the
 * main thread kills the daemon after a random delay (and one round in four again while it
 * starts). After the restart the pool must hold no leftover, every call that got no answer
 * is sent again until it gets the spec's answer (as a CSI sidecar would), and then the
 * listings, the attach records, the sizes and every data file must be exactly what the
 * clients were told. Node: the same with stage, publish and their undoing (below).
 * The seed is fixed unless SILO_CRASH_SEED gives another (or "random"); with
 * SILO_CRASH_ROUNDS and SILO_CRASH_NODE_ROUNDS it replays a run: the same calls and delays,
 * though the kill lands where the timing puts it. SILO_CRASH_VERBOSE=1 logs each round. A
 * long run needs CK_TIMEOUT_MULTIPLIER (each case has 300 s). */
/* ctest-labels: privileged */
#include <check.h>
#include <csi.pb-c.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "test/integration/harness-ctl.h"
#include "test/integration/harness-node.h"
#include "test/integration/harness-crash.h"

#define ROUNDS_DEFAULT 50
#define KILL_MAX_MS    60
#define SEED_DEFAULT   20261205

static struct harness h;
static struct hc_model model;
static bool verbose;

static void teardown(void)
{
        harness_ctl_stop(&h);
        hc_model_release(&model);
}

static double now_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
}

static unsigned env_or(const char *name, unsigned fallback)
{
        const char *v = getenv(name);
        char *end = NULL;
        unsigned long n = v && *v ? strtoul(v, &end, 0) : 0;
        return v && *v && end && !*end ? (unsigned)n : fallback;
}

static unsigned crash_seed(void)
{
        const char *env = getenv("SILO_CRASH_SEED");
        verbose = getenv("SILO_CRASH_VERBOSE") != NULL;
        if (env && strcmp(env, "random") == 0)
                return (unsigned)time(NULL) ^ (unsigned)getpid();
        return env_or("SILO_CRASH_SEED", SEED_DEFAULT);
}

/* The end of the daemon's log, before a failure takes the test root with it. */
static void dump_log(void)
{
        char cmd[600];
        snprintf(cmd, sizeof(cmd), "grep -v level=debug '%s' | tail -n 30 >&2", h.log_path);
        (void)!system(cmd);
}

static void restart(void)
{
        int r = harness_restart(&h, NULL, NULL);
        if (r < 0)
                dump_log();
        ck_assert_msg(r == 0, "seed %u round %u: restart: %s", model.seed, model.round,
                      strerror(-r));
}

static void check_clients(void)
{
        pthread_mutex_lock(&model.lock);
        bool failed = model.failure[0] != '\0';
        pthread_mutex_unlock(&model.lock);
        if (failed)
                dump_log();
        hc_assert_no_failure(&model);
}

/* One round in four, the daemon is killed again while it starts: in its recovery, or just
 * after. */
static void kill_while_starting(uint64_t *rng)
{
        if (hc_rng(rng) % 4)
                return;
        ck_assert_int_eq(harness_respawn(&h, NULL, NULL), 0);
        sleep_ms((long)(hc_rng(rng) % 40));
        harness_kill9(&h);
}

struct client_thread {
        pthread_t th;
        struct hc_client *cl;
};

static void *client_run(void *arg)
{
        struct client_thread *t = arg;
        hc_client_stream(&model, t->cl);
        return NULL;
}

/* One round: the clients run until the kill, the daemon comes back, recovery is checked,
 * unanswered calls are sent again, then everything is compared with what the clients were
 * told. */
static void crash_round(unsigned round)
{
        struct client_thread t[HC_CLIENTS];
        uint64_t rng = hc_rng_seed(model.seed, round, 99);
        long delay = (long)(hc_rng(&rng) % (KILL_MAX_MS + 1));
        model.round = round;
        atomic_store(&model.stop, false);
        for (int i = 0; i < HC_CLIENTS; i++) {
                t[i].cl = &model.clients[i];
                hc_client_begin_round(&model, t[i].cl, round);
                ck_assert_int_eq(pthread_create(&t[i].th, NULL, client_run, &t[i]), 0);
        }
        double t0 = now_s();
        sleep_ms(delay);
        atomic_store(&model.stop, true);
        harness_kill9(&h);
        for (int i = 0; i < HC_CLIENTS; i++)
                pthread_join(t[i].th, NULL);
        check_clients();
        double t1 = now_s();
        kill_while_starting(&rng);
        restart();
        double t2 = now_s();
        hc_check_pool(&model);
        hc_check_listings(&model, true);
        for (int i = 0; i < HC_CLIENTS; i++)
                hc_client_retry(&model, &model.clients[i]);
        check_clients();
        hc_check_listings(&model, false);
        hc_check_data(&model);
        if (verbose)
                fprintf(stderr,
                        "round %u: kill after %ld ms, killed %.3f s, restarted %.3f s, checked "
                        "%.3f s\n",
                        round, delay, t1 - t0, t2 - t1, now_s() - t2);
}

/* The node side: two volumes (ext4 and raw block), one client thread each, staged, published,
 * unpublished and unstaged at random while the daemon is killed; after each restart and
 * retry the mounts and loop devices are exactly those of the staged and published volumes,
 * and what a pod wrote is still there. */
#define NODE_VOLS           2
#define NODE_ROUNDS_DEFAULT 20
#define NODE_KILL_MAX_MS    400
#define NODE_SIZE           (2048 * HN_MIB)

enum node_kind { N_STAGE, N_PUBLISH, N_UNPUBLISH, N_UNSTAGE, N_WRITE, N_FRESH };
static const char *const node_kind_names[] = {
    "NodeStageVolume", "NodePublishVolume", "NodeUnpublishVolume", "NodeUnstageVolume",
    "write",           "fresh volume"};

struct node_vol {
        char id[16];
        bool block;
        char staging[512], target[512], file[600], staged_at[600];
        bool staged, published;
        unsigned written; /* the sequence number a pod wrote last; 0: none */
        uint64_t rng;
        bool pending; /* kind got no answer */
        enum node_kind kind;
        unsigned calls, unanswered;
};

static struct node_vol nvols[NODE_VOLS];
static const struct harness_node_cap node_ext4 = {.fs_type = "ext4"};
static const struct harness_node_cap node_block = {.block = true};

static enum node_kind node_pick(struct node_vol *v)
{
        unsigned x = (unsigned)(hc_rng(&v->rng) % 10);
        if (!v->staged)
                return x < 7 ? N_STAGE : x < 8 ? N_FRESH : x < 9 ? N_UNSTAGE : N_UNPUBLISH;
        if (!v->published)
                return x < 5 ? N_PUBLISH : x < 8 ? N_UNSTAGE : N_STAGE;
        return x < 4 ? N_UNPUBLISH : x < 8 ? N_WRITE : N_PUBLISH;
}

/* What a pod does: a sequence number into a file (ext4) or the first sector (block). */
static int node_write(struct node_vol *v, unsigned seq)
{
        char buf[512] = "";
        snprintf(buf, sizeof(buf), "seq %u\n", seq);
        if (!v->block)
                return harness_node_write_file(v->file, buf);
        _cleanup_close_ int fd = open(v->target, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || pwrite(fd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf) || fsync(fd) < 0)
                return -EIO;
        return 0;
}

/* A blank volume again, so that the next stage formats (ext4) while it may be killed. */
static int node_fresh(struct node_vol *v)
{
        char path[512];
        snprintf(path, sizeof(path), "%s/volumes/%s.meta", h.pool, v->id);
        unlink(path);
        snprintf(path, sizeof(path), "%s/volumes/%s.img", h.pool, v->id);
        unlink(path);
        v->written = 0;
        return harness_node_volume(&h, v->id, NODE_SIZE, v->block ? "" : "ext4", false);
}

static enum err_status node_send(struct node_vol *v, enum node_kind k)
{
        const struct harness_node_cap *cap = v->block ? &node_block : &node_ext4;
        switch (k) {
        case N_STAGE:
                return harness_node_stage(&h, v->id, v->staging, cap);
        case N_PUBLISH:
                return harness_node_publish(&h, v->id, v->staging, v->target, cap, false);
        case N_UNPUBLISH:
                return harness_node_unpublish(&h, v->id, v->target);
        case N_UNSTAGE:
                return harness_node_unstage(&h, v->id, v->staging);
        case N_WRITE:
                return node_write(v, v->written + 1) < 0 ? ERR_INTERNAL : ERR_OK;
        default:
                return node_fresh(v) < 0 ? ERR_INTERNAL : ERR_OK;
        }
}

static void node_apply(struct node_vol *v, enum node_kind k)
{
        if (k == N_STAGE || k == N_UNSTAGE)
                v->staged = k == N_STAGE;
        if (k == N_PUBLISH || k == N_UNPUBLISH)
                v->published = k == N_PUBLISH;
        if (k == N_WRITE)
                v->written++;
}

static void node_answered(struct node_vol *v, enum node_kind k, enum err_status st)
{
        if (st == ERR_OK)
                node_apply(v, k);
        else
                hc_fail(&model, "volume '%s': %s answered %s ('%s')", v->id, node_kind_names[k],
                        err_status_name(st), harness_node_message());
}

static void *node_client_run(void *arg)
{
        struct node_vol *v = arg;
        while (!atomic_load(&model.stop)) {
                enum node_kind k = node_pick(v);
                enum err_status st = node_send(v, k);
                v->calls++;
                if (atomic_load(&model.stop) && hc_is_unanswered(st)) {
                        v->pending = true;
                        v->kind = k;
                        v->unanswered++;
                        break;
                }
                node_answered(v, k, st);
        }
        return NULL;
}

static void node_check(const struct node_vol *v)
{
        char buf[512] = "", want[512] = "";
        ck_assert_msg(harness_node_is_mountpoint(v->staged_at) == v->staged,
                      "seed %u round %u: volume '%s' %s staged at '%s'", model.seed, model.round,
                      v->id, v->staged ? "is not" : "is still", v->staged_at);
        ck_assert_msg(harness_node_is_mountpoint(v->target) == v->published,
                      "seed %u round %u: volume '%s' %s published at '%s'", model.seed, model.round,
                      v->id, v->published ? "is not" : "is still", v->target);
        if (!v->published || !v->written)
                return;
        snprintf(want, sizeof(want), "seq %u\n", v->written);
        if (v->block) {
                _cleanup_close_ int fd = open(v->target, O_RDONLY | O_CLOEXEC);
                ck_assert_int_eq(pread(fd, buf, sizeof(buf) - 1, 0), sizeof(buf) - 1);
        } else {
                ck_assert_int_gt(harness_node_read_file(v->file, buf, sizeof(buf)), 0);
        }
        ck_assert_msg(strcmp(buf, want) == 0,
                      "seed %u round %u: volume '%s' holds '%.20s', not '%s'", model.seed,
                      model.round, v->id, buf, want);
}

/* With unanswered true, a volume an unanswered call touched may be either way. */
static void node_check_all(bool unanswered)
{
        int mounts = 0, loops = 0;
        for (int i = 0; i < NODE_VOLS; i++) {
                if (!unanswered || !nvols[i].pending)
                        node_check(&nvols[i]);
                mounts += nvols[i].staged + nvols[i].published;
                loops += nvols[i].staged;
        }
        if (unanswered)
                return;
        ck_assert_msg(harness_node_count_mounts(&h) == mounts,
                      "seed %u round %u: %d mounts under the test root, want %d", model.seed,
                      model.round, harness_node_count_mounts(&h), mounts);
        ck_assert_msg(harness_node_count_loops(&h) == loops,
                      "seed %u round %u: %d loop devices, want %d", model.seed, model.round,
                      harness_node_count_loops(&h), loops);
}

static void node_retry(struct node_vol *v)
{
        enum err_status st = ERR_UNAVAILABLE;
        if (!v->pending)
                return;
        for (int i = 0; i < 600 && hc_is_unanswered(st); i++) {
                if (i > 0)
                        sleep_ms(50);
                st = node_send(v, v->kind);
        }
        v->pending = false;
        node_answered(v, v->kind, st);
}

static void node_round(unsigned round)
{
        pthread_t t[NODE_VOLS];
        uint64_t rng = hc_rng_seed(model.seed, round, 98);
        long delay = (long)(hc_rng(&rng) % (NODE_KILL_MAX_MS + 1));
        model.round = round;
        atomic_store(&model.stop, false);
        for (int i = 0; i < NODE_VOLS; i++) {
                nvols[i].rng = hc_rng_seed(model.seed, round, 10 + (unsigned)i);
                ck_assert_int_eq(pthread_create(&t[i], NULL, node_client_run, &nvols[i]), 0);
        }
        sleep_ms(delay);
        atomic_store(&model.stop, true);
        harness_kill9(&h);
        for (int i = 0; i < NODE_VOLS; i++)
                pthread_join(t[i], NULL);
        check_clients();
        kill_while_starting(&rng);
        restart();
        node_check_all(true);
        for (int i = 0; i < NODE_VOLS; i++)
                node_retry(&nvols[i]);
        check_clients();
        node_check_all(false);
        if (verbose)
                fprintf(stderr, "node round %u: kill after %ld ms: %s%s %s%s\n", round, delay,
                        nvols[0].staged ? "staged" : "-", nvols[0].published ? "+published" : "",
                        nvols[1].staged ? "staged" : "-", nvols[1].published ? "+published" : "");
}

static void node_setup(struct node_vol *v, int i)
{
        char rel[64];
        snprintf(v->id, sizeof(v->id), "vol-n%d", i);
        v->block = i == 1;
        snprintf(rel, sizeof(rel), "staging%d", i);
        harness_node_mkdir(&h, rel, v->staging, sizeof(v->staging));
        ck_assert_uint_lt((size_t)snprintf(rel, sizeof(rel), "pods/%s", v->id), sizeof(rel));
        harness_node_kpath(&h, rel, v->target, sizeof(v->target));
        snprintf(v->file, sizeof(v->file), "%s/data", v->target);
        ck_assert_uint_lt((size_t)snprintf(v->staged_at, sizeof(v->staged_at), "%s%s%s", v->staging,
                                           v->block ? "/" : "", v->block ? v->id : ""),
                          sizeof(v->staged_at));
        ck_assert_int_eq(node_fresh(v), 0);
}

START_TEST(node_random_kills)
{
        unsigned seed = crash_seed();
        unsigned rounds = env_or("SILO_CRASH_NODE_ROUNDS", NODE_ROUNDS_DEFAULT);
        char staging[512], target[512];
        fprintf(stderr, "test-crash-random node: SILO_CRASH_SEED=%u SILO_CRASH_NODE_ROUNDS=%u\n",
                seed, rounds);
        harness_node_start(&h, NULL, "pods-unused", staging, target, sizeof(staging));
        hc_model_init(&model, &h, seed);
        memset(nvols, 0, sizeof(nvols));
        for (int i = 0; i < NODE_VOLS; i++)
                node_setup(&nvols[i], i);
        for (unsigned r = 0; r < rounds; r++)
                node_round(r);
        for (int i = 0; i < NODE_VOLS; i++) {
                ASSERT_STATUS(harness_node_unpublish(&h, nvols[i].id, nvols[i].target), ERR_OK);
                ASSERT_STATUS(harness_node_unstage(&h, nvols[i].id, nvols[i].staging), ERR_OK);
                fprintf(stderr, "test-crash-random node: '%s': %u calls, %u unanswered\n",
                        nvols[i].id, nvols[i].calls, nvols[i].unanswered);
        }
        harness_node_assert_clean(&h);
        fprintf(stderr, "test-crash-random node: %u unmounts waited for a helper's exec\n",
                harness_log_count(&h, "mount busy; retrying"));
}
END_TEST

START_TEST(random_kills)
{
        unsigned seed = crash_seed();
        unsigned rounds = env_or("SILO_CRASH_ROUNDS", ROUNDS_DEFAULT);
        fprintf(stderr, "test-crash-random: SILO_CRASH_SEED=%u SILO_CRASH_ROUNDS=%u\n", seed,
                rounds);
        ck_assert_int_eq(harness_start(&h, NULL, NULL), 0);
        harness_node_track(&h); /* a failed check leaves no root behind */
        hc_model_init(&model, &h, seed);
        for (unsigned r = 0; r < rounds; r++)
                crash_round(r);
        hc_teardown_all(&model);
        hc_check_pool(&model);
        hc_check_listings(&model, false);
        hc_check_pool_empty(&model);
        fprintf(stderr, "test-crash-random: %u rounds, seed %u: %s\n", rounds, seed,
                hc_stats(&model));
}
END_TEST

int main(void)
{
        Suite *s = suite_create("crash-random");
        TCase *tc = tcase_create("controller");
        tcase_add_checked_fixture(tc, NULL, teardown);
        tcase_set_timeout(tc, 300);
        tcase_add_test(tc, random_kills);
        suite_add_tcase(s, tc);
        tc = tcase_create("node");
        tcase_add_checked_fixture(tc, NULL, teardown);
        tcase_set_timeout(tc, 300);
        tcase_add_test(tc, node_random_kills);
        suite_add_tcase(s, tc);
        return harness_node_run(s);
}
