/*
 * libklease: hold a Kubernetes coordination.k8s.io/v1 Lease as a distributed,
 * advisory lock from C.
 *
 * Copyright The libklease Authors. Licensed under the Apache License 2.0.
 *
 * Conventions used throughout this header:
 *  - Every fallible function returns a klease_status and, when the caller
 *    passes a non-NULL klease_error, fills it with details. KLEASE_OK leaves
 *    the error untouched.
 *  - Out-parameters come first, the error last.
 *  - The library copies every string it is given. Objects returned through
 *    `**out` belong to the caller and are freed with the matching *_free().
 *  - Options structs carry a version field; initialise them with the
 *    matching *_INIT macro and then set the fields you need.
 *  - The library never prints, never exits and never touches signals.
 */
#ifndef KLEASE_KLEASE_H
#define KLEASE_KLEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Symbols marked KLEASE_API are the only ones exported from the library. */
#if defined(KLEASE_BUILDING) && defined(__GNUC__)
#define KLEASE_API __attribute__((visibility("default")))
#else
#define KLEASE_API
#endif

/* ---------------------------------------------------------------- version */

/* The single source of the version: CMake reads these three lines. */
#define KLEASE_VERSION_MAJOR 0
#define KLEASE_VERSION_MINOR 1
#define KLEASE_VERSION_PATCH 0

#define KLEASE_STRINGIFY_(x) #x
#define KLEASE_STRINGIFY(x) KLEASE_STRINGIFY_(x)
#define KLEASE_VERSION_STRING                                                                      \
    KLEASE_STRINGIFY(KLEASE_VERSION_MAJOR)                                                         \
    "." KLEASE_STRINGIFY(KLEASE_VERSION_MINOR) "." KLEASE_STRINGIFY(KLEASE_VERSION_PATCH)
#define KLEASE_VERSION_NUM                                                                         \
    ((KLEASE_VERSION_MAJOR << 16) | (KLEASE_VERSION_MINOR << 8) | KLEASE_VERSION_PATCH)
/* True when the headers in use are at least version x.y.z. */
#define KLEASE_AT_LEAST_VERSION(x, y, z) (KLEASE_VERSION_NUM >= (((x) << 16) | ((y) << 8) | (z)))

/* The version of the library actually linked, e.g. "0.1.0". Static string. */
KLEASE_API const char *klease_version(void);

/* ----------------------------------------------------------------- errors */

/* Status codes. Append only: values are never renumbered. */
typedef enum klease_status {
    KLEASE_OK = 0,
    KLEASE_EINVAL,     /* an argument or parameter is invalid */
    KLEASE_ENOMEM,     /* an allocation failed */
    KLEASE_ETIMEDOUT,  /* an API call did not finish within its time limit */
    KLEASE_ECONFLICT,  /* HTTP 409: stale resourceVersion, AlreadyExists or field-manager conflict */
    KLEASE_ENOTFOUND,  /* HTTP 404: the lease does not exist */
    KLEASE_EAUTH,      /* HTTP 401/403, or credentials could not be obtained */
    KLEASE_EHTTP,      /* any other HTTP error status (429, 5xx, 4xx) */
    KLEASE_ETRANSPORT, /* connection, TLS or proxy failure before an HTTP status arrived */
    KLEASE_EPROTO,     /* the server sent something the API does not promise */
    KLEASE_ECONFIG,    /* kubeconfig / in-cluster configuration is missing or invalid */
    KLEASE_ECLOSED,    /* the object was closed, or an elector stopped */
} klease_status;

#define KLEASE_ERROR_REASON_MAX 64
#define KLEASE_ERROR_MESSAGE_MAX 512

/* Details of a failure. Caller-owned, usually on the stack; no cleanup needed. */
typedef struct klease_error {
    klease_status status;
    int http_code;                         /* HTTP status, or 0 when none was received */
    int64_t retry_after_ms;                /* Retry-After of a 429/503 in ms, or -1 */
    char reason[KLEASE_ERROR_REASON_MAX];  /* Kubernetes Status reason ("Conflict"...) or "" */
    char message[KLEASE_ERROR_MESSAGE_MAX]; /* human-readable, NUL-terminated, maybe truncated */
} klease_error;

/* A short description of a status, e.g. "timed out". Never NULL, never freed. */
KLEASE_API const char *klease_strerror(klease_status status);

/* ---------------------------------------------------------------- logging */

typedef enum klease_log_level {
    KLEASE_LOG_DEBUG = 0,
    KLEASE_LOG_INFO = 1,
    KLEASE_LOG_WARN = 2,
    KLEASE_LOG_ERROR = 3,
} klease_log_level;

/* Receives the library's log lines. `msg` is valid only during the call. It
 * may be called from any library thread, so it must be thread-safe, and it
 * must not call back into the object that is logging. */
typedef void (*klease_log_fn)(void *user, klease_log_level level, const char *msg);

/* "debug", "info", "warn" or "error". Never NULL. */
KLEASE_API const char *klease_log_level_name(klease_log_level level);

#ifdef __cplusplus
}
#endif

#endif /* KLEASE_KLEASE_H */
