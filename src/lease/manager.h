/* Lease manager internals shared with the elector and the tests. Owned by
 * lease/manager.c. */
#ifndef KLEASE_LEASE_MANAGER_H
#define KLEASE_LEASE_MANAGER_H

#include "core/budget.h"
#include "core/clock.h"
#include "core/log.h"
#include "lease/codec.h"

#include <stdbool.h>

/* struct klease_manager is private to lease/manager.c; the elector and the
 * tests use the accessors below. */

/* A consistent copy of the manager's cache, taken under its state lock. */
typedef struct klease__manager_view {
    bool has_lease;
    klease__lease lease; /* the last copy seen (valid when has_lease) */
    bool has_claim;
    klease_claim claim; /* derived from lease when it was last stored or judged */
} klease__manager_view;

void klease__manager_view_get(klease_manager *m, klease__manager_view *out);

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
 * unless it is older than what the cache holds. Takes the state lock. */
void klease__manager_observe(klease_manager *m, const klease__lease *lease);
/* The lease was deleted (a watch event): forget it. Takes the state lock. */
void klease__manager_forget(klease_manager *m);

/* The manager's client, its clock and its log; all live as long as the
 * client. */
klease_client *klease__manager_client(const klease_manager *m);
const klease__clock *klease__manager_clock(const klease_manager *m);
const klease__logger *klease__manager_log(const klease_manager *m);

#endif
