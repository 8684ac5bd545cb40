/* The lease manager: the seed's LeaseManager in C. It serialises API calls,
 * sends reads and writes, and keeps the cache (lease/lease_cache.h, which
 * states the time and safety rules) under its state lock. The API server
 * decides every race: acquire and renew carry the resourceVersion, so two
 * writers can never both succeed from one version. */
#include "lease/manager.h"

#include "api/client.h"
#include "api/lease_api.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/json.h"
#include "lease/claim.h"
#include "lease/lease_cache.h"

#include <pthread.h>
#include <string.h>

#define DEFAULT_FIELD_MANAGER "klease"

struct klease_manager {
    klease_client *client;
    char *ns;
    char *name;
    char *field_manager;
    int max_conflict_rounds;

    /* Serialises API calls, as the seed's async mutex does. Held across I/O. */
    pthread_mutex_t io_mu;
    /* Guards everything below. Never held across I/O, so readers of the
     * cached claim never wait behind the network. */
    pthread_mutex_t state_mu;
    klease__lease_cache cache;
    klease_manager_stats stats;
};

klease_client *klease__manager_client(const klease_manager *m)
{
    return m->client;
}

const klease__clock *klease__manager_clock(const klease_manager *m)
{
    return m->client->clock;
}

const klease__logger *klease__manager_log(const klease_manager *m)
{
    return &m->client->log;
}

/* One instant for the cache, read once per decision under state_mu. */
static klease__now now_of(const klease_manager *m)
{
    const klease__clock *c = klease__manager_clock(m);
    return (klease__now){.mono_ns = klease__mono_ns(c), .wall_ns = klease__wall_ns(c)};
}

/* ------------------------------------------------------------- the cache */

/* The one step that takes in a lease we just read or wrote: stores it in the
 * cache and derives the claim at one instant, and counts `counter` (may be
 * NULL). `own_deadline` is the send time + duration of our own write, or
 * INT64_MIN (see klease__cache_accept). */
static void accept_lease(klease_manager *m, const klease__lease *l, int64_t own_deadline,
                         uint64_t *counter)
{
    pthread_mutex_lock(&m->state_mu);
    klease__cache_accept(&m->cache, l, own_deadline, now_of(m));
    if (counter != NULL)
        (*counter)++;
    pthread_mutex_unlock(&m->state_mu);
}

/* Stops trusting the cache (the lease is gone, or a write's outcome is
 * unknown); `distrust_own` also forgets our last write. Counts `counter`
 * (may be NULL). */
static void forget_lease(klease_manager *m, bool distrust_own, uint64_t *counter)
{
    pthread_mutex_lock(&m->state_mu);
    klease__cache_forget(&m->cache, distrust_own);
    if (counter != NULL)
        (*counter)++;
    pthread_mutex_unlock(&m->state_mu);
}

/* Decodes a response body into `l` and releases the body. */
static klease_status read_lease(klease__http_response *resp, klease__lease *l, klease_error *err)
{
    klease_status st = klease__lease_decode(resp->body, resp->body_len, l, err);
    klease__http_response_clear(resp);
    return st;
}

void klease__manager_observe(klease_manager *m, const klease__lease *l)
{
    pthread_mutex_lock(&m->state_mu);
    klease__cache_observe(&m->cache, l, now_of(m));
    pthread_mutex_unlock(&m->state_mu);
}

void klease__manager_forget(klease_manager *m)
{
    forget_lease(m, false, NULL);
}

void klease__manager_view_get(klease_manager *m, klease__manager_view *out)
{
    pthread_mutex_lock(&m->state_mu);
    out->has_lease = m->cache.has_lease;
    out->lease = m->cache.lease;
    out->has_claim = m->cache.has_claim;
    out->claim = m->cache.claim;
    pthread_mutex_unlock(&m->state_mu);
}

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
    int64_t now = klease__mono_ns(klease__manager_clock(m));
    pthread_mutex_lock(&m->state_mu);
    int64_t left = klease__cache_left_ns(&m->cache, claimant, now);
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
    if ((st = read_lease(&resp, &l, err)) != KLEASE_OK)
        return count_failure(m, st);
    accept_lease(m, &l, INT64_MIN, NULL);
    return KLEASE_OK;
}

