/* What each manager call sends and how each answer changes the cache (see
 * lease/manager_round.h). The API server decides every race: acquire and
 * renew carry the resourceVersion, so two writers can never both succeed
 * from one version. */
#include "lease/manager_round.h"

#include "core/alloc.h"
#include "core/error.h"
#include "core/json.h"
#include "lease/claim.h"
#include "lease/manager_private.h"

#include <string.h>

/* The time limit of a call made while `claimant` may hold the lease: never
 * past the time left on our claim (0 = the client's limit; -1 = under 1 ms
 * left, which the call refuses with KLEASE_ETIMEDOUT rather than round to
 * "no limit"). While more than `margin_ns` is left, the call ends at
 * deadline - margin instead, so an elector whose renewal hangs gets its
 * leadership's end published on time, not only its claim's. */
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

void klease__round_clear(klease__round *r)
{
    klease__lease_request_clear(&r->op.req);
    cJSON_free(r->op.body);
    r->op.body = NULL;
}

/* ------------------------------------------------------------ requests */

static klease__round_step send_read(klease__round *r, klease__read_for why, klease_status *st,
                                    klease_error *err)
{
    klease_manager *m = r->m;
    klease__round_clear(r);
    r->op.kind = KLEASE__OP_READ;
    r->op.read_for = why;
    klease__call call = {.timeout_ms = call_timeout_ms(m, r->claimant, r->margin_ns)};
    klease__manager_count(m, &m->stats.api_calls);
    *st = klease__lease_get_request(m->client, m->ns, m->name, &call, &r->op.req, err);
    if (*st != KLEASE_OK) /* refused before sending (no time left): a failed call */
        klease__manager_count_failure(m, *st);
    return *st == KLEASE_OK ? KLEASE__ROUND_SEND : KLEASE__ROUND_END;
}

/* A write whose body was made at op.send_mono (a renewal or an acquire). */
static klease__round_step send_write(klease__round *r, klease__op_kind kind, char *body,
                                     int64_t send_mono, int64_t timeout_ms, klease_status *st,
                                     klease_error *err)
{
    klease_manager *m = r->m;
    klease__round_clear(r);
    r->op.kind = kind;
    r->op.body = body;
    r->op.send_mono = send_mono;
    if (body == NULL) {
        *st = klease__fail(err, KLEASE_ENOMEM, "out of memory");
        return KLEASE__ROUND_END;
    }
    klease__patch_type type =
        kind == KLEASE__OP_ACQUIRE ? KLEASE__PATCH_APPLY : KLEASE__PATCH_STRATEGIC;
    klease__call call = {.timeout_ms = timeout_ms};
    klease__manager_count(m, &m->stats.api_calls);
    *st = klease__lease_patch_request(m->client, m->ns, m->name, type, body, m->field_manager,
                                      type == KLEASE__PATCH_APPLY, &call, &r->op.req, err);
    if (*st != KLEASE_OK)
        klease__manager_count_failure(m, *st);
    return *st == KLEASE_OK ? KLEASE__ROUND_SEND : KLEASE__ROUND_END;
}

static klease__round_step send_renew(klease__round *r, const klease__lease *seen, klease_status *st,
                                     klease_error *err)
{
    const klease__clock *c = klease__manager_clock(r->m);
    int64_t send_mono = klease__mono_ns(c);
    char *body =
        klease__lease_renew_body(seen->resource_version, klease__wall_ns(c), r->duration_s);
    return send_write(r, KLEASE__OP_RENEW, body, send_mono,
                      call_timeout_ms(r->m, r->claimant, r->margin_ns), st, err);
}

