/* ksim: a Lease-only Kubernetes API server simulator for tests.
 *
 * It serves coordination.k8s.io/v1 Leases over HTTPS (libmicrohttpd, one
 * thread per connection) and behaves like the real kube-apiserver recorded in
 * reference/apiserver-wire/: resource versions and preconditions, Status
 * bodies, server-side apply, strategic merge and merge patches, watch streams
 * with bookmarks and 410 Expired, bearer-token and client-certificate auth.
 * It also injects faults on demand and records every accepted write.
 *
 * Test-only code: it is not part of libklease. Every function is thread-safe
 * once ksim_start() has returned. Functions returning int give 0 on success
 * and -1 on failure. Strings returned as `char **` are the caller's (free());
 * `const char *` results are borrowed and stay valid until ksim_stop(). */
#ifndef KLEASE_TESTS_KSIM_H
#define KLEASE_TESTS_KSIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ksim ksim;

/* The user name of requests without credentials. */
#define KSIM_ANONYMOUS "system:anonymous"
/* The user name of ksim_admin_token(). */
#define KSIM_ADMIN_USER "ksim-admin"

typedef struct ksim_options {
    int version;
    bool tls;                     /* HTTPS with a generated CA (default); false: plain HTTP */
    const char *bind_address;     /* IPv4 address to listen on, default "127.0.0.1" */
    uint16_t port;                /* 0 (default): an ephemeral port */
    const char *workdir;          /* where ca.crt etc. go; NULL: a fresh /tmp dir removed at stop.
                                   * A given dir is kept, and a CA and admin token found there
                                   * are reused so kubeconfigs survive a restart */
    int64_t bookmark_interval_ms; /* BOOKMARK period of watches asking for them (60000) */
    int watch_history;            /* events kept per lease for watch replay (100) */
    bool allow_anonymous;         /* let requests without credentials in (default false: 403) */
    uint64_t seed;                /* fault randomness; 0: seeded from the clock */
    bool control_endpoint;        /* serve /_ksim/... (see README.md); default false */
    const char *history_path;     /* append each accepted write here as a JSON line, or NULL */
    const char *state_path;       /* leases and resourceVersion: loaded at start if the file
                                   * exists, saved at ksim_stop(); NULL: none */
    bool verbose;                 /* log libmicrohttpd errors to stderr */
    /* Comma-separated Lease verbs (get,list,watch,create,update,patch,delete)
     * that every user may use, as a namespaced RBAC Role would grant them;
     * other verbs get the API server's 403. NULL (default): all verbs. */
    const char *rbac_verbs;
    /* Events kept for watch replay across all leases, the oldest forgotten
     * first (as the server's watch cache has a capacity): bounds memory at
     * 10,000 leases, where 100 per lease would be about 700 MiB. <= 0: only
     * the per-lease limit. Default 100000. */
    int watch_history_total;
} ksim_options;

#define KSIM_OPTIONS_VERSION 1
#define KSIM_OPTIONS_INIT                                                                          \
    {                                                                                              \
        .version = KSIM_OPTIONS_VERSION, .tls = true, .bind_address = "127.0.0.1", .port = 0,      \
        .workdir = NULL, .bookmark_interval_ms = 60000, .watch_history = 100,                      \
        .allow_anonymous = false, .seed = 0, .control_endpoint = false, .history_path = NULL,      \
        .state_path = NULL, .verbose = false, .rbac_verbs = NULL, .watch_history_total = 100000    \
    }

/* Starts a simulator (o may be NULL for the defaults) and fills `*out`. On
 * failure returns -1 and writes a message into errbuf (may be NULL). */
int ksim_start(ksim **out, const ksim_options *o, char *errbuf, size_t errlen);
/* Ends every watch and hung request, stops all threads, saves the state file
 * if one was configured, removes a temporary workdir and frees everything.
 * NULL-safe. */
void ksim_stop(ksim *sim);

uint16_t ksim_port(const ksim *sim);
const char *ksim_url(const ksim *sim); /* "https://127.0.0.1:PORT" */
const char *ksim_workdir(const ksim *sim);
const char *ksim_ca_pem(const ksim *sim);      /* NULL with plain HTTP */
const char *ksim_ca_path(const ksim *sim);     /* <workdir>/ca.crt, NULL with plain HTTP */
const char *ksim_admin_token(const ksim *sim); /* authorized, user KSIM_ADMIN_USER */

/* Registers a bearer token for `user`; `authorized` says whether the user may
 * touch leases (otherwise 403 Forbidden). Re-registering a token replaces it. */
int ksim_add_token(ksim *sim, const char *token, const char *user, bool authorized);
/* Grants or revokes a user's rights (token users and certificate CNs alike;
 * certificate users are authorized unless revoked here). */
int ksim_set_user_authorized(ksim *sim, const char *user, bool authorized);
/* Issues a client certificate signed by the simulator's CA with CN=`cn` (the
 * user name). PEM strings are the caller's. */
int ksim_issue_client_cert(ksim *sim, const char *cn, char **cert_pem, char **key_pem);

typedef enum ksim_kubeconfig_kind {
    KSIM_KUBECONFIG_TOKEN = 0, /* the admin token */
    KSIM_KUBECONFIG_CERT = 1   /* a client certificate for KSIM_ADMIN_USER-cert, inline */
} ksim_kubeconfig_kind;

/* Writes a kubeconfig (cluster, CA data, one user, one context) usable by
 * kubectl and libklease as is. */
int ksim_write_kubeconfig(ksim *sim, const char *path, ksim_kubeconfig_kind kind);

