/* The lease manager: the seed's LeaseManager in C.
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
#include "lease/manager.h"

#include "core/alloc.h"
#include "core/error.h"
#include "core/json.h"
#include "api/lease_api.h"
#include "lease/claim.h"

#include <string.h>

#define DEFAULT_FIELD_MANAGER "klease"

const klease__clock *klease__manager_clock(const klease_manager *m)
{
    return m->client->clock;
}

/* ------------------------------------------------------------ validation */

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

/* ------------------------------------------------------------- the cache */

static void count(klease_manager *m, uint64_t *counter)
{
    pthread_mutex_lock(&m->state_mu);
    (*counter)++;
    pthread_mutex_unlock(&m->state_mu);
}

/* Counts a failed call by kind. */
static klease_status count_failure(klease_manager *m, klease_status st)
{
    if (st == KLEASE_ECONFLICT)
        count(m, &m->stats.conflicts);
    else if (st != KLEASE_OK)
        count(m, &m->stats.errors);
    return st;
}

/* The time limit of a call made while `claimant` may hold the lease: never
 * past the time left on our claim (0 = the client's limit; -1 = under 1 ms
 * left, which the call refuses with KLEASE_ETIMEDOUT rather than round to
 * "no limit"). While more than `margin_ns` is left, the call ends at
 * deadline - margin instead, so an elector whose renewal hangs gets its
 * thread back when its leadership ends, not only when its claim does. */
static int64_t call_timeout_ms(klease_manager *m, const char *claimant, int64_t margin_ns)
{
    int64_t left = 0;
    int64_t now = klease__mono_ns(klease__manager_clock(m));
    pthread_mutex_lock(&m->state_mu);
    if (m->has_claim && klease__claim_names(&m->claim, claimant) && m->claim.deadline_mono_ns > now)
        left = m->claim.deadline_mono_ns - now;
    pthread_mutex_unlock(&m->state_mu);
    if (left <= 0)
        return 0;
    if (left > margin_ns)
        left -= margin_ns;
    return left >= KLEASE__NS_PER_MS ? left / KLEASE__NS_PER_MS : -1;
}

/* ------------------------------------------------------------- API calls */

/* GET the lease into the cache. */
static klease_status refresh(klease_manager *m, const char *claimant, int64_t margin_ns,
                             klease__cancel *cancel, klease_error *err)
{
    const klease__clock *c = klease__manager_clock(m);
    klease__http_response resp;
    klease__call call = {.timeout_ms = call_timeout_ms(m, claimant, margin_ns), .cancel = cancel};
    count(m, &m->stats.api_calls);
    klease_status st = klease__lease_get(m->client, m->ns, m->name, &call, &resp, err);
    if (st == KLEASE_ENOTFOUND) {
        klease__manager_forget(m);
        return st;
    }
    if (st != KLEASE_OK)
        return count_failure(m, st);
    klease__lease l;
    st = klease__lease_decode(resp.body, resp.body_len, &l, err);
    klease__http_response_clear(&resp);
    if (st != KLEASE_OK)
        return count_failure(m, st);
    pthread_mutex_lock(&m->state_mu);
    klease__manager_store(m, &l, klease__mono_ns(c));
    klease__manager_derive(m, klease__mono_ns(c), klease__wall_ns(c));
    pthread_mutex_unlock(&m->state_mu);
    return KLEASE_OK;
}

/* Sends a write (renew or acquire) and, on success, caches the result as our
 * claim ending at send time + duration. */
