/* The elector: the seed's spawn(), made to fail over in milliseconds and
 * never to die silently. This file is its public face: spawning, reading,
 * waiting, closing, and the publication of every change of the claim. What
 * an elector does runs on its client's engine thread (lease/elector_run.c),
 * which drives every elector of the client:
 *   ensure_claimed  -> ours:      renew when the renew grace begins (+ jitter)
 *                   -> someone's: follow them (the namespace's shared watch;
 *                                 polling if it fails) until they change or
 *                                 expire
 *                   -> failure:   retry with capped jittered backoff, or stop
 *                                 on an error that cannot heal
 * Callbacks run on the engine's callback thread, in order, never on the
 * engine thread: a slow callback delays later callbacks only.
 * Leadership is also a pure time predicate (leader_deadline = claim deadline
 * - margin, read lock-free by is_leader), so it ends at deadline - margin
 * even while the callback thread is stuck or a request hangs; every request
 * made while we lead ends at that moment, so the loss is also published then. */
#include "lease/elector_private.h"

#include "core/alloc.h"
#include "core/error.h"
#include "lease/claim.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

/* The elector whose callback the calling thread is running, if any. */
static _Thread_local klease_elector *in_callback_of;

/* ------------------------------------------------------------- publishing */

static void elector_destroy(klease_elector *e);

/* On the callback thread: one change to the user's callback. */
static void run_change(klease__event *ev)
{
    klease__change_event *c = (klease__change_event *)ev;
    klease_elector *e = c->e;
    pthread_mutex_lock(&e->mu);
    klease__change_event copy = *c; /* the spare may be rewritten meanwhile */
    if (c->spare)
        e->spare_queued = false;
    bool muted = e->muted;
    pthread_mutex_unlock(&e->mu);
    if (!muted) {
        in_callback_of = e;
        e->opts.on_change(e->opts.user, copy.has ? &copy.claim : NULL, copy.leading, copy.final);
        in_callback_of = NULL;
    }
    if (!copy.spare)
        klease__free(c);
    pthread_mutex_lock(&e->mu);
    e->queued_events--;
    bool free_now = e->free_when_drained && e->queued_events == 0;
    pthread_cond_broadcast(&e->cond); /* close may wait for the last delivery */
    pthread_mutex_unlock(&e->mu);
    if (free_now)
        elector_destroy(e);
}

static bool claims_differ(const klease_claim *a, const klease_claim *b)
{
    return strcmp(a->holder, b->holder) != 0 || a->deadline_mono_ns != b->deadline_mono_ns ||
           strcmp(a->resource_version, b->resource_version) != 0;
}

void klease__elector_publish(klease_elector *e, const klease_claim *claim, klease_status final)
{
    int64_t now = klease__mono_ns(e->clock);
    bool has = claim != NULL;
    int64_t lead_end = has ? claim->deadline_mono_ns - e->margin_ns : 0;
    bool leading = has && klease__claim_names(claim, e->claimant) && now < lead_end;
    /* Allocated before the lock. Without memory the elector's spare event
     * carries the change; while the spare is queued, a newer change replaces
     * what it carries: changes may then merge, but the latest always arrives. */
    klease__change_event *c = e->opts.on_change != NULL ? klease__malloc(sizeof *c) : NULL;
    pthread_mutex_lock(&e->mu);
    bool changed = has != e->has_claim || leading != e->leading || final != KLEASE_OK ||
                   (has && claims_differ(claim, &e->claim));
    bool queue = false;
    if (changed) {
        if (has)
            e->claim = *claim;
        e->has_claim = has;
        e->leading = leading;
        e->version++;
        if (final != KLEASE_OK)
            e->stopped = true;
        atomic_store(&e->leader_deadline, leading ? lead_end : 0);
        pthread_cond_broadcast(&e->cond);
    }
    if (changed && e->opts.on_change != NULL) {
        klease__change_event *target = c;
        /* Behind a queued spare a change joins it, even when allocated: the
         * spare takes newer changes on, so a change queued after it would
         * arrive after a newer one. */
        if (target == NULL || e->spare_queued) {
            target = &e->spare;
            queue = !e->spare_queued;
            e->spare_queued = true;
        } else {
            queue = true;
        }
        if (c != NULL && target != c)
            klease__free(c);
        /* Field by field: a queued spare's link must stay as it is, and its
         * owner (set by spawn) is read without the lock. */
        if (target == c)
            c->e = e;
        target->has = has;
        target->leading = leading;
        target->final = final;
        target->spare = target == &e->spare;
        if (has)
            target->claim = *claim;
        if (queue)
            target->base.run = run_change;
        if (queue)
            e->queued_events++;
        c = queue ? target : NULL;
    } else if (c != NULL) {
        klease__free(c);
        c = NULL;
    }
    pthread_mutex_unlock(&e->mu);
    if (queue)
        klease__engine_deliver(e->eng, &c->base);
}

