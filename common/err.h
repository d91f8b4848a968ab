/* Error model. Internal functions return 0 (or a count) on success and a negative errno on
 * failure. Causes that carry a CSI meaning get private codes above 4095 so that a coincidental
 * errno from a syscall never turns into a spec status by accident. err.c is the only place
 * that maps a code to a gRPC status. */
#pragma once

#include <stddef.h>

enum {
        SILO_EBASE = 4096,
        SILO_ENOTFOUND,   /* NOT_FOUND: volume, snapshot, node or path unknown */
        SILO_EEXISTS,     /* ALREADY_EXISTS: incompatible with what exists */
        SILO_EPRECOND,    /* FAILED_PRECONDITION: state forbids the call */
        SILO_EPENDING,    /* ABORTED: another operation on the same id is running */
        SILO_EBADTOKEN,   /* ABORTED: pagination token we did not issue */
        SILO_EOUTOFRANGE, /* OUT_OF_RANGE: capacity cannot be satisfied */
        SILO_ENOSPACE,    /* RESOURCE_EXHAUSTED: pool or node limit reached */
        SILO_EINVALID,    /* INVALID_ARGUMENT */
        SILO_EUNIMPL,     /* UNIMPLEMENTED */
        SILO_EOVERLOAD,   /* UNAVAILABLE: queue full or shutting down; retry */
        SILO_ETIMEOUT,    /* DEADLINE_EXCEEDED */
        SILO_ETOOBIG,     /* RESOURCE_EXHAUSTED: request larger than we accept */
        SILO_EMAX,
};

/* gRPC status codes as numbers, so that only rpc.c needs gRPC headers. */
enum err_status {
        ERR_OK = 0,
        ERR_CANCELLED = 1,
        ERR_UNKNOWN = 2,
        ERR_INVALID_ARGUMENT = 3,
        ERR_DEADLINE_EXCEEDED = 4,
        ERR_NOT_FOUND = 5,
        ERR_ALREADY_EXISTS = 6,
        ERR_PERMISSION_DENIED = 7,
        ERR_RESOURCE_EXHAUSTED = 8,
        ERR_FAILED_PRECONDITION = 9,
        ERR_ABORTED = 10,
        ERR_OUT_OF_RANGE = 11,
        ERR_UNIMPLEMENTED = 12,
        ERR_INTERNAL = 13,
        ERR_UNAVAILABLE = 14,
};

/* Status for a return value r (0 or negative). Never ERR_UNKNOWN: unmapped is ERR_INTERNAL. */
enum err_status err_status_of(int r);

/* Upper-case name of a status ("NOT_FOUND"); "INTERNAL" for values out of range. */
const char *err_status_name(enum err_status status);

/* Parses a status name; returns the status or -EINVAL. */
int err_status_parse(const char *name);

/* True when the code already says all there is (a private code); false when the errno text
 * adds the cause ("Input/output error") to a message. */
int err_is_private(int r);

/* Human text for r: the private code's meaning or strerror. Thread-safe, static storage. */
const char *err_describe(int r);

/* Formats "<what>: <cause>" for errno causes and "<what>" for private codes into buf. */
void err_format(char *buf, size_t size, int r, const char *what);