static klease_status write_claim(klease_manager *m, const char *claimant, klease__patch_type type,
                                 const char *body, int64_t send_mono, int64_t duration_s,
                                 int64_t margin_ns, klease__cancel *cancel,
                                 uint64_t *success_counter, klease_error *err)
{
    const klease__clock *c = klease__manager_clock(m);
    klease__http_response resp;
    klease__call call = {.timeout_ms = call_timeout_ms(m, claimant, margin_ns), .cancel = cancel};
    count(m, &m->stats.api_calls);
    klease_status st = klease__lease_patch(m->client, m->ns, m->name, type, body, m->field_manager,
                                           type == KLEASE__PATCH_APPLY, &call, &resp, err);
    if (st != KLEASE_OK)
        return count_failure(m, st);
    klease__lease l;
    st = klease__lease_decode(resp.body, resp.body_len, &l, err);
    klease__http_response_clear(&resp);
    if (st == KLEASE_OK && !klease__lease_held_by(&l, claimant))
        st = klease__fail(err, KLEASE_EPROTO,
                          "the server accepted our write but the lease "
                          "names another holder");
    pthread_mutex_lock(&m->state_mu);
    if (st != KLEASE_OK) {
        /* The write may have landed but we cannot read the result: trust
         * nothing cached, so the next call reads the lease again. */
        m->has_lease = false;
        m->has_claim = false;
        m->stats.errors++;
    } else {
        klease__strlcpy(m->own_rv, l.resource_version, sizeof m->own_rv);
        m->own_deadline = klease__add_sat(send_mono, klease__s_to_ns(duration_s));
        klease__manager_store(m, &l, klease__mono_ns(c));
        klease__manager_derive(m, klease__mono_ns(c), klease__wall_ns(c));
        (*success_counter)++;
    }
    pthread_mutex_unlock(&m->state_mu);
    return st;
}

static klease_status renew(klease_manager *m, const klease__lease *seen, const char *claimant,
                           int64_t duration_s, int64_t margin_ns, klease__cancel *cancel,
                           klease_error *err)
{
    const klease__clock *c = klease__manager_clock(m);
    int64_t send_mono = klease__mono_ns(c);
    char *body = klease__lease_renew_body(seen->resource_version, klease__wall_ns(c), duration_s);
    if (body == NULL)
        return klease__fail(err, KLEASE_ENOMEM, "out of memory");
    klease_status st = write_claim(m, claimant, KLEASE__PATCH_STRATEGIC, body, send_mono,
                                   duration_s, margin_ns, cancel, &m->stats.renewals, err);
    cJSON_free(body);
    return st;
}

static klease_status acquire(klease_manager *m, const klease__lease *seen, const char *claimant,
                             int64_t duration_s, int64_t margin_ns, klease__cancel *cancel,
                             klease_error *err)
{
    const klease__clock *c = klease__manager_clock(m);
    /* leaseTransitions counts changes of holder (the seed adds one on every
     * acquire); it saturates at the API's int32 limit instead of wrapping. */
    int64_t transitions = seen->transitions;
    if (!klease__lease_held_by(seen, claimant) && transitions < INT32_MAX)
        transitions++;
    int64_t send_mono = klease__mono_ns(c);
    char *body = klease__lease_acquire_body(seen->resource_version, claimant, klease__wall_ns(c),
                                            duration_s, transitions);
    if (body == NULL)
        return klease__fail(err, KLEASE_ENOMEM, "out of memory");
    klease_status st = write_claim(m, claimant, KLEASE__PATCH_APPLY, body, send_mono, duration_s,
                                   margin_ns, cancel, &m->stats.acquisitions, err);
    cJSON_free(body);
    return st;
}

/* ------------------------------------------------------------ operations */

static bool is_ours_and_fresh(klease_manager *m, const char *claimant, int64_t now,
                              int64_t grace_ns, klease_claim *out)
{
    bool fresh = m->has_claim && klease__claim_names(&m->claim, claimant) &&
                 now < m->claim.deadline_mono_ns - grace_ns;
    if (fresh && out != NULL)
        *out = m->claim;
    return fresh;
}

