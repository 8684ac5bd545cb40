/* Leases' counters and leadership in the Prometheus text exposition format,
 * for a controller to serve from its own metrics endpoint.
 *
 * Built only on the public API (stats, cached claims, elector state), so it
 * reads what any caller could read and takes no lock of its own. Families
 * are written one after the other, each with its HELP and TYPE once and a
 * sample per lease, as the format asks. */
#include "core/alloc.h"
#include "core/error.h"
#include "klease/klease.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Everything one lease contributes, read once so every family agrees. */
typedef struct sample {
    char name[512]; /* "namespace/name", escaped for a label value */
    klease_manager_stats stats;
    bool leading;
    bool has_elector;
    bool healthy;
    double time_left_s;
    int64_t transitions;
} sample;

/* An output buffer that counts what it could not hold, like snprintf. */
typedef struct out {
    char *buf;
    size_t size;
    size_t len; /* bytes the whole text needs, without the NUL */
} out;

static void put(out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = o->len < o->size ? o->size - o->len : 0;
    int n = vsnprintf(room > 0 ? o->buf + o->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->len += (size_t)n;
}

/* Label values escape backslash, double quote and newline. */
static void escape_label(char *dst, size_t size, const char *ns, const char *name)
{
    char raw[512];
    snprintf(raw, sizeof raw, "%s/%s", ns, name);
    size_t j = 0;
    for (const char *p = raw; *p != '\0' && j + 3 < size; p++) {
        if (*p == '\\' || *p == '"' || *p == '\n') {
            dst[j++] = '\\';
            dst[j++] = *p == '\n' ? 'n' : *p;
        } else {
            dst[j++] = *p;
        }
    }
    dst[j] = '\0';
}

static void read_sample(const klease_metrics_lease *l, sample *s)
{
    klease_claim claim;
    bool has_claim = false;

    memset(s, 0, sizeof *s);
    escape_label(s->name, sizeof s->name, klease_manager_namespace(l->manager),
                 klease_manager_name(l->manager));
    klease_manager_get_stats(l->manager, &s->stats);
    if (l->elector != NULL) {
        s->has_elector = true;
        s->leading = klease_elector_is_leader(l->elector);
        s->healthy = klease_elector_status(l->elector, NULL) == KLEASE_OK;
        klease_elector_current(l->elector, &claim, &has_claim);
    } else {
        klease_claimed(l->manager, &claim, &has_claim);
        s->leading =
            l->identity != NULL && has_claim && klease_claim_is_current_for(&claim, l->identity);
    }
    s->transitions = claim.transitions;
    if (s->leading)
        s->time_left_s = (double)klease_claim_time_left_ms(&claim) / 1000.0;
}

typedef enum field {
    F_LEADING,
    F_TIME_LEFT,
    F_TRANSITIONS,
    F_HEALTHY,
    F_ACQUISITIONS,
    F_RENEWALS,
    F_CONFLICTS,
    F_ERRORS,
    F_VACATES,
    F_API_CALLS,
} field;

static const struct family {
    const char *name;
    const char *type;
    const char *help;
    field field;
    bool electors_only;
} families[] = {
    /* client-go's name, so dashboards and alerts written for it apply. */
    {"leader_election_master_status", "gauge",
     "1 while this process holds the lease and its claim is current, else 0.", F_LEADING, false},
    {"klease_lease_time_left_seconds", "gauge",
     "Time left on our claim (0 when we do not hold the lease).", F_TIME_LEFT, false},
    {"klease_lease_transitions", "gauge", "leaseTransitions of the lease as last seen.",
     F_TRANSITIONS, false},
    {"klease_elector_healthy", "gauge",
     "1 while the elector's last call succeeded, 0 while it retries or after it stopped.",
     F_HEALTHY, true},
    {"klease_lease_acquisitions_total", "counter", "Leases acquired.", F_ACQUISITIONS, false},
    {"klease_lease_renewals_total", "counter", "Claims renewed.", F_RENEWALS, false},
    {"klease_lease_conflicts_total", "counter", "409 Conflict answers (lost races).", F_CONFLICTS,
     false},
    {"klease_lease_errors_total", "counter", "Failed API calls other than conflicts.", F_ERRORS,
     false},
    {"klease_lease_vacates_total", "counter", "Leases given up.", F_VACATES, false},
    {"klease_lease_api_calls_total", "counter", "Requests sent to the API server.", F_API_CALLS,
     false},
};

static void put_value(out *o, const sample *s, field f)
{
    switch (f) {
    case F_LEADING: put(o, "%d", s->leading ? 1 : 0); break;
    case F_TIME_LEFT: put(o, "%.3f", s->time_left_s); break;
    case F_TRANSITIONS: put(o, "%" PRId64, s->transitions); break;
    case F_HEALTHY: put(o, "%d", s->healthy ? 1 : 0); break;
    case F_ACQUISITIONS: put(o, "%" PRIu64, s->stats.acquisitions); break;
    case F_RENEWALS: put(o, "%" PRIu64, s->stats.renewals); break;
    case F_CONFLICTS: put(o, "%" PRIu64, s->stats.conflicts); break;
    case F_ERRORS: put(o, "%" PRIu64, s->stats.errors); break;
    case F_VACATES: put(o, "%" PRIu64, s->stats.vacates); break;
    case F_API_CALLS: put(o, "%" PRIu64, s->stats.api_calls); break;
    }
}

static void put_family(out *o, const struct family *fam, const sample *samples, size_t n)
{
    bool any = false;
    for (size_t i = 0; i < n; i++)
        any = any || !fam->electors_only || samples[i].has_elector;
    if (!any)
        return;
    put(o, "# HELP %s %s\n# TYPE %s %s\n", fam->name, fam->help, fam->name, fam->type);
    for (size_t i = 0; i < n; i++) {
        if (fam->electors_only && !samples[i].has_elector)
            continue;
        put(o, "%s{name=\"%s\"} ", fam->name, samples[i].name);
        put_value(o, &samples[i], fam->field);
        put(o, "\n");
    }
}

klease_status klease_metrics_render(const klease_metrics_lease *leases, size_t n, char *buf,
                                    size_t size, size_t *len, klease_error *err)
{
    enum { MAX_LEASES = 100000 };
    if ((leases == NULL && n > 0) || (buf == NULL && size > 0) || len == NULL)
        return klease__fail(err, KLEASE_EINVAL, "metrics: NULL argument");
    if (n > MAX_LEASES)
        return klease__fail(err, KLEASE_EINVAL, "metrics: %zu leases, at most %d", n, MAX_LEASES);
    for (size_t i = 0; i < n; i++)
        if (leases[i].manager == NULL)
            return klease__fail(err, KLEASE_EINVAL, "metrics: lease %zu has no manager", i);

    sample *samples = klease__malloc(n > 0 ? n * sizeof *samples : 1);
    if (samples == NULL)
        return klease__fail(err, KLEASE_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        read_sample(&leases[i], &samples[i]);
    out o = {buf, size, 0};
    for (size_t f = 0; f < sizeof families / sizeof families[0]; f++)
        put_family(&o, &families[f], samples, n);
    klease__free(samples);

    *len = o.len;
    if (size > 0) /* terminated even when nothing, or not everything, was written */
        buf[o.len < size ? o.len : size - 1] = '\0';
    if (o.len >= size) {
        return klease__fail(err, KLEASE_EINVAL, "metrics: %zu bytes needed, the buffer has %zu",
                            o.len + 1, size);
    }
    return KLEASE_OK;
}
