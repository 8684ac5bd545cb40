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
#define KLEASE_STRINGIFY(x)  KLEASE_STRINGIFY_(x)
#define KLEASE_VERSION_STRING                                                                      \
    KLEASE_STRINGIFY(KLEASE_VERSION_MAJOR)                                                         \
    "." KLEASE_STRINGIFY(KLEASE_VERSION_MINOR) "." KLEASE_STRINGIFY(KLEASE_VERSION_PATCH)
#define KLEASE_VERSION_NUM                                                                         \
    ((KLEASE_VERSION_MAJOR << 16) | (KLEASE_VERSION_MINOR << 8) | KLEASE_VERSION_PATCH)
/* True when the headers in use are at least version x.y.z. */
#define KLEASE_AT_LEAST_VERSION(x, y, z) (KLEASE_VERSION_NUM >= (((x) << 16) | ((y) << 8) | (z)))

/* The version of the library actually linked, e.g. "0.1.0". Static string. */
KLEASE_API const char *klease_version(void);

/* Longest holder identity libklease writes (a DNS subdomain name). */
#define KLEASE_IDENTITY_MAX 253

/* ----------------------------------------------------------------- errors */

/* Status codes. Append only: values are never renumbered. */
typedef enum klease_status {
    KLEASE_OK = 0,
    KLEASE_EINVAL,    /* an argument or parameter is invalid */
    KLEASE_ENOMEM,    /* an allocation failed */
    KLEASE_ETIMEDOUT, /* an API call did not finish within its time limit */
    KLEASE_ECONFLICT, /* HTTP 409: stale resourceVersion, AlreadyExists or field-manager conflict */
    KLEASE_ENOTFOUND, /* HTTP 404: the lease does not exist */
    KLEASE_EAUTH,     /* HTTP 401/403, or credentials could not be obtained */
    KLEASE_EHTTP,     /* any other HTTP error status (429, 5xx, 4xx) */
    KLEASE_ETRANSPORT, /* connection, TLS or proxy failure before an HTTP status arrived */
    KLEASE_EPROTO,     /* the server sent something the API does not promise */
    KLEASE_ECONFIG,    /* kubeconfig / in-cluster configuration is missing or invalid */
    KLEASE_ECLOSED,    /* the object was closed, or an elector stopped */
} klease_status;

#define KLEASE_ERROR_REASON_MAX  64
#define KLEASE_ERROR_MESSAGE_MAX 512