klease_status klease__ensure_claimed(klease_manager *m, const char *claimant,
                                     const klease_claim_params *params, int64_t margin_ns,
                                     klease__cancel *cancel, klease_claim *out, klease_error *err)
{
    int64_t duration_s, grace_ns;
    klease_status st;
    /* Decisions below read the error's details, so it is filled even when
     * the caller passed none: behaviour must not depend on `err`. */
    klease_error local_err;
    if (err == NULL)
        err = &local_err;
    if (m == NULL || out == NULL)
        return klease__fail(err, KLEASE_EINVAL, "klease_ensure_claimed: NULL argument");
    if ((st = klease__claimant_check(claimant, err)) != KLEASE_OK ||
        (st = klease__claim_params_check(params, &duration_s, &grace_ns, err)) != KLEASE_OK)
        return st;
    const klease__clock *c = klease__manager_clock(m);

    /* The fast path: our claim, outside the renew grace. No I/O, no allocation. */
    pthread_mutex_lock(&m->state_mu);
    if (strcmp(m->claimant, claimant) != 0) {
        /* The cached claim was judged before we knew it could be ours (a
         * restart under the same identity): judge it again without the
         * skew tolerance, or we would lead past its real deadline. */
        klease__strlcpy(m->claimant, claimant, sizeof m->claimant);
        klease__manager_derive(m, klease__mono_ns(c), klease__wall_ns(c));
    }
    bool fresh = is_ours_and_fresh(m, claimant, klease__mono_ns(c), grace_ns, out);
    pthread_mutex_unlock(&m->state_mu);
    if (fresh)
        return KLEASE_OK;

    pthread_mutex_lock(&m->io_mu);
    int conflicts = 0;
    for (;;) {
        klease__lease seen;
        bool has_lease, has_claim, mine = false;
        pthread_mutex_lock(&m->state_mu);
        int64_t now = klease__mono_ns(c);
        klease__manager_derive(m, now, klease__wall_ns(c));
        has_lease = m->has_lease;
        has_claim = m->has_claim;
        seen = m->lease;
        if (has_claim)
            *out = m->claim;
        /* As in the seed, a lease that names us is renewed, even after our
         * local deadline: the resourceVersion precondition makes that safe,
         * and a renewal keeps acquireTime. */
        mine = has_lease && klease__lease_held_by(&seen, claimant);
        pthread_mutex_unlock(&m->state_mu);

        if (!has_lease) {
            /* Forgotten (deleted, or a write whose result we could not read). */
            st = refresh(m, claimant, margin_ns, cancel, err);
            if (st != KLEASE_OK)
                break;
            continue;
        }
        if (mine) {
            if (has_claim && now < out->deadline_mono_ns - grace_ns) {
                st = KLEASE_OK; /* another thread renewed while we waited */
                break;
            }
            st = renew(m, &seen, claimant, duration_s, margin_ns, cancel, err);
        } else if (has_claim) {
            st = KLEASE_OK; /* someone else's current claim */
            break;
        } else {
            st = acquire(m, &seen, claimant, duration_s, margin_ns, cancel, err);
            if (st == KLEASE_EHTTP && err->http_code == 400) {
                /* Apply answers 400 "name must be provided" when the lease
                 * was deleted: tell that apart by reading it. */
                klease_error get_err;
                if (refresh(m, claimant, margin_ns, cancel, &get_err) == KLEASE_ENOTFOUND) {
                    st = klease__fail(err, KLEASE_ENOTFOUND, "lease %s/%s was deleted", m->ns,
                                      m->name);
                    break;
                }
            }
        }
        if (st == KLEASE_OK) {
            pthread_mutex_lock(&m->state_mu);
            *out = m->claim;
            pthread_mutex_unlock(&m->state_mu);
            break;
        }
        if (st != KLEASE_ECONFLICT)
            break;
        if (++conflicts > m->max_conflict_rounds) {
            st = klease__fail(err, KLEASE_ECONFLICT,
                              "lease %s/%s: gave up after %d conflicting writes", m->ns, m->name,
                              conflicts);
            break;
        }
        /* Another writer changed the lease: read it and decide again. */
        if ((st = refresh(m, claimant, margin_ns, cancel, err)) != KLEASE_OK)
            break;
    }
    pthread_mutex_unlock(&m->io_mu);
    return st;
}

klease_status klease_ensure_claimed(klease_manager *m, const char *claimant,
                                    const klease_claim_params *params, klease_claim *out,
                                    klease_error *err)
{
    return klease__ensure_claimed(m, claimant, params, 0, NULL, out, err);
}

klease_status klease__sync(klease_manager *m, klease__cancel *cancel, klease_claim *out,
                           bool *has_claim, klease_error *err)
{
    if (m == NULL)
        return klease__fail(err, KLEASE_EINVAL, "klease_sync: NULL manager");
    pthread_mutex_lock(&m->io_mu);
    klease_status st = refresh(m, NULL, 0, cancel, err);
    pthread_mutex_unlock(&m->io_mu);
    if (st == KLEASE_OK || st == KLEASE_ENOTFOUND) {
        pthread_mutex_lock(&m->state_mu);
        klease__manager_report(m, klease__mono_ns(klease__manager_clock(m)), out, has_claim);
        pthread_mutex_unlock(&m->state_mu);
    }
    return st;
}

klease_status klease_sync(klease_manager *m, klease_claim *out, bool *has_claim, klease_error *err)
{
    return klease__sync(m, NULL, out, has_claim, err);
}

