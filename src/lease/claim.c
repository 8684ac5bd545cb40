/* Claim helpers: current-ness and waiting for expiry, on the monotonic clock. */
#include "lease/claim.h"

#include "core/clock.h"

#include <string.h>

bool klease__claim_names(const klease_claim *claim, const char *claimant)
{
    return claim != NULL && claimant != NULL && !claim->holder_truncated &&
           strcmp(claim->holder, claimant) == 0;
}

bool klease_claim_is_current(const klease_claim *claim)
{
    return claim != NULL && claim->holder[0] != '\0' &&
           klease__mono_ns(klease__clock_system()) < claim->deadline_mono_ns;
}

bool klease_claim_is_current_for(const klease_claim *claim, const char *claimant)
{
    return klease__claim_names(claim, claimant) && klease_claim_is_current(claim);
}

void klease_claim_expire_with_grace(const klease_claim *claim, int64_t grace_ms)
{
    if (claim == NULL)
        return;
    int64_t grace_ns = grace_ms > 0 ? klease__ms_to_ns(grace_ms) : 0;
    klease__sleep_until(klease__clock_system(),
                        klease__add_sat(claim->deadline_mono_ns, -grace_ns));
}

void klease_claim_expire(const klease_claim *claim)
{
    klease_claim_expire_with_grace(claim, 0);
}
