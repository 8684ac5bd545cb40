/* What an elector does, on its client's engine thread (see lease/elector.c
 * for the loop in words). Nothing here blocks: every request is a round
 * (lease/manager_round.h) whose requests run on the engine's loop, and
 * every wait is the elector's one timer. */
#include "lease/elector_private.h"

#include "core/error.h"
#include "lease/claim.h"
#include "lease/renew_jitter.h"

#include <string.h>

static void claim_now(klease_elector *e);
static void finish(klease_elector *e, klease_status final);

static bool closing(klease_elector *e)
{
    pthread_mutex_lock(&e->mu);
    bool c = e->closing;
    pthread_mutex_unlock(&e->mu);
    return c;
}

static const char *ns_of(const klease_elector *e)
{
    return klease_manager_namespace(e->m);
}

static const char *name_of(const klease_elector *e)
{
    return klease_manager_name(e->m);
}

/* Errors that waiting cannot fix. Everything else (timeouts, transport
 * errors, 429, 5xx, conflicts, 401/403 answers that a rotated token or an
 * RBAC change can fix, a deleted lease that may come back) is retried. */
static bool cannot_heal(klease_status st, const klease_error *err)
{
    switch (st) {
    case KLEASE_EINVAL:
    case KLEASE_ECONFIG: return true;
    case KLEASE_EAUTH:
        return err->http_code == 0; /* no credentials could be obtained (the seed's Auth) */
    case KLEASE_EHTTP:
        /* A request we built wrong: the server will refuse it every time. */
        return err->http_code == 400 || err->http_code == 405 || err->http_code == 413 ||
               err->http_code == 415 || err->http_code == 422;
    default: return false;
    }
}

static void wake_at(klease_elector *e, klease__wake_for why, int64_t when)
{
    e->wake = why;
    klease__engine_timer_arm(e->eng, &e->timer, when);
}

/* ---------------------------------------------------------------- rounds */

static void round_done(klease_elector *e, klease_status st);

/* The round ended: its answer is e->round_claim / e->round_err. */
static void end_round(klease_elector *e, klease_status st)
{
    klease__round_clear(&e->round);
    round_done(e, st);
}

static void ask_turn(klease_elector *e);

/* Takes in how sending the round's request ended, then goes on with the
 * round: the next request waits for its turn, or the round ends. */
static void answer(klease_elector *e, klease_status sent, klease__http_response *resp)
{
    klease_status st;
    klease__round_step step = klease__round_answer(&e->round, sent, resp, &st, &e->round_claim,
                                                   &e->vacated, &e->round_err);
    klease__http_response_clear(resp);
    if (step == KLEASE__ROUND_SEND)
        ask_turn(e);
    else
        end_round(e, st);
}

static void on_op_done(void *user, klease_status sent, klease__http_response *resp,
                       const klease_error *err)
{
    klease_elector *e = user;
    e->op = NULL;
    e->has_turn = false;
    klease__engine_turn_give(e->eng);
    if (sent != KLEASE_OK)
        e->round_err = *err;
    answer(e, sent, resp);
}