/* ------------------------------------------------------------------ faults */

typedef enum ksim_fault_kind {
    KSIM_FAULT_LATENCY = 0, /* sleep latency_ms, then serve normally */
    KSIM_FAULT_ERROR,       /* answer `status` (500 or 503) with a Status body */
    KSIM_FAULT_THROTTLE,    /* 429 TooManyRequests with Retry-After: retry_after_s */
    KSIM_FAULT_DROP_BEFORE, /* close the connection without applying anything */
    KSIM_FAULT_DROP_AFTER,  /* apply the request, then close without a response */
    KSIM_FAULT_HANG,        /* never answer; ends when the client disconnects or at stop */
    KSIM_FAULT_PARTITION    /* every request of `identity` hangs, its watches go silent */
} ksim_fault_kind;

typedef enum ksim_route {
    KSIM_ROUTE_ANY = 0,
    KSIM_ROUTE_WATCH,    /* watch requests only */
    KSIM_ROUTE_NON_WATCH /* everything but watches */
} ksim_route;

typedef struct ksim_fault {
    ksim_fault_kind kind;
    const char *method;   /* "GET", "PATCH"...; NULL: any */
    ksim_route route;     /* ANY, WATCH or NON_WATCH */
    const char *identity; /* user name (token user or certificate CN); NULL: anyone */
    int count;            /* fires this many times, then is removed; 0: unlimited */
    double probability;   /* chance per matching request; 1.0: always */
    int latency_ms;       /* LATENCY */
    int status;           /* ERROR: 500 or 503 */
    int retry_after_s;    /* THROTTLE */
} ksim_fault;

#define KSIM_FAULT_INIT                                                                            \
    {                                                                                              \
        .kind = KSIM_FAULT_LATENCY, .method = NULL, .route = KSIM_ROUTE_ANY, .identity = NULL,     \
        .count = 0, .probability = 1.0, .latency_ms = 0, .status = 500, .retry_after_s = 1         \
    }

/* Adds a fault rule; `*id` (may be NULL) names it. Rules are checked in the
 * order added: every matching LATENCY adds up, then the first matching other
 * rule decides. The control endpoint and /_ksim requests are never faulted. */
int ksim_add_fault(ksim *sim, const ksim_fault *f, uint64_t *id);
/* The same from JSON, e.g. {"kind":"throttle","method":"PATCH","retryAfterSeconds":2}
 * (field names in README.md). */
int ksim_add_fault_json(ksim *sim, const char *json, uint64_t *id);
/* Removes one rule; false if it was not there (or already used up). */
bool ksim_remove_fault(ksim *sim, uint64_t id);
void ksim_clear_faults(ksim *sim);
/* How many times rule `id` fired (also after it was used up or removed). */
uint64_t ksim_fault_fired(ksim *sim, uint64_t id);

/* ----------------------------------------------------------------- history */

typedef enum ksim_op {
    KSIM_OP_CREATE = 0, /* POST */
    KSIM_OP_APPLY,      /* PATCH application/apply-patch+yaml (create or update) */
    KSIM_OP_SMP,        /* PATCH application/strategic-merge-patch+json */
    KSIM_OP_MERGE,      /* PATCH application/merge-patch+json */
    KSIM_OP_PUT,
    KSIM_OP_DELETE
} ksim_op;

/* Name of an operation: "create", "apply", "smp", "merge", "put", "delete". */
const char *ksim_op_name(ksim_op op);

typedef struct ksim_history_entry {
    int64_t wall_ns; /* server wall clock when the write was applied */
    int64_t mono_ns; /* server monotonic clock (core/clock.h) at the same instant */
    uint64_t resource_version;
    ksim_op op;
    char *ns;
    char *name;
    char *holder; /* NULL when unset (vacated) */
    bool has_renew_time;
    int64_t renew_time_ns;
    bool has_duration;
    int32_t lease_duration_seconds;
    bool has_transitions;
    int32_t lease_transitions;
    char *identity; /* the writer's user name */
    char *field_manager;
} ksim_history_entry;

/* Copies entries [from, end) of the write history into a new array. */
int ksim_history_get(ksim *sim, size_t from, ksim_history_entry **out, size_t *n);
void ksim_history_free(ksim_history_entry *entries, size_t n);
size_t ksim_history_count(ksim *sim);

/* ---------------------------------------------------------- introspection */

typedef struct ksim_counters {
    uint64_t connections;    /* TCP connections accepted */
    uint64_t tls_handshakes; /* connections on which TLS completed (plain HTTP: none) */
    uint64_t requests;       /* HTTP requests received, faulted ones included */
    uint64_t watches;        /* watch streams opened (cumulative) */
    uint64_t watches_open;   /* watch streams open now: ended, timed out or abandoned ones
                                leave it (an abandoned one within 100 ms, when its thread
                                sees the hang-up) */
} ksim_counters;

void ksim_get_counters(ksim *sim, ksim_counters *out);
/* The watch streams open now that `user` (token user or certificate CN, as
 * faults match it) opened: what one client of many holds. */
uint64_t ksim_watches_open_by(ksim *sim, const char *user);
/* The current global resourceVersion. */
uint64_t ksim_resource_version(ksim *sim);
/* The lease as the API would return it, or NULL (missing or out of memory). */
char *ksim_get_lease_json(ksim *sim, const char *ns, const char *name);
/* Writes leases and the resourceVersion counter to `path` (atomically). */
int ksim_save_state(ksim *sim, const char *path);

#ifdef __cplusplus
}
#endif
#endif
