/* Lease manager internals shared with the elector and the tests. */
#ifndef KLEASE_LEASE_MANAGER_H
#define KLEASE_LEASE_MANAGER_H

#include "api/client.h"
#include "http/http.h"
#include "lease/codec.h"

#include <pthread.h>

struct klease_manager {
    klease_client *client;
    char *ns;
    char *name;
    char *field_manager;
    int64_t skew_tolerance_ns;
    int max_conflict_rounds;

    /* Serialises API calls, as the seed's async mutex does. Held across I/O. */
    pthread_mutex_t io_mu;
    /* Guards everything below. Never held across I/O, so readers of the
     * cached claim never wait behind the network. */
    pthread_mutex_t state_mu;
    klease__lease lease; /* last copy seen (valid when has_lease) */
    bool has_lease;
    int64_t observed_at_mono; /* when lease.resource_version was first seen */
    bool has_claim;
    klease_claim claim;              /* derived from lease; ours carries the send-time deadline */
    char own_rv[KLEASE__RV_MAX + 1]; /* resourceVersion of our last successful write */
    int64_t own_deadline;            /* that write's send time + duration */
    char claimant[KLEASE_IDENTITY_MAX + 1]; /* the last claimant of ensure_claimed */
    klease_manager_stats stats;
};

/* The cache (lease/lease_cache.c); callers hold state_mu. */

/* Recomputes claim/has_claim from the cached lease at (now_mono, now_wall). */
void klease__manager_derive(klease_manager *m, int64_t now_mono, int64_t now_wall);
/* Stores a fresh copy of the lease; a new resourceVersion restarts the
 * "unchanged since observed" clock. */
void klease__manager_store(klease_manager *m, const klease__lease *l, int64_t now_mono);
/* What klease_claimed() and klease_sync() report (see klease.h). */
void klease__manager_report(const klease_manager *m, int64_t now, klease_claim *out,
                            bool *has_claim);

/* ensure_claimed / vacate / sync with a cancellation token (the elector's).
 * ensure_claimed's calls end `margin_ns` before our claim's deadline while
 * that much is left (the elector's leadership margin; 0 for the public call). */
klease_status klease__ensure_claimed(klease_manager *m, const char *claimant,
                                     const klease_claim_params *params, int64_t margin_ns,
                                     klease__cancel *cancel, klease_claim *out, klease_error *err);
klease_status klease__vacate(klease_manager *m, const char *claimant, klease__cancel *cancel,
                             int64_t timeout_ms, bool *vacated, klease_error *err);
klease_status klease__sync(klease_manager *m, klease__cancel *cancel, klease_claim *out,
                           bool *has_claim, klease_error *err);

/* Replaces the cached lease with a copy seen elsewhere (a watch event),
 * unless it is older than what the cache holds. Takes state_mu. */
void klease__manager_observe(klease_manager *m, const klease__lease *lease);
/* The lease was deleted (a watch event): forget it. Takes state_mu. */
void klease__manager_forget(klease_manager *m);

/* Parameters checked and converted: whole seconds. */
klease_status klease__claim_params_check(const klease_claim_params *p, int64_t *duration_s,
                                         int64_t *grace_ns, klease_error *err);

/* A claimant identity we may claim with: 1 to KLEASE_IDENTITY_MAX bytes, no
 * control characters (KLEASE_EINVAL otherwise, with a message saying why). */
klease_status klease__claimant_check(const char *claimant, klease_error *err);

const klease__clock *klease__manager_clock(const klease_manager *m);

#endif