klease_status klease_claimed(klease_manager *m, klease_claim *out, bool *has_claim)
{
    if (m == NULL || has_claim == NULL)
        return KLEASE_EINVAL;
    /* A cached claim that has run out is no claim (the seed's get() rule). */
    pthread_mutex_lock(&m->state_mu);
    klease__manager_report(m, klease__mono_ns(klease__manager_clock(m)), out, has_claim);
    pthread_mutex_unlock(&m->state_mu);
    return KLEASE_OK;
}

klease_status klease__vacate(klease_manager *m, const char *claimant, klease__cancel *cancel,
                             int64_t timeout_ms, bool *vacated, klease_error *err)
{
    klease_status st;
    if (vacated != NULL)
        *vacated = false;
    if (m == NULL)
        return klease__fail(err, KLEASE_EINVAL, "klease_vacate: NULL manager");
    if ((st = klease__claimant_check(claimant, err)) != KLEASE_OK)
        return st;
    const klease__clock *c = klease__manager_clock(m);

    pthread_mutex_lock(&m->io_mu);
    int conflicts = 0;
    for (;;) {
        /* Clear only what a fresh copy says is ours. */
        if ((st = refresh(m, claimant, 0, cancel, err)) != KLEASE_OK)
            break;
        klease__lease seen;
        pthread_mutex_lock(&m->state_mu);
        seen = m->lease;
        /* As in the seed, an expired claim is not vacated: the lease is
         * free to take already, and its fields stay as they were. */
        bool current = m->has_claim && klease__mono_ns(c) < m->claim.deadline_mono_ns;
        pthread_mutex_unlock(&m->state_mu);
        if (!current || !klease__lease_held_by(&seen, claimant))
            break; /* not ours (any more), or expired: nothing to give up */

        char *body = klease__lease_vacate_body(seen.resource_version);
        if (body == NULL) {
            st = klease__fail(err, KLEASE_ENOMEM, "out of memory");
            break;
        }
        klease__http_response resp;
        klease__call call = {.timeout_ms = timeout_ms, .cancel = cancel};
        count(m, &m->stats.api_calls);
        st = klease__lease_patch(m->client, m->ns, m->name, KLEASE__PATCH_STRATEGIC, body,
                                 m->field_manager, false, &call, &resp, err);
        cJSON_free(body);
        if (st == KLEASE_OK) {
            klease__lease l;
            st = klease__lease_decode(resp.body, resp.body_len, &l, err);
            klease__http_response_clear(&resp);
            pthread_mutex_lock(&m->state_mu);
            if (st == KLEASE_OK) {
                /* Keep the new resourceVersion (the seed drops it). */
                klease__manager_store(m, &l, klease__mono_ns(c));
                klease__manager_derive(m, klease__mono_ns(c), klease__wall_ns(c));
                m->stats.vacates++;
            } else {
                m->has_lease = false;
                m->has_claim = false;
            }
            pthread_mutex_unlock(&m->state_mu);
            if (st == KLEASE_OK && vacated != NULL)
                *vacated = true;
            break;
        }
        count_failure(m, st);
        if (st == KLEASE_ECONFLICT && ++conflicts <= m->max_conflict_rounds)
            continue;
        break;
    }
    if (st != KLEASE_OK && st != KLEASE_ENOTFOUND) {
        /* The outcome is unknown (the write may have landed): stop trusting
         * our cached claim, so the next ensure_claimed asks the server. */
        pthread_mutex_lock(&m->state_mu);
        m->has_lease = false;
        m->has_claim = false;
        m->own_rv[0] = '\0';
        pthread_mutex_unlock(&m->state_mu);
    }
    if (st == KLEASE_ENOTFOUND)
        st = KLEASE_OK; /* a deleted lease is held by no one */
    pthread_mutex_unlock(&m->io_mu);
    return st;
}

klease_status klease_vacate(klease_manager *m, const char *claimant, bool *vacated,
                            klease_error *err)
{
    return klease__vacate(m, claimant, NULL, 0, vacated, err);
}

void klease_manager_get_stats(klease_manager *m, klease_manager_stats *out)
{
    if (m == NULL || out == NULL)
        return;
    pthread_mutex_lock(&m->state_mu);
    *out = m->stats;
    pthread_mutex_unlock(&m->state_mu);
}

const char *klease_manager_namespace(const klease_manager *m)
{
    return m != NULL ? m->ns : "";
}

const char *klease_manager_name(const klease_manager *m)
{
    return m != NULL ? m->name : "";
}