static klease__round_step send_acquire(klease__round *r, const klease__lease *seen,
                                       klease_status *st, klease_error *err)
{
    const klease__clock *c = klease__manager_clock(r->m);
    /* leaseTransitions counts changes of holder (the seed adds one on every
     * acquire); it saturates at the API's int32 limit instead of wrapping. */
    int64_t transitions = seen->transitions;
    if (!klease__lease_held_by(seen, r->claimant) && transitions < INT32_MAX)
        transitions++;
    int64_t send_mono = klease__mono_ns(c);
    char *body = klease__lease_acquire_body(seen->resource_version, r->claimant, klease__wall_ns(c),
                                            r->duration_s, transitions);
    return send_write(r, KLEASE__OP_ACQUIRE, body, send_mono,
                      call_timeout_ms(r->m, r->claimant, r->margin_ns), st, err);
}

/* ------------------------------------------------------------- answers */

/* Decodes a response body into `l` and releases the body. */
static klease_status read_lease(klease__http_response *resp, klease__lease *l, klease_error *err)
{
    klease_status st = klease__lease_decode(resp->body, resp->body_len, l, err);
    klease__http_response_clear(resp);
    return st;
}

/* A read's answer into the cache. */
static klease_status take_read(klease_manager *m, klease_status st, klease__http_response *resp,
                               klease_error *err)
{
    if (st == KLEASE_ENOTFOUND) {
        klease__manager_drop(m, false, NULL);
        return st;
    }
    if (st != KLEASE_OK)
        return klease__manager_count_failure(m, st);
    klease__lease l;
    if ((st = read_lease(resp, &l, err)) != KLEASE_OK)
        return klease__manager_count_failure(m, st);
    klease__manager_accept(m, &l, INT64_MIN, NULL);
    return KLEASE_OK;
}

/* A renewal's or an acquire's answer: on success, our claim ending at send
 * time + duration. */
static klease_status take_write(klease__round *r, klease_status st, klease__http_response *resp,
                                klease_error *err)
{
    klease_manager *m = r->m;
    if (st != KLEASE_OK)
        return klease__manager_count_failure(m, st);
    klease__lease l;
    st = read_lease(resp, &l, err);
    if (st == KLEASE_OK && !klease__lease_held_by(&l, r->claimant))
        st = klease__fail(err, KLEASE_EPROTO,
                          "the server accepted our write but the lease "
                          "names another holder");
    if (st != KLEASE_OK) {
        /* The write may have landed but we cannot read the result: trust
         * nothing cached, so the next call reads the lease again. */
        klease__manager_drop(m, false, &m->stats.errors);
        return st;
    }
    uint64_t *counter =
        r->op.kind == KLEASE__OP_RENEW ? &m->stats.renewals : &m->stats.acquisitions;
    klease__manager_accept(m, &l, klease__add_sat(r->op.send_mono, klease__s_to_ns(r->duration_s)),
                           counter);
    return KLEASE_OK;
}

/* ---------------------------------------------------------- claim rounds */

/* Decides from the cache, judged now: an answer, or the next request. */
static klease__round_step decide(klease__round *r, klease_status *st, klease_claim *out,
                                 klease_error *err)
{
    klease_manager *m = r->m;
    pthread_mutex_lock(&m->state_mu);
    klease__now now = klease__manager_now(m);
    klease__cache_derive(&m->cache, now);
    bool has_lease = m->cache.has_lease;
    bool has_claim = m->cache.has_claim;
    klease__lease seen = m->cache.lease;
    if (has_claim)
        *out = m->cache.claim;
    pthread_mutex_unlock(&m->state_mu);

    if (!has_lease) /* forgotten (deleted, or a write whose result we could not read) */
        return send_read(r, KLEASE__READ_AGAIN, st, err);
    /* As in the seed, a lease that names us is renewed, even after our local
     * deadline: the resourceVersion precondition makes that safe, and a
     * renewal keeps acquireTime. */
    if (klease__lease_held_by(&seen, r->claimant)) {
        if (has_claim && now.mono_ns < out->deadline_mono_ns - r->grace_ns) {
            *st = KLEASE_OK; /* another thread renewed while we waited */
            return KLEASE__ROUND_END;
        }
        return send_renew(r, &seen, st, err);
    }
    if (has_claim) {
        *st = KLEASE_OK; /* someone else's current claim */
        return KLEASE__ROUND_END;
    }
    return send_acquire(r, &seen, st, err);
}