void klease__elector_publish_loss(klease_elector *e, bool now)
{
    pthread_mutex_lock(&e->mu);
    bool leading = e->leading;
    klease_claim claim = e->claim;
    pthread_mutex_unlock(&e->mu);
    int64_t t = klease__mono_ns(e->clock);
    if (!leading || (!now && t < claim.deadline_mono_ns - e->margin_ns))
        return;
    if (now && claim.deadline_mono_ns > t)
        claim.deadline_mono_ns = t; /* publish sees it as past: leading=false */
    klease__elector_publish(e, &claim, KLEASE_OK);
}

void klease__elector_record(klease_elector *e, klease_status st, const klease_error *err)
{
    pthread_mutex_lock(&e->mu);
    e->status = st;
    e->error = *err;
    pthread_mutex_unlock(&e->mu);
}

/* ------------------------------------------------------------------- API */

/* The caller's options (NULL: the defaults) checked and completed into *o,
 * with the leadership margin resolved into *margin_ms. */
static klease_status resolve_options(const klease_elector_options *opts,
                                     const klease_claim_params *params, klease_elector_options *o,
                                     int64_t *margin_ms_out, klease_error *err)
{
    /* Fields a caller's older version does not have keep their defaults. */
    *o = (klease_elector_options)KLEASE_ELECTOR_OPTIONS_INIT;
    if (opts != NULL) {
        if (opts->version < 1 || opts->version > KLEASE_ELECTOR_OPTIONS_VERSION)
            return klease__fail(err, KLEASE_EINVAL,
                                "klease_elector_options: unknown version %d (this library "
                                "knows 1 to %d)",
                                opts->version, KLEASE_ELECTOR_OPTIONS_VERSION);
        memcpy(o, opts,
               opts->version == 1 ? offsetof(klease_elector_options, margin_ms) : sizeof *o);
        o->version = KLEASE_ELECTOR_OPTIONS_VERSION;
    }
    if (o->poll_interval_ms <= 0 || o->min_backoff_ms < 0 ||
        o->max_backoff_ms < o->min_backoff_ms || o->vacate_timeout_ms < 0)
        return klease__fail(err, KLEASE_EINVAL,
                            "klease_elector_options: poll interval must be positive, backoff "
                            "0 <= min <= max, vacate timeout >= 0");
    int64_t margin_ms =
        o->margin_ms == KLEASE_MARGIN_AUTO ? params->renew_grace_ms / 2 : o->margin_ms;
    if (margin_ms < 0)
        return klease__fail(err, KLEASE_EINVAL,
                            "klease_elector_options: margin %lld ms must be at least 0 (or "
                            "KLEASE_MARGIN_AUTO)",
                            (long long)o->margin_ms);
    if (margin_ms > 0 && margin_ms >= params->renew_grace_ms)
        return klease__fail(err, KLEASE_EINVAL,
                            "klease_elector_options: margin %lld ms must be less than the renew "
                            "grace (%lld ms): renewal starts at the grace and gives up at the "
                            "margin",
                            (long long)margin_ms, (long long)params->renew_grace_ms);
    *margin_ms_out = margin_ms;
    return KLEASE_OK;
}

