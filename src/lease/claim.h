/* Internal helpers on klease_claim values. */
#ifndef KLEASE_LEASE_CLAIM_H
#define KLEASE_LEASE_CLAIM_H

#include "klease/klease.h"

/* True when the claim names exactly `claimant` (whatever time is left). A
 * holder cut short (a foreign identity longer than we allow) never does. */
bool klease__claim_names(const klease_claim *claim, const char *claimant);

#endif