/* Sends a write (renew or acquire) and, on success, caches the result as our
 * claim ending at send time + duration. */
static klease_status write_claim(klease_manager *m, const char *claimant, klease__patch_type type,
                                 const char *body, int64_t send_mono, int64_t duration_s,
                                 int64_t margin_ns, klease__cancel *cancel,
                                 uint64_t *success_counter, klease_error *err)
{
    klease__http_response resp;
    klease__call call = {.timeout_ms = call_timeout_ms(m, claimant, margin_ns), .cancel = cancel};
    count(m, &m->stats.api_calls);
    klease_status st = klease__lease_patch(m->client, m->ns, m->name, type, body, m->field_manager,
                                           type == KLEASE__PATCH_APPLY, &call, &resp, err);
    if (st != KLEASE_OK)
        return count_failure(m, st);
    klease__lease l;
    st = read_lease(&resp, &l, err);
    if (st == KLEASE_OK && !klease__lease_held_by(&l, claimant))
        st = klease__fail(err, KLEASE_EPROTO,
                          "the server accepted our write but the lease "
                          "names another holder");
    if (st != KLEASE_OK) {
        /* The write may have landed but we cannot read the result: trust
         * nothing cached, so the next call reads the lease again. */
        forget_lease(m, false, &m->stats.errors);
        return st;
    }
    accept_lease(m, &l, klease__add_sat(send_mono, klease__s_to_ns(duration_s)), success_counter);
    return KLEASE_OK;
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

/* The fast path: our claim, outside the renew grace. No I/O, no allocation. */
static bool fresh_claim(klease_manager *m, const char *claimant, int64_t grace_ns,
                        klease_claim *out)
{
    pthread_mutex_lock(&m->state_mu);
    /* One clock read on the fast path: the wall clock is needed only to
     * judge the cache again for a claimant it has not seen. */
    if (strcmp(m->cache.claimant, claimant) != 0)
        klease__cache_set_claimant(&m->cache, claimant, now_of(m));
    int64_t now_mono = klease__mono_ns(klease__manager_clock(m));
    bool fresh = klease__cache_left_ns(&m->cache, claimant, now_mono) > grace_ns;
    if (fresh)
        *out = m->cache.claim;
    pthread_mutex_unlock(&m->state_mu);
    return fresh;
}

/* What one round of ensure_claimed decides from: the cache judged now. */
typedef struct round_view {
    klease__lease seen;
    bool has_lease;
    bool has_claim; /* then *out holds the claim */
    bool mine;      /* the lease names the claimant */
    int64_t now;
} round_view;

static void look(klease_manager *m, const char *claimant, round_view *v, klease_claim *out)
{
    pthread_mutex_lock(&m->state_mu);
    klease__now now = now_of(m);
    klease__cache_derive(&m->cache, now);
    v->now = now.mono_ns;
    v->has_lease = m->cache.has_lease;
    v->has_claim = m->cache.has_claim;
    v->seen = m->cache.lease;
    if (v->has_claim)
        *out = m->cache.claim;
    /* As in the seed, a lease that names us is renewed, even after our
     * local deadline: the resourceVersion precondition makes that safe,
     * and a renewal keeps acquireTime. */
    v->mine = v->has_lease && klease__lease_held_by(&v->seen, claimant);
    pthread_mutex_unlock(&m->state_mu);
}

typedef enum round_end {
    ROUND_DONE,     /* the status (and *out on KLEASE_OK) is the answer */
    ROUND_AGAIN,    /* the lease was read again: look again */
    ROUND_CONFLICT, /* another writer got in first */
} round_end;

typedef struct claim_call {
    const char *claimant;
    int64_t duration_s;
    int64_t grace_ns;
    int64_t margin_ns;
    klease__cancel *cancel;
} claim_call;

/* One round: read, renew, acquire or accept what the cache says. */
static round_end one_round(klease_manager *m, const claim_call *k, const round_view *v,
                           klease_status *st, klease_claim *out, klease_error *err)
{
    if (!v->has_lease) {
        /* Forgotten (deleted, or a write whose result we could not read). */
        *st = refresh(m, k->claimant, k->margin_ns, k->cancel, err);
        return *st == KLEASE_OK ? ROUND_AGAIN : ROUND_DONE;
    }
    if (v->mine) {
        if (v->has_claim && v->now < out->deadline_mono_ns - k->grace_ns) {
            *st = KLEASE_OK; /* another thread renewed while we waited */
            return ROUND_DONE;
        }
        *st = renew(m, &v->seen, k->claimant, k->duration_s, k->margin_ns, k->cancel, err);
    } else if (v->has_claim) {
        *st = KLEASE_OK; /* someone else's current claim */
        return ROUND_DONE;
    } else {
        *st = acquire(m, &v->seen, k->claimant, k->duration_s, k->margin_ns, k->cancel, err);
        if (*st == KLEASE_EHTTP && err->http_code == 400) {
            /* Apply answers 400 "name must be provided" when the lease
             * was deleted: tell that apart by reading it. */
            klease_error get_err;
            if (refresh(m, k->claimant, k->margin_ns, k->cancel, &get_err) == KLEASE_ENOTFOUND) {
                *st =
                    klease__fail(err, KLEASE_ENOTFOUND, "lease %s/%s was deleted", m->ns, m->name);
                return ROUND_DONE;
            }
        }
    }
    if (*st == KLEASE_OK) {
        pthread_mutex_lock(&m->state_mu);
        *out = m->cache.claim;
        pthread_mutex_unlock(&m->state_mu);
    }
    return *st == KLEASE_ECONFLICT ? ROUND_CONFLICT : ROUND_DONE;
}

klease_status klease__ensure_claimed(klease_manager *m, const char *claimant,
                                     const klease_claim_params *params, int64_t margin_ns,
                                     klease__cancel *cancel, klease_claim *out, klease_error *err)
{
    claim_call k = {.claimant = claimant, .margin_ns = margin_ns, .cancel = cancel};
    klease_status st;
    /* Decisions below read the error's details, so it is filled even when
     * the caller passed none: behaviour must not depend on `err`. */
    klease_error local_err;
    if (err == NULL)
        err = &local_err;
    if (m == NULL || out == NULL)
        return klease__fail(err, KLEASE_EINVAL, "klease_ensure_claimed: NULL argument");
    if ((st = klease__claimant_check(claimant, err)) != KLEASE_OK ||
        (st = klease__claim_params_check(params, &k.duration_s, &k.grace_ns, err)) != KLEASE_OK)
        return st;
    if (fresh_claim(m, claimant, k.grace_ns, out))
        return KLEASE_OK;

    pthread_mutex_lock(&m->io_mu);
    int conflicts = 0;
    for (;;) {
        round_view v;
        look(m, claimant, &v, out);
        round_end end = one_round(m, &k, &v, &st, out, err);
        if (end == ROUND_AGAIN)
            continue;
        if (end == ROUND_DONE)
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
        klease__cache_report(&m->cache, klease__mono_ns(klease__manager_clock(m)), out, has_claim);
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
    klease__cache_report(&m->cache, klease__mono_ns(klease__manager_clock(m)), out, has_claim);
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
        klease__manager_view view;
        klease__manager_view_get(m, &view);
        /* As in the seed, an expired claim is not vacated: the lease is
         * free to take already, and its fields stay as they were. */
        bool current = view.has_claim && klease__mono_ns(c) < view.claim.deadline_mono_ns;
        if (!current || !klease__lease_held_by(&view.lease, claimant))
            break; /* not ours (any more), or expired: nothing to give up */

        char *body = klease__lease_vacate_body(view.lease.resource_version);
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
            if ((st = read_lease(&resp, &l, err)) == KLEASE_OK)
                /* Keep the new resourceVersion (the seed drops it). */
                accept_lease(m, &l, INT64_MIN, &m->stats.vacates);
            else
                forget_lease(m, false, NULL);
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
        forget_lease(m, true, NULL);
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
    if ((st = read_lease(&resp, &l, err)) != KLEASE_OK)
        return st;
    accept_lease(m, &l, INT64_MIN, NULL);
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
    klease__cache_init(&m->cache, klease__ms_to_ns(opts->clock_skew_tolerance_ms));
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