static void elector_destroy(klease_elector *e)
{
    pthread_cond_destroy(&e->cond);
    pthread_mutex_destroy(&e->mu);
    klease__cancel_destroy(&e->cancel);
    klease__free(e);
}

klease_status klease_spawn(klease_elector **out, klease_manager *m, const char *claimant,
                           const klease_claim_params *params, const klease_elector_options *opts,
                           klease_error *err)
{
    int64_t duration_s, grace_ns;
    klease_status st;
    if (out == NULL || m == NULL)
        return klease__fail(err, KLEASE_EINVAL, "klease_spawn: NULL argument");
    *out = NULL;
    if ((st = klease__claimant_check(claimant, err)) != KLEASE_OK)
        return st;
    if ((st = klease__claim_params_check(params, &duration_s, &grace_ns, err)) != KLEASE_OK)
        return st;
    klease_elector_options o;
    int64_t margin_ms = 0;
    if ((st = resolve_options(opts, params, &o, &margin_ms, err)) != KLEASE_OK)
        return st;
    klease__engine *eng;
    if ((st = klease__engine_of(klease__manager_client(m), &eng, err)) != KLEASE_OK)
        return st;

    klease_elector *e = klease__calloc(1, sizeof *e);
    if (e == NULL)
        return klease__fail(err, KLEASE_ENOMEM, "out of memory");
    e->m = m;
    e->eng = eng;
    e->clock = klease__manager_clock(m);
    e->system_clock = klease__clock_mono_is_system(e->clock);
    klease__strlcpy(e->claimant, claimant, sizeof e->claimant);
    e->params = *params;
    e->duration_s = duration_s;
    e->grace_ns = grace_ns;
    e->margin_ns = margin_ms * KLEASE__NS_PER_MS; /* < grace < duration: no overflow */
    e->opts = o;
    e->spare.e = e;
    e->kick = (klease__task){.fn = klease__elector_on_kick, .arg = e};
    e->close_task = (klease__task){.fn = klease__elector_on_close, .arg = e};
    e->timer = (klease__timer){.fn = klease__elector_on_timer, .arg = e};
    e->turn = (klease__turn){.fn = klease__elector_on_turn, .arg = e};
    /* Distinct per elector, so leases acquired together drift apart. */
    e->rng = ((uint64_t)(uintptr_t)e * UINT64_C(0x9E3779B97F4A7C15)) ^
             (uint64_t)klease__mono_ns(klease__clock_system());
    if (e->rng == 0)
        e->rng = 1;
    klease__backoff_init(&e->backoff, o.min_backoff_ms, o.max_backoff_ms, 2.0, 0.5, 0);
    atomic_init(&e->leader_deadline, 0);
    int rc = klease__cancel_init(&e->cancel);
    if (rc == 0 && (rc = pthread_mutex_init(&e->mu, NULL)) != 0)
        klease__cancel_destroy(&e->cancel);
    if (rc == 0 && (rc = klease__cond_init(&e->cond)) != 0) {
        pthread_mutex_destroy(&e->mu);
        klease__cancel_destroy(&e->cancel);
    }
    if (rc != 0) {
        klease__free(e);
        return klease__fail(err, KLEASE_ENOMEM, "cannot create the elector's locks: %s",
                            strerror(rc));
    }
    klease__engine_post(eng, &e->kick); /* the first attempt, on the engine thread */
    *out = e;
    return KLEASE_OK;
}

void klease_elector_current(klease_elector *e, klease_claim *out, bool *has_claim)
{
    pthread_mutex_lock(&e->mu);
    if (has_claim != NULL)
        *has_claim = e->has_claim;
    if (out != NULL && e->has_claim)
        *out = e->claim;
    pthread_mutex_unlock(&e->mu);
}