klease__round_step klease__round_claim(klease__round *r, klease_manager *m, const char *claimant,
                                       int64_t duration_s, int64_t grace_ns, int64_t margin_ns,
                                       klease_status *st, klease_claim *out, klease_error *err)
{
    *r = (klease__round){.m = m,
                         .claimant = claimant,
                         .duration_s = duration_s,
                         .grace_ns = grace_ns,
                         .margin_ns = margin_ns};
    /* A cached claim judged before we knew it could be ours is judged again
     * (as ensure_claimed's fast path does). */
    pthread_mutex_lock(&m->state_mu);
    if (strcmp(m->cache.claimant, claimant) != 0)
        klease__cache_set_claimant(&m->cache, claimant, klease__manager_now(m));
    pthread_mutex_unlock(&m->state_mu);
    return decide(r, st, out, err);
}

klease__round_step klease__round_read(klease__round *r, klease_manager *m, klease_status *st,
                                      klease_error *err)
{
    *r = (klease__round){.m = m};
    return send_read(r, KLEASE__READ_ONLY, st, err);
}

klease__round_step klease__round_vacate(klease__round *r, klease_manager *m, const char *claimant,
                                        int64_t timeout_ms, klease_status *st, klease_error *err)
{
    *r = (klease__round){.m = m, .claimant = claimant, .vacate_timeout_ms = timeout_ms};
    return send_read(r, KLEASE__READ_TO_VACATE, st, err);
}

/* --------------------------------------------------------------- vacate */

/* The end of a vacate: an unknown outcome (the write may have landed) stops
 * trust in our cached claim, so the next ensure_claimed asks the server; a
 * deleted lease is held by no one. */
static klease__round_step vacate_end(klease__round *r, klease_status *st)
{
    if (*st != KLEASE_OK && *st != KLEASE_ENOTFOUND)
        klease__manager_drop(r->m, true, NULL);
    if (*st == KLEASE_ENOTFOUND)
        *st = KLEASE_OK;
    return KLEASE__ROUND_END;
}

/* After the fresh read: clear the holder if a current claim names us. */
static klease__round_step vacate_write(klease__round *r, klease_status *st, klease_error *err)
{
    klease_manager *m = r->m;
    klease__manager_view view;
    klease__manager_view_get(m, &view);
    /* As in the seed, an expired claim is not vacated: the lease is free to
     * take already, and its fields stay as they were. */
    bool current =
        view.has_claim && klease__mono_ns(klease__manager_clock(m)) < view.claim.deadline_mono_ns;
    if (!current || !klease__lease_held_by(&view.lease, r->claimant)) {
        *st = KLEASE_OK; /* not ours (any more), or expired: nothing to give up */
        return KLEASE__ROUND_END;
    }
    char *body = klease__lease_vacate_body(view.lease.resource_version);
    if (send_write(r, KLEASE__OP_VACATE, body, 0, r->vacate_timeout_ms, st, err) ==
        KLEASE__ROUND_SEND)
        return KLEASE__ROUND_SEND;
    return vacate_end(r, st);
}