/* Our turn to send: what waiting took comes off the request's time limit. */
void klease__elector_on_turn(void *arg)
{
    klease_elector *e = arg;
    e->has_turn = true;
    klease__http_request *req = &e->round.op.req.http;
    int64_t waited_ms = (klease__mono_ns(e->clock) - e->turn_asked) / KLEASE__NS_PER_MS;
    klease__http_response none = {.retry_after_ms = -1};
    if (waited_ms > 0 && req->timeout_ms - waited_ms < 1) {
        e->has_turn = false;
        klease__engine_turn_give(e->eng);
        klease__fail(&e->round_err, KLEASE_ETIMEDOUT,
                     "%s %s: timed out after %lld ms (the call's time limit) waiting for a turn "
                     "among %d requests in flight",
                     req->method, req->path, (long long)req->timeout_ms,
                     KLEASE__ENGINE_MAX_IN_FLIGHT);
        answer(e, KLEASE_ETIMEDOUT, &none);
        return;
    }
    if (waited_ms > 0)
        req->timeout_ms -= waited_ms;
    /* The vacate at close runs after the close token fired: its own bound
     * (vacate_timeout_ms) limits it instead. */
    klease__cancel *cancel = e->round_kind == KLEASE__ROUND_KIND_VACATE ? NULL : &e->cancel;
    e->op = klease__http_loop_start(klease__engine_loop(e->eng), req, cancel, NULL, on_op_done, e);
    if (e->op != NULL)
        return;
    e->has_turn = false;
    klease__engine_turn_give(e->eng);
    klease__fail(&e->round_err, KLEASE_ENOMEM, "out of memory");
    answer(e, KLEASE_ENOMEM, &none);
}

/* The round's next request waits for a turn; renewals and vacates (a lease
 * we hold) go first. */
static void ask_turn(klease_elector *e)
{
    klease__op_kind kind = e->round.op.kind;
    bool urgent = kind == KLEASE__OP_RENEW || kind == KLEASE__OP_VACATE;
    e->turn_asked = klease__mono_ns(e->clock);
    if (klease__engine_turn_take(e->eng, &e->turn, urgent))
        klease__elector_on_turn(e);
}

/* Starts a round that `step` began. */
static void drive(klease_elector *e, klease__round_step step, klease_status st)
{
    if (step == KLEASE__ROUND_SEND)
        ask_turn(e);
    else
        end_round(e, st);
}

static void abort_round(klease_elector *e)
{
    if (e->op != NULL) {
        klease__http_loop_abort(klease__engine_loop(e->eng), e->op);
        e->op = NULL;
    }
    if (e->has_turn) {
        e->has_turn = false;
        klease__engine_turn_give(e->eng);
    }
    klease__engine_turn_cancel(e->eng, &e->turn);
    klease__round_clear(&e->round);
}

static void claim_now(klease_elector *e)
{
    klease_status st;
    klease__error_clear(&e->round_err);
    e->round_kind = KLEASE__ROUND_KIND_CLAIM;
    klease__round_step step =
        klease__round_claim(&e->round, e->m, e->claimant, e->duration_s, e->grace_ns, e->margin_ns,
                            &st, &e->round_claim, &e->round_err);
    drive(e, step, st);
}

static void poll_now(klease_elector *e)
{
    klease_status st;
    klease__error_clear(&e->round_err);
    e->round_kind = KLEASE__ROUND_KIND_POLL;
    klease__round_step step = klease__round_read(&e->round, e->m, &st, &e->round_err);
    drive(e, step, st);
}

/* -------------------------------------------------------------- following */

static void follow_changed(void *arg)
{
    klease_elector *e = arg;
    klease__engine_timer_stop(e->eng, &e->timer);
    claim_now(e); /* decide again at once: the lease may be free */
}

static void poll_later(klease_elector *e)
{
    int64_t next =
        klease__add_sat(klease__mono_ns(e->clock), klease__ms_to_ns(e->opts.poll_interval_ms));
    wake_at(e, KLEASE__WAKE_POLL, next < e->follow_deadline ? next : e->follow_deadline);
}

static void follow_lost(void *arg)
{
    poll_later(arg); /* the shared watch failed: poll until it is back */
}

/* Follows someone else's claim until it changes or ends: through the
 * namespace's shared watch when we can (a vacate is seen within one round
 * trip), by polling otherwise. */