/* ------------------------------------------------------------- lifecycle */

static klease_status create_lease(klease_manager *m, klease_error *err)
{
    char *body = klease__lease_create_body(m->name);
    if (body == NULL)
        return klease__fail(err, KLEASE_ENOMEM, "out of memory");
    klease__http_response resp;
    count(m, &m->stats.api_calls);
    klease_status st =
        klease__lease_create(m->client, m->ns, m->name, body, m->field_manager, NULL, &resp, err);
    cJSON_free(body);
    if (st == KLEASE_ECONFLICT)
        return refresh(m, NULL, 0, NULL, err); /* another creator won: read theirs */
    if (st != KLEASE_OK)
        return st;
    klease__lease l;
    st = klease__lease_decode(resp.body, resp.body_len, &l, err);
    klease__http_response_clear(&resp);
    if (st != KLEASE_OK)
        return st;
    const klease__clock *c = klease__manager_clock(m);
    pthread_mutex_lock(&m->state_mu);
    klease__manager_store(m, &l, klease__mono_ns(c));
    klease__manager_derive(m, klease__mono_ns(c), klease__wall_ns(c));
    pthread_mutex_unlock(&m->state_mu);
    return KLEASE_OK;
}

klease_status klease_manager_init(klease_manager **out, klease_client *client, const char *ns,
                                  const char *name, const klease_manager_options *opts,
                                  klease_error *err)
{
    klease_status st;
    if (out == NULL || client == NULL)
        return klease__fail(err, KLEASE_EINVAL, "klease_manager_init: NULL argument");
    *out = NULL;
    if (ns == NULL)
        ns = klease_client_namespace(client);
    klease_manager_options defaults = KLEASE_MANAGER_OPTIONS_INIT;
    if (opts == NULL)
        opts = &defaults;
    if (opts->version < 1 || opts->version > KLEASE_MANAGER_OPTIONS_VERSION)
        return klease__fail(err, KLEASE_EINVAL, "klease_manager_options: unknown version %d",
                            opts->version);
    if (opts->clock_skew_tolerance_ms < 0 || opts->max_conflict_rounds < 0)
        return klease__fail(err, KLEASE_EINVAL,
                            "klease_manager_options: negative skew tolerance or conflict rounds");
    if (opts->field_manager != NULL &&
        (opts->field_manager[0] == '\0' || strlen(opts->field_manager) > 128))
        return klease__fail(err, KLEASE_EINVAL, "field manager must be 1 to 128 bytes");
    if ((st = klease__lease_validate_names(ns, name, err)) != KLEASE_OK)
        return st;

    klease_manager *m = klease__calloc(1, sizeof *m);
    if (m == NULL)
        return klease__fail(err, KLEASE_ENOMEM, "out of memory");
    int rc = pthread_mutex_init(&m->io_mu, NULL);
    if (rc == 0 && (rc = pthread_mutex_init(&m->state_mu, NULL)) != 0)
        pthread_mutex_destroy(&m->io_mu);
    if (rc != 0) {
        klease__free(m);
        return klease__fail(err, KLEASE_ENOMEM, "cannot create the manager's locks: %s",
                            strerror(rc));
    }
    m->client = client;
    m->skew_tolerance_ns = klease__ms_to_ns(opts->clock_skew_tolerance_ms);
    m->max_conflict_rounds = opts->max_conflict_rounds;
    if ((m->ns = klease__strdup(ns)) == NULL || (m->name = klease__strdup(name)) == NULL ||
        (m->field_manager = klease__strdup(opts->field_manager ? opts->field_manager
                                                               : DEFAULT_FIELD_MANAGER)) == NULL) {
        st = klease__fail(err, KLEASE_ENOMEM, "out of memory");
        goto fail;
    }
    st = refresh(m, NULL, 0, NULL, err);
    if (st == KLEASE_ENOTFOUND && opts->create_if_missing)
        st = create_lease(m, err);
    if (st != KLEASE_OK)
        goto fail;
    *out = m;
    return KLEASE_OK;
fail:
    klease_manager_free(m);
    return st;
}

void klease_manager_free(klease_manager *m)
{
    if (m == NULL)
        return;
    pthread_mutex_destroy(&m->io_mu);
    pthread_mutex_destroy(&m->state_mu);
    klease__free(m->ns);
    klease__free(m->name);
    klease__free(m->field_manager);
    klease__free(m);
}
