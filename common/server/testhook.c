#include "common/server/testhook.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <csi.pb-c.h>

#include "common/err.h"
#include "common/log.h"
#include "common/silo.h"
#include "common/server/vlock.h"
#include "common/cleanup.h"

#if SILO_TEST_HOOKS

static __thread const char *hook_method;
static __thread bool hook_paused;

#define TESTHOOK_MAX_RULES 8

static atomic_int hook_uses[TESTHOOK_MAX_RULES];

/* Rules are "Method:ms" or "Method:ms:count" (only the first count calls are slowed). */
static long testhook_delay_ms(const char *method)
{
        const char *p = getenv("SILO_TEST_DELAY");
        size_t mlen = strlen(method);
        for (int i = 0; p && *p && i < TESTHOOK_MAX_RULES; i++) {
                if (strncmp(p, method, mlen) == 0 && p[mlen] == ':') {
                        char *end;
                        long ms = strtol(p + mlen + 1, &end, 10);
                        long count = *end == ':' ? strtol(end + 1, NULL, 10) : -1;
                        if (count < 0 || atomic_fetch_add(&hook_uses[i], 1) < count)
                                return ms;
                        return 0;
                }
                p = strchr(p, ',');
                p = p ? p + 1 : NULL;
        }
        return 0;
}

static void testhook_begin_call(const char *method)
{
        hook_method = method;
        hook_paused = false;
}

static uint64_t testhook_now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The line tells a test that the call is inside its pause now (a sleep on the test's side
 * cannot know when the call got there on a loaded machine). The pause ends after ms, or as
 * soon as the file SILO_TEST_RELEASE names exists: the test decides when, not the clock. */
static void testhook_sleep_ms(const char *point, long ms)
{
        if (ms <= 0)
                return;
        log_debug("msg='test hook: pausing' point=%s ms=%ld", point, ms);
        const char *release = getenv("SILO_TEST_RELEASE");
        uint64_t until = testhook_now_ms() + (uint64_t)ms;
        for (uint64_t now = testhook_now_ms(); now < until; now = testhook_now_ms()) {
                if (release && *release && access(release, F_OK) == 0)
                        return;
                uint64_t step = until - now < 10 ? until - now : 10;
                struct timespec ts = {0, (long)step * 1000000L};
                nanosleep(&ts, NULL);
        }
}

static void testhook_pause_locked(void)
{
        if (!hook_method || hook_paused)
                return;
        hook_paused = true;
        testhook_sleep_ms(hook_method, testhook_delay_ms(hook_method));
}

static void testhook_end_call(void)
{
        testhook_pause_locked();
        hook_method = NULL;
}

void testhook_pause_at(const char *point)
{
        testhook_sleep_ms(point, testhook_delay_ms(point));
}

static int testhook_sleep(struct rpc_call *call, const ProtobufCMessage *req)
{
        const Csi__V1__DeleteVolumeRequest *r0 = (const Csi__V1__DeleteVolumeRequest *)req;
        const char *key = r0->volume_id && *r0->volume_id ? r0->volume_id : "sleep";
        rpc_set_object(call, "key", key);
        _cleanup_vlock_ struct vlock *l = NULL;
        int r = vlock_try(rpc_silo(call)->locks, "test", key, &l);
        if (r < 0)
                return rpc_fail(call, r, "an operation on 'test/%s' is already pending", key);
        Csi__V1__DeleteVolumeResponse resp = CSI__V1__DELETE_VOLUME_RESPONSE__INIT;
        return rpc_reply(call, &resp.base);
}

static const struct rpc_method testhook_methods[] = {
    {"Sleep", &csi__v1__delete_volume_request__descriptor, testhook_sleep, RPC_WORKER},
};

const struct rpc_service testhook_service = {"silo.test.Hooks", testhook_methods, 1};

void testhook_install(void)
{
        static const struct rpc_call_hooks hooks = {testhook_begin_call, testhook_end_call};
        rpc_set_call_hooks(&hooks);
        vlock_set_acquired_hook(testhook_pause_locked);
}

void testhook_startup(void)
{
        testhook_begin_call("Startup");
        testhook_end_call();
}

#else

const struct rpc_service testhook_service = {"silo.test.Hooks", NULL, 0};

void testhook_install(void)
{
}

void testhook_startup(void)
{
}

void testhook_pause_at(const char *point)
{
        (void)point;
}

#endif