klease_status klease_elector_wait_change(klease_elector *e, uint64_t *seen, int64_t timeout_ms,
                                         klease_claim *out, bool *has_claim)
{
    /* Waits are on the elector's clock, so tests with a fake clock stay exact. */
    int64_t deadline =
        timeout_ms < 0 ? INT64_MAX
                       : klease__add_sat(klease__mono_ns(e->clock), klease__ms_to_ns(timeout_ms));
    klease_status st = KLEASE_OK;
    pthread_mutex_lock(&e->mu);
    e->waiters++;
    while (e->version == *seen && !e->stopped && !e->closing) {
        if (e->clock->timedwait(e->clock, &e->cond, &e->mu, deadline) == ETIMEDOUT &&
            e->version == *seen && !e->closing) {
            st = KLEASE_ETIMEDOUT;
            break;
        }
    }
    /* Once close has begun, the elector is going away under the caller. */
    if (e->closing || (st == KLEASE_OK && e->version == *seen))
        st = KLEASE_ECLOSED;
    if (st == KLEASE_OK) {
        *seen = e->version;
        if (has_claim != NULL)
            *has_claim = e->has_claim;
        if (out != NULL && e->has_claim)
            *out = e->claim;
    }
    if (--e->waiters == 0 && e->closing)
        pthread_cond_broadcast(&e->cond); /* close waits for the last one to leave */
    pthread_mutex_unlock(&e->mu);
    return st;
}

bool klease_elector_is_leader(const klease_elector *e)
{
    /* A pure time predicate: the deadline is published atomically and read
     * against a precise boot-time clock. A coarse clock would be cheaper but
     * stops during suspend, so it could say "leader" after a resume. */
    int64_t deadline = atomic_load_explicit(&e->leader_deadline, memory_order_acquire);
    if (deadline == 0)
        return false;
    int64_t now = e->system_clock ? klease__mono_ns_system() : klease__mono_ns(e->clock);
    return now < deadline;
}

klease_status klease_elector_status(klease_elector *e, klease_error *err)
{
    pthread_mutex_lock(&e->mu);
    klease_status st = e->status;
    if (err != NULL)
        *err = e->error;
    pthread_mutex_unlock(&e->mu);
    return st;
}

klease_status klease_elector_close(klease_elector *e, klease_error *err)
{
    if (e == NULL)
        return KLEASE_OK;
    /* From its own callback, waiting for the last callback would deadlock. */
    if (in_callback_of == e)
        return klease__fail(err, KLEASE_EINVAL,
                            "klease_elector_close: called from the elector's own callback; "
                            "close it from another thread");
    pthread_mutex_lock(&e->mu);
    e->closing = true;
    pthread_cond_broadcast(&e->cond); /* wakes every waiter */
    pthread_mutex_unlock(&e->mu);
    klease__cancel_fire(&e->cancel); /* ends the request in flight */
    /* Behind the kick (posted by spawn): they run in that order. */
    klease__engine_post(e->eng, &e->close_task);

    /* From another elector's callback, this elector's last callbacks queue
     * behind the running one: they are dropped instead of waited for, so no
     * callback of it runs after close returns either way. */
    bool on_callback_thread = klease__engine_on_callback_thread(e->eng);
    pthread_mutex_lock(&e->mu);
    while (!e->released || e->waiters > 0 || (!on_callback_thread && e->queued_events > 0))
        pthread_cond_wait(&e->cond, &e->mu);
    klease_status st = e->final_status;
    if (st != KLEASE_OK && err != NULL)
        *err = e->final_error;
    bool deferred = e->queued_events > 0;
    if (deferred) {
        e->muted = true;
        e->free_when_drained = true; /* the callback thread frees it */
    }
    pthread_mutex_unlock(&e->mu);
    if (!deferred)
        elector_destroy(e);
    return st;
}