static klease__round_step vacate_answer(klease__round *r, klease_status sent,
                                        klease__http_response *resp, klease_status *st,
                                        bool *vacated, klease_error *err)
{
    klease_manager *m = r->m;
    if ((*st = sent) == KLEASE_OK) {
        klease__lease l;
        if ((*st = read_lease(resp, &l, err)) == KLEASE_OK)
            /* Keep the new resourceVersion (the seed drops it). */
            klease__manager_accept(m, &l, INT64_MIN, &m->stats.vacates);
        else
            klease__manager_drop(m, false, NULL);
        if (*st == KLEASE_OK && vacated != NULL)
            *vacated = true;
        return vacate_end(r, st);
    }
    klease__manager_count_failure(m, *st);
    if (*st == KLEASE_ECONFLICT && ++r->conflicts <= m->max_conflict_rounds)
        return send_read(r, KLEASE__READ_TO_VACATE, st, err) == KLEASE__ROUND_SEND
                   ? KLEASE__ROUND_SEND
                   : vacate_end(r, st);
    return vacate_end(r, st);
}

/* --------------------------------------------------------------- answers */

static klease__round_step read_answer(klease__round *r, klease_status sent,
                                      klease__http_response *resp, klease_status *st,
                                      klease_claim *out, klease_error *err)
{
    klease_manager *m = r->m;
    *st = take_read(m, sent, resp, err);
    switch (r->op.read_for) {
    case KLEASE__READ_ONLY: return KLEASE__ROUND_END;
    case KLEASE__READ_TO_VACATE:
        return *st == KLEASE_OK ? vacate_write(r, st, err) : vacate_end(r, st);
    case KLEASE__READ_DELETED:
        /* Apply answers 400 "name must be provided" when the lease was
         * deleted: tell that apart by reading it. */
        if (*st == KLEASE_ENOTFOUND) {
            *st = klease__fail(err, KLEASE_ENOTFOUND, "lease %s/%s was deleted", m->ns, m->name);
        } else {
            *st = KLEASE_EHTTP; /* the apply's own answer */
            if (err != NULL)
                *err = r->apply_err;
        }
        return KLEASE__ROUND_END;
    case KLEASE__READ_AGAIN:
    case KLEASE__READ_CONFLICT: break;
    }
    if (*st != KLEASE_OK)
        return KLEASE__ROUND_END;
    return decide(r, st, out, err);
}

klease__round_step klease__round_answer(klease__round *r, klease_status sent,
                                        klease__http_response *resp, klease_status *st,
                                        klease_claim *out, bool *vacated, klease_error *err)
{
    klease_manager *m = r->m;
    /* Decisions below read the error's details, so it is filled even when
     * the caller passed none: behaviour must not depend on `err`. */
    klease_error local_err;
    if (err == NULL)
        err = &local_err;
    sent = klease__lease_request_finish(m->client, &r->op.req, sent, resp, err);
    if (r->op.kind == KLEASE__OP_READ)
        return read_answer(r, sent, resp, st, out, err);
    if (r->op.kind == KLEASE__OP_VACATE)
        return vacate_answer(r, sent, resp, st, vacated, err);

    *st = take_write(r, sent, resp, err);
    if (*st == KLEASE_OK) {
        pthread_mutex_lock(&m->state_mu);
        *out = m->cache.claim;
        pthread_mutex_unlock(&m->state_mu);
        return KLEASE__ROUND_END;
    }
    if (*st == KLEASE_EHTTP && err->http_code == 400 && r->op.kind == KLEASE__OP_ACQUIRE) {
        r->apply_err = *err;
        klease_error read_err;
        return send_read(r, KLEASE__READ_DELETED, st, &read_err) == KLEASE__ROUND_SEND
                   ? KLEASE__ROUND_SEND
                   : (*st = KLEASE_EHTTP, *err = r->apply_err, KLEASE__ROUND_END);
    }
    if (*st != KLEASE_ECONFLICT)
        return KLEASE__ROUND_END;
    if (++r->conflicts > m->max_conflict_rounds) {
        *st =
            klease__fail(err, KLEASE_ECONFLICT, "lease %s/%s: gave up after %d conflicting writes",
                         m->ns, m->name, r->conflicts);
        return KLEASE__ROUND_END;
    }
    /* Another writer changed the lease: read it and decide again. */
    return send_read(r, KLEASE__READ_CONFLICT, st, err);
}
