/* The Lease object: JSON from the server into a C struct, and the request
 * bodies the lease manager sends. */
#ifndef KLEASE_LEASE_CODEC_H
#define KLEASE_LEASE_CODEC_H

#include "klease/klease.h"

#include <cjson/cJSON.h>

/* resourceVersion is opaque; etcd's are decimal int64s. Longer ones are
 * refused as a protocol error rather than silently cut. */
#define KLEASE__RV_MAX 63

typedef struct klease__lease {
    char resource_version[KLEASE__RV_MAX + 1];
    /* holderIdentity. Absent, null and "" all mean "no holder". A foreign
     * holder longer than KLEASE_IDENTITY_MAX is kept cut short with
     * holder_truncated set and its full-length hash in holder_hash, so it
     * never compares equal to any identity we could claim with, and two such
     * holders still compare correctly with each other. A holder with an
     * embedded NUL ("me\u0000other") is kept with KLEASE__JSON_NUL_MARK in
     * place of each NUL and holder_truncated set too, for the same reason. */
    bool has_holder;
    bool holder_truncated;
    char holder[KLEASE_IDENTITY_MAX + 1];
    uint64_t holder_hash;
    bool has_renew_time;
    int64_t renew_time_ns; /* wall clock, Unix epoch */
    bool has_acquire_time;
    int64_t acquire_time_ns;
    bool has_duration;
    int64_t duration_s;  /* as the server says; zero or negative means "already expired" */
    int64_t transitions; /* leaseTransitions; absent 0; clamped to [0, INT32_MAX] */
} klease__lease;

/* Hash used for holder identities (FNV-1a, 64 bits). */
uint64_t klease__holder_hash(const char *s, size_t len);

/* True when the lease's holder is exactly `identity`. */
bool klease__lease_held_by(const klease__lease *l, const char *identity);

/* True when both leases name the same holder (or both have none). */
bool klease__lease_same_holder(const klease__lease *a, const klease__lease *b);

/* Decodes a Lease. KLEASE_EPROTO when it is not a Lease: not JSON, no spec
 * (the seed's MissingSpec), no metadata.resourceVersion (MissingResourceVersion),
 * a field of the wrong type, a MicroTime the server would never send.
 * Missing and null spec fields are simply absent. */
klease_status klease__lease_decode(const char *json, size_t len, klease__lease *out,
                                   klease_error *err);
klease_status klease__lease_decode_object(const cJSON *obj, klease__lease *out, klease_error *err);

/* Request bodies, as compact JSON owned by the caller (free with cJSON_free).
 * They match the seed's bytes exactly: keys in sorted order, MicroTimes with
 * six digits, durations in whole seconds. NULL on allocation failure. */

/* Server-side apply that takes the lease: holder, acquireTime = renewTime =
 * now, duration, transitions. */
char *klease__lease_acquire_body(const char *resource_version, const char *holder, int64_t now_ns,
                                 int64_t duration_s, int64_t transitions);
/* Strategic merge that renews: renewTime = now and the duration. */
char *klease__lease_renew_body(const char *resource_version, int64_t now_ns, int64_t duration_s);
/* Strategic merge that vacates: holder, times and duration set to null;
 * leaseTransitions is kept by the merge. */
char *klease__lease_vacate_body(const char *resource_version);
/* POST body creating an unheld lease named `name` (libklease's own addition:
 * the seed requires the lease to exist). */
char *klease__lease_create_body(const char *name);

#endif
