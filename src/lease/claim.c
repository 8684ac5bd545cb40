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

int64_t klease_claim_time_left_ms(const klease_claim *claim)
{
    if (claim == NULL || claim->holder[0] == '\0')
        return 0;
    int64_t left = claim->deadline_mono_ns - klease__mono_ns(klease__clock_system());
    return left > 0 ? left / KLEASE__NS_PER_MS : 0;
}

bool klease_claim_is_current_for_margin(const klease_claim *claim, const char *claimant,
                                        int64_t margin_ms)
{
    if (!klease__claim_names(claim, claimant) || claim->holder[0] == '\0')
        return false;
    /* Compared in ns so a margin of 0 means exactly "current"; a margin too
     * large to express in ns can never be met. */
    if (margin_ms < 0)
        margin_ms = 0;
    if (margin_ms > INT64_MAX / KLEASE__NS_PER_MS)
        return false;
    int64_t left = claim->deadline_mono_ns - klease__mono_ns(klease__clock_system());
    return left > 0 && left > margin_ms * KLEASE__NS_PER_MS;
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
