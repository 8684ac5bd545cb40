/* Internal helpers on klease_claim values. */
#ifndef KLEASE_LEASE_CLAIM_H
#define KLEASE_LEASE_CLAIM_H

#include "klease/klease.h"

/* True when the claim names exactly `claimant` (whatever time is left). A
 * holder cut short (a foreign identity longer than we allow) never does. */
bool klease__claim_names(const klease_claim *claim, const char *claimant);

/* Parameters checked and converted: whole seconds. */
klease_status klease__claim_params_check(const klease_claim_params *p, int64_t *duration_s,
                                         int64_t *grace_ns, klease_error *err);

/* A claimant identity we may claim with: 1 to KLEASE_IDENTITY_MAX bytes, no
 * control characters (KLEASE_EINVAL otherwise, with a message saying why). */
klease_status klease__claimant_check(const char *claimant, klease_error *err);

#endif
