/* The manager's cached copy of the lease, and the time model that turns it
 * into a claim (see lease/manager.c for the rules and why they are safe).
 * Every function here runs with state_mu held, except observe and forget,
 * which take it. */
#include "lease/manager.h"

#include "core/error.h"

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

void klease__manager_derive(klease_manager *m, int64_t now_mono, int64_t now_wall)
{
    const klease__lease *l = &m->lease;
    m->has_claim = false;
    if (!m->has_lease || !l->has_holder || !l->has_renew_time || !l->has_duration ||
        l->duration_s <= 0)
        return;
    int64_t duration_ns = klease__s_to_ns(l->duration_s);
    bool self = m->claimant[0] != '\0' && klease__lease_held_by(l, m->claimant);
    int64_t deadline;
    if (self && strcmp(l->resource_version, m->own_rv) == 0) {
        deadline = m->own_deadline; /* our own write: its send time is known exactly */
    } else {
        int64_t tolerance = self ? 0 : m->skew_tolerance_ns;
        int64_t wall_end = klease__add_sat(klease__add_sat(l->renew_time_ns, duration_ns), tolerance);
        int64_t by_wall = klease__add_sat(now_mono, klease__add_sat(wall_end, -now_wall));
        int64_t by_observation = klease__add_sat(m->observed_at_mono, duration_ns);
        deadline = by_wall < by_observation ? by_wall : by_observation;
    }
    if (deadline <= now_mono)
        return; /* expired: the lease is free to take (the seed's "unclaimed") */
    m->has_claim = true;
    memcpy(m->claim.holder, l->holder, sizeof m->claim.holder);
    m->claim.holder_truncated = l->holder_truncated;
    m->claim.expiry_wall_ns = klease__add_sat(l->renew_time_ns, duration_ns);
    m->claim.deadline_mono_ns = deadline;
    klease__strlcpy(m->claim.resource_version, l->resource_version,
                    sizeof m->claim.resource_version);
    m->claim.transitions = l->transitions;
}

void klease__manager_store(klease_manager *m, const klease__lease *l, int64_t now_mono)
{
    if (!m->has_lease || strcmp(m->lease.resource_version, l->resource_version) != 0)
        m->observed_at_mono = now_mono;
    m->lease = *l;
    m->has_lease = true;
}

void klease__manager_observe(klease_manager *m, const klease__lease *l)
{
    const klease__clock *c = klease__manager_clock(m);
    pthread_mutex_lock(&m->state_mu);
    if (!m->has_lease || !rv_older(l->resource_version, m->lease.resource_version)) {
        klease__manager_store(m, l, klease__mono_ns(c));
        klease__manager_derive(m, klease__mono_ns(c), klease__wall_ns(c));
    }
    pthread_mutex_unlock(&m->state_mu);
}

void klease__manager_forget(klease_manager *m)
{
    pthread_mutex_lock(&m->state_mu);
    m->has_lease = false;
    m->has_claim = false;
    pthread_mutex_unlock(&m->state_mu);
}

void klease__manager_report(const klease_manager *m, int64_t now, klease_claim *out, bool *has_claim)
{
    bool has = m->has_claim && now < m->claim.deadline_mono_ns;
    if (has_claim != NULL)
        *has_claim = has;
    if (out == NULL)
        return;
    if (has) {
        *out = m->claim;
        return;
    }
    memset(out, 0, sizeof *out);
    if (m->has_lease) {
        klease__strlcpy(out->resource_version, m->lease.resource_version,
                        sizeof out->resource_version);
        out->transitions = m->lease.transitions;
    }
}
