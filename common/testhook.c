#include "common/testhook.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <csi.pb-c.h>
#include <google/protobuf/wrappers.pb-c.h>

#include "common/err.h"
#include "common/silo.h"
#include "common/vlock.h"
#include "common/cleanup.h"

#if SILO_TEST_HOOKS

static __thread const char *hook_method;
static __thread bool hook_paused;

static long testhook_delay_ms(const char *method)
{
        const char *spec = getenv("SILO_TEST_DELAY");
        size_t mlen = strlen(method);
        for (const char *p = spec; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
                if (strncmp(p, method, mlen) == 0 && p[mlen] == ':')
                        return strtol(p + mlen + 1, NULL, 10);
        }
        return 0;
}

void testhook_begin_call(const char *method)
{
        hook_method = method;
        hook_paused = false;
}

void testhook_pause_locked(void)
{
        if (!hook_method || hook_paused)
                return;
        hook_paused = true;
        long ms = testhook_delay_ms(hook_method);
        if (ms <= 0)
                return;
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0)
                ;
}

void testhook_end_call(void)
{
        testhook_pause_locked();
        hook_method = NULL;
}

static int testhook_sleep(struct rpc_call *call, const ProtobufCMessage *req)
{
        (void)req;
        _cleanup_vlock_ struct vlock *l = NULL;
        int r = vlock_try(rpc_silo(call)->locks, "test", "sleep", &l);
        if (r < 0)
                return rpc_fail(call, r, "an operation on 'test/sleep' is already pending");
        Google__Protobuf__BoolValue ready = GOOGLE__PROTOBUF__BOOL_VALUE__INIT;
        ready.value = true;
        Csi__V1__ProbeResponse resp = CSI__V1__PROBE_RESPONSE__INIT;
        resp.ready = &ready;
        return rpc_reply(call, &resp.base);
}

static const struct rpc_method testhook_methods[] = {
        {"Sleep", &csi__v1__probe_request__descriptor, testhook_sleep, RPC_WORKER},
};

const struct rpc_service testhook_service = {"silo.test.Hooks", testhook_methods, 1};

#else

const struct rpc_service testhook_service = {"silo.test.Hooks", NULL, 0};


void testhook_begin_call(const char *method)
{
        (void)method;
}

void testhook_pause_locked(void)
{
}

void testhook_end_call(void)
{
}

#endif
