#include "common/err.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* The one table: code, status, text. */
#define SILO_ERRORS(X)                                                                             \
        X(SILO_ENOTFOUND, ERR_NOT_FOUND, "not found")                                              \
        X(SILO_EEXISTS, ERR_ALREADY_EXISTS, "already exists with different properties")            \
        X(SILO_EPRECOND, ERR_FAILED_PRECONDITION, "precondition failed")                           \
        X(SILO_EPENDING, ERR_ABORTED, "an operation on this object is pending")                    \
        X(SILO_EBADTOKEN, ERR_ABORTED, "invalid or stale pagination token")                        \
        X(SILO_EOUTOFRANGE, ERR_OUT_OF_RANGE, "out of range")                                      \
        X(SILO_ENOSPACE, ERR_RESOURCE_EXHAUSTED, "no space left")                                  \
        X(SILO_EINVALID, ERR_INVALID_ARGUMENT, "invalid argument")                                 \
        X(SILO_EUNIMPL, ERR_UNIMPLEMENTED, "not implemented")                                      \
        X(SILO_EOVERLOAD, ERR_UNAVAILABLE, "server busy, retry later")                             \
        X(SILO_ETIMEOUT, ERR_DEADLINE_EXCEEDED, "deadline exceeded")                               \
        X(SILO_ETOOBIG, ERR_RESOURCE_EXHAUSTED, "request too large")                               \
        X(EINVAL, ERR_INVALID_ARGUMENT, NULL)                                                      \
        X(ECANCELED, ERR_CANCELLED, NULL)                                                          \
        X(ENOSPC, ERR_RESOURCE_EXHAUSTED, NULL)                                                    \
        X(EDQUOT, ERR_RESOURCE_EXHAUSTED, NULL)

struct err_entry {
        int code;
        enum err_status status;
        const char *text;
};

static const struct err_entry err_table[] = {
#define ERR_ENTRY(code, status, text) {code, status, text},
    SILO_ERRORS(ERR_ENTRY)
#undef ERR_ENTRY
};

static const char *const status_names[] = {
    "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
    "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
    "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
};

static const struct err_entry *err_lookup(int r)
{
        for (size_t i = 0; i < sizeof(err_table) / sizeof(err_table[0]); i++)
                if (err_table[i].code == -r)
                        return &err_table[i];
        return NULL;
}

enum err_status err_status_of(int r)
{
        if (r >= 0)
                return ERR_OK;
        const struct err_entry *e = err_lookup(r);
        return e ? e->status : ERR_INTERNAL;
}

const char *err_status_name(enum err_status status)
{
        if ((unsigned)status >= sizeof(status_names) / sizeof(status_names[0]))
                return "INTERNAL";
        return status_names[status];
}

int err_status_parse(const char *name)
{
        for (size_t i = 0; i < sizeof(status_names) / sizeof(status_names[0]); i++)
                if (strcmp(status_names[i], name) == 0)
                        return (int)i;
        return -EINVAL;
}

int err_is_private(int r)
{
        return -r > SILO_EBASE && -r < SILO_EMAX;
}

const char *err_describe(int r)
{
        const struct err_entry *e = err_lookup(r);
        if (e && e->text)
                return e->text;
        if (err_is_private(r))
                return "internal error";
        return strerrordesc_np(-r) ? strerrordesc_np(-r) : "unknown error";
}

void err_format(char *buf, size_t size, int r, const char *what)
{
        if (err_is_private(r))
                snprintf(buf, size, "%s", what && *what ? what : err_describe(r));
        else if (what && *what)
                snprintf(buf, size, "%s: %s", what, err_describe(r));
        else
                snprintf(buf, size, "%s", err_describe(r));
}
