/* The bottom of the controller: the calling thread's error message (set by every layer,
 * read by the rpc adapters) and the wall clock for creation times. Includes nothing above. */
#include "controller/controller.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static _Thread_local char controller_msg[512];

int controller_fail(int r, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(controller_msg, sizeof(controller_msg), fmt, ap); /* NOLINT */
        va_end(ap);
        return r;
}

const char *controller_why(void)
{
        return controller_msg[0] ? controller_msg : "controller operation failed";
}

void controller_why_clear(void)
{
        controller_msg[0] = '\0';
}

uint64_t controller_now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
