/* Claim helpers: current-ness and waiting for expiry, on the monotonic clock,
 * and the checks every claimant and claim parameter passes. */
#include "lease/claim.h"

#include "core/clock.h"
#include "core/error.h"
#include "core/json.h"

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

klease_status klease__claim_params_check(const klease_claim_params *p, int64_t *duration_s,
                                         int64_t *grace_ns, klease_error *err)
{
    if (p == NULL)
        return klease__fail(err, KLEASE_EINVAL, "claim params are NULL");
    if (p->version < 1 || p->version > KLEASE_CLAIM_PARAMS_VERSION)
        return klease__fail(err, KLEASE_EINVAL, "klease_claim_params: unknown version %d",
                            p->version);
    if (p->lease_duration_ms < 1000 || p->lease_duration_ms > (int64_t)INT32_MAX * 1000)
        return klease__fail(
            err, KLEASE_EINVAL,
            "lease duration %lld ms: must be at least 1 s (and fit in int32 seconds)",
            (long long)p->lease_duration_ms);
    int64_t secs = p->lease_duration_ms / 1000;
    if (p->renew_grace_ms < 0 || p->renew_grace_ms >= secs * 1000)
        return klease__fail(err, KLEASE_EINVAL,
                            "renew grace %lld ms: must be at least 0 and less than the lease "
                            "duration (%lld s)",
                            (long long)p->renew_grace_ms, (long long)secs);
    *duration_s = secs;
    *grace_ns = klease__ms_to_ns(p->renew_grace_ms);
    return KLEASE_OK;
}

klease_status klease__claimant_check(const char *claimant, klease_error *err)
{
    if (claimant == NULL || claimant[0] == '\0')
        return klease__fail(err, KLEASE_EINVAL, "claimant identity is empty");
    size_t len = strnlen(claimant, KLEASE_IDENTITY_MAX + 1);
    if (len > KLEASE_IDENTITY_MAX)
        return klease__fail(err, KLEASE_EINVAL, "claimant identity is longer than %d bytes",
                            KLEASE_IDENTITY_MAX);
    /* Holders are compared as whole strings: an identity with a control
     * character (or the mark an embedded NUL decodes to) could never be told
     * apart from, or recognised as, the holder the server stores. */
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)claimant[i];
        if (ch < 0x20 || ch == 0x7f)
            return klease__fail(err, KLEASE_EINVAL,
                                "claimant identity contains a control character (byte %zu)", i);
    }
    if (strstr(claimant, KLEASE__JSON_NUL_MARK) != NULL)
        return klease__fail(err, KLEASE_EINVAL, "claimant identity contains U+FFFF");
    return KLEASE_OK;
}