static void follow(klease_elector *e, const klease_claim *claim)
{
    if (claim->deadline_mono_ns <= klease__mono_ns(e->clock)) {
        claim_now(e);
        return;
    }
    e->follow_deadline = claim->deadline_mono_ns;
    if (e->opts.watch) {
        klease__manager_view view;
        klease__manager_view_get(e->m, &view);
        e->follower.m = e->m;
        e->follower.followed = view.lease;
        e->follower.changed = follow_changed;
        e->follower.lost = follow_lost;
        e->follower.arg = e;
        if (klease__hub_follow(e->eng, &e->follower)) {
            wake_at(e, KLEASE__WAKE_FOLLOW, claim->deadline_mono_ns);
            return;
        }
    }
    poll_later(e);
}

/* ---------------------------------------------------------------- answers */

/* After a failure we will retry: publishes the end of our leadership when
 * its time has come and waits the backoff delay (or what the server asked
 * for, within reason), but never past the end of someone else's claim (the
 * lease is free then) nor through our own leadership's end (its loss must
 * be published then). */
static void back_off(klease_elector *e)
{
    klease__elector_publish_loss(e, false);
    /* At least 1 ms: with a zero backoff, a failure that happens before
     * anything is sent would otherwise spin the engine thread. */
    int64_t delay_ms = klease__backoff_next(&e->backoff);
    if (delay_ms < 1)
        delay_ms = 1;
    int64_t asked = e->round_err.retry_after_ms;
    if (asked > delay_ms)
        delay_ms = asked < KLEASE__RETRY_AFTER_MAX_MS ? asked : KLEASE__RETRY_AFTER_MAX_MS;
    int64_t now = klease__mono_ns(e->clock);
    int64_t wake = klease__add_sat(now, klease__ms_to_ns(delay_ms));
    klease__manager_view view;
    klease__manager_view_get(e->m, &view);
    const klease_claim *theirs = &view.claim;
    if (view.has_claim && !klease__claim_names(theirs, e->claimant) &&
        theirs->deadline_mono_ns > now && theirs->deadline_mono_ns < wake)
        wake = theirs->deadline_mono_ns;
    e->retry_at = wake;
    int64_t lead_end = atomic_load(&e->leader_deadline);
    wake_at(e, KLEASE__WAKE_RETRY, lead_end != 0 && lead_end < wake ? lead_end : wake);
}

static void on_claim(klease_elector *e, klease_status st)
{
    if (st == KLEASE_OK) {
        klease__backoff_reset(&e->backoff);
        klease__elector_record(e, KLEASE_OK, &e->round_err);
        const klease_claim *claim = &e->round_claim;
        klease__elector_publish(e, claim->holder[0] != '\0' ? claim : NULL, KLEASE_OK);
        if (klease__claim_names(claim, e->claimant))
            wake_at(e, KLEASE__WAKE_RENEW,
                    claim->deadline_mono_ns - e->grace_ns +
                        klease__renew_jitter_ns(e->grace_ns, e->margin_ns, &e->rng));
        else
            follow(e, claim);
        return;
    }
    klease__elector_record(e, st, &e->round_err);
    klease__log(klease__manager_log(e->m), KLEASE_LOG_WARN, "lease %s/%s: %s: %s", ns_of(e),
                name_of(e), klease_strerror(st), e->round_err.message);
    if (cannot_heal(st, &e->round_err)) {
        e->fatal = st;
        e->fatal_err = e->round_err;
        finish(e, st);
        return;
    }
    back_off(e);
}

static void release(klease_elector *e);

static void round_done(klease_elector *e, klease_status st)
{
    switch (e->round_kind) {
    case KLEASE__ROUND_KIND_CLAIM:
        if (closing(e))
            return; /* the close task ends it */
        on_claim(e, st);
        return;
    case KLEASE__ROUND_KIND_POLL:
        if (!closing(e))
            claim_now(e);
        return;
    case KLEASE__ROUND_KIND_VACATE:
        if (st != KLEASE_OK) { /* a failed vacate is the elector's final status */
            e->fatal = st;
            e->fatal_err = e->round_err;
        }
        finish(e, KLEASE_ECLOSED);
        release(e);
        return;
    }
}

