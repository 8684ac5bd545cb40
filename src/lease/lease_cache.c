/* The manager's cached copy of the lease, and the time model that turns it
 * into a claim.
 *
 * Time and safety (see also the README):
 *  - Our own claim ends at the monotonic send time of the write that made
 *    it + the duration (whole seconds, the value written on the wire). No
 *    other participant can believe it ends earlier.
 *  - Someone else's claim ends at the earlier of two instants:
 *      wall rule: renewTime + duration + clock_skew_tolerance, on our wall
 *                 clock. Safe while the writer's wall clock is at most the
 *                 tolerance behind ours; lets a fresh process take over an
 *                 abandoned lease at once.
 *      monotonic rule: the moment the lease has been unchanged (same
 *                 resourceVersion) for a whole duration since we first saw
 *                 that version. Safe under any wall-clock skew: the write we
 *                 saw was sent before we saw it, and our acquire carries the
 *                 resourceVersion as a precondition, so it can only succeed
 *                 if no renewal happened since.
 *    A lease that names the claimant but was not written by this manager
 *    (a restart under the same identity) is judged without the tolerance.
 *  - The API server decides every race: acquire and renew carry the
 *    resourceVersion, so two writers can never both succeed from one version.
 */
#include "lease/lease_cache.h"

#include "core/clock.h"
#include "core/error.h"
#include "lease/claim.h"

#include <stdlib.h>
#include <string.h>

/* resourceVersions are opaque, but etcd's are increasing integers: when both
 * parse, a smaller one is older. Unparseable ones are never called older. */
static bool rv_older(const char *a, const char *b)
{
    char *ea, *eb;
    long long va = strtoll(a, &ea, 10), vb = strtoll(b, &eb, 10);
    return *ea == '\0' && *eb == '\0' && ea != a && eb != b && va < vb;
}

void klease__cache_init(klease__lease_cache *c, int64_t skew_tolerance_ns)
{
    memset(c, 0, sizeof *c);
    c->skew_tolerance_ns = skew_tolerance_ns;
}

void klease__cache_derive(klease__lease_cache *c, klease__now now)
{
    const klease__lease *l = &c->lease;
    c->has_claim = false;
    if (!c->has_lease || !l->has_holder || !l->has_renew_time || !l->has_duration ||
        l->duration_s <= 0)
        return;
    int64_t duration_ns = klease__s_to_ns(l->duration_s);
    bool self = c->claimant[0] != '\0' && klease__lease_held_by(l, c->claimant);
    int64_t deadline;
    if (self && strcmp(l->resource_version, c->own_rv) == 0) {
        deadline = c->own_deadline; /* our own write: its send time is known exactly */
    } else {
        int64_t tolerance = self ? 0 : c->skew_tolerance_ns;
        int64_t wall_end =
            klease__add_sat(klease__add_sat(l->renew_time_ns, duration_ns), tolerance);
        int64_t by_wall = klease__add_sat(now.mono_ns, klease__add_sat(wall_end, -now.wall_ns));
        int64_t by_observation = klease__add_sat(c->observed_at_mono, duration_ns);
        deadline = by_wall < by_observation ? by_wall : by_observation;
    }
    if (deadline <= now.mono_ns)
        return; /* expired: the lease is free to take (the seed's "unclaimed") */
    c->has_claim = true;
    memcpy(c->claim.holder, l->holder, sizeof c->claim.holder);
    c->claim.holder_truncated = l->holder_truncated;
    c->claim.expiry_wall_ns = klease__add_sat(l->renew_time_ns, duration_ns);
    c->claim.deadline_mono_ns = deadline;
    klease__strlcpy(c->claim.resource_version, l->resource_version,
                    sizeof c->claim.resource_version);
    c->claim.transitions = l->transitions;
}

void klease__cache_accept(klease__lease_cache *c, const klease__lease *l, int64_t own_deadline,
                          klease__now now)
{
    if (own_deadline != INT64_MIN) {
        klease__strlcpy(c->own_rv, l->resource_version, sizeof c->own_rv);
        c->own_deadline = own_deadline;
    }
    if (!c->has_lease || strcmp(c->lease.resource_version, l->resource_version) != 0)
        c->observed_at_mono = now.mono_ns;
    c->lease = *l;
    c->has_lease = true;
    klease__cache_derive(c, now);
}

void klease__cache_observe(klease__lease_cache *c, const klease__lease *l, klease__now now)
{
    if (!c->has_lease || !rv_older(l->resource_version, c->lease.resource_version))
        klease__cache_accept(c, l, INT64_MIN, now);
}

void klease__cache_forget(klease__lease_cache *c, bool distrust_own)
{
    c->has_lease = false;
    c->has_claim = false;
    if (distrust_own)
        c->own_rv[0] = '\0';
}

void klease__cache_set_claimant(klease__lease_cache *c, const char *claimant, klease__now now)
{
    if (strcmp(c->claimant, claimant) == 0)
        return;
    klease__strlcpy(c->claimant, claimant, sizeof c->claimant);
    klease__cache_derive(c, now);
}

int64_t klease__cache_left_ns(const klease__lease_cache *c, const char *claimant, int64_t now_mono)
{
    const klease_claim *claim = &c->claim;
    if (!c->has_claim || !klease__claim_names(claim, claimant) ||
        claim->deadline_mono_ns <= now_mono)
        return 0;
    return claim->deadline_mono_ns - now_mono;
}

void klease__cache_report(const klease__lease_cache *c, int64_t now_mono, klease_claim *out,
                          bool *has_claim)
{
    bool has = c->has_claim && now_mono < c->claim.deadline_mono_ns;
    if (has_claim != NULL)
        *has_claim = has;
    if (out == NULL)
        return;
    if (has) {
        *out = c->claim;
        return;
    }
    memset(out, 0, sizeof *out);
    if (c->has_lease) {
        klease__strlcpy(out->resource_version, c->lease.resource_version,
                        sizeof out->resource_version);
        out->transitions = c->lease.transitions;
    }
}
