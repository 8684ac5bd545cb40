/* The lease manager: the seed's LeaseManager in C. Its lifecycle, its
 * blocking calls (serialised, as the seed's are) and its cache (the time and
 * safety rules are in lease/lease_cache.h) under the state lock. What each
 * call sends and how answers change the cache is lease/manager_round.c,
 * shared with the engine's electors. */
#include "lease/manager.h"

#include "api/client.h"
#include "api/lease_api.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/json.h"
#include "lease/claim.h"
#include "lease/manager_private.h"
#include "lease/manager_round.h"

#include <pthread.h>
#include <string.h>

#define DEFAULT_FIELD_MANAGER "klease"

/* ------------------------------------------------------- blocking calls */

/* Runs a round to its end, sending each request on the client's transport
 * and waiting for it. */
static klease_status run_round(klease__round *r, klease__round_step step, klease__cancel *cancel,
                               klease_status st, klease_claim *out, bool *vacated,
                               klease_error *err)
{
    klease__transport *t = r->m->client->transport;
    while (step == KLEASE__ROUND_SEND) {
        klease__http_response resp = {.retry_after_ms = -1};
        klease_status sent = t->request(t, &r->op.req.http, cancel, &resp, err);
        step = klease__round_answer(r, sent, &resp, &st, out, vacated, err);
        klease__http_response_clear(&resp);
    }
    klease__round_clear(r);
    return st;
}

/* GET the lease into the cache. */
static klease_status refresh(klease_manager *m, klease__cancel *cancel, klease_error *err)
{
    klease__round r;
    klease_status st;
    klease__round_step step = klease__round_read(&r, m, &st, err);
    return run_round(&r, step, cancel, st, NULL, NULL, err);
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
        klease__cache_set_claimant(&m->cache, claimant, klease__manager_now(m));
    int64_t now_mono = klease__mono_ns(klease__manager_clock(m));
    bool fresh = klease__cache_left_ns(&m->cache, claimant, now_mono) > grace_ns;
    if (fresh)
        *out = m->cache.claim;
    pthread_mutex_unlock(&m->state_mu);
    return fresh;
}

klease_status klease__ensure_claimed(klease_manager *m, const char *claimant,
                                     const klease_claim_params *params, int64_t margin_ns,
                                     klease__cancel *cancel, klease_claim *out, klease_error *err)
{
    int64_t duration_s, grace_ns;
    klease_status st;
    if (m == NULL || out == NULL)
        return klease__fail(err, KLEASE_EINVAL, "klease_ensure_claimed: NULL argument");
    if ((st = klease__claimant_check(claimant, err)) != KLEASE_OK ||
        (st = klease__claim_params_check(params, &duration_s, &grace_ns, err)) != KLEASE_OK)
        return st;
    if (fresh_claim(m, claimant, grace_ns, out))
        return KLEASE_OK;

    pthread_mutex_lock(&m->io_mu);
    klease__round r;
    klease__round_step step =
        klease__round_claim(&r, m, claimant, duration_s, grace_ns, margin_ns, &st, out, err);
    st = run_round(&r, step, cancel, st, out, NULL, err);
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
    klease_status st = refresh(m, cancel, err);
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
    pthread_mutex_lock(&m->io_mu);
    klease__round r;
    klease__round_step step = klease__round_vacate(&r, m, claimant, timeout_ms, &st, err);
    st = run_round(&r, step, cancel, st, NULL, vacated, err);
    pthread_mutex_unlock(&m->io_mu);
    return st;
}

klease_status klease_vacate(klease_manager *m, const char *claimant, bool *vacated,
                            klease_error *err)
{
    return klease__vacate(m, claimant, NULL, 0, vacated, err);
}

/* ------------------------------------------------------------- lifecycle */

static klease_status create_lease(klease_manager *m, klease_error *err)
{
    char *body = klease__lease_create_body(m->name);
    if (body == NULL)
        return klease__fail(err, KLEASE_ENOMEM, "out of memory");
    klease__http_response resp;
    klease__manager_count(m, &m->stats.api_calls);
    klease_status st =
        klease__lease_create(m->client, m->ns, m->name, body, m->field_manager, NULL, &resp, err);
    cJSON_free(body);
    if (st == KLEASE_ECONFLICT)
        return refresh(m, NULL, err); /* another creator won: read theirs */
    if (st != KLEASE_OK)
        return st;
    klease__lease l;
    st = klease__lease_decode(resp.body, resp.body_len, &l, err);
    klease__http_response_clear(&resp);
    if (st != KLEASE_OK)
        return st;
    klease__manager_accept(m, &l, INT64_MIN, NULL);
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
    st = refresh(m, NULL, err);
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