/* --------------------------------------------------------------- the end */

/* Records how the elector ended and publishes the last word: not leading,
 * and why (`final`: the fatal error that stopped it, else KLEASE_ECLOSED,
 * even when the vacate after it failed). */
static void finish(klease_elector *e, klease_status final)
{
    klease__hub_unfollow(&e->follower);
    klease__engine_timer_stop(e->eng, &e->timer);
    e->finished = true;
    pthread_mutex_lock(&e->mu);
    e->final_status = e->fatal;
    e->final_error = e->fatal_err;
    if (e->fatal != KLEASE_OK) {
        e->status = e->fatal;
        e->error = e->fatal_err;
    }
    pthread_mutex_unlock(&e->mu);
    klease__elector_publish(e, NULL, final);
}

/* The engine is done with the elector: close may free it from now on. Only
 * on the way out after close's task ran (stop), so that task is no longer
 * queued when the elector is freed. */
static void release(klease_elector *e)
{
    if (e->timer_reserved)
        klease__engine_timers_release(e->eng, 1);
    e->timer_reserved = false;
    pthread_mutex_lock(&e->mu);
    e->released = true;
    pthread_cond_broadcast(&e->cond);
    pthread_mutex_unlock(&e->mu);
}

/* On close: stops what runs and gives the lease up so a follower takes over
 * now, not at expiry. */
static void stop(klease_elector *e)
{
    if (e->stop_begun)
        return;
    e->stop_begun = true;
    abort_round(e);
    klease__hub_unfollow(&e->follower);
    klease__engine_timer_stop(e->eng, &e->timer);
    if (e->finished) {
        release(e);
        return;
    }
    klease__manager_view view;
    klease__manager_view_get(e->m, &view);
    if (e->opts.vacate_timeout_ms > 0 && view.has_lease &&
        klease__lease_held_by(&view.lease, e->claimant)) {
        klease__elector_publish_loss(e, true); /* before the vacate is sent, not after it lands */
        klease_status st;
        klease__error_clear(&e->round_err);
        e->round_kind = KLEASE__ROUND_KIND_VACATE;
        klease__round_step step = klease__round_vacate(
            &e->round, e->m, e->claimant, e->opts.vacate_timeout_ms, &st, &e->round_err);
        drive(e, step, st);
        return;
    }
    finish(e, KLEASE_ECLOSED);
    release(e);
}

/* --------------------------------------------------------- engine entries */

void klease__elector_on_kick(void *arg)
{
    klease_elector *e = arg;
    if (e->started)
        return;
    e->started = true;
    klease_error err;
    klease_status st = klease__engine_timers_reserve(e->eng, 1, &err);
    if (st != KLEASE_OK) {
        /* Stopped, but not released: the close task releases it. */
        e->fatal = st;
        e->fatal_err = err;
        finish(e, st);
        return;
    }
    e->timer_reserved = true;
    /* Closing already: the close task, queued behind this one, stops it. */
    if (!closing(e))
        claim_now(e);
}

/* Only this task releases the elector (or starts what does), and close
 * posts it once: nothing of the elector is left queued on the engine when
 * close frees it. */
void klease__elector_on_close(void *arg)
{
    stop(arg);
}

void klease__elector_on_timer(void *arg)
{
    klease_elector *e = arg;
    switch (e->wake) {
    case KLEASE__WAKE_RENEW: claim_now(e); return;
    case KLEASE__WAKE_FOLLOW:
        klease__hub_unfollow(&e->follower);
        claim_now(e);
        return;
    case KLEASE__WAKE_POLL: poll_now(e); return;
    case KLEASE__WAKE_RETRY:
        klease__elector_publish_loss(e, false);
        if (klease__mono_ns(e->clock) < e->retry_at)
            wake_at(e, KLEASE__WAKE_RETRY, e->retry_at);
        else
            claim_now(e);
        return;
    }
}
