/* The Lease REST calls of coordination.k8s.io/v1. Bodies go in and come out
 * as JSON text; building and reading Lease objects is the lease layer's job
 * (lease/codec.h). On KLEASE_OK the response is a 2xx; on an HTTP error the
 * Status body is mapped into `err` (api/status.h) and `resp` is left empty. */
#ifndef KLEASE_API_LEASE_API_H
#define KLEASE_API_LEASE_API_H

#include "api/client.h"
#include "http/http.h"

typedef enum klease__patch_type {
    KLEASE__PATCH_APPLY,     /* server-side apply: application/apply-patch+yaml */
    KLEASE__PATCH_STRATEGIC, /* application/strategic-merge-patch+json */
    KLEASE__PATCH_MERGE,     /* application/merge-patch+json */
} klease__patch_type;

/* Per-call options. */
typedef struct klease__call {
    int64_t timeout_ms;     /* 0: the client's; > 0: min(this, the client's); < 0: no time
                             * left, the call fails with KLEASE_ETIMEDOUT at once */
    klease__cancel *cancel; /* may be NULL */
} klease__call;

/* Namespace: a DNS-1123 label; name: a DNS-1123 subdomain (what the API
 * server accepts). KLEASE_EINVAL otherwise. Valid names contain only
 * [a-z0-9.-], so they need no escaping in a path. */
klease_status klease__lease_validate_names(const char *ns, const char *name, klease_error *err);

/* "/apis/coordination.k8s.io/v1/namespaces/<ns>/leases[/name][?query]" in a
 * fresh string freed with klease__free (NULL: out of memory). `name` may be
 * NULL for the collection; `query` (NULL or "" for none) is already escaped.
 * The names must have passed klease__lease_validate_names. */
char *klease__lease_path(const char *ns, const char *name, const char *query);

/* One call's request, built but not sent: the blocking calls below send it
 * on the client's transport, the lease engine on its loop
 * (http/http_loop.h), so both send the same bytes and read answers alike. */
typedef struct klease__lease_request {
    klease__http_request http; /* points into path and the caller's body */
    char *path;                /* owned */
    char what[400];            /* "PATCH lease ns/name", for messages */
} klease__lease_request;

/* Request builders: as the calls below, without sending. `body` must outlive
 * the request. Free with klease__lease_request_clear (also after a failure). */
klease_status klease__lease_get_request(klease_client *c, const char *ns, const char *name,
                                        const klease__call *call, klease__lease_request *r,
                                        klease_error *err);
klease_status klease__lease_patch_request(klease_client *c, const char *ns, const char *name,
                                          klease__patch_type type, const char *body,
                                          const char *field_manager, bool force,
                                          const klease__call *call, klease__lease_request *r,
                                          klease_error *err);
void klease__lease_request_clear(klease__lease_request *r);

/* Judges the outcome `st` of sending `r` as the blocking calls do: a non-2xx
 * answer becomes its Status error (and *resp is cleared). */
klease_status klease__lease_request_finish(klease_client *c, const klease__lease_request *r,
                                           klease_status st, klease__http_response *resp,
                                           klease_error *err);

klease_status klease__lease_get(klease_client *c, const char *ns, const char *name,
                                const klease__call *call, klease__http_response *resp,
                                klease_error *err);

/* POST to the collection; the body names the lease. 409 AlreadyExists when it
 * exists. */
klease_status klease__lease_create(klease_client *c, const char *ns, const char *name,
                                   const char *body, const char *field_manager,
                                   const klease__call *call, klease__http_response *resp,
                                   klease_error *err);

/* PATCH with `type`; `force` only applies to server-side apply. */
klease_status klease__lease_patch(klease_client *c, const char *ns, const char *name,
                                  klease__patch_type type, const char *body,
                                  const char *field_manager, bool force, const klease__call *call,
                                  klease__http_response *resp, klease_error *err);

klease_status klease__lease_delete(klease_client *c, const char *ns, const char *name,
                                   const klease__call *call, klease__http_response *resp,
                                   klease_error *err);

#endif