/* Details of a failure. Caller-owned, usually on the stack; no cleanup needed. */
typedef struct klease_error {
    klease_status status;
    int http_code;                          /* HTTP status, or 0 when none was received */
    int64_t retry_after_ms;                 /* Retry-After of a 429/503 in ms, or -1 */
    char reason[KLEASE_ERROR_REASON_MAX];   /* Kubernetes Status reason ("Conflict"...) or "" */
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

/* ----------------------------------------------------------------- client */

/* A connection to one Kubernetes API server, with its credentials. One
 * client is meant to be shared: it is thread-safe, reuses connections and TLS
 * sessions across sequential calls, and serves any number of lease managers. */
typedef struct klease_client klease_client;

#define KLEASE_CLIENT_OPTIONS_VERSION 2

typedef struct klease_client_options {
    int version; /* KLEASE_CLIENT_OPTIONS_VERSION */
    /* Where the settings come from. NULL kubeconfig: $KUBECONFIG (a
     * ':'-separated list, merged as client-go does), else ~/.kube/config,
     * else in-cluster. An explicit path overrides $KUBECONFIG. */
    const char *kubeconfig;
    const char *context;        /* NULL: the kubeconfig's current-context */
    const char *in_cluster_dir; /* NULL: /var/run/secrets/kubernetes.io/serviceaccount */
    int64_t request_timeout_ms; /* time limit of one API call; default 10000 */
    int64_t connect_timeout_ms; /* time limit to connect; default 5000 */
    size_t max_response_bytes;  /* larger responses are refused (KLEASE_EPROTO); default 4 MiB */
    klease_log_fn log_fn;       /* NULL: no logging */
    void *log_user;
    klease_log_level log_level; /* least severe level passed to log_fn; default INFO */
    /* The clock hook: wall-clock time in ns since the Unix epoch, used to
     * write and judge renewTime. NULL: the system clock. Lets tests run a
     * participant with a skewed clock. Must be thread-safe. */
    int64_t (*wall_clock_ns)(void *user);
    void *wall_clock_user;
    /* Most connections kept for ordinary calls; a burst of calls beyond it
     * waits (within each call's time limit) for a free one. Every watch has
     * a connection of its own on top. 0: the default, 16. */
    size_t max_connections;
    /* Version 2: kubectl's connection overrides, which win over the
     * kubeconfig as kubectl's flags do. NULL/false: what the context says.
     * `cluster` and `user` name kubeconfig entries used instead of the
     * context's (--cluster, --user); `server` replaces the cluster's server
     * (--server); `certificate_authority`, a CA file, and
     * `insecure_skip_tls_verify` replace the cluster's TLS settings, both of
     * them when either is given (--certificate-authority,
     * --insecure-skip-tls-verify); `token` replaces the user's token, token
     * file, exec plugin and basic auth, a client certificate stays (--token).
     * With `server` or `cluster` no context is needed, nor a kubeconfig for
     * `server`. Each string is copied. */
    const char *cluster;
    const char *user;
    const char *server;
    const char *token;
    const char *certificate_authority;
    bool insecure_skip_tls_verify;
} klease_client_options;

#define KLEASE_CLIENT_OPTIONS_INIT                                                                 \
    {                                                                                              \
        KLEASE_CLIENT_OPTIONS_VERSION, NULL, NULL, NULL, 10000, 5000, (size_t)4 << 20, NULL, NULL, \
            KLEASE_LOG_INFO, NULL, NULL, 16, NULL, NULL, NULL, NULL, NULL, false                   \
    }

/* Creates a client from kubeconfig or in-cluster settings (`opts` may be NULL
 * for the defaults). On success *out is the caller's, freed with
 * klease_client_free(). KLEASE_ECONFIG when no usable configuration is found
 * (the message names the file and field), KLEASE_EINVAL, KLEASE_ENOMEM. */
KLEASE_API klease_status klease_client_new(klease_client **out, const klease_client_options *opts,
                                           klease_error *err);

/* Frees a client. NULL-safe. Every manager using it must be freed first. */
KLEASE_API void klease_client_free(klease_client *c);

/* The default namespace (the context's, else "default"). Borrowed: valid
 * while the client lives. */
KLEASE_API const char *klease_client_namespace(const klease_client *c);

/* The API server URL in use. Borrowed: valid while the client lives. */
KLEASE_API const char *klease_client_server(const klease_client *c);

/* ------------------------------------------------------------------ claims */

/* A snapshot of who holds a lease: a plain value, nothing to free. */
typedef struct klease_claim {
    char holder[KLEASE_IDENTITY_MAX + 1]; /* holderIdentity (cut short if longer) */
    /* True: a foreign identity that `holder` cannot show exactly, so it never
     * equals any identity we claim with: longer than the maximum, or with an
     * embedded NUL (JSON \u0000, shown in `holder` as U+FFFF). */
    bool holder_truncated;
    /* When the claim ends, on the wall clock (as written on the lease). */
    int64_t expiry_wall_ns;
    /* When the claim ends on this process's monotonic clock (CLOCK_BOOTTIME).
     * For our own claim: the send time of the write that made it + duration,
     * so never later than any other participant could believe. This is the
     * value every decision uses. */
    int64_t deadline_mono_ns;
    /* The lease's resourceVersion and leaseTransitions when this claim was
     * observed. The lease is advisory, not a fencing token: pass these to the
     * systems you guard if they must reject a stale holder. */
    char resource_version[64];
    int64_t transitions;
} klease_claim;

#define KLEASE_CLAIM_PARAMS_VERSION 1

/* How to claim. Durations are whole seconds on the wire: milliseconds are
 * rounded down, and the local deadline uses the same rounded value. */
typedef struct klease_claim_params {
    int version;               /* KLEASE_CLAIM_PARAMS_VERSION */
    int64_t lease_duration_ms; /* >= 1000; default 30000 */
    int64_t renew_grace_ms; /* renew this long before expiry; 0 <= grace < duration; default 1000 */
} klease_claim_params;

#define KLEASE_CLAIM_PARAMS_INIT                                                                   \
    {                                                                                              \
        KLEASE_CLAIM_PARAMS_VERSION, 30000, 1000                                                   \
    }

/* True while the claim's monotonic deadline has not passed. */
KLEASE_API bool klease_claim_is_current(const klease_claim *claim);

/* True when `claimant` holds the claim and it is current. */
KLEASE_API bool klease_claim_is_current_for(const klease_claim *claim, const char *claimant);

/* Milliseconds left before the claim's monotonic deadline (rounded down), or
 * 0 when it has passed or the claim names no holder. Uses the system clock,
 * like klease_claim_is_current(). Thread-safe, no I/O. */
KLEASE_API int64_t klease_claim_time_left_ms(const klease_claim *claim);

/* The reconcile-loop form of the elector's leadership margin: true when
 * `claimant` holds the claim and more than `margin_ms` is left before its
 * deadline (a negative margin counts as 0, which is klease_claim_is_current_for).
 * Check it before each piece of work that needs up to margin_ms to finish or
 * stop, so that work never runs past the moment another participant may
 * take over. A holder that is not representable (holder_truncated) is never
 * `claimant`. */
KLEASE_API bool klease_claim_is_current_for_margin(const klease_claim *claim, const char *claimant,
                                                   int64_t margin_ms);

/* Sleeps until the claim expires (returns at once if it has). */
KLEASE_API void klease_claim_expire(const klease_claim *claim);

/* Sleeps until `grace_ms` before the claim expires (returns at once if that
 * moment has passed). */
KLEASE_API void klease_claim_expire_with_grace(const klease_claim *claim, int64_t grace_ms);

/* ----------------------------------------------------------------- manager */

/* Manages one Lease: caches the last claim seen, renews ours, takes the lease
 * when it is free. Thread-safe. Reading the cached claim never waits behind
 * another thread's API call. */
typedef struct klease_manager klease_manager;

#define KLEASE_MANAGER_OPTIONS_VERSION 1

typedef struct klease_manager_options {
    int version;               /* KLEASE_MANAGER_OPTIONS_VERSION */
    bool create_if_missing;    /* create the Lease (unheld) when it does not exist */
    const char *field_manager; /* server-side apply field manager; default "klease" */
    /* How far other participants' wall clocks may be behind ours. Someone
     * else's claim is treated as current until renewTime + duration + this
     * tolerance on our wall clock (or until it has been unchanged for a whole
     * duration on our monotonic clock, whichever comes first). Default 1000. */
    int64_t clock_skew_tolerance_ms;
    int max_conflict_rounds; /* 409s re-read and retried this often; default 8 */
} klease_manager_options;

#define KLEASE_MANAGER_OPTIONS_INIT                                                                \
    {                                                                                              \
        KLEASE_MANAGER_OPTIONS_VERSION, false, NULL, 1000, 8                                       \
    }

/* Reads lease ns/name (ns NULL: the client's namespace) and returns a
 * manager for it in *out (free with klease_manager_free). KLEASE_ENOTFOUND
 * when the lease does not exist and opts->create_if_missing is false; with
 * it, the lease is created, and a concurrent creator is no error.
 * KLEASE_EINVAL for bad names or options. The client must outlive it. */
KLEASE_API klease_status klease_manager_init(klease_manager **out, klease_client *client,
                                             const char *ns, const char *name,
                                             const klease_manager_options *opts, klease_error *err);

/* Frees a manager. NULL-safe. It does not vacate: call klease_vacate first. */
KLEASE_API void klease_manager_free(klease_manager *m);

/* The cached claim, without I/O. *has_claim is false when the lease was last
 * seen unheld or expired; *out is still filled then (holder "", deadline 0)
 * with the lease's resourceVersion and transitions, when the lease is known.
 * Never waits for another thread's API call. */
KLEASE_API klease_status klease_claimed(klease_manager *m, klease_claim *out, bool *has_claim);

/* Reads the lease from the API server and refreshes the cache; *out and
 * *has_claim as for klease_claimed(). */
KLEASE_API klease_status klease_sync(klease_manager *m, klease_claim *out, bool *has_claim,
                                     klease_error *err);

/* Makes sure the lease is claimed, and returns the current claim in *out:
 *  - held by `claimant` and outside the renew grace: the cached claim, with no
 *    I/O and no allocation (the fast path);
 *  - held by `claimant` otherwise: renewed (strategic merge, resourceVersion
 *    precondition);
 *  - held by someone else and current: their claim, with no I/O;
 *  - otherwise: acquired by server-side apply.
 * A 409 re-reads the lease and tries again, at most max_conflict_rounds
 * times (then KLEASE_ECONFLICT). Someone else holding the lease is not an
 * error: compare out->holder, or use klease_claim_is_current_for(). While we
 * hold the lease, no request runs past the time left on our claim. */
KLEASE_API klease_status klease_ensure_claimed(klease_manager *m, const char *claimant,
                                               const klease_claim_params *params, klease_claim *out,
                                               klease_error *err);

/* Gives the lease up if `claimant` holds it: reads a fresh copy and, if it
 * still names `claimant` with a current claim, clears holder, times and
 * duration (leaseTransitions is kept). A claim of ours that has already
 * expired is left as it is, with no write and *vacated false: anyone may
 * acquire an expired lease, so there is nothing left to give up (kubert's
 * LeaseManager does the same). *vacated tells whether it wrote. On failure the
 * cached claim is no longer trusted, so the next ensure_claimed checks with
 * the server. */
KLEASE_API klease_status klease_vacate(klease_manager *m, const char *claimant, bool *vacated,
                                       klease_error *err);

/* One lease of a list (klease_lease_list): a snapshot. */
typedef struct klease_lease_info {
    char ns[64];    /* metadata.namespace */
    char name[254]; /* metadata.name */
    /* The claim as the lease says: holder, expiry and deadline only when
     * held (renewTime + leaseDurationSeconds is still ahead on our wall
     * clock, with no skew tolerance: what kubectl would show); the
     * resourceVersion and leaseTransitions always. */
    klease_claim claim;
    bool held;
    int64_t created_wall_ns; /* metadata.creationTimestamp; 0 when absent */
} klease_lease_info;

/* Lists the leases of namespace `ns` (NULL: the client's), or of every
 * namespace when `all_namespaces` (then `ns` is ignored): one GET of the
 * collection (RBAC verb "list"). On success *out is an array of *n entries,
 * the caller's, freed with klease_lease_list_free (also when *n is 0).
 * KLEASE_EINVAL for a bad namespace, KLEASE_EPROTO for a response that is
 * not a LeaseList, else as any call. */
KLEASE_API klease_status klease_lease_list(klease_client *c, const char *ns, bool all_namespaces,
                                           klease_lease_info **out, size_t *n, klease_error *err);
/* NULL-safe. */
KLEASE_API void klease_lease_list_free(klease_lease_info *leases);

/* One change seen by klease_lease_watch: the lease as it now is, or NULL
 * when it was deleted (or, after a 410 re-read, does not exist). `lease` is
 * valid only during the call. Return false to stop watching. */
typedef bool (*klease_lease_watch_fn)(void *user, const klease_lease_info *lease);

/* Follows lease ns/name (ns NULL: the client's namespace) with a watch (RBAC
 * verb "watch"; "get" too for the re-read below) for at most `timeout_ms`
 * (> 0), calling `fn` on the calling thread once per change, in order: every
 * ADDED and MODIFIED (as the lease, judged as klease_lease_list judges it)
 * and DELETED (NULL). `resource_version` (a buffer of `rv_size` bytes, in
 * and out) says where to start: "" for the current state, which then comes
 * first as an event; on return it holds the last resourceVersion seen,
 * bookmarks included (they advance it and are not passed to `fn`), so
 * calling again with it neither misses nor repeats a change. When the server
 * no longer has that version (410 Expired), the lease is read once (a GET)
 * and reported as one event, and the buffer takes its resourceVersion ("" if
 * it does not exist). Returns KLEASE_OK when `timeout_ms` has passed, the
 * server ended the stream (it may, earlier) or `fn` returned false;
 * KLEASE_EINVAL for a bad argument or name, KLEASE_EPROTO for an event that
 * is not a Lease or a resourceVersion longer than the buffer, else as any
 * call. Thread-safe as any call on a shared client; a call holds one
 * connection while it waits. */
KLEASE_API klease_status klease_lease_watch(klease_client *c, const char *ns, const char *name,
                                            char *resource_version, size_t rv_size,
                                            int64_t timeout_ms, klease_lease_watch_fn fn,
                                            void *user, klease_error *err);

/* Deletes lease ns/name (ns NULL: the client's namespace), whoever holds it
 * (RBAC verb "delete"). KLEASE_ENOTFOUND when it does not exist. A manager
 * of that lease then sees it gone at its next read. */
KLEASE_API klease_status klease_lease_delete(klease_client *c, const char *ns, const char *name,
                                             klease_error *err);

/* Counters since the manager was created. */
typedef struct klease_manager_stats {
    uint64_t acquisitions; /* successful acquires */
    uint64_t renewals;     /* successful renewals */
    uint64_t conflicts;    /* 409s answered */
    uint64_t errors;       /* failed API calls of any other kind */
    uint64_t vacates;      /* successful vacates */
    uint64_t api_calls;    /* requests sent */
} klease_manager_stats;

/* Copies the counters. Thread-safe, no I/O. */
KLEASE_API void klease_manager_get_stats(klease_manager *m, klease_manager_stats *out);

/* ----------------------------------------------------------------- elector */

/* A background elector that keeps a lease for one claimant: it claims the
 * lease when it is free, renews it when the renew grace begins, follows other
 * holders through a Kubernetes watch (so a vacated lease is taken over in
 * about one round trip), publishes every change of the claim, and vacates
 * when closed. It retries anything that can heal forever, with capped,
 * jittered exponential backoff, and stops only on errors that cannot heal
 * (then it says so through the callback, klease_elector_status() and
 * klease_elector_close()). While an elector runs, use it rather than the
 * manager's I/O functions (the server's compare-and-swap keeps both safe, but
 * they would race each other with conflicting writes).
 *
 * Threads: every elector of a client runs on that client's one engine
 * thread, started by the first klease_spawn() and stopped by
 * klease_client_free(): renewals, retries and follower deadlines are timers
 * on it, and every request of every elector runs concurrently on one libcurl
 * multi handle (HTTP/2 streams over one connection where the server speaks
 * h2; up to the client's connection limit over HTTP/1.1; at most 32 requests
 * in flight, renewals first). Followers of any number of leases in one
 * namespace share one watch of that namespace. Callbacks run on the client's
 * one callback thread, in the order the changes were published. A client
 * with electors therefore has two threads of its own, however many leases it
 * keeps. */
typedef struct klease_elector klease_elector;

/* Called on the client's callback thread, with no library lock held, whenever the
 * published claim changes: `claim` is NULL when the lease is unheld;
 * `leading` tells whether we lead: we hold it and its leadership margin has
 * not begun (see margin_ms; the claim may still name us after `leading`
 * turned false). `status` is KLEASE_OK, except for the final call when the
 * elector stops on an error that cannot heal, or KLEASE_ECLOSED for the final
 * call after klease_elector_close().
 * A callback may read any elector (current, is_leader, status), call the
 * manager functions and do its own work. A callback that blocks delays the
 * callbacks after it (of every elector of the client), never a renewal:
 * requests and timers run on the engine thread, and is_leader() stays exact
 * meanwhile. It cannot close its own elector: klease_elector_close() called
 * from it returns KLEASE_EINVAL and changes nothing; closing another elector
 * from a callback works and drops that elector's callbacks still queued. */
typedef void (*klease_elector_change_fn)(void *user, const klease_claim *claim, bool leading,
                                         klease_status status);

#define KLEASE_ELECTOR_OPTIONS_VERSION 2

/* margin_ms value meaning "half the claim's renew grace" (the default). */
#define KLEASE_MARGIN_AUTO (-1)

typedef struct klease_elector_options {
    int version;                        /* KLEASE_ELECTOR_OPTIONS_VERSION */
    klease_elector_change_fn on_change; /* may be NULL */
    void *user;
    bool watch;                /* follow other holders with a watch; default true */
    int64_t poll_interval_ms;  /* follower polling when the watch fails; default 2000 */
    int64_t min_backoff_ms;    /* first retry delay after a failure; default 5 */
    int64_t max_backoff_ms;    /* retry delay cap; default 5000 */
    int64_t vacate_timeout_ms; /* bound on the vacate at close; 0: do not vacate; default 1000 */
    /* Version 2. The leadership margin: when our claim has not been renewed
     * by deadline - margin, leadership ends then (is_leader() turns false,
     * the change is published with leading=false and the callback runs), so
     * work in flight has `margin` to stop before the claim's deadline, the
     * earliest moment another participant may take over. Renewal starts at
     * deadline - renew_grace and is retried until the margin; a request in
     * flight then is cut off so the loss is published on time. The elector
     * keeps trying to renew after the margin: a renewal that lands before
     * the deadline makes us leader again, published as a new change with
     * leading=true. 0 <= margin < renew grace (or 0); KLEASE_MARGIN_AUTO
     * (default): half the renew grace, 500 ms with the default claim params.
     * Version-1 callers get the default. */
    int64_t margin_ms;
} klease_elector_options;

#define KLEASE_ELECTOR_OPTIONS_INIT                                                                \
    {                                                                                              \
        KLEASE_ELECTOR_OPTIONS_VERSION, NULL, NULL, true, 2000, 5, 5000, 1000, KLEASE_MARGIN_AUTO  \
    }

/* Starts an elector for `claimant` on manager `m` (which must outlive it).
 * Returns at once; the first claim attempt happens on the client's engine
 * thread (started by the first spawn of a client).
 * KLEASE_EINVAL for bad parameters, KLEASE_ENOMEM. */
KLEASE_API klease_status klease_spawn(klease_elector **out, klease_manager *m, const char *claimant,
                                      const klease_claim_params *params,
                                      const klease_elector_options *opts, klease_error *err);

/* The latest published claim. *has_claim is false while the lease is unheld
 * (or before the first attempt). Thread-safe, no I/O. */
KLEASE_API void klease_elector_current(klease_elector *e, klease_claim *out, bool *has_claim);

/* Waits until the published claim differs from version *seen (start with 0),
 * then stores the new version in *seen and the claim in *out and *has_claim.
 * KLEASE_OK on a change, KLEASE_ETIMEDOUT after timeout_ms (< 0: no limit),
 * KLEASE_ECLOSED once the elector has stopped and every change was seen, and
 * at once for every waiter when klease_elector_close() begins (close waits
 * for them to return before it frees the elector; calling this after close
 * returned is a use after free). */
KLEASE_API klease_status klease_elector_wait_change(klease_elector *e, uint64_t *seen,
                                                    int64_t timeout_ms, klease_claim *out,
                                                    bool *has_claim);

/* True only while we hold a claim and deadline - margin_ms has not passed on
 * the monotonic clock: it turns false then even if the API server hangs, a
 * callback is slow or the engine thread is busy. Lock-free; safe from any
 * thread, including signal-free hot paths. */
KLEASE_API bool klease_elector_is_leader(const klease_elector *e);

/* KLEASE_OK while running normally; the last error of a failing call while it
 * retries; the fatal status once it has stopped on its own. */
KLEASE_API klease_status klease_elector_status(klease_elector *e, klease_error *err);

/* Stops the elector: interrupts any call in flight, wakes every thread in
 * klease_elector_wait_change() (they return KLEASE_ECLOSED), vacates the
 * lease if we hold it (bounded by vacate_timeout_ms), waits until its last
 * callback has run and the waiters have left, and frees it: no callback of
 * it runs after close returns. Returns KLEASE_OK, or the error
 * that stopped the elector earlier, or the vacate's error. NULL-safe. Called
 * from the elector's own callback it returns KLEASE_EINVAL and changes
 * nothing (close it from another thread). */
KLEASE_API klease_status klease_elector_close(klease_elector *e, klease_error *err);

/* --------------------------------------------------------------- identity */

/* A per-process unique identity to claim with, client-go's convention:
 * `<name>_<random UUIDv4>`, where name is $POD_NAME when it is set and not
 * empty (Kubernetes pods set it through the downward API), else the host
 * name, cut to 216 bytes so the whole fits KLEASE_IDENTITY_MAX. The UUID is
 * drawn from getrandom() once per process: every call in a process returns
 * the same value (while $POD_NAME and the host name stay the same), and a
 * forked child or another process gets a different one.
 * Two participants must never share an identity: both would believe they
 * hold the lease, renew it in turn and act at once, and a vacate by one would
 * free the lease under the other. A fixed identity (e.g. a pod name alone) is
 * only safe when at most one process ever uses it at a time.
 * Writes a NUL-terminated string into `buf` (KLEASE_IDENTITY_MAX + 1 bytes
 * always suffice). KLEASE_EINVAL when `size` is too small, KLEASE_ECONFIG
 * when no name is available, it contains a control character, or no random
 * bytes can be read. Thread-safe. */
KLEASE_API klease_status klease_default_identity(char *buf, size_t size, klease_error *err);

/* ---------------------------------------------------------------- metrics */

/* One lease to report: its manager, and its elector when one keeps it (NULL:
 * leadership is read from the manager's cached claim for `identity`). */
typedef struct klease_metrics_lease {
    klease_manager *manager;
    klease_elector *elector;
    const char *identity;
} klease_metrics_lease;

/* Renders the leases' counters and leadership in the Prometheus text format
 * (version 0.0.4), for a controller to serve from its own /metrics:
 * leader_election_master_status{name="ns/name"} as client-go names it, plus
 * klease_lease_time_left_seconds, klease_lease_transitions,
 * klease_elector_healthy (electors only) and the klease_lease_*_total
 * counters of klease_manager_get_stats(). Writes a NUL-terminated text into
 * buf and its length into *len. KLEASE_EINVAL when it does not fit: *len is
 * then the length needed (allocate *len + 1 and call again). No I/O, no
 * library lock held across it; thread-safe. */
KLEASE_API klease_status klease_metrics_render(const klease_metrics_lease *leases, size_t n,
                                               char *buf, size_t size, size_t *len,
                                               klease_error *err);

/* The namespace and name of the lease a manager manages. Borrowed: valid
 * while the manager lives. */
KLEASE_API const char *klease_manager_namespace(const klease_manager *m);
KLEASE_API const char *klease_manager_name(const klease_manager *m);

#ifdef __cplusplus
}
#endif

#endif /* KLEASE_KLEASE_H */
